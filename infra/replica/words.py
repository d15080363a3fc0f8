"""Vocabulary of the replica: names, places, sources and sentence templates.

Everything here is plain data; ``content`` draws from it with a per-article ``random.Random``.
The names are invented or generic, except the site's translators, which the real bylines name.
"""

from __future__ import annotations

CATEGORIES: tuple[str, ...] = (
    "Middle East",
    "Russia",
    "Ukraine",
    "Europe",
    "USA",
    "Syria",
    "Asia",
    "Latin America",
    "Africa",
    "Economy",
    "Military",
    "Analysis",
)

TAGS: tuple[str, ...] = (
    "Iran",
    "Iraq",
    "ISIS",
    "NATO",
    "Donbass",
    "Crimea",
    "Kiev",
    "Moscow",
    "Damascus",
    "Aleppo",
    "Sanctions",
    "Gas",
    "Oil",
    "EU",
    "Pentagon",
    "Kremlin",
    "Elections",
    "Turkey",
    "China",
    "Venezuela",
    "Serbia",
    "Baltics",
    "Poland",
    "Germany",
    "France",
    "Israel",
    "Yemen",
    "Saudi Arabia",
    "Libya",
    "Afghanistan",
    "Media",
    "Propaganda",
    "Diplomacy",
    "Terrorism",
    "Navy",
    "Air Force",
    "S-400",
    "Trade",
    "BRICS",
    "Eurasia",
)

TRANSLATORS: tuple[str, ...] = (
    "Samer Hussein",
    "Ollie Richardson",
    "Tatzhit",
    "J. Flores",
    "Inessa Sinchougova",
    "Jafe Arnold",
)

SOURCES: tuple[str, ...] = (
    "Al Mayadeen",
    "RIA Novosti",
    "Tvzvezda",
    "Vzglyad",
    "Rusvesna",
    "Izvestia",
    "Politnavigator",
    "Al Masdar",
)

WRITERS: tuple[str, ...] = (
    "Marek Havel",
    "Daria Volkova",
    "Tomás Rivera",
    "Nikola Petrović",
    "Helen Carver",
    "Omar Haddad",
    "Anton Grishin",
    "Sophie Laurent",
)

FIRST_NAMES: tuple[str, ...] = (
    "Sergei",
    "Alexander",
    "Dmitri",
    "Maria",
    "Yuri",
    "Elena",
    "Ahmad",
    "Hassan",
    "Karim",
    "John",
    "Peter",
    "Miloš",
    "Jürgen",
    "François",
    "Zoë",
    "Andrés",
    "Leyla",
    "Viktor",
    "Olga",
    "Mehmet",
)

LAST_NAMES: tuple[str, ...] = (
    "Ivanov",
    "Morozov",
    "Kuznetsova",
    "Sokolov",
    "Al Hamdani",
    "Nasrallah",
    "Karimi",
    "Walsh",
    "Brennan",
    "Kovačević",
    "Müller",
    "Lefèvre",
    "Gómez",
    "Öztürk",
    "Lindqvist",
    "Tkachenko",
    "Zaharova",
    "Rahimi",
    "Dobrev",
    "Hayes",
)

ROLES: tuple[str, ...] = (
    "the foreign minister",
    "the defense minister",
    "a senior military analyst",
    "the head of the parliamentary committee on security",
    "a spokesman for the ministry",
    "the deputy prime minister",
    "an independent economist",
    "the ambassador",
    "a former intelligence officer",
    "the regional governor",
)

COUNTRIES: tuple[str, ...] = (
    "Russia",
    "Iran",
    "Iraq",
    "Syria",
    "Turkey",
    "China",
    "Ukraine",
    "Germany",
    "France",
    "Serbia",
    "Venezuela",
    "Egypt",
    "Lebanon",
    "Poland",
    "Hungary",
    "Kazakhstan",
    "India",
    "Greece",
)

CITIES: tuple[str, ...] = (
    "Moscow",
    "Tehran",
    "Baghdad",
    "Damascus",
    "Ankara",
    "Beijing",
    "Kiev",
    "Donetsk",
    "Berlin",
    "Belgrade",
    "Caracas",
    "Beirut",
    "Sevastopol",
    "Aleppo",
    "Minsk",
    "Astana",
    "Brussels",
    "Washington",
)

ORGS: tuple[str, ...] = (
    "NATO",
    "the European Union",
    "the United Nations",
    "the Pentagon",
    "the State Department",
    "the Kremlin",
    "the OSCE",
    "the Shanghai Cooperation Organization",
    "the IMF",
    "the Arab League",
)

TOPICS: tuple[str, ...] = (
    "energy security",
    "the gas pipeline",
    "border security",
    "the ceasefire",
    "counter-terrorism cooperation",
    "the sanctions regime",
    "military exercises",
    "the peace talks",
    "the grain deal",
    "the missile defense system",
    "the humanitarian corridor",
    "the trade agreement",
    "the reconstruction effort",
    "air defense",
    "the refugee crisis",
)

ADJECTIVES: tuple[str, ...] = (
    "unprecedented",
    "controversial",
    "long-awaited",
    "bilateral",
    "strategic",
    "fragile",
    "sweeping",
    "secret",
    "provisional",
    "historic",
)

VERBS_PAST: tuple[str, ...] = (
    "signed",
    "rejected",
    "announced",
    "welcomed",
    "criticized",
    "postponed",
    "confirmed",
    "denied",
    "proposed",
    "suspended",
)

TITLE_TEMPLATES: tuple[str, ...] = (
    "{country} to Join Forces With {country2} on {topic}",
    "{country} and {country2} Sign {adj} Agreement on {topic}",
    "{org} {verb} {adj} Plan for {topic}",
    "Why {country} Will Not Back Down on {topic}",
    "{person}: {country} Is Ready to Discuss {topic}",
    "{country} Deploys {number} Troops Near {city}",
    "Talks in {city} End Without Deal on {topic}",
    "{country}’s Parliament Votes on {topic}",
    "{org} Accused of Double Standards Over {topic}",
    "Explosion Reported in {city}, {number} Injured",
    "{country} Expels Diplomats After Row Over {topic}",
    "What the {adj} Summit in {city} Means for {country}",
)

SENTENCES: tuple[str, ...] = (
    "{person}, {role}, said on {weekday} that {country} had {verb} the {adj} proposal on {topic}.",
    "The talks in {city} lasted more than {number} hours and focused mainly on {topic}.",
    "According to {source}, {org} has not yet commented on the decision.",
    "Officials in {city} described the situation as {adj} but under control.",
    "{country}’s position on {topic} has not changed since {month}, the ministry said.",
    "The agreement covers {topic}, joint training and the exchange of intelligence.",
    "Observers note that {country} and {country2} have been moving closer for several years.",
    "At least {number} people were evacuated from the area near {city} on {weekday}.",
    "{org} {verb} the move, calling it a step that “undermines regional stability”.",
    "The ministry’s statement did not say when the measures would take effect.",
    "Critics in {city} argue that the deal does little to address {topic}.",
    "A delegation led by {person} arrived in {city} on {weekday} at the invitation of {country2}.",
    "Prices on the local market rose by {number} percent in the week after the announcement.",
    "The {adj} decision came after months of negotiations between {country} and {org}.",
    "It’s the {ordinal} meeting of its kind this year, and the first since {month}.",
    "Neither side disclosed the financial terms, but analysts estimate them at ${number} million.",
    "Local residents told reporters they hadn’t been warned about the exercises.",
    "The report, published by {source}, cites {number} anonymous officials.",
    "{person} added that {country} would “respond symmetrically” to any new sanctions.",
    "The next round of consultations is scheduled for {month} in {city}.",
)

QUOTES: tuple[str, ...] = (
    "We are ready to cooperate with all partners who respect international law",
    "This is not a question of politics, it is a question of the security of our citizens",
    "Nobody should have any illusions about what is happening on the ground",
    "The door to dialogue remains open, but our patience is not unlimited",
    "We will continue to support our friends until the last terrorist is gone",
    "The sanctions have hurt Europe’s farmers more than anyone else",
)

SUBHEADINGS: tuple[str, ...] = (
    "Background",
    "Reaction in {city}",
    "What comes next",
    "The view from {country}",
    "A long road to {topic}",
)

COMMENTERS: tuple[str, ...] = (
    "Ivan P.",
    "truthseeker77",
    "Marko",
    "Anna K.",
    "Dave from Ohio",
    "Rami",
    "Björn",
    "observer",
)

COMMENT_TEXTS: tuple[str, ...] = (
    "Thank you for translating this, you won’t read it anywhere else.",
    "Interesting article. Does anyone have a link to the original?",
    "This was predictable years ago.",
    "Excellent analysis, as always.",
    "I doubt anything will change before the elections.",
    "Can you also translate the interview mentioned in the last paragraph?",
)

MONTHS: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

WEEKDAYS: tuple[str, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)

ORDINALS: tuple[str, ...] = ("second", "third", "fourth", "fifth", "sixth")

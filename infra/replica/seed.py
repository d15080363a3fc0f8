"""The seed article: the Fort Russ page the project was created from, with its ground truth.

The text is embedded here (not read from ``/work/shared``) so the replica has no runtime dependency
outside the package. ``SEED_TRAILING_NBSP`` marks the paragraphs the real page ends with a pasted
non-breaking space; a cleaner must strip it.
"""

from __future__ import annotations

from datetime import UTC, datetime

SEED_POST_ID = 9131
SEED_SLUG = "iraq-to-join-forces-with-iran-in"
SEED_PATH = "/2017/07/iraq-to-join-forces-with-iran-in/"
SEED_TITLE = (
    "Iraq to Join Forces With Iran in Combating Terrorism and Maintaining Regional Security"
)
SEED_PUBLISHED = datetime(2017, 7, 23, 14, 32, tzinfo=UTC)
SEED_MODIFIED = datetime(2017, 7, 23, 16, 5, tzinfo=UTC)
SEED_AUTHOR = "Fort Russ"
SEED_CATEGORIES: tuple[str, ...] = ("Middle East",)
SEED_TAGS: tuple[str, ...] = ("Iran", "Iraq", "ISIS")
SEED_SOURCE = "Al Mayadeen"
SEED_TRANSLATOR = "Samer Hussein"
SEED_BYLINE: tuple[str, ...] = (
    "July 23rd, 2017 – Fort Russ News –",
    "– Al Mayadeen – – translated by Samer Hussein –",
)
SEED_WORDADS_ID = "atatags-1476137431-60fc80971b44d"
SEED_FEATURED_IMAGE = "/wp-content/uploads/2017/07/iran-iraq-defense-ministers.jpg"
SEED_TRAILING_NBSP: frozenset[int] = frozenset({3, 9})

SEED_PARAGRAPHS: tuple[str, ...] = (
    (
        "The Iranian Defense Minister, Brigadier General Hossein Dehqan, and his Iraqi "
        "counterpart, Major General Irfan Al Hayali, today signed a bilateral military/defense "
        "agreement."
    ),
    (
        "The agreement includes establishing a broader military and defense cooperation in "
        "various fields between Iran and Iraq."
    ),
    (
        "One of the most important points of the agreement relies on developing a cooperation "
        "and exchange of experiences in combating terrorism, religious extremism, border "
        "security, training of the troops, as well as technical, logistical and military "
        "support."
    ),
    (
        "At the end of the signing ceremony, the Iranian and Iraqi defense ministers stressed "
        "the importance of deepening the defense cooperation between the two countries."
    ),
    (
        "They also expressed hope that the newly signed agreement would result in a more "
        "serious, deeper and generally more effective cooperation between the two sides."
    ),
    (
        "The Iraqi defense minister arrived in Tehran on Saturday as the head of a Iraqi "
        "defense delegation, following an invitation by his Iranian counterpart."
    ),
    (
        "“Security cooperation between the countries that were formerly victims of terrorism is "
        "an absolute necessity that could ideally help to prevent the return of terrorism, as "
        "well as military interventions of foreign forces, made under the pretext of fighting "
        "against the terrorists”, said Ali Shamkhani, Secretary of the Iranian Supreme National "
        "Security Council, after meeting Al Hayali."
    ),
    (
        "The Secretary of the Supreme Council of the Iranian National Security also assured "
        "that Iran will continue to support the Iraqi Armed forces, until all terrorists are "
        "gone, adding that Iran is fully prepared for the process of rebuilding Iraq, noting "
        "that cooperation with Iran is highly important for the future of Iraq as constant "
        "attempts are being made on dividing the country."
    ),
    (
        "Relying almost entirely on its internal capabilities, the Iraqi Army and the Popular "
        "Mobilization Forces, made an enormous sacrifice in a highly efficient fight against "
        "ISIS terrorists whose presence in Iraq has now almost perished."
    ),
    (
        "In a relatively short period of time, Iraq was almost cleansed of ISIS, despite some "
        "officials claimed the fight could take up to 7 years."
    ),
)

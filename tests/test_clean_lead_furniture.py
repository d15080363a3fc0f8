"""The generic path keeps the lead paragraph trafilatura drops (flows.clean.lead) and drops
the page furniture it keeps (flows.clean.furniture)."""

from __future__ import annotations

from flows.clean.cleaner import clean_html
from flows.clean.dom import parse_html
from flows.clean.furniture import drop_furniture
from flows.clean.lead import with_opening

BODY = [
    f"Paragraph {n} of the report says the council approved the budget for the new school "
    "after a long debate that went on until late in the evening."
    for n in range(1, 6)
]
LEAD = (
    "The town will build a new school: the council approved the money on Tuesday, and "
    "the work starts in spring."
)
CAPTION = "The old school building seen from the market square on a sunny day in May last year"


def page(lead_markup: str, after_body: str = "") -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in BODY)
    return (
        "<html><head><title>New school</title></head><body><nav><a href='/'>Home</a></nav>"
        "<article><h1>New school for the town</h1>"
        f"{lead_markup}"
        f"<figure><img src='a.jpg'><figcaption>{CAPTION}</figcaption></figure>"
        f"<div class='body'>{paragraphs}</div>{after_body}</article></body></html>"
    )


def test_lead_in_a_teaser_container_is_kept_first() -> None:
    got = clean_html(page(f"<div class='teaser-text'><p>{LEAD}</p></div>"), "https://e.org/a")
    assert got.paragraphs[0] == LEAD
    assert got.paragraphs[1:] == tuple(BODY)
    assert CAPTION not in got.text  # a caption between headline and body is no lead


def test_lead_search_needs_the_body_after_a_headline() -> None:
    tree = parse_html(page(f"<p class='intro'>{LEAD}</p>"))
    assert tree is not None
    title = "New school for the town"
    assert with_opening(tree, [title, *BODY]) == [title, LEAD, *BODY]
    assert with_opening(tree, [LEAD, *BODY]) == [LEAD, *BODY]  # already there
    nowhere = ["A paragraph found nowhere on the page at all, not one"]
    assert with_opening(tree, nowhere) == nowhere
    no_h1 = parse_html(page(f"<p class='intro'>{LEAD}</p>").replace("h1>", "em>"))
    assert no_h1 is not None and with_opening(no_h1, BODY) == BODY


def test_link_lists_and_short_lines_before_the_body_are_no_lead() -> None:
    teasers = [f"Teaser {n}: {LEAD}" for n in range(2)]
    links = (
        "<div class='intro'><p><a href='/1'>"
        + teasers[0]
        + "</a></p><ul>"
        + "".join(f"<li>{t}</li>" for t in teasers)
        + "</ul></div><p class='lead'>By Jane Doe, 3 May</p>"
    )
    tree = parse_html(page(links))
    assert tree is not None
    assert with_opening(tree, BODY) == BODY


def test_see_also_lines_related_sections_and_credits_are_dropped() -> None:
    related = "Five things the new mayor wants to change first"
    paragraphs = [
        BODY[0],
        "Lesen Sie auch: Der Bürgermeister im Interview",
        "Foto: dpa",
        BODY[1],
        "Read more: the budget in numbers",
        "Mehr zum Thema",
        related,
        "- Another headline of another story",
        BODY[2],
    ]
    assert drop_furniture(paragraphs, frozenset({related.casefold()})) == BODY[:3]


def test_furniture_words_inside_prose_stay() -> None:
    prose = [
        "Read more about the plan in the council minutes, the mayor said on Tuesday.",
        "Related to this, the school will get a new gym.",
        "Photo: the board argued that a picture of the site would help the public decide.",
    ]
    assert drop_furniture(prose, frozenset()) == prose

"""Fact extraction and comparison on the seeds and on text written for the tests."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from wiretrace.analyze.facts import compare_facts, entity_names, extract_facts
from wiretrace.models import Article, Span

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "examples" / "seeds"


def _seed(name: str, body_start: str, body_end: str, published: datetime | None) -> Article:
    text = (SEEDS / name).read_text(encoding="utf-8")
    excluded = (
        Span(0, text.index(body_start), "header"),
        Span(text.index(body_end), len(text), "footer"),
    )
    return Article(id=name[:3], text=text, excluded=excluded, published=published)


def _seeds() -> tuple[Article, Article]:
    a = _seed(
        "000_a7cae44381716f60.txt", "CARACAS", "Copyright applies", datetime(2019, 3, 24, 20, 22)
    )
    b = _seed("003_aa80bf1ba9256955.txt", "Russian aircraft arrived", "Latest News", None)
    return a, b


def test_seed_quantities_with_hedges() -> None:
    a, b = _seeds()
    troops_a = [m for m in extract_facts(a) if m.kind == "quantity" and m.key == "troop"]
    troops_b = [m for m in extract_facts(b) if m.kind == "quantity" and m.key == "troop"]
    assert [(m.text, m.number, m.hedge) for m in troops_a] == [("nearly 100 troops", 100, "approx")]
    assert [(m.text, m.number, m.hedge) for m in troops_b] == [("almost 100 troops", 100, "approx")]
    assert a.text[troops_a[0].start : troops_a[0].end] == "nearly 100 troops"
    cargo = [m for m in extract_facts(a) if m.kind == "quantity" and m.number == 35]
    assert [m.key for m in cargo] == ["tonne of material"]


def test_weekday_resolved_against_publication_date() -> None:
    a, b = _seeds()
    landing_a = [m for m in extract_facts(a) if m.kind == "date" and m.key == "land"]
    assert [(m.text, m.value) for m in landing_a] == [("on Saturday", "2019-03-23")]
    # 003 has no date of its own: its "March 23" takes the year from its story's dates
    landing_b = [
        m
        for m in extract_facts(b, story_dates=[date(2019, 3, 24)])
        if m.kind == "date" and m.key == "land"
    ]
    assert "2019-03-23" in {m.value for m in landing_b}
    assert all(m.resolved_from == "story" for m in landing_b)
    # without any date, year-less and relative dates are dropped rather than guessed
    assert not [m for m in extract_facts(b) if m.kind == "date" and m.key == "land"]


def test_seed_facts_agree() -> None:
    a, b = _seeds()
    facts = compare_facts(extract_facts(a) + extract_facts(b, story_dates=[date(2019, 3, 24)]))
    by_name = {f.fact: f for f in facts}
    assert by_name["quantity: troop"].agree
    assert by_name["date: land"].agree and by_name["date: land"].value == "2019-03-23"
    assert {m.article for m in by_name["quantity: troop"].mentions} == {"000", "003"}


def test_conflicts_come_first() -> None:
    one = Article(
        id="x",
        text="Police said 12 people died in the fire on Monday.",
        published=datetime(2024, 5, 8),
    )
    two = Article(
        id="y",
        text="Officials said nearly 30 people died in the blaze.",
        published=datetime(2024, 5, 8),
    )
    three = Article(
        id="z", text="At least 12 people died, officials said.", published=datetime(2024, 5, 8)
    )
    facts = compare_facts([*extract_facts(one), *extract_facts(two), *extract_facts(three)])
    assert facts[0].fact == "quantity: people" and not facts[0].agree
    assert set(facts[0].values) == {"12", "30"}


def test_entities_of_the_seed_story() -> None:
    a, b = _seeds()
    names = entity_names(extract_facts(a) + extract_facts(b))
    people = set(names.get("person", []))
    assert {"Nicolas Maduro", "Vasily Tonkoshkurov", "Juan Guaido"} <= people
    assert {"Caracas", "Maiquetia"} <= set(names.get("place", []))
    assert {"Ilyushin IL-62", "Antonov AN-124"} <= set(names.get("thing", []))
    # adjectives of nationality are not names
    assert "Russian" not in people and "Russian" not in names.get("place", [])


def test_boilerplate_states_no_facts() -> None:
    text = "Title\n\nOfficials said 40 buses arrived on Friday.\n\nPhoto: 300 fans wait outside"
    art = Article(
        id="t",
        text=text,
        published=datetime(2024, 5, 8),
        excluded=(Span(0, 5, "title"), Span(text.index("Photo"), len(text), "caption")),
    )
    numbers = [m.number for m in extract_facts(art) if m.kind == "quantity"]
    assert numbers == [40]

"""Patchwork map: each body sentence's source article and passage, or novel.

Seed passages are DESIGN.md section 1's ground truth; the other articles are written
here and read through the real text ingest; pairs come from the real provenance layer.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from wiretrace.analyze.patchwork import patchwork
from wiretrace.analyze.provenance import attribute
from wiretrace.ingest.textfile import parse_text
from wiretrace.models import Article, Edit, Passage, ReusePair
from wiretrace.settings import IngestSettings, Settings

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "examples" / "seeds"
A_ID = "000_a7cae44381716f60"
B_ID = "003_aa80bf1ba9256955"


def load_seed(name: str) -> Article:
    path = SEEDS / f"{name}.txt"
    return parse_text(path.read_text(encoding="utf-8"), name, str(path), "text", IngestSettings())


def article(id: str, text: str) -> Article:
    return parse_text(text, id, id, "text", IngestSettings())


def same(a: Article, b: Article, phrase: str) -> Passage:
    i, j = a.text.index(phrase), b.text.index(phrase)
    return Passage(i, i + len(phrase), j, j + len(phrase), phrase, phrase, 1.0)


@pytest.fixture(scope="module")
def seeds() -> tuple[Article, Article, ReusePair]:
    a, b = load_seed(A_ID), load_seed(B_ID)

    def edit(x: str, y: str) -> Edit:
        i, j = a.text.index(x, 2223), b.text.index(y, 1486)
        return Edit("replace", i, i + len(x), j, j + len(y), x, y, "alias")

    def span(a0: int, a1: int, b0: int, b1: int, edits: tuple[Edit, ...] = ()) -> Passage:
        return Passage(a0, a1, b0, b1, a.text[a0:a1], b.text[b0:b1], 0.9, edits)

    passages = [
        span(577, 808, 1073, 1304),
        span(2223, 2335, 1486, 1609, (edit("U.S.", "USA"), edit("Russia", "Russian Federation"))),
        span(2724, 2987, 1904, 2167),
    ]
    return a, b, attribute(a, b, passages, Settings())


def test_seed_patchwork_of_the_reuser(seeds: tuple[Article, Article, ReusePair]) -> None:
    a, b, pair = seeds
    work = patchwork(b, [pair], {a.id: a, b.id: b})
    reused = [s for s in work.sentences if not s.novel]
    assert [(s.start, s.end, s.source, s.pair, s.passage) for s in reused] == [
        (1073, 1304, A_ID, 0, 0),
        (1486, 1609, A_ID, 0, 1),
        (1904, 2167, A_ID, 0, 2),
    ]
    novel = [s.text for s in work.novel]
    assert len(novel) == 10
    assert any(t.startswith("An AFP journalist early on Sunday saw") for t in novel)
    assert any(t.startswith("Deeper Russian involvement in opposing USA aims") for t in novel)
    assert any(t.startswith("Two Russian air force planes landed at Caracas") for t in novel)
    assert any(t.startswith("The U.S. says it is focusing") for t in novel)
    for boiler in ("Activists walk past", "Russia Will Continue to Expand", "Latest News"):
        assert not any(boiler in s.text for s in work.sentences)
    assert (work.reused_words, work.body_words) == (91, 307)
    assert work.source_shares() == {A_ID: pytest.approx(91 / 307)}
    assert work.to_json()["reused_share"] == pytest.approx(0.2964, abs=1e-4)


def test_seed_origin_has_only_its_own_material(
    seeds: tuple[Article, Article, ReusePair],
) -> None:
    a, _, pair = seeds
    work = patchwork(a, [pair])
    assert work.sentences and all(s.novel for s in work.sentences)
    assert work.reused_words == 0 and work.by_source == {}
    assert not any("Copyright applies" in s.text for s in work.sentences)


FIRST = (
    "Flood\n\nHeavy rain flooded the old town of Nimes overnight and rescuers evacuated "
    "two schools near the river, officials said. The regional prefect said the water "
    "level was still rising on Monday morning.\n"
)
SECOND = (
    "Trains\n\nRail services between Nimes and Montpellier were suspended after a "
    "landslide blocked the line near Lunel, the operator said on its website.\n"
)


def test_two_sources_an_own_sentence_and_the_majority_rule() -> None:
    x, y = article("x", FIRST), article("y", SECOND)
    stitched = article(
        "s",
        "Storms hit the south\n\n"
        "Heavy rain flooded the old town of Nimes overnight and rescuers evacuated two "
        "schools near the river, officials said. Our reporter saw cars floating in the "
        "main square.\n\n"
        "Rail services between Nimes and Montpellier were suspended after a landslide "
        "blocked the line near Lunel, the operator said on its website. The regional "
        "prefect said the water level was still rising in the evening, and crews "
        "worked through the night to clear the drains.\n",
    )
    p1 = same(x, stitched, FIRST.split("\n\n")[1].split(" The regional", maxsplit=1)[0])
    p2 = same(y, stitched, SECOND.split("\n\n")[1].strip())
    # A short shared stretch: 6 words of a 23-word sentence, under the majority.
    p3 = same(x, stitched, "The regional prefect said the water level was still rising")
    pairs = [
        attribute(x, stitched, [p1, p3], Settings()),
        attribute(y, stitched, [p2], Settings()),
    ]
    assert [(p.source, p.target) for p in pairs] == [("x", "s"), ("y", "s")]
    work = patchwork(stitched, pairs)
    labels = [(s.text.split()[0], s.source) for s in work.sentences]
    assert labels == [("Heavy", "x"), ("Our", None), ("Rail", "y"), ("The", None)]
    shares = work.source_shares()
    assert shares["x"] == pytest.approx((19 + 10) / work.body_words)
    assert shares["y"] == pytest.approx(22 / work.body_words)
    # A stricter threshold does not change whole sentences; a lenient one takes the
    # partly shared sentence too (10 of its 23 words are shared).
    lenient = Settings().with_overrides({"provenance.reused_sentence_share": 0.4})
    labels = [s.source for s in patchwork(stitched, pairs, settings=lenient).sentences]
    assert labels == ["x", None, "y", "x"]


def test_passage_with_its_own_origin_counts_for_that_origin() -> None:
    x = article("x", FIRST)
    combined = article("c", SECOND + "\n" + FIRST.split("\n\n")[1])
    phrase = FIRST.split("\n\n")[1].split(" The regional", maxsplit=1)[0]
    # A pair oriented c -> x whose passage names x as its own origin: in c's patchwork
    # that sentence comes from x, and x took nothing.
    passage = replace(same(combined, x, phrase), origin="x")
    pair = ReusePair(source="c", target="x", passages=(passage,))
    work = patchwork(combined, [pair])
    assert [(s.text.split()[0], s.source) for s in work.sentences if not s.novel] == [
        ("Heavy", "x")
    ]
    assert patchwork(x, [pair]).reused_words == 0


def test_a_heading_run_into_the_next_sentence_is_cut_at_the_passage_boundary() -> None:
    """A list line without final punctuation runs into the copied sentence: the splitter
    sees one sentence, the passage boundary before a capitalised word shows the break.
    A passage that stops mid-clause (lower-case word next) is not cut."""
    x = article("x", FIRST)
    copied = FIRST.split("\n\n")[1].split(" The regional", maxsplit=1)[0]
    s = article(
        "s",
        "Weekend fixtures\n\nNewcastle v Tottenham or Nottingham Forest " + copied + "\n",
    )
    pair = attribute(x, s, [same(x, s, copied)], Settings())
    work = patchwork(s, [pair])
    assert [(w.text, w.source) for w in work.sentences] == [
        ("Newcastle v Tottenham or Nottingham Forest", None),
        (copied, "x"),
    ]

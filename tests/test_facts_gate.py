"""Fact extraction scored against a small hand-labelled set from real articles.

tests/labels/facts_truth.json holds the labels (what counts is defined in its "about").
Floors: precision and recall of at least 0.9 for numbers and for dates.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from wiretrace.analyze.facts import FactMention, extract_facts
from wiretrace.models import Article, Span

SHARED = Path(__file__).resolve().parents[2] / "shared"
TRUTH = json.loads((Path(__file__).parent / "labels" / "facts_truth.json").read_text("utf-8"))
FLOOR = 0.9


def _article(rel: str) -> Article:
    base = SHARED / "data" if rel.startswith("bbc-news") else SHARED
    text = (base / rel).read_text(encoding="utf-8")
    if "seeds/000" in rel:
        excluded = (
            Span(0, text.index("CARACAS"), "header"),
            Span(text.index("Copyright applies"), len(text), "footer"),
        )
    elif "seeds/003" in rel:
        excluded = (
            Span(0, text.index("Russian aircraft arrived"), "header"),
            Span(text.index("Latest News"), len(text), "navigation"),
        )
    else:
        excluded = (Span(0, text.index("\n"), "title"),)
    return Article(id=rel, text=text, excluded=excluded)


def _locate(text: str, needles: list[str], body_start: int) -> list[tuple[int, int]]:
    spans, pos = [], body_start
    for needle in needles:
        at = text.index(needle, pos)
        spans.append((at, at + len(needle)))
        pos = at + 1
    return spans


def _score(
    found: list[tuple[int, int, float | None]], truth: list[tuple[int, int, float | None]]
) -> tuple[int, int, int]:
    def match(f: tuple[int, int, float | None], t: tuple[int, int, float | None]) -> bool:
        overlap = f[0] < t[1] and t[0] < f[1]
        return overlap and (
            t[2] is None or (f[2] is not None and abs(f[2] - t[2]) < 1e-6 * max(1, t[2]))
        )

    tp_found = sum(1 for f in found if any(match(f, t) for t in truth))
    tp_truth = sum(1 for t in truth if any(match(f, t) for f in found))
    return tp_found, len(found), tp_truth


def _mentions(article: Article) -> list[FactMention]:
    # a reference date so that named days are kept (the labels judge detection, not resolution)
    return extract_facts(article, reference=date(2005, 3, 1))


@pytest.fixture(scope="module")
def scores() -> dict[str, tuple[float, float]]:
    totals = {"numbers": [0, 0, 0, 0], "dates": [0, 0, 0, 0]}
    for rel, labels in TRUTH["articles"].items():
        art = _article(rel)
        body_start = art.excluded[0].end if art.excluded[0].start == 0 else 0
        mentions = _mentions(art)
        nums = [(m.start, m.end, m.number) for m in mentions if m.kind == "quantity"]
        dates = [(m.start, m.end, None) for m in mentions if m.kind == "date"]
        true_nums = [
            (s, e, v)
            for (s, e), (_, v) in zip(
                _locate(art.text, [n for n, _ in labels["numbers"]], body_start),
                labels["numbers"],
                strict=True,
            )
        ]
        true_dates = [(s, e, None) for s, e in _locate(art.text, labels["dates"], body_start)]
        for key, found, truth in (("numbers", nums, true_nums), ("dates", dates, true_dates)):
            tp_f, n_f, tp_t = _score(found, truth)
            t = totals[key]
            t[0] += tp_f
            t[1] += n_f
            t[2] += tp_t
            t[3] += len(truth)
    return {k: (v[0] / max(v[1], 1), v[2] / max(v[3], 1)) for k, v in totals.items()}


@pytest.mark.parametrize("kind", ["numbers", "dates"])
def test_fact_extraction_floor(scores: dict[str, tuple[float, float]], kind: str) -> None:
    precision, recall = scores[kind]
    print(f"{kind}: precision {precision:.3f} recall {recall:.3f}")
    assert precision >= FLOOR, f"{kind} precision {precision:.3f} < {FLOOR}"
    assert recall >= FLOOR, f"{kind} recall {recall:.3f} < {FLOOR}"

"""Fact extraction scored against a small hand-labelled set from real articles.

tests/labels/facts_truth.json holds the labels (what counts is defined in its "about");
the scoring is the gate's (eval/stories_gate.py). Floors: precision and recall of at
least 0.9 for numbers and for dates (eval/stories_baseline.json).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.stories_gate import fact_scores, floors  # noqa: E402


@pytest.fixture(scope="module")
def scores() -> dict[str, float]:
    return fact_scores()


@pytest.mark.parametrize("kind", ["numbers", "dates"])
def test_fact_extraction_floor(scores: dict[str, float], kind: str) -> None:
    precision, recall = scores[f"{kind}_precision"], scores[f"{kind}_recall"]
    print(f"{kind}: precision {precision:.3f} recall {recall:.3f}")
    pinned = floors()
    assert precision >= pinned[f"{kind}_precision"]["min"] >= 0.9
    assert recall >= pinned[f"{kind}_recall"]["min"] >= 0.9

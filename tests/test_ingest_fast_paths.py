"""The ingest fast paths give exactly what the plain computations give.

Each shortcut taken for ingest speed (bench/README.md, "Ingest") replaces a regex pass
over a text by cheaper string passes; these tests hold it to the plain computation on
the real corpora and on random strings built from the characters that matter.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from wiretrace.ingest.base import SourceInput
from wiretrace.ingest.credits import (
    _agency_forms,
    may_mention_agency,
    may_name_agency,
    text_words,
)
from wiretrace.ingest.language import _letters
from wiretrace.ingest.tables import read_table
from wiretrace.ingest.textfile import _NOT_ALNUM, _count_words, _fold, _words
from wiretrace.models import IngestIssue, Span
from wiretrace.settings import IngestSettings
from wiretrace.text.tokens import tokenize, word_count

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    paths = sorted((SHARED / "data").rglob("*.txt")) + sorted((SHARED / "examples").rglob("*"))
    return [p.read_bytes().decode("utf-8", "replace") for p in paths if p.is_file()]


# Tokens glue across these characters, or split at them: the cases that matter.
_PIECES = [
    "U.S.", "U.S.'s", "U.S.’s", "1,000", "3.5", "9am", "4x4", "3a4b5", "don't", "O’Neil",
    "well-known", "2km-long", "2-3", "a.b", "A.B.C", "e.g.", "12:30", "a-", "-b", "--",
    "''", "é", "½", "²", "ß", "ſ", "—", "£5m", ".", ",", ":", "'", "-", " ", "\n", "x", "0",
]


def _random_texts(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        pieces = rng.choices(_PIECES, k=rng.randint(0, 12))
        out.append("".join(p + rng.choice(["", "", " "]) for p in pieces))
    return out


def test_word_count_is_the_token_count(corpus: list[str]) -> None:
    rng = random.Random(5)
    for text in corpus + _random_texts(1, 20_000):
        excluded: tuple[Span, ...] = ()
        if len(text) > 2 and rng.random() < 0.5:
            start = rng.randrange(len(text))
            excluded = (Span(start, rng.randrange(start, len(text) + 1), "caption"),)
        assert word_count(text, excluded) == len(tokenize(text, excluded)), repr(text[:80])


def test_line_word_count_fold_and_letters(corpus: list[str]) -> None:
    lines = [line for text in corpus for line in text.split("\n")] + _random_texts(2, 5_000)
    for line in lines:
        assert _count_words(line) == len(_words(line)), repr(line)
        assert _fold(line) == " ".join(_NOT_ALNUM.sub(" ", line.casefold()).split())
        assert _letters(line) == sum(map(str.isalpha, line))


def test_agency_precheck_is_never_stricter(corpus: list[str]) -> None:
    # may_mention_agency may say True where the word test says False, never the reverse
    # (a False skips the phrase rules, which would then miss a credit).
    forms = sorted(_agency_forms())
    rng = random.Random(3)
    joins = [" ", "-", "'", "’", "(", ")", ",", "--", "é", "2", "\n", "—", "/", ".", "s"]
    made = [
        "".join(rng.choices(forms + joins * 3 + ["Reuters's", "the"], k=rng.randint(1, 8)))
        for _ in range(20_000)
    ]
    for text in corpus + made:
        if may_name_agency(text_words(text)):
            assert may_mention_agency(text), repr(text[:80])


def test_jsonl_text_with_an_unpaired_surrogate_is_one_issue(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    rows = [{"id": "bad", "text": "Half a pair \ud800 here."}, {"id": "good", "text": "Fine."}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    src = SourceInput(id="rows", kind="jsonl", display=str(path), path=path)
    records = list(read_table(src, IngestSettings()))
    assert isinstance(records[0], IngestIssue)
    assert records[0].input.endswith("line 1") and "unpaired surrogate" in records[0].reason
    assert [r.id for r in records[1:] if not isinstance(r, IngestIssue)] == ["good"]

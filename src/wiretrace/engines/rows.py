"""Arrow row codecs shared by the engines: records <-> plain rows with fixed schemas.

The Spark engine moves articles, normalised token sequences and reuse pairs between
stages as Arrow/Parquet rows. These codecs are pure (no Spark, no store connection),
so the same rows can be written by a Spark task, checked in a test, or loaded into the
DuckDB store. Article rows use the store's own schema (:data:`wiretrace.store.ARTICLE_SCHEMA`);
pairs are one nested row each (passages and their edits inside), flattened to the
store's ``pairs``/``passages``/``edits`` tables only at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from wiretrace.models import Article, Edit, Passage, ReusePair, Span
from wiretrace.store import ARTICLE_SCHEMA, _article_table, article_from_row, record_hash
from wiretrace.text.tokens import TokenSeq

__all__ = [
    "ARTICLE_SCHEMA",
    "PAIR_TYPE",
    "PREP_SCHEMA",
    "article_from_row",
    "articles_table",
    "pair_from_row",
    "pair_row",
    "prep_row",
    "sentences_from_row",
    "seq_from_row",
]

SPAN_TYPE = pa.struct([("start", pa.int32()), ("end", pa.int32()), ("kind", pa.string())])

#: One article as the alignment kernel needs it (text and spans live in ``articles``).
PREP_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("key", pa.int64()),
        ("starts", pa.list_(pa.int32())),
        ("ends", pa.list_(pa.int32())),
        ("norms", pa.list_(pa.string())),
        ("words", pa.list_(pa.int32())),
        ("sentences", pa.list_(SPAN_TYPE)),
    ]
)

EDIT_TYPE = pa.struct(
    [
        ("op", pa.string()),
        ("source_start", pa.int32()),
        ("source_end", pa.int32()),
        ("target_start", pa.int32()),
        ("target_end", pa.int32()),
        ("source_text", pa.string()),
        ("target_text", pa.string()),
        ("kind", pa.string()),
    ]
)
PASSAGE_TYPE = pa.struct(
    [
        ("source_start", pa.int32()),
        ("source_end", pa.int32()),
        ("target_start", pa.int32()),
        ("target_end", pa.int32()),
        ("source_text", pa.string()),
        ("target_text", pa.string()),
        ("similarity", pa.float64()),
        ("origin", pa.string()),
        ("source_words", pa.int32()),
        ("target_words", pa.int32()),
        ("edits", pa.list_(EDIT_TYPE)),
    ]
)
#: A whole reuse pair in one row (``ReusePair`` field for field).
PAIR_TYPE = pa.struct(
    [
        ("source", pa.string()),
        ("target", pa.string()),
        ("source_coverage", pa.float64()),
        ("target_coverage", pa.float64()),
        ("origin_confidence", pa.float64()),
        ("evidence", pa.list_(pa.string())),
        ("credited", pa.bool_()),
        ("credit", pa.string()),
        ("credited_to", pa.list_(pa.string())),
        ("passages", pa.list_(PASSAGE_TYPE)),
    ]
)


def articles_table(
    articles: Sequence[Article], words: Sequence[int], now: datetime
) -> pa.Table:
    """Rows of the store's ``articles`` table (version 1: a fresh run has no history)."""
    return _article_table(
        articles,
        [1] * len(articles),
        [a.content_hash for a in articles],
        [record_hash(a) for a in articles],
        list(words),
        now,
    )


def prep_row(id: str, key: int, seq: TokenSeq, sentences: Iterable[Span]) -> dict[str, Any]:
    """A ``PREP_SCHEMA`` row: body tokens (offsets into the article text) and sentences."""
    return {
        "id": id,
        "key": key,
        "starts": list(seq.starts),
        "ends": list(seq.ends),
        "norms": list(seq.norms),
        "words": list(seq.words),
        "sentences": [{"start": s.start, "end": s.end, "kind": s.kind} for s in sentences],
    }


def seq_from_row(row: Mapping[str, Any]) -> TokenSeq:
    return TokenSeq(
        starts=list(row["starts"]),
        ends=list(row["ends"]),
        norms=list(row["norms"]),
        words=list(row["words"]),
    )


def sentences_from_row(row: Mapping[str, Any]) -> tuple[Span, ...]:
    return tuple(Span(s["start"], s["end"], s["kind"]) for s in row["sentences"] or ())


def pair_row(pair: ReusePair) -> dict[str, Any]:
    """A ``PAIR_TYPE`` value for ``pair`` (exact: floats and texts kept as they are)."""
    return {
        "source": pair.source,
        "target": pair.target,
        "source_coverage": pair.source_coverage,
        "target_coverage": pair.target_coverage,
        "origin_confidence": pair.origin_confidence,
        "evidence": list(pair.evidence),
        "credited": pair.credited,
        "credit": pair.credit,
        "credited_to": list(pair.credited_to),
        "passages": [
            {
                "source_start": p.source_start,
                "source_end": p.source_end,
                "target_start": p.target_start,
                "target_end": p.target_end,
                "source_text": p.source_text,
                "target_text": p.target_text,
                "similarity": p.similarity,
                "origin": p.origin,
                "source_words": p.source_words,
                "target_words": p.target_words,
                "edits": [e.to_json() for e in p.edits],
            }
            for p in pair.passages
        ],
    }


def pair_from_row(row: Mapping[str, Any]) -> ReusePair:
    """The inverse of :func:`pair_row`."""
    return ReusePair(
        source=row["source"],
        target=row["target"],
        source_coverage=row["source_coverage"],
        target_coverage=row["target_coverage"],
        origin_confidence=row["origin_confidence"],
        evidence=tuple(row["evidence"] or ()),
        credited=bool(row["credited"]),
        credit=row["credit"],
        credited_to=tuple(row["credited_to"] or ()),
        passages=tuple(
            Passage(
                source_start=p["source_start"],
                source_end=p["source_end"],
                target_start=p["target_start"],
                target_end=p["target_end"],
                source_text=p["source_text"],
                target_text=p["target_text"],
                similarity=p["similarity"],
                origin=p["origin"],
                source_words=p["source_words"] or 0,
                target_words=p["target_words"] or 0,
                edits=tuple(
                    Edit(
                        op=e["op"],
                        source_start=e["source_start"],
                        source_end=e["source_end"],
                        target_start=e["target_start"],
                        target_end=e["target_end"],
                        source_text=e["source_text"],
                        target_text=e["target_text"],
                        kind=e["kind"],
                    )
                    for e in p["edits"] or ()
                ),
            )
            for p in row["passages"] or ()
        ),
    )

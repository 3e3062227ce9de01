"""Arrow column buffers built in plain Python, without importing pyarrow.

The ingest workers turn their articles into the rows of the store's ``articles`` table
(:func:`article_row_buffers`); the process that writes the store wraps the buffers as
Arrow arrays (``wiretrace.store.article_rows_from_buffers``) without touching a Python
object per value. Building rows is the costliest Python work of storing an article;
done in the workers it no longer competes with the thread that hands them their jobs,
and a batch crosses between processes as a few large byte strings instead of pickled
articles. The workers do not import pyarrow (it would add 0.1 s to every pool start).

A column is a tuple tagged by its layout (Arrow's, little-endian):

- ``("utf8", length, validity, nulls, offsets, data)``
- ``("int32" | "int64", length, validity, nulls, data)``
- ``("list", length, offsets, child)`` (a list column: int32 offsets into ``child``)
- ``("struct", length, children)`` (fields in the schema's order, none null)

``validity`` is the bitmap of set values (None when none is null). Timestamps are
``int64`` microseconds since the epoch.
"""

from __future__ import annotations

import array
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from wiretrace.models import Article

__all__ = [
    "Column",
    "article_row_buffers",
    "ints",
    "lists",
    "micros",
    "record_hash",
    "split_published",
    "utf8",
    "validity",
]

Column = tuple[Any, ...]

_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def validity(values: Sequence[Any]) -> tuple[bytes | None, int]:
    """The validity bitmap of ``values`` (None where all are set) and the null count."""
    nulls = [i for i, v in enumerate(values) if v is None]
    if not nulls:
        return None, 0
    bits = bytearray(b"\xff" * ((len(values) + 7) // 8))
    for i in nulls:
        bits[i >> 3] &= ~(1 << (i & 7)) & 0xFF
    return bytes(bits), len(nulls)


def utf8(values: Sequence[str | None]) -> Column:
    """A string column."""
    bits, nulls = validity(values)
    present = [v for v in values if v is not None] if nulls else values
    sizes = (
        0 if v is None else len(v) if v.isascii() else len(v.encode("utf-8")) for v in values
    )
    offsets = array.array("i", accumulate(sizes, initial=0)).tobytes()
    data = "".join(present).encode("utf-8")  # type: ignore[arg-type]
    return ("utf8", len(values), bits, nulls, offsets, data)


def ints(values: Sequence[int | None], wide: bool = False) -> Column:
    """A 32-bit (64-bit when ``wide``) integer column."""
    bits, nulls = validity(values)
    data = array.array("q" if wide else "i", (v or 0 for v in values)).tobytes()
    return ("int64" if wide else "int32", len(values), bits, nulls, data)


def micros(values: Sequence[datetime | None]) -> Column:
    """Microseconds since the epoch (naive or aware values, not mixed) as int64."""
    return ints(
        [None if v is None else (v - _epoch(v)) // _MICROSECOND for v in values], wide=True
    )


def _epoch(value: datetime) -> datetime:
    return _EPOCH if value.tzinfo is None else _EPOCH_UTC


def lists(rows: Sequence[Sequence[Any]], child: Column) -> Column:
    """A list column over ``child`` (the items of every row, in order)."""
    offsets = array.array("i", accumulate((len(row) for row in rows), initial=0)).tobytes()
    return ("list", len(rows), offsets, child)


def split_published(value: datetime | None) -> tuple[datetime | None, int | None]:
    """A publication time as stored: the wall time, and its UTC offset in minutes
    (None for a naive time)."""
    if value is None:
        return None, None
    offset = value.utcoffset()
    wall = value.replace(tzinfo=None)
    if offset is None:
        return wall, None
    return wall, int(offset.total_seconds() // 60)


def record_hash(article: Article, content_hash: str | None = None) -> str:
    """A digest of every field of ``article`` read from its input, except ``source``
    (which names the path as typed, and may differ between runs) and ``warnings``.
    ``content_hash``: the article's, when the caller has it already."""
    fields = (
        content_hash or article.content_hash, article.kind, article.credits, article.dateline,
        article.section, article.language, article.links,
        tuple((s.start, s.end, s.kind) for s in article.excluded),
    )
    return hashlib.blake2b(repr(fields).encode("utf-8", "surrogatepass"),
                           digest_size=16).hexdigest()


def article_row_buffers(
    articles: Sequence[Article],
    words: Sequence[int],
    hashes: Sequence[str],
    records: Sequence[str],
) -> list[tuple[str, Column]]:
    """The rows of ``articles`` for the store's ``articles`` table, as named columns
    (``wiretrace.store.ARTICLE_ROW_SCHEMA``: every column but ``version`` and
    ``ingested_at``, which the store sets), with their body word counts, content
    hashes and record hashes."""
    published = [split_published(a.published) for a in articles]
    spans = [s for a in articles for s in a.excluded]
    return [
        ("id", utf8([a.id for a in articles])),
        ("content_hash", utf8(list(hashes))),
        ("kind", utf8([a.kind for a in articles])),
        ("source", utf8([a.source for a in articles])),
        ("url", utf8([a.url for a in articles])),
        ("title", utf8([a.title for a in articles])),
        ("outlet", utf8([a.outlet for a in articles])),
        ("published", micros([p[0] for p in published])),
        ("published_utc_offset", ints([p[1] for p in published])),
        ("byline", utf8([a.byline for a in articles])),
        ("credits", lists([a.credits for a in articles],
                          utf8([c for a in articles for c in a.credits]))),
        ("dateline", utf8([a.dateline for a in articles])),
        ("section", utf8([a.section for a in articles])),
        ("language", utf8([a.language for a in articles])),
        ("links", lists([a.links for a in articles],
                        utf8([link for a in articles for link in a.links]))),
        ("excluded", lists(
            [a.excluded for a in articles],
            ("struct", len(spans), [ints([s.start for s in spans]), ints([s.end for s in spans]),
                                    utf8([s.kind for s in spans])]),
        )),
        ("warnings", lists([a.warnings for a in articles],
                           utf8([w for a in articles for w in a.warnings]))),
        ("words", ints(list(words))),
        ("text", utf8([a.text for a in articles])),
        ("record_hash", utf8(list(records))),
    ]

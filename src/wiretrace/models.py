"""Typed records that pass between the stages.

All offsets are Unicode code point offsets into ``Article.text``, end exclusive.
Records are frozen dataclasses; bulk data between stages may also travel as Arrow
tables whose columns carry the same names.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

__all__ = [
    "Article",
    "Edit",
    "EditKind",
    "EditOp",
    "IngestIssue",
    "Passage",
    "ReusePair",
    "Span",
]

EditOp = Literal["replace", "insert", "delete"]
EditKind = Literal["alias", "synonym", "spelling", "number", "other"]
CreditStatus = Literal["credited", "uncredited", "credited_elsewhere"]

#: Kinds of excluded span. ``title`` is the title line inside the stored text; the other
#: kinds are boilerplate: kept in the text (so offsets stay file offsets) but out of
#: matching, word counts, facts and stories.
SPAN_KINDS = (
    "title",
    "header",  # byline / date / section line above the body
    "footer",  # site name, trailing metadata lines
    "copyright",
    "link",  # a bare URL or short link line
    "caption",
    "related",  # related-article headline
    "navigation",  # "Latest News", "Read more", menus
    "boilerplate",  # anything else
)


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open character range ``[start, end)`` of an article's text with a kind."""

    start: int
    end: int
    kind: str = "boilerplate"

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"span [{self.start}, {self.end}) must have 0 <= start <= end")


@dataclass(frozen=True, slots=True)
class Article:
    """One article as stored.

    ``id`` is the user's id (a file's path relative to the folder given, without
    extension; a record's id column; a feed entry's id). ``text`` is the stored text:
    for plain-text input the file's decoded text with line ends untouched.
    ``excluded`` lists the title line and boilerplate spans, sorted by start.
    ``published`` is timezone-aware where the input says the zone, naive otherwise.
    """

    id: str
    text: str
    title: str | None = None
    source: str | None = None  # the path or URL read, with a record locator if any
    kind: str = "text"  # text | markdown | html | warc | feed | jsonl | csv | parquet
    outlet: str | None = None
    url: str | None = None
    published: datetime | None = None
    byline: str | None = None
    credits: tuple[str, ...] = ()  # agencies/outlets credited (canonical names)
    dateline: str | None = None  # e.g. "CARACAS" from "CARACAS (Reuters) -"
    section: str | None = None
    language: str | None = None
    links: tuple[str, ...] = ()  # source links found in the text (short links, URLs)
    excluded: tuple[Span, ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def boilerplate(self) -> tuple[Span, ...]:
        """Excluded spans other than the title line."""
        return tuple(s for s in self.excluded if s.kind != "title")

    @property
    def content_hash(self) -> str:
        """A hash of what defines a version: the text and the metadata read from it."""
        h = hashlib.blake2b(digest_size=16)
        for part in (
            self.text,
            self.title or "",
            self.outlet or "",
            self.url or "",
            self.published.isoformat() if self.published else "",
            self.byline or "",
        ):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
        return h.hexdigest()

    def with_(self, **changes: object) -> Article:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class IngestIssue:
    """A problem with one input: ``error`` fails the run, ``warning`` does not."""

    input: str
    reason: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.severity}: {self.input}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Edit:
    """One difference inside a passage. Offsets are into each side's article text."""

    op: EditOp
    source_start: int
    source_end: int
    target_start: int
    target_end: int
    source_text: str
    target_text: str
    kind: EditKind = "other"

    def to_json(self) -> dict[str, object]:
        """The edit as a JSON object (the ``edits`` items of a ``pairs`` line)."""
        return {
            "op": self.op,
            "source_start": self.source_start,
            "source_end": self.source_end,
            "target_start": self.target_start,
            "target_end": self.target_end,
            "source_text": self.source_text,
            "target_text": self.target_text,
            "kind": self.kind,
        }


@dataclass(frozen=True, slots=True)
class Passage:
    """An aligned passage: ``source[source_start:source_end]`` ~ ``target[...]``.

    ``similarity`` is in [0, 1] (share of aligned words that are equal after
    normalisation). ``origin`` is the passage's own origin id where it differs from the
    pair's source.
    """

    source_start: int
    source_end: int
    target_start: int
    target_end: int
    source_text: str
    target_text: str
    similarity: float
    edits: tuple[Edit, ...] = ()
    origin: str | None = None
    source_words: int = 0
    target_words: int = 0

    def swapped(self) -> Passage:
        """The same passage seen from the other side."""
        inv = {"insert": "delete", "delete": "insert", "replace": "replace"}
        return Passage(
            source_start=self.target_start,
            source_end=self.target_end,
            target_start=self.source_start,
            target_end=self.source_end,
            source_text=self.target_text,
            target_text=self.source_text,
            similarity=self.similarity,
            edits=tuple(
                Edit(
                    op=inv[e.op],  # type: ignore[arg-type]
                    source_start=e.target_start,
                    source_end=e.target_end,
                    target_start=e.source_start,
                    target_end=e.source_end,
                    source_text=e.target_text,
                    target_text=e.source_text,
                    kind=e.kind,
                )
                for e in self.edits
            ),
            origin=self.origin,
            source_words=self.target_words,
            target_words=self.source_words,
        )


@dataclass(frozen=True, slots=True)
class ReusePair:
    """A reusing article pair; ``source`` is the inferred origin, ``target`` the reuser."""

    source: str
    target: str
    passages: tuple[Passage, ...]
    source_coverage: float = 0.0  # share of the source's body words inside passages
    target_coverage: float = 0.0  # share of the target's body words inside passages
    origin_confidence: float = 0.5
    evidence: tuple[str, ...] = ()
    credited: bool = False
    credit: CreditStatus = "uncredited"
    credited_to: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The ``wiretrace pairs --json`` line (DESIGN.md section 3)."""
        return {
            "source": self.source,
            "target": self.target,
            "origin_confidence": round(self.origin_confidence, 3),
            "evidence": list(self.evidence),
            "credited": self.credited,
            "credit": self.credit,
            "credited_to": list(self.credited_to),
            "source_coverage": round(self.source_coverage, 4),
            "target_coverage": round(self.target_coverage, 4),
            "passages": [
                {
                    "source_start": p.source_start,
                    "source_end": p.source_end,
                    "target_start": p.target_start,
                    "target_end": p.target_end,
                    "source_text": p.source_text,
                    "target_text": p.target_text,
                    "similarity": round(p.similarity, 4),
                    "origin": p.origin,
                    "edits": [e.to_json() for e in p.edits],
                }
                for p in self.passages
            ],
        }

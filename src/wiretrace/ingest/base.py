"""What every reader shares: the description of one input and the reader signature."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from wiretrace.models import Article, IngestIssue
from wiretrace.settings import IngestSettings

__all__ = ["KINDS", "Reader", "Record", "SourceInput"]

#: Source kinds, recognised by extension first and by content only where the
#: extension says nothing.
KINDS = ("text", "markdown", "html", "warc", "feed", "jsonl", "csv", "tsv", "parquet")


@dataclass(frozen=True, slots=True)
class SourceInput:
    """One input to read: a local file or a URL.

    ``id`` is the user's id for it: a file's path relative to the folder given on the
    command line, without extension, with "/" separators (``business/001``); the bare
    stem for a file given directly. Readers of single-article kinds use it as the
    article id; readers of multi-record kinds (WARC, feeds, tables) give each record
    its own id (see docs/architecture.md). ``display`` names the input in messages.
    """

    id: str
    kind: str
    display: str
    path: Path | None = None
    url: str | None = None


#: A reader turns one input into articles, and problems with single records into
#: issues, without stopping at the first bad record. It raises ``IngestError`` only when
#: the whole input is unreadable.
Record = Article | IngestIssue
Reader = Callable[[SourceInput, IngestSettings], Iterator[Record]]

"""What every reader shares: the description of one input and the reader signature."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

    def __reduce__(self) -> tuple[Any, tuple[str, str, str, str | None, str | None]]:
        """Pickled as plain strings: a frozen dataclass's own pickling goes through
        Python code per object, and a worker process unpickles hundreds per job."""
        path = None if self.path is None else str(self.path)
        return _source_input, (self.id, self.kind, self.display, path, self.url)


def _source_input(
    id: str, kind: str, display: str, path: str | None, url: str | None
) -> SourceInput:
    return SourceInput(id, kind, display, None if path is None else Path(path), url)


#: A reader turns one input into articles, and problems with single records into
#: issues, without stopping at the first bad record. It raises ``IngestError`` only when
#: the whole input is unreadable.
Record = Article | IngestIssue
Reader = Callable[[SourceInput, IngestSettings], Iterator[Record]]

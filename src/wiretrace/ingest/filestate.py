"""Skipping local files that have not changed since they were ingested.

Re-ingesting the same input must be a no-op, and a cheap one: re-reading 20,000 files
only to find every article unchanged costs as much as the first ingest. So after a
file's articles are stored, the driver records the file's *state*: its size, its
modification time, a digest of its bytes, a fingerprint of the reader (the wiretrace
source of the ingest code and data, and the ingest settings that change what is read),
and the ``(id, content_hash)`` of every article it gave, with its warnings.

On the next ingest a file is skipped, its articles counted ``unchanged`` and its
warnings repeated, when all of this holds:

- the reader fingerprint is the same;
- size and modification time are the same, or the size is the same and the bytes
  still have the recorded digest (a copied or touched file);
- every recorded ``(id, content_hash)`` is still the stored latest version (nothing was
  removed, and no other input has stored a new version under the same id since).

Otherwise the file is read again and the content-hash rule of
:meth:`wiretrace.store.Store.put_articles` decides versions as always. Files that gave
an error, or an article skipped as a duplicate id, get no state (they are read every
time, so the error or the duplicate is reported every time). The state is written after
the file's articles are committed, in its own transaction: a run killed in between
leaves a file without a state, which only means it is read again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from wiretrace.ingest.base import SourceInput
from wiretrace.models import IngestIssue
from wiretrace.settings import IngestSettings

__all__ = [
    "FileState",
    "FileStateSink",
    "InputLog",
    "Stat",
    "file_digest",
    "is_unchanged",
    "load_states",
    "reader_fingerprint",
    "refreshed_row",
    "replayed_issues",
    "stable_digest",
    "state_key",
    "state_row",
]

#: Settings that change how inputs are fetched or scheduled, not what is read from a
#: local file: they are left out of the reader fingerprint.
_SCHEDULING = frozenset(
    {"workers", "batch_articles", "fetch_timeout", "fetch_max_bytes", "user_agent",
     "respect_robots"}
)
#: Package files whose content defines what a reader reads (besides ``ingest/``).
_READER_FILES = ("models.py", "text/tokens.py", "data/agencies.tsv")


class FileStateSink(Protocol):
    """What the store offers for file states (:class:`wiretrace.store.Store` does)."""

    def file_states(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    def put_file_states(self, rows: Sequence[Mapping[str, Any]], new: bool = False) -> None:
        ...


@dataclass(frozen=True, slots=True)
class Stat:
    """A file's size and modification time (nanoseconds)."""

    size: int
    mtime_ns: int

    def __reduce__(self) -> tuple[type[Stat], tuple[int, int]]:
        """Pickled as its two numbers (a worker sends one per file read): a frozen
        dataclass's own pickling goes through Python code per object."""
        return Stat, (self.size, self.mtime_ns)

    @classmethod
    def of(cls, path: os.PathLike[str] | str | None) -> Stat | None:
        if path is None:
            return None
        try:
            st = os.stat(path)  # noqa: PTH116 (Path(path) would parse the path again)
        except OSError:
            return None
        return cls(st.st_size, st.st_mtime_ns)


def file_digest(path: os.PathLike[str] | str) -> str | None:
    """A BLAKE2b digest of a file's bytes (None when it cannot be read)."""
    h = hashlib.blake2b(digest_size=16)
    try:
        with Path(path).open("rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def stable_digest(path: os.PathLike[str] | str | None, before: Stat | None) -> str | None:
    """The file's digest, if its size and modification time are still ``before`` (the
    stat taken before it was read); None otherwise: a file that changed while it was
    being read gets no state, so it is read again next time."""
    if path is None or before is None:
        return None
    digest = file_digest(path)
    return digest if Stat.of(path) == before else None


@dataclass(slots=True)
class InputLog:
    """What one input gave in this run: stored ``(id, content_hash)`` pairs, its own
    issues in order, articles skipped as empty, and whether it may get a state."""

    src: SourceInput
    stat: Stat | None
    kept: list[tuple[str, str]] = field(default_factory=list)
    issues: list[IngestIssue] = field(default_factory=list)
    skipped: int = 0
    clean: bool = True
    digest: str | None = None

    def add_issue(self, issue: IngestIssue) -> None:
        self.issues.append(issue)
        if issue.severity == "error":
            self.clean = False


@dataclass(frozen=True, slots=True)
class FileState:
    """A recorded state (see the module docs), as read back from the store."""

    size: int
    mtime_ns: int
    digest: str
    ids: tuple[str, ...]
    hashes: tuple[str, ...]
    issues: tuple[IngestIssue, ...]
    skipped: int
    current: bool


def state_key(src: SourceInput) -> str | None:
    """The key of a local input's state: its absolute path, kind and id (the same file
    given from another folder has other ids, so it is another input; one reached by
    another link is only read again)."""
    if src.path is None:
        return None
    # A string operation: ``Path.resolve``/``absolute`` cost far more per file.
    where = os.path.abspath(src.path)  # noqa: PTH100
    return f"{where}\x1f{src.kind}\x1f{src.id}"


@cache
def _code_fingerprint() -> str:
    """A digest of the ingest package's source and the reader data it uses."""
    h = hashlib.blake2b(digest_size=16)
    root = resources.files("wiretrace")
    ingest_dir = root.joinpath("ingest")
    names = sorted(p.name for p in ingest_dir.iterdir() if p.name.endswith(".py"))
    for name in names:
        h.update(name.encode())
        h.update(ingest_dir.joinpath(name).read_bytes())
    for rel in _READER_FILES:
        h.update(rel.encode())
        try:
            h.update(root.joinpath(rel).read_bytes())
        except OSError:
            h.update(b"-")
    return h.hexdigest()


def reader_fingerprint(settings: IngestSettings) -> str:
    """What decides how a local file is read: the reader code and the settings that
    matter for reading (see ``_SCHEDULING`` for those that do not)."""
    fields = {
        k: v for k, v in sorted(dataclasses.asdict(settings).items()) if k not in _SCHEDULING
    }
    h = hashlib.blake2b(digest_size=16)
    h.update(_code_fingerprint().encode())
    h.update(repr(fields).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def load_states(
    sink: FileStateSink, keys: Sequence[str], reader: str
) -> dict[str, FileState]:
    """The recorded states of ``keys`` written by the same reader."""
    out: dict[str, FileState] = {}
    for key, row in sink.file_states(keys).items():
        if row["reader"] != reader:
            continue
        issues = tuple(
            IngestIssue(i[0], i[1], "warning" if i[2] == "warning" else "error")
            for i in json.loads(row["issues"] or "[]")
        )
        out[key] = FileState(
            size=int(row["size"]),
            mtime_ns=int(row["mtime_ns"]),
            digest=str(row["digest"] or ""),
            ids=tuple(row["ids"] or ()),
            hashes=tuple(row["hashes"] or ()),
            issues=issues,
            skipped=int(row["skipped"] or 0),
            current=bool(row["current"]),
        )
    return out


def is_unchanged(src: SourceInput, stat: Stat | None, state: FileState | None) -> bool:
    """True when ``src`` may be skipped (see the module docs). Reads and digests the
    file only when its modification time changed but its size did not."""
    if stat is None or state is None or not state.current:
        return False
    if stat.size != state.size:
        return False
    if stat.mtime_ns == state.mtime_ns:
        return True
    return src.path is not None and file_digest(src.path) == state.digest


def state_row(key: str, log: InputLog, reader: str) -> dict[str, Any] | None:
    """The row to record for an input read in this run, or None when it gets none."""
    if not log.clean or log.stat is None or log.digest is None:
        return None
    issues = [_relative_issue(i, log.src.display) for i in log.issues]
    return _row(key, log.stat, log.digest, reader, log.kept, issues, log.skipped)


#: Marks a recorded issue's input as relative to the input's name: a file named
#: another way next time (an absolute path, another working folder) is named as given.
_SAME_INPUT = "\x00"


def _relative_issue(issue: IngestIssue, display: str) -> IngestIssue:
    if issue.input == display or issue.input.startswith(display + ":"):
        return IngestIssue(_SAME_INPUT + issue.input[len(display) :], issue.reason, issue.severity)
    return issue


def replayed_issues(state: FileState, display: str) -> list[IngestIssue]:
    """A skipped file's recorded issues, naming it as it was given this time."""
    return [
        IngestIssue(display + i.input[1:], i.reason, i.severity)
        if i.input.startswith(_SAME_INPUT)
        else i
        for i in state.issues
    ]


def refreshed_row(key: str, stat: Stat, state: FileState, reader: str) -> dict[str, Any]:
    """The row of a skipped file whose modification time changed (same bytes): the new
    time is recorded so that the next run need not digest it again."""
    kept = list(zip(state.ids, state.hashes, strict=True))
    return _row(key, stat, state.digest, reader, kept, list(state.issues), state.skipped)


#: A file modified less than this long before its state is recorded is "racy": the
#: file system's clock is coarse (milliseconds), so a rewrite of the same size within
#: the same tick would keep the recorded time. Its state then records no time, and the
#: next run compares digests instead (as git does for its index).
RACY_NS = 2_000_000_000


def _row(
    key: str,
    stat: Stat,
    digest: str,
    reader: str,
    kept: Sequence[tuple[str, str]],
    issues: Sequence[IngestIssue],
    skipped: int,
) -> dict[str, Any]:
    racy = time.time_ns() - stat.mtime_ns < RACY_NS
    return {
        "key": key,
        "size": stat.size,
        "mtime_ns": -1 if racy else stat.mtime_ns,
        "digest": digest,
        "reader": reader,
        "ids": [i for i, _ in kept],
        "hashes": [h for _, h in kept],
        "issues": json.dumps([[i.input, i.reason, i.severity] for i in issues])
        if issues
        else "[]",
        "skipped": skipped,
    }

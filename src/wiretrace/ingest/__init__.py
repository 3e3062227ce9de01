"""Input discovery and the ingest driver.

:func:`discover` turns the paths and URLs a user gives into :class:`SourceInput`
records (or issues for paths that do not exist); :func:`ingest` reads each input
through the reader for its kind, skips empty articles, and writes the articles to a
store in batches (one transaction per batch), collecting every issue without stopping
at a bad input.

Kinds come from the extension first; content is sniffed (the first KB) only where the
extension says nothing. Ids follow docs/architecture.md: a file inside a folder given on
the command line is its path relative to that folder, without extension, with "/"
separators (``business/001``); a file given directly is its bare name without
extension; a URL is itself.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from wiretrace.errors import IngestError
from wiretrace.ingest.base import Record, SourceInput
from wiretrace.models import Article, IngestIssue
from wiretrace.progress import NullProgress, Progress
from wiretrace.settings import IngestSettings, Settings
from wiretrace.text.tokens import word_count

__all__ = [
    "ArticleSink",
    "IngestSummary",
    "SourceInput",
    "discover",
    "ingest",
    "kind_of",
]

log = logging.getLogger(__name__)

#: Extensions (lower case, longest first where compound) and the kind they mean.
#: ``.xml`` is sniffed: feed if it looks like one.
_EXTENSIONS: tuple[tuple[str, str], ...] = (
    (".warc.gz", "warc"),
    (".arc.gz", "warc"),
    (".jsonl.gz", "jsonl"),
    (".ndjson.gz", "jsonl"),
    (".csv.gz", "csv"),
    (".txt", "text"),
    (".text", "text"),
    (".md", "markdown"),
    (".markdown", "markdown"),
    (".html", "html"),
    (".htm", "html"),
    (".xhtml", "html"),
    (".warc", "warc"),
    (".arc", "warc"),
    (".rss", "feed"),
    (".atom", "feed"),
    (".xml", "xml"),
    (".jsonl", "jsonl"),
    (".ndjson", "jsonl"),
    (".json", "jsonl"),
    (".csv", "csv"),
    (".parquet", "parquet"),
)

#: Files that belong to wiretrace itself and are never inputs (a store inside the
#: folder being ingested, its write-ahead log, the settings file).
_OWN_FILES = (".duckdb", ".duckdb.wal", "wiretrace.toml")

_SNIFF = 1024


def _split_extension(name: str) -> tuple[str, str | None]:
    """``(name without a recognised extension, kind)``; kind None when unrecognised."""
    low = name.lower()
    for ext, kind in _EXTENSIONS:
        if low.endswith(ext) and len(name) > len(ext):
            return name[: -len(ext)], kind
    return name, None


def _sniff(path: Path) -> str:
    """Kind from the first KB of a file whose extension says nothing (or ``.xml``)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF)
    except OSError:
        return "text"  # the reader reports why it cannot be read
    if head.startswith(b"\x1f\x8b"):
        return "warc" if b"WARC" in _gunzip_head(path) else "text"
    low = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if low.startswith(b"warc/"):
        return "warc"
    if b"<rss" in low or b"<feed" in low or b"<rdf:rdf" in low:
        return "feed"
    if low.startswith((b"<!doctype html", b"<html")) or b"<html" in low:
        return "html"
    if low.startswith(b"{"):
        first = low.split(b"\n", 1)[0].rstrip()
        if first.endswith(b"}") or b'":' in first:
            return "jsonl"
    if b"\x00" not in head[:4] and head[:4] == b"PAR1":
        return "parquet"
    return "text"  # the text reader refuses binary data with a clear reason


def _gunzip_head(path: Path) -> bytes:
    import gzip

    try:
        with gzip.open(path, "rb") as fh:
            return fh.read(64)
    except (OSError, EOFError):
        return b""


def kind_of(path: Path) -> str:
    """The kind of a local file: by extension, else by content (see module docs)."""
    _, kind = _split_extension(path.name)
    if kind is None or kind == "xml":
        sniffed = _sniff(path)
        if kind == "xml" and sniffed == "text":
            return "feed"  # an .xml file the feed reader can judge (and refuse) itself
        return sniffed
    return kind


def _file_input(path: Path, id: str) -> SourceInput:
    return SourceInput(id=id, kind=kind_of(path), display=str(path), path=path)


def _is_own_file(name: str) -> bool:
    return name.lower().endswith(_OWN_FILES)


def _walk(folder: Path) -> Iterator[Path | IngestIssue]:
    """Files under ``folder``, recursively, in sorted order; hidden names skipped.

    Symbolic links to files are followed; links to folders are not (no cycles).
    """
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        yield IngestIssue(str(folder), f"cannot read folder: {exc.strerror or exc}")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(Path(entry.path))
            elif entry.is_file() and not _is_own_file(entry.name):
                yield Path(entry.path)
        except OSError as exc:
            yield IngestIssue(entry.path, f"cannot read: {exc.strerror or exc}")


def discover(
    paths: Iterable[str | Path], settings: IngestSettings | None = None
) -> Iterator[SourceInput | IngestIssue]:
    """The inputs named by ``paths`` (files, folders, http(s) URLs), in order.

    Folders are walked recursively in sorted order (hidden files and folders skipped);
    a missing path gives an error issue "no such file or directory"; two inputs with
    the same id give an error issue for the second; a file reached twice is read once.
    ``settings`` is accepted for symmetry with the readers (unused so far).
    """
    seen_ids: dict[str, str] = {}
    seen_files: set[Path] = set()
    for raw in paths:
        text = str(raw)
        if text.startswith(("http://", "https://")):
            if text in seen_ids:
                continue
            seen_ids[text] = text
            yield SourceInput(id=text, kind="html", display=text, url=text)
            continue
        path = Path(text)
        if path.is_dir():
            candidates: Iterable[Path | IngestIssue] = _walk(path)
            base: Path | None = path
        elif path.exists():
            candidates, base = [path], None
        else:
            yield IngestIssue(text, "no such file or directory")
            continue
        for item in candidates:
            if isinstance(item, IngestIssue):
                yield item
                continue
            try:
                real = item.resolve()
            except OSError:
                real = item.absolute()
            if real in seen_files:
                continue
            seen_files.add(real)
            rel = item.relative_to(base).as_posix() if base is not None else item.name
            stem, _ = _split_extension(rel)
            if stem in seen_ids:
                yield IngestIssue(
                    str(item),
                    f"id {stem!r} is already used by {seen_ids[stem]}; skipped "
                    "(give their common parent folder to keep both)",
                )
                continue
            seen_ids[stem] = str(item)
            yield _file_input(item, stem)


# -- the driver ------------------------------------------------------------------------


class ArticleSink(Protocol):
    """Where the driver writes: :class:`wiretrace.store.Store` satisfies it."""

    def put_articles(
        self, articles: Sequence[Article], words: Sequence[int] | None = None
    ) -> Any: ...


@dataclass(slots=True)
class IngestSummary:
    """What an ingest did.

    ``files``: inputs read (files and URLs); ``articles_added``: new ids stored;
    ``updated``: stored ids whose content changed (``versions`` lists them with their
    new version number); ``unchanged``: articles already stored as they are;
    ``refreshed``: unchanged content read differently (e.g. by a newer reader) and
    rewritten in place (counted in ``unchanged`` too);
    ``skipped``: empty or duplicate articles left out; ``errors`` fail the run,
    ``warnings`` do not. Issues are in input order.
    """

    files: int = 0
    articles_added: int = 0
    updated: int = 0
    unchanged: int = 0
    refreshed: int = 0
    skipped: int = 0
    errors: list[IngestIssue] = field(default_factory=list)
    warnings: list[IngestIssue] = field(default_factory=list)
    versions: list[tuple[str, int]] = field(default_factory=list)

    @property
    def articles(self) -> int:
        """Articles read and kept (added, updated or unchanged)."""
        return self.articles_added + self.updated + self.unchanged

    @property
    def failed(self) -> bool:
        """True when any input failed (the CLI then exits with 1)."""
        return bool(self.errors)

    def add_issue(self, issue: IngestIssue) -> None:
        (self.errors if issue.severity == "error" else self.warnings).append(issue)

    def to_json(self) -> dict[str, object]:
        return {
            "files": self.files,
            "articles": self.articles,
            "added": self.articles_added,
            "updated": [{"id": i, "version": v} for i, v in self.versions],
            "unchanged": self.unchanged,
            "refreshed": self.refreshed,
            "skipped": self.skipped,
            "errors": [{"input": e.input, "reason": e.reason} for e in self.errors],
            "warnings": [{"input": w.input, "reason": w.reason} for w in self.warnings],
        }


def _reader_for(kind: str) -> Callable[[SourceInput, IngestSettings], Iterator[Record]]:
    """The reader of a kind, imported lazily so that one missing module only fails its
    own kind. Raises ``IngestError`` via the caller when there is none."""
    if kind in ("text", "markdown"):
        from wiretrace.ingest.textfile import read_text

        return read_text
    if kind == "html":
        from wiretrace.ingest.html import read_html

        return read_html
    if kind == "warc":
        from wiretrace.ingest.warc import read_warc

        return read_warc
    if kind == "feed":
        from wiretrace.ingest.feeds import read_feed

        return read_feed
    if kind in ("jsonl", "csv", "parquet"):
        from wiretrace.ingest.tables import read_table

        return read_table
    raise LookupError(kind)


class _Batcher:
    """Collects kept articles and writes them to the sink in batches."""

    def __init__(
        self, sink: ArticleSink, summary: IngestSummary, batch_size: int, batch_bytes: int
    ) -> None:
        self.sink = sink
        self.summary = summary
        self.batch_size = batch_size
        self.batch_bytes = batch_bytes
        self.articles: list[Article] = []
        self.words: list[int] = []
        self.chars = 0
        self.seen: dict[str, str] = {}

    def take(self, record: Record, display: str, words: int | None = None) -> int:
        """Handle one reader output (``words``: its body word count when known);
        returns 1 when an article was kept, else 0."""
        summary = self.summary
        if isinstance(record, IngestIssue):
            summary.add_issue(record)
            return 0
        where = record.source or display
        for warning in record.warnings:
            summary.add_issue(IngestIssue(where, warning, "warning"))
        if words is None:
            words = word_count(record.text, record.excluded)
        if words == 0:
            summary.skipped += 1
            summary.add_issue(IngestIssue(where, "empty article skipped", "warning"))
            return 0
        if record.id in self.seen:
            summary.skipped += 1
            summary.add_issue(
                IngestIssue(
                    where,
                    f"id {record.id!r} already read from {self.seen[record.id]}; skipped",
                    "warning",
                )
            )
            return 0
        self.seen[record.id] = where
        self.articles.append(record)
        self.words.append(words)
        self.chars += len(record.text)
        if len(self.articles) >= self.batch_size or self.chars >= self.batch_bytes:
            self.flush()
        return 1

    def flush(self) -> None:
        if not self.articles:
            return
        result = self.sink.put_articles(self.articles, self.words)
        self.summary.articles_added += len(result.added)
        self.summary.updated += len(result.updated)
        self.summary.versions.extend(result.updated)
        self.summary.unchanged += result.unchanged + len(result.refreshed)
        self.summary.refreshed += len(result.refreshed)
        self.articles, self.words, self.chars = [], [], 0


def _size(src: SourceInput) -> int:
    if src.path is None:
        return 0
    try:
        return src.path.stat().st_size
    except OSError:
        return 0


def _read_one(src: SourceInput, settings: IngestSettings) -> Iterator[Record]:
    """Every record of one input; a failure of the whole input becomes one issue."""
    try:
        reader = (
            _url_reader() if src.url and src.path is None else _reader_for(src.kind)
        )
    except (ImportError, LookupError):
        yield IngestIssue(src.display, f"no reader for {src.kind} input")
        return
    try:
        yield from reader(src, settings)
    except IngestError as exc:
        yield IngestIssue(exc.input, exc.reason)
    except MemoryError:
        yield IngestIssue(src.display, "out of memory while reading")
    except Exception as exc:
        log.exception("reading %s failed", src.display)
        yield IngestIssue(src.display, f"internal error while reading: {type(exc).__name__}: {exc}")


#: Inputs read one per task in worker processes: their readers are plain functions of
#: one file. WARC (which has its own pool), local HTML (parsed by ``read_html_many``)
#: and URLs (fetched politely one at a time) stay in this process.
_POOLED_KINDS = frozenset({"text", "markdown", "feed", "jsonl", "csv", "parquet"})
#: Fewer pooled inputs than this are read here: starting processes would cost more.
_MIN_POOLED = 64
_CHUNK = 32


def _read_chunk(
    srcs: list[SourceInput], settings: IngestSettings
) -> list[list[tuple[Record, int | None]]]:
    """Worker task: every record of each input, with body word counts of articles."""
    out: list[list[tuple[Record, int | None]]] = []
    for src in srcs:
        records: list[tuple[Record, int | None]] = []
        for record in _read_one(src, settings):
            if isinstance(record, Article):
                records.append((record, word_count(record.text, record.excluded)))
            else:
                records.append((record, None))
        out.append(records)
    return out


def _watch_parent(pid: int) -> None:
    """Worker initializer: exit as soon as the ingesting process ``pid`` is gone.

    A pool worker blocks on its task queue, whose write end it holds itself, so it
    never sees its parent die: without this, a SIGKILLed ingest would leave its
    workers (and the fork server) running forever.
    """

    def watch() -> None:
        while True:
            time.sleep(0.5)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # a process we may not signal holds the id: alive
                pass

    threading.Thread(target=watch, name="wiretrace-parent-watch", daemon=True).start()


def _read_pooled(
    srcs: list[SourceInput], settings: IngestSettings
) -> Iterator[list[tuple[Record, int | None]]]:
    """The records of each input (in input order), read over worker processes.

    At most ``4 * workers`` chunks are in flight, so memory stays bounded. A chunk whose
    worker died fails its inputs; the rest go on in a fresh pool.
    """
    workers = settings.workers if settings.workers > 0 else (os.cpu_count() or 1)
    if workers <= 1 or len(srcs) < _MIN_POOLED:
        for src in srcs:
            yield [(r, None) for r in _read_one(src, settings)]
        return
    import multiprocessing
    from collections import deque
    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # forkserver: DuckDB's threads run in this process, and forking a threaded process
    # is unsafe; the server preloads the readers so each worker starts warm.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["wiretrace.ingest", "wiretrace.ingest.textfile"])
    chunks = [srcs[i : i + _CHUNK] for i in range(0, len(srcs), _CHUNK)]
    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                   initializer=_watch_parent, initargs=(os.getpid(),))

    pool = new_pool()
    pending: deque[tuple[Future[list[list[tuple[Record, int | None]]]], list[SourceInput]]]
    pending = deque()
    try:
        next_chunk = 0
        while next_chunk < len(chunks) or pending:
            while next_chunk < len(chunks) and len(pending) < 4 * workers:
                chunk = chunks[next_chunk]
                pending.append((pool.submit(_read_chunk, chunk, settings), chunk))
                next_chunk += 1
            future, chunk = pending.popleft()
            try:
                results = future.result()
            except BrokenProcessPool:
                log.warning("an ingest worker process died; restarting the pool")
                results = [[(IngestIssue(src.display, "worker process died while reading"),
                             None)] for src in chunk]
                retry = [c for _, c in pending]
                pending.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = new_pool()
                for c in retry:
                    pending.append((pool.submit(_read_chunk, c, settings), c))
            yield from results
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _url_reader() -> Callable[[SourceInput, IngestSettings], Iterator[Record]]:
    from wiretrace.ingest.fetch import read_url

    return read_url


def _read_html_inputs(srcs: list[SourceInput], settings: IngestSettings) -> Iterator[Record]:
    try:
        from wiretrace.ingest.html import read_html_many
    except ImportError:
        for src in srcs:
            yield IngestIssue(src.display, "no reader for html input")
        return
    done = 0
    try:
        for record in read_html_many(srcs, settings):
            done += 1
            yield record
    except Exception as exc:
        log.exception("parallel HTML parsing failed")
        for src in srcs[done:]:
            yield IngestIssue(src.display, f"internal error while reading: {exc}")


def ingest(
    paths: Iterable[str | Path],
    store: ArticleSink,
    settings: Settings | None = None,
    progress: Progress | None = None,
    batch_size: int | None = None,
    batch_bytes: int = 64_000_000,
) -> IngestSummary:
    """Read every input named by ``paths`` and store its articles.

    Never stops at a bad input: unreadable inputs and bad records become issues in the
    summary; empty articles are skipped with a warning; an id read twice in one run
    keeps its first article (warning). Articles are written in batches of at most
    ``batch_size`` (default ``ingest.batch_articles``) articles or ``batch_bytes``
    characters of text, each batch in one
    transaction, so a killed run leaves every finished batch stored and running the same
    command again completes the job (stored articles come back ``unchanged``).
    Files of the single-file kinds (text, Markdown, feeds, tables) are read over
    ``ingest.workers`` processes when there are many; local HTML pages are parsed in
    parallel by ``read_html_many``; WARC files and URLs are read here, in order.
    """
    settings = settings or Settings()
    progress = progress or NullProgress()
    isettings = settings.ingest
    summary = IngestSummary()
    inputs: list[SourceInput] = []
    for item in discover(paths, isettings):
        if isinstance(item, IngestIssue):
            summary.add_issue(item)
        else:
            inputs.append(item)
    summary.files = len(inputs)
    sizes = {id(src): _size(src) for src in inputs}
    batcher = _Batcher(
        store, summary, max(1, batch_size or isettings.batch_articles), batch_bytes
    )
    html = [s for s in inputs if s.kind == "html" and s.path is not None]
    pooled = [s for s in inputs if s.kind in _POOLED_KINDS and s.path is not None]
    rest = [s for s in inputs if s.path is None or s.kind not in _POOLED_KINDS | {"html"}]
    progress.begin("ingest", total=len(inputs), total_bytes=sum(sizes.values()))
    try:
        for src, results in zip(pooled, _read_pooled(pooled, isettings), strict=True):
            kept = sum(batcher.take(record, src.display, words) for record, words in results)
            progress.advance(1, nbytes=sizes[id(src)], articles=kept)
        for src in rest:
            kept = 0
            for record in _read_one(src, isettings):
                kept += batcher.take(record, src.display)
            progress.advance(1, nbytes=sizes[id(src)], articles=kept)
        for src, record in zip(html, _read_html_inputs(html, isettings), strict=False):
            kept = batcher.take(record, src.display)
            progress.advance(1, nbytes=sizes[id(src)], articles=kept)
        batcher.flush()
    finally:
        progress.end()
    return summary

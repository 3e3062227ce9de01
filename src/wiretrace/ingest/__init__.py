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

import contextlib
import gc
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from wiretrace.ingest.base import Record, SourceInput
from wiretrace.ingest.filestate import (
    FileState,
    FileStateSink,
    InputLog,
    Stat,
    is_unchanged,
    load_states,
    reader_fingerprint,
    refreshed_row,
    replayed_issues,
    stable_digest,
    state_key,
    state_row,
)
from wiretrace.ingest.work import ArticleRow, Output, finish_record
from wiretrace.models import Article, IngestIssue
from wiretrace.processes import workers_can_start
from wiretrace.progress import NullProgress, Progress
from wiretrace.rowbuffers import article_row_buffers, record_hash
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
    (".tsv.gz", "tsv"),
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
    (".tsv", "tsv"),
    (".parquet", "parquet"),
)

#: Kinds of file that hold many records (their ids are their own, else "{stem}#{n}").
_MANY_RECORDS = frozenset({"warc", "jsonl", "csv", "tsv", "parquet", "feed"})

#: Files that belong to wiretrace itself and are never inputs (a store inside the
#: folder being ingested, its write-ahead log, the settings file).
_OWN_FILES = (".duckdb", ".duckdb.wal", "wiretrace.toml")

_SNIFF = 1024


_KIND_OF_EXTENSION = dict(_EXTENSIONS)


def _split_extension(name: str) -> tuple[str, str | None]:
    """``(name without a recognised extension, kind)``; kind None when unrecognised.
    A two-part extension (".warc.gz") wins over its last part; the name left must not
    be empty. Two dictionary lookups, not a test per extension (it runs per file)."""
    low = name.lower()
    dot = low.rfind(".")
    if dot <= 0:
        return name, None
    before = low.rfind(".", 0, dot)
    if before > 0:
        kind = _KIND_OF_EXTENSION.get(low[before:])
        if kind is not None:
            return name[:before], kind
    kind = _KIND_OF_EXTENSION.get(low[dot:])
    return (name[:dot], kind) if kind is not None else (name, None)


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


def _is_own_file(name: str) -> bool:
    return name.lower().endswith(_OWN_FILES)


#: A file's identity: (device, inode), or its absolute path when it cannot be stated.
_Identity = tuple[int, int] | str


def _walk(folder: Path, prefix: str = "") -> Iterator[tuple[Path, str, _Identity] | IngestIssue]:
    """Files under ``folder``, recursively, in sorted order; hidden names skipped: each
    with its path relative to the folder first given ("/" separators) and identity.

    Symbolic links to files are followed; links to folders are not (no cycles). The
    identity of a plain file comes from the directory listing (no ``stat`` per file).
    """
    try:
        device = folder.stat().st_dev
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        yield IngestIssue(str(folder), f"cannot read folder: {exc.strerror or exc}")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(folder.joinpath(entry.name), f"{prefix}{entry.name}/")
            elif entry.is_file() and not _is_own_file(entry.name):
                if entry.is_symlink():
                    st = entry.stat()
                    same: _Identity = (st.st_dev, st.st_ino)
                else:
                    same = (device, entry.inode())
                # joinpath parses only the new name (Path(entry.path) the whole path)
                yield folder.joinpath(entry.name), prefix + entry.name, same
        except OSError as exc:
            yield IngestIssue(entry.path, f"cannot read: {exc.strerror or exc}")


def _file_identity(path: Path) -> _Identity:
    """What makes two paths the same file: device and inode (one ``stat``, where
    resolving every link of the path costs one per component)."""
    try:
        st = path.stat()
    except OSError:
        return str(path.absolute())
    return (st.st_dev, st.st_ino)


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
    seen_files: set[_Identity] = set()
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
            candidates: Iterable[tuple[Path, str, _Identity] | IngestIssue] = _walk(path)
        elif path.exists():
            candidates = [(path, path.name, _file_identity(path))]
        else:
            yield IngestIssue(text, "no such file or directory")
            continue
        for item in candidates:
            if isinstance(item, IngestIssue):
                yield item
                continue
            file, rel, same = item
            if same in seen_files:
                continue
            seen_files.add(same)
            stem, kind = _split_extension(rel)
            display = str(file)
            if kind is None or kind == "xml":
                kind = kind_of(file)
            # A file of one article is the article "{stem}"; a file of many records
            # names those without an id of their own "{stem}#{n}": the two never clash.
            key = f"{stem}#" if kind in _MANY_RECORDS else stem
            if key in seen_ids:
                yield IngestIssue(
                    display,
                    f"id {stem!r} is already used by {seen_ids[key]}; skipped "
                    "(give their common parent folder to keep both)",
                )
                continue
            seen_ids[key] = display
            yield SourceInput(id=stem, kind=kind, display=display, path=file)


# -- the driver ------------------------------------------------------------------------


class ArticleSink(Protocol):
    """Where the driver writes: :class:`wiretrace.store.Store` satisfies it. A sink
    that also has ``file_states``/``put_file_states`` (see
    :class:`wiretrace.ingest.filestate.FileStateSink`) lets unchanged files be skipped."""

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
    ``warnings`` do not. Issues are in input order. ``files_unchanged``: files skipped
    without reading because they have not changed since they were ingested (their
    articles count as ``unchanged``, their warnings are repeated).
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
    files_unchanged: int = 0

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
            "files_unchanged": self.files_unchanged,
            "articles": self.articles,
            "added": self.articles_added,
            "updated": [{"id": i, "version": v} for i, v in self.versions],
            "unchanged": self.unchanged,
            "refreshed": self.refreshed,
            "skipped": self.skipped,
            "errors": [{"input": e.input, "reason": e.reason} for e in self.errors],
            "warnings": [{"input": w.input, "reason": w.reason} for w in self.warnings],
        }


def _read_one(src: SourceInput, settings: IngestSettings) -> Iterator[Record]:
    """Every record of one input (see :func:`wiretrace.ingest.work.read_one`)."""
    from wiretrace.ingest.work import read_one

    return read_one(src, settings)


class _Batcher:
    """Collects kept articles, writes them to the sink in batches, and records the
    state of each finished file once its articles are committed.

    A batch is written by one writer thread while this thread goes on collecting the
    next: the worker processes would otherwise run out of jobs for as long as a batch
    takes to store (~0.1 s for 2,000 articles), since only this thread hands them new
    ones. At most one write is in flight (so at most two batches are held), writes run
    in order, a file's state is recorded after its articles in the same thread (so a
    run killed in between only reads the file again), and the summary is updated here,
    in order, as each write is collected. :meth:`close` waits for the last write and
    raises its error, if any.
    """

    def __init__(
        self,
        sink: ArticleSink,
        summary: IngestSummary,
        batch_size: int,
        batch_bytes: int,
        states: _States | None,
    ) -> None:
        self.sink = sink
        self.summary = summary
        self.batch_size = batch_size
        self.batch_bytes = batch_bytes
        self.states = states
        self.articles: list[Article | ArticleRow] = []
        self.words: list[int] = []
        self.hashes: list[str] = []
        self.chars = 0
        self.seen: dict[str, str] = {}
        self.finished: list[InputLog] = []
        self._writer: ThreadPoolExecutor | None = None
        self._pending: Future[Any] | None = None

    def take(self, output: Output, display: str, log: InputLog) -> int:
        """Handle one reader output (with its word count and content hash when the
        worker computed them); returns 1 when an article was kept, else 0."""
        record, words, content_hash = output
        summary = self.summary
        if isinstance(record, IngestIssue):
            summary.add_issue(record)
            log.add_issue(record)
            return 0
        where = record.source or display
        for warning in record.warnings:
            issue = IngestIssue(where, warning, "warning")
            summary.add_issue(issue)
            log.add_issue(issue)
        if words is None:  # a worker counts them (an ArticleRow always has them)
            words = word_count(record.text, record.excluded)  # type: ignore[union-attr]
        if words == 0:
            summary.skipped += 1
            log.skipped += 1
            issue = IngestIssue(where, "empty article skipped", "warning")
            summary.add_issue(issue)
            log.add_issue(issue)
            return 0
        if record.id in self.seen:
            summary.skipped += 1
            log.clean = False  # depends on another input: read this one every time
            summary.add_issue(
                IngestIssue(
                    where,
                    f"id {record.id!r} already read from {self.seen[record.id]}; skipped",
                    "warning",
                )
            )
            return 0
        self.seen[record.id] = where
        content_hash = content_hash or record.content_hash  # type: ignore[union-attr]
        self.articles.append(record)
        self.words.append(words)
        self.hashes.append(content_hash)
        log.kept.append((record.id, content_hash))
        self.chars += record.chars if isinstance(record, ArticleRow) else len(record.text)
        if len(self.articles) >= self.batch_size or self.chars >= self.batch_bytes:
            self.flush()
        return 1

    def finish(self, log: InputLog) -> None:
        """``log``'s input gave all its records (its state is written after the batch
        holding its last article is committed)."""
        if self.states is not None:
            self.finished.append(log)

    def flush(self) -> None:
        """Hand the collected articles (and the states of the files finished with
        them) to the writer thread, after collecting the write before."""
        self._collect()
        finished = self.finished  # filled only when file states are recorded
        if not self.articles and not finished:
            return
        batch = (self.articles, self.words, self.hashes, finished)
        self.articles, self.words, self.hashes, self.chars = [], [], [], 0
        self.finished = []
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="wiretrace-store")
        self._pending = self._writer.submit(self._write, *batch)

    def close(self, raise_errors: bool = True) -> None:
        """Wait for the write in flight and stop the writer thread; the write's error
        is raised when ``raise_errors`` (else logged: another one is on its way). An
        interrupt (Ctrl-C) does not cut the wait short: the writer thread uses the
        store's connection, which nothing else may touch until its commit is done."""
        try:
            while True:
                try:
                    self._collect()
                    break
                except KeyboardInterrupt:
                    log.warning("interrupted: waiting for the batch being stored to commit")
                except Exception as exc:
                    if raise_errors:
                        raise
                    log.error("storing a batch failed too: %s", exc)
                    break
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)
                self._writer = None

    def _write(
        self, articles: list[Article | ArticleRow], words: list[int], hashes: list[str],
        finished: list[InputLog],
    ) -> Any:
        """In the writer thread: store one batch, then record its finished files."""
        result = _put(self.sink, articles, words, hashes) if articles else None
        if finished and self.states is not None:
            self.states.record(finished)
        return result

    def _collect(self) -> None:
        """Wait for the write in flight, if any, and count what it stored (an
        interrupted wait leaves it in flight)."""
        pending = self._pending
        if pending is None:
            return
        try:
            result = pending.result()
        finally:
            if pending.done():
                self._pending = None
        if result is None:
            return
        summary = self.summary
        summary.articles_added += len(result.added)
        summary.updated += len(result.updated)
        summary.versions.extend(result.updated)
        summary.unchanged += result.unchanged + len(result.refreshed)
        summary.refreshed += len(result.refreshed)


def _put(
    sink: ArticleSink, items: list[Article | ArticleRow], words: list[int], hashes: list[str]
) -> Any:
    """``sink.put_articles``, passing the content hashes along when it takes them; a
    batch holding articles made rows by the workers goes to ``sink.put_article_rows``
    (the driver asks workers for rows only from a sink that has it)."""
    if any(isinstance(item, ArticleRow) for item in items):
        runs: list[tuple[Any, list[int]]] = []
        records: list[str] = []
        start = 0
        while start < len(items):  # runs of rows of one job, and runs of articles
            first = items[start]
            end = start + 1
            if isinstance(first, ArticleRow):
                while (end < len(items) and isinstance(items[end], ArticleRow)
                       and items[end].rows is first.rows):  # type: ignore[union-attr]
                    end += 1
                run: list[ArticleRow] = items[start:end]  # type: ignore[assignment]
                runs.append((first.rows, [r.row for r in run]))
                records.extend(r.record_hash for r in run)
            else:
                while end < len(items) and not isinstance(items[end], ArticleRow):
                    end += 1
                plain: list[Article] = items[start:end]  # type: ignore[assignment]
                more = [record_hash(a, h) for a, h in zip(plain, hashes[start:end], strict=True)]
                buffers = article_row_buffers(plain, words[start:end], hashes[start:end], more)
                runs.append((buffers, list(range(len(plain)))))
                records.extend(more)
            start = end
        return sink.put_article_rows(  # type: ignore[attr-defined]
            runs, [item.id for item in items], hashes, records
        )
    articles: list[Article] = items  # type: ignore[assignment]
    try:
        return sink.put_articles(articles, words, content_hashes=hashes)  # type: ignore[call-arg]
    except TypeError as exc:
        if "content_hashes" not in str(exc):
            raise
        return sink.put_articles(articles, words)


class _States:
    """File states for one ingest: which inputs may be skipped, and recording."""

    def __init__(self, sink: FileStateSink, settings: IngestSettings) -> None:
        self.sink = sink
        self.reader = reader_fingerprint(settings)
        self.keys: dict[int, str] = {}
        #: The store had no file state when the ingest began: nothing can be skipped,
        #: and every state recorded is new (each input is recorded once per ingest).
        self.no_prior_states = not getattr(sink, "has_file_states", lambda: True)()

    def skip_unchanged(
        self, inputs: list[SourceInput], stats: list[Stat | None]
    ) -> dict[int, FileState]:
        """Indices of ``inputs`` that have not changed since they were ingested, with
        their recorded states (the stored mtime is refreshed where only it changed)."""
        for i, src in enumerate(inputs):
            key = state_key(src)
            if key is not None and stats[i] is not None:
                self.keys[i] = key
        if not self.keys:
            return {}
        states = load_states(self.sink, list(self.keys.values()), self.reader)
        skip: dict[int, FileState] = {}
        touched: list[dict[str, Any]] = []
        for i, key in self.keys.items():
            state = states.get(key)
            stat = stats[i]
            if state is None or stat is None or not is_unchanged(inputs[i], stat, state):
                continue
            skip[i] = state
            if stat.mtime_ns != state.mtime_ns:  # same bytes: record the time seen now
                touched.append(refreshed_row(key, stat, state, self.reader))
        if touched:
            self.sink.put_file_states(touched)
        return skip

    def record(self, logs: list[InputLog]) -> None:
        rows = []
        for log in logs:
            key = state_key(log.src)
            row = state_row(key, log, self.reader) if key is not None else None
            if row is not None:
                rows.append(row)
        if rows:
            self.sink.put_file_states(rows, new=self.no_prior_states)


def _replay(
    src: SourceInput, state: FileState, summary: IngestSummary, batcher: _Batcher
) -> None:
    """Count a skipped file as if it had been read: its articles unchanged, its
    warnings repeated, its ids taken."""
    summary.files_unchanged += 1
    summary.unchanged += len(state.ids)
    summary.skipped += state.skipped
    for issue in replayed_issues(state, src.display):
        summary.add_issue(issue)
    for id in state.ids:
        batcher.seen.setdefault(id, src.display)


#: Inputs read in worker processes (``work.plan_jobs``). WARC (which has its own pool),
#: local HTML (parsed by ``read_html_many``) and URLs (fetched politely one at a time)
#: are read in this process.
_POOLED_KINDS = frozenset({"text", "markdown", "feed", "jsonl", "csv", "tsv", "parquet"})
#: Worker processes pay for themselves from this many files, or this many bytes of
#: tables; smaller jobs are read here.
_MIN_POOLED_FILES = 64
_MIN_POOLED_TABLE_BYTES = 2_000_000


def _ingested_before(store: ArticleSink, src: SourceInput) -> bool:
    """Whether the store has a recorded state for ``src`` (a folder ingested again,
    most likely unchanged and skipped: no pool is started ahead for it)."""
    key = state_key(src)
    lookup = getattr(store, "file_states", None)
    return key is not None and lookup is not None and bool(lookup([key]))


def _pool_size(settings: IngestSettings) -> int:
    if not workers_can_start():
        return 1
    return settings.workers if settings.workers > 0 else (os.cpu_count() or 1)


def _workers(settings: IngestSettings, srcs: list[SourceInput], sizes: list[int]) -> int:
    workers = _pool_size(settings)
    tables = sum(n for s, n in zip(srcs, sizes, strict=True) if s.kind in _TABLE_KINDS)
    if len(srcs) - sum(1 for s in srcs if s.kind in _TABLE_KINDS) >= _MIN_POOLED_FILES:
        return workers
    return workers if tables >= _MIN_POOLED_TABLE_BYTES else 1


_TABLE_KINDS = frozenset({"jsonl", "csv", "tsv", "parquet"})


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
    characters of text, each batch in one transaction, so a killed run leaves every
    finished batch stored and running the same command again completes the job (stored
    articles come back ``unchanged``). Local files unchanged since they were ingested
    are not read again (see :mod:`wiretrace.ingest.filestate`) when the store keeps
    file states.

    Files of the single-file kinds (text, Markdown, feeds) and the rows of tables
    (JSONL, CSV, TSV, Parquet) are parsed over ``ingest.workers`` processes when there
    are enough of them (:mod:`wiretrace.ingest.work`); local HTML pages are parsed in
    parallel by ``read_html_many``; WARC files and URLs are read here, in order.
    """
    with _fewer_collections():
        return _ingest(paths, store, settings, progress, batch_size, batch_bytes)


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Python's cyclic garbage collector runs less often meanwhile: this process holds
    a batch of articles (thousands of objects, none in a cycle) that every full
    collection walks again, for nothing; the thresholds come back after."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], 50_000), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _ingest(
    paths: Iterable[str | Path],
    store: ArticleSink,
    settings: Settings | None,
    progress: Progress | None,
    batch_size: int | None,
    batch_bytes: int,
) -> IngestSummary:
    settings = settings or Settings()
    progress = progress or NullProgress()
    isettings = settings.ingest
    summary = IngestSummary()
    inputs: list[SourceInput] = []
    pool = None  # started as soon as enough new files for worker processes are found
    first: SourceInput | None = None  # the first file for the pool, and how many
    files = 0
    fresh = False  # the store has no file state (see _is_fresh)
    found = discover(paths, isettings)
    more: Iterator[SourceInput | IngestIssue] | None = None  # inputs not yet discovered
    try:
        for item in found:
            if isinstance(item, IngestIssue):
                summary.add_issue(item)
                continue
            inputs.append(item)
            if item.kind in _POOLED_KINDS and item.kind not in _TABLE_KINDS and item.path:
                first = first or item
                files += 1
                if (
                    files == _MIN_POOLED_FILES
                    and _pool_size(isettings) > 1
                    and not _ingested_before(store, first)
                ):
                    from wiretrace.ingest.work import start_pool

                    pool = start_pool(_pool_size(isettings))
                    fresh = _is_fresh(store)
                if fresh and pool is not None and pool.ready.is_set():
                    # Nothing to skip in a fresh store: once a worker is up, the rest
                    # is walked as the workers need files (walking on meanwhile costs
                    # them nothing: they are starting).
                    more = found
                    break
        # one checkpoint of the store's log for the whole ingest (see Store.bulk_writes)
        with getattr(store, "bulk_writes", contextlib.nullcontext)():
            return _ingest_inputs(inputs, store, settings, progress, batch_size,
                                  batch_bytes, summary, pool, more)
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def _is_fresh(store: ArticleSink) -> bool:
    """Whether ``store`` records file states and has none yet (a first ingest: no
    input can be skipped, so none need be known before reading starts)."""
    has_states = getattr(store, "has_file_states", None)
    return (
        has_states is not None
        and hasattr(store, "file_states")
        and hasattr(store, "put_file_states")
        and not has_states()
    )


def _ingest_inputs(
    inputs: list[SourceInput],
    store: ArticleSink,
    settings: Settings,
    progress: Progress,
    batch_size: int | None,
    batch_bytes: int,
    summary: IngestSummary,
    pool: Any,
    more: Iterator[SourceInput | IngestIssue] | None = None,
) -> IngestSummary:
    """Read ``inputs`` (pooled kinds first, in order, then the others, then HTML pages)
    into the store. ``more``: the rest of a walk still going on (a fresh store's ingest,
    see :func:`_is_fresh`): its inputs are found as the workers need more files, so
    that reading starts at once instead of after the whole walk (0.17 s for 20,000
    files, so about 9 s for a million, with the workers idle); ``inputs`` grows with them."""
    isettings = settings.ingest
    states = (
        _States(store, isettings)  # type: ignore[arg-type]
        if hasattr(store, "file_states") and hasattr(store, "put_file_states")
        else None
    )
    # Where no file state is recorded at all, nothing can be skipped: the files the
    # workers read are then stated as their jobs are planned (the workers take their
    # own stat), so that reading starts at once instead of after a stat of every file
    # (0.1 s for 20,000 files, with the workers idle).
    defer_stats = states is not None and states.no_prior_states
    if more is not None and not defer_stats:  # the store changed since: walk it all first
        for _ in _take_found(more, inputs, summary.add_issue):
            pass
        more = None
    walking = more is not None
    batcher = _Batcher(
        store, summary, max(1, batch_size or isettings.batch_articles), batch_bytes, states
    )
    known = len(inputs)  # the inputs whose stats are taken (the walk's are deferred)
    deferred = [defer_stats and _stated_by_worker(src) for src in inputs]
    stats = [None if d else Stat.of(src.path) for src, d in zip(inputs, deferred, strict=True)]
    sizes = [st.size if st is not None else 0 for st in stats]
    total_bytes = None if any(deferred) else sum(sizes)  # bytes still counted as read
    progress.begin("ingest", total=None if walking else len(inputs), total_bytes=total_bytes)
    # the rest of the walk's issues, reported after its first part's and before the
    # readers' (as when the walk ends before reading starts)
    held: list[IngestIssue] = []
    walked = len(summary.errors), len(summary.warnings)
    try:
        skip = {} if states is None or defer_stats else states.skip_unchanged(inputs, stats)
        for i, state in skip.items():
            _replay(inputs[i], state, summary, batcher)
            progress.advance(1, nbytes=sizes[i], articles=len(state.ids))
        todo = [i for i in range(len(inputs)) if i not in skip]
        pooled = [i for i in todo if _is_pooled(inputs[i])]
        pooled_srcs, pooled_stats = [inputs[i] for i in pooled], [stats[i] for i in pooled]
        found = _walk_pooled(more, inputs, held, progress) if more is not None else None
        _ingest_pooled(pooled_srcs, pooled_stats, isettings, batcher, progress,
                       states is not None, pool, found)
        if walking:  # the walk is over: the inputs found after the pooled ones
            stats += [None if _is_pooled(src) else Stat.of(src.path) for src in inputs[known:]]
            sizes += [st.size if st is not None else 0 for st in stats[known:]]
            todo = list(range(len(inputs)))
        html = [i for i in todo if inputs[i].kind == "html" and inputs[i].path is not None]
        taken = set(html)
        rest = [i for i in todo if not _is_pooled(inputs[i]) and i not in taken]
        for i in rest:
            src = inputs[i]
            log_ = InputLog(src, stats[i])
            kept = sum(
                batcher.take(finish_record(r), src.display, log_) for r in _read_one(src, isettings)
            )
            _finish_local(log_, batcher, states is not None)
            progress.advance(1, nbytes=sizes[i], articles=kept)
        html_srcs = [inputs[i] for i in html]
        for i, record in zip(html, _read_html_inputs(html_srcs, isettings), strict=False):
            log_ = InputLog(inputs[i], stats[i])
            kept = batcher.take(finish_record(record), inputs[i].display, log_)
            _finish_local(log_, batcher, states is not None)
            progress.advance(1, nbytes=sizes[i], articles=kept)
        batcher.flush()
    except BaseException:
        batcher.close(raise_errors=False)  # what was handed over is still committed
        raise
    else:
        batcher.close()
    finally:
        progress.end()
        summary.files = len(inputs)
        if held:
            errors, warnings = walked
            summary.errors[errors:errors] = [i for i in held if i.severity == "error"]
            summary.warnings[warnings:warnings] = [i for i in held if i.severity != "error"]
    return summary


def _is_pooled(src: SourceInput) -> bool:
    """Whether ``src`` is read through ``work.run_jobs`` (see ``_POOLED_KINDS``)."""
    return src.kind in _POOLED_KINDS and src.path is not None


def _take_found(
    found: Iterator[SourceInput | IngestIssue],
    inputs: list[SourceInput],
    issue: Callable[[IngestIssue], None],
) -> Iterator[SourceInput]:
    """Go on with a walk: each input is appended to ``inputs`` and, when it is of a
    pooled kind, yielded; each issue goes to ``issue``."""
    for item in found:
        if isinstance(item, IngestIssue):
            issue(item)
            continue
        inputs.append(item)
        if _is_pooled(item):
            yield item


def _walk_pooled(
    found: Iterator[SourceInput | IngestIssue],
    inputs: list[SourceInput],
    held: list[IngestIssue],
    progress: Progress,
) -> Iterator[SourceInput]:
    """The pooled inputs of the rest of a walk, as they are found (see
    ``_ingest_inputs``); the progress bar learns the count of inputs when it ends."""
    yield from _take_found(found, inputs, held.append)
    progress.set_total(len(inputs))


def _stated_by_worker(src: SourceInput) -> bool:
    """Whether ``src`` is read whole by a worker, which takes its stat (a text,
    Markdown or feed file)."""
    return src.kind in _POOLED_KINDS and src.kind not in _TABLE_KINDS and src.path is not None


def _finish_local(log_: InputLog, batcher: _Batcher, digests: bool) -> None:
    """Close an input read in this process (its digest is taken here)."""
    if digests and log_.src.path is not None:
        log_.digest = stable_digest(log_.src.path, log_.stat)
    batcher.finish(log_)


def _ingest_pooled(
    srcs: list[SourceInput],
    stats: list[Stat | None],
    settings: IngestSettings,
    batcher: _Batcher,
    progress: Progress,
    digests: bool,
    pool: Any = None,
    found: Iterator[SourceInput] | None = None,
) -> None:
    """Read the single-file kinds and tables through ``work.run_jobs``, in order
    (``pool``: a pool started beforehand, see ``_ingest``); then those of ``found``,
    as they are found (a walk still going on; each is stated as its job is planned)."""
    from wiretrace.ingest.work import plan_jobs, run_jobs

    if not srcs and found is None:
        return
    sizes: list[int | None] = [st.size if st else None for st in stats]

    def planned(found: Iterator[SourceInput]) -> Iterator[SourceInput]:
        yield from list(srcs)
        for src in found:
            stat = None if _stated_by_worker(src) else Stat.of(src.path)
            srcs.append(src)
            stats.append(stat)
            sizes.append(stat.size if stat else None)
            yield src

    workers = (
        _workers(settings, srcs, [n or 0 for n in sizes])
        if found is None
        else _pool_size(settings)  # a walk goes on when there are enough files for it
    )
    logs: dict[int, InputLog] = {}
    reported: dict[int, int] = {}
    # None: stated as planned (deferred by _ingest_inputs, or not found: said by the reader)
    jobs = plan_jobs(srcs if found is None else planned(found), settings, digests, sizes)
    rows = hasattr(batcher.sink, "put_article_rows")  # workers then build the rows
    for job, result in run_jobs(jobs, srcs, settings, workers, pool, rows):
        if job.kind == "files":
            for i, (outputs, digest, stat) in zip(job.inputs, result, strict=True):
                log_ = InputLog(srcs[i], stat, digest=digest)
                kept = sum(batcher.take(o, srcs[i].display, log_) for o in outputs)
                batcher.finish(log_)
                progress.advance(1, nbytes=stat.size if stat else sizes[i] or 0, articles=kept)
            continue
        i = job.inputs[0]
        size = sizes[i] or 0
        log_ = logs.setdefault(i, InputLog(srcs[i], stats[i]))
        outputs = result if job.kind == "rows" else result[0]
        kept = sum(batcher.take(o, srcs[i].display, log_) for o in outputs)
        if job.kind == "rows":
            step = min(job.nbytes, size - reported.get(i, 0))
            reported[i] = reported.get(i, 0) + step
            progress.advance(0, nbytes=step, articles=kept)
            continue
        _, log_.digest, log_.stat = result
        del logs[i]
        batcher.finish(log_)
        progress.advance(1, nbytes=size - reported.pop(i, 0), articles=kept)

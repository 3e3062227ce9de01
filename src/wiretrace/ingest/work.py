"""The work of reading inputs: readers by kind, worker tasks, an ordered process pool.

The ingest driver (:func:`wiretrace.ingest.ingest`) plans *jobs* and this module runs
them, in worker processes when there is enough work to pay for them, and hands the
results back **in plan order**, so output and stored order never depend on timing:

- a ``files`` job reads up to ``FILE_CHUNK`` whole files (text, Markdown, feeds) or
  ``FILE_CHUNK_BYTES``: one article or a few per file, so one job per file would cost
  more in scheduling than in parsing (fewer files per job for a small input, so that
  every worker gets several);
- a ``rows`` job parses up to ``ROW_CHUNK`` rows of one table (JSONL, CSV, TSV,
  Parquet), framed by :func:`wiretrace.ingest.tables.iter_rows` in this process: one
  large table spreads over every core;
- a ``done`` job (no work) closes a table input, in order after its last rows.

Workers return, for every article, its body word count and content hash beside it, so
that the process writing the store does as little per article as possible.

At most ``IN_FLIGHT_PER_WORKER * workers`` jobs are in flight and tables are framed
lazily, so memory stays bounded however large the input. A job whose worker died fails
its inputs (or rows) with an issue; the rest go on in a fresh pool.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from wiretrace.errors import IngestError
from wiretrace.ingest.base import Record, SourceInput
from wiretrace.ingest.filestate import Stat, stable_digest
from wiretrace.models import Article, IngestIssue, Span
from wiretrace.rowbuffers import article_row_buffers, record_hash
from wiretrace.settings import IngestSettings
from wiretrace.text.tokens import word_count

__all__ = [
    "Job",
    "Output",
    "finish_record",
    "plan_jobs",
    "read_one",
    "reader_for",
    "run_jobs",
]

log = logging.getLogger(__name__)

#: Files per ``files`` job (also cut at ``FILE_CHUNK_BYTES``) and rows per ``rows`` job
#: (also cut at ``ROW_CHUNK_BYTES``). 128 news-length files are ~40 ms of a worker's
#: time: the round trip of a job (its inputs and articles pickled both ways, the
#: futures) costs the process that writes the store ~8 us an article less than at 32.
FILE_CHUNK = 128
FILE_CHUNK_BYTES = 4_000_000
ROW_CHUNK = 256
ROW_CHUNK_BYTES = 4_000_000
IN_FLIGHT_PER_WORKER = 4


@dataclass(slots=True)
class ArticleRow:
    """An article a worker process made a row of the store's ``articles`` table: what
    the ingest driver needs of it, and where its row is (``rows``: the column buffers
    :func:`wiretrace.rowbuffers.article_row_buffers` made of the job's articles;
    ``row``: its index there). Not frozen: one is made per article, and a frozen
    dataclass sets each field through ``object.__setattr__`` (0.8 us against 0.2)."""

    id: str
    source: str | None
    warnings: tuple[str, ...]
    chars: int
    record_hash: str
    rows: Any
    row: int


#: One reader output with what the store needs beside it: ``(record, words,
#: content_hash)``; words and hash are None for issues. From worker processes asked
#: for rows, an article comes as an :class:`ArticleRow`.
Output = tuple[Record | ArticleRow, int | None, str | None]


def reader_for(kind: str) -> Callable[[SourceInput, IngestSettings], Iterator[Record]]:
    """The reader of a kind, imported lazily so that one missing module only fails its
    own kind. Raises ``LookupError`` for an unknown kind."""
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
    if kind in ("jsonl", "csv", "tsv", "parquet"):
        from wiretrace.ingest.tables import read_table

        return read_table
    raise LookupError(kind)


def read_one(src: SourceInput, settings: IngestSettings) -> Iterator[Record]:
    """Every record of one input; a failure of the whole input becomes one issue."""
    try:
        if src.url and src.path is None:
            from wiretrace.ingest.fetch import read_url

            reader: Callable[[SourceInput, IngestSettings], Iterator[Record]] = read_url
        else:
            reader = reader_for(src.kind)
    except (ImportError, LookupError):
        yield IngestIssue(src.display, f"no reader for {src.kind} input")
        return
    # Records are yielded as they come (a WARC streams): failures end the input with
    # one issue, after the records read so far.
    try:
        yield from reader(src, settings)
    except IngestError as exc:
        yield IngestIssue(exc.input, exc.reason)
    except MemoryError:
        yield IngestIssue(src.display, "out of memory while reading")
    except RecursionError:
        yield IngestIssue(src.display, "input nested too deeply to read")
    except Exception as exc:
        log.exception("reading %s failed", src.display)
        yield IngestIssue(src.display, f"internal error while reading: {type(exc).__name__}: {exc}")


def finish_record(record: Record) -> Output:
    """``record`` with its body word count and content hash (articles only)."""
    if isinstance(record, Article):
        return record, word_count(record.text, record.excluded), record.content_hash
    return record, None, None


# -- jobs ------------------------------------------------------------------------------


@dataclass(slots=True)
class Job:
    """One unit of work. ``inputs``: indices (into the planned inputs) it covers;
    ``kind``: "files", "rows" or "done"; ``nbytes``: input bytes it covers (progress);
    ``first_row``/``last_row``: the row numbers of a rows job (messages)."""

    kind: str
    inputs: list[int]
    args: tuple[Any, ...] = ()
    nbytes: int = 0
    first_row: int = 0
    last_row: int = 0
    result: Any = field(default=None)


#: A file's outputs, with its digest and the stat taken before reading it (the digest
#: is None when the file changed while it was read, or was not asked for).
FileResult = tuple[list[Output], str | None, Stat | None]


def _read_files(
    srcs: list[SourceInput], settings: IngestSettings, digests: bool
) -> list[FileResult]:
    """Worker task: every record of each file, and the file's digest if asked."""
    out: list[FileResult] = []
    for src in srcs:
        if src.kind in ("text", "markdown") and src.path is not None:
            out.append(_read_text_file(src, settings, digests))
            continue
        before = Stat.of(src.path) if digests else None
        records = [finish_record(r) for r in read_one(src, settings)]
        out.append((records, stable_digest(src.path, before), before))
    return out


def _read_text_file(src: SourceInput, settings: IngestSettings, digests: bool) -> FileResult:
    """One text file, read once: its bytes are parsed and digested (the digest only
    when the file did not change while it was read)."""
    import hashlib

    from wiretrace.ingest.textfile import article_from_bytes, load_bytes_stat

    try:
        data, st, stable = load_bytes_stat(src, settings)
    except IngestError as exc:
        return [(IngestIssue(exc.input, exc.reason), None, None)], None, None
    before = Stat(st.st_size, st.st_mtime_ns) if digests else None
    digest = hashlib.blake2b(data, digest_size=16).hexdigest() if digests and stable else None
    parsed = _guarded(src, lambda: [article_from_bytes(data, src, settings)])
    return [finish_record(r) for r in parsed], digest, before


def _guarded(src: SourceInput, parse: Callable[[], list[Record]]) -> list[Record]:
    """``parse()``, with any failure turned into one issue naming ``src``."""
    try:
        return parse()
    except IngestError as exc:
        return [IngestIssue(exc.input, exc.reason)]
    except MemoryError:
        return [IngestIssue(src.display, "out of memory while reading")]
    except RecursionError:
        return [IngestIssue(src.display, "input nested too deeply to read")]
    except Exception as exc:
        log.exception("reading %s failed", src.display)
        reason = f"internal error while reading: {type(exc).__name__}: {exc}"
        return [IngestIssue(src.display, reason)]


def _parse_rows(
    src: SourceInput, rows: list[Any], settings: IngestSettings
) -> list[Output]:
    """Worker task: table rows (framed by ``iter_rows``) as articles or issues."""
    from wiretrace.ingest.tables import parse_row

    out: list[Output] = []
    for row in rows:
        if isinstance(row, IngestIssue):
            out.append((row, None, None))
            continue
        try:
            record = parse_row(row, src, settings)
        except Exception as exc:  # one bad row must not fail its neighbours
            log.exception("parsing %s failed", row.where)
            record = IngestIssue(row.where, f"internal error: {type(exc).__name__}: {exc}")
        out.append(finish_record(record))
    return out


def _run(job: Job, settings: IngestSettings) -> Any:
    if job.kind == "files":
        return _read_files(job.args[0], settings, job.args[1])
    if job.kind == "rows":
        return _parse_rows(job.args[0], job.args[1], settings)
    return job.result


def _run_packed(job: Job, settings: IngestSettings, rows: bool = False) -> Any:
    """``_run`` in a worker process, its articles packed for the way back: with
    ``rows``, made rows of the store's ``articles`` table (column buffers, see
    :mod:`wiretrace.rowbuffers`), each article then sent as what the driver needs of it."""
    result = _run(job, settings)
    outputs = [o for outs, _, _ in result for o in outs] if job.kind == "files" else result
    buffers, pack = _row_packer(outputs) if rows else (None, _pack)
    if job.kind == "files":
        return buffers, [
            ([pack(o) for o in outs], digest, stat) for outs, digest, stat in result
        ]
    return buffers, [pack(o) for o in result]


def _unpacked(job: Job, packed: Any) -> Any:
    """The result of ``_run_packed`` as ``_run`` gives it (articles sent as rows as
    :class:`ArticleRow`)."""
    buffers, result = packed
    unpack: Callable[[Any], Output] = _unpack
    if buffers is not None:

        def unpack(o: Any) -> Output:
            return _unpack_row(o, buffers)

    if job.kind == "files":
        return [([unpack(o) for o in outputs], digest, stat) for outputs, digest, stat in result]
    return [unpack(o) for o in result]


def _row_packer(outputs: list[Output]) -> tuple[Any, Callable[[Output], Any]]:
    """The column buffers of the articles among ``outputs`` (None when there are none),
    and how to pack each output then: an article as its id, source, warnings, length,
    record hash and row number (issues as they are), in the order of ``outputs``."""
    articles = [(r, w, h) for r, w, h in outputs if isinstance(r, Article)]
    if not articles:
        return None, _pack
    records = [record_hash(a, h) for a, _, h in articles]
    buffers = article_row_buffers(
        [a for a, _, _ in articles], [w or 0 for _, w, _ in articles],
        [h or "" for _, _, h in articles], records,
    )
    rows = iter(range(len(articles)))

    def pack(output: Output) -> Any:
        record, words, content_hash = output
        if not isinstance(record, Article):
            return output
        row = next(rows)
        return (
            (record.id, record.source, record.warnings, len(record.text), records[row], row),
            words,
            content_hash,
        )

    return buffers, pack


def _unpack_row(packed: Any, buffers: Any) -> Output:
    record, words, content_hash = packed
    if not isinstance(record, tuple):
        return packed  # type: ignore[no-any-return]
    id_, source, warnings, chars, record_hash, row = record
    return ArticleRow(id_, source, warnings, chars, record_hash, buffers, row), words, content_hash


#: An article as plain values (its fields in order, spans as tuples): pickling a frozen
#: dataclass goes through Python code per object (``dataclasses``' state functions),
#: which cost as much as the rest of the trip between processes.
_ARTICLE_FIELDS = tuple(f.name for f in dataclasses.fields(Article))
_EXCLUDED = _ARTICLE_FIELDS.index("excluded")


def _pack(output: Output) -> Any:
    record, words, content_hash = output
    if not isinstance(record, Article):
        return output
    values = [getattr(record, name) for name in _ARTICLE_FIELDS]
    values[_EXCLUDED] = tuple((s.start, s.end, s.kind) for s in record.excluded)
    return tuple(values), words, content_hash


def _unpack(packed: Any) -> Output:
    record, words, content_hash = packed
    if not isinstance(record, tuple):
        return packed  # type: ignore[no-any-return]
    values = list(record)
    values[_EXCLUDED] = tuple(Span(*s) for s in values[_EXCLUDED])
    return Article(*values), words, content_hash


def _failed(job: Job, srcs: list[SourceInput], reason: str) -> Any:
    """The result of a job whose worker died."""
    if job.kind == "files":
        return [([(IngestIssue(s.display, reason), None, None)], None, None) for s in job.args[0]]
    src = job.args[0]
    where = f"{src.display}:rows {job.first_row}-{job.last_row}"
    return [(IngestIssue(where, reason), None, None)]


def plan_jobs(
    srcs: Iterable[SourceInput],
    settings: IngestSettings,
    digests: bool,
    sizes: Sequence[int | None] | None = None,
) -> Iterator[Job]:
    """Jobs for ``srcs`` in order: ``files`` jobs for single-file kinds, ``rows`` and
    then ``done`` jobs for each table (framed lazily, as jobs are taken). ``digests``:
    workers also digest the files they read (for skipping unchanged files later).
    ``sizes``: the files' sizes in bytes (a job is cut at ``FILE_CHUNK_BYTES``); a
    file whose size is None is stated here, as its job is planned.

    ``srcs`` may be an iterator still being filled (inputs read as they are found,
    see :func:`wiretrace.ingest._ingest_inputs`; ``sizes`` then grows with it): its
    jobs then start at 8 files and grow to ``FILE_CHUNK`` by the 256th, so the first
    results come at once whatever the count turns out to be."""
    from wiretrace.ingest.tables import TABLE_KINDS, iter_rows

    chunk: list[tuple[int, SourceInput]] = []
    total = len(srcs) if isinstance(srcs, Sized) else None
    most = min(FILE_CHUNK, max(8, total // 32)) if total is not None else 8
    nbytes = 0

    def files_job() -> Job:
        nonlocal nbytes
        job = Job("files", [i for i, _ in chunk], ([s for _, s in chunk], digests))
        chunk.clear()
        nbytes = 0
        return job

    for i, src in enumerate(srcs):
        if total is None:
            most = min(FILE_CHUNK, max(8, i // 2))
        if src.kind not in TABLE_KINDS:
            chunk.append((i, src))
            size = sizes[i] if sizes is not None else 0
            if size is None:
                stat = Stat.of(src.path)
                size = stat.size if stat is not None else 0
            nbytes += size
            if len(chunk) >= most or nbytes >= FILE_CHUNK_BYTES:
                yield files_job()
            continue
        if chunk:
            yield files_job()
        yield from _table_jobs(i, src, settings, iter_rows, digests)
    if chunk:
        yield files_job()


def _table_jobs(
    i: int,
    src: SourceInput,
    settings: IngestSettings,
    iter_rows: Callable[..., Iterator[Any]],
    digests: bool,
) -> Iterator[Job]:
    rows: list[Any] = []
    nbytes = 0
    first = 0
    before = Stat.of(src.path) if digests else None
    try:
        for row in iter_rows(src, settings):
            if isinstance(row, IngestIssue):
                rows.append(row)
                continue
            if not first:
                first = row.n
            rows.append(row)
            nbytes += len(row.data) if isinstance(row.data, bytes) else 0
            if len(rows) >= ROW_CHUNK or nbytes >= ROW_CHUNK_BYTES:
                yield Job("rows", [i], (src, rows), nbytes, first, row.n)
                rows, nbytes, first = [], 0, 0
        if rows:
            last = next((r.n for r in reversed(rows) if not isinstance(r, IngestIssue)), first)
            yield Job("rows", [i], (src, rows), nbytes, first, last)
        yield Job("done", [i], result=([], stable_digest(src.path, before), before))
    except IngestError as exc:
        if rows:
            yield Job("rows", [i], (src, rows), nbytes, first, first)
        issue = IngestIssue(exc.input, exc.reason)
        yield Job("done", [i], result=([(issue, None, None)], None, None))
    except Exception as exc:
        log.exception("reading %s failed", src.display)
        issue = IngestIssue(
            src.display, f"internal error while reading: {type(exc).__name__}: {exc}"
        )
        yield Job("done", [i], result=([(issue, None, None)], None, None))


def run_jobs(
    jobs: Iterator[Job],
    srcs: list[SourceInput],
    settings: IngestSettings,
    workers: int,
    pool: ProcessPoolExecutor | None = None,
    rows: bool = False,
) -> Iterator[tuple[Job, Any]]:
    """``(job, result)`` for every job, in order: in worker processes when ``workers``
    is over 1, else here. ``pool``: one from :func:`start_pool` to use (it is shut
    down at the end either way). ``rows``: worker processes make their articles rows
    of the store's ``articles`` table (:class:`ArticleRow`)."""
    if workers <= 1:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        for job in jobs:
            yield job, _run(job, settings)
        return
    yield from _run_pooled(jobs, srcs, settings, workers, pool, rows)


def start_pool(workers: int) -> Pool:
    """A pool of ``workers`` processes, started now in the background: the fork
    server's start and the workers' own overlap with what this process does meanwhile
    (walking the folders, looking up file states) instead of following it."""
    pool = _new_pool(workers)

    def spawn() -> None:
        try:
            # each call spawns one worker while none is idle
            started = [pool.submit(os.getpid) for _ in range(workers)]
            wait(started, return_when=FIRST_COMPLETED)
        except RuntimeError:  # shut down meanwhile (nothing to read after all)
            pass
        finally:
            pool.ready.set()

    threading.Thread(target=spawn, name="wiretrace-pool-start", daemon=True).start()
    return pool


def _start_worker(pid: int) -> None:
    """Worker initializer: what the worker inherited from the fork server (modules,
    tables, models) is moved out of the garbage collector's sight (``gc.freeze``), and
    collections run less often: a worker makes thousands of short-lived objects per job,
    none in a cycle, and each full collection would walk the inherited ones again."""
    import gc

    gc.freeze()
    gc.set_threshold(50_000, *gc.get_threshold()[1:])
    _watch_parent(pid)


def _watch_parent(pid: int) -> None:
    """Exit as soon as the ingesting process ``pid`` is gone.

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


class Pool(ProcessPoolExecutor):
    """A pool of ingest workers; ``ready`` is set once one of them has started (or
    the start failed): what the caller may do before then costs the workers nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ready = threading.Event()


def _new_pool(workers: int) -> Pool:
    import multiprocessing

    # forkserver: DuckDB's threads run in this process, and forking a threaded process
    # is unsafe; the server preloads the readers and their models (ingest.preload) so
    # each worker starts warm and they share one copy. The parent's main module, which
    # every child would otherwise import again, is preloaded there too (the `wiretrace`
    # command's is the light wiretrace.__main__; a library user's script may not be).
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(
        ["__main__", "wiretrace.ingest.work", "wiretrace.ingest.textfile",
         "wiretrace.ingest.tables", "wiretrace.ingest.preload"]
    )
    return Pool(
        max_workers=workers,
        mp_context=ctx,
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )


def _run_pooled(
    jobs: Iterator[Job],
    srcs: list[SourceInput],
    settings: IngestSettings,
    workers: int,
    started: ProcessPoolExecutor | None,
    rows: bool = False,
) -> Iterator[tuple[Job, Any]]:
    from concurrent.futures.process import BrokenProcessPool

    pool = started if started is not None else _new_pool(workers)
    pending: deque[tuple[Job, Future[Any] | None]] = deque()

    def submit(job: Job) -> None:
        if job.kind == "done":
            pending.append((job, None))
        else:
            pending.append((job, pool.submit(_run_packed, job, settings, rows)))

    try:
        exhausted = False
        while not exhausted or pending:
            while not exhausted and len(pending) < IN_FLIGHT_PER_WORKER * workers:
                job = next(jobs, None)
                if job is None:
                    exhausted = True
                else:
                    submit(job)
            if not pending:
                break
            job, future = pending.popleft()
            if future is None:
                yield job, job.result
                continue
            try:
                result = _unpacked(job, future.result())
            except BrokenProcessPool:
                log.warning("an ingest worker process died; restarting the pool")
                result = _failed(job, srcs, "worker process died while reading")
                retry = list(pending)
                pending.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = _new_pool(workers)
                for again, _ in retry:
                    submit(again)
            yield job, result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

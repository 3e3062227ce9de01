"""The local engine's process pool for the per-pair alignment kernel.

The kernel (:func:`wiretrace.detect.align.align_sequences`) is pure; this module only
decides where it runs: in-process for few pairs (no pool start-up), else a pool of
``detect.workers`` processes (0: one per core). Every worker receives the prepared
articles once (pool initializer), then only pairs of ids travel, in chunks. Results come
back in input order, so output does not depend on scheduling.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wiretrace.detect.align import align_sequences
from wiretrace.detect.edits import EntityLookup
from wiretrace.models import Passage, Span
from wiretrace.processes import workers_can_start
from wiretrace.settings import Settings
from wiretrace.text.tokens import TokenSeq

if TYPE_CHECKING:
    from wiretrace.engines.base import EngineResult, RunRequest
    from wiretrace.progress import Progress

__all__ = ["LocalEngine", "Prepared", "align_many", "worker_count"]

log = logging.getLogger(__name__)

#: Called with (pairs done, pairs total) as chunks finish.
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Prepared:
    """One article as the kernel needs it: text, normalised body tokens, sentences."""

    text: str
    seq: TokenSeq
    sentences: tuple[Span, ...]


_STATE: dict[str, object] = {}


def _init(
    prepared: Mapping[str, Prepared], settings: Settings, aliases: EntityLookup | None
) -> None:
    _STATE["prepared"] = prepared
    _STATE["settings"] = settings
    _STATE["aliases"] = aliases


def _align_one(
    x: Prepared, y: Prepared, settings: Settings, aliases: EntityLookup | None
) -> list[Passage]:
    return align_sequences(
        x.text, x.seq, x.sentences, y.text, y.seq, y.sentences, settings, aliases
    )


def _run_chunk(chunk: Sequence[tuple[str, str]]) -> list[list[Passage]]:
    prepared: Mapping[str, Prepared] = _STATE["prepared"]  # type: ignore[assignment]
    settings: Settings = _STATE["settings"]  # type: ignore[assignment]
    aliases: EntityLookup | None = _STATE["aliases"]  # type: ignore[assignment]
    return [_align_one(prepared[a], prepared[b], settings, aliases) for a, b in chunk]


def worker_count(settings: Settings) -> int:
    """Processes to use: ``detect.workers``, or one per available core when 0 (one
    when no worker process can start, see :mod:`wiretrace.processes`)."""
    if not workers_can_start():
        return 1
    if settings.detect.workers > 0:
        return settings.detect.workers
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def align_many(
    pairs: Sequence[tuple[str, str]],
    prepared: Mapping[str, Prepared],
    settings: Settings,
    aliases: EntityLookup | None = None,
    progress: ProgressFn | None = None,
) -> list[list[Passage]]:
    """Passages for each ``(a, b)`` id pair (a's offsets on the source side), in order.

    Runs in-process when there are fewer than ``detect.parallel_min_pairs`` pairs or one
    worker; otherwise in a process pool (spawned, so no DuckDB thread is forked).
    """
    total = len(pairs)
    workers = worker_count(settings)
    if total < settings.detect.parallel_min_pairs or workers <= 1:
        out: list[list[Passage]] = []
        for k, (a, b) in enumerate(pairs, 1):
            out.append(_align_one(prepared[a], prepared[b], settings, aliases))
            if progress is not None and (k % 64 == 0 or k == total):
                progress(k, total)
        return out
    # only the articles the pairs touch travel to the workers
    needed = {x for pair in pairs for x in pair}
    subset = {k: v for k, v in prepared.items() if k in needed}
    size = max(8, min(256, total // (workers * 8) or 1))
    chunks = [pairs[i : i + size] for i in range(0, total, size)]
    log.info("aligning %d pairs on %d processes (%d chunks)", total, workers, len(chunks))
    results: list[list[Passage]] = []
    done = 0
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init, initargs=(subset, settings, aliases)
    ) as pool:
        for chunk, chunk_result in zip(chunks, pool.map(_run_chunk, chunks), strict=True):
            results.extend(chunk_result)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    return results


class LocalEngine:
    """The ``local`` engine (:class:`wiretrace.engines.base.Engine`): ingest into the
    store, then detection over it (DuckDB plan, this process pool). No checkpoints:
    the store is the state (a run resumes by skipping stored, unchanged articles and
    current pairs). ``--stop-after ingest`` skips detection; other stages are not
    separate here."""

    name = "local"

    def run(self, request: RunRequest, progress: Progress | None = None) -> EngineResult:
        from wiretrace.collection import open_collection
        from wiretrace.engines.base import EngineResult, check_stage
        from wiretrace.errors import ConfigError

        stop = check_stage(request.stop_after)
        if stop not in (None, "ingest", "attribute"):
            raise ConfigError(f"--stop-after {stop}: the local engine stops only after ingest")
        with open_collection(request.db, request.settings) as coll:
            if stop == "ingest":
                summary = coll.ingest(request.paths, progress)
                return EngineResult(self.name, summary, {"ingest": "ran"}, None, coll.path)
            run = coll.run(request.paths, progress)
            pairs = len(run.pairs) if run.detected else None
            return EngineResult(self.name, run.ingest, {}, pairs, coll.path)

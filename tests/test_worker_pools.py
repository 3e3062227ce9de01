"""Worker pools that must not inherit the store process's memory.

The process that runs detection and stories holds DuckDB's buffers and the index
update's leftovers (gigabytes at a million articles: bench/README.md, "Memory per
process"). A worker forked from it maps all of that, and every page the parent rewrites
meanwhile is copied for the worker, so such a pool's memory grows with the collection.
These tests look at the real worker processes (Linux ``/proc``) while they work.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from wiretrace.analyze.story_vectors import TermCounter

BBC = Path(__file__).resolve().parents[2] / "shared" / "data" / "bbc-news"

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads worker processes from /proc"
)


def _children() -> list[int]:
    """Ids of this process's child processes."""
    me = os.getpid()
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2 :].split()[1]) == me:
            found.append(int(stat.parent.name))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _bbc_items(n: int) -> list[tuple[str, str | None]]:
    """(body, title) of ``n`` real BBC articles (first line: the title)."""
    items: list[tuple[str, str | None]] = []
    for path in sorted(BBC.glob("*/*.txt"))[:n]:
        title, _, body = path.read_text(encoding="utf-8").partition("\n")
        items.append((body.strip(), title.strip()))
    return items


def test_story_counting_workers_are_not_forks_of_the_caller() -> None:
    """TermCounter's workers are fresh interpreters (spawned), not copies of the caller:
    a forked worker runs the caller's own command line. Counts are unchanged."""
    items = _bbc_items(60)
    assert len(items) == 60
    before = set(_children())
    with TermCounter(workers=2, chunk=10) as counter:
        counter.add(items)
        counts = counter.result()
        workers = [pid for pid in _children() if pid not in before]
        lines = [_cmdline(pid) for pid in workers]
    workers_seen = [line for line in lines if line]
    assert workers_seen, "the counter started no worker process"
    mine = _cmdline(os.getpid())
    assert all(line != mine for line in workers_seen)
    assert all(b"multiprocessing" in line for line in workers_seen)
    with TermCounter(workers=1, chunk=10) as here:  # the same chunks, in this process
        here.add(items)
        alone = here.result()
    # local term ids depend on each process's string hashing; the terms do not
    assert np.array_equal(counts.indptr, alone.indptr)
    for got, want in ((counts.hashes[counts.local], alone.hashes[alone.local]),
                      (counts.counts, alone.counts)):
        assert np.array_equal(got, want)

"""Memory of an update step's attribution (``_finalise``) on a kept store, by batch size.

Re-attributes, as an update step does, every stored pair touching the articles whose id
is at least ``--from`` (the last step of a ``bench_detect.py --keep`` run: its new
articles are the highest ids), with ``detect.attribute_batch`` = each ``--batch`` value,
each in a fresh process, inside a transaction that is rolled back (the store is left as
it was). Prints, per batch size: pairs re-attributed, batches, seconds, the process's
resident size before and its peak during the step (``VmHWM``, reset just before), and
DuckDB's own account at the end (``duckdb_memory()``, before the rollback); with
``--trace``, also the peak of Python's heap (``tracemalloc``: slower, and it inflates
the resident size, so it is a separate run).

Run: ``python bench/bench_finalise.py --db STORE --from a0050000 --batch 0,10000``
(0: the whole step in one batch).
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path


def _status() -> dict[str, int]:
    """VmRSS and VmHWM of this process, in MB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) // 1024
    return out


def measure(db: Path, first: str, batch: int, trace: bool) -> dict[str, object]:
    """One re-attribution of the pairs touching ids >= ``first``, rolled back."""
    from wiretrace import open_collection
    from wiretrace.engines import incremental
    from wiretrace.settings import load_settings

    settings = load_settings({"detect.attribute_batch": batch or 10**12})
    with open_collection(db, settings) as coll:
        store, con = coll.store, coll.store.connection
        incremental.configure(store, settings)
        touched = {
            str(r[0])
            for r in con.execute(
                "SELECT source FROM aligned WHERE passages > 0 AND (source >= ? OR target >= ?) "
                "UNION SELECT target FROM aligned WHERE passages > 0 "
                "AND (source >= ? OR target >= ?)",
                [first] * 4,
            ).fetchall()
        }
        aliases = coll._aliases()
        gc.collect()
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current size
        before = _status()
        if trace:
            tracemalloc.start()
        result = incremental.IndexUpdate()
        started = time.perf_counter()
        con.execute("BEGIN TRANSACTION")
        try:
            incremental._finalise(store, settings, aliases, set(), set(), touched, result)
            seconds = time.perf_counter() - started
            after = _status()
            duck = con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchall()
        finally:
            con.execute("ROLLBACK")
    return {
        "batch": batch,
        "touched_articles": len(touched),
        "pairs": result.finalised,
        "batches": result.attribute_batches,
        "seconds": round(seconds, 1),
        "rss_before_mb": before["VmRSS"],
        "rss_peak_mb": after["VmHWM"],
        "duckdb_mb": int(duck[0][0] or 0) // 2**20,
        "python_heap_peak_mb": tracemalloc.get_traced_memory()[1] // 2**20 if trace else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--db", type=Path, required=True, help="a kept store (bench_detect --keep)")
    ap.add_argument("--from", dest="first", required=True, help="lowest id of the step")
    ap.add_argument("--batch", default="0,10000", help="detect.attribute_batch values (0: all)")
    ap.add_argument("--trace", action="store_true", help="also Python's heap peak")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child: one measurement
    args = ap.parse_args(argv)
    if args.one is not None:
        print(json.dumps(measure(args.db, args.first, args.one, args.trace)))
        return 0
    for batch in (int(b) for b in args.batch.split(",")):
        cmd = [sys.executable, __file__, "--db", str(args.db), "--from", args.first,
               "--one", str(batch), *(["--trace"] if args.trace else [])]  # fmt: skip
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode:
            print(out.stderr.strip().splitlines()[-1], file=sys.stderr)
            return 1
        print(out.stdout.strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

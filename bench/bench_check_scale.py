"""``check`` latency against an index the size of 10^6 articles, built by scaling a real
store's postings.

Takes a store written by ``bench_detect.py --keep`` (say 100,000 articles, fully
analysed) and adds ``--factor - 1`` shadow copies of its ``postings``: every hash and
article key XOR-ed with a per-copy salt, so the copies never match a real query and
point to no stored article. The ``postings`` table (and its ART index on ``hash``) then
has the row count and key spread of a collection ``--factor`` times larger, while the
articles a query can really match stay the real ones. Then 1,000 stored articles are
checked in-process (``Collection.check``, warm), each under its own id (after
``check_hot``, the groups of the much-shared fingerprints, is recomputed for the scaled
postings, as an index update would), and with
``--http`` posted to ``POST /api/check`` on ``wiretrace serve`` (as text: the stored copy
is then found too). Wall and CPU time are both reported: on a shared machine the wall
time also counts the waits for a core.

This measures what grows with the collection (the index lookup and the candidate
bookkeeping); the alignment work per query depends on how many stored articles really
share text with it, which the real part of the store decides.

Run: ``python bench/bench_check_scale.py --db STORE --factor 10 [--http]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import duckdb


def scale(db: Path, factor: int) -> dict[str, float]:
    con = duckdb.connect(str(db))
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET temp_directory = '{db}.tmp'")
    real = con.execute("SELECT count(*) FROM postings").fetchall()[0][0]
    t0 = time.perf_counter()
    con.execute("DROP INDEX IF EXISTS postings_hash")
    for k in range(1, factor):
        salt = random.Random(k).getrandbits(62) | 1
        con.execute(
            "INSERT INTO postings SELECT xor(hash, $s), xor(article, $s) FROM postings "
            "WHERE article IN (SELECT article FROM indexed)",
            {"s": salt},
        )
        print(f"shadow copy {k}/{factor - 1}", file=sys.stderr, flush=True)
    t1 = time.perf_counter()
    con.execute("CREATE INDEX postings_hash ON postings (hash)")
    t2 = time.perf_counter()
    rows = con.execute("SELECT count(*) FROM postings").fetchall()[0][0]
    con.close()
    return {
        "real_postings": real,
        "postings": rows,
        "insert_seconds": round(t1 - t0, 1),
        "index_seconds": round(t2 - t1, 1),
        "db_mb": round(sum(f.stat().st_size for f in db.parent.glob(db.name + "*")) / 2**20),
    }


def refresh_hot(db: Path) -> dict[str, float]:
    """Bring the store to the current schema and its ``check_hot`` table up to date with
    the (scaled) postings, as an index update leaves it (seconds taken; 0 when current)."""
    from wiretrace import open_collection
    from wiretrace.engines import check_hot

    with open_collection(db) as col:
        con = col.store.connection
        if check_hot.load(con, col.settings) is not None:
            return {"check_hot_seconds": 0.0}
        t0 = time.perf_counter()
        with col.store.transaction():
            check_hot.refresh(con, col.settings)
        rows = con.execute("SELECT count(*) FROM check_hot").fetchall()[0][0]
        return {"check_hot_seconds": round(time.perf_counter() - t0, 1), "check_hot_rows": rows}


def chosen_ids(db: Path, queries: int) -> list[str]:
    """``queries`` stored articles, drawn at random (seed 1)."""
    from wiretrace import open_collection

    with open_collection(db, read_only=True) as col:
        ids = [r[0] for r in col.store.connection.execute("SELECT id FROM indexed").fetchall()]
    return random.Random(1).sample(sorted(ids), min(queries, len(ids)))


def latency(db: Path, chosen: list[str], warm_ids: Sequence[str] = ()) -> dict[str, float]:
    """Latency of checking each of ``chosen`` (each under its own id), after checking
    ``warm_ids`` (other stored articles, not measured: a server that has been answering
    for a while, with the index pages its queries touch in memory)."""
    from wiretrace import open_collection

    with open_collection(db, read_only=True) as col:
        articles = col.store.articles_by_id([*chosen, *warm_ids])
        t0 = time.perf_counter()
        col.check(articles[chosen[0]])  # warm-up: loads the alias table and the index
        warm = time.perf_counter() - t0
        for i in warm_ids:
            col.check(articles[i])
        samples = []
        cpu = []
        split: dict[bool, list[float]] = {True: [], False: []}
        for i in chosen:
            c = time.process_time()
            t = time.perf_counter()
            paired = bool(col.check(articles[i]))
            samples.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            split[paired].append(samples[-1])
    samples.sort()
    cpu.sort()
    return {
        "queries": len(samples),
        "with_pairs": len(split[True]),
        # queries that found nothing cost the index lookup only; the others add the
        # alignment and attribution of their candidates
        "p50_ms_without_pairs": round(statistics.median(split[False]), 2) if split[False] else 0,
        "p95_ms_without_pairs": _p95(split[False]),
        "p50_ms_with_pairs": round(statistics.median(split[True]), 2) if split[True] else 0,
        "p95_ms_with_pairs": _p95(split[True]),
        "first_ms": round(warm * 1000, 1),
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
        "max_ms": round(samples[-1], 2),
        # CPU time of the process (DuckDB's threads included): what the wall time would
        # be on an idle machine, where no query waits for a core
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "cpu_p95_ms": _p95(cpu),
        "load_avg_1min": round(os.getloadavg()[0], 1),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2) if ordered else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--factor", type=int, default=10)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--skip-scale", action="store_true", help="the store is scaled already")
    ap.add_argument("--warm", type=int, default=0, metavar="N",
                    help="first check N other stored articles, unmeasured (a warm server)")
    ap.add_argument("--http", action="store_true",
                    help="also POST /api/check on `wiretrace serve` (bench_detect.py's client)")
    args = ap.parse_args(argv)
    out: dict[str, object] = {}
    if not args.skip_scale:
        out["scale"] = scale(args.db, args.factor)
    out["check_hot"] = refresh_hot(args.db)
    drawn = chosen_ids(args.db, args.queries + args.warm)
    chosen, warm_ids = drawn[: args.queries], drawn[args.queries :]
    measured = latency(args.db, chosen, warm_ids)
    if warm_ids:
        measured["warmed_by"] = len(warm_ids)
    out["check_python"] = measured
    if args.http:
        from bench_detect import check_latency_http

        out["check_http"] = check_latency_http(args.db, chosen, warm_ids)
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

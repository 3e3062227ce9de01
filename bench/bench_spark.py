"""The Spark engine on ``local[2]`` against the local engine, on the same generated corpus.

For each size, ``bench/corpus.py`` writes a collection with planted reuse (reused when
already there), then each engine runs in a fresh process on its ``articles.jsonl``:

- local: ``wiretrace run articles.jsonl --db local.duckdb`` (DuckDB + process pool);
- spark: ``wiretrace run articles.jsonl --engine spark --master local[2] --out ck``
  (Parquet checkpoints only, no DuckDB load; the load is timed apart with ``--db``
  on the finished checkpoints, which skips every stage).

Prints wall time, peak RSS of the process tree's main process (the Spark JVM is a child:
its memory is not in that figure), the Spark stages' own seconds (from the checkpoint
markers), and whether both engines found the same (source, target) pairs.

Run: ``python bench/bench_spark.py --sizes 10000 100000 --work bench/out/spark``.
The machine's two cores are shared with other jobs: figures vary by tens of percent.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("ingest", "normalize", "fingerprint", "candidates", "align", "attribute")


def _corpus(size: int, work: Path) -> Path:
    folder = work / f"c{size}"
    if not (folder / "articles.jsonl").is_file():
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "corpus.py"), "--articles", str(size),
             "--out", str(folder)],
            check=True, stdout=subprocess.DEVNULL,
        )
    return folder / "articles.jsonl"


def _timed(cmd: list[str], log: Path) -> tuple[float, float, int]:
    """(seconds, peak RSS of the direct child in MB, exit code)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, check=False,
                              env={**os.environ, "PYSPARK_PYTHON": sys.executable})
    seconds = time.perf_counter() - t0
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return seconds, peak, proc.returncode


def _local_pairs(db: Path) -> set[tuple[str, str]]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return {(s, t) for s, t in con.execute("SELECT source, target FROM pairs").fetchall()}
    finally:
        con.close()


def _spark_pairs(out: Path) -> set[tuple[str, str]]:
    import duckdb

    files = str(out / "attribute" / "pairs" / "*.parquet")
    rows = duckdb.sql(f"SELECT source, target FROM read_parquet('{files}')").fetchall()
    return {(s, t) for s, t in rows}


def _join_rows(out: Path, max_df: int = 1000) -> int:
    """Rows the candidate self-join makes before grouping: sum over kept hashes of
    df * (df - 1) / 2 (on articles, before near-duplicate groups collapse)."""
    import duckdb

    files = str(out / "fingerprint" / "postings" / "*.parquet")
    value = duckdb.sql(
        f"SELECT sum(df * (df - 1) / 2) FROM (SELECT hash, count(DISTINCT article) AS df "
        f"FROM read_parquet('{files}') GROUP BY hash) WHERE df <= {max_df}"
    ).fetchall()[0][0]
    return int(value or 0)


def bench(
    size: int, work: Path, master: str, partitions: int, uri: bool = False
) -> dict[str, object]:
    articles = _corpus(size, work)
    run_dir = work / f"run{size}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    exe = [shutil.which("wiretrace") or "wiretrace"]
    local_db = run_dir / "local.duckdb"
    local_s, local_mb, rc = _timed([*exe, "run", str(articles), "--db", str(local_db)],
                                   run_dir / "local.log")
    if rc:
        raise SystemExit(f"local run failed, see {run_dir / 'local.log'}")
    out = run_dir / "ck"
    spark_input = f"file://{articles.resolve()}" if uri else str(articles)
    spark_cmd = [*exe, "run", spark_input, "--engine", "spark", "--master", master,
                 "--out", str(out), "--set", f"spark.shuffle_partitions={partitions}"]
    spark_s, spark_mb, rc = _timed(spark_cmd, run_dir / "spark.log")
    if rc:
        raise SystemExit(f"spark run failed, see {run_dir / 'spark.log'}")
    load_s, _, rc = _timed([*spark_cmd, "--db", str(run_dir / "spark.duckdb")],
                           run_dir / "load.log")
    stages = {}
    for stage in STAGES:
        info = json.loads((out / stage / "_STAGE_DONE.json").read_text())
        stages[stage] = info.get("seconds")
    cand = json.loads((out / "candidates" / "_STAGE_DONE.json").read_text())
    fp = json.loads((out / "fingerprint" / "_STAGE_DONE.json").read_text())
    aligned = json.loads((out / "align" / "_STAGE_DONE.json").read_text())
    lp, sp = _local_pairs(local_db), _spark_pairs(out)
    return {
        "articles": size,
        "spark_input": "uri" if uri else "path",
        "local_s": round(local_s, 1),
        "local_rss_mb": round(local_mb),
        "spark_s": round(spark_s, 1),
        "spark_driver_rss_mb": round(spark_mb),
        "spark_load_s": round(load_s, 1),
        "spark_stage_s": stages,
        "postings": fp["postings"],
        "join_rows": _join_rows(out),
        "candidates": cand["pairs"],
        "aligned_pairs": aligned.get("pairs"),
        "pairs_local": len(lp),
        "pairs_spark": len(sp),
        "same_pairs": lp == sp,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "spark")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--partitions", type=int, default=8,
                        help="spark.shuffle_partitions for the Spark runs")
    parser.add_argument("--uri", action="store_true",
                        help="give Spark the corpus as a file:// URI (Spark splits the "
                        "file; else wiretrace's reader reads it in one task)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.sizes:
        row = bench(size, args.work, args.master, args.partitions, args.uri)
        print(json.dumps(row), flush=True)
        rows.append(row)
    print("\n| articles | local s | spark s (to Parquet) | + load s | faster | same pairs |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        ratio = float(r["spark_s"]) / float(r["local_s"])  # type: ignore[arg-type]
        faster = f"local x{ratio:.1f}" if ratio > 1 else f"spark x{1 / ratio:.1f}"
        print(f"| {r['articles']:,} | {r['local_s']} | {r['spark_s']} | {r['spark_load_s']} "
              f"| {faster} | {r['same_pairs']} ({r['pairs_local']}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

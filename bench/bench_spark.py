"""The Spark engine on ``local[2]`` against the local engine, on the same generated corpus.

For each size, ``bench/corpus.py`` writes a collection with planted reuse (reused when
already there), then each engine runs in a fresh process on its ``articles.jsonl``:

- local: ingest + ``Collection.update`` + stories into ``local.duckdb`` (what
  ``wiretrace run articles.jsonl --db local.duckdb`` does), with the incremental
  index's own stage seconds;
- spark: ``wiretrace run articles.jsonl --engine spark --master local[2] --out ck``
  (Parquet checkpoints only, no DuckDB load; the load is timed apart with ``--db``
  on the finished checkpoints, which skips every stage).

For each run: wall seconds, CPU seconds of the whole process tree (the Spark JVM and
Python workers included), peak memory of the process tree (PSS summed over its
processes, sampled every second; forked workers' shared pages counted once), the load
average during the run (the machine is shared), the stages' own seconds, and how far
both engines' results agree: pairs, passages and edits, row for row and column for
column (:func:`parity`).

Each engine's figures are kept in ``WORK/run<N>/<engine>.json``, so the engines can be
run apart (``--engines local``, later ``--engines spark``) and ``--report`` prints
what is there.

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
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("ingest", "normalize", "fingerprint", "candidates", "align", "attribute")
ENGINES = ("local", "spark")
_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICK = os.sysconf("SC_CLK_TCK")


def _corpus(size: int, work: Path) -> Path:
    folder = work / f"c{size}"
    if not (folder / "articles.jsonl").is_file():
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "corpus.py"), "--articles", str(size),
             "--out", str(folder)],
            check=True, stdout=subprocess.DEVNULL,
        )
    return folder / "articles.jsonl"


class _Tree:
    """Samples a process tree every ``every`` seconds from /proc: the peak of the
    summed RSS, the CPU seconds of every process seen (its last reading), the load
    average."""

    def __init__(self, root: int, every: float = 1.0) -> None:
        self.root = root
        self.every = every
        self.peak_mb = 0.0
        self.cpu: dict[int, float] = {}
        self.loads: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
        out, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, ()))
        return out

    @staticmethod
    def _memory(pid: int) -> int:
        """Bytes a process holds: its PSS (shared pages split between the processes
        sharing them, so forked workers are not counted twice), else its RSS."""
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE

    def _sample(self) -> None:
        rss = 0
        for pid in self._tree():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                rss += self._memory(pid)
            except (OSError, IndexError, ValueError):
                continue
            self.cpu[pid] = (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime
        self.peak_mb = max(self.peak_mb, rss / 2**20)
        self.loads.append(os.getloadavg()[0])

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _timed(cmd: list[str], log: Path) -> dict[str, float]:
    """Runs ``cmd`` (output to ``log``): wall and CPU seconds, peak RSS of the tree,
    load average (mean and max of the samples), exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYSPARK_PYTHON": sys.executable})
        tree = _Tree(proc.pid)
        rc = proc.wait()
        tree.stop()
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    reaped = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    loads = tree.loads or [os.getloadavg()[0]]
    return {
        "wall_s": round(seconds, 1),
        # processes reaped by their parents are in rusage; the JVM may not be: the
        # larger of that and the sampled tree
        "cpu_s": round(max(reaped, sum(tree.cpu.values())), 1),
        "peak_rss_mb": round(tree.peak_mb),
        "load_mean": round(sum(loads) / len(loads), 1),
        "load_max": round(max(loads), 1),
        "rc": rc,
    }


def _local_driver(db: str, articles: str) -> None:
    """What ``wiretrace run`` does on the local engine, with each stage's seconds."""
    from wiretrace.collection import open_collection

    with open_collection(db) as coll:
        t0 = time.perf_counter()
        coll.ingest([articles])
        t1 = time.perf_counter()
        done = coll.update()
        t2 = time.perf_counter()
        coll.update_stories()
        t3 = time.perf_counter()
        print(json.dumps({
            "stage_s": {
                "ingest": round(t1 - t0, 1),
                **{k: round(v, 1) for k, v in done.seconds.items()},
                "update": round(t2 - t1, 1),
                "stories": round(t3 - t2, 1),
            },
            # pairs of stories (near-duplicate groups, or articles in none) the candidate
            # step found, summed over the index steps; pairs aligned; final pairs
            "candidate_story_pairs": done.candidates,
            "aligned_pairs": done.aligned,
            "pairs": coll.store.count_pairs(),
        }))


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


def run_local(articles: Path, run_dir: Path) -> dict[str, object]:
    db = run_dir / "local.duckdb"
    for old in (db, Path(f"{db}.wal"), Path(f"{db}.tmp")):
        if old.is_dir():
            shutil.rmtree(old)
        elif old.exists():
            old.unlink()
    log = run_dir / "local.log"
    cmd = [sys.executable, __file__, "--local-driver", str(db), str(articles)]
    row: dict[str, object] = {"engine": "local", **_timed(cmd, log)}
    if row["rc"]:
        raise SystemExit(f"local run failed, see {log}")
    row.update(json.loads(log.read_text().strip().splitlines()[-1]))
    return row


def run_spark(
    articles: Path, run_dir: Path, master: str, partitions: int, uri: bool
) -> dict[str, object]:
    exe = [shutil.which("wiretrace") or "wiretrace"]
    out = run_dir / "ck"
    shutil.rmtree(out, ignore_errors=True)
    spark_db = run_dir / "spark.duckdb"
    spark_db.unlink(missing_ok=True)
    spark_input = f"file://{articles.resolve()}" if uri else str(articles)
    spark_cmd = [*exe, "run", spark_input, "--engine", "spark", "--master", master,
                 "--out", str(out), "--set", f"spark.shuffle_partitions={partitions}"]
    row: dict[str, object] = {"engine": "spark", "master": master, "partitions": partitions,
                              "input": "uri" if uri else "path",
                              **_timed(spark_cmd, run_dir / "spark.log")}
    if row["rc"]:
        raise SystemExit(f"spark run failed, see {run_dir / 'spark.log'}")
    row["load"] = _timed([*spark_cmd, "--db", str(spark_db)], run_dir / "load.log")
    info = {s: json.loads((out / s / "_STAGE_DONE.json").read_text()) for s in STAGES}
    row["stage_s"] = {s: info[s].get("seconds") for s in STAGES}
    row["postings"] = info["fingerprint"]["postings"]
    row["join_rows"] = _join_rows(out)
    # the candidates stage's ``pairs`` are pairs of stories (a near-duplicate group, or
    # an article in none), not of articles
    row["candidate_story_pairs"] = info["candidates"]["pairs"]
    row["grouped_articles"] = info["candidates"].get("grouped")
    row["aligned_pairs"] = info["align"].get("pairs")
    row["aligned_with_passages"] = info["align"].get("aligned")
    row["pairs"] = info["attribute"].get("pairs")
    return row


_COLUMNS = {
    "pairs": "source, target, origin_confidence, evidence, credited, credit, credited_to, "
             "source_coverage, target_coverage, passage_count",
    "passages": "source, target, passage, source_start, source_end, target_start, "
                "target_end, source_text, target_text, similarity, origin, source_words, "
                "target_words",
    "edits": "source, target, passage, edit, op, source_start, source_end, target_start, "
             "target_end, source_text, target_text, kind",
}


def parity(run_dir: Path) -> dict[str, object] | None:
    """How far the two engines' results agree, table by table (the local store's
    ``pairs``, ``passages`` and ``edits`` against the Spark run's Parquet tables of the
    same schema): rows in each, rows identical in every column, and for pairs how many
    (source, target) are only in one, or in both with another origin, evidence or
    credit."""
    import duckdb

    db, out = run_dir / "local.duckdb", run_dir / "ck" / "attribute"
    if not db.exists() or not out.exists():
        return None
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{db}' AS loc (READ_ONLY)")
        result: dict[str, object] = {}
        for table, cols in _COLUMNS.items():
            con.execute(f"CREATE TEMP VIEW s_{table} AS SELECT {cols} FROM "
                        f"read_parquet('{out / table / '*.parquet'}')")
            con.execute(f"CREATE TEMP VIEW l_{table} AS SELECT {cols} FROM loc.{table}")
            local, spark, same = con.execute(
                f"SELECT (SELECT count(*) FROM l_{table}), (SELECT count(*) FROM s_{table}), "
                f"(SELECT count(*) FROM (SELECT * FROM l_{table} INTERSECT ALL "
                f"SELECT * FROM s_{table}))"
            ).fetchall()[0]
            result[table] = {"local": local, "spark": spark, "identical": same}
        only_local, only_spark, changed = con.execute(
            "WITH l AS (SELECT DISTINCT source, target FROM l_pairs), "
            "s AS (SELECT DISTINCT source, target FROM s_pairs) "
            "SELECT (SELECT count(*) FROM (SELECT * FROM l EXCEPT SELECT * FROM s)), "
            "(SELECT count(*) FROM (SELECT * FROM s EXCEPT SELECT * FROM l)), "
            "(SELECT count(*) FROM l_pairs JOIN s_pairs USING (source, target) WHERE "
            "l_pairs.origin_confidence IS DISTINCT FROM s_pairs.origin_confidence OR "
            "l_pairs.evidence IS DISTINCT FROM s_pairs.evidence OR "
            "l_pairs.credit IS DISTINCT FROM s_pairs.credit OR "
            "l_pairs.credited_to IS DISTINCT FROM s_pairs.credited_to)"
        ).fetchall()[0]
    finally:
        con.close()
    pairs = result["pairs"]
    assert isinstance(pairs, dict)
    pairs.update(only_local=only_local, only_spark=only_spark,
                 other_origin_evidence_or_credit=changed)
    result["identical_results"] = all(
        isinstance(t, dict) and t["local"] == t["spark"] == t["identical"]
        for t in (result[k] for k in _COLUMNS)
    )
    return result


def bench(size: int, work: Path, engines: list[str], master: str, partitions: int,
          uri: bool) -> dict[str, object]:
    articles = _corpus(size, work)
    run_dir = work / f"run{size}"
    run_dir.mkdir(parents=True, exist_ok=True)
    for engine in engines:
        row = (run_local(articles, run_dir) if engine == "local"
               else run_spark(articles, run_dir, master, partitions, uri))
        (run_dir / f"{engine}.json").write_text(json.dumps(row, indent=1))
        print(json.dumps(row), flush=True)
    return report(size, work)


def report(size: int, work: Path) -> dict[str, object]:
    run_dir = work / f"run{size}"
    rows: dict[str, object] = {"articles": size}
    for engine in ENGINES:
        path = run_dir / f"{engine}.json"
        if path.is_file():
            rows[engine] = json.loads(path.read_text())
    rows["parity"] = parity(run_dir)
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--local-driver"]:
        _local_driver(argv[1], argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "spark")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES),
                        help="engines to run (each keeps its figures in WORK/run<N>/)")
    parser.add_argument("--report", action="store_true",
                        help="run nothing: print the figures kept in WORK")
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
        row = (report(size, args.work) if args.report
               else bench(size, args.work, args.engines, args.master, args.partitions,
                          args.uri))
        print(json.dumps(row), flush=True)
        rows.append(row)
    print("\n| articles | engine | wall s | CPU s | peak RSS MB | load avg | stages s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        for engine in ENGINES:
            e = r.get(engine)
            if isinstance(e, dict):
                stages = ", ".join(f"{k} {v}" for k, v in e["stage_s"].items()
                                   if isinstance(v, int | float))
                print(f"| {r['articles']:,} | {engine} | {e['wall_s']} | {e['cpu_s']} "
                      f"| {e['peak_rss_mb']} | {e['load_mean']} | {stages} |")
        par = r["parity"]
        if isinstance(par, dict):
            for table in _COLUMNS:
                t = par[table]
                print(f"{table}: local {t['local']:,}, spark {t['spark']:,}, identical in "
                      f"every column {t['identical']:,}")
            p = par["pairs"]
            print(f"pairs only local {p['only_local']}, only spark {p['only_spark']}, in both "
                  f"with another origin, evidence or credit "
                  f"{p['other_origin_evidence_or_credit']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

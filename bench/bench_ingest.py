"""Plain-text and JSONL ingest speed, end to end through ``Collection.ingest``.

The corpus is generated into a temporary folder from the BBC articles
(../shared/data/bbc-news): ``--articles`` articles (default 20,000), each a BBC article
whose paragraphs are rotated by a per-copy offset and tagged with a serial line, so every
article is distinct (no two share a content hash) while keeping real length and
vocabulary. The same articles are written twice: as ``.txt`` files in 100 subfolders,
and as one ``articles.jsonl`` (id, title, text).

Each run ingests into a fresh store file and times the whole ``Collection.ingest`` call
(discovery, reading, parsing, metadata, language, word counts, the DuckDB writes), and
beside it the close of the store (the checkpoint that folds the log into the file),
then a second ingest of the same input (everything unchanged: the re-run cost, where
unchanged files are skipped on their recorded size, time and digest).

Prints articles/s per run (wall clock); the CPU seconds of this process (the one that
writes the store, its close included) and of the worker processes (which parse), and
from them the CPU cost per article and the rate the run would have on two otherwise
idle cores (``2 / cost``, an upper bound: it assumes both cores kept busy); the load
average before and after the run (wall-clock figures mean little on a shared, busy
machine); and the peak resident memory of this process and of its workers
(``resource.getrusage``, in MB).

Run: ``python bench/bench_ingest.py [--articles 20000] [--workers 0]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

BBC = Path(__file__).resolve().parents[2] / "shared" / "data" / "bbc-news"


def _bbc_articles() -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for path in sorted(BBC.glob("*/*.txt")):
        text = path.read_bytes().decode("utf-8", "replace")
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) >= 3:
            out.append((lines[0].strip(), lines[1:]))
    return out


def generate(folder: Path, n: int) -> tuple[Path, Path]:
    """Write ``n`` articles as text files and as one JSONL file; returns both paths."""
    base = _bbc_articles()
    text_dir = folder / "text"
    jsonl = folder / "articles.jsonl"
    with jsonl.open("w", encoding="utf-8") as out:
        for i in range(n):
            title, paras = base[i % len(base)]
            shift = (i // len(base)) % len(paras)
            body = paras[shift:] + paras[:shift]
            text = f"{title}\n\n" + "\n\n".join(body) + f"\n\nStory serial {i}.\n"
            sub = text_dir / f"s{i % 100:02d}"
            sub.mkdir(parents=True, exist_ok=True)
            (sub / f"{i:06d}.txt").write_text(text, encoding="utf-8")
            row = {"id": f"a{i:06d}", "title": title, "text": text.split("\n", 1)[1]}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return text_dir, jsonl


def _peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def _children_cpu() -> float:
    """CPU seconds of finished child processes. Pool workers are children of the
    multiprocessing fork server, which reaps them; stopping the server (it restarts on
    demand) brings their time, and the server's own (it preloads the readers and their
    models for them), into this process's account."""
    import multiprocessing.forkserver

    multiprocessing.forkserver._forkserver._stop()  # bench only: a private method
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench(label: str, source: Path, db: Path, workers: int) -> None:
    # Imported here, not at the top: the ingest pool's fork server imports the main
    # module of the process once for its workers, and this script's would otherwise
    # bring the whole library (DuckDB, pyarrow, scipy: ~0.4 s) onto every pool start,
    # which the `wiretrace` command (a light main module) does not pay.
    from wiretrace.collection import open_collection
    from wiretrace.settings import load_settings

    settings = load_settings({"ingest.workers": workers})
    for attempt in ("first", "again"):
        load = os.getloadavg()[0]
        with open_collection(db, settings) as coll:
            children = _children_cpu()
            start = time.perf_counter()
            cpu = time.process_time()
            summary = coll.ingest([source])
            seconds = time.perf_counter() - start
            cpu = time.process_time() - cpu
            worker_cpu = _children_cpu() - children
            load_after = os.getloadavg()[0]
            close_start, close_cpu = time.perf_counter(), time.process_time()
        # Closing folds the store's log into the file (one checkpoint for the ingest):
        # what `wiretrace ingest` does before it exits, so it is shown beside, and its
        # CPU is counted in the cost.
        closing = time.perf_counter() - close_start
        cpu += time.process_time() - close_cpu
        n = summary.articles
        cost = (cpu + worker_cpu) / max(n, 1)
        own, peak_children = _peak_mb()
        print(
            f"{label:6s} {attempt:5s} {n:7,d} articles {seconds:7.2f} s "
            f"{n / seconds:8,.0f} articles/s (with the store's close {closing:.2f} s: "
            f"{n / (seconds + closing):,.0f}/s) | CPU: main {cpu:.2f} s, workers "
            f"{worker_cpu:.2f} s, {cost * 1e6:,.0f} us/article -> {2 / cost:,.0f}/s on 2 idle "
            f"cores | load {load:.1f}-{load_after:.1f} | added {summary.articles_added:,} "
            f"unchanged {summary.unchanged:,} errors {len(summary.errors)} | peak RSS "
            f"{own:,.0f} MB (workers {peak_children:,.0f} MB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=0, help="0: one per core")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        text_dir, jsonl = generate(folder, args.articles)
        print(f"corpus: {args.articles:,} articles in {time.perf_counter() - start:.1f} s")
        bench("text", text_dir, folder / "text.duckdb", args.workers)
        bench("jsonl", jsonl, folder / "jsonl.duckdb", args.workers)


if __name__ == "__main__":
    main()

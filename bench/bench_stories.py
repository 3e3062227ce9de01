"""Stories at scale: a full build over N stored articles, then an incremental update.

Articles come from ``bench/corpus.py`` (generated, or an existing corpus folder with
``--corpus``), are written to a fresh store with ``Store.put_articles`` (setup, not
timed), then ``story_store.update_stories`` runs as ``wiretrace run`` runs it: read the
articles from the store, count terms (worker processes), assign online, merge, save
the story tables. Then ``--new`` more articles are stored and the update runs again
(incremental: loads the stored state, assigns only the new articles, saves the stories
that changed); the script checks that every story id of the first run is kept.

No reuse pairs are stored (detection is measured by ``bench_detect.py``), so stories
come from similarity alone; the planted copies of the corpus (``truth.jsonl``) serve as
a sanity check: the share of planted verbatim/flood copies that share a story.

Run: ``python bench/bench_stories.py --articles 1000000 --new 10000 --corpus DIR``
(``--library`` times the library alone on the corpus: no store, no setup).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from wiretrace.models import Article
from wiretrace.settings import load_settings
from wiretrace.store import Store
from wiretrace.story_store import update_stories


def _records(path: Path, skip: int, limit: int) -> Iterator[Article]:
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n < skip:
                continue
            if n >= skip + limit:
                break
            r = json.loads(line)
            yield Article(
                id=r["id"], text=r["text"], title=r["title"], outlet=r.get("outlet"),
                published=datetime.fromisoformat(r["published"]) if r.get("published") else None,
            )  # fmt: skip


def _store(store: Store, path: Path, skip: int, limit: int, batch: int = 20_000) -> float:
    t0 = time.perf_counter()
    chunk: list[Article] = []
    for art in _records(path, skip, limit):
        chunk.append(art)
        if len(chunk) >= batch:
            store.put_articles(chunk, words=[len(a.text.split()) for a in chunk])
            chunk = []
    if chunk:
        store.put_articles(chunk, words=[len(a.text.split()) for a in chunk])
    return time.perf_counter() - t0


def _cpu(who: int) -> float:
    """User plus system CPU seconds (the machine is shared: wall time depends on load)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _membership(store: Store) -> dict[str, str]:
    t = store.query("SELECT article, story FROM story_articles")
    return dict(zip(t.column("article").to_pylist(), t.column("story").to_pylist(), strict=True))


def _copies_together(truth: Path, of: dict[str, str]) -> tuple[int, int]:
    together = total = 0
    with truth.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if r["kind"] not in {"verbatim", "flood"} or r["target"] not in of:
                continue
            total += 1
            together += of.get(r["source"]) == of[r["target"]]
    return together, total


def _library_run(source: Path, n: int, new: int, truth: Path) -> dict[str, object]:
    """The library alone, no store: stream the corpus into the term counter (workers
    count while this process parses JSON), assign, merge; then go on from the state
    (``tables`` / ``from_tables``, as the store keeps it) with ``new`` more articles."""
    from wiretrace.analyze.stories import StoryAssigner
    from wiretrace.analyze.story_vectors import TermCounter

    def counted(skip: int, limit: int, workers: int) -> tuple[list[str], list[Any], Any]:
        ids: list[str] = []
        published: list[Any] = []
        with TermCounter(2000, workers) as counter:
            batch: list[tuple[str, str | None]] = []
            for art in _records(source, skip, limit):
                ids.append(art.id)
                published.append(art.published)
                batch.append((art.text, art.title))
                if len(batch) >= 20_000:
                    counter.add(batch)
                    batch = []
            counter.add(batch)
            return ids, published, counter.result()

    workers = os.cpu_count() or 1
    t0 = time.perf_counter()
    ids, published, counts = counted(0, n, workers)
    t1 = time.perf_counter()
    assigner = StoryAssigner(workers=workers)
    assigner.assign_counts(ids, published, counts, {})
    t2 = time.perf_counter()
    assigner.merge()
    t3 = time.perf_counter()
    print(f"full: read+count {t1 - t0:.1f}s, assign {t2 - t1:.1f}s, merge {t3 - t2:.1f}s, "
          f"total {t3 - t0:.1f}s; {len(assigner.stories)} stories", flush=True)  # fmt: skip
    before = assigner.of_article
    t4 = time.perf_counter()
    tables = assigner.tables()
    resumed = StoryAssigner.from_tables(tables, workers=workers)
    t5 = time.perf_counter()
    new_ids, new_published, new_counts = counted(n, new, 1)
    resumed.assign_counts(new_ids, new_published, new_counts, {})
    resumed.merge()
    t6 = time.perf_counter()
    after = resumed.of_article
    kept = all(after[a] == s for a, s in before.items())
    print(f"incremental: state round trip {t5 - t4:.1f}s, {len(new_ids)} new articles "
          f"counted, assigned and merged in {t6 - t5:.1f}s; ids kept: {kept}", flush=True)
    together, total = _copies_together(truth, after) if truth.is_file() else (0, 0)
    return {"articles": n, "read_count_seconds": round(t1 - t0, 1),
            "assign_seconds": round(t2 - t1, 1), "merge_seconds": round(t3 - t2, 1),
            "full_seconds": round(t3 - t0, 1), "stories": len(resumed.stories),
            "new": len(new_ids), "incremental_seconds": round(t6 - t4, 1), "ids_kept": kept,
            "planted_copies_in_one_story": f"{together}/{total}"}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--new", type=int, default=10_000)
    ap.add_argument("--corpus", type=Path, help="folder with articles.jsonl (and truth.jsonl)")
    ap.add_argument("--work", type=Path, help="folder for the store (default: a temporary one)")
    ap.add_argument("--library", action="store_true",
                    help="time the library on the corpus without a store (no setup)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="  %(message)s")
    if args.library and args.corpus is not None:
        result = _library_run(args.corpus / "articles.jsonl", args.articles, args.new,
                              args.corpus / "truth.jsonl")  # fmt: skip
        result["cpu_seconds_main"] = round(_cpu(resource.RUSAGE_SELF), 1)
        result["cpu_seconds_workers"] = round(_cpu(resource.RUSAGE_CHILDREN), 1)
        result["load_average_1min_at_end"] = round(os.getloadavg()[0], 1)
        result["peak_rss_mb_main"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
        print(json.dumps(result, indent=1))
        return 0
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        folder = args.corpus or Path(tmp) / "corpus"
        if args.corpus is None:
            print(f"generating {args.articles + args.new} articles ...", flush=True)
            corpus.write(args.articles + args.new, folder)
        source = folder / "articles.jsonl"
        settings = load_settings(environ={})
        with Store.open(Path(tmp) / "bench.duckdb") as store:
            setup = _store(store, source, 0, args.articles)
            print(f"setup: {args.articles} articles stored in {setup:.0f}s", flush=True)
            t0 = time.perf_counter()
            full = update_stories(store, settings)
            t_full = time.perf_counter() - t0
            print(f"full build: {full.assigned} articles -> {full.stories} stories "
                  f"in {t_full:.1f}s", flush=True)  # fmt: skip
            before = _membership(store)
            _store(store, source, args.articles, args.new)
            t0 = time.perf_counter()
            inc = update_stories(store, settings)
            t_inc = time.perf_counter() - t0
            after = _membership(store)
            kept = all(after.get(a) == s for a, s in before.items())
            print(f"incremental: {inc.assigned} new articles, {inc.changed} stories founded "
                  f"or grown, {inc.stories} stories in {t_inc:.1f}s; ids kept: {kept}")
            multi = store.query("SELECT count(*) AS n FROM stories WHERE articles > 1")
            together, total = (_copies_together(folder / "truth.jsonl", after)
                               if (folder / "truth.jsonl").is_file() else (0, 0))  # fmt: skip
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({
            "articles": args.articles, "full_seconds": round(t_full, 1),
            "stories": full.stories, "new": args.new, "incremental_seconds": round(t_inc, 1),
            "ids_kept": kept, "stories_with_several_articles": multi.column("n")[0].as_py(),
            "planted_copies_in_one_story": f"{together}/{total}",
            "peak_rss_mb_main": round(peak),
        }, indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

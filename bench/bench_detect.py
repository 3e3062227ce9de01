"""Reuse detection at scale: wiretrace against datasketch and rensa on the same corpus.

Each tool runs in its own fresh process (so peak memory is its own) on the very same
``articles.jsonl`` written by ``bench/corpus.py``; the driver scores every tool against
the planted truth and prints one table with the ratios.

- wiretrace: the whole local pipeline (ingest, candidates, alignment, analysis) into a
  fresh DuckDB file; pair precision/recall on every planted pair, passage character F1.
- datasketch MinHashLSH and rensa RMinHashLSH: document-level near-duplicates (word
  5-gram shingles, 128 permutations, Jaccard threshold 0.5); recall on the planted
  near-duplicate kinds (verbatim, flood, spun, shuffled), precision on all reported pairs.

Run: ``python bench/corpus.py --articles 10000 --out bench/out/c10k`` then
``python bench/bench_detect.py --corpus bench/out/c10k``.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

NEAR_DUP_KINDS = {"verbatim", "flood", "spun", "shuffled"}
_WORD = re.compile(r"\w+")


def _docs(corpus: Path) -> Iterator[tuple[str, str]]:
    with (corpus / "articles.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            yield rec["id"], rec["text"]


def _shingles(text: str, k: int = 5) -> list[str]:
    words = _WORD.findall(text.lower())
    return [" ".join(words[i : i + k]) for i in range(max(1, len(words) - k + 1))]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_datasketch(corpus: Path, threshold: float, num_perm: int) -> dict[str, object]:
    from datasketch import MinHash, MinHashLSH

    t0 = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    pairs: set[tuple[str, str]] = set()
    n = 0
    for doc_id, text in _docs(corpus):
        m = MinHash(num_perm=num_perm)
        m.update_batch([s.encode("utf-8") for s in _shingles(text)])
        for other in lsh.query(m):
            pairs.add((min(doc_id, other), max(doc_id, other)))
        lsh.insert(doc_id, m)
        n += 1
    return {"docs": n, "seconds": time.perf_counter() - t0, "pairs": sorted(pairs)}


def run_rensa(corpus: Path, threshold: float, num_perm: int) -> dict[str, object]:
    from rensa import RMinHash, RMinHashLSH

    t0 = time.perf_counter()
    lsh = RMinHashLSH(threshold=threshold, num_perm=num_perm, num_bands=32)
    pairs: set[tuple[str, str]] = set()
    ids: list[str] = []
    for doc_id, text in _docs(corpus):
        m = RMinHash(num_perm=num_perm, seed=42)
        m.update(_shingles(text))
        for other in lsh.query(m):
            other_id = ids[other]
            pairs.add((min(doc_id, other_id), max(doc_id, other_id)))
        lsh.insert(len(ids), m)
        ids.append(doc_id)
    return {"docs": len(ids), "seconds": time.perf_counter() - t0, "pairs": sorted(pairs)}


def run_wiretrace(corpus: Path) -> dict[str, object]:
    from wiretrace import open_collection

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        col = open_collection(Path(tmp) / "bench.duckdb")
        col.run([str(corpus / "articles.jsonl")])
        pairs = []
        passages: dict[str, list[list[int]]] = {}
        for p in col.pairs():
            pairs.append((min(p.source, p.target), max(p.source, p.target)))
            passages[f"{p.source}|{p.target}"] = [
                [q.source_start, q.source_end, q.target_start, q.target_end] for q in p.passages
            ]
        docs = sum(1 for _ in col.articles())
        col.close()
    return {
        "docs": docs,
        "seconds": time.perf_counter() - t0,
        "pairs": sorted(set(pairs)),
        "passages": passages,
    }


def _components(truth: list[dict[str, object]]) -> dict[str, str]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for t in truth:
        a, b = find(str(t["source"])), find(str(t["target"]))
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {x: find(x) for x in list(parent)}


def score(
    truth: list[dict[str, object]], result: dict[str, object], near_dup_only: bool
) -> dict[str, float]:
    comp = _components(truth)
    wanted = {
        (min(str(t["source"]), str(t["target"])), max(str(t["source"]), str(t["target"])))
        for t in truth
        if not near_dup_only or t["kind"] in NEAR_DUP_KINDS
    }
    found = {tuple(p) for p in result["pairs"]}  # type: ignore[attr-defined]
    # a reported pair is right when both articles are linked through planted reuse
    right = sum(1 for a, b in found if a in comp and comp[a] == comp.get(b))
    hit = len(wanted & found)
    precision = right / len(found) if found else 1.0
    recall = hit / len(wanted) if wanted else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "reported": len(found)}


def passage_char_f1(truth: list[dict[str, object]], result: dict[str, object]) -> float:
    """Character-level F1 over target-side passage characters of the planted pairs."""
    got = result.get("passages", {})
    assert isinstance(got, dict)
    tp = fp = fn = 0
    for t in truth:
        s, g = str(t["source"]), str(t["target"])
        want: set[int] = set()
        for p in t["passages"]:  # type: ignore[attr-defined]
            want.update(range(p[2], p[3]))
        have: set[int] = set()
        for q in got.get(f"{s}|{g}", []):
            have.update(range(q[2], q[3]))
        for q in got.get(f"{g}|{s}", []):
            have.update(range(q[0], q[1]))
        tp += len(want & have)
        fp += len(have - want)
        fn += len(want - have)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return 2 * p * r / (p + r) if p + r else 0.0


def _child(tool: str, corpus: Path, out: Path, threshold: float, num_perm: int) -> None:
    if tool == "datasketch":
        result = run_datasketch(corpus, threshold, num_perm)
    elif tool == "rensa":
        result = run_rensa(corpus, threshold, num_perm)
    else:
        result = run_wiretrace(corpus)
    result["peak_mb"] = _peak_mb()
    out.write_text(json.dumps(result), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--tools", default="wiretrace,datasketch,rensa")
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child, args.corpus, args.child_out, args.threshold, args.num_perm)
        return 0
    truth = [json.loads(line) for line in (args.corpus / "truth.jsonl").open(encoding="utf-8")]
    rows = {}
    for tool in args.tools.split(","):
        with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
            cmd = [
                sys.executable,
                __file__,
                "--corpus",
                str(args.corpus),
                "--child",
                tool,
                "--child-out",
                tmp.name,
                "--threshold",
                str(args.threshold),
                "--num-perm",
                str(args.num_perm),
            ]
            subprocess.run(cmd, check=True)
            result = json.loads(Path(tmp.name).read_text(encoding="utf-8"))
        row: dict[str, object] = {
            "docs": result["docs"],
            "seconds": round(result["seconds"], 2),
            "docs_per_s": round(result["docs"] / result["seconds"], 1),
            "peak_mb": round(result["peak_mb"], 1),
            "near_dup": {k: round(v, 4) for k, v in score(truth, result, True).items()},
        }
        if tool == "wiretrace":
            row["all_pairs"] = {k: round(v, 4) for k, v in score(truth, result, False).items()}
            row["passage_char_f1"] = round(passage_char_f1(truth, result), 4)
        rows[tool] = row
    if "wiretrace" in rows:
        base = rows["wiretrace"]["seconds"]
        for row in rows.values():
            row["time_vs_wiretrace"] = round(row["seconds"] / base, 2)  # type: ignore[operator]
    json.dump(rows, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

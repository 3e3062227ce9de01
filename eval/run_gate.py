"""The evaluation gate: generate the labelled benchmark, run wiretrace on it, score, compare.

Usage (from the repository root)::

    python eval/run_gate.py        # table, eval/out/scores.json, exit 1 on regression
    python eval/run_gate.py --update-readme README.md   # and rewrite the README figures

The benchmark is generated into a temporary folder with the seed and sizes pinned in
``eval/baseline.json``; wiretrace runs through its Python API (``open_collection``), or
through its CLI where the API is not there. Each floor in the baseline is ``active``
(a value below it fails the gate) or ``pending`` (reported, not enforced: the code that
it measures has not landed). Lowering a floor is an explicit edit of the baseline.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval.generate import generate
from eval.score import Scores, score

__all__ = ["GateResult", "render_markdown", "run_gate", "run_wiretrace"]

EVAL_DIR = Path(__file__).resolve().parent
REPO = EVAL_DIR.parent
BBC = REPO.parent / "shared" / "data" / "bbc-news"
BASELINE = EVAL_DIR / "baseline.json"
LABELS = {
    "pair_f1": "pair F1",
    "passage_f1": "passage character F1",
    "alias_typed_right": "alias edits typed right",
    "origin_right": "origin right",
    "credit_right": "credit right",
    "patchwork_f1": "patchwork sentence labels F1",
}


@dataclass
class GateResult:
    """Scores, the floor verdicts and how the run went."""

    scores: Scores | None
    floors: dict[str, dict[str, Any]]
    benchmark: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)
    runner: str = ""
    error: str | None = None

    @property
    def failures(self) -> list[str]:
        """Active floors not met (a missing value fails too); a run error fails the gate."""
        out = [f"wiretrace did not run: {self.error}"] if self.error else []
        for name, f in self.floors.items():
            if f["status"] == "active" and not f["ok"]:
                out.append(f"{name} = {f['value']} below floor {f['min']}")
        return out

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "failures": self.failures,
            "floors": self.floors,
            "benchmark": self.benchmark,
            "seconds": self.seconds,
            "runner": self.runner,
            "error": self.error,
            "scores": self.scores.to_json() if self.scores else None,
        }


def run_wiretrace(corpus: Path, db: Path) -> tuple[list[dict[str, Any]], Any, str]:
    """Run wiretrace on ``corpus`` with store ``db``.

    Returns the pairs (``pairs --json`` dicts), the patchwork labels for every article
    (``{id: [(start, end, source or None), ...]}``) or None where the installed wiretrace
    has no patchwork output, and which runner was used ("api" or "cli").
    """
    # looked up at run time: the API lands in parallel with this gate
    open_collection = getattr(importlib.import_module("wiretrace"), "open_collection", None)
    if open_collection is None and importlib.util.find_spec("wiretrace.collection"):
        module = importlib.import_module("wiretrace.collection")
        open_collection = getattr(module, "open_collection", None)
    if open_collection is None:
        return _run_cli(corpus, db), None, "cli"
    col = open_collection(db)
    try:
        col.run([corpus])
        pairs = [p.to_json() for p in col.pairs()]
        patch = _patchwork_labels(col, pairs)
    finally:
        col.close()
    return pairs, patch, "api"


def _run_cli(corpus: Path, db: Path) -> list[dict[str, Any]]:
    base = [sys.executable, "-m", "wiretrace"]
    run = subprocess.run(
        [*base, "run", str(corpus), "--db", str(db)],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if run.returncode != 0:
        raise RuntimeError(f"wiretrace run exit {run.returncode}: {run.stderr.strip()[-500:]}")
    out = subprocess.run(
        [*base, "pairs", "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"wiretrace pairs exit {out.returncode}: {out.stderr.strip()[-500:]}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def _patchwork_labels(col: Any, pairs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Sentence labels from wiretrace's patchwork map, if this wiretrace has one."""
    try:
        module = importlib.import_module("wiretrace.analyze.patchwork")
    except ImportError:
        return None
    patchwork = module.patchwork
    labels: dict[str, list[tuple[int, int, str | None]]] = {}
    stored = list(col.pairs())
    for art in col.articles():
        mine = [p for p in stored if art.id in (p.source, p.target)]
        result = patchwork(art, mine)
        rows = []
        for sent in getattr(result, "sentences", ()):
            get = sent.get if isinstance(sent, dict) else lambda k, s=sent: getattr(s, k, None)
            start, end, source = get("start"), get("end"), get("source")
            rows.append((int(start or 0), int(end or 0), None if source is None else str(source)))
        labels[art.id] = rows
    return labels


def oracle_provenance(truth: dict[str, Any], bench_dir: Path) -> Scores:
    """Provenance alone: wiretrace's ``attribute`` on the planted passages and edits.

    A diagnostic for issue 5 that does not depend on detection: every planted pair is
    given to ``wiretrace.analyze.provenance.attribute`` with its true passages (half of
    them presented the other way round, so that keeping the given order scores 0.5), and
    the result is scored like a run; only origin right and credit right mean anything.
    """
    from wiretrace.analyze.provenance import attribute
    from wiretrace.ingest.textfile import parse_text
    from wiretrace.models import Edit, EditOp, Passage
    from wiretrace.settings import Settings

    settings = Settings()
    arts = {
        aid: parse_text(
            (bench_dir / rec["file"]).read_bytes().decode("utf-8"),
            aid,
            rec["file"],
            "text",
            settings.ingest,
        )
        for aid, rec in truth["articles"].items()
    }
    out = []
    for i, p in enumerate(truth["pairs"]):
        a, b = arts[p["source"]], arts[p["target"]]
        passages = []
        for s0, s1, t0, t1 in p["passages"]:
            edits = []
            for e in p["edits"]:
                if not s0 <= e["source"][0] <= s1:
                    continue
                (es0, es1), (et0, et1) = e["source"], e["target"]
                op: EditOp = "insert" if es0 == es1 else "delete" if et0 == et1 else "replace"
                edits.append(
                    Edit(op, es0, es1, et0, et1, e["source_text"], e["target_text"], e["kind"])
                )
            passages.append(
                Passage(s0, s1, t0, t1, a.text[s0:s1], b.text[t0:t1], 1.0, tuple(edits))
            )
        if i % 2:
            pair = attribute(b, a, [x.swapped() for x in passages], settings)
        else:
            pair = attribute(a, b, passages, settings)
        out.append(pair.to_json())
    return score(truth, out, bench_dir=bench_dir)


def _floors(baseline: dict[str, Any], scores: Scores | None) -> dict[str, dict[str, Any]]:
    out = {}
    for name, spec in baseline["floors"].items():
        value = getattr(scores, name) if scores is not None else None
        out[name] = {
            "value": None if value is None else round(value, 4),
            "min": spec["min"],
            "status": spec["status"],
            "ok": value is not None and value >= spec["min"],
        }
    return out


def run_gate(
    baseline_path: Path = BASELINE,
    bbc_dir: Path = BBC,
    work_dir: Path | None = None,
    oracle: bool = False,
) -> GateResult:
    """Generate the benchmark, run wiretrace, score and judge against the floors."""
    baseline = json.loads(baseline_path.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="wiretrace-eval-") as tmp:
        work = Path(work_dir) if work_dir else Path(tmp)
        t0 = time.perf_counter()
        truth = generate(bbc_dir, work / "bench", baseline["seed"], **baseline["size"])
        t1 = time.perf_counter()
        kinds: dict[str, int] = {}
        for p in truth["pairs"]:
            kinds[p["kind"]] = kinds.get(p["kind"], 0) + 1
        bench = {
            "seed": baseline["seed"],
            "articles": len(truth["articles"]),
            "planted_pairs": len(truth["pairs"]),
            "implied_pairs": len(truth["implied"]),
            "kinds": kinds,
            "checks": truth["checks"],
        }
        error = None
        scores = None
        runner = ""
        try:
            pairs, patch, runner = run_wiretrace(work / "bench" / "corpus", work / "eval.duckdb")
        except Exception as exc:  # noqa: BLE001 - the gate reports any failure to run
            error = f"{type(exc).__name__}: {exc}"
        t2 = time.perf_counter()
        if error is None:
            scores = score(truth, pairs, patch, bench_dir=work / "bench")
        seconds = {"generate": round(t1 - t0, 2), "wiretrace": round(t2 - t1, 2)}
        if oracle:
            try:
                o = oracle_provenance(truth, work / "bench")
                bench["oracle_provenance"] = {
                    "origin_right": round(o.origin_right, 4),
                    "credit_right": round(o.credit_right, 4),
                }
            except Exception as exc:  # noqa: BLE001 - a diagnostic, never the verdict
                bench["oracle_provenance"] = {"error": f"{type(exc).__name__}: {exc}"}
    return GateResult(scores, _floors(baseline, scores), bench, seconds, runner, error)


def render_table(result: GateResult) -> str:
    lines = [f"{'measure':32} {'value':>7} {'floor':>6}  status"]
    for name, f in result.floors.items():
        value = "-" if f["value"] is None else f"{f['value']:.3f}"
        verdict = "ok" if f["ok"] else ("FAIL" if f["status"] == "active" else "below")
        lines.append(
            f"{LABELS.get(name, name):32} {value:>7} {f['min']:>6.2f}  {f['status']}, {verdict}"
        )
    return "\n".join(lines)


def _short(error: str) -> str:
    """The last line of an error (a traceback's exception line), at most 120 characters."""
    lines = [ln.strip() for ln in error.splitlines() if ln.strip()]
    return (lines[-1] if lines else error)[:120]


def render_markdown(result: GateResult) -> str:
    """The README block: the benchmark, the figures and the floors."""
    b = result.benchmark
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(b["kinds"].items()))
    rows = ["| measure | value | floor | status |", "|---|---:|---:|---|"]
    for name, f in result.floors.items():
        value = "not measured" if f["value"] is None else f"{f['value']:.3f}"
        rows.append(f"| {LABELS.get(name, name)} | {value} | {f['min']:.2f} | {f['status']} |")
    head = (
        f"Labelled benchmark generated by `eval/generate.py` from the BBC articles "
        f"(seed {b['seed']}): {b['articles']} articles, {b['planted_pairs']} planted pairs "
        f"({kinds}), {b['implied_pairs']} implied sibling/chain pairs (scored as neither "
        f"right nor wrong). Gate: `python eval/run_gate.py` "
        f"({'passed' if result.passed else 'failing'}"
        f"{'; wiretrace did not run: ' + _short(result.error) if result.error else ''}). "
        f"Figures written by `python eval/run_gate.py --update-readme README.md`."
    )
    return head + "\n\n" + "\n".join(rows)


def update_readme(readme: Path, block: str) -> None:
    """Replace the text between ``<!-- eval:start -->`` and ``<!-- eval:end -->``."""
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(r"(<!-- eval:start -->\n).*?(<!-- eval:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{readme}: no <!-- eval:start --> ... <!-- eval:end --> markers")
    readme.write_text(
        pattern.sub(lambda m: m.group(1) + block + "\n" + m.group(2), text), encoding="utf-8"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="wiretrace evaluation gate")
    ap.add_argument("--baseline", type=Path, default=BASELINE)
    ap.add_argument("--out", type=Path, default=EVAL_DIR / "out" / "scores.json")
    ap.add_argument("--update-readme", type=Path, default=None, metavar="README")
    ap.add_argument(
        "--oracle-provenance",
        action="store_true",
        help="also score wiretrace's provenance alone, on the planted passages (diagnostic)",
    )
    args = ap.parse_args(argv)
    result = run_gate(args.baseline, oracle=args.oracle_provenance)
    b = result.benchmark
    print(
        f"benchmark: {b['articles']} articles, {b['planted_pairs']} planted pairs, "
        f"{b['implied_pairs']} implied; runner {result.runner or '-'}; "
        f"seconds {result.seconds}"
    )
    print(render_table(result))
    if "oracle_provenance" in b:
        print(f"provenance on the planted passages: {b['oracle_provenance']}")
    if result.scores is not None:
        for note in result.scores.notes:
            print(f"note: {note}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result.to_json(), indent=1), encoding="utf-8")
    if args.update_readme:
        update_readme(args.update_readme, render_markdown(result))
    for failure in result.failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 0 if result.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())

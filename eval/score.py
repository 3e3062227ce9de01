"""Score wiretrace's reported pairs against the generator's truth.

``score(truth, pairs) -> Scores``. ``truth`` is the dict (or the path of the JSON file)
that ``eval.generate.generate`` writes; ``pairs`` is a JSON Lines file, or a list of dicts,
in the ``wiretrace pairs --json`` shape (DESIGN.md section 3).

Measures:

- **pairs**: precision, recall and F1 over unordered article pairs (orientation is scored
  separately as origin). *Implied* pairs (two copies of one source, the two ends of a copy
  chain, a patchwork and a sibling copy) share text but were not planted: they count in
  neither precision nor recall. Why: issue 5 asks a tool to pair each member of a
  near-duplicate group with the group's origin "not with every other member", and to report
  a chain "only where the evidence shows one", so a tool that follows that contract must
  not lose recall for leaving siblings out; one that reports them reports real shared text,
  so it must not lose precision either.
- **passages**: character-level precision, recall and F1 in the PAN style, over the
  characters of both sides of each pair: the truth's characters are the union of planted
  passages on the source and target sides, the prediction's those of the reported passages
  of the same pair; characters of reported pairs that are neither planted nor implied are
  all false positives; neutral spans (datelines such as "LONDON (Reuters) -", which are
  credit lines rather than reused prose) are removed from both sides, and so are whitespace
  characters when the benchmark folder is known (so that a tool reporting one passage per
  sentence and one reporting a whole paragraph score alike).
- **alias typed**: the share of planted alias swaps for which the reported pair holds an
  edit of kind ``alias`` overlapping the swap on both sides.
- **origin right**, **credit right**: the share of planted pairs whose reported source is
  the true origin / whose reported ``credit`` equals the truth (a missed pair is wrong).
- **patchwork**: sentence labels F1 for the patchwork articles, only when a patchwork
  output is given (``patchwork``: article id -> list of ``(start, end, source id or None)``);
  a sentence counts as positive when labelled with a source; a prediction is right when
  the predicted sentence overlapping it most carries the same source.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Scores", "load_pairs", "score"]

Key = frozenset[str]


@dataclass
class Scores:
    """Figures in [0, 1]; ``None`` where a measure could not be taken (see ``notes``)."""

    pair_precision: float
    pair_recall: float
    pair_f1: float
    passage_precision: float
    passage_recall: float
    passage_f1: float
    alias_typed_right: float | None
    origin_right: float
    credit_right: float
    patchwork_f1: float | None
    counts: dict[str, int] = field(default_factory=dict)
    recall_by_kind: dict[str, float] = field(default_factory=dict)
    passage_recall_by_kind: dict[str, float] = field(default_factory=dict)
    false_pairs: list[list[str]] = field(default_factory=list)
    missed_pairs: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def load_pairs(path: Path | str) -> list[dict[str, Any]]:
    """The lines of a ``wiretrace pairs --json`` file."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def _ratio(num: int, den: int, empty: float = 1.0) -> float:
    return empty if den == 0 else num / den


def _chars(
    spans: Iterable[tuple[int, int]], neutral: Sequence[Sequence[int]], ignore: set[int]
) -> set[int]:
    out: set[int] = set()
    for s, e in spans:
        out.update(range(s, e))
    for s, e in neutral:
        out.difference_update(range(s, e))
    return out - ignore


def _overlaps(a: Sequence[int], b: Sequence[int]) -> bool:
    # an insertion or deletion has an empty span on one side: touching counts there
    if a[0] == a[1] or b[0] == b[1]:
        return b[0] <= a[0] <= b[1] or a[0] <= b[0] <= a[1]
    return a[0] < b[1] and b[0] < a[1]


def score(
    truth: Mapping[str, Any] | Path | str,
    pairs: Iterable[Mapping[str, Any]] | Path | str,
    patchwork: Mapping[str, Sequence[tuple[int, int, str | None]]] | None = None,
    bench_dir: Path | str | None = None,
) -> Scores:
    """Score reported pairs (``wiretrace pairs --json`` lines) against the truth.

    ``bench_dir`` is the folder ``generate`` wrote (the truth file's folder by default when
    ``truth`` is a path); without it whitespace characters count in the passage measure.
    """
    if not isinstance(truth, Mapping):
        bench_dir = bench_dir if bench_dir is not None else Path(truth).parent
        truth = json.loads(Path(truth).read_text(encoding="utf-8"))
    assert isinstance(truth, Mapping)
    whitespace: dict[str, set[int]] = defaultdict(set)
    if bench_dir is not None:
        for aid, rec in truth["articles"].items():
            text = (Path(bench_dir) / rec["file"]).read_bytes().decode("utf-8")
            whitespace[aid] = {i for i, c in enumerate(text) if c.isspace()}
    reported_list = load_pairs(pairs) if isinstance(pairs, Path | str) else list(pairs)
    articles = truth["articles"]

    planted: dict[Key, Mapping[str, Any]] = {
        frozenset((p["source"], p["target"])): p for p in truth["pairs"]
    }
    implied = {frozenset((x["a"], x["b"])) for x in truth["implied"]}
    reported: dict[Key, Mapping[str, Any]] = {}
    notes: list[str] = []
    for rp in reported_list:
        key = frozenset((rp["source"], rp["target"]))
        if len(key) != 2:
            notes.append(f"self pair ignored: {rp['source']}")
            continue
        # a pair printed twice: keep the line with more passages
        if key in reported and len(rp.get("passages", [])) <= len(
            reported[key].get("passages", [])
        ):
            continue
        reported[key] = rp

    # pairs
    scored_reported = {k for k in reported if k not in implied}
    tp = scored_reported & set(planted)
    fp = scored_reported - set(planted)
    fn = set(planted) - set(reported)
    pair_p = _ratio(len(tp), len(scored_reported))
    pair_r = _ratio(len(tp), len(planted))
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key, tp_pair in planted.items():
        by_kind[tp_pair["kind"]][1] += 1
        by_kind[tp_pair["kind"]][0] += key in reported

    # passages, character level, both sides
    true_chars = pred_chars = hit_chars = 0
    kind_chars: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key in sorted(set(planted) | scored_reported, key=sorted):
        maybe_truth = planted.get(key)
        maybe_rp = reported.get(key)
        for aid in sorted(key):
            neutral = articles[aid]["neutral"] if aid in articles else []
            truth_spans: list[tuple[int, int]] = []
            if maybe_truth is not None:
                side = 0 if maybe_truth["source"] == aid else 2
                truth_spans = [(ps[side], ps[side + 1]) for ps in maybe_truth["passages"]]
            pred_spans: list[tuple[int, int]] = []
            if maybe_rp is not None:
                side_name = "source" if maybe_rp["source"] == aid else "target"
                pred_spans = [
                    (int(pp[f"{side_name}_start"]), int(pp[f"{side_name}_end"]))
                    for pp in maybe_rp.get("passages", [])
                ]
            t = _chars(truth_spans, neutral, whitespace[aid])
            p = _chars(pred_spans, neutral, whitespace[aid])
            true_chars += len(t)
            pred_chars += len(p)
            hit_chars += len(t & p)
            if maybe_truth is not None:
                kind_chars[maybe_truth["kind"]][0] += len(t & p)
                kind_chars[maybe_truth["kind"]][1] += len(t)
    pas_p = _ratio(hit_chars, pred_chars)
    pas_r = _ratio(hit_chars, true_chars)

    # alias edits typed
    alias_total = alias_hit = 0
    for key, tp_pair in planted.items():
        alias_edits = [e for e in tp_pair["edits"] if e["kind"] == "alias"]
        alias_total += len(alias_edits)
        found = reported.get(key)
        if found is None or not alias_edits:
            continue
        rp = found
        flipped = rp["source"] != tp_pair["source"]
        reported_alias = []
        for pp in rp.get("passages", []):
            for e in pp.get("edits", []):
                if e.get("kind") != "alias":
                    continue
                es = (int(e["source_start"]), int(e["source_end"]))
                et = (int(e["target_start"]), int(e["target_end"]))
                reported_alias.append((et, es) if flipped else (es, et))
        for e in alias_edits:
            if any(
                _overlaps(e["source"], rs) and _overlaps(e["target"], rt)
                for rs, rt in reported_alias
            ):
                alias_hit += 1
    alias_right = None if alias_total == 0 else alias_hit / alias_total
    if alias_total == 0:
        notes.append("no planted alias edits: alias typed not measured")

    # origin and credit
    origin_hits = credit_hits = 0
    for key, tp_pair in planted.items():
        found = reported.get(key)
        if found is None:
            continue
        rp = found
        origin_hits += rp["source"] == tp_pair["origin"]
        credit_hits += rp.get("credit") == tp_pair["credit"]

    # patchwork sentence labels
    patch_f1: float | None = None
    if patchwork is None:
        notes.append("patchwork output not given: patchwork sentence labels not scored")
    else:
        patch_f1 = _patchwork_f1(articles, patchwork)

    return Scores(
        pair_precision=pair_p,
        pair_recall=pair_r,
        pair_f1=_f1(pair_p, pair_r),
        passage_precision=pas_p,
        passage_recall=pas_r,
        passage_f1=_f1(pas_p, pas_r),
        alias_typed_right=alias_right,
        origin_right=_ratio(origin_hits, len(planted)),
        credit_right=_ratio(credit_hits, len(planted)),
        patchwork_f1=patch_f1,
        counts={
            "planted_pairs": len(planted),
            "implied_pairs": len(implied),
            "reported_pairs": len(reported),
            "reported_implied": len(set(reported) & implied),
            "true_positive_pairs": len(tp),
            "false_positive_pairs": len(fp),
            "missed_pairs": len(fn),
            "alias_edits": alias_total,
            "alias_typed_right": alias_hit,
            "truth_chars": true_chars,
            "reported_chars": pred_chars,
        },
        recall_by_kind={k: v[0] / v[1] for k, v in sorted(by_kind.items())},
        passage_recall_by_kind={k: _ratio(v[0], v[1]) for k, v in sorted(kind_chars.items())},
        false_pairs=sorted(sorted(k) for k in fp),
        missed_pairs=sorted([planted[k]["source"], planted[k]["target"]] for k in fn),
        notes=notes,
    )


def _patchwork_f1(
    articles: Mapping[str, Any], patchwork: Mapping[str, Sequence[tuple[int, int, str | None]]]
) -> float:
    tp = fp = fn = 0
    for aid, rec in sorted(articles.items()):
        if rec["role"] != "patchwork":
            continue
        predicted = list(patchwork.get(aid, []))
        for s, e, label in rec["sentences"]:
            best: str | None = None
            best_overlap = 0
            for ps, pe, plabel in predicted:
                overlap = min(e, pe) - max(s, ps)
                if overlap > best_overlap:
                    best, best_overlap = plabel, overlap
            if best is not None and best == label:
                tp += 1
            else:
                if best is not None:
                    fp += 1
                if label is not None:
                    fn += 1
    p = _ratio(tp, tp + fp)
    r = _ratio(tp, tp + fn)
    return _f1(p, r)

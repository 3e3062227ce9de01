"""The PAN plagiarism-detection measures (Potthast, Stein, Barrón-Cedeño and Rosso,
"An Evaluation Framework for Plagiarism Detection", COLING 2010).

A case (truth) and a detection are both an :class:`Annotation`: a character range of a
suspicious document and a character range of a source document. Following the paper
and the official PAN ``perfmeasures`` script (macro-averaged variant):

- a detection *detects* a case (``r ⊓ s`` non-empty) when both name the same suspicious
  and the same source document and their ranges overlap on both sides
  (:func:`detects`); a detection on the wrong source document detects nothing;
- the character overlap ``s ⊓ r`` counts the case's characters covered by detecting
  detections on the suspicious side plus those on the source side;
- recall = mean over cases of ``|s ⊓ R| / |s|``; precision = mean over detections of
  ``|r ⊓ S| / |r|`` (``|x|`` = characters on the suspicious side plus the source side);
- granularity = mean, over detected cases, of the number of detections detecting each;
- plagdet = F1(precision, recall) / log2(1 + granularity).

Edge conventions follow the official script: no cases and no detections give recall =
precision = 1; exactly one of them empty gives 0 for both; granularity without any
detected case is 1. Identical annotations count once (the script reads them into a set).
All offsets and lengths are character counts (Unicode code points).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "Annotation",
    "Scores",
    "detects",
    "evaluate",
    "granularity",
    "macro_precision",
    "macro_recall",
    "plagdet",
]


@dataclass(frozen=True, slots=True, order=True)
class Annotation:
    """A plagiarism case or a detection: ``this_*`` is the suspicious document's range,
    ``source_*`` the source document's (PAN attribute names; offsets and lengths in
    characters; document references are file names such as
    ``suspicious-document00001.txt``)."""

    this_reference: str
    this_offset: int
    this_length: int
    source_reference: str
    source_offset: int
    source_length: int

    def __post_init__(self) -> None:
        if min(self.this_offset, self.this_length, self.source_offset, self.source_length) < 0:
            raise ValueError(f"annotation offsets and lengths must be >= 0: {self}")

    @property
    def this_end(self) -> int:
        return self.this_offset + self.this_length

    @property
    def source_end(self) -> int:
        return self.source_offset + self.source_length

    @property
    def chars(self) -> int:
        """Characters annotated on both sides (``|s|`` in the paper)."""
        return self.this_length + self.source_length


@dataclass(frozen=True, slots=True)
class Scores:
    """The measures over one set of cases and detections."""

    precision: float
    recall: float
    granularity: float
    plagdet: float
    cases: int
    detections: int


def detects(a: Annotation, b: Annotation) -> bool:
    """True when ``a`` and ``b`` name the same documents and overlap on both sides."""
    return (
        a.this_reference == b.this_reference
        and a.source_reference == b.source_reference
        and b.this_offset < a.this_end
        and a.this_offset < b.this_end
        and b.source_offset < a.source_end
        and a.source_offset < b.source_end
    )


def _covered(lo: int, hi: int, ranges: Iterable[tuple[int, int]]) -> int:
    """Characters of ``[lo, hi)`` inside the union of ``ranges``."""
    clipped = sorted((max(lo, s), min(hi, e)) for s, e in ranges if s < hi and e > lo)
    total, reach = 0, lo
    for s, e in clipped:
        if e > reach:
            total += e - max(s, reach)
            reach = e
    return total


def _by_pair(anns: Iterable[Annotation]) -> dict[tuple[str, str], list[Annotation]]:
    index: dict[tuple[str, str], list[Annotation]] = defaultdict(list)
    for ann in anns:
        index[ann.this_reference, ann.source_reference].append(ann)
    return index


def _mean_coverage(targets: Sequence[Annotation], others: Sequence[Annotation]) -> float:
    """Mean over ``targets`` of the share of their characters (both sides) covered by
    the ``others`` that detect them; the official script's ``macro_avg_recall``."""
    if not targets and not others:
        return 1.0
    if not targets or not others:
        return 0.0
    index = _by_pair(others)
    total = 0.0
    for t in targets:
        if t.chars == 0:
            continue  # an empty annotation cannot be covered (and cannot divide)
        hits = [o for o in index.get((t.this_reference, t.source_reference), ()) if detects(t, o)]
        if not hits:
            continue
        covered = _covered(t.this_offset, t.this_end, ((o.this_offset, o.this_end) for o in hits))
        covered += _covered(
            t.source_offset, t.source_end, ((o.source_offset, o.source_end) for o in hits)
        )
        total += covered / t.chars
    return total / len(targets)


def macro_recall(cases: Iterable[Annotation], detections: Iterable[Annotation]) -> float:
    """Macro-averaged recall: mean over cases of the share of each case's characters
    (suspicious side plus source side) covered by the detections that detect it."""
    return _mean_coverage(sorted(set(cases)), sorted(set(detections)))


def macro_precision(cases: Iterable[Annotation], detections: Iterable[Annotation]) -> float:
    """Macro-averaged precision: mean over detections of the share of each detection's
    characters covered by the cases it detects (recall with the roles swapped)."""
    return _mean_coverage(sorted(set(detections)), sorted(set(cases)))


def granularity(cases: Iterable[Annotation], detections: Iterable[Annotation]) -> float:
    """Mean number of detections per detected case (1 when no case is detected)."""
    index = _by_pair(set(detections))
    counts = []
    for case in set(cases):
        same_docs = index.get((case.this_reference, case.source_reference), ())
        n = sum(1 for d in same_docs if detects(case, d))
        if n:
            counts.append(n)
    return sum(counts) / len(counts) if counts else 1.0


def plagdet(precision: float, recall: float, gran: float) -> float:
    """F1 of precision and recall divided by log2(1 + granularity); 0 when precision
    and recall are both 0 or an input is out of range."""
    if precision < 0 or recall < 0 or gran < 1 or (precision == 0 and recall == 0):
        return 0.0
    f1 = 2 * precision * recall / (precision + recall)
    return f1 / math.log2(1 + gran)


def evaluate(cases: Iterable[Annotation], detections: Iterable[Annotation]) -> Scores:
    """All four measures, with the numbers of distinct cases and detections."""
    case_set, det_set = set(cases), set(detections)
    p = macro_precision(case_set, det_set)
    r = macro_recall(case_set, det_set)
    g = granularity(case_set, det_set)
    return Scores(
        precision=p,
        recall=r,
        granularity=g,
        plagdet=plagdet(p, r, g),
        cases=len(case_set),
        detections=len(det_set),
    )

"""Evaluation against external benchmarks: the PAN text-alignment corpora
(:mod:`wiretrace.evaluation.pan`) scored with the PAN measures
(:mod:`wiretrace.evaluation.pan_metrics`)."""

from __future__ import annotations

from wiretrace.evaluation.pan import PanCorpus, PanPair, PanResult, read_corpus, run_pan
from wiretrace.evaluation.pan_metrics import Annotation, Scores, evaluate

__all__ = [
    "Annotation",
    "PanCorpus",
    "PanPair",
    "PanResult",
    "Scores",
    "evaluate",
    "read_corpus",
    "run_pan",
]

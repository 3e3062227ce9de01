"""The shipped synonym list (``wiretrace/data/synonyms.tsv``).

One group per line, tab separated; two words (or short phrases) are synonyms when they
share a group. Lookups are on folded text (:func:`wiretrace.text.tokens.fold`). Regular
inflections are tried too ("purchases" ~ "buys" through "purchase" ~ "buy"), so the file
lists only base forms and irregular forms. No network, no model: the list is data in the
package.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from wiretrace.text.tokens import fold

__all__ = ["are_synonyms", "load_synonyms"]

SynonymIndex = dict[str, frozenset[int]]


def _parse(lines: Iterable[str]) -> SynonymIndex:
    index: dict[str, set[int]] = {}
    for group, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        for word in line.split("\t"):
            key = " ".join(fold(word).split())
            if key:
                index.setdefault(key, set()).add(group)
    return {k: frozenset(v) for k, v in index.items()}


@lru_cache(maxsize=1)
def load_synonyms() -> SynonymIndex:
    """Folded word -> the ids of the synonym groups it belongs to (cached)."""
    text = resources.files("wiretrace").joinpath("data/synonyms.tsv").read_text("utf-8")
    return _parse(text.splitlines())


def _forms(word: str) -> list[str]:
    """``word`` and the base forms that simple English inflection rules give."""
    forms = [word]
    if " " in word:
        return forms
    for suffix, repl in (
        ("ies", "y"),
        ("ied", "y"),
        ("es", ""),
        ("s", ""),
        ("ed", ""),
        ("ed", "e"),
        ("d", ""),
        ("ing", ""),
        ("ing", "e"),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.append(word[: len(word) - len(suffix)] + repl)
    return forms


def _ending(word: str) -> str:
    for end in ("ing", "ed", "s"):
        if word.endswith(end):
            return end
    return ""


def are_synonyms(x: str, y: str, index: SynonymIndex | None = None) -> bool:
    """True when ``x`` and ``y`` share a synonym group, directly or by inflection.

    Through inflection both words must carry the same ending ("bought" ~ "purchased" is
    listed; "purchases" ~ "buys" matches through "purchase" ~ "buy" with "-s" on both).
    """
    idx = load_synonyms() if index is None else index
    fx = " ".join(fold(x).split())
    fy = " ".join(fold(y).split())
    if not fx or not fy or fx == fy:
        return False
    gx, gy = idx.get(fx), idx.get(fy)
    if gx and gy and gx & gy:
        return True
    for bx in _forms(fx)[1:]:
        for by in _forms(fy)[1:]:
            gbx, gby = idx.get(bx), idx.get(by)
            if gbx and gby and gbx & gby and _ending(fx) == _ending(fy):
                return True
    return False

"""Typing the edits of a passage: alias, synonym, spelling, number, other.

:func:`classify` types one replaced phrase pair; :func:`learn_aliases` finds swaps that
recur across article pairs of a collection (a reuser's house style: "Mr Blair" for
"Tony Blair", "Labour" for "the Labour Party") and :func:`apply_learned_aliases` re-types
those edits as aliases.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Protocol

from wiretrace.detect.synonyms import are_synonyms
from wiretrace.models import Edit, EditKind, Passage, ReusePair
from wiretrace.text.tokens import fold

__all__ = [
    "EntityLookup",
    "LearnedAliases",
    "apply_learned_aliases",
    "classify",
    "learn_aliases",
    "parse_number",
    "swap_key",
]

#: Folded (x, y) with x <= y -> number of distinct article pairs showing the swap.
LearnedAliases = dict[tuple[str, str], int]


class EntityLookup(Protocol):
    """What edit typing needs from the alias table (``text.aliases.AliasTable``)."""

    def same_entity(self, a: str, b: str) -> bool: ...


_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "a": 1, "an": 1, "single": 1,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "half": 0.5, "first": 1, "second": 2, "third": 3,
    "fourth": 4, "fifth": 5, "tenth": 10,
}  # fmt: skip
_SCALES = {
    "dozen": 12,
    "hundred": 100,
    "thousand": 1_000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
    "trillion": 1_000_000_000_000,
    "bn": 1_000_000_000,
    "m": 1_000_000,
    "k": 1_000,
}
_NUMERAL = re.compile(r"^[$£€¥]?(\d+(?:[.,]\d+)*)(st|nd|rd|th|bn|m|k|%)?$")
_WORD = re.compile(r"[\w$£€¥%.,'-]+")


def parse_number(phrase: str) -> float | None:
    """The value of a numeral or number-word phrase ("1,000", "one hundred", "2.5bn"),
    None when the phrase is not a number. Connecting words ("and", "-") are allowed."""
    words = [w for w in _WORD.findall(fold(phrase).replace("-", " ")) if w != "and"]
    if not words:
        return None
    total = 0.0
    current = 0.0
    seen = False
    for w in words:
        m = _NUMERAL.match(w)
        if m:
            digits = m.group(1)
            # "1,000" groups thousands; "3.5" is a decimal point
            value = float(digits.replace(",", "")) if "," in digits else float(digits)
            scale = _SCALES.get(m.group(2) or "", 1)
            current += value * scale
            seen = True
        elif w in _UNITS and (w not in ("a", "an") or len(words) > 1):
            current += _UNITS[w]
            seen = True
        elif w in _SCALES and (seen or w == "dozen"):
            seen = True
            current = max(current, 1.0) * _SCALES[w]
            if _SCALES[w] >= 1000:
                total += current
                current = 0.0
        elif w in ("per", "cent", "percent", "%"):
            continue
        else:
            return None
    return total + current if seen else None


_BRIT_AMER = (
    ("our", "or"), ("ise", "ize"), ("ised", "ized"), ("ising", "izing"), ("isation", "ization"),
    ("yse", "yze"), ("tre", "ter"), ("ogue", "og"), ("ence", "ense"), ("lled", "led"),
    ("lling", "ling"), ("ller", "ler"), ("ae", "e"), ("oe", "e"),
)  # fmt: skip
_INFLECTIONS = ("ing", "ies", "ied", "es", "ed", "ly", "s", "d", "'s", "'")


def _americanise(word: str) -> str:
    for brit, amer in _BRIT_AMER:
        if brit in word:
            word = word.replace(brit, amer)
    return word


def _stem(word: str) -> str:
    for suffix in _INFLECTIONS:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)].rstrip("e")
    return word.rstrip("e")


def _is_spelling_variant(x: str, y: str) -> bool:
    fx, fy = fold(x), fold(y)
    if fx == fy:
        return True  # case or accent only
    if " " in fx or " " in fy:
        return fx.replace(" ", "").replace("-", "") == fy.replace(" ", "").replace("-", "")
    if _americanise(fx) == _americanise(fy):
        return True
    if _stem(fx) == _stem(fy) and len(_stem(fx)) >= 3:
        return True
    # a typo or transliteration: one or two characters apart in a longer word
    if min(len(fx), len(fy)) >= 5:
        ratio = difflib.SequenceMatcher(None, fx, fy, autojunk=False).ratio()
        return ratio >= 0.8 and fx[:2] == fy[:2]
    return False


def swap_key(source_text: str, target_text: str) -> tuple[str, str]:
    """The direction-free key of a swap: the two folded phrases, sorted."""
    x = " ".join(fold(source_text).split())
    y = " ".join(fold(target_text).split())
    return (x, y) if x <= y else (y, x)


def classify(
    source_text: str,
    target_text: str,
    aliases: EntityLookup | None = None,
    learned: Mapping[tuple[str, str], int] | None = None,
) -> EditKind:
    """The kind of a replace edit turning ``source_text`` into ``target_text``.

    Checked in this order: ``alias`` (the alias table says both name one entity, or the
    swap was learned from the collection), ``number`` (both sides are numbers: numerals or
    number words, equal or not), ``synonym`` (the shipped list), ``spelling`` (case,
    accents, British/American spelling, inflection of one stem, a near typo), ``other``.
    An empty side (insert or delete) is ``number`` when the other side is a number, else
    ``other``.
    """
    if not source_text.strip() or not target_text.strip():
        text = source_text.strip() or target_text.strip()
        return "number" if parse_number(text) is not None else "other"
    if aliases is not None and aliases.same_entity(source_text, target_text):
        return "alias"
    if learned and swap_key(source_text, target_text) in learned:
        return "alias"
    if parse_number(source_text) is not None and parse_number(target_text) is not None:
        return "number"
    if are_synonyms(source_text, target_text):
        return "synonym"
    if _is_spelling_variant(source_text, target_text):
        return "spelling"
    return "other"


def _name_like(text: str) -> bool:
    """Learned aliases are names: every word capitalised (or an abbreviation)."""
    words = text.split()
    return bool(words) and all(w[:1].isupper() or w[:1].isdigit() for w in words)


def learn_aliases(pairs: Iterable[ReusePair], min_pairs: int = 2) -> LearnedAliases:
    """Swaps of names that recur across at least ``min_pairs`` distinct article pairs.

    Only replace edits typed ``other`` whose both sides look like names (capitalised
    words) are counted, once per article pair; the result maps :func:`swap_key` to the
    number of pairs. "Mr Blair" for "Tony Blair" in two reprints is learned; "the" for
    "a" never is.
    """
    seen: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for pair in pairs:
        who = (min(pair.source, pair.target), max(pair.source, pair.target))
        for passage in pair.passages:
            for edit in passage.edits:
                if edit.op != "replace" or edit.kind != "other":
                    continue
                if not (_name_like(edit.source_text) and _name_like(edit.target_text)):
                    continue
                seen.setdefault(swap_key(edit.source_text, edit.target_text), set()).add(who)
    return {k: len(v) for k, v in sorted(seen.items()) if len(v) >= min_pairs}


def apply_learned_aliases(pairs: Iterable[ReusePair], learned: LearnedAliases) -> list[ReusePair]:
    """``pairs`` with every ``other`` replace edit whose swap was learned typed ``alias``."""
    out: list[ReusePair] = []
    for pair in pairs:
        passages: list[Passage] = []
        for passage in pair.passages:
            edits: list[Edit] = [
                replace(e, kind="alias")
                if e.op == "replace"
                and e.kind == "other"
                and swap_key(e.source_text, e.target_text) in learned
                else e
                for e in passage.edits
            ]
            passages.append(replace(passage, edits=tuple(edits)))
        out.append(replace(pair, passages=tuple(passages)))
    return out

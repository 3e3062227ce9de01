"""Typing the edits of a passage: number, alias, synonym, spelling, other.

:func:`classify` types one replaced phrase pair: numbers first ("1,000" / "1000",
"5" / "five"), then aliases (the alias table, swaps learned from the collection, and
:func:`name_variant`: one name in a shorter form, "BBC" / "British Broadcasting
Corporation", "Man Utd" / "Manchester United", "Mr Blair" / "Tony Blair").
:func:`learn_aliases` finds swaps of names that recur across article pairs of a
collection (a reuser's house style: "Tories" for "Conservatives", "the chancellor" for
"Gordon Brown"), keyed by :func:`swap_key` (words shared at both ends and possessives
set aside), and :func:`apply_learned_aliases` re-types those edits as aliases.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Protocol

from cydifflib import SequenceMatcher

from wiretrace.detect.synonyms import are_synonyms
from wiretrace.models import Edit, EditKind, ReusePair
from wiretrace.text.tokens import fold

__all__ = [
    "EntityLookup",
    "LearnedAliases",
    "apply_learned_aliases",
    "classify",
    "core",
    "core_words",
    "learn_aliases",
    "name_variant",
    "parse_number",
    "retype_edits",
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
            value = _numeral_value(m.group(1))
            if value is None:
                return None
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


def _numeral_value(digits: str) -> float | None:
    """The value of digit groups joined by "," and ".": the last mark is the decimal
    point when both appear ("1,000.5", "1.000,5"), "," alone groups thousands ("1,000"),
    one "." is a decimal point ("3.5"), several group thousands ("1.000.000"); other
    dotted groups (a date "24.03.2019", a version "10.5.3") are not one number: None."""
    if "," in digits and "." in digits:
        point = max(digits.rfind(","), digits.rfind("."))
        whole, frac = digits[:point], digits[point + 1 :]
        digits = whole.replace(",", "").replace(".", "") + "." + frac
    elif "," in digits:
        digits = digits.replace(",", "")
    elif digits.count(".") > 1:
        groups = digits.split(".")
        if not all(len(g) == 3 for g in groups[1:]) or len(groups[0]) > 3:
            return None
        digits = "".join(groups)
    try:
        return float(digits)
    except ValueError:  # "1,000.5.3": not a number
        return None


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
        ratio = SequenceMatcher(None, fx, fy, autojunk=False).ratio()
        return ratio >= 0.8 and fx[:2] == fy[:2]
    return False


_POSSESSIVE = re.compile(r"(?:['’]s|['’])$")
_EDGE_PUNCT = ".,;:!?\"'“”‘’()[]«»"


def _surface_words(text: str) -> list[str]:
    """Words of a phrase as written, without the punctuation around them."""
    return [w for w in (x.strip(_EDGE_PUNCT) for x in text.split()) if w]


def core_words(source_text: str, target_text: str) -> tuple[list[str], list[str]]:
    """The swap at the heart of an edit, as written: the words both sides share at their
    ends (case and accents aside) and a possessive both sides carry are removed, so
    "BBC Sport" -> "British Broadcasting Corporation Sport" is "BBC" -> "British
    Broadcasting Corporation" and "Labour's" -> "the Labour Party's" is "Labour" -> "the
    Labour Party". Each side keeps at least one word."""
    x, y = _surface_words(source_text), _surface_words(target_text)
    if x and y and _POSSESSIVE.search(x[-1]) and _POSSESSIVE.search(y[-1]):
        x[-1], y[-1] = _POSSESSIVE.sub("", x[-1]), _POSSESSIVE.sub("", y[-1])
    while len(x) > 1 and len(y) > 1 and fold(x[0]) == fold(y[0]):
        x, y = x[1:], y[1:]
    while len(x) > 1 and len(y) > 1 and fold(x[-1]) == fold(y[-1]):
        x, y = x[:-1], y[:-1]
    return x, y


def core(source_text: str, target_text: str) -> tuple[str, str]:
    """:func:`core_words`, folded and joined."""
    x, y = core_words(source_text, target_text)
    return " ".join(fold(" ".join(x)).split()), " ".join(fold(" ".join(y)).split())


def swap_key(source_text: str, target_text: str) -> tuple[str, str]:
    """The direction-free key of a swap: its :func:`core` phrases, sorted."""
    x, y = core(source_text, target_text)
    return (x, y) if x <= y else (y, x)


_TITLES = frozenset(
    """mr mrs ms miss dr sir lord lady dame prof professor president prime minister
    chancellor secretary senator sen rep gov governor king queen prince princess general
    gen judge justice chairman chairwoman chief mayor pope rev father captain coach
    manager boss leader the""".split()
)
_CONNECTORS = frozenset("of and for the de du la le von van & on in".split())
_PERCENT = frozenset({"%", "per cent", "percent", "pc"})
_CALENDAR = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday january february march
    april may june july august september october november december""".split()
)


def _is_name(words: list[str]) -> bool:
    """Capitalised words (connectors such as "of" aside, a leading "the" allowed)."""
    body = words[1:] if words and words[0].lower() == "the" else words
    return bool(body) and all(
        w[:1].isupper() or w[:1].isdigit() or w.lower() in _CONNECTORS for w in body
    )


def _initials(words: list[str]) -> str:
    return "".join(w[0] for w in words if w.lower() not in _CONNECTORS).lower()


def _abbreviates(short: str, long: str) -> bool:
    """``short`` is a clipped form of ``long``: same first letter, its letters in order
    in ``long``, and clearly shorter ("Utd" / "United", "Dems" / "Democrats")."""
    s, lo = short.lower(), long.lower()
    if not s or s[0] != lo[0] or len(s) > len(lo) - 2:
        return False
    it = iter(lo)
    return all(ch in it for ch in s)


# Words capitalised only because they start a sentence, never a name or part of one.
_FUNCTION_WORDS = frozenset(
    "a an and as at but by for from he her his i in it its of on or our she that the "
    "their them these they this those to we with you".split()
)


def name_variant(source_text: str, target_text: str) -> bool:
    """Two forms of one name, by the way names are shortened in news copy:

    - an acronym of the other side's capitalised words ("BBC" / "British Broadcasting
      Corporation", "IMF");
    - word-by-word clipping ("Man Utd" / "Manchester United", "Lib Dems" / "Liberal
      Democrats"), or one clipped word for a longer name ("Fed" / "Federal Reserve");
    - a part of the other name ("Labour" / "the Labour Party");
    - one surname under another title or first name ("Mr Blair" / "Prime Minister Tony
      Blair"), when one side's extra words include a title.

    Both sides must look like names (capitalised words); words both sides share at
    their ends are set aside first (:func:`core_words`).
    """
    full_x, full_y = _surface_words(source_text), _surface_words(target_text)
    if not (_is_name(full_x) and _is_name(full_y)):
        return False
    x, y = core_words(source_text, target_text)
    fx, fy = [w.lower() for w in x], [w.lower() for w in y]
    if fx == fy:
        return False
    short, long = (x, y) if len("".join(x)) <= len("".join(y)) else (y, x)
    fs, fl = [w.lower() for w in short], [w.lower() for w in long]
    if fs and fs[0] == "the":
        fs = fs[1:]
    if fl and fl[0] == "the":
        fl = fl[1:]
    if not fs or not fl or not set(fs) - _FUNCTION_WORDS:
        return False  # "He" for "He Mobility": a pronoun starting a sentence names nothing
    # an acronym, dotted or not
    if len(fs) == 1 and len(fl) >= 2 and fs[0].replace(".", "") == _initials(long):
        return short[-1].replace(".", "").isupper()
    if len(fs) == len(fl) and all(
        a == b or _abbreviates(a, b) for a, b in zip(fs, fl, strict=True)
    ):
        return True
    if len(fs) == 1 and len(fl) >= 2 and len(fs[0]) >= 3 and _abbreviates(fs[0], fl[0]):
        return fl[0].startswith(fs[0])
    n = len(fs)
    if any(fl[i : i + n] == fs for i in range(len(fl) - n + 1)):
        return True
    # the same surname: the other words are a title on at least one side
    ex, ey = _surface_words(source_text), _surface_words(target_text)
    if ex and ey and fold(ex[-1]) == fold(ey[-1]) and len(ex[-1]) > 1:
        rest_x = {w.lower() for w in ex[:-1]}
        rest_y = {w.lower() for w in ey[:-1]}
        return bool((rest_x | rest_y) & _TITLES) and rest_x != rest_y
    return False


def classify(
    source_text: str,
    target_text: str,
    aliases: EntityLookup | None = None,
    learned: Mapping[tuple[str, str], int] | None = None,
) -> EditKind:
    """The kind of a replace edit turning ``source_text`` into ``target_text``.

    Checked in this order: ``number`` (both sides are numbers: numerals or number words,
    equal or not, "1,000" / "1000", "5" / "five", "%" / "per cent"), ``alias`` (the
    alias table says both name one entity, the swap was learned from the collection, or
    one is a shortened form of the other name: :func:`name_variant`), ``synonym`` (the
    shipped list), ``spelling`` (case, accents, British/American spelling, inflection of
    one stem, a near typo), ``other``. An empty side (insert or delete) is ``number``
    when the other side is a number, else ``other``.
    """
    if not source_text.strip() or not target_text.strip():
        text = source_text.strip() or target_text.strip()
        return "number" if parse_number(text) is not None or fold(text) in _PERCENT else "other"
    if _is_number(source_text) and _is_number(target_text):
        return "number"
    if aliases is not None and (
        aliases.same_entity(source_text, target_text)
        or aliases.same_entity(*core_phrases(source_text, target_text))
    ):
        return "alias"
    if learned and swap_key(source_text, target_text) in learned:
        return "alias"
    if name_variant(source_text, target_text):
        return "alias"
    if are_synonyms(source_text, target_text):
        return "synonym"
    if _is_spelling_variant(source_text, target_text):
        return "spelling"
    return "other"


def _is_number(text: str) -> bool:
    return parse_number(text) is not None or " ".join(fold(text).split()) in _PERCENT


def core_phrases(source_text: str, target_text: str) -> tuple[str, str]:
    """:func:`core_words` as two phrases, as written."""
    x, y = core_words(source_text, target_text)
    return " ".join(x), " ".join(y)


def _name_like(text: str) -> bool:
    """Learned aliases are names: every word capitalised (or an abbreviation)."""
    words = text.split()
    return bool(words) and all(w[:1].isupper() or w[:1].isdigit() for w in words)


def _learnable(source_text: str, target_text: str) -> bool:
    """A swap worth learning names something: one side is a name (capitalised words)
    and the other a name or a short description ("Gordon Brown" / "the chancellor");
    "the" for "a" never is."""
    x, y = core_words(source_text, target_text)
    if not x or not y or len(x) > 5 or len(y) > 5:
        return False
    if {w.lower() for w in (*x, *y)} & _CALENDAR:
        return False  # "Monday" -> "Tuesday" changes a fact, it names nothing
    named_x, named_y = _is_name(x), _is_name(y)
    if named_x and named_y:
        return True
    other = y if named_x else x
    return (named_x or named_y) and other[0].lower() == "the" and len(other) <= 3


def learn_aliases(pairs: Iterable[ReusePair], min_pairs: int = 2) -> LearnedAliases:
    """Swaps of names that recur across at least ``min_pairs`` distinct article pairs.

    Only replace edits typed ``other`` that name something (:func:`_learnable`: one side
    a name, the other a name or "the ..." description) are counted, once per article
    pair, under their :func:`swap_key` (so "Gordon Brown's" -> "the chancellor's" and
    "Gordon Brown" -> "the chancellor" are one swap); the result maps the key to the
    number of pairs. "Tories" for "Conservatives" in two reprints is learned; "the" for
    "a" never is.
    """
    seen: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for pair in pairs:
        who = (min(pair.source, pair.target), max(pair.source, pair.target))
        for passage in pair.passages:
            for edit in passage.edits:
                if edit.op != "replace" or edit.kind != "other":
                    continue
                if not _learnable(edit.source_text, edit.target_text):
                    continue
                seen.setdefault(swap_key(edit.source_text, edit.target_text), set()).add(who)
    return {k: len(v) for k, v in sorted(seen.items()) if len(v) >= min_pairs}


def _word_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


def _peel(
    edit: Edit, learned: Mapping[tuple[str, str], int], aliases: EntityLookup | None = None
) -> list[Edit] | None:
    """An alias swap (learned, in the alias table, or a :func:`name_variant`) with one
    word inserted or dropped next to it, which the word alignment glued into one replace
    ("Manchester United" -> "Man Utd indeed"), split into the swap (``alias``) and the
    insertion or deletion (``other``); None when no such split exists."""
    ws, wt = _word_spans(edit.source_text), _word_spans(edit.target_text)
    for side, words in (("target", wt), ("source", ws)):
        if len(words) < 2:
            continue
        for at_end in (True, False):
            (lo, hi), rest = (
                (words[-1], (words[0][0], words[-2][1]))
                if at_end
                else (words[0], (words[1][0], words[-1][1]))
            )
            if side == "target":
                x, y = edit.source_text, edit.target_text[rest[0] : rest[1]]
            else:
                x, y = edit.source_text[rest[0] : rest[1]], edit.target_text
            if (
                swap_key(x, y) in learned
                or name_variant(x, y)
                or (aliases is not None and aliases.same_entity(x, y))
            ):
                return _split(edit, side, rest, (lo, hi))
    return None


def _split(edit: Edit, side: str, rest: tuple[int, int], extra: tuple[int, int]) -> list[Edit]:
    """``edit`` as a learned swap over ``rest`` and an insertion (target side) or a
    deletion (source side) of ``extra`` (offsets relative to that side's text)."""
    if side == "target":
        base = edit.target_start
        swap = replace(
            edit,
            target_start=base + rest[0],
            target_end=base + rest[1],
            target_text=edit.target_text[rest[0] : rest[1]],
            kind="alias",
        )
        point = edit.source_end if extra[0] > rest[0] else edit.source_start
        gap = Edit(
            "insert", point, point, base + extra[0], base + extra[1], "",
            edit.target_text[extra[0] : extra[1]], "other",
        )  # fmt: skip
    else:
        base = edit.source_start
        swap = replace(
            edit,
            source_start=base + rest[0],
            source_end=base + rest[1],
            source_text=edit.source_text[rest[0] : rest[1]],
            kind="alias",
        )
        point = edit.target_end if extra[0] > rest[0] else edit.target_start
        gap = Edit(
            "delete", base + extra[0], base + extra[1], point, point,
            edit.source_text[extra[0] : extra[1]], "", "other",
        )  # fmt: skip
    return sorted((swap, gap), key=lambda e: (e.source_start, e.target_start))


def retype_edits(
    edits: Iterable[Edit],
    learned: Mapping[tuple[str, str], int],
    aliases: EntityLookup | None = None,
) -> tuple[Edit, ...]:
    """Edits with learned swaps typed ``alias``: an ``other`` replace whose
    :func:`swap_key` was learned, or that holds an alias swap next to one inserted or
    dropped word (:func:`_peel`)."""
    out: list[Edit] = []
    for e in edits:
        if e.op != "replace" or e.kind != "other":
            out.append(e)
        elif swap_key(e.source_text, e.target_text) in learned:
            out.append(replace(e, kind="alias"))
        else:
            out.extend(_peel(e, learned, aliases) or (e,))
    return tuple(out)


def apply_learned_aliases(
    pairs: Iterable[ReusePair], learned: Mapping[tuple[str, str], int]
) -> list[ReusePair]:
    """``pairs`` with their edits re-typed by :func:`retype_edits`."""
    out: list[ReusePair] = []
    for pair in pairs:
        passages = tuple(replace(p, edits=retype_edits(p.edits, learned)) for p in pair.passages)
        out.append(replace(pair, passages=passages))
    return out

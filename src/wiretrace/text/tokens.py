"""Word tokens with character offsets.

A token is a maximal run of letters/digits, joined across internal hyphens and
apostrophes ("crisis-stricken", "Venezuela's", "IL-62"), dotted abbreviations kept whole
with their final dot ("U.S.", "U.K.", possessive "U.S.'s"), numbers with their
separators ("1,000", "3.5").
Scripts written without spaces between words (Han, Hiragana, Katakana, Thai, Lao, Khmer,
Myanmar) give one token per character; the fingerprint stage then uses character
n-grams for them.

Offsets are code point offsets into the text, end exclusive. Excluded spans (title,
boilerplate) are skipped: no token overlaps them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from operator import methodcaller

import regex

from wiretrace.models import Span

__all__ = ["TokenSeq", "fold", "is_unspaced", "tokenize", "word_count"]

_SCRIPTS = ("Han", "Hiragana", "Katakana", "Thai", "Lao", "Khmer", "Myanmar")
# Script extensions, so that the prolonged sound mark (ー) and iteration marks count as
# Japanese; intersected with letters/digits so that 、。 stay punctuation.
_UNSPACED = "[[" + "".join(rf"\p{{scx={s}}}" for s in _SCRIPTS) + r"]&&[\p{L}\p{N}]]"
_WORD_CHAR = rf"[[\p{{L}}\p{{M}}\p{{N}}]--{_UNSPACED}]"
_LETTER = rf"[[\p{{L}}\p{{M}}]--{_UNSPACED}]"
# Joiners inside a word: hyphen, apostrophes, and ZWNJ/ZWJ (Persian, Indic scripts).
_JOIN = "[-'’\u200c\u200d]"
_TOKEN = regex.compile(
    rf"{_UNSPACED}\p{{M}}*"  # one character (with its marks) of an unspaced script
    rf"|(?:[[\p{{L}}]--{_UNSPACED}]\.){{2,}}(?:['’]s(?!{_WORD_CHAR}))?"  # U.S.  e.g.  U.S.'s
    rf"|\p{{N}}+(?:[.,:]\p{{N}}+)*(?:{_LETTER}+(?:{_JOIN}{_WORD_CHAR}+)*)?"  # 1,000 3.5 9am
    rf"|{_WORD_CHAR}+(?:{_JOIN}{_WORD_CHAR}+)*",
    regex.V1,
)
# Anything past Latin (combining marks from U+0300, other scripts, CJK, fullwidth forms,
# ZWNJ) keeps the text off the Latin pattern; general punctuation, currency signs and
# symbols (U+2000-U+2BFF, typographic quotes and dashes included) do not.
_NOT_LATIN = re.compile("[\u0300-\u1fff\u200c\u200d\u20d0-\u20ff\u2c00-\U0010ffff]")


def _class(codepoints: Iterable[int], categories: str) -> str:
    """An explicit character class of the code points whose Unicode category starts
    with one of ``categories`` ("L", "N"): the standard library's engine tests a class
    of ranges faster than ``[^\\W_]``, which asks the Unicode database per character."""
    ranges: list[list[int]] = []
    for cp in codepoints:
        if unicodedata.category(chr(cp))[0] in categories:
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    body = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )
    return f"[{body}]"


_LATIN_RANGE = (*range(0x300), *range(0x2000, 0x2C00))
_LATIN_L = _class(_LATIN_RANGE, "L")
_LATIN_N = _class(_LATIN_RANGE, "N")
_LATIN_W = _class(_LATIN_RANGE, "LN")
# _TOKEN's alternatives with explicit classes, for text that _NOT_LATIN passes (the
# common case in news): the same tokens, with the standard library's faster engine.
_LATIN_TOKEN = re.compile(
    rf"(?:{_LATIN_L}\.){{2,}}(?:['’]s(?!{_LATIN_W}))?"
    rf"|{_LATIN_N}+(?:[.,:]{_LATIN_N}+)*(?:{_LATIN_L}+(?:[-'’]{_LATIN_W}+)*)?"
    rf"|{_LATIN_W}+(?:[-'’]{_LATIN_W}+)*"
)
# The same tokens for text in any spaced script without combining marks (Cyrillic,
# Greek, unvocalised Arabic and Hebrew, Hangul...): once _needs_full() has sent away text
# with marks, unspaced scripts and non-decimal numbers (², ½, Ⅻ), the standard
# library's \d is \p{N} and [^\W\d_] is \p{L}.
_PLAIN_TOKEN = re.compile(
    r"(?:[^\W\d_]\.){2,}(?:['’]s(?![^\W_]))?"
    r"|\d+(?:[.,:]\d+)*(?:[^\W\d_]+(?:[-'’][^\W_]+)*)?"
    r"|[^\W_]+(?:[-'’][^\W_]+)*"
)
_UNSPACED_CHAR = regex.compile(_UNSPACED, regex.V1)


@cache
def _needs_full() -> re.Pattern[str]:
    """Characters only the full pattern handles: combining marks, non-decimal numbers,
    ZWNJ/ZWJ, unspaced scripts, and anything outside the Basic Multilingual Plane.

    An explicit class of BMP ranges, built once (on the first non-Latin text), so the
    standard library's engine scans it with a bitmap.
    """
    ranges: list[list[int]] = []
    for cp in range(0x80, 0x10000):
        c = chr(cp)
        if (
            unicodedata.category(c) in ("Mn", "Mc", "Me", "Nl", "No")
            or c in "\u200c\u200d"
            or (c.isalnum() and _UNSPACED_CHAR.match(c) is not None)
        ):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    body = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )
    return re.compile(f"[{body}]|[\U00010000-\U0010ffff]")


def _pattern(text: str) -> re.Pattern[str] | regex.Pattern[str]:
    """The fastest pattern that tokenizes ``text`` exactly as ``_TOKEN`` does."""
    if not _NOT_LATIN.search(text):
        return _LATIN_TOKEN
    if not _needs_full().search(text):
        return _PLAIN_TOKEN
    return _TOKEN


@dataclass(slots=True)
class TokenSeq:
    """Parallel lists: ``norms[i]`` is the folded form of ``text[starts[i]:ends[i]]``.

    After alias normalisation one entry may cover several words ("Russian Federation");
    ``words[i]`` counts the surface words it covers.
    """

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    norms: list[str] = field(default_factory=list)
    words: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.norms)

    @property
    def word_total(self) -> int:
        return sum(self.words)


# Marks removed by accent folding: Latin/Greek/Cyrillic diacritics, Hebrew points, Arabic
# harakat. Marks that change the letter in other scripts stay (Indic viramas and vowel
# signs, kana voicing marks, Thai tone marks): removing them would merge different words.
_FOLDED_MARKS = re.compile(
    "[\u0300-\u036f\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7"
    "\u0610-\u061a\u064b-\u065f\u0670\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)


# Cyrillic letters written with a mark that are letters of their own (й, ї, ў), unlike
# ё, which Russian text commonly writes as е: kept through accent folding.
_KEPT = "йїў"
_PROTECT = {ord(c): chr(0xE000 + i) for i, c in enumerate(_KEPT)}
_UNPROTECT = {0xE000 + i: c for i, c in enumerate(_KEPT)}


def fold(word: str, accents: bool = True) -> str:
    """Case-fold and (optionally) strip accents; typographic apostrophes become "'".

    Compatibility forms are unified (fullwidth letters, ligatures: NFKC), so the result
    of a non-ASCII word is in NFC. ASCII words only change case.
    """
    word = word.casefold().replace("’", "'")
    if word.isascii():
        return word
    return _fold_unicode(word, accents)


@lru_cache(maxsize=1 << 18)
def _fold_unicode(word: str, accents: bool) -> str:
    # cached: news vocabulary repeats, and normalisation forms cost microseconds a word
    if accents:
        protected = word.translate(_PROTECT)
        stripped = _FOLDED_MARKS.sub("", unicodedata.normalize("NFKD", protected))
        return unicodedata.normalize("NFC", stripped).translate(_UNPROTECT)
    return unicodedata.normalize("NFKC", word)


def is_unspaced(token: str) -> bool:
    """True for a token of a script written without spaces (one character per token)."""
    return _UNSPACED_CHAR.match(token) is not None


def _allowed_ranges(length: int, excluded: Sequence[Span]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    pos = 0
    for span in sorted(excluded, key=lambda s: s.start):
        if span.start > pos:
            ranges.append((pos, min(span.start, length)))
        pos = max(pos, span.end)
    if pos < length:
        ranges.append((pos, length))
    return ranges


# works on the standard library's matches and on the regex module's
_SPAN = methodcaller("span")


def tokenize(text: str, excluded: Iterable[Span] = (), accents: bool = True) -> TokenSeq:
    """Tokens of ``text`` outside the ``excluded`` spans.

    ``norms[i]`` is ``fold(text[starts[i]:ends[i]], accents)``; ``words[i]`` is 1.
    """
    seq = TokenSeq()
    pattern = _count_pattern(text)  # _pattern's matches, scanned faster
    spans: list[tuple[int, int]] = []
    for lo, hi in _allowed_ranges(len(text), list(excluded)):
        spans.extend(map(_SPAN, pattern.finditer(text, lo, hi)))  # no per-match frame
    if not spans:
        return seq
    lowered = text.lower()
    if len(lowered) == len(text):
        # One lowering of the whole text, then slices: much cheaper than folding each
        # token; only the non-ASCII tokens need the full fold (none in ASCII text).
        norms = [lowered[s:e] for s, e in spans]
        if not text.isascii():
            norms = [
                n if n.isascii() else fold(text[s:e], accents)
                for n, (s, e) in zip(norms, spans, strict=True)
            ]
        seq.norms = norms
    else:  # a character that lowers to two (İ): fold token by token
        seq.norms = [fold(text[s:e], accents) for s, e in spans]
    starts, ends = zip(*spans, strict=True)
    seq.starts = list(starts)
    seq.ends = list(ends)
    seq.words = [1] * len(spans)
    return seq


def _first_char_form(letter: str, number: str, word: str, quotes: str) -> re.Pattern[str]:
    """``_LATIN_TOKEN`` over these classes, rewritten to begin with one character class
    (each alternative checks that first character by a lookbehind): the standard
    library's engine then skips the characters between tokens with a fast class scan
    instead of trying every alternative at every position. Same matches, same spans."""
    return re.compile(
        rf"{word}(?:(?<={letter})\.(?:{letter}\.)+(?:[{quotes}]s(?!{word}))?"
        rf"|(?<={number}){number}*(?:[.,:]{number}+)*(?:{letter}+(?:[-{quotes}]{word}+)*)?"
        rf"|{word}*(?:[-{quotes}]{word}+)*)"
    )


# For counting (word_count): ASCII text, and other text _NOT_LATIN passes.
_ASCII_COUNT = _first_char_form("[A-Za-z]", "[0-9]", "[A-Za-z0-9]", "'")
_LATIN_COUNT = _first_char_form(_LATIN_L, _LATIN_N, _LATIN_W, "'’")


def _count_pattern(text: str) -> re.Pattern[str] | regex.Pattern[str]:
    """A pattern with ``_pattern(text)``'s matches, faster to scan where one exists."""
    if text.isascii():
        return _ASCII_COUNT
    if not _NOT_LATIN.search(text):
        return _LATIN_COUNT
    return _pattern(text)


def word_count(text: str, excluded: Iterable[Span] = ()) -> int:
    """Number of word tokens outside the excluded spans (``len(tokenize(...))``)."""
    ranges = _allowed_ranges(len(text), list(excluded))
    ascii_text = _as_ascii(text)
    if ascii_text is not None:
        return _count_ascii(ascii_text, ranges)
    pattern = _count_pattern(text)
    # counting matches needs no folding
    return sum(len(pattern.findall(text, lo, hi)) for lo, hi in ranges)


# -- counting without matching every token ----------------------------------------------
#
# Counting is the per-article cost of ingest (every stored article has its body word
# count), and matching each of an article's ~400 tokens costs far more than scanning
# it. So Latin text is counted in three byte-level passes instead:
#
# - the text is put in ASCII without changing what ``_LATIN_COUNT`` finds: every other
#   character is replaced by one of its class for the pattern (a letter by "a", a number
#   by "0", the typographic apostrophe by "'", anything else by a space), which keeps
#   every offset;
# - tokens never contain a character outside ``[A-Za-z0-9.,:'-]``, so they lie inside
#   *chunks*, maximal runs of those characters, and a chunk is tokenized alone;
# - in a chunk without a punctuation mark between two word characters and without a
#   digit, letters and a digit in a row ("4x4"), every maximal run of word characters is
#   one token (no alternative of the pattern joins two runs, or splits one). So the
#   count is the number of runs (a ``bytes.count``), corrected by matching the tokens of
#   the few other chunks ("U.S.", "1,000", "don't", "well-known").
#
# tests/test_text.py checks the count against ``tokenize`` on corpora and random text.

#: Byte maps: word characters to "a", the rest to a space (runs); letters to "a",
#: digits to "0", the punctuation tokens may hold to "p", the rest to a space (marks).
_RUNS = bytes(
    ord("a") if chr(b).isascii() and chr(b).isalnum() else ord(" ") for b in range(256)
)
_MARKS = bytes(
    ord("a") if chr(b).isascii() and chr(b).isalpha()
    else ord("0") if chr(b).isascii() and chr(b).isdigit()
    else ord("p") if chr(b) in ".,:'-"
    else ord(" ")
    for b in range(256)
)
#: Where a chunk may hold other than one token per run (see above), in the marks: each
#: pattern starts with a literal, which the engine finds with a fast substring search.
_GLUED = re.compile(rb"p(?<=[a0]p)(?=[a0])")
_SPLIT = re.compile(rb"0a+0")
_NON_ASCII = re.compile("[^\x00-\x7f]")


def _as_ascii(text: str) -> str | None:
    """``text`` with each non-ASCII character replaced by its class for
    ``_LATIN_COUNT`` (same length, same token count); None for text past Latin."""
    if text.isascii():
        return text
    others = set(_NON_ASCII.findall(text))
    if any(_NOT_LATIN.match(ch) for ch in others):
        return None
    for ch in others:
        text = text.replace(ch, _ascii_class(ch))
    return text


@lru_cache(maxsize=4096)
def _ascii_class(ch: str) -> str:
    """The ASCII stand-in of a non-ASCII Latin-range character (see ``_as_ascii``)."""
    if ch == "’":
        return "'"
    category = unicodedata.category(ch)[0]
    return "a" if category == "L" else "0" if category == "N" else " "


def _count_ascii(text: str, ranges: Sequence[tuple[int, int]]) -> int:
    """``_ASCII_COUNT``'s matches in ``text`` (ASCII) within ``ranges``."""
    data = text.encode("ascii")
    runs = data.translate(_RUNS)
    marks = data.translate(_MARKS)
    total = 0
    for lo, hi in ranges:
        total += runs.count(b" a", lo, hi) + (runs[lo : lo + 1] == b"a")
        spots = [m.start() for m in _GLUED.finditer(marks, lo, hi)]
        spots.extend(m.start() for m in _SPLIT.finditer(marks, lo, hi))
        if len(spots) > 1:
            spots.sort()
        end = lo  # the chunks before this are counted
        for at in spots:
            if at < end:
                continue  # in a chunk already corrected
            start = max(lo, marks.rfind(b" ", lo, at) + 1)
            end = marks.find(b" ", at, hi)
            if end < 0:
                end = hi
            tokens = len(_ASCII_COUNT.findall(text, start, end))
            total += tokens - runs.count(b" a", start, end) - (runs[start : start + 1] == b"a")
    return total

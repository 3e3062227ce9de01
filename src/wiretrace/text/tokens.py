"""Word tokens with character offsets.

A token is a maximal run of letters/digits, joined across internal hyphens and
apostrophes ("crisis-stricken", "Venezuela's", "IL-62"), dotted abbreviations kept whole
with their final dot ("U.S.", "U.K."), numbers with their separators ("1,000", "3.5").
Scripts written without spaces between words (Han, Hiragana, Katakana, Thai, Lao, Khmer,
Myanmar) give one token per character; the fingerprint stage then uses character
n-grams for them.

Offsets are code point offsets into the text, end exclusive. Excluded spans (title,
boilerplate) are skipped: no token overlaps them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import regex

from wiretrace.models import Span

__all__ = ["TokenSeq", "fold", "tokenize", "word_count"]

_UNSPACED = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_TOKEN = regex.compile(
    rf"[{_UNSPACED}]"  # one character of an unspaced script
    r"|(?:\p{L}\.){2,}"  # U.S.  U.K.  e.g.
    r"|\p{N}+(?:[.,:]\p{N}+)*(?:[\p{L}\p{M}]+(?:[-'’][\p{L}\p{M}\p{N}]+)*)?"  # 1,000  3.5  9am
    rf"|(?:(?![{_UNSPACED}])[\p{{L}}\p{{M}}\p{{N}}])+"
    rf"(?:[-'’](?:(?![{_UNSPACED}])[\p{{L}}\p{{M}}\p{{N}}])+)*",
    regex.V1,
)


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


def fold(word: str, accents: bool = True) -> str:
    """Case-fold and (optionally) strip accents; typographic apostrophes become "'"."""
    word = word.casefold().replace("’", "'")
    if accents and not word.isascii():
        decomposed = unicodedata.normalize("NFKD", word)
        word = "".join(c for c in decomposed if not unicodedata.combining(c))
    return word


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


def tokenize(text: str, excluded: Iterable[Span] = (), accents: bool = True) -> TokenSeq:
    """Tokens of ``text`` outside the ``excluded`` spans."""
    seq = TokenSeq()
    starts, ends, norms, words = seq.starts, seq.ends, seq.norms, seq.words
    for lo, hi in _allowed_ranges(len(text), list(excluded)):
        for m in _TOKEN.finditer(text, lo, hi):
            starts.append(m.start())
            ends.append(m.end())
            norms.append(fold(m.group(), accents))
            words.append(1)
    return seq


def word_count(text: str, excluded: Iterable[Span] = ()) -> int:
    """Number of word tokens outside the excluded spans."""
    return len(tokenize(text, excluded))

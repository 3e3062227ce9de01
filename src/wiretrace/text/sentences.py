"""Sentence boundaries with exact character offsets.

Rules (news prose, any script):

- a sentence ends at ``.``, ``!``, ``?``, ``…`` (and runs of them) plus any closing quotes
  or brackets, when whitespace or the end of the text follows; at ``。！？`` (and the
  fullwidth/halfwidth variants) whatever follows, since those scripts put no space;
- a paragraph break (a blank line) always ends a sentence; so does a single line break,
  except in hard-wrapped text (lines of similar length under 100 characters), where only
  a line break after a short line (a heading) before a line that starts like a
  sentence does;
- a full stop does not end a sentence after a title or other abbreviation ("Mr. Smith",
  "Gen. Padrino", "Feb. 3"), an initial ("John F. Kennedy"), or a dotted acronym
  ("U.S. interventionism", "U.S. President") unless the next word is a usual sentence
  opener ("... the U.S. The talks ..."); no mark ends a sentence when the next word
  starts in lower case ("Yahoo! said", "'Why?' he asked");
- no sentence crosses an excluded span (title, boilerplate): each allowed range is split
  on its own.

A span starts at the sentence's first non-space character and ends after its final
punctuation and closing quote (offsets in code points, end exclusive), with no leading
or trailing whitespace. Ranges without any letter or digit give no sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from wiretrace.models import Span

__all__ = ["split_sentences"]

_CLOSERS = re.escape("\"'”’»)]}›」』）")
# A candidate end: terminal marks + closers, then whitespace or the end; or a CJK stop.
_END = re.compile(rf"(?:[.!?…]+[{_CLOSERS}]*(?=\s|$)|[。！？｡︒]+[{_CLOSERS}]*)")
_PARAGRAPH = re.compile(r"\n[ \t\r\f\v\u00a0]*\n\s*|\r[ \t\f\v\u00a0]*\r\s*")
_LINE = re.compile(r"\r?\n|\r")
_WORD_BEFORE = re.compile(r"([^\W_][\w.'’-]*)$")
_WORD_AFTER = re.compile(rf"\s*[{_CLOSERS}“‘«(\[]*(\w+)")
_HAS_WORD = re.compile(r"[^\W_]")

# Abbreviations that precede a name and so never end a sentence.
_TITLES = frozenset(
    """mr mrs ms mssrs messrs dr prof rev gen lt col maj capt cpt sgt cmdr adm brig cdr
    gov sen rep pres supt insp det fr st mt hon amb atty vs v""".split()
)
# Abbreviations that precede a number: no break before a digit ("No. 10", "Fig. 3"),
# a break otherwise ("The answer was no. Then ...").
_BEFORE_NUMBER = frozenset("no nos vol vols pp p fig figs art sec ch para approx ca".split())
# Month abbreviations: no break before a day number ("Feb. 3"), a break otherwise.
_MONTHS = frozenset("jan feb mar apr jun jul aug sep sept oct nov dec".split())
# Words that start sentences: after a dotted acronym they mean a new sentence.
_OPENERS = frozenset(
    """the a an he she it they we i you his her its their our this that these those
    there here but and or so yet however meanwhile in on at for with after before when
    while if as since although though despite many some most one two three no not
    what who why how where mr mrs ms dr""".split()
)
# In wrapped text, a line shorter than this share of the usual line length that lacks
# final punctuation is a heading when the next line starts like a sentence.
_SHORT_LINE = 0.6


def split_sentences(text: str, excluded: Iterable[Span] = ()) -> list[Span]:
    """Sentence spans (kind ``"sentence"``) of ``text`` outside ``excluded``, in order."""
    spans: list[Span] = []
    wrapped = _wrap_width(text)
    for lo, hi in _allowed(len(text), excluded):
        for plo, phi in _paragraphs(text, lo, hi, wrapped):
            for s, e in _sentences(text, plo, phi):
                spans.append(Span(s, e, "sentence"))
    return spans


def _allowed(length: int, excluded: Iterable[Span]) -> Iterator[tuple[int, int]]:
    pos = 0
    for span in sorted(excluded, key=lambda s: s.start):
        if span.start > pos:
            yield pos, min(span.start, length)
        pos = max(pos, span.end)
    if pos < length:
        yield pos, length


def _wrap_width(text: str) -> int:
    """The median line length of hard-wrapped text (lines of similar length under 100
    characters), where a line break is a space; 0 for other text (one paragraph per
    line, as extracted web text), where every line break ends a paragraph."""
    lengths = sorted(len(line) for line in text.splitlines() if line.strip())
    if len(lengths) < 4:
        return 0
    median = lengths[len(lengths) // 2]
    return median if median >= 40 and lengths[len(lengths) * 9 // 10] <= 100 else 0


def _paragraphs(text: str, lo: int, hi: int, wrapped: int) -> Iterator[tuple[int, int]]:
    start = lo
    for m in _PARAGRAPH.finditer(text, lo, hi):
        yield from _lines(text, start, m.start(), wrapped)
        start = m.end()
    yield from _lines(text, start, hi, wrapped)


def _lines(text: str, lo: int, hi: int, wrapped: int) -> Iterator[tuple[int, int]]:
    """Split a paragraph at its line breaks, or, in wrapped text, only at those that end
    a heading-like short line."""
    start = lo
    for m in _LINE.finditer(text, lo, hi):
        if not wrapped or _ends_heading(
            text[start : m.start()].strip(), text[m.end() : min(hi, m.end() + 8)].lstrip(), wrapped
        ):
            yield start, m.start()
            start = m.end()
    yield start, hi


def _ends_heading(line: str, rest: str, width: int) -> bool:
    return bool(
        line
        and len(line) < width * _SHORT_LINE
        and line[-1] not in ",;:-–—"
        and rest[:1]
        and (rest[0].isupper() or rest[0].isdigit() or rest[0] in "\"“‘«'(•*-–—")
    )


def _sentences(text: str, lo: int, hi: int) -> Iterator[tuple[int, int]]:
    start = lo
    for m in _END.finditer(text, lo, hi):
        if not _is_boundary(text, m, hi):
            continue
        yield from _trimmed(text, start, m.end())
        start = m.end()
    yield from _trimmed(text, start, hi)


def _trimmed(text: str, lo: int, hi: int) -> Iterator[tuple[int, int]]:
    while lo < hi and text[lo].isspace():
        lo += 1
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    if lo < hi and _HAS_WORD.search(text, lo, hi):
        yield lo, hi


def _is_boundary(text: str, m: re.Match[str], hi: int) -> bool:
    marks = m.group()
    if marks[0] in "。！？｡︒":
        return True
    after = _WORD_AFTER.match(text, m.end(), hi)
    next_word = after.group(1) if after else ""
    if next_word[:1].islower():
        return False  # "etc. and", "Yahoo! said", "'Why?' he asked"
    if not marks.startswith(".") or marks.startswith(".."):
        return True
    before = _WORD_BEFORE.search(text, max(0, m.start() - 40), m.start())
    if before is None:
        return True
    word = before.group(1)
    bare = word.rstrip(".").lower()
    if "." in word.rstrip("."):
        # a dotted acronym ("U.S.", "a.m."): ends a sentence only before an opener
        return next_word.lower() in _OPENERS or not next_word
    if bare in _TITLES:
        return False
    if bare in _MONTHS or bare in _BEFORE_NUMBER:
        return not next_word[:1].isdigit()
    # an initial ("John F. Kennedy") does not end a sentence
    return not (len(bare) == 1 and word[0].isupper())

"""Passage alignment for one article pair: the pure kernel both engines call.

Method (passim/TextPAIR-like, with a sentence-level pass for light paraphrase):

1. **anchors**: every word n-gram (``detect.anchor_ngram`` normalised tokens) the two
   token sequences share, not only winnowed fingerprints; n-grams repeated more than
   ``detect.max_anchor_repeats`` times on one side are banal and skipped.
2. **runs and regions**: anchors on one diagonal merge into maximal exact runs; runs
   chain into regions when they follow each other on both sides within
   ``detect.max_gap`` tokens (substitutions, small insertions and deletions). A run
   that does not follow on both sides starts a new region, so reordered text gives
   several regions whose order differs on the two sides.
3. **sentences**: every sentence pair (``text.sentences``) whose word alignment ratio is
   at least ``detect.sentence_similarity`` becomes a region too (a reused sentence
   with words swapped too densely for n-gram anchors). Regions that overlap or follow
   each other closely on both sides are merged.
4. **word alignment** in each region (``difflib.SequenceMatcher`` on normalised tokens,
   no junk heuristic): the region is trimmed to its first and last equal token; a few
   tokens spilling into a sentence cut short on both sides ("court. The") are dropped;
   the region is then snapped to the sentence start/end when what lies outside it in
   that sentence is at most ``detect.snap_words`` tokens on each side, or much the same
   on both sides (``detect.sentence_similarity``), so a reused sentence whose first
   word was changed, or whose tail follows an inserted word, is reported whole. A
   dateline ("LONDON (Reuters) - ") is a unit of its own, never taken by snapping.
   Marks are exact to the word: the sentence-final punctuation (and closing quote)
   when the passage ends a sentence on both sides, an opening quote or a list dash
   that opens it on both sides.
5. **filter**: passages under ``detect.min_passage_words`` words on either side or under
   ``detect.min_similarity`` are dropped, so shared stock phrases of independent
   reporting are not reuse.
6. **edits**: the word alignment's replace, insert and delete steps, typed by
   ``detect.edits.classify``; a replaced block is cut at the sentence ends inside it,
   a swapped name is reported whole ("Tony Blair" -> "Mr Blair"), a name lengthened
   or shortened by a word is one swap, and a swap glued to an inserted word is split
   from it. Equal normalised tokens whose surfaces differ (the alias table merged
   "U.S." and "USA"; "1,000" and "1000") are ``replace`` edits too.

Offsets are code point offsets into each article's text, end exclusive; ``source_*``
refers to ``a``, ``target_*`` to ``b``.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from wiretrace.detect.edits import EntityLookup, classify, retype_edits
from wiretrace.models import Article, Edit, EditOp, Passage, Span
from wiretrace.settings import DetectSettings, Settings
from wiretrace.text.tokens import TokenSeq, fold

__all__ = ["SentenceSplitter", "align_pair", "align_sequences"]

#: ``(text, excluded) -> sentence spans``; ``text.sentences.split_sentences`` by default.
SentenceSplitter = Callable[[str, Sequence[Span]], list[Span]]

_FINAL = re.compile(r"(?: ?[.!?…]+[\"'”’»)\]]*|[\"'”’»)\]]+[.!?…]+)")
# "LONDON (Reuters) - ", "NEW YORK, March 3 (AP) -- ": place in capitals, an optional
# date, the agency in brackets, a dash
_DATELINE = re.compile(
    r"[A-Z][A-Z.'’ -]{1,40}(?:,[^()\n]{1,30})?\s*\([^()\n]{1,40}\)\s*[-–—]{1,2}\s+"
)
_PERCENT = frozenset({"per cent", "percent", "pc"})
_BULLETS = ("- ", "– ", "— ", "• ", "* ")
_OPENERS = "\"'“‘«(["
_CLOSERS = '")]”»'
_PAIRS = {")": "(", "]": "[", "”": "“", "»": "«"}


@dataclass(slots=True)
class _Region:
    """Token index ranges ``[a0, a1)`` of a and ``[b0, b1)`` of b, end exclusive."""

    a0: int
    a1: int
    b0: int
    b1: int


@dataclass(slots=True)
class _Side:
    """One article's text with its tokens and sentence boundaries (token indices)."""

    text: str
    seq: TokenSeq
    sent_of: list[int]  # token -> sentence number
    sent_lo: list[int]  # sentence -> first token
    sent_hi: list[int]  # sentence -> end token (exclusive)


def _units(text: str, sentences: Sequence[Span]) -> list[tuple[int, int]]:
    """Sentence character ranges, sorted, with a leading dateline ("LONDON (PA) - ",
    "WASHINGTON, March 3 (Reuters) - ") cut off as a unit of its own: it is a credit
    line, not part of the sentence it precedes."""
    out: list[tuple[int, int]] = []
    for start, end in sorted((s.start, s.end) for s in sentences):
        m = _DATELINE.match(text, start, end)
        if m and m.end() < end:
            out += [(start, m.end()), (m.end(), end)]
        else:
            out.append((start, end))
    return out


def _side(text: str, seq: TokenSeq, sentences: Sequence[Span]) -> _Side:
    n = len(seq)
    sent_of = [0] * n
    lo: list[int] = []
    hi: list[int] = []
    k = 0
    for start, end in _units(text, sentences):
        first = bisect.bisect_left(seq.starts, start)
        last = bisect.bisect_left(seq.starts, end)
        first = max(first, hi[-1] if hi else 0)
        if last <= first:
            continue
        lo.append(first)
        hi.append(last)
        for i in range(first, last):
            sent_of[i] = k
        k += 1
    # tokens outside every sentence (the splitter skipped them) form their own units
    covered = [False] * n
    for first, last in zip(lo, hi, strict=True):
        for i in range(first, last):
            covered[i] = True
    i = 0
    while i < n:
        if covered[i]:
            i += 1
            continue
        j = i
        while j < n and not covered[j]:
            j += 1
        lo.append(i)
        hi.append(j)
        for t in range(i, j):
            sent_of[t] = len(lo) - 1
        i = j
    return _Side(text, seq, sent_of, lo, hi)


def _runs(na: Sequence[str], nb: Sequence[str], n: int, max_repeats: int) -> list[_Region]:
    """Maximal exact runs of shared n-grams, as regions covering whole n-grams."""
    if n <= 0 or len(na) < n or len(nb) < n:
        return []
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i in range(len(na) - n + 1):
        index[tuple(na[i : i + n])].append(i)
    by_diag: dict[int, list[int]] = defaultdict(list)
    for j in range(len(nb) - n + 1):
        pos = index.get(tuple(nb[j : j + n]))
        if pos and len(pos) <= max_repeats:
            for i in pos:
                by_diag[j - i].append(i)
    runs: list[_Region] = []
    for diag, starts in by_diag.items():
        starts.sort()
        first = prev = starts[0]
        for i in [*starts[1:], -2]:
            if i == prev + 1:
                prev = i
                continue
            runs.append(_Region(first, prev + n, first + diag, prev + n + diag))
            first = prev = i
    runs.sort(key=lambda r: (r.a0, r.b0))
    return runs


def _chain(items: list[_Region], max_gap: int) -> list[_Region]:
    """Chain regions that follow each other (or overlap) on both sides in order."""
    items = sorted(items, key=lambda r: (r.a0, r.b0, -(r.a1 - r.a0)))
    regions: list[_Region] = []
    for r in items:
        best: _Region | None = None
        best_cost = 0
        for reg in regions:
            if reg.a0 <= r.a0 and r.a1 <= reg.a1 and reg.b0 <= r.b0 and r.b1 <= reg.b1:
                best, best_cost = reg, -1  # already inside
                break
            if r.a0 < reg.a0 or r.b0 < reg.b0:
                continue
            ga, gb = r.a0 - reg.a1, r.b0 - reg.b1
            if ga > max_gap or gb > max_gap or abs(ga - gb) > max_gap:
                continue
            cost = max(ga, gb, 0) + abs(ga - gb)
            if best is None or cost < best_cost:
                best, best_cost = reg, cost
        if best is None:
            regions.append(_Region(r.a0, r.a1, r.b0, r.b1))
        elif best_cost >= 0:
            best.a1 = max(best.a1, r.a1)
            best.b1 = max(best.b1, r.b1)
    return regions


def _ratio(x: Sequence[str], y: Sequence[str]) -> float:
    return difflib.SequenceMatcher(None, x, y, autojunk=False).ratio()


def _sentence_regions(
    sa: _Side, sb: _Side, regions: Sequence[_Region], ds: DetectSettings
) -> list[_Region]:
    """Sentence pairs similar enough to be a light paraphrase, not already aligned.

    The multiset overlap of two sentences' tokens bounds their ratio from above; it is
    counted for every sentence pair at once through an index of b's tokens (sentence
    pairs sharing no token cost nothing), and only pairs that pass it are aligned."""
    na, nb = sa.seq.norms, sb.seq.norms
    wa, wb = sa.seq.words, sb.seq.words
    threshold = ds.sentence_similarity
    min_words = max(ds.min_passage_words, ds.min_sentence_words)
    b_sents: list[tuple[int, int]] = []
    index: dict[str, list[tuple[int, int]]] = defaultdict(list)  # token -> (b sentence, count)
    for lo, hi in zip(sb.sent_lo, sb.sent_hi, strict=True):
        if sum(wb[lo:hi]) >= min_words:
            for token, count in Counter(nb[lo:hi]).items():
                index[token].append((len(b_sents), count))
            b_sents.append((lo, hi))
    out: list[_Region] = []
    for lo_a, hi_a in zip(sa.sent_lo, sa.sent_hi, strict=True):
        if not b_sents or sum(wa[lo_a:hi_a]) < min_words:
            continue
        overlap = [0] * len(b_sents)
        for token, count in Counter(na[lo_a:hi_a]).items():
            for k, count_b in index.get(token, ()):
                overlap[k] += min(count, count_b)
        len_a = hi_a - lo_a
        for k, shared in enumerate(overlap):
            lo_b, hi_b = b_sents[k]
            if 2 * shared < threshold * (len_a + hi_b - lo_b):
                continue
            if any(
                r.a0 <= lo_a and hi_a <= r.a1 and r.b0 <= lo_b and hi_b <= r.b1 for r in regions
            ):
                continue
            if _ratio(na[lo_a:hi_a], nb[lo_b:hi_b]) >= threshold:
                out.append(_Region(lo_a, hi_a, lo_b, hi_b))
    return out


def _trim(reg: _Region, na: Sequence[str], nb: Sequence[str]) -> _Region | None:
    ops = difflib.SequenceMatcher(
        None, na[reg.a0 : reg.a1], nb[reg.b0 : reg.b1], autojunk=False
    ).get_opcodes()
    equal = [op for op in ops if op[0] == "equal"]
    if not equal:
        return None
    first, last = equal[0], equal[-1]
    return _Region(reg.a0 + first[1], reg.a0 + last[2], reg.b0 + first[3], reg.b0 + last[4])


def _snap(reg: _Region, sa: _Side, sb: _Side, ds: DetectSettings) -> _Region:
    """Extend to the sentence start/end when what lies outside the region in that
    sentence is short on both sides (at most ``detect.snap_words`` tokens: a reused
    sentence whose first words were swapped, or that got a word at its start), or is
    much the same text on both sides (the tail after an inserted word, too short to
    anchor: "..., now also expressed reservations."). A dateline ("LONDON (PA) -") is a
    unit of its own (:func:`_units`), so it is never taken in this way."""
    a0, a1, b0, b1 = reg.a0, reg.a1, reg.b0, reg.b1
    na, nb = sa.seq.norms, sb.seq.norms
    lo_a, lo_b = sa.sent_lo[sa.sent_of[a0]], sb.sent_lo[sb.sent_of[b0]]
    if _outside_fits(na[lo_a:a0], nb[lo_b:b0], ds):
        a0, b0 = lo_a, lo_b
    hi_a, hi_b = sa.sent_hi[sa.sent_of[a1 - 1]], sb.sent_hi[sb.sent_of[b1 - 1]]
    if _outside_fits(na[a1:hi_a], nb[b1:hi_b], ds):
        a1, b1 = hi_a, hi_b
    return _Region(a0, a1, b0, b1)


def _outside_fits(xa: Sequence[str], xb: Sequence[str], ds: DetectSettings) -> bool:
    if not xa and not xb:
        return False
    if len(xa) <= ds.snap_words and len(xb) <= ds.snap_words:
        return True
    return bool(xa) and bool(xb) and _ratio(xa, xb) >= ds.sentence_similarity


def _cut_fragments(reg: _Region, sa: _Side, sb: _Side, n: int) -> _Region:
    """Drop the few tokens (fewer than ``n`` on each side) by which a region spills into
    the next sentence, or starts in the tail of the previous one, when that sentence is
    cut short on *both* sides: "... an appeal court. The" where both next sentences
    happen to start with "The". A sentence complete on one side ("Griffin Park" after a
    dateline the other side lacks) is kept."""
    a0, a1, b0, b1 = reg.a0, reg.a1, reg.b0, reg.b1
    for _ in range(2):
        if a1 - a0 <= n or b1 - b0 <= n:
            break
        tail_a = a1 - sa.sent_lo[sa.sent_of[a1 - 1]]
        tail_b = b1 - sb.sent_lo[sb.sent_of[b1 - 1]]
        cut_short = sa.sent_hi[sa.sent_of[a1 - 1]] > a1 and sb.sent_hi[sb.sent_of[b1 - 1]] > b1
        if cut_short and tail_a < n and tail_b < n and tail_a < a1 - a0 and tail_b < b1 - b0:
            a1, b1 = a1 - tail_a, b1 - tail_b
        head_a = sa.sent_hi[sa.sent_of[a0]] - a0
        head_b = sb.sent_hi[sb.sent_of[b0]] - b0
        cut_short = sa.sent_lo[sa.sent_of[a0]] < a0 and sb.sent_lo[sb.sent_of[b0]] < b0
        if cut_short and head_a < n and head_b < n and head_a < a1 - a0 and head_b < b1 - b0:
            a0, b0 = a0 + head_a, b0 + head_b
    return _Region(a0, a1, b0, b1)


def _final_punct(text: str, end: int) -> int:
    m = _FINAL.match(text, end)
    return m.end() if m else end


def _surface(side: _Side, i0: int, i1: int, hi: int) -> tuple[int, int, str]:
    """Character range and text of tokens ``[i0, i1)``; an empty range is the point
    before token ``i0`` (after token ``i0 - 1`` at the region's end ``hi``)."""
    seq = side.seq
    if i1 > i0:
        start, end = seq.starts[i0], seq.ends[i1 - 1]
    else:
        start = end = seq.starts[i0] if i0 < hi else seq.ends[i0 - 1]
    return start, end, side.text[start:end]


def _same_word(sa: _Side, i: int, sb: _Side, j: int) -> bool:
    x = sa.text[sa.seq.starts[i] : sa.seq.ends[i]]
    y = sb.text[sb.seq.starts[j] : sb.seq.ends[j]]
    return x == y or fold(x) == fold(y)


def _capitalised(side: _Side, i0: int, i1: int) -> bool:
    return i1 > i0 and all(
        side.text[side.seq.starts[i]].isupper() or side.text[side.seq.starts[i]].isdigit()
        for i in range(i0, i1)
    )


def _by_sentence(
    sa: _Side, i1: int, i2: int, sb: _Side, j1: int, j2: int
) -> list[tuple[int, int, int, int]]:
    """A replaced block cut at the sentence boundaries inside it, when both sides hold
    the same number of sentence pieces: "said. Prime Minister Tony" -> "stated. Mr" is
    two swaps, "said" -> "stated" and "Prime Minister Tony" -> "Mr"."""

    def pieces(side: _Side, k1: int, k2: int) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for k in range(k1, k2):
            if out and side.sent_of[k] == side.sent_of[k - 1]:
                out[-1] = (out[-1][0], k + 1)
            else:
                out.append((k, k + 1))
        return out

    pa, pb = pieces(sa, i1, i2), pieces(sb, j1, j2)
    if len(pa) != len(pb):
        return [(i1, i2, j1, j2)]
    return [(x1, x2, y1, y2) for (x1, x2), (y1, y2) in zip(pa, pb, strict=True)]


def _grow_name(
    reg: _Region, sa: _Side, sb: _Side, i1: int, i2: int, j1: int, j2: int
) -> tuple[int, int]:
    """New ends of a replaced name grown over the same capitalised words that follow it
    in the same sentence (at most two): "Tony Blair" -> "Mr Blair", not "Tony" -> "Mr"."""
    grown = 0
    while (
        grown < 2
        and i2 < reg.a1
        and j2 < reg.b1
        and sa.sent_of[i2] == sa.sent_of[i2 - 1]
        and sb.sent_of[j2] == sb.sent_of[j2 - 1]
        and _capitalised(sa, i2, i2 + 1)
        and _capitalised(sb, j2, j2 + 1)
        and _same_word(sa, i2, sb, j2)
    ):
        i2, j2, grown = i2 + 1, j2 + 1, grown + 1
    return i2, j2


def _name_change(
    reg: _Region, sa: _Side, sb: _Side, step: str, span: tuple[int, int, int, int], after: int
) -> tuple[str, int, int, int, int]:
    """A capitalised word inserted or dropped next to the same capitalised word (the
    same token: "US Federal Reserve" and "Federal Reserve" are one to the alias table)
    on both sides is a name lengthened or shortened ("Labour" -> "Labour Party"): one
    replace.
    ``after`` is the end (a side) of the previous edit, which must not be taken twice."""
    i1, i2, j1, j2 = span
    side, k0, k1 = (sb, j1, j2) if step == "insert" else (sa, i1, i2)
    if not _capitalised(side, k0, k1):
        return step, i1, i2, j1, j2
    sent = side.sent_of
    if (
        i1 > reg.a0
        and j1 > reg.b0
        and sent[k0 - 1] == sent[k0]
        and _capitalised(sa, i1 - 1, i1)
        and _capitalised(sb, j1 - 1, j1)
        and sa.seq.norms[i1 - 1] == sb.seq.norms[j1 - 1]
        and after != i1
    ):
        return "replace", i1 - 1, i2, j1 - 1, j2
    if (
        i2 < reg.a1
        and j2 < reg.b1
        and sent[k1] == sent[k1 - 1]
        and _capitalised(sa, i2, i2 + 1)
        and _capitalised(sb, j2, j2 + 1)
        and sa.seq.norms[i2] == sb.seq.norms[j2]
    ):
        return "replace", i1, i2 + 1, j1, j2 + 1
    return step, i1, i2, j1, j2


def _edit_spans(
    reg: _Region, sa: _Side, sb: _Side, ops: Sequence[tuple[str, int, int, int, int]]
) -> list[tuple[str, int, int, int, int]]:
    """(op, a0, a1, b0, b1) token ranges of the edits of one passage, in order."""
    spans: list[tuple[str, int, int, int, int]] = []
    for tag, x1, x2, y1, y2 in ops:
        i1, i2, j1, j2 = x1 + reg.a0, x2 + reg.a0, y1 + reg.b0, y2 + reg.b0
        if tag == "equal":
            # equal norms, different surfaces: "U.S." / "USA" merged by the alias table
            # (a token the previous edit took, a name it lengthened, is not taken twice)
            taken = spans[-1][2] if spans else -1
            for k in range(i2 - i1):
                if i1 + k >= taken and not _same_word(sa, i1 + k, sb, j1 + k):
                    spans.append(("replace", i1 + k, i1 + k + 1, j1 + k, j1 + k + 1))
            continue
        after = spans[-1][2] if spans else -1
        if tag != "replace":
            spans.append(_name_change(reg, sa, sb, tag, (i1, i2, j1, j2), after))
            continue
        for p1, p2, q1, q2 in _by_sentence(sa, i1, i2, sb, j1, j2):
            e1, e2 = p2, q2
            if _capitalised(sa, p1, p2) and _capitalised(sb, q1, q2):
                e1, e2 = _grow_name(reg, sa, sb, p1, p2, q1, q2)
            spans.append(("replace", p1, e1, q1, e2))
    return spans


def _edits(
    reg: _Region,
    sa: _Side,
    sb: _Side,
    ops: Sequence[tuple[str, int, int, int, int]],
    aliases: EntityLookup | None,
    learned: Mapping[tuple[str, str], int] | None,
) -> list[Edit]:
    edits: list[Edit] = []
    for tag, i1, i2, j1, j2 in _edit_spans(reg, sa, sb, ops):
        s0, s1, stext = _surface(sa, i1, i2, reg.a1)
        t0, t1, ttext = _surface(sb, j1, j2, reg.b1)
        op: EditOp = "insert" if tag == "insert" else ("delete" if tag == "delete" else "replace")
        # "5%" -> "5 per cent": the tokenizer keeps no "%", so the sign is the swapped text
        if op == "insert" and fold(ttext) in _PERCENT and i1 > reg.a0:
            sign = sa.seq.ends[i1 - 1]
            if sa.text.startswith("%", sign):
                op, s0, s1, stext = "replace", sign, sign + 1, "%"
        elif op == "delete" and fold(stext) in _PERCENT and j1 > reg.b0:
            sign = sb.seq.ends[j1 - 1]
            if sb.text.startswith("%", sign):
                op, t0, t1, ttext = "replace", sign, sign + 1, "%"
        edits.append(
            Edit(op, s0, s1, t0, t1, stext, ttext, classify(stext, ttext, aliases, learned))
        )
    # a swap glued to a word inserted or dropped next to it is split off
    edits = list(retype_edits(edits, learned or {}, aliases))
    edits.sort(key=lambda e: (e.source_start, e.target_start, e.source_end, e.target_end))
    return edits


def _passage(
    reg: _Region,
    sa: _Side,
    sb: _Side,
    ds: DetectSettings,
    aliases: EntityLookup | None,
    learned: Mapping[tuple[str, str], int] | None,
) -> Passage | None:
    na, nb = sa.seq.norms, sb.seq.norms
    trimmed = _trim(reg, na, nb)
    if trimmed is None:
        return None
    reg = _snap(_cut_fragments(trimmed, sa, sb, ds.anchor_ngram), sa, sb, ds)
    ops = difflib.SequenceMatcher(
        None, na[reg.a0 : reg.a1], nb[reg.b0 : reg.b1], autojunk=False
    ).get_opcodes()
    equal = sum(i2 - i1 for tag, i1, i2, _, _ in ops if tag == "equal")
    total = (reg.a1 - reg.a0) + (reg.b1 - reg.b0)
    similarity = 2 * equal / total if total else 0.0
    words_a = sum(sa.seq.words[reg.a0 : reg.a1])
    words_b = sum(sb.seq.words[reg.b0 : reg.b1])
    # the words shared verbatim (after normalisation) must reach the minimum by themselves:
    # snapping a stock phrase to its sentence start must not lift it over the bar
    same = sum(
        min(
            sum(sa.seq.words[reg.a0 + i1 : reg.a0 + i2]),
            sum(sb.seq.words[reg.b0 + j1 : reg.b0 + j2]),
        )
        for tag, i1, i2, j1, j2 in ops
        if tag == "equal"
    )
    if same < ds.min_passage_words or similarity < ds.min_similarity:
        return None
    s0, s1, _ = _surface(sa, reg.a0, reg.a1, reg.a1)
    t0, t1, _ = _surface(sb, reg.b0, reg.b1, reg.b1)
    # a unit sign glued to the last number ("4.5%") belongs to it
    while (
        s1 < len(sa.text)
        and t1 < len(sb.text)
        and sa.text[s1] == sb.text[t1]
        and sa.text[s1] in "%‰°"
    ):
        s1, t1 = s1 + 1, t1 + 1
    # a bracket or quote opened inside the passage and closed right after it belongs to it
    while (
        s1 < len(sa.text)
        and t1 < len(sb.text)
        and sa.text[s1] == sb.text[t1]
        and sa.text[s1] in _CLOSERS
        and _opened(sa.text[s0:s1], sa.text[s1])
        and _opened(sb.text[t0:t1], sb.text[t1])
    ):
        s1, t1 = s1 + 1, t1 + 1
    e_a, e_b = _final_punct(sa.text, s1), _final_punct(sb.text, t1)
    if e_a > s1 and e_b > t1:
        s1, t1 = e_a, e_b
    # an opening quote (or a list dash) that opens the first sentence on both sides
    # belongs to it, whether or not the quote closes inside the passage
    lead_a, lead_b = _lead(sa.text, s0), _lead(sb.text, t0)
    if s0 - lead_a == t0 - lead_b > 0:
        s0, t0 = lead_a, lead_b
    elif (
        s0 > 0
        and t0 > 0
        and sa.text[s0 - 1] in _OPENERS
        and sb.text[t0 - 1] in _OPENERS
        and _unbalanced(sa.text[s0:s1])
        and _unbalanced(sb.text[t0:t1])
    ):
        # an opening quote inside a sentence whose closing quote the passage includes
        s0, t0 = s0 - 1, t0 - 1
    return Passage(
        source_start=s0,
        source_end=s1,
        target_start=t0,
        target_end=t1,
        source_text=sa.text[s0:s1],
        target_text=sb.text[t0:t1],
        similarity=similarity,
        edits=tuple(_edits(reg, sa, sb, ops, aliases, learned)),
        source_words=words_a,
        target_words=words_b,
    )


def _lead(text: str, start: int) -> int:
    """``start`` moved back over the marks that open a sentence before its first word:
    opening quotes and brackets after a space or at a line start, and a list dash or
    bullet ("- ", "• ") at a line start."""
    i = start
    for _ in range(3):
        if i > 0 and text[i - 1] in _OPENERS and (i == 1 or not text[i - 2].isalnum()):
            i -= 1
        elif i >= 2 and text[i - 2 : i] in _BULLETS and (i == 2 or text[i - 3] in "\n\r"):
            i -= 2
        else:
            break
    return i


def _opened(text: str, closer: str) -> bool:
    """True when ``text`` leaves open what ``closer`` closes."""
    if closer == '"':
        return text.count('"') % 2 == 1
    opener = _PAIRS[closer]
    return text.count(opener) > text.count(closer)


def _unbalanced(text: str) -> bool:
    straight = text.count('"') % 2 == 1
    curly = text.count("”") > text.count("“")
    paren = text.count(")") > text.count("(")
    return straight or curly or paren


def _drop_overlaps(passages: list[Passage]) -> list[Passage]:
    """Of passages overlapping on both sides, keep the longest (then the most similar)."""
    ranked = sorted(
        passages,
        key=lambda p: (-(p.source_words + p.target_words), -p.similarity, p.source_start),
    )
    kept: list[Passage] = []
    for p in ranked:
        if any(
            p.source_start < q.source_end
            and q.source_start < p.source_end
            and p.target_start < q.target_end
            and q.target_start < p.target_end
            for q in kept
        ):
            continue
        kept.append(p)
    kept.sort(key=lambda p: (p.source_start, p.target_start))
    return kept


def align_sequences(
    text_a: str,
    seq_a: TokenSeq,
    sentences_a: Sequence[Span],
    text_b: str,
    seq_b: TokenSeq,
    sentences_b: Sequence[Span],
    settings: Settings,
    aliases: EntityLookup | None = None,
    learned: Mapping[tuple[str, str], int] | None = None,
) -> list[Passage]:
    """The kernel on plain values: passages between two normalised token sequences.

    ``seq_*`` are body tokens (boilerplate already excluded) whose offsets point into
    ``text_*``; ``sentences_*`` are sentence spans of the same texts. Passages are
    sorted by source offset; no two overlap on both sides.
    """
    ds = settings.detect
    if not len(seq_a) or not len(seq_b):
        return []
    sa, sb = _side(text_a, seq_a, sentences_a), _side(text_b, seq_b, sentences_b)
    runs = _runs(seq_a.norms, seq_b.norms, ds.anchor_ngram, ds.max_anchor_repeats)
    regions = _chain(runs, ds.max_gap)
    if ds.sentence_similarity <= 1.0:
        regions = _chain(regions + _sentence_regions(sa, sb, regions, ds), ds.max_gap)
    passages = [p for r in regions if (p := _passage(r, sa, sb, ds, aliases, learned))]
    return _drop_overlaps(passages)


def align_pair(
    a: Article,
    b: Article,
    seq_a: TokenSeq,
    seq_b: TokenSeq,
    settings: Settings,
    aliases: EntityLookup | None = None,
    learned: Mapping[tuple[str, str], int] | None = None,
    splitter: SentenceSplitter | None = None,
) -> list[Passage]:
    """Passages that ``a`` and ``b`` share; ``source_*`` offsets are a's, ``target_*`` b's.

    Pure: depends only on its arguments (``seq_*`` from ``text.normalize.normalize``;
    ``aliases`` types edits; ``learned`` swaps learned from the collection). Sentences
    come from ``text.sentences.split_sentences`` unless ``splitter`` is given.
    """
    if splitter is None:
        from wiretrace.text.sentences import split_sentences

        splitter = split_sentences
    return align_sequences(
        a.text,
        seq_a,
        splitter(a.text, a.excluded),
        b.text,
        seq_b,
        splitter(b.text, b.excluded),
        settings,
        aliases,
        learned,
    )

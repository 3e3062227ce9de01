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
4. **word alignment** in each region (``difflib.SequenceMatcher`` as built in C++ by
   cydifflib, the same blocks, on normalised tokens, no junk heuristic): the region is
   trimmed to its first and last equal token; a few tokens spilling into a sentence cut
   short on both sides ("court. The") are dropped; the region is then snapped to the
   sentence start/end when what lies outside it in that sentence is at most
   ``detect.snap_words`` tokens on each side, or much the same on both sides
   (``detect.sentence_similarity``), so a reused sentence whose first word was changed,
   or whose tail follows an inserted word, is reported whole. A dateline ("LONDON
   (Reuters) - ") is a unit of its own, never taken by snapping. Marks are exact to the
   word: the sentence-final punctuation (and closing quote) when the passage ends a
   sentence on both sides, an opening quote or a list dash that opens it on both sides.
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
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from difflib import Match
from typing import Any

import numpy as np
import numpy.typing as npt
from cydifflib import SequenceMatcher

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

IntArray = npt.NDArray[Any]


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
    sent_of = [-1] * n
    lo: list[int] = []
    hi: list[int] = []
    for start, end in _units(text, sentences):
        first = bisect.bisect_left(seq.starts, start)
        last = bisect.bisect_left(seq.starts, end)
        first = max(first, hi[-1] if hi else 0)
        if last <= first:
            continue
        sent_of[first:last] = [len(lo)] * (last - first)
        lo.append(first)
        hi.append(last)
    # tokens outside every sentence (the splitter skipped them) form their own units
    i = 0
    while i < n:
        if sent_of[i] >= 0 and (i := _next_uncovered(sent_of, i)) >= n:
            break
        j = i
        while j < n and sent_of[j] < 0:
            j += 1
        sent_of[i:j] = [len(lo)] * (j - i)
        lo.append(i)
        hi.append(j)
        i = j
    return _Side(text, seq, sent_of, lo, hi)


def _next_uncovered(sent_of: list[int], i: int) -> int:
    """The first token at or after ``i`` in no sentence yet (``len(sent_of)`` if none)."""
    try:
        return sent_of.index(-1, i)
    except ValueError:
        return len(sent_of)


def _token_ids(na: Sequence[str], nb: Sequence[str]) -> tuple[IntArray, IntArray, int]:
    """Both sides' tokens as small integers (one id per distinct norm of the pair), so
    anchors and sentence overlaps are found with array joins, not per-token objects.

    The ids come from the strings' (cached) hashes; when two distinct norms of the pair
    share a hash (checked by counting), a dict assigns them instead."""
    hashes = np.fromiter(map(hash, [*na, *nb]), dtype=np.int64, count=len(na) + len(nb))
    distinct, ids = np.unique(hashes, return_inverse=True)
    if len(distinct) != len(set(na).union(nb)):
        table: dict[str, int] = {}
        ids = np.array([table.setdefault(t, len(table)) for t in [*na, *nb]], dtype=np.int64)
        return ids[: len(na)], ids[len(na) :], len(table)
    ids = ids.astype(np.int64)
    return ids[: len(na)], ids[len(na) :], len(distinct)


def _ngram_keys(x: IntArray, n: int, vocab: int) -> IntArray | None:
    """Exact integer key of every n-gram (base-``vocab`` digits), or None when the keys
    would not fit in 63 bits."""
    if vocab**n >= 1 << 63:
        return None
    keys = np.zeros(len(x) - n + 1, dtype=np.int64)
    for k in range(n):
        keys = keys * vocab + x[k : len(x) - n + 1 + k]
    return keys


def _runs(
    na: Sequence[str],
    nb: Sequence[str],
    n: int,
    max_repeats: int,
    ids: tuple[IntArray, IntArray, int] | None = None,
) -> list[_Region]:
    """Maximal exact runs of shared n-grams, as regions covering whole n-grams.

    An a n-gram seen more than ``max_repeats`` times in a is no anchor. The join of a's
    and b's n-gram keys is done on sorted arrays; each anchor (i, j) lies on diagonal
    ``j - i``, and consecutive anchors on one diagonal make one run."""
    if n <= 0 or len(na) < n or len(nb) < n:
        return []
    xa, xb, vocab = ids if ids is not None else _token_ids(na, nb)
    ka, kb = _ngram_keys(xa, n, vocab), _ngram_keys(xb, n, vocab)
    if ka is None or kb is None:
        return _runs_dict(na, nb, n, max_repeats)
    order = np.argsort(ka, kind="stable")
    sorted_a = ka[order]
    lo = np.searchsorted(sorted_a, kb, side="left")
    hi = np.searchsorted(sorted_a, kb, side="right")
    count = hi - lo
    keep = (count > 0) & (count <= max_repeats)
    if not keep.any():
        return []
    js = np.nonzero(keep)[0]
    reps = count[js]
    total = int(reps.sum())
    # positions in a for every anchor: lo[j] + 0, 1, ... count[j]-1
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(reps) - reps, reps)
    i_pos = order[np.repeat(lo[js], reps) + offsets].astype(np.int64)
    j_pos = np.repeat(js, reps).astype(np.int64)
    diag = j_pos - i_pos
    sort = np.lexsort((i_pos, diag))
    i_pos, diag = i_pos[sort], diag[sort]
    new = np.ones(len(i_pos), dtype=bool)
    new[1:] = (diag[1:] != diag[:-1]) | (i_pos[1:] != i_pos[:-1] + 1)
    starts = np.nonzero(new)[0]
    ends = np.append(starts[1:], len(i_pos)) - 1
    first, last, d = i_pos[starts], i_pos[ends], diag[starts]
    order_runs = np.lexsort((first + d, first))
    return [
        _Region(f, e + n, f + g, e + n + g)
        for f, e, g in zip(
            first[order_runs].tolist(),
            last[order_runs].tolist(),
            d[order_runs].tolist(),
            strict=True,
        )
    ]


def _runs_dict(na: Sequence[str], nb: Sequence[str], n: int, max_repeats: int) -> list[_Region]:
    """:func:`_runs` through a dict of n-gram tuples (a pair whose vocabulary is too
    large for exact integer keys)."""
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
    if x == y:  # what SequenceMatcher gives equal sequences, without aligning them
        return 1.0
    return float(SequenceMatcher(None, x, y, autojunk=False).ratio())


def _sentence_regions(
    sa: _Side,
    sb: _Side,
    regions: Sequence[_Region],
    ds: DetectSettings,
    ids: tuple[IntArray, IntArray, int] | None = None,
) -> list[_Region]:
    """Sentence pairs similar enough to be a light paraphrase, not already aligned.

    The multiset overlap of two sentences' tokens bounds their ratio from above; it is
    counted for every sentence pair at once by joining the (sentence, token, count)
    tables of both sides on the token, and only pairs that pass it are aligned."""
    na, nb = sa.seq.norms, sb.seq.norms
    threshold = ds.sentence_similarity
    min_words = max(ds.min_passage_words, ds.min_sentence_words)
    a_sents = _long_sentences(sa, min_words)
    b_sents = _long_sentences(sb, min_words)
    if not a_sents or not b_sents:
        return []
    xa, xb, vocab = ids if ids is not None else _token_ids(na, nb)
    overlap = _overlaps(_sentence_tokens(xa, a_sents, vocab), _sentence_tokens(xb, b_sents, vocab))
    overlap = overlap.reshape(len(a_sents), len(b_sents))
    len_a = np.array([hi - lo for lo, hi in a_sents], dtype=np.int64)
    len_b = np.array([hi - lo for lo, hi in b_sents], dtype=np.int64)
    passes = ~(2 * overlap < threshold * (len_a[:, None] + len_b[None, :]))
    out: list[_Region] = []
    for x, k in zip(*(v.tolist() for v in np.nonzero(passes)), strict=True):
        lo_a, hi_a = a_sents[x]
        lo_b, hi_b = b_sents[k]
        if any(r.a0 <= lo_a and hi_a <= r.a1 and r.b0 <= lo_b and hi_b <= r.b1 for r in regions):
            continue
        if _ratio(na[lo_a:hi_a], nb[lo_b:hi_b]) >= threshold:
            out.append(_Region(lo_a, hi_a, lo_b, hi_b))
    return out


def _long_sentences(side: _Side, min_words: int) -> list[tuple[int, int]]:
    """Token ranges of the sentences with at least ``min_words`` words, in order."""
    words = side.seq.words
    return [
        (lo, hi)
        for lo, hi in zip(side.sent_lo, side.sent_hi, strict=True)
        if sum(words[lo:hi]) >= min_words
    ]


def _sentence_tokens(
    x: IntArray, sents: Sequence[tuple[int, int]], vocab: int
) -> tuple[IntArray, IntArray, IntArray, int]:
    """(sentence number, token id, count) of every distinct token of every sentence,
    sorted by token id, and the number of sentences."""
    lengths = np.array([hi - lo for lo, hi in sents], dtype=np.int64)
    tokens = np.concatenate([x[lo:hi] for lo, hi in sents])
    sent = np.repeat(np.arange(len(sents), dtype=np.int64), lengths)
    keys, counts = np.unique(tokens * len(sents) + sent, return_counts=True)
    return keys % len(sents), keys // len(sents), counts, len(sents)


def _overlaps(
    a: tuple[IntArray, IntArray, IntArray, int], b: tuple[IntArray, IntArray, IntArray, int]
) -> IntArray:
    """Multiset overlap of every (a sentence, b sentence) pair, row-major, flat."""
    sent_a, tok_a, cnt_a, n_a = a
    sent_b, tok_b, cnt_b, n_b = b
    lo = np.searchsorted(tok_b, tok_a, side="left")
    hi = np.searchsorted(tok_b, tok_a, side="right")
    reps = hi - lo
    total = int(reps.sum())
    if total == 0:
        return np.zeros(n_a * n_b, dtype=np.int64)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(reps) - reps, reps)
    at_b = np.repeat(lo, reps) + offsets
    cell = np.repeat(sent_a, reps) * n_b + sent_b[at_b]
    shared = np.minimum(np.repeat(cnt_a, reps), cnt_b[at_b])
    return np.bincount(cell, weights=shared, minlength=n_a * n_b).astype(np.int64)


Ops = list[tuple[str, int, int, int, int]]


def _trim(reg: _Region, na: Sequence[str], nb: Sequence[str]) -> tuple[_Region, Ops] | None:
    """The region cut to its first and last equal token, with the word alignment of the
    cut region. The alignment is that of the whole region, shifted: every matching block
    lies inside the cut, so ``SequenceMatcher`` on the cut finds the very same blocks
    (each longest match it picks is inside, and no longer one exists there)."""
    xa, xb = na[reg.a0 : reg.a1], nb[reg.b0 : reg.b1]
    if xa == xb:  # verbatim: one block (the only longest match of equal sequences)
        blocks = [Match(0, 0, len(xa))] if xa else []
    else:
        blocks = SequenceMatcher(None, xa, xb, autojunk=False).get_matching_blocks()[:-1]
    if not blocks:
        return None
    x0, y0 = blocks[0].a, blocks[0].b
    x1, y1 = blocks[-1].a + blocks[-1].size, blocks[-1].b + blocks[-1].size
    shifted = [(x - x0, y - y0, k) for x, y, k in blocks]
    shifted.append((x1 - x0, y1 - y0, 0))
    return _Region(reg.a0 + x0, reg.a0 + x1, reg.b0 + y0, reg.b0 + y1), _opcodes(shifted)


def _opcodes(blocks: Sequence[tuple[int, int, int]]) -> Ops:
    """``SequenceMatcher.get_opcodes`` from its matching blocks (sentinel included)."""
    i = j = 0
    ops: Ops = []
    for ai, bj, size in blocks:
        if i < ai and j < bj:
            ops.append(("replace", i, ai, j, bj))
        elif i < ai:
            ops.append(("delete", i, ai, j, bj))
        elif j < bj:
            ops.append(("insert", i, ai, j, bj))
        i, j = ai + size, bj + size
        if size:
            ops.append(("equal", ai, i, bj, j))
    return ops


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


def _block_same(sa: _Side, i1: int, i2: int, sb: _Side, j1: int, j2: int) -> bool:
    """True when the equal tokens ``[i1, i2)`` and ``[j1, j2)`` are written the same
    way, token for token (:func:`_same_word` for all, checked on whole slices): the same
    text between the first start and the last end, and the same offsets within it."""
    if i2 <= i1:
        return True
    a_starts, a_ends, b_starts, b_ends = sa.seq.starts, sa.seq.ends, sb.seq.starts, sb.seq.ends
    shift = a_starts[i1] - b_starts[j1]
    return (
        sa.text[a_starts[i1] : a_ends[i2 - 1]] == sb.text[b_starts[j1] : b_ends[j2 - 1]]
        and a_starts[i1:i2] == [x + shift for x in b_starts[j1:j2]]
        and a_ends[i1:i2] == [x + shift for x in b_ends[j1:j2]]
    )


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
            if _block_same(sa, i1, i2, sb, j1, j2):
                continue
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
    cut = _trim(reg, na, nb)
    if cut is None:
        return None
    trimmed, trimmed_ops = cut
    ops: Sequence[tuple[str, int, int, int, int]] = trimmed_ops
    reg = _snap(_cut_fragments(trimmed, sa, sb, ds.anchor_ngram), sa, sb, ds)
    if reg != trimmed:
        ops = SequenceMatcher(
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
    ids = _token_ids(seq_a.norms, seq_b.norms)
    runs = _runs(seq_a.norms, seq_b.norms, ds.anchor_ngram, ds.max_anchor_repeats, ids)
    regions = _chain(runs, ds.max_gap)
    if ds.sentence_similarity <= 1.0:
        regions = _chain(regions + _sentence_regions(sa, sb, regions, ds, ids), ds.max_gap)
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

"""Closing the triangles that star-shaped detection leaves open.

At scale, detection aligns each member of a near-duplicate group with one
representative (an arbitrary member: the group's smallest key), and other articles with
that representative only: a reprint flood of N copies costs N alignments, not N^2. The
representative is not necessarily the origin. When attribution finds that the
representative R is itself a copy of S (S -> R), the text R shares with a third article M
may really come from S: M is then a sibling of R (both copy S, and M should be paired
with S, the group's origin) or a copy of R (a chain S -> R -> M). Telling the two apart
needs the pair S - M, which detection never aligned.

:func:`open_triangles` lists those missing pairs: S -> R attributed, R - M aligned, the
two sharing at least ``min_words`` body words of R, and no pair S - M. Provenance aligns
and attributes them (:func:`wiretrace.analyze.provenance.attribute_all`), then
``resolve_chains`` keeps the chain or the origin -> member star the evidence supports.
Cost: one alignment per member of a group whose representative is not its origin; none
where detection already gave every pair (small groups) or the representative is the
origin.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from functools import lru_cache

from wiretrace.models import Article, ReusePair, Span

# the tokenizer's own pattern and range rule, so that word counts here are exactly
# ``len(tokenize(...))`` (tests/test_provenance.py checks they agree)
from wiretrace.text.tokens import _allowed_ranges
from wiretrace.text.tokens import _pattern as _token_pattern

__all__ = ["open_triangles", "token_starts"]


@lru_cache(maxsize=8192)
def token_starts(text: str, excluded: tuple[Span, ...]) -> list[int]:
    """``tokenize(text, excluded).starts``, without folding the tokens (only words in
    ranges are counted here): about half the cost, and tokenising was most of the cost
    of attributing a pair and of listing open triangles. Cached and shared with
    provenance: one article takes part in many pairs; callers never mutate the list."""
    pattern = _token_pattern(text)
    return [
        m.start()
        for lo, hi in _allowed_ranges(len(text), list(excluded))
        for m in pattern.finditer(text, lo, hi)
    ]


def _overlap_words(
    starts: Sequence[int], xs: Sequence[tuple[int, int]], ys: Sequence[tuple[int, int]]
) -> int:
    """Body words (by start offset) inside both the union of ``xs`` and that of ``ys``."""
    total = 0
    for x0, x1 in xs:
        for y0, y1 in ys:
            lo, hi = max(x0, y0), min(x1, y1)
            if lo < hi:
                total += bisect_left(starts, hi) - bisect_left(starts, lo)
    return total


def _side_ranges(pair: ReusePair, article_id: str) -> list[tuple[int, int]]:
    if pair.source == article_id:
        return [(p.source_start, p.source_end) for p in pair.passages]
    return [(p.target_start, p.target_end) for p in pair.passages]


def open_triangles(
    pairs: Sequence[ReusePair],
    articles: Mapping[str, Article],
    min_words: int,
    min_confidence: float = 0.0,
) -> list[tuple[str, str, str]]:
    """Article pairs ``(S, M)`` to align, as ``(S, M, R)``: S -> R is in ``pairs`` (R
    took text from S; of R's sources oriented with at least ``min_confidence``, the one
    covering most of R, then the most confident), R and M share a pair, the text R
    shares with M and the text R took from S overlap by at least ``min_words`` body
    words of R, and ``pairs`` has no pair between S and M. At most one alignment per
    pair R - M, so a reprint flood of N members costs at most N alignments.

    ``pairs`` are attributed (``source`` is the origin). Output sorted, without
    duplicates (either order of a pair counts once); ``min_words <= 0`` gives ``[]``.
    """
    if min_words <= 0:
        return []
    have = {frozenset((p.source, p.target)) for p in pairs}
    by_article: dict[str, list[ReusePair]] = {}
    for p in pairs:
        by_article.setdefault(p.source, []).append(p)
        by_article.setdefault(p.target, []).append(p)
    wanted: dict[tuple[str, str], str] = {}
    for r_id, mine in sorted(by_article.items()):
        r = articles.get(r_id)
        if r is None or len(mine) < 2:
            continue
        # R's likeliest origin only: closing triangles from every article oriented as
        # R's source would align all the members of a reprint flood with each other.
        # In a near-duplicate group the origin holds all of R: the source covering most
        # of R's words first (the pair's target coverage: R's body words inside it),
        # then the most confident orientation.
        sources = [p for p in mine if p.target == r_id and p.origin_confidence >= min_confidence]
        ranked = sorted(sources, key=lambda p: (-p.target_coverage, -p.origin_confidence, p.source))
        starts: list[int] | None = None  # tokenised only when a candidate M needs it
        for taken in ranked[:1]:
            s_id = taken.source
            from_s = _side_ranges(taken, r_id)
            for other in mine:
                m_id = other.target if other.source == r_id else other.source
                if m_id == s_id or frozenset((s_id, m_id)) in have or m_id not in articles:
                    continue
                if s_id not in articles:
                    continue
                key = (s_id, m_id) if (m_id, s_id) not in wanted else (m_id, s_id)
                if key in wanted:
                    continue
                if starts is None:
                    starts = token_starts(r.text, r.excluded)
                if _overlap_words(starts, from_s, _side_ranges(other, r_id)) >= min_words:
                    wanted[key] = r_id
    return sorted((s_id, m_id, r_id) for (s_id, m_id), r_id in wanted.items())

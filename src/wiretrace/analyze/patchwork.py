"""The patchwork map of one article: for each body sentence, where it comes from.

A body sentence (``text.sentences.split_sentences`` outside the article's excluded
spans: title, captions, related headlines, navigation and other boilerplate never appear)
is **reused** when more than ``provenance.reused_sentence_share`` of its words lie inside
passages the article took from other articles; it is then labelled with the source
article (the one whose passages cover most of its words) and that passage. Otherwise it
is **novel**: the article's own material (which may still have been copied by others).

Where a passage starts or ends inside a sentence right before a capitalised word, with
at least three words on each side, the sentence is labelled as two pieces: the passage
boundary shows a sentence break the splitter could not see (a heading or list line
without final punctuation run into the next sentence).

The article took a passage from another when it is the target of a pair (from the pair's
source, or from ``Passage.origin`` when the passage names another origin), or the source
of a pair whose passage names the article's partner as that passage's origin.

Shares are of the article's body words (outside excluded spans), the denominator every
wiretrace share uses.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from wiretrace.models import Article, ReusePair
from wiretrace.settings import Settings
from wiretrace.text.sentences import split_sentences
from wiretrace.text.tokens import tokenize

__all__ = ["Patchwork", "SentenceSource", "patchwork", "taken_passages"]


@dataclass(frozen=True, slots=True)
class SentenceSource:
    """One body sentence ``article.text[start:end]``; ``source`` is the article it comes
    from (None: novel); ``pair`` and ``passage`` index the pair list given to
    :func:`patchwork` and that pair's passages; ``reused_words`` of ``words`` lie in
    passages taken from other articles."""

    start: int
    end: int
    text: str
    words: int
    reused_words: int
    source: str | None = None
    pair: int | None = None
    passage: int | None = None

    @property
    def novel(self) -> bool:
        return self.source is None


@dataclass(frozen=True, slots=True)
class Patchwork:
    """An article's sentences with their sources.

    ``body_words``: words outside excluded spans; ``reused_words``: those inside passages
    taken from other articles (each word counted once); ``by_source``: article id ->
    words taken from it (a word covered by passages from two sources counts for the
    first in pair order).
    """

    article: str
    sentences: tuple[SentenceSource, ...]
    body_words: int
    reused_words: int
    by_source: Mapping[str, int] = field(default_factory=dict)

    @property
    def reused_share(self) -> float:
        return self.reused_words / self.body_words if self.body_words else 0.0

    def source_shares(self) -> dict[str, float]:
        """Article id -> share of this article's body words taken from it."""
        total = self.body_words or 1
        return {k: v / total for k, v in self.by_source.items()}

    @property
    def novel(self) -> tuple[SentenceSource, ...]:
        return tuple(s for s in self.sentences if s.novel)

    def to_json(self) -> dict[str, object]:
        return {
            "article": self.article,
            "body_words": self.body_words,
            "reused_words": self.reused_words,
            "reused_share": round(self.reused_share, 4),
            "sources": {k: round(v, 4) for k, v in self.source_shares().items()},
            "sentences": [
                {
                    "start": s.start,
                    "end": s.end,
                    "text": s.text,
                    "source": s.source,
                    "pair": s.pair,
                    "passage": s.passage,
                    "reused_words": s.reused_words,
                    "words": s.words,
                }
                for s in self.sentences
            ],
        }


def taken_passages(
    article_id: str, pairs: Sequence[ReusePair]
) -> list[tuple[int, int, str, int, int]]:
    """Ranges of ``article_id``'s text taken from other articles:
    ``(start, end, from_article, pair_index, passage_index)``."""
    taken: list[tuple[int, int, str, int, int]] = []
    for i, pair in enumerate(pairs):
        for j, p in enumerate(pair.passages):
            if pair.target == article_id:
                if p.origin == article_id:
                    continue  # this passage is the article's own, copied by the source
                taken.append((p.target_start, p.target_end, p.origin or pair.source, i, j))
            elif pair.source == article_id and p.origin == pair.target:
                taken.append((p.source_start, p.source_end, pair.target, i, j))
    return taken


def patchwork(
    article: Article,
    pairs: Sequence[ReusePair],
    articles: Mapping[str, Article] | None = None,
    settings: Settings | None = None,
) -> Patchwork:
    """Label each body sentence of ``article`` with its source, or as novel.

    ``pairs`` may be the whole collection's pairs; only those involving ``article`` are
    used, and ``SentenceSource.pair`` indexes this sequence. ``articles`` is accepted
    for callers that have them (not needed for the labels).
    """
    del articles
    threshold = (settings or Settings()).provenance.reused_sentence_share
    taken = taken_passages(article.id, pairs)
    seq = tokenize(article.text, article.excluded)
    starts = seq.starts
    owner: list[tuple[str, int, int] | None] = [None] * len(starts)
    by_source: dict[str, int] = {}
    for lo, hi, origin, i, j in taken:
        for k in range(bisect_left(starts, lo), bisect_left(starts, hi)):
            if owner[k] is None:
                owner[k] = (origin, i, j)
                by_source[origin] = by_source.get(origin, 0) + 1
    sentences: list[SentenceSource] = []
    k = 0
    for span in split_sentences(article.text, article.excluded):
        while k < len(starts) and starts[k] < span.start:
            k += 1
        m = k
        while m < len(starts) and starts[m] < span.end:
            m += 1
        if m == k:
            continue
        pieces = _pieces(article.text, (span.start, span.end), (k, m), starts, seq.ends, owner)
        for lo, hi, t0, t1 in pieces:
            sentences.append(_label(article.text, lo, hi, owner[t0:t1], threshold))
    return Patchwork(
        article=article.id,
        sentences=tuple(sentences),
        body_words=len(starts),
        reused_words=sum(1 for o in owner if o is not None),
        by_source=by_source,
    )


#: A sentence is cut where a passage starts or ends inside it only when both sides hold
#: at least this many words and the word after the cut opens with a capital letter: the
#: passage boundary then shows a sentence break that the splitter could not see (a
#: heading or list line without final punctuation run into the next sentence). A
#: passage that covers the start of a sentence and stops mid-clause is not cut.
_MIN_PIECE_WORDS = 3


def _pieces(
    text: str,
    span: tuple[int, int],
    tokens: tuple[int, int],
    starts: Sequence[int],
    ends: Sequence[int],
    owner: Sequence[tuple[str, int, int] | None],
) -> list[tuple[int, int, int, int]]:
    """The sentence ``span`` (tokens ``tokens[0]:tokens[1]``) as ``(start, end, first
    token, end token)`` pieces, cut where its words pass from reused to the article's
    own (or back) at a hidden sentence break (see :data:`_MIN_PIECE_WORDS`)."""
    k, m = tokens
    cuts = [k]
    for t in range(k + 1, m):
        if (owner[t] is None) == (owner[t - 1] is None):
            continue
        if t - cuts[-1] < _MIN_PIECE_WORDS or m - t < _MIN_PIECE_WORDS:
            continue
        word = text[starts[t] : ends[t]].lstrip("\"'“‘(")
        if word[:1].isupper() or word[:1].isdigit():
            cuts.append(t)
    cuts.append(m)
    lo, hi = span
    out: list[tuple[int, int, int, int]] = []
    for n, (t0, t1) in enumerate(pairwise(cuts)):
        start = lo if n == 0 else starts[t0]
        end = hi if t1 == m else ends[t1 - 1]
        out.append((start, end, t0, t1))
    return out


def _label(
    text: str,
    lo: int,
    hi: int,
    owners: Sequence[tuple[str, int, int] | None],
    threshold: float,
) -> SentenceSource:
    counts: dict[tuple[str, int, int], int] = {}
    for tag in owners:
        if tag is not None:
            counts[tag] = counts.get(tag, 0) + 1
    words = len(owners)
    reused = sum(counts.values())
    if reused > threshold * words:
        return SentenceSource(lo, hi, text[lo:hi], words, reused, *_best_source(counts))
    return SentenceSource(lo, hi, text[lo:hi], words, reused)


def _best_source(counts: Mapping[tuple[str, int, int], int]) -> tuple[str, int, int]:
    per_source: dict[str, int] = {}
    for (origin, _, _), n in counts.items():
        per_source[origin] = per_source.get(origin, 0) + n
    origin = max(per_source, key=lambda o: (per_source[o], o))
    tag = max((t for t in counts if t[0] == origin), key=lambda t: counts[t])
    return tag

"""Term vectors for stories: what an article is about, as sparse TF-IDF rows.

An article's terms are its body words (boilerplate and title line excluded), folded to
lower case, stop words and words shorter than three letters out. A capitalised word
that does not start a sentence or a line (a name: "Caracas", "Maduro") counts twice,
because names tell events apart better than common words; each title word counts two
more. Terms travel as stable 64-bit hashes (xxh64), so counting runs in worker
processes and the store keeps centroids and document frequencies without the strings.

:class:`Vocabulary` maps hashes to dense column ids and keeps document frequencies;
:meth:`Vocabulary.weigh` turns counts into rows of at most ``top`` terms weighted
``(1 + log tf) * (log((1 + n) / (1 + df)) + 1)``, sorted heaviest first and L2
normalised. Everything after counting is numpy, so a million articles cost seconds.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context

import numpy as np
import numpy.typing as npt
import xxhash

from wiretrace.models import Article

__all__ = [
    "STOP_WORDS",
    "TermCounter",
    "TermCounts",
    "Vocabulary",
    "WeightedRows",
    "body_text",
    "count_terms",
    "term_hash",
]

IntArray = npt.NDArray[np.int64]
SmallArray = npt.NDArray[np.int32]  # term ids and counts: 4 bytes each at a million articles
FloatArray = npt.NDArray[np.float64]

# Words of two letters or more (on lower-cased text), and capitalised words with what
# precedes them when that is a sentence end or a line start (names are the others).
_WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W_]")
_CAPITALISED = re.compile(r"([.!?][\"”’']?\s+|\n\s*)?([A-ZÀ-ÖØ-Þ][\w'’-]*[^\W_])")
# the same two parts as separate patterns, each starting with a character class (which
# the regex engine scans for quickly): all capitalised words, and those after a
# sentence end or at a line start; names are the first minus the second
_CAPITAL = re.compile(r"[A-ZÀ-ÖØ-Þ][\w'’-]*[^\W_]")
_OPENING = re.compile(r"(?:[.!?][\"”’']?\s+|\n\s*)([A-ZÀ-ÖØ-Þ][\w'’-]*[^\W_])")
STOP_WORDS = frozenset(
    "a about above after again against all also am an and any are as at be because been "
    "before being below between both but by can could did do does doing down during each "
    "few for from further had has have having he her here hers herself him himself his "
    "how i if in into is it its itself just me more most my myself no nor not now of off "
    "on once only or other our ours out over own said same says she should so some such "
    "than that the their theirs them themselves then there these they this those through "
    "to too under until up very was we were what when where which while who whom why will "
    "with would you your yours yourself also new one two three told year years last first "
    "would could like get got make made people time just back may mr mrs ms week since ".split()
)


def term_hash(term: str) -> int:
    """The stable signed 64-bit hash a term travels as."""
    return xxhash.xxh64_intdigest(term.encode("utf-8")) - (1 << 63)


def body_text(article: Article) -> str:
    """The article's text outside its excluded spans (pieces joined by line breaks)."""
    if not article.excluded:
        return article.text
    pieces: list[str] = []
    pos = 0
    for span in sorted(article.excluded, key=lambda s: s.start):
        if span.start > pos:
            pieces.append(article.text[pos : span.start])
        pos = max(pos, span.end)
    pieces.append(article.text[pos:])
    return "\n".join(pieces)


def _article_counts(body: str, title: str | None) -> dict[str, int]:
    """Term -> count for one article (see the module docstring for what counts)."""
    counts = Counter(_WORD.findall(body.lower()))
    counts.update([w.lower() for before, w in _CAPITALISED.findall(body) if not before])
    if title:
        counts.update(_WORD.findall(title.lower()) * 2)
    stop = STOP_WORDS
    out: dict[str, int] = {}
    for found, n in counts.items():
        word = found
        if "'" in word or "’" in word:
            word = word.replace("’", "'").removesuffix("'s")
        if len(word) >= 3 and word not in stop:
            out[word] = out.get(word, 0) + n
    return out


@dataclass(frozen=True, slots=True)
class TermCounts:
    """Term counts of many articles, CSR-style: row ``i`` has the terms
    ``local[indptr[i]:indptr[i+1]]`` with ``counts`` beside them; a local term ``t``
    is the term whose hash is ``hashes[t]`` (each term hashed once per batch)."""

    indptr: IntArray
    local: SmallArray
    counts: SmallArray
    hashes: IntArray

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def take(self, order: IntArray) -> TermCounts:
        """The rows ``order`` (a permutation or a selection), in that order."""
        lengths = np.diff(self.indptr)[order]
        indptr = np.zeros(len(order) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        gather = np.repeat(self.indptr[:-1][order] - indptr[:-1], lengths)
        gather += np.arange(int(indptr[-1]), dtype=np.int64)
        return TermCounts(indptr, self.local[gather], self.counts[gather], self.hashes)


def _count_chunk(items: Sequence[tuple[str, str | None]], lead: int = 0) -> TermCounts:
    """Term counts of a chunk, as :func:`_article_counts` gives them row by row (same
    terms, counts and term order), with the per-token work in C: each article's tokens
    go into one stream (body words weigh 1, extra name copies 1, title words 2), each
    distinct token is normalised once per chunk, and numpy sums (article, term) pairs
    keeping each pair's first position in the stream (a row's term order)."""
    words, capital, opening = _WORD.findall, _CAPITAL.findall, _OPENING.findall
    tokens: list[str] = []
    seg: list[int] = []  # per article: body, capitalised, opening and title token counts
    for body, title in items:
        text = _lead(body, lead) if lead else body
        found = words(text.lower())
        caps = capital(text)
        capped = " ".join(caps).lower().split(" ") if caps else []
        opens = opening(text)
        opened = " ".join(opens).lower().split(" ") if opens else []
        titled = words(title.lower()) if title else []
        tokens += found
        tokens += capped
        tokens += opened
        tokens += titled
        seg += (len(found), len(capped), len(opened), len(titled))
    terms: dict[str, int] = {}
    term_of: dict[str, int] = {}
    stop = STOP_WORDS
    for token in set(tokens):
        word = token
        if "'" in word or "’" in word:
            word = word.replace("’", "'").removesuffix("'s")
        term_of[token] = (
            terms.setdefault(word, len(terms)) if len(word) >= 3 and word not in stop else -1
        )
    n = len(items)
    lengths = np.array(seg, dtype=np.int64).reshape(n, 4) if n else np.zeros((0, 4), np.int64)
    tid = np.fromiter(map(term_of.__getitem__, tokens), dtype=np.int64, count=len(tokens))
    weight = np.repeat(np.tile(np.array([1, 1, -1, 2], np.int64), n), lengths.ravel())
    doc = np.repeat(np.arange(n, dtype=np.int64), lengths.sum(axis=1))
    ok = tid >= 0
    key = doc[ok] * max(len(terms), 1) + tid[ok]
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    summed = np.bincount(inverse.ravel(), weights=weight[ok], minlength=len(uniq))
    # the stream is article by article; openings only take back capitalised copies
    order = np.argsort(first, kind="stable")
    order = order[summed[order] > 0]
    pairs = uniq[order]
    width = max(len(terms), 1)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(pairs // width, minlength=n), out=indptr[1:])
    return TermCounts(
        indptr,
        (pairs % width).astype(np.int32),
        summed[order].astype(np.int32),
        np.array([term_hash(t) for t in terms], dtype=np.int64),
    )


def _lead(body: str, limit: int) -> str:
    """The first ``limit`` characters, cut at a word boundary."""
    if len(body) <= limit:
        return body
    cut = body.rfind(" ", 0, limit)
    return body[: cut if cut > 0 else limit]


def _concat(parts: Sequence[TermCounts]) -> TermCounts:
    if not parts:
        empty = np.zeros(0, np.int32)
        return TermCounts(np.zeros(1, np.int64), empty, empty, np.zeros(0, np.int64))
    indptr = [parts[0].indptr]
    local = [parts[0].local]
    base, shift = int(parts[0].indptr[-1]), len(parts[0].hashes)
    for p in parts[1:]:
        indptr.append(p.indptr[1:] + base)
        local.append(p.local + shift)
        base += int(p.indptr[-1])
        shift += len(p.hashes)
    return TermCounts(
        np.concatenate(indptr),
        np.concatenate(local),
        np.concatenate([p.counts for p in parts]),
        np.concatenate([p.hashes for p in parts]),
    )


class TermCounter:
    """Counts terms of batches of ``(body, title)`` items as they are read, in order.

    ``lead`` > 0 reads only the body's first ``lead`` characters: news put the event
    (who, what, where, when) in the lead, and the rest costs time without telling
    events apart much better. With ``workers`` > 1, chunks of ``chunk`` items are
    counted in that many processes while the caller reads the next batch (worth it
    from a few tens of thousands of articles). Use it as a context manager.

    The workers are spawned, not forked: the caller is the store's process, which by
    then holds DuckDB's buffers and the index update's leftovers (gigabytes at a
    million articles). A forked worker maps all of it (its resident size read 2.3 GB
    at 200,000 articles, 376 MB of it its own: bench/README.md, "Memory per process"),
    every page the caller rewrites meanwhile is copied for it, and forking a process
    running DuckDB's threads is unsafe besides. A spawned worker holds its chunks only.
    """

    def __init__(self, lead: int = 0, workers: int = 1, chunk: int = 5000) -> None:
        self.lead = lead
        self.chunk = chunk
        self.workers = workers
        self._pool = (
            ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
            if workers > 1
            else None
        )
        self._parts: list[TermCounts | Future[TermCounts]] = []

    def __enter__(self) -> TermCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def add(self, items: Sequence[tuple[str, str | None]]) -> None:
        for lo in range(0, len(items), self.chunk):
            part = list(items[lo : lo + self.chunk])
            if self._pool is None:
                self._parts.append(_count_chunk(part, self.lead))
                continue
            pending = [p for p in self._parts if isinstance(p, Future) and not p.done()]
            if len(pending) > 2 * self.workers:
                wait(pending[:1])  # bounded in flight: the queue holds texts
            self._parts.append(self._pool.submit(_count_chunk, part, self.lead))

    def result(self) -> TermCounts:
        """Every batch added so far, in order."""
        return _concat([p.result() if isinstance(p, Future) else p for p in self._parts])


def count_terms(
    items: Iterable[tuple[str, str | None]], lead: int = 0, workers: int = 1, chunk: int = 5000
) -> TermCounts:
    """Term counts of ``(body, title)`` items, in order (see :class:`TermCounter`)."""
    batch = list(items)
    with TermCounter(lead, workers if len(batch) > chunk else 1, chunk) as counter:
        counter.add(batch)
        return counter.result()


@dataclass(frozen=True, slots=True)
class WeightedRows:
    """L2-normalised TF-IDF rows, heaviest term first: row ``i`` is
    ``ids[indptr[i]:indptr[i+1]]`` (dense column ids) with ``weights``."""

    indptr: IntArray
    ids: SmallArray
    weights: FloatArray

    def __len__(self) -> int:
        return len(self.indptr) - 1


class Vocabulary:
    """Term hashes -> dense column ids, with document frequencies.

    Frequencies grow as batches are added (:meth:`add`), so an incremental run goes on
    weighting terms by the whole collection seen so far.
    """

    def __init__(self, hashes: Sequence[int] = (), df: Sequence[int] = (), n_docs: int = 0):
        self.ids: dict[int, int] = {int(h): i for i, h in enumerate(hashes)}
        self.hashes: list[int] = [int(h) for h in hashes]
        self.df = np.zeros(max(1024, len(self.hashes)), dtype=np.int64)
        self.df[: len(df)] = np.asarray(df, dtype=np.int64)
        self.n_docs = n_docs

    def __len__(self) -> int:
        return len(self.hashes)

    def map(self, hashes: IntArray) -> SmallArray:
        """Dense ids of ``hashes`` (new hashes get new ids)."""
        uniq, inverse = np.unique(hashes, return_inverse=True)
        ids = self.ids
        out = np.empty(len(uniq), dtype=np.int32)
        for k, h in enumerate(uniq.tolist()):
            i = ids.get(h)
            if i is None:
                i = ids[h] = len(self.hashes)
                self.hashes.append(h)
            out[k] = i
        if len(self.hashes) > len(self.df):
            grown = np.zeros(max(len(self.hashes), 2 * len(self.df)), dtype=np.int64)
            grown[: len(self.df)] = self.df
            self.df = grown
        return out[inverse]

    def add(self, counts: TermCounts) -> SmallArray:
        """Count the batch's documents into the frequencies; returns its dense ids."""
        ids = self.map(counts.hashes)[counts.local] if len(counts.local) else counts.local
        np.add.at(self.df, ids, 1)
        self.n_docs += len(counts)
        return ids

    def weigh(
        self, counts: TermCounts, ids: SmallArray, top: int, chunk: int = 20000
    ) -> WeightedRows:
        """TF-IDF rows of a batch already :meth:`add`-ed, ``top`` heaviest terms each."""
        idf = np.log((1.0 + self.n_docs) / (1.0 + self.df[: len(self.hashes)])) + 1.0
        parts = [
            _weigh_rows(counts, ids, idf, lo, min(lo + chunk, len(counts)), top)
            for lo in range(0, len(counts), chunk)
        ]
        if not parts:
            return WeightedRows(np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0))
        indptr = [parts[0].indptr]
        base = int(parts[0].indptr[-1])
        for p in parts[1:]:
            indptr.append(p.indptr[1:] + base)
            base += int(p.indptr[-1])
        return WeightedRows(
            np.concatenate(indptr),
            np.concatenate([p.ids for p in parts]),
            np.concatenate([p.weights for p in parts]),
        )


def _weigh_rows(
    counts: TermCounts, ids: SmallArray, idf: FloatArray, lo: int, hi: int, top: int
) -> WeightedRows:
    a, b = counts.indptr[lo], counts.indptr[hi]
    n_rows = hi - lo
    lengths = np.diff(counts.indptr[lo : hi + 1])
    rows = np.repeat(np.arange(n_rows), lengths)
    tids = ids[a:b]
    weights = (1.0 + np.log(counts.counts[a:b].astype(np.float64))) * idf[tids]
    # one sort key: row first, heaviest first inside a row (weights stay below 1000)
    order = np.argsort(rows * 1024.0 - np.minimum(weights, 1000.0), kind="stable")
    rank = np.arange(len(order)) - np.repeat(counts.indptr[lo:hi] - a, lengths)
    keep = order[rank < top]
    kept_rows = rows[keep]
    w = weights[keep]
    norms = np.sqrt(np.bincount(kept_rows, weights=w * w, minlength=n_rows))
    norms[norms == 0] = 1.0
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(kept_rows, minlength=n_rows), out=indptr[1:])
    return WeightedRows(indptr, tids[keep], w / norms[kept_rows])

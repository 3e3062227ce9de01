"""Stories: articles about the same event, whether they copied text or not.

Each article becomes a TF-IDF row (:mod:`~wiretrace.analyze.story_vectors`: body words,
names weighted up, its ``top_terms`` heaviest terms). Articles are assigned online, in
publication order (undated ones after, by id), to the story whose centroid (the sum of
its members' rows, kept to its ``2 * top_terms`` heaviest terms) is most similar, when
the cosine reaches ``threshold``; otherwise they found a new story. Reuse is a stronger
link than similarity: an article that shares text with an article of a story joins
that story (the one holding most of its partners; on a tie, the older). A time window
keeps two events with the same words apart: a dated article does not join a story
whose span lies more than ``window_days`` away.

The online pass runs in batches of a few hundred articles, with sparse matrix products
doing the arithmetic and the exact online rule kept inside a batch: an article's
similarity to a story that gained members earlier in the same batch is the story's
dot product at the batch start plus the article-article products, over the centroid's
updated norm. Candidate stories come from an inverted index (each story's
``index_terms`` heaviest terms) restricted to stories whose span is near the batch, so
the cost grows with the number of articles, not with articles x stories.

:meth:`StoryAssigner.merge` then joins stories whose centroids are similar (online
assignment splits an event whose first articles happened to differ), in rounds: each
story merges with at most its best partner per round, the older story keeping its id.

Ids are stable: a story's id is derived from its founding article's id, adding articles
later extends existing stories or founds new ones, and two stories that existed before
(loaded with :meth:`StoryAssigner.from_state`) are never merged with each other.

Assignment is repeatable: the same articles and pairs give the same stories in every
process. Every tie is broken by position (founding order, column order, article id),
never by the iteration order of a set or dict of strings, which changes with the
process's hash seed (``tests/test_story_repeatable.py``).
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
from scipy import sparse

from wiretrace.analyze.story_vectors import (
    TermCounts,
    Vocabulary,
    WeightedRows,
    body_text,
    count_terms,
)
from wiretrace.models import Article

__all__ = [
    "StoryAssigner",
    "StoryState",
    "StoryTables",
    "bcubed",
    "story_id",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_DAY = 86400.0


def story_id(founder: str) -> str:
    """A story's stable id: derived from the id of the article that founded it."""
    return "s" + hashlib.blake2b(founder.encode("utf-8"), digest_size=6).hexdigest()


@dataclass(frozen=True, slots=True)
class StoryState:
    """One story as assigned: its members (in the order they joined) and time span."""

    id: str
    founder: str
    members: tuple[str, ...]
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True, slots=True)
class StoryTables:
    """An assigner's whole state as flat arrays, for the store.

    Stories: ``ids``, ``founders``, ``starts``/``ends`` (datetimes or None), centroids
    CSR-style (``cent_indptr`` over ``cent_hashes`` term hashes and ``cent_weights``),
    and ``settled``. Members: ``article_ids`` with ``article_story`` (index into
    ``ids``) and ``article_rank`` (joining order). Vocabulary: ``df_hashes``, ``df``
    and ``n_docs``.
    """

    ids: list[str]
    founders: list[str]
    starts: list[datetime | None]
    ends: list[datetime | None]
    cent_indptr: IntArray
    cent_hashes: IntArray
    cent_weights: FloatArray
    article_ids: list[str]
    article_story: IntArray
    df_hashes: IntArray
    df: IntArray
    n_docs: int


def _epoch(when: datetime | None) -> float:
    """Seconds since 1970 (a time without a zone is read as UTC), NaN when undated."""
    if when is None:
        return math.nan
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


class _Grow:
    """A float64 array that grows by doubling."""

    def __init__(self, fill: float) -> None:
        self.fill = fill
        self.data = np.full(1024, fill)
        self.n = 0

    def extend(self, values: FloatArray) -> None:
        need = self.n + len(values)
        if need > len(self.data):
            grown = np.full(max(need, 2 * len(self.data)), self.fill)
            grown[: self.n] = self.data[: self.n]
            self.data = grown
        self.data[self.n : need] = values
        self.n = need

    @property
    def view(self) -> FloatArray:
        return self.data[: self.n]


class StoryAssigner:
    """Online story assignment with document frequencies and an inverted index.

    ``threshold`` is the lowest cosine to a story's centroid for an article to join it;
    ``merge_threshold`` the lowest between two centroids for :meth:`merge`;
    ``window_days`` the time window; ``top_terms`` terms per article row;
    ``index_terms`` terms per story in the candidate index; ``candidates`` stories
    compared exactly per article (those sharing the most index weight); ``batch``
    articles per batch of the online pass; ``lead_chars`` characters of each body read
    (0: all); ``workers`` processes counting terms.
    """

    def __init__(
        self,
        threshold: float = 0.1,
        merge_threshold: float = 0.1,
        window_days: float = 7.0,
        top_terms: int = 60,
        index_terms: int = 12,
        batch: int = 2048,
        candidates: int = 16,
        lead_chars: int = 2000,
        workers: int = 1,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), not {threshold}")
        if not 0.0 < merge_threshold < 1.0:
            raise ValueError(f"merge_threshold must be in (0, 1), not {merge_threshold}")
        if min(top_terms, index_terms, batch, candidates) < 1:
            raise ValueError("top_terms, index_terms, batch and candidates must be at least 1")
        self.threshold = threshold
        self.merge_threshold = merge_threshold
        self.window = window_days * _DAY
        self.top_terms = top_terms
        self.centroid_terms = 2 * top_terms
        self.index_terms = index_terms
        self.batch = batch
        self.workers = workers
        self.lead_chars = lead_chars
        self.candidates = candidates
        self.vocab = Vocabulary()
        # each story's heaviest normalised centroid terms, fixed width (-1 pads): the
        # index rows (``index_terms``) and the query rows (twice as many) of merging
        self._top_ids = np.full((1024, 2 * index_terms), -1, dtype=np.int64)
        self._top_w = np.zeros((1024, 2 * index_terms))
        # stories, by index in founding order
        self.ids: list[str] = []
        self.founders: list[str] = []
        self.members: list[list[str]] = []
        self.cent_ids: list[IntArray] = []
        self.cent_w: list[FloatArray] = []
        self.norm2 = _Grow(0.0)
        self.start = _Grow(math.nan)
        self.end = _Grow(math.nan)
        self.start_dt: list[datetime | None] = []
        self.end_dt: list[datetime | None] = []
        self.alive = _Grow(1.0)
        self.settled = _Grow(0.0)
        self.by_id: dict[str, int] = {}
        self._article_story: dict[str, int] = {}
        #: stories founded, grown or merged into since this assigner was built or loaded
        self.changed: set[int] = set()

    # -- views ----------------------------------------------------------------------

    @property
    def of_article(self) -> dict[str, str]:
        """Article id -> story id, for every assigned article."""
        ids = self.ids
        return {a: ids[s] for a, s in self._article_story.items()}

    def story_of(self, article: str) -> str | None:
        s = self._article_story.get(article)
        return None if s is None else self.ids[s]

    @property
    def stories(self) -> dict[str, StoryState]:
        """Story id -> its state, for every live story, in founding order."""
        alive = self.alive.view
        return {self.ids[s]: self.state(s) for s in range(len(self.ids)) if alive[s]}

    def state(self, s: int) -> StoryState:
        return StoryState(
            id=self.ids[s],
            founder=self.founders[s],
            members=tuple(self.members[s]),
            start=self.start_dt[s],
            end=self.end_dt[s],
        )

    # -- stories --------------------------------------------------------------------

    def _new_story(self, founder: str) -> int:
        s = len(self.ids)
        sid = story_id(founder)
        self.ids.append(sid)
        self.by_id[sid] = s
        self.founders.append(founder)
        self.members.append([])
        self.cent_ids.append(np.zeros(0, np.int64))
        self.cent_w.append(np.zeros(0, np.float64))
        self.norm2.extend(np.zeros(1))
        self.start.extend(np.full(1, math.nan))
        self.end.extend(np.full(1, math.nan))
        self.start_dt.append(None)
        self.end_dt.append(None)
        self.alive.extend(np.ones(1))
        self.settled.extend(np.zeros(1))
        if s >= len(self._top_ids):
            grow = len(self._top_ids)
            self._top_ids = np.vstack([self._top_ids, np.full((grow, self._top_ids.shape[1]), -1)])
            self._top_w = np.vstack([self._top_w, np.zeros((grow, self._top_w.shape[1]))])
        return s

    def _set_centroid(self, s: int, ids: IntArray, weights: FloatArray) -> None:
        """Keep the ``centroid_terms`` heaviest terms, heaviest first."""
        if len(ids) > self.centroid_terms:
            keep = np.argpartition(-weights, self.centroid_terms - 1)[: self.centroid_terms]
            ids, weights = ids[keep], weights[keep]
        order = np.lexsort((ids, -weights))
        self.cent_ids[s] = ids[order]
        self.cent_w[s] = weights[order]
        self.norm2.data[s] = norm2 = float(np.dot(weights, weights))
        width = self._top_ids.shape[1]
        head = order[:width]
        self._top_ids[s] = -1
        self._top_w[s] = 0.0
        self._top_ids[s, : len(head)] = ids[head]
        self._top_w[s, : len(head)] = weights[head] / math.sqrt(norm2 or 1.0)

    def _set_centroids(self, stories: IntArray, sums: sparse.csr_matrix) -> None:
        """:meth:`_set_centroid` for many stories at once (row ``r`` of ``sums`` is
        story ``stories[r]``'s new centroid)."""
        sums.sum_duplicates()
        lengths = np.diff(sums.indptr)
        rows = np.repeat(np.arange(len(stories)), lengths)
        order = _row_major_heaviest(rows, sums.data)
        rank = np.arange(len(order)) - np.repeat(sums.indptr[:-1], lengths)
        kept = rank < self.centroid_terms
        keep = order[kept]
        k_rows, k_rank = rows[keep], rank[kept]
        ids, ws = sums.indices[keep].astype(np.int64), sums.data[keep]
        norm2 = np.bincount(k_rows, weights=ws * ws, minlength=len(stories))
        self.norm2.data[stories] = norm2
        bounds = np.searchsorted(k_rows, np.arange(len(stories) + 1))
        for r, s in enumerate(stories.tolist()):
            self.cent_ids[s] = ids[bounds[r] : bounds[r + 1]]
            self.cent_w[s] = ws[bounds[r] : bounds[r + 1]]
        width = self._top_ids.shape[1]
        head = k_rank < width
        self._top_ids[stories] = -1
        self._top_w[stories] = 0.0
        norms = np.sqrt(np.where(norm2 > 0, norm2, 1.0))
        self._top_ids[stories[k_rows[head]], k_rank[head]] = ids[head]
        self._top_w[stories[k_rows[head]], k_rank[head]] = ws[head] / norms[k_rows[head]]

    def _widen(self, s: int, when: float, dt: datetime | None) -> None:
        if math.isnan(when):
            return
        if math.isnan(self.start.data[s]) or when < self.start.data[s]:
            self.start.data[s], self.start_dt[s] = when, dt
        if math.isnan(self.end.data[s]) or when > self.end.data[s]:
            self.end.data[s], self.end_dt[s] = when, dt

    def _index_matrix(self, rows: IntArray, n_cols: int, terms: int) -> sparse.csr_matrix:
        """Rows ``rows`` of the stories' normalised centroids, ``terms`` heaviest each."""
        if terms <= self._top_ids.shape[1]:
            ids = self._top_ids[rows, :terms]
            present = ids >= 0
            indptr = np.zeros(len(rows) + 1, dtype=np.int64)
            np.cumsum(present.sum(axis=1), out=indptr[1:])
            return sparse.csr_matrix(
                (self._top_w[rows, :terms][present], ids[present], indptr),
                shape=(len(rows), n_cols),
            )
        heads = [self.cent_ids[s][:terms] for s in rows.tolist()]
        ws = [self.cent_w[s][:terms] for s in rows.tolist()]
        lengths = np.fromiter((len(x) for x in heads), dtype=np.int64, count=len(heads))
        indptr = np.zeros(len(heads) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        norms = np.sqrt(self.norm2.view[rows])
        norms[norms == 0] = 1.0
        data = (np.concatenate(ws) if ws else np.zeros(0)) / np.repeat(norms, lengths)
        cols = np.concatenate(heads) if heads else np.zeros(0, np.int64)
        return sparse.csr_matrix((data, cols, indptr), shape=(len(heads), n_cols))

    def _near(self, lo: float, hi: float, pool: IntArray | None = None) -> IntArray:
        """Live stories whose span comes within the window of ``[lo, hi]`` (all live
        stories when that range is undated; undated stories always)."""
        alive = self.alive.view > 0
        if not math.isnan(lo) and not math.isnan(hi):
            far = (self.end.view < lo - self.window) | (self.start.view > hi + self.window)
            alive &= ~far
        found = np.nonzero(alive)[0]
        return found if pool is None else np.intersect1d(found, pool)

    # -- assignment -----------------------------------------------------------------

    def assign(
        self,
        articles: Sequence[Article],
        reuse: Mapping[str, Iterable[str]] | None = None,
    ) -> dict[str, str]:
        """Assign new articles to stories; returns article id -> story id for them.

        ``reuse`` maps an article id to the ids it shares text with (either direction).
        Articles already assigned are skipped.
        """
        fresh = [a for a in articles if a.id not in self._article_story]
        counts = count_terms(
            ((body_text(a), a.title) for a in fresh), self.lead_chars, self.workers
        )
        return self.assign_counts(
            [a.id for a in fresh], [a.published for a in fresh], counts, reuse or {}
        )

    def assign_counts(
        self,
        ids: Sequence[str],
        published: Sequence[datetime | None],
        counts: TermCounts,
        reuse: Mapping[str, Iterable[str]],
    ) -> dict[str, str]:
        """:meth:`assign` for articles already counted (row ``i`` of ``counts`` is
        article ``ids[i]``): in publication order, undated ones last, ties by id;
        articles already assigned are skipped."""
        epochs = [_epoch(p) for p in published]
        keep = [i for i, a in enumerate(ids) if a not in self._article_story]
        keep.sort(key=lambda i: (math.isnan(epochs[i]), _key_time(epochs[i]), ids[i]))
        counts = counts.take(np.array(keep, dtype=np.int64))
        ids = [ids[i] for i in keep]
        published = [published[i] for i in keep]
        times = np.array([epochs[i] for i in keep], dtype=np.float64)
        dense = self.vocab.add(counts)
        rows = self.vocab.weigh(counts, dense, self.top_terms)
        n_cols = len(self.vocab)
        for lo in range(0, len(ids), self.batch):
            hi = min(lo + self.batch, len(ids))
            self._assign_batch(ids[lo:hi], published[lo:hi], times[lo:hi],
                               _slice(rows, lo, hi, n_cols), reuse)  # fmt: skip
        return {a: self.ids[self._article_story[a]] for a in ids}

    def _candidates(
        self, x: sparse.csr_matrix, times: FloatArray
    ) -> tuple[IntArray, IntArray, IntArray]:
        """Each row's candidate stories: ``(stories, rows, cols)`` where pair ``n`` is
        row ``rows[n]`` with story ``stories[cols[n]]``; pairs sorted by row. A row's
        candidates are the ``candidates`` stories near the batch in time that share
        the most index weight with it."""
        empty = np.zeros(0, np.int64)
        if not self.ids:
            return empty, empty, empty
        dated = times[~np.isnan(times)]
        undated = len(dated) < len(times)
        lo, hi = (math.nan, math.nan) if undated else (float(dated.min()), float(dated.max()))
        near = self._near(lo, hi)
        if not len(near):
            return empty, empty, empty
        index = self._index_matrix(near, x.shape[1], self.index_terms)
        query = _head(x, 2 * self.index_terms)
        rows, cols, _ = _top_per_row(query @ index.T, self.candidates)
        used, local = np.unique(cols, return_inverse=True)
        return near[used], rows, local.astype(np.int64)

    def _assign_batch(
        self,
        ids: Sequence[str],
        published: Sequence[datetime | None],
        times: FloatArray,
        x: sparse.csr_matrix,
        reuse: Mapping[str, Iterable[str]],
    ) -> None:
        cand, pair_rows, pair_cols = self._candidates(x, times)
        linked = {self._article_story[o] for a in ids for o in reuse.get(a, ())
                  if o in self._article_story}  # fmt: skip
        if linked:
            extra = np.setdiff1d(np.fromiter(linked, dtype=np.int64), cand)
            cand = np.concatenate([cand, extra])
        k = len(cand)
        b = len(ids)
        # raw (unnormalised) dot product of each row with its candidates' centroids
        pair_raw = np.zeros(len(pair_rows))
        if len(pair_rows):
            cent = self._index_matrix(cand, x.shape[1], self.centroid_terms)
            pair_raw = _pair_products(x, cent, pair_rows, pair_cols)
            pair_raw *= np.sqrt(self.norm2.view[cand])[pair_cols]
        ptr = np.searchsorted(pair_rows, np.arange(b + 1)).tolist()
        p_cols, p_raw = pair_cols.tolist(), pair_raw.tolist()
        # earlier rows of the batch sharing terms with each row: lists, for the loop
        # (products under a quarter of the threshold are left out: they cannot make a
        # row join a story alone, and summing them costs more than they change)
        w_ptr, w_cols, w_vals = _earlier_links(x, self.threshold / 4)
        # per local story: centroid norm, and the window its span allows (undated
        # stories allow any time); plain lists: the loop touches a few entries each
        w = self.window
        norm2 = self.norm2.view[cand].tolist() + [0.0] * b
        starts, ends = self.start.view[cand], self.end.view[cand]
        dated = ~np.isnan(starts)
        earliest = np.where(dated, starts - w, -np.inf).tolist() + [-math.inf] * b
        latest = np.where(dated, ends + w, np.inf).tolist() + [math.inf] * b
        local_of = {int(s): j for j, s in enumerate(cand.tolist())}
        position = {a: i for i, a in enumerate(ids)} if reuse else {}
        story_local = [0] * b  # each article's local story
        founders: list[int] = []  # articles founding local stories k, k+1, ...
        n_local = k
        threshold = self.threshold
        root = [math.sqrt(v or 1.0) for v in norm2]  # updated with norm2
        when = times.tolist()
        for i in range(b):
            raw = dict(zip(p_cols[ptr[i] : ptr[i + 1]], p_raw[ptr[i] : ptr[i + 1]], strict=True))
            lo, hi = w_ptr[i], w_ptr[i + 1]
            for other, dot in zip(w_cols[lo:hi], w_vals[lo:hi], strict=True):
                local = story_local[other]
                raw[local] = raw.get(local, 0.0) + dot
            chosen = (
                self._linked_story(ids[i], i, reuse, position, story_local, local_of, cand)
                if reuse
                else None
            )
            t = when[i]
            dated_t = not math.isnan(t)
            gain = 0.0
            if chosen is None:
                best_sim = threshold
                for col, dot in raw.items():
                    if not dated_t or earliest[col] <= t <= latest[col]:
                        sim = dot / root[col]
                        if sim >= best_sim and (chosen is None or sim > best_sim or col < chosen):
                            chosen, best_sim, gain = col, sim, dot
            if chosen is None:
                chosen = n_local
                founders.append(i)
                n_local += 1
            story_local[i] = chosen
            norm2[chosen] += 2.0 * gain + 1.0
            root[chosen] = math.sqrt(norm2[chosen] or 1.0)
            if dated_t:
                if earliest[chosen] == -math.inf:
                    earliest[chosen], latest[chosen] = t - w, t + w
                else:
                    earliest[chosen] = min(earliest[chosen], t - w)
                    latest[chosen] = max(latest[chosen], t + w)
        self._commit_batch(
            ids, published, times, x, cand, np.array(story_local, dtype=np.int64), founders
        )

    def _linked_story(
        self,
        article: str,
        at: int,
        reuse: Mapping[str, Iterable[str]],
        position: Mapping[str, int],
        story_local: Sequence[int],
        local_of: Mapping[int, int],
        cand: IntArray,
    ) -> int | None:
        """The local story most of the article's reuse partners are in, if any; on a
        tie, the one the assigner holds first (founding order; stories loaded from the
        store come before new ones). ``at`` is the article's row in the batch and
        ``position`` the batch's rows by id: partners later in the batch have no story
        yet.

        The choice must not depend on the order of ``partners``: they are usually a
        set of ids, whose iteration order changes with each process's string hash
        seed, and picking the first of two tied stories made rebuilds of one store
        give different stories (bench/README.md, "Memory per process")."""
        partners = reuse.get(article)
        if not partners:
            return None
        found: Counter[int] = Counter()
        for other in partners:
            row = position.get(other)
            if row is not None:
                if row < at:
                    found[story_local[row]] += 1
            elif other in self._article_story:
                local = local_of.get(self._article_story[other])
                if local is not None:
                    found[local] += 1
        if not found:
            return None
        k = len(cand)

        def age(local: int) -> int:
            # founding order: a candidate's global index; stories founded in this
            # batch (local k, k+1, ...) come after every existing story, in order
            return int(cand[local]) if local < k else len(self.ids) + local - k

        return min(found, key=lambda local: (-found[local], age(local)))

    def _commit_batch(
        self,
        ids: Sequence[str],
        published: Sequence[datetime | None],
        times: FloatArray,
        x: sparse.csr_matrix,
        cand: IntArray,
        story_local: IntArray,
        founders: list[int],
    ) -> None:
        globals_ = np.concatenate(
            [cand, np.array([self._new_story(ids[i]) for i in founders], dtype=np.int64)]
        )
        story = globals_[story_local]
        touched, inverse = np.unique(story, return_inverse=True)
        # new centroids: old (truncated) centroid + the batch's member rows
        assign = sparse.csr_matrix(
            (np.ones(len(story)), (inverse, np.arange(len(story)))),
            shape=(len(touched), len(story)),
        )
        sums = (assign @ x).tocsr()
        old = self._index_matrix(touched, x.shape[1], self.centroid_terms)
        old = sparse.diags(np.sqrt(self.norm2.view[touched])) @ old
        sums = (sums + old).tocsr()
        self.changed.update(touched.tolist())
        self._set_centroids(touched, sums)
        for i, a in enumerate(ids):
            s = int(story[i])
            self.members[s].append(a)
            self._article_story[a] = s
            self._widen(s, float(times[i]), published[i])

    # -- merging --------------------------------------------------------------------

    def merge(self, threshold: float | None = None, max_rounds: int = 10) -> dict[str, str]:
        """Merge stories whose centroids are similar; returns merged id -> kept id.

        Rounds of: every unsettled story's best partner among the stories near it in
        time (sharing an index term), by centroid cosine at least ``threshold``;
        pairs taken greedily, most similar first, each story in at most one merge per
        round; the story founded first keeps its id. Later rounds look again at the
        stories that grew.
        """
        threshold = self.merge_threshold if threshold is None else threshold
        merged: dict[str, str] = {}
        todo = np.nonzero((self.alive.view > 0) & (self.settled.view == 0))[0]
        for _ in range(max_rounds):
            if not len(todo):
                break
            pairs = self._merge_pairs(todo, threshold)
            grown: set[int] = set()
            used: set[int] = set()
            for _sim, a, b in pairs:
                if a in used or b in used:
                    continue
                keep, gone = (a, b) if a < b else (b, a)
                self._absorb(keep, gone)
                merged[self.ids[gone]] = self.ids[keep]
                used.update((a, b))
                grown.add(keep)
            todo = np.array(sorted(grown), dtype=np.int64)
        return {k: _follow(merged, v) for k, v in merged.items()}

    def _merge_pairs(self, todo: IntArray, threshold: float) -> list[tuple[float, int, int]]:
        """(cosine, a, b) of candidate merges, most similar first (ties by ids).

        Candidates of a story: the ``candidates`` stories near it in time that share
        the most index weight with it; only those are compared exactly."""
        n_cols = len(self.vocab)
        order = todo[np.argsort(self.start.view[todo], kind="stable")]
        found: dict[tuple[int, int], float] = {}
        settled = self.settled.view > 0
        for lo in range(0, len(order), 2048):
            block = order[lo : lo + 2048]
            starts, ends = self.start.view[block], self.end.view[block]
            undated = bool(np.isnan(starts).any())
            near = self._near(
                math.nan if undated else float(np.nanmin(starts)),
                math.nan if undated else float(np.nanmax(ends)),
            )
            index = self._index_matrix(near, n_cols, self.index_terms)
            query = self._index_matrix(block, n_cols, 2 * self.index_terms)
            rows, cols, _ = _top_per_row(query @ index.T, self.candidates + 1)
            a, b = block[rows], near[cols]
            ok = (a != b) & ~(settled[a] & settled[b])
            ok &= _close(self.start.view, self.end.view, a, b, self.window)
            a, b = a[ok], b[ok]
            if not len(a):
                continue
            v = self._cosines(a, b, n_cols)
            good = v >= threshold
            for x, y, sim in zip(a[good].tolist(), b[good].tolist(), v[good].tolist(),
                                 strict=True):  # fmt: skip
                found[(min(x, y), max(x, y))] = sim
        return sorted(((s, x, y) for (x, y), s in found.items()), key=lambda t: (-t[0], t[1], t[2]))

    def _cosines(self, a: IntArray, b: IntArray, n_cols: int) -> FloatArray:
        """Centroid cosine of each pair ``(a[i], b[i])``."""
        ua, ia = np.unique(a, return_inverse=True)
        ub, ib = np.unique(b, return_inverse=True)
        mine = self._index_matrix(ua, n_cols, self.centroid_terms)[ia]
        theirs = self._index_matrix(ub, n_cols, self.centroid_terms)[ib]
        return np.asarray(mine.multiply(theirs).sum(axis=1), dtype=np.float64).ravel()

    def _absorb(self, keep: int, gone: int) -> None:
        ids = np.concatenate([self.cent_ids[keep], self.cent_ids[gone]])
        ws = np.concatenate([self.cent_w[keep], self.cent_w[gone]])
        uniq, inverse = np.unique(ids, return_inverse=True)
        summed = np.bincount(inverse, weights=ws, minlength=len(uniq)).astype(np.float64)
        self._set_centroid(keep, uniq, summed)
        self.members[keep].extend(self.members[gone])
        for a in self.members[gone]:
            self._article_story[a] = keep
        self._widen(keep, self.start.data[gone], self.start_dt[gone])
        self._widen(keep, self.end.data[gone], self.end_dt[gone])
        self.members[gone] = []
        self.alive.data[gone] = 0.0
        self.changed.add(keep)
        self.changed.discard(gone)

    # -- state ----------------------------------------------------------------------

    def tables(self, changed_only: bool = False) -> StoryTables:
        """The live stories (only those in :attr:`changed` with ``changed_only``) and the
        vocabulary as flat arrays (see :class:`StoryTables`)."""
        live = np.nonzero(self.alive.view > 0)[0].tolist()
        if changed_only:
            live = [s for s in live if s in self.changed]
        position = {s: i for i, s in enumerate(live)}
        hashes = np.array(self.vocab.hashes, dtype=np.int64)
        lengths = np.array([len(self.cent_ids[s]) for s in live], dtype=np.int64)
        indptr = np.zeros(len(live) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        cent = [self.cent_ids[s] for s in live]
        article_ids = [a for s in live for a in self.members[s]]
        return StoryTables(
            ids=[self.ids[s] for s in live],
            founders=[self.founders[s] for s in live],
            starts=[self.start_dt[s] for s in live],
            ends=[self.end_dt[s] for s in live],
            cent_indptr=indptr,
            cent_hashes=hashes[np.concatenate(cent)] if cent else np.zeros(0, np.int64),
            cent_weights=np.concatenate([self.cent_w[s] for s in live])
            if live
            else np.zeros(0),
            article_ids=article_ids,
            article_story=np.array(
                [position[s] for s in live for _ in self.members[s]], dtype=np.int64
            ),
            df_hashes=hashes,
            df=self.vocab.df[: len(hashes)].copy(),
            n_docs=self.vocab.n_docs,
        )

    @classmethod
    def from_tables(cls, tables: StoryTables, **options: float | int) -> StoryAssigner:
        """An assigner that goes on from stored state; its stories are settled."""
        self = cls(**options)  # type: ignore[arg-type]
        self.vocab = Vocabulary(tables.df_hashes.tolist(), tables.df.tolist(), tables.n_docs)
        members: dict[int, list[str]] = defaultdict(list)
        for a, s in zip(tables.article_ids, tables.article_story.tolist(), strict=True):
            members[s].append(a)
        dense = self.vocab.map(tables.cent_hashes)
        for i, sid in enumerate(tables.ids):
            s = self._new_story(tables.founders[i])
            if self.ids[s] != sid:  # a story keeps the id it was stored with
                del self.by_id[self.ids[s]]
                self.ids[s] = sid
                self.by_id[sid] = s
            lo, hi = tables.cent_indptr[i], tables.cent_indptr[i + 1]
            self._set_centroid(s, dense[lo:hi].astype(np.int64), tables.cent_weights[lo:hi])
            self.members[s] = members.get(i, [])
            for a in self.members[s]:
                self._article_story[a] = s
            self._widen(s, _epoch(tables.starts[i]), tables.starts[i])
            self._widen(s, _epoch(tables.ends[i]), tables.ends[i])
            self.settled.data[s] = 1.0
        self.changed.clear()
        return self


def _pair_products(
    x: sparse.csr_matrix, y: sparse.csr_matrix, rows: IntArray, cols: IntArray
) -> FloatArray:
    """``x[rows[n]] . y[cols[n]]`` for each pair ``n``. Both sides are put in column
    order once, so the many gathered rows need no sorting before they multiply."""
    xs, ys = x.sorted_indices(), y.sorted_indices()
    prod = xs[rows].multiply(ys[cols]).sum(axis=1)
    return np.asarray(prod, dtype=np.float64).ravel()


def _row_major_heaviest(rows: IntArray, weights: FloatArray) -> IntArray:
    """The order that sorts entries by row, heaviest first inside a row, ties in their
    current order: ``np.lexsort((positions, -weights, rows))`` for rows already
    grouped, at about half the cost (the row pass is a radix sort on small ints)."""
    order = np.argsort(-weights, kind="stable")
    small = np.int16 if len(rows) == 0 or int(rows[-1]) < 32767 else np.int64
    return order[np.argsort(rows[order].astype(small), kind="stable")]


def _key_time(epoch: float) -> float:
    return 0.0 if math.isnan(epoch) else epoch


def _slice(rows: WeightedRows, lo: int, hi: int, n_cols: int) -> sparse.csr_matrix:
    a, b = rows.indptr[lo], rows.indptr[hi]
    return sparse.csr_matrix(
        (rows.weights[a:b], rows.ids[a:b], rows.indptr[lo : hi + 1] - a), shape=(hi - lo, n_cols)
    )


def _top_per_row(
    scores: sparse.spmatrix, k: int
) -> tuple[IntArray, IntArray, FloatArray]:
    """(row, column, score) of each row's ``k`` highest scores (at the k-th score's
    tie, the lower columns). A partition per long row: these products hold millions
    of entries, and sorting them all costs twice as much."""
    m = sparse.csr_matrix(scores)
    m.sum_duplicates()
    lengths = np.diff(m.indptr)
    keep = np.ones(len(m.data), dtype=bool)
    for r in np.nonzero(lengths > k)[0].tolist():
        lo, hi = m.indptr[r], m.indptr[r + 1]
        row = m.data[lo:hi]
        cut = np.partition(row, len(row) - k)[len(row) - k]
        above = row > cut
        at = np.nonzero(row == cut)[0][: k - int(above.sum())]
        above[at] = True
        keep[lo:hi] = above
    rows = np.repeat(np.arange(m.shape[0]), lengths)
    return rows[keep], m.indices[keep].astype(np.int64), m.data[keep]


def _earlier_links(x: sparse.csr_matrix, least: float) -> tuple[list[int], list[int], list[float]]:
    """For each row of ``x``, the earlier rows whose product with it is at least
    ``least``: CSR ``(indptr, columns, products)`` as lists (for the online loop),
    columns in the product's order."""
    prod = (x @ x.T).tocsr()
    rows = np.repeat(np.arange(prod.shape[0]), np.diff(prod.indptr))
    keep = (prod.indices < rows) & (prod.data >= least)
    indptr = np.zeros(prod.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=prod.shape[0]), out=indptr[1:])
    return indptr.tolist(), prod.indices[keep].tolist(), prod.data[keep].tolist()


def _head(x: sparse.csr_matrix, k: int) -> sparse.csr_matrix:
    """Each row's first ``k`` entries (rows are stored heaviest first)."""
    lengths = np.minimum(np.diff(x.indptr), k)
    keep = np.concatenate(
        [np.arange(x.indptr[r], x.indptr[r] + lengths[r]) for r in range(x.shape[0])]
    ) if x.shape[0] else np.zeros(0, np.int64)  # fmt: skip
    indptr = np.zeros(x.shape[0] + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return sparse.csr_matrix((x.data[keep], x.indices[keep], indptr), shape=x.shape)


def _close(
    start: FloatArray, end: FloatArray, a: IntArray, b: IntArray, window: float
) -> npt.NDArray[np.bool_]:
    """Whether the spans of stories ``a`` and ``b`` come within ``window`` (undated: yes)."""
    far = (end[a] < start[b] - window) | (start[a] > end[b] + window)
    return np.asarray(~far)


def _follow(merged: Mapping[str, str], sid: str) -> str:
    while sid in merged:
        sid = merged[sid]
    return sid


def bcubed(assignment: Mapping[str, str], labels: Mapping[str, str]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of a clustering against labels (same keys)."""
    clusters: dict[str, list[str]] = defaultdict(list)
    classes: dict[str, list[str]] = defaultdict(list)
    for item, cluster in assignment.items():
        clusters[cluster].append(item)
        classes[labels[item]].append(item)
    p = r = 0.0
    for item, cluster in assignment.items():
        members = clusters[cluster]
        same = sum(1 for m in members if labels[m] == labels[item])
        p += same / len(members)
        r += same / len(classes[labels[item]])
    n = len(assignment) or 1
    p, r = p / n, r / n
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)

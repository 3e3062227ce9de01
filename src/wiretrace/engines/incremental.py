# SQL here is built only from module constants; every value goes in as a parameter or a
# registered Arrow table.
# ruff: noqa: S608
"""The local engine's detection index: incremental updates and ``check`` from the store.

The store keeps what detection derives from each article (store migration 4):
``postings`` (winnowed fingerprints, ART index on ``hash``), ``indexed`` (the article's
64-bit key, content hash, fingerprint count, min-hash sketch and near-duplicate group),
``aligned`` (every aligned candidate pair with its raw passages) and ``swaps`` (name
swaps per pair, from which aliases are learned). :func:`update_index` brings them up to
date with the stored articles, only doing the work the change needs:

1. **stale** articles (removed, or their content changed) lose their postings, aligned
   pairs and final pairs; their neighbours' pairs are re-finalised.
2. **new** articles, in steps of ``detect.index_batch`` (one transaction each, so a
   killed update keeps every finished step): fingerprints (a process pool over both
   cores) into ``postings``;
3. **near-duplicate groups**: min-hash buckets (three seeds) propose, containment
   ``shared / max(size) >= detect.near_duplicate`` confirms; a group's representative is
   its member of smallest rank (earliest published). Inside a group that changed, the
   pairs :func:`wiretrace.detect.group_pairs` asks for are aligned (and the others
   dropped), as in the batch path: every pair of a group of at most
   ``detect.group_all_pairs`` articles, a star around the likeliest origin in a larger
   one, so a reprint flood of N copies costs N alignments, never a clique. When a
   group's representative changes, its members are re-paired.
4. **candidates** (DuckDB, spilling to disk past ``detect.memory_limit``): postings
   collapsed to one row per (group, hash); document frequency counted in *groups*, so a
   story reprinted thousands of times is one document, never cut by ``detect.max_df``;
   only groups holding new articles are joined against everything; pairs sharing at
   least ``detect.min_shared`` rare fingerprints are aligned between the groups'
   representatives (near-duplicate candidates merge groups instead).
   **shared boilerplate**: fingerprints in at least ``detect.boilerplate_share`` of the
   stories (and ``detect.boilerplate_min_stories``), the rule of
   :func:`wiretrace.detect.shared_boilerplate`, are recounted over the postings; every
   alignment masks them (:func:`wiretrace.detect.mask_tokens`), and pairs of articles
   holding a fingerprint that became or stopped being boilerplate are aligned again.
5. **finalise**: the connected groups of raw pairs (pairs linked through a shared
   article) touching what changed, or holding a name swap that became (or stopped
   being) a learned alias (glued to an inserted word too: :func:`_peeled`), are
   re-attributed whole (:mod:`wiretrace.analyze.provenance`: a pair's origin depends on
   its group's other pairs, through triangles, compilations and copy chains) and
   written in place of their old versions (and of the pairs provenance added among
   them before), as the Spark engine attributes each group.
   The groups are attributed about ``detect.attribute_batch`` pairs at a time (whole
   groups, :func:`_finalise`), so that memory holds one batch, not the step.

A from-scratch run is the same procedure with every article new, so growing a
collection day by day gives the pairs a single run would give (up to document
frequencies crossing ``detect.max_df`` between steps, and min-hash bucket leaders).

:func:`wiretrace.engines.check.check_article` answers one article without storing it:
its fingerprints are looked up in ``postings`` (index point lookups, no scan), the
``detect.check_candidates`` groups sharing most fingerprints are aligned against it, and
each pair is attributed.
"""

from __future__ import annotations

import glob
import json
import logging
import multiprocessing
import os
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from wiretrace.detect.edits import EntityLookup, apply_learned_aliases, learn_aliases
from wiretrace.engines.local import Prepared, worker_count
from wiretrace.models import Article, Passage, ReusePair
from wiretrace.progress import NullProgress, Progress
from wiretrace.settings import Settings
from wiretrace.store import Store

__all__ = [
    "IndexUpdate",
    "boilerplate_hashes",
    "configure",
    "index_state",
    "learned_aliases",
    "mask_boilerplate",
    "stored_boilerplate",
    "update_index",
]

log = logging.getLogger(__name__)

#: Seeds XOR-ed into the hashes for the three min-hash sketches (fixed: stable runs).
SEEDS = (0, 0x5DEECE66D1234567, -0x3C6EF372FE94F82B)
_INDEX_TABLES = ("postings", "indexed", "aligned", "swaps")
_BOILERPLATE = "boilerplate_hashes"  # meta key: the shared boilerplate fingerprints (JSON)
_IN_FLIGHT = 4  # chunks per worker submitted ahead (bounds memory)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(slots=True)
class IndexUpdate:
    """What :func:`update_index` did."""

    new: int = 0
    stale: int = 0
    candidates: int = 0
    aligned: int = 0
    finalised: int = 0
    attribute_batches: int = 0  # batches the finalised pairs were attributed in
    rebuilt: bool = False
    seconds: dict[str, float] = field(default_factory=dict)


# -- worker side (top level: picklable for spawned processes) ---------------------------

_W: dict[str, Any] = {}


def _worker_init(settings: Settings, aliases: EntityLookup | None) -> None:
    _W["settings"] = settings
    _W["aliases"] = aliases


def _fingerprint_chunk(articles: Sequence[Article]) -> tuple[pa.Table, list[tuple[Any, ...]]]:
    """Distinct (hash, article) postings of ``articles`` and their ``indexed`` rows."""
    from wiretrace.text.fingerprint import article_key, postings_table
    from wiretrace.text.normalize import normalize

    settings: Settings = _W["settings"]
    aliases = _W["aliases"]
    keys = [article_key(a.id) for a in articles]
    seqs = [normalize(a, aliases, settings) for a in articles]
    table = postings_table(keys, seqs, settings)
    arts = table.column("article").to_numpy()
    hashes = table.column("hash").to_numpy()
    order = np.lexsort((hashes, arts))
    arts, hashes = arts[order], hashes[order]
    keep = np.ones(len(arts), bool)
    keep[1:] = (arts[1:] != arts[:-1]) | (hashes[1:] != hashes[:-1])
    arts, hashes = arts[keep], hashes[keep]
    rows: list[tuple[Any, ...]] = []
    bounds = np.searchsorted(arts, np.asarray(keys, np.int64), side="left")
    ends = np.searchsorted(arts, np.asarray(keys, np.int64), side="right")
    for a, key, lo, hi in zip(articles, keys, bounds, ends, strict=True):
        h = hashes[lo:hi]
        sketch = [int(np.min(h ^ np.int64(seed))) if len(h) else None for seed in SEEDS]
        rows.append((key, a.id, a.content_hash, int(hi - lo), *sketch, _rank(a)))
    postings = pa.table(
        {"hash": pa.array(hashes, pa.int64()), "article": pa.array(arts, pa.int64())}
    )
    return postings, rows


def _rank(article: Article) -> str:
    """A near-duplicate group's representative is the member with the smallest rank:
    the earliest published (naive times taken as UTC; undated last), then the smallest
    id, so a reprint flood is a star around its likely origin."""
    when = article.published
    if when is None:
        stamp = "~"
    else:
        if when.tzinfo is not None:
            when = when.astimezone(UTC).replace(tzinfo=None)
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}|{article.id}"


def _prepare(article: Article, settings: Settings, aliases: EntityLookup | None) -> Prepared:
    from wiretrace.text.normalize import normalize
    from wiretrace.text.sentences import split_sentences

    seq = normalize(article, aliases, settings)  # type: ignore[arg-type]
    return Prepared(article.text, seq, tuple(split_sentences(article.text, article.excluded)))


AlignTask = tuple[
    Mapping[str, Article], Sequence[tuple[str, str]], frozenset[int], frozenset[int]
]


def mask_boilerplate(
    prep: Prepared, article_id: str, boilerplate: frozenset[int], settings: Settings
) -> Prepared:
    """``prep`` with the n-grams of its fingerprints in ``boilerplate`` (text shared by
    most of the collection's stories: :func:`boilerplate_hashes`) masked by
    :func:`wiretrace.detect.mask_tokens`, as the batch path masks them, so that a notice
    under every article is never aligned."""
    if not boilerplate:
        return prep
    from wiretrace.detect import mask_tokens
    from wiretrace.text.fingerprint import article_key, fingerprints, ngram_size

    n = ngram_size(prep.seq, settings)
    hashes, positions = fingerprints(prep.seq, n, settings.text.winnow_window)
    ranges = [
        (p, p + n)
        for h, p in zip(hashes.tolist(), positions.tolist(), strict=True)
        if h in boilerplate
    ]
    if not ranges:
        return prep
    masked = mask_tokens(prep.seq, ranges, int(article_key(article_id)))
    return Prepared(prep.text, masked, prep.sentences)


def _align_chunk(task: AlignTask) -> list[ReusePair]:
    """Raw pairs (provisional orientation, coverages) for ``(source, target)`` ids; a
    pair without passages comes back with none. Passages made only of ``frequent``
    fingerprints (text shared by more than ``detect.max_df`` groups: an outlet's footer
    or masthead) are dropped (:func:`banal`); ``boilerplate`` fingerprints are masked
    before aligning (:func:`mask_boilerplate`)."""
    from wiretrace.detect import _pair, body_word_starts
    from wiretrace.engines.local import _align_one

    articles, pairs, frequent, boilerplate = task
    settings: Settings = _W["settings"]
    aliases = _W["aliases"]
    cache: dict[str, Prepared] = {}
    masked: dict[str, Prepared] = {}
    starts: dict[str, list[int]] = {}

    def prep(id: str) -> Prepared:
        if id not in cache:
            cache[id] = _prepare(articles[id], settings, aliases)
        return cache[id]

    def mask(id: str) -> Prepared:
        if id not in masked:
            masked[id] = mask_boilerplate(prep(id), id, boilerplate, settings)
        return masked[id]

    out: list[ReusePair] = []
    for s, t in pairs:
        passages = _align_one(mask(s), mask(t), settings, aliases)
        if frequent:
            passages = [p for p in passages if not banal(p, prep(s), settings, frequent)]
        for x in (s, t):
            if x not in starts:
                starts[x] = body_word_starts(prep(x).text, prep(x).seq)
        out.append(_pair(articles[s], articles[t], passages, (starts[s], starts[t])))
    return out


def banal(passage: Passage, source: Prepared, settings: Settings, frequent: frozenset[int]) -> bool:
    """True when at least three quarters of the fingerprints starting inside the passage
    (on its source side) are ``frequent``: the passage is text many unrelated articles
    share (boilerplate such as an outlet's footer), not reuse. (Not all: winnowing picks
    the fingerprints at the boilerplate's edges by their context, so they look rare.)"""
    import bisect

    from wiretrace.text.fingerprint import fingerprints, ngram_size

    seq = source.seq
    hashes, positions = fingerprints(seq, ngram_size(seq, settings), settings.text.winnow_window)
    lo = bisect.bisect_left(seq.starts, passage.source_start)
    hi = bisect.bisect_left(seq.starts, passage.source_end)
    inside = hashes[(positions >= lo) & (positions < hi)]
    common = sum(1 for h in inside if int(h) in frequent)
    return len(inside) > 0 and common * 4 >= len(inside) * 3


class _Runner:
    """Runs a worker function over tasks in order: in-process, or on a spawned pool with
    a bounded number of tasks in flight (so memory stays bounded)."""

    def __init__(self, settings: Settings, aliases: EntityLookup | None, parallel: bool) -> None:
        self.workers = worker_count(settings) if parallel else 1
        self._pool: ProcessPoolExecutor | None = None
        _worker_init(settings, aliases)
        if self.workers > 1:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init,
                initargs=(settings, aliases),
            )

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        if self._pool is None:
            for task in tasks:
                yield fn(task)
            return
        pending: deque[Future[R]] = deque()
        for task in tasks:
            pending.append(self._pool.submit(fn, task))
            if len(pending) >= self.workers * _IN_FLIGHT:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


# -- the update -------------------------------------------------------------------------


#: Detect settings that change how fast the index is built, never what it holds, with
#: the fixed values the index state carries for them: the values they had when stores
#: first recorded it, frozen so that a new default (``memory_limit`` became "auto")
#: does not make every existing index look stale and rebuild it.
_RUNTIME_ONLY: dict[str, object] = {
    "workers": 0, "parallel_min_pairs": 64, "check_candidates": 20, "index_batch": 50000,
    "memory_limit": "4GB",
}


#: Runtime-only detect settings added after stores first recorded their index state:
#: left out of it (the state is the dataclass's repr without them), so that adding one
#: does not make every existing index look stale.
_NOT_IN_STATE = frozenset({"attribute_batch"})


def index_state(settings: Settings) -> str:
    """What the index depends on besides the articles: the settings that shape it (a
    change rebuilds it; process counts, batch sizes and memory limits do not)."""
    detect = replace(settings.detect, **_RUNTIME_ONLY)  # type: ignore[arg-type]
    shown = ", ".join(
        f"{f.name}={getattr(detect, f.name)!r}"
        for f in fields(detect)
        if f.repr and f.name not in _NOT_IN_STATE
    )
    return f"{settings.text!r}|{type(detect).__qualname__}({shown})|{settings.provenance!r}"


def configure(store: Store, settings: Settings) -> None:
    """Bound DuckDB's memory (``detect.memory_limit``) and let it spill to a temporary
    folder beside the store."""
    con = store.connection
    tmp = Path(str(store.path) + ".tmp")
    # The folder first: lowering the limit may evict blocks to the current temporary
    # folder at once, and DuckDB cannot switch folders once one has been used.
    con.execute(f"SET temp_directory = '{_quote(str(tmp))}'")
    con.execute(f"SET memory_limit = '{_memory(settings.detect.memory_limit)}'")
    con.execute("SET preserve_insertion_order = false")


def _memory(value: str) -> str:
    text = value.strip().replace(" ", "")
    if text.lower() == "auto":
        return f"{auto_memory_mb()}MiB"
    if not text or not all(c.isalnum() or c == "." for c in text):
        from wiretrace.errors import ConfigError

        raise ConfigError(f"detect.memory_limit {value!r}: not a size such as '4GB' or 'auto'")
    return text


#: Share of the machine's memory ``detect.memory_limit = "auto"`` gives DuckDB.
AUTO_MEMORY_SHARE = 0.6


def auto_memory_mb() -> int:
    """``AUTO_MEMORY_SHARE`` of the machine's physical memory, in MiB (4 GiB where it
    cannot be read).

    Not a fixed size: DuckDB keeps the ART index on ``postings.hash`` in memory while
    it changes, about 40 bytes a posting (~110 postings an article), so a fixed limit
    is a collection size past which every update fails (4 GB: the 10^6 benchmark failed
    at 750,000 articles and passed that step at 12 GB). The rest of the machine is
    left to the Python processes and the system.
    """
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 4096
    return max(256, int(total * AUTO_MEMORY_SHARE) >> 20)


def _quote(text: str) -> str:
    return text.replace("'", "''")


def update_index(
    store: Store,
    settings: Settings,
    aliases: EntityLookup | None,
    progress: Progress | None = None,
) -> IndexUpdate:
    """Bring the detection index and the stored pairs up to date with the stored
    articles (module docstring). Returns what was done."""
    progress = progress or NullProgress()
    configure(store, settings)
    result = IndexUpdate()
    con = store.connection
    if store.meta("index_state") != index_state(settings):
        with store.transaction():
            for table in (*_INDEX_TABLES, "edits", "passages", "pairs"):
                con.execute(f"DELETE FROM {table}")
            con.execute("DELETE FROM meta WHERE key = ?", [_BOILERPLATE])
            con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('index_state', ?)", [index_state(settings)]
            )
        result.rebuilt = True
    with store.transaction():
        touched = _drop_stale(store, result)
        if touched:
            _finalise(store, settings, aliases, set(), set(), touched, result)
    new_ids = [
        r[0]
        for r in con.execute(
            "SELECT a.id FROM articles a ANTI JOIN indexed i ON i.id = a.id ORDER BY a.id"
        ).fetchall()
    ]
    result.new = len(new_ids)
    if not new_ids and not result.stale:
        return result
    step = max(1, settings.detect.index_batch)
    runner = _Runner(settings, aliases, parallel=len(new_ids) >= settings.detect.parallel_min_pairs)
    try:
        # removals alone still change which text is shared boilerplate: one empty step
        for lo in range(0, max(len(new_ids), 1), step):
            with store.transaction():
                batch = new_ids[lo : lo + step]
                _index_step(store, settings, aliases, runner, batch, progress, result)
    finally:
        runner.close()
    _refresh_check_hot(store, settings, result)
    log.info(
        "index: %d new, %d stale, %d candidates, %d aligned, %d pairs finalised "
        "(%d attribution batches)",
        result.new, result.stale, result.candidates, result.aligned, result.finalised,
        result.attribute_batches,
    )
    return result


def _drop_stale(store: Store, result: IndexUpdate) -> set[str]:
    """Remove index rows of articles no longer stored as indexed (removed or changed);
    returns the ids of their aligned neighbours (whose pairs must be re-finalised).
    Members of a near-duplicate group that lost an article are re-indexed as new."""
    con = store.connection
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stale AS SELECT i.article, i.id, i.grp FROM indexed i "
        "ANTI JOIN articles a ON a.id = i.id AND a.content_hash = i.content_hash"
    )
    result.stale = int(con.execute("SELECT count(*) FROM stale").fetchall()[0][0])
    if not result.stale:
        return set()
    # the other members of their groups lose their group: they are indexed afresh
    con.execute(
        "INSERT INTO stale SELECT i.article, i.id, i.grp FROM indexed i "
        "WHERE i.grp IN (SELECT grp FROM stale WHERE grp IS NOT NULL) "
        "AND i.article NOT IN (SELECT article FROM stale)"
    )
    touched = {
        r[0]
        for r in con.execute(
            "SELECT target FROM aligned WHERE source IN (SELECT id FROM stale) "
            "UNION SELECT source FROM aligned WHERE target IN (SELECT id FROM stale)"
        ).fetchall()
    }
    # (and the pairs provenance added with them, never aligned)
    dropped = con.execute(
        "SELECT source, target FROM aligned WHERE source IN (SELECT id FROM stale) "
        "OR target IN (SELECT id FROM stale) UNION SELECT source, target FROM pairs "
        "WHERE source IN (SELECT id FROM stale) OR target IN (SELECT id FROM stale)"
    ).fetchall()
    store.write_pairs_of([(a, b) for a, b in dropped], [])
    for table, col in (("aligned", "source"), ("aligned", "target"), ("swaps", "source"),
                       ("swaps", "target")):
        con.execute(f"DELETE FROM {table} WHERE {col} IN (SELECT id FROM stale)")
    con.execute("DELETE FROM postings WHERE article IN (SELECT article FROM stale)")
    con.execute("DELETE FROM indexed WHERE article IN (SELECT article FROM stale)")
    stale_ids = {r[0] for r in con.execute("SELECT id FROM stale").fetchall()}
    return touched - stale_ids


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for lo in range(0, len(items), size):
        yield items[lo : lo + size]


def _index_step(
    store: Store,
    settings: Settings,
    aliases: EntityLookup | None,
    runner: _Runner,
    ids: Sequence[str],
    progress: Progress,
    result: IndexUpdate,
) -> None:
    """Steps 2-5 of the module docstring for one batch of new article ids, inside the
    caller's transaction."""
    con = store.connection
    clock = _Clock(result)
    # 2. fingerprints
    progress.begin("fingerprint", total=len(ids))

    def fetch() -> Iterator[list[Article]]:
        for part in _chunks(ids, 500):
            found = store.articles_by_id(part)
            yield [found[i] for i in part if i in found]

    for postings, rows in runner.map(_fingerprint_chunk, fetch()):
        con.register("_postings", postings)
        con.execute("INSERT INTO postings SELECT hash, article FROM _postings")
        con.unregister("_postings")
        con.register("_indexed", _indexed_table(rows))
        con.execute(
            "INSERT INTO indexed (article, id, content_hash, size, m0, m1, m2, grp, rank) "
            "SELECT article, id, content_hash, size, m0, m1, m2, NULL, rank FROM _indexed"
        )
        con.unregister("_indexed")
        progress.advance(len(rows), articles=len(rows))
    progress.end()
    con.register("_new_ids", pa.table({"id": pa.array(list(ids), pa.string())}))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE nk AS SELECT article FROM indexed "
        "WHERE id IN (SELECT id FROM _new_ids)"
    )
    con.unregister("_new_ids")
    clock.lap("fingerprint")
    # 3. near-duplicate groups from the min-hash buckets
    progress.begin("near-duplicate groups", total=None)
    groups = _Groups(con)
    groups.union_all(_sketch_edges(con, settings.detect.near_duplicate))
    fresh = {int(r[0]) for r in con.execute("SELECT article FROM nk").fetchall()}
    clock.lap("groups")
    # 4. candidates between groups holding new articles (or re-starred) and everything
    xgroups = groups.commit(fresh)
    cand: dict[tuple[int, int], int] = {}
    done: set[int] = set()
    frequent: set[int] = set()
    progress.end()
    while xgroups - done:
        todo = xgroups - done
        done |= todo
        progress.begin("candidates", total=None)
        found = _group_candidates(con, todo, groups, settings)
        # every group named, loaded in one query (not one per size()/rep() call below)
        groups.load({g for pair in found for g in pair})
        frequent |= _frequent(con, settings)
        progress.end()
        merged = False
        for (gx, gy), shared in found.items():
            if shared >= settings.detect.near_duplicate * max(groups.size(gx), groups.size(gy)):
                groups.union(gx, gy)
                merged = True
            else:
                cand[(gx, gy)] = max(cand.get((gx, gy), 0), shared)
        if merged:
            xgroups |= groups.commit(fresh)
    result.candidates += len(cand)
    # plan: pairs inside the changed groups (detect.group_pairs), candidate groups ->
    # their representatives
    changed_groups = {groups.find(a) for a in fresh} | {
        groups.find(a) for a, old in groups.old.items() if groups.find(a) != old
    }
    dropped = groups.drop_replanned(store)
    plan, extra = _group_plan(store, groups, changed_groups, settings)
    dropped |= _delete_aligned(con, extra)
    for gx, gy in cand:
        rx, ry = groups.rep(gx), groups.rep(gy)
        if rx != ry:
            plan.add((min(rx, ry), max(rx, ry)))
    boilerplate, stale = _refresh_boilerplate(store, groups, settings)
    dropped |= _delete_aligned(con, stale)
    plan |= {_key_pair(x, y) for x, y in stale}
    clock.lap("candidates")
    new_keys = _align_plan(
        store, settings, runner, plan, frozenset(frequent), boilerplate, progress, result
    )
    clock.lap("align")
    # 5. finalise
    progress.begin("attribute", total=None)
    _finalise(store, settings, aliases, new_keys, dropped, set(), result, progress)
    groups.write()
    progress.end()
    clock.lap("attribute")


class _Clock:
    """Adds the seconds since the last lap to ``result.seconds[stage]``."""

    def __init__(self, result: IndexUpdate) -> None:
        self.result = result
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.result.seconds[stage] = self.result.seconds.get(stage, 0.0) + now - self.last
        self.last = now


def _indexed_table(rows: Sequence[tuple[Any, ...]]) -> pa.Table:
    cols = list(zip(*rows, strict=True)) if rows else [()] * 8
    names = ("article", "id", "content_hash", "size", "m0", "m1", "m2", "rank")
    types = (pa.int64(), pa.string(), pa.string(), pa.int32(), pa.int64(), pa.int64(),
             pa.int64(), pa.string())
    return pa.table({n: pa.array(list(c), t) for n, c, t in zip(names, cols, types, strict=True)})


def _sketch_edges(con: Any, threshold: float) -> list[tuple[int, int]]:
    """(new article, bucket leader) edges whose containment passes ``threshold``: for
    each seed, a new article is compared with the smallest other key of its bucket."""
    per_seed = (
        f"SELECT n.article AS x, min(o.article) AS y FROM indexed n SEMI JOIN nk "
        f"USING (article) JOIN indexed o ON o.{m} = n.{m} AND o.article <> n.article "
        f"GROUP BY n.article"
        for m in ("m0", "m1", "m2")
    )
    con.execute("CREATE OR REPLACE TEMP TABLE sk AS " + " UNION ALL ".join(per_seed))
    rows = con.execute(
        """
        WITH e AS (SELECT DISTINCT least(x, y) AS x, greatest(x, y) AS y FROM sk),
        s AS (
            SELECT e.x, e.y, count(*) AS n FROM e
            JOIN postings p1 ON p1.article = e.x
            JOIN postings p2 ON p2.article = e.y AND p2.hash = p1.hash
            GROUP BY e.x, e.y
        )
        SELECT s.x, s.y FROM s JOIN indexed zx ON zx.article = s.x
        JOIN indexed zy ON zy.article = s.y
        WHERE s.n >= $t * greatest(zx.size, zy.size)
        """,
        {"t": threshold},
    ).fetchall()
    return [(int(x), int(y)) for x, y in rows]


class _Groups:
    """Near-duplicate groups of the articles this step touches: the stored groups they
    belong to, plus the unions made now. A group's representative is its member of
    smallest rank (:func:`_rank`)."""

    def __init__(self, con: Any) -> None:
        self.con = con
        self.parent: dict[int, int] = {}
        self.old: dict[int, int] = {}  # article -> stored representative (self if none)
        self.sizes: dict[int, int] = {}
        self.ranks: dict[int, tuple[str, int]] = {}
        self.replanned: set[int] = set()

    def _load(self, keys: Iterable[int]) -> None:
        want = [k for k in keys if k not in self.old]
        if not want:
            return
        self.con.register("_want", pa.table({"k": pa.array(want, pa.int64())}))
        rows = self.con.execute(
            """
            WITH g AS (SELECT coalesce(grp, article) AS g FROM indexed
                       WHERE article IN (SELECT k FROM _want))
            SELECT article, coalesce(grp, article), size, rank FROM indexed
            WHERE article IN (SELECT k FROM _want) OR grp IN (SELECT g FROM g)
            """
        ).fetchall()
        self.con.unregister("_want")
        loaded: list[tuple[int, int]] = []
        for article, grp, size, rank in rows:
            a, g = int(article), int(grp)
            if a in self.old:
                continue
            self.old[a] = g
            self.sizes[a] = int(size)
            self.ranks[a] = (str(rank or "~"), a)
            self.parent.setdefault(a, a)
            loaded.append((a, g))
        # unions once every rank is known (a group's stored representative wins)
        for a, g in loaded:
            self.parent.setdefault(g, g)
            self._union(a, g)

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def _union(self, x: int, y: int) -> None:
        rx, ry = self.find(x), self.find(y)
        if rx != ry:
            lo, hi = (rx, ry) if self._order(rx) < self._order(ry) else (ry, rx)
            self.parent[hi] = lo
            self.parent.setdefault(lo, lo)

    def _order(self, x: int) -> tuple[str, int]:
        return self.ranks.get(x, ("~", x))

    def union(self, x: int, y: int) -> None:
        self._load((x, y))
        self._union(x, y)

    def load(self, keys: Iterable[int]) -> None:
        """Load the stored groups of ``keys`` (article keys) in one query."""
        self._load(keys)

    def union_all(self, edges: Sequence[tuple[int, int]]) -> None:
        """:meth:`union` of every edge, the stored groups of all their ends loaded in one
        query (one query per edge cost seconds on a large batch)."""
        self._load({k for edge in edges for k in edge})
        for x, y in edges:
            self._union(x, y)

    def rep(self, x: int) -> int:
        self._load((x,))
        return self.find(x)

    def size(self, x: int) -> int:
        self._load((x,))
        return self.sizes.get(self.find(x), self.sizes.get(x, 0))

    def commit(self, fresh: set[int]) -> set[int]:
        """Representatives of the groups to (re-)join against everything: those holding
        a fresh article, and those whose members' representative changed (their old
        pairs are dropped: :meth:`drop_replanned`)."""
        self._load(fresh)
        out = {self.find(k) for k in fresh}
        for a, old in self.old.items():
            root = self.find(a)
            if old != root and a not in fresh:
                self.replanned.add(a)
                out.add(root)
        return out

    def drop_replanned(self, store: Store) -> set[tuple[str, str]]:
        """Delete the aligned pairs of articles whose representative changed; returns
        their (source, target) ids (their final pairs are rewritten)."""
        if not self.replanned:
            return set()
        con = self.con
        con.register("_re", pa.table({"k": pa.array(sorted(self.replanned), pa.int64())}))
        con.execute(
            "CREATE OR REPLACE TEMP TABLE re_ids AS SELECT id FROM indexed "
            "WHERE article IN (SELECT k FROM _re)"
        )
        con.unregister("_re")
        rows = con.execute(
            "SELECT source, target FROM aligned WHERE source IN (SELECT id FROM re_ids) "
            "OR target IN (SELECT id FROM re_ids)"
        ).fetchall()
        con.execute(
            "DELETE FROM aligned WHERE source IN (SELECT id FROM re_ids) "
            "OR target IN (SELECT id FROM re_ids)"
        )
        con.execute(
            "DELETE FROM swaps WHERE source IN (SELECT id FROM re_ids) "
            "OR target IN (SELECT id FROM re_ids)"
        )
        return {(str(a), str(b)) for a, b in rows}

    def write(self) -> None:
        """Store every touched article's group (NULL for a group of one)."""
        counts: dict[int, int] = {}
        for a in self.old:
            root = self.find(a)
            counts[root] = counts.get(root, 0) + 1
        rows = [(a, self.find(a) if counts[self.find(a)] > 1 else None) for a in self.old]
        if not rows:
            return
        self.con.register(
            "_grp",
            pa.table({"article": pa.array([r[0] for r in rows], pa.int64()),
                      "grp": pa.array([r[1] for r in rows], pa.int64())}),
        )
        self.con.execute(
            "UPDATE indexed SET grp = _grp.grp FROM _grp WHERE indexed.article = _grp.article"
        )
        self.con.unregister("_grp")


def _group_candidates(
    con: Any, xgroups: set[int], groups: _Groups, settings: Settings
) -> dict[tuple[int, int], int]:
    """Group pairs (gx, gy), gx among ``xgroups``, sharing at least ``detect.min_shared``
    fingerprints whose document frequency (in groups) is at most ``detect.max_df``."""
    _gmap(con, groups)
    con.register("_xg", pa.table({"g": pa.array(sorted(xgroups), pa.int64())}))
    con.execute("CREATE OR REPLACE TEMP TABLE xg AS SELECT g FROM _xg")
    con.unregister("_xg")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE xh AS SELECT DISTINCT gm.g, p.hash FROM postings p "
        "JOIN gmap gm USING (article) WHERE gm.g IN (SELECT g FROM xg)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE yh AS SELECT DISTINCT gm.g, p.hash FROM postings p "
        "JOIN gmap gm USING (article) WHERE p.hash IN (SELECT hash FROM xh)"
    )
    rows = con.execute(
        """
        WITH keep AS (SELECT hash FROM yh GROUP BY hash HAVING count(*) <= $max_df)
        SELECT x.g, y.g, count(*) FROM xh x JOIN keep USING (hash) JOIN yh y USING (hash)
        WHERE x.g <> y.g AND (y.g NOT IN (SELECT g FROM xg) OR x.g < y.g)
        GROUP BY x.g, y.g HAVING count(*) >= $min_shared
        """,
        {"max_df": settings.detect.max_df, "min_shared": settings.detect.min_shared},
    ).fetchall()
    return {(int(x), int(y)): int(n) for x, y, n in rows}


def _gmap(con: Any, groups: _Groups) -> None:
    """Temp table ``gmap`` (article, g): every indexed article's group as this step sees
    it (unions made now included)."""
    members = [(a, groups.find(a)) for a in groups.old]
    con.register(
        "_gm",
        pa.table({"article": pa.array([m[0] for m in members], pa.int64()),
                  "g": pa.array([m[1] for m in members], pa.int64())}),
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE gmap AS SELECT i.article, "
        "coalesce(m.g, i.grp, i.article) AS g FROM indexed i LEFT JOIN _gm m USING (article)"
    )
    con.unregister("_gm")


def _key_pair(x: str, y: str) -> tuple[int, int]:
    from wiretrace.text.fingerprint import article_key

    a, b = int(article_key(x)), int(article_key(y))
    return (min(a, b), max(a, b))


def _delete_aligned(con: Any, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Delete the aligned pairs (and their swaps) among ``pairs`` (either orientation);
    returns ``pairs`` (their final pairs are rewritten)."""
    if not pairs:
        return set()
    ordered = sorted({(min(a, b), max(a, b)) for a, b in pairs})
    con.register(
        "_del",
        pa.table({"x": pa.array([k[0] for k in ordered], pa.string()),
                  "y": pa.array([k[1] for k in ordered], pa.string())}),
    )
    for table in ("aligned", "swaps"):
        con.execute(
            f"DELETE FROM {table} WHERE (least(source, target), greatest(source, target)) "
            "IN (SELECT (x, y) FROM _del)"
        )
    con.unregister("_del")
    return set(pairs)


def _group_plan(
    store: Store, groups: _Groups, roots: set[int], settings: Settings
) -> tuple[set[tuple[int, int]], set[tuple[str, str]]]:
    """(key pairs to align, aligned id pairs to delete) inside the near-duplicate groups
    ``roots`` (representatives): the pairs :func:`wiretrace.detect.group_pairs` asks for
    (every pair in a small group, a star around the likeliest origin in a large one), so
    a group gets the pairs a from-scratch run gives it however it grew."""
    from wiretrace.detect import group_pairs

    members: dict[int, list[int]] = {}
    for a in groups.old:
        root = groups.find(a)
        if root in roots:
            members.setdefault(root, []).append(a)
    members = {r: ms for r, ms in members.items() if len(ms) > 1}
    if not members:
        return set(), set()
    con = store.connection
    keys = sorted({k for ms in members.values() for k in ms})
    con.register("_k", pa.table({"k": pa.array(keys, pa.int64())}))
    id_of = {
        int(k): str(i)
        for k, i in con.execute(
            "SELECT article, id FROM indexed WHERE article IN (SELECT k FROM _k)"
        ).fetchall()
    }
    con.unregister("_k")
    by_id = store.articles_by_id(id_of.values())
    named = {
        id_of[r]: [id_of[m] for m in ms if id_of.get(m) in by_id]
        for r, ms in members.items()
        if id_of.get(r) in by_id
    }
    add, drop = group_pairs(named, by_id, settings.detect.group_all_pairs)
    wanted = {frozenset((r, m)) for r, ms in named.items() for m in ms if m != r}
    wanted = (wanted - drop) | add
    grp = [(m, r) for r, ms in named.items() for m in ms]
    con.register(
        "_gm2",
        pa.table({"id": pa.array([g[0] for g in grp], pa.string()),
                  "g": pa.array([g[1] for g in grp], pa.string())}),
    )
    inside = con.execute(
        "SELECT a.source, a.target FROM aligned a JOIN _gm2 s ON s.id = a.source "
        "JOIN _gm2 t ON t.id = a.target WHERE s.g = t.g"
    ).fetchall()
    con.unregister("_gm2")
    extra = {(str(x), str(y)) for x, y in inside if frozenset((x, y)) not in wanted}
    plan = {_key_pair(*sorted(p)) for p in wanted}
    return plan, extra


def boilerplate_hashes(con: Any, settings: Settings) -> set[int]:
    """Fingerprints in at least ``detect.boilerplate_share`` of the collection's stories
    (a near-duplicate group counts once; temp table ``gmap``: :func:`_gmap`) and in at
    least ``detect.boilerplate_min_stories``: the rule of
    :func:`wiretrace.detect.shared_boilerplate`, counted in DuckDB over the stored
    postings."""
    import math

    ds = settings.detect
    stories = int(
        con.execute(
            "SELECT count(DISTINCT g) FROM gmap JOIN indexed USING (article) "
            "WHERE indexed.size > 0"
        ).fetchall()[0][0]
    )
    need = max(ds.boilerplate_min_stories, math.ceil(ds.boilerplate_share * stories))
    if stories < need or need < 1:
        return set()
    rows = con.execute(
        """
        WITH c AS (SELECT hash FROM postings GROUP BY hash HAVING count(*) >= $need)
        SELECT p.hash FROM postings p JOIN gmap USING (article)
        WHERE p.hash IN (SELECT hash FROM c)
        GROUP BY p.hash HAVING count(DISTINCT gmap.g) >= $need
        """,
        {"need": need},
    ).fetchall()
    return {int(r[0]) for r in rows}


def _refresh_boilerplate(
    store: Store, groups: _Groups, settings: Settings
) -> tuple[frozenset[int], set[tuple[str, str]]]:
    """The collection's shared boilerplate now (stored in ``meta``), and the aligned
    pairs of articles holding a fingerprint that became (or stopped being) boilerplate:
    they are aligned again, so that a growing collection masks what a from-scratch run
    masks."""
    con = store.connection
    _gmap(con, groups)
    new = boilerplate_hashes(con, settings)
    old = {int(h) for h in json.loads(store.meta(_BOILERPLATE) or "[]")}
    changed = sorted(new ^ old)
    if not changed:
        return frozenset(new), set()
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES (?, ?)", [_BOILERPLATE, json.dumps(sorted(new))]
    )
    con.register("_ch", pa.table({"h": pa.array(changed, pa.int64())}))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE bp_ids AS SELECT id FROM indexed WHERE article IN "
        "(SELECT DISTINCT article FROM postings WHERE hash IN (SELECT h FROM _ch))"
    )
    con.unregister("_ch")
    rows = con.execute(
        "SELECT source, target FROM aligned WHERE source IN (SELECT id FROM bp_ids) "
        "OR target IN (SELECT id FROM bp_ids)"
    ).fetchall()
    return frozenset(new), {(str(a), str(b)) for a, b in rows}


def stored_boilerplate(store: Store) -> frozenset[int]:
    """The shared boilerplate fingerprints of the last update (for ``check``)."""
    return frozenset(int(h) for h in json.loads(store.meta(_BOILERPLATE) or "[]"))


def _frequent(con: Any, settings: Settings) -> set[int]:
    """The hashes of the last candidate join shared by more than ``detect.max_df``
    groups (boilerplate; a reprint flood is one group, so never among them)."""
    rows = con.execute(
        "SELECT hash FROM yh GROUP BY hash HAVING count(*) > ?", [settings.detect.max_df]
    ).fetchall()
    return {int(r[0]) for r in rows}


def _align_plan(
    store: Store,
    settings: Settings,
    runner: _Runner,
    plan: set[tuple[int, int]],
    frequent: frozenset[int],
    boilerplate: frozenset[int],
    progress: Progress,
    result: IndexUpdate,
) -> set[tuple[str, str]]:
    """Align the planned key pairs not aligned yet; store the raw pairs in ``aligned``
    and their name swaps in ``swaps``. Returns the (source, target) ids aligned."""
    from wiretrace.detect import provisional_order

    con = store.connection
    if not plan:
        return set()
    keys = sorted({k for pair in plan for k in pair})
    con.register("_k", pa.table({"k": pa.array(keys, pa.int64())}))
    id_of = {
        int(k): str(i)
        for k, i in con.execute(
            "SELECT article, id FROM indexed WHERE article IN (SELECT k FROM _k)"
        ).fetchall()
    }
    con.unregister("_k")
    id_pairs = sorted({(min(id_of[a], id_of[b]), max(id_of[a], id_of[b])) for a, b in plan})
    con.register(
        "_plan",
        pa.table({"x": pa.array([p[0] for p in id_pairs], pa.string()),
                  "y": pa.array([p[1] for p in id_pairs], pa.string())}),
    )
    seen = {
        (str(x), str(y))
        for x, y in con.execute(
            "SELECT least(source, target), greatest(source, target) FROM aligned "
            "WHERE (least(source, target), greatest(source, target)) IN "
            "(SELECT (x, y) FROM _plan)"
        ).fetchall()
    }
    con.unregister("_plan")
    todo = [p for p in id_pairs if p not in seen]
    progress.begin("align", total=len(todo))
    chunk = 256

    def tasks() -> Iterator[AlignTask]:
        for part in _chunks(todo, chunk):
            arts = store.articles_by_id({x for p in part for x in p})
            oriented = []
            for x, y in part:
                s, t = provisional_order(arts[x], arts[y])
                oriented.append((s.id, t.id))
            yield arts, oriented, frequent, boilerplate

    aligned: set[tuple[str, str]] = set()
    for raws in runner.map(_align_chunk, tasks()):
        _store_raw(con, raws)
        aligned.update((p.source, p.target) for p in raws if p.passages)
        result.aligned += len(raws)
        progress.advance(len(raws))
    progress.end()
    return aligned


def _pair_json(pair: ReusePair) -> str:
    from wiretrace.engines.rows import pair_row

    return json.dumps(pair_row(pair), ensure_ascii=False)


def _pair_from_json(text: str) -> ReusePair:
    from wiretrace.engines.rows import pair_from_row

    return pair_from_row(json.loads(text))


def _store_raw(con: Any, raws: Sequence[ReusePair]) -> None:
    if not raws:
        return
    con.register(
        "_raw",
        pa.table({
            "source": pa.array([p.source for p in raws], pa.string()),
            "target": pa.array([p.target for p in raws], pa.string()),
            "passages": pa.array([len(p.passages) for p in raws], pa.int32()),
            "raw": pa.array([_pair_json(p) if p.passages else None for p in raws], pa.string()),
        }),
    )
    con.execute("INSERT INTO aligned SELECT source, target, passages, raw FROM _raw")
    con.unregister("_raw")
    swaps = [
        (x, y, p.source, p.target)
        for p in raws
        if p.passages
        for (x, y) in learn_aliases([p], 1)
    ]
    if swaps:
        con.register(
            "_swaps",
            pa.table({n: pa.array([s[i] for s in swaps], pa.string())
                      for i, n in enumerate(("x", "y", "source", "target"))}),
        )
        con.execute("INSERT INTO swaps SELECT x, y, source, target FROM _swaps")
        con.unregister("_swaps")


def _learned(con: Any, min_pairs: int) -> dict[tuple[str, str], int]:
    rows = con.execute(
        "SELECT x, y, count(DISTINCT (least(source, target), greatest(source, target))) "
        "FROM swaps GROUP BY x, y HAVING count(DISTINCT (least(source, target), "
        "greatest(source, target))) >= ?",
        [min_pairs],
    ).fetchall()
    return {(str(x), str(y)): int(n) for x, y, n in rows}


def _finalise(
    store: Store,
    settings: Settings,
    aliases: EntityLookup | None,
    new_keys: set[tuple[str, str]],
    dropped: set[tuple[str, str]],
    touched: set[str],
    result: IndexUpdate,
    progress: Progress | None = None,
) -> None:
    """Re-attribute the whole connected groups of pairs around what changed (new
    pairs, dropped pairs' articles, ``touched`` articles, pairs whose swaps changed
    learned status: :func:`_reattributed`, :func:`_relearned`); write them in place of
    their old versions.

    The pairs are attributed in batches of whole connected groups (:func:`_batches`, at
    most ``detect.attribute_batch`` pairs unless one group is larger), each loaded,
    attributed and written before the next: memory holds one batch, not the step (at
    10^6 articles a step re-attributes hundreds of thousands of pairs). Attribution
    never looks across groups (:func:`wiretrace.analyze.provenance.attribute_all`),
    except through the name swaps its triangle-closing aligner types as aliases, which
    come from all the pairs: with more than one batch they are gathered from every
    batch first (:func:`_step_swaps`), so that the pairs are those of one batch. All
    writes stay in the caller's transaction (a killed step leaves nothing)."""
    from wiretrace.analyze.provenance import attribute_all

    progress = progress or NullProgress()
    con = store.connection
    ends = {x for k in new_keys | dropped for x in k} | touched
    if not ends:
        return
    # pairs whose swaps became (or stopped being) learned aliases: re-typed, with their
    # whole connected groups like every other re-attributed pair
    learned = _learned(con, settings.detect.learn_alias_min_pairs)
    ends |= {x for k in _relearned(store, learned) for x in k}
    keys = _reattributed(con, ends)
    closed = _closed(con)
    boilerplate = stored_boilerplate(store)
    batches = _batches(keys, settings.detect.attribute_batch)
    # every old version first: a batch then writes only its own pairs
    cleared = keys | dropped | closed
    store.write_pairs_of(cleared, [])
    cleared = {(min(a, b), max(a, b)) for a, b in cleared}
    with _staged(store, batches) as staged:
        swaps = _step_swaps(staged, learned) if staged else None
        for number, batch in enumerate(batches):
            raws = _staged_raw(staged, number) if staged else _load_raw(con, batch)
            articles = store.articles_by_id({x for p in raws for x in (p.source, p.target)})
            raws = apply_learned_aliases(raws, learned) if learned else raws
            align = _aligner(raws, settings, aliases, boilerplate, swaps)
            final = attribute_all(raws, articles, settings, aliases, align)  # type: ignore[arg-type]
            added = {(min(p.source, p.target), max(p.source, p.target)) for p in final} - cleared
            store.write_pairs_of(added, final)
            result.finalised += len(final)
            result.attribute_batches += 1
            progress.advance(len(batch))
            del raws, articles, final, align  # before the next batch loads: one at a time


def _reattributed(con: Any, ends: set[str]) -> set[tuple[str, str]]:
    """The keys (least, greatest) of the aligned pairs to re-attribute around ``ends``:
    every pair of their connected groups. Leaves the temporary table ``near`` (the
    groups' articles) for :func:`_closed`."""
    con.register("_ends", pa.table({"id": pa.array(sorted(ends), pa.string())}))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE e AS SELECT source AS a, target AS b FROM aligned "
        "WHERE passages > 0 UNION ALL SELECT target, source FROM aligned WHERE passages > 0"
    )
    # the ends' whole connected groups of pairs: attribution relates pairs that share an
    # article, step by step (triangles closed, compilations weighed, copy chains
    # resolved), so a pair attributed with only part of its group (a neighbour's other
    # sources missing) can differ from a from-scratch run; a group is attributed whole,
    # as the Spark engine attributes it
    con.execute("CREATE OR REPLACE TEMP TABLE near AS SELECT DISTINCT id FROM _ends")
    con.unregister("_ends")
    con.execute("CREATE OR REPLACE TEMP TABLE frontier AS SELECT id FROM near")
    while True:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE reached AS SELECT DISTINCT b AS id FROM e "
            "WHERE a IN (SELECT id FROM frontier) AND b NOT IN (SELECT id FROM near)"
        )
        if not con.execute("SELECT count(*) FROM reached").fetchall()[0][0]:
            break
        con.execute("INSERT INTO near SELECT id FROM reached")
        con.execute("CREATE OR REPLACE TEMP TABLE frontier AS SELECT id FROM reached")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE fs AS SELECT DISTINCT least(a, b) AS x, "
        "greatest(a, b) AS y FROM e WHERE a IN (SELECT id FROM near)"
    )
    return {(str(x), str(y)) for x, y in con.execute("SELECT x, y FROM fs").fetchall()}


def _relearned(store: Store, learned: Mapping[tuple[str, str], int]) -> set[tuple[str, str]]:
    """The keys of the pairs holding a swap that became (or stopped being) a learned
    alias since the last step; records the learned swaps."""
    con = store.connection
    before = {tuple(k) for k in json.loads(store.meta("learned_swaps") or "[]")}
    changed = before ^ set(learned)
    if not changed:
        return set()
    con.register(
        "_l",
        pa.table({"x": pa.array([k[0] for k in changed], pa.string()),
                  "y": pa.array([k[1] for k in changed], pa.string())}),
    )
    keys = {
        (str(x), str(y))
        for x, y in con.execute(
            "SELECT DISTINCT least(source, target), greatest(source, target) FROM swaps "
            "WHERE (x, y) IN (SELECT (x, y) FROM _l)"
        ).fetchall()
    }
    con.unregister("_l")
    keys |= _peeled(con, before, set(learned), changed)
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES ('learned_swaps', ?)", [json.dumps(sorted(learned))]
    )
    return keys


def _peeled(
    con: Any,
    before: set[tuple[str, ...]],
    after: set[tuple[str, str]],
    changed: set[tuple[str, ...]],
) -> set[tuple[str, str]]:
    """The keys of the aligned pairs whose edits a changed learned swap re-types
    although ``swaps`` does not hold it for them: a swap glued to an inserted or
    dropped word ("US" -> "already United"), which
    :func:`wiretrace.detect.edits.apply_learned_aliases` splits only once "US" /
    "United" is learned. Raw pairs whose text holds every word of a changed swap are
    re-typed under the learned swaps before and after; those that differ are returned."""
    from wiretrace.text.tokens import fold

    words = [[w for side in key for w in side.split()] for key in changed]
    old = {(k[0], k[1]): 2 for k in before}
    new = dict.fromkeys(after, 2)
    out: set[tuple[str, str]] = set()
    cursor = con.execute("SELECT raw FROM aligned WHERE passages > 0")
    while rows := cursor.fetchmany(2048):
        for (raw,) in rows:
            text = raw.casefold() if raw.isascii() else " ".join(fold(w) for w in raw.split())
            if not any(all(w in text for w in ws) for ws in words):
                continue
            pair = _pair_from_json(raw)
            if apply_learned_aliases([pair], old) != apply_learned_aliases([pair], new):
                out.add((min(pair.source, pair.target), max(pair.source, pair.target)))
    return out


def _closed(con: Any) -> set[tuple[str, str]]:
    """The pairs provenance added before (closing triangles, never aligned) among the
    articles whose every pair is re-attributed (``near``): rewritten too. Read before
    any of the step's pairs is written."""
    return {
        (str(x), str(y))
        for x, y in con.execute(
            "SELECT source, target FROM pairs WHERE source IN (SELECT id FROM near) "
            "AND target IN (SELECT id FROM near) AND (least(source, target), "
            "greatest(source, target)) NOT IN (SELECT (least(source, target), "
            "greatest(source, target)) FROM aligned WHERE passages > 0)"
        ).fetchall()
    }


def _batches(keys: Iterable[tuple[str, str]], most: int) -> list[set[tuple[str, str]]]:
    """``keys`` (pairs of article ids) in batches of whole connected groups (keys
    linked through a shared article), filled up to ``most`` keys in the order of each
    group's smallest key; a group larger than ``most`` is a batch of its own. Union-find
    over the ids only: no pair is loaded to plan the batches."""
    from wiretrace.analyze.provenance import connected_groups

    ordered = sorted(keys)
    groups = [[ordered[i] for i in group] for group in connected_groups(ordered)]
    batches: list[set[tuple[str, str]]] = []
    for group in groups:
        if not batches or (batches[-1] and len(batches[-1]) + len(group) > max(1, most)):
            batches.append(set())
        batches[-1].update(group)
    return batches


@contextmanager
def _staged(store: Store, batches: Sequence[set[tuple[str, str]]]) -> Iterator[Path | None]:
    """With more than one batch, the step's raw pairs written once to a Parquet file in
    a temporary folder beside the store (:func:`_stage_raw`), removed afterwards; with
    one, ``None`` (the batch is read from ``aligned`` directly)."""
    if len(batches) < 2:
        yield None
        return
    where = Path(str(store.path))
    prefix = f".{where.name}.step-"
    # a step killed before its end left its folder: this process holds the store (its
    # writer lock), so no other step is using one
    for stale in where.parent.glob(f"{glob.escape(prefix)}*"):
        shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=prefix, dir=where.parent) as folder:
        path = Path(folder) / "raw.parquet"
        _stage_raw(store.connection, batches, path)
        yield path


def _stage_raw(con: Any, batches: Sequence[set[tuple[str, str]]], path: Path) -> None:
    """The step's raw pairs, in one scan of ``aligned`` (which holds every stored pair's
    passages: one scan per batch would read them all again), written to ``path``
    (Parquet) numbered by batch and sorted by it, in small row groups: a batch is read
    back alone (the others' row groups skipped by their statistics), and neither Python
    nor DuckDB holds the step's pairs meanwhile."""
    con.register(
        "_kb",
        pa.table({
            "x": pa.array([k[0] for batch in batches for k in batch], pa.string()),
            "y": pa.array([k[1] for batch in batches for k in batch], pa.string()),
            "b": pa.array([i for i, batch in enumerate(batches) for _ in batch], pa.int32()),
        }),
    )
    kept = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
    con.execute("SET preserve_insertion_order = true")  # the file in batch order
    try:
        con.execute(
            "COPY (SELECT k.b, a.source, a.target, a.raw FROM aligned a JOIN _kb k "
            "ON least(a.source, a.target) = k.x AND greatest(a.source, a.target) = k.y "
            "WHERE a.passages > 0 ORDER BY k.b, a.source, a.target) "
            f"TO '{_quote(str(path))}' (FORMAT parquet, ROW_GROUP_SIZE 1024)"
        )
    finally:
        con.execute(f"SET preserve_insertion_order = {'true' if kept else 'false'}")
        con.unregister("_kb")


def _staged_raw(path: Path, batch: int) -> list[ReusePair]:
    """Batch ``batch`` of the staged pairs (:func:`_stage_raw`), in (source, target)
    order."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["raw"], filters=[("b", "=", batch)])
    return [_pair_from_json(raw) for raw in table.column("raw").to_pylist()]


def _step_swaps(path: Path, learned: Mapping[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    """What the triangle-closing aligner would learn from the step's pairs all loaded
    at once (:func:`wiretrace.analyze.provenance.alias_swaps` after the learned aliases
    are applied), streamed from the staged pairs (:func:`_stage_raw`) a thousand at a
    time; only pairs with a replace edit can add a swap, so only they are parsed."""
    import pyarrow.parquet as pq

    from wiretrace.analyze.provenance import alias_swaps

    swaps: dict[tuple[str, str], int] = {}
    for part in pq.ParquetFile(path).iter_batches(batch_size=1000, columns=["raw"]):
        raws = [_pair_from_json(r) for r in part.column(0).to_pylist() if '"replace"' in r]
        swaps.update(alias_swaps(apply_learned_aliases(raws, learned) if learned else raws))
    return swaps


def _aligner(
    pairs: Sequence[ReusePair],
    settings: Settings,
    aliases: EntityLookup | None,
    boilerplate: frozenset[int],
    swaps: Mapping[tuple[str, str], int] | None,
) -> Callable[[Article, Article], Sequence[Passage]] | None:
    """Provenance's aligner for closing triangles among ``pairs`` (one batch): with the
    stored boilerplate masked (:func:`_masking_aligner`) when there is any, else
    :func:`wiretrace.analyze.provenance.detection_aligner`; typing as aliases the
    swaps of the whole step (``swaps``), or of ``pairs`` when they are the whole step
    (``None``: then provenance builds its default aligner itself, as it would for
    all the pairs)."""
    from wiretrace.analyze.provenance import alias_swaps, detection_aligner

    if boilerplate:
        learned = alias_swaps(pairs) if swaps is None else swaps
        return _masking_aligner(learned, settings, aliases, boilerplate)
    if swaps is None:
        return None
    return detection_aligner(pairs, settings, aliases, learned=swaps)  # type: ignore[arg-type]


def _masking_aligner(
    learned: Mapping[tuple[str, str], int],
    settings: Settings,
    aliases: EntityLookup | None,
    boilerplate: frozenset[int],
) -> Callable[[Article, Article], Sequence[Passage]]:
    """Provenance's aligner for closing triangles
    (:func:`wiretrace.analyze.provenance.detection_aligner`), with the shared
    boilerplate masked as in every other alignment and the swaps ``learned`` typed as
    aliases."""
    from wiretrace.detect.align import align_pair

    def align(a: Article, b: Article) -> Sequence[Passage]:
        pa_, pb = (
            mask_boilerplate(_prepare(x, settings, aliases), x.id, boilerplate, settings)
            for x in (a, b)
        )
        return align_pair(a, b, pa_.seq, pb.seq, settings, aliases, learned)  # type: ignore[arg-type]

    return align


def _load_raw(con: Any, keys: set[tuple[str, str]]) -> list[ReusePair]:
    """The aligned raw pairs of ``keys`` (least, greatest), in (source, target) order."""
    if not keys:
        return []
    ordered = sorted(keys)
    con.register(
        "_keys",
        pa.table({"x": pa.array([k[0] for k in ordered], pa.string()),
                  "y": pa.array([k[1] for k in ordered], pa.string())}),
    )
    rows = con.execute(
        "SELECT raw FROM aligned WHERE passages > 0 AND (least(source, target), "
        "greatest(source, target)) IN (SELECT (x, y) FROM _keys) ORDER BY source, target"
    ).fetchall()
    con.unregister("_keys")
    return [_pair_from_json(r[0]) for r in rows]


def learned_aliases(store: Store, settings: Settings) -> dict[tuple[str, str], int]:
    """The swaps learned from the stored pairs (for
    :func:`wiretrace.engines.check.check_article`)."""
    return _learned(store.connection, settings.detect.learn_alias_min_pairs)


def _refresh_check_hot(store: Store, settings: Settings, result: IndexUpdate) -> None:
    """Recompute what ``check`` keeps of the much-shared fingerprints
    (:mod:`wiretrace.engines.check_hot`) for the index as this update left it, when the
    index has grown by a tenth since it was last computed (or it never was): the
    recomputation reads every posting (74 s at 10^6 articles), so doing it after every
    small update would cost each day's batch the whole collection. In between, the table
    no longer matches the index and ``check`` looks every fingerprint up in
    ``postings`` (the same answer)."""
    from wiretrace.engines import check_hot

    con = store.connection
    total = int(con.execute("SELECT count(*) FROM indexed").fetchall()[0][0])
    last = store.meta(_HOT_AT)
    if last is not None and total * 10 < int(last) * 11 and not result.rebuilt:
        return
    started = time.perf_counter()
    with store.transaction():
        check_hot.refresh(con, settings)
        con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [_HOT_AT, str(total)])
    result.seconds["check_hot"] = time.perf_counter() - started


_HOT_AT = "check_hot_indexed"  # meta key: indexed articles when check_hot was computed

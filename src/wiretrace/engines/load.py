# SQL here is built only from module constants; every value goes in as a parameter or a
# registered Arrow dataset.
# ruff: noqa: S608
"""Loading an engine's Parquet results into the DuckDB store.

The Spark engine writes the store's tables as Parquet (``ingest/articles``,
``attribute/pairs_nested``); this module loads them into a store file so that
``pairs``, ``show``, ``report`` and ``serve`` read them unchanged. No Spark needed:
it reads the Parquet files with pyarrow (and DuckDB scans them as Arrow datasets).

It also writes the local engine's detection index (:mod:`wiretrace.engines.incremental`)
from the checkpoints, so that the loaded store is one the local engine could have built:
``check`` answers from it, and a later ``ingest`` (``Collection.update``) of new
articles is incremental (only the new articles are fingerprinted and aligned), not a
rebuild. From the checkpoints:

========== ==========================================================================
postings   ``fingerprint/postings``: distinct (hash, article key)
indexed    one row per article (``normalize/prep``): key, id, content hash (the
           store's), fingerprint count and min-hash sketch (the local engine's seeds,
           over the same postings), near-duplicate group (``candidates/groups``; the
           group's representative is its member of smallest rank, as the local
           engine picks it) and rank (:func:`wiretrace.engines.incremental._rank`)
aligned    ``align/aligned``: the raw pairs with passages, as JSON
swaps      the name swaps of each aligned pair (``learn_aliases`` on one pair)
meta       ``index_state``, ``learned_swaps``, ``boilerplate_hashes`` (counted over
           the loaded postings by the local engine's own
           :func:`~wiretrace.engines.incremental.boilerplate_hashes`)
========== ==========================================================================

The index is written only when the store then holds exactly the run's articles (as
the pairs are marked current only then); when it held other articles too, the index is
cleared, so that the next local update rebuilds it over everything.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.dataset as ds

from wiretrace.engines.rows import article_from_row, pair_from_row
from wiretrace.models import Article, ReusePair
from wiretrace.settings import Settings
from wiretrace.store import PutResult

if TYPE_CHECKING:
    from wiretrace.collection import Collection
    from wiretrace.engines.base import Checkpoints

__all__ = ["iter_parquet_rows", "load_results", "write_index"]

log = logging.getLogger(__name__)

_INDEX_TABLES = ("postings", "indexed", "aligned", "swaps")
#: meta keys the local engine keeps beside its index
_INDEX_META = ("index_state", "learned_swaps", "boilerplate_hashes")


def _files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.glob("*.parquet"))


def iter_parquet_rows(folder: Path, batch_size: int = 2048) -> Iterator[dict[str, object]]:
    """Rows of a Parquet folder (as Spark writes it: ``part-*.parquet`` files)."""
    files = _files(folder)
    if not files:
        return
    for batch in ds.dataset(files, format="parquet").to_batches(batch_size=batch_size):
        yield from batch.to_pylist()


def _articles(folder: Path) -> Iterator[tuple[Article, int]]:
    for row in iter_parquet_rows(folder):
        yield article_from_row(row), int(row["words"] or 0)  # type: ignore[call-overload]


def load_results(
    db: Path, ck: Checkpoints, settings: Settings
) -> tuple[PutResult, int | None]:
    """Put the run's articles (``ck``'s ``ingest/articles``) into the store at ``db``
    (same versioning as an ingest) and, when the ``attribute`` stage is done, replace
    its pairs with the engine's and write the detection index (module docstring).

    The stored pairs are marked current (so a later local ``run`` does not redo them)
    and the index written only when the store then holds exactly the engine's articles;
    otherwise (the store had other articles too) the pairs are stored unmarked and the
    index cleared, and a local ``run`` recomputes. Stories are then updated in the
    store, as a local ``run`` does. Returns what ``put_articles`` did (summed over
    batches) and the pairs stored (None when the run has no pairs yet).
    """
    from wiretrace.collection import open_collection
    from wiretrace.engines.incremental import _rank

    total = PutResult()
    loaded = 0
    ranks: dict[str, str] = {}
    with open_collection(db, settings) as coll:
        batch: list[Article] = []
        words: list[int] = []

        def flush() -> None:
            result = coll.store.put_articles(batch, words)
            total.added.extend(result.added)
            total.updated.extend(result.updated)
            total.unchanged += result.unchanged
            total.refreshed.extend(result.refreshed)
            batch.clear()
            words.clear()

        for article, n in _articles(ck.table("ingest", "articles")):
            batch.append(article)
            words.append(n)
            ranks[article.id] = _rank(article)
            loaded += 1
            if len(batch) >= settings.ingest.batch_articles:
                flush()
        flush()
        if not ck.done("attribute"):
            return total, None
        pairs: list[ReusePair] = [
            pair_from_row(r) for r in iter_parquet_rows(ck.table("attribute", "pairs_nested"))
        ]
        pairs.sort(key=lambda p: (p.source, p.target))
        current = coll.store.count_articles() == loaded
        if not current:
            log.warning(
                "%s holds articles beyond this run's; its pairs cover this run's only, "
                "and the next local update rebuilds the detection index", db
            )
        stored = coll.store.replace_pairs(pairs, coll._pairs_state() if current else "")
        write_index(coll, ck, settings, ranks if current else None)
        # stories are what a local ``run`` stores next; computed here, on the store
        coll.update_stories()
    return total, stored


def write_index(
    coll: Collection, ck: Checkpoints, settings: Settings, ranks: dict[str, str] | None
) -> None:
    """Replace the store's detection index by the one the checkpoints imply, in one
    transaction (``ranks``: article id -> :func:`~wiretrace.engines.incremental._rank`);
    with ``ranks`` None, clear it (the next local update rebuilds it)."""
    from wiretrace.engines.incremental import configure, index_state

    store = coll.store
    con = store.connection
    configure(store, settings)  # DuckDB bounded by detect.memory_limit, spilling beside
    with store.transaction():
        for table in _INDEX_TABLES:
            con.execute(f"DELETE FROM {table}")
        con.execute(
            "DELETE FROM meta WHERE key IN (SELECT unnest($keys))", {"keys": list(_INDEX_META)}
        )
        if ranks is None:
            return
        _index_postings(con, ck)
        _index_articles(con, ck, ranks)
        _index_aligned(con, ck)
        _index_meta(con, settings)
        con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('index_state', ?)", [index_state(settings)]
        )


def _dataset(folder: Path, columns: list[str]) -> Any:
    """The Parquet folder as an Arrow dataset DuckDB scans (an empty table of
    ``columns`` when Spark wrote no part files)."""
    files = _files(folder)
    if files:
        return ds.dataset(files, format="parquet")
    return pa.table({c: pa.array([], pa.int64()) for c in columns})


def _index_postings(con: Any, ck: Checkpoints) -> None:
    """``postings``: each article's distinct fingerprints, as the local engine keeps
    them."""
    con.register("_postings", _dataset(ck.table("fingerprint", "postings"),
                                       ["article", "hash", "pos"]))
    try:
        con.execute("INSERT INTO postings SELECT DISTINCT hash, article FROM _postings")
    finally:
        con.unregister("_postings")


def _index_articles(con: Any, ck: Checkpoints, ranks: dict[str, str]) -> None:
    """``indexed``: one row per article of the run (its fingerprint count and min-hash
    sketch over ``postings``, its group's representative, its rank)."""
    from wiretrace.engines.incremental import SEEDS

    prep = ds.dataset(_files(ck.table("normalize", "prep")), format="parquet")
    groups = _dataset(ck.table("candidates", "groups"), ["article", "group"])
    ids = list(ranks)
    con.register("_prep", prep)  # DuckDB reads the two columns it needs
    con.register("_groups", groups)
    con.register("_ranks", pa.table({"id": pa.array(ids, pa.string()),
                                     "rank": pa.array([ranks[i] for i in ids], pa.string())}))
    try:
        con.execute(
            """
            INSERT INTO indexed (article, id, content_hash, size, m0, m1, m2, grp, rank)
            WITH s AS (
                SELECT article, count(*) AS size, min(xor(hash, $s0)) AS m0,
                       min(xor(hash, $s1)) AS m1, min(xor(hash, $s2)) AS m2
                FROM postings GROUP BY article
            ),
            m AS (
                SELECT p.key AS article, p.id, r.rank, g."group" AS g
                FROM _prep p JOIN _ranks r USING (id)
                LEFT JOIN (SELECT article, "group" FROM _groups) g ON g.article = p.key
            ),
            reps AS (
                SELECT g, first(article ORDER BY rank, article) AS rep FROM m
                WHERE g IS NOT NULL GROUP BY g
            )
            SELECT m.article, m.id, a.content_hash, coalesce(s.size, 0), s.m0, s.m1, s.m2,
                   reps.rep, m.rank
            FROM m JOIN articles a ON a.id = m.id
            LEFT JOIN s ON s.article = m.article
            LEFT JOIN reps ON reps.g = m.g
            """,
            {"s0": SEEDS[0], "s1": SEEDS[1], "s2": SEEDS[2]},
        )
    finally:
        for name in ("_prep", "_groups", "_ranks"):
            con.unregister(name)


def _index_aligned(con: Any, ck: Checkpoints, batch: int = 2048) -> None:
    """``aligned`` and ``swaps``: the raw pairs the align stage found, stored as the
    local engine stores its own (:func:`wiretrace.engines.incremental._store_raw`).

    Both engines align a candidate pair of two near-duplicate groups once, between the
    groups' representatives (``indexed.grp``). Checkpoints written by the Spark engine's
    earlier plan (before the fifth session) hold such a pair for every member; those
    member pairs are left out here (they are in the stored pairs only as provenance kept
    them), so that a later local update re-attributes the same raw pairs as on a store
    the local engine built. On checkpoints of the current plan this finds nothing."""
    from wiretrace.engines.incremental import _store_raw

    raws: list[ReusePair] = []
    for row in iter_parquet_rows(ck.table("align", "aligned")):
        raws.append(pair_from_row(row))
        if len(raws) >= batch:
            _store_raw(con, raws)
            raws.clear()
    _store_raw(con, raws)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _members AS
        SELECT a.source, a.target FROM aligned a
        JOIN indexed s ON s.id = a.source JOIN indexed t ON t.id = a.target
        WHERE coalesce(s.grp, s.article) <> coalesce(t.grp, t.article)
          AND (s.grp <> s.article OR t.grp <> t.article)
        """
    )
    for table in ("aligned", "swaps"):
        con.execute(
            f"DELETE FROM {table} WHERE (source, target) IN (SELECT (source, target) "
            "FROM _members)"
        )
    con.execute("DROP TABLE _members")


def _index_meta(con: Any, settings: Settings) -> None:
    """The learned swaps and the shared boilerplate, as the local engine's last update
    would have stored them (its own functions, over the tables just written)."""
    from wiretrace.engines.incremental import _learned, boilerplate_hashes

    learned = _learned(con, settings.detect.learn_alias_min_pairs)
    if learned:  # (the local engine records them once there are any)
        con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('learned_swaps', ?)",
            [json.dumps(sorted(learned))],
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE gmap AS SELECT article, coalesce(grp, article) AS g "
        "FROM indexed"
    )
    boilerplate = boilerplate_hashes(con, settings)
    if boilerplate:
        con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('boilerplate_hashes', ?)",
            [json.dumps(sorted(boilerplate))],
        )

"""Candidate pairs from shared rare fingerprints: a relational plan run in DuckDB.

Input: a postings table (Arrow) with columns ``hash`` (int64 fingerprint), ``article``
(int64 article key, ``text.fingerprint.article_key(id)``) and optionally ``position``.

Plan:

1. ``fp``: distinct (article, hash); ``size``: fingerprints per article.
2. **near-duplicate groups**. Two sources of edges, both checked by containment
   ``shared / max(size_a, size_b) >= detect.near_duplicate`` (nearly identical both
   ways; a short excerpt of a long story is *not* a near-duplicate of it):
   a. min-hash buckets: for each of a few hash seeds, articles with the same minimum
      of ``hash XOR seed`` fall in one bucket and are compared with the bucket's
      leader (smallest key) only: linear in the number of reprints, so a story
      reprinted thousands of times (whose fingerprints all exceed ``max_df``) still
      groups;
   b. the candidate self-join below (pairs that are nearly identical).
   Connected components (union-find over these edges only) are groups; a group's id is
   its smallest article key.
3. **candidates**: postings collapsed to one row per (group, hash); document frequency
   per hash; hashes in more than ``detect.max_df`` groups dropped; self-join on hash
   with ``a < b``; ``count(distinct hash) >= detect.min_shared``.
4. pairs inside one group are replaced by member -> group id pairs; a pair between a
   group and another article is kept for every member (each reprint's own pair), but
   between two groups only representative pairs are made (members x other group's id),
   so a story reprinted N times costs about N alignments, not N squared.

Outputs are Arrow tables: pairs ``(a, b, shared)`` with ``a < b`` and groups
``(article, group, size)`` for members of groups with at least two articles. The user's
ids can be attached with ``ids`` (key -> id): groups then carry ``id`` and ``group_id``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from wiretrace.errors import WiretraceError
from wiretrace.settings import Settings

__all__ = ["Candidates", "candidate_plan", "find_candidates", "near_duplicate_groups"]

log = logging.getLogger(__name__)

#: Seeds XOR-ed into the hashes to draw independent min-hash buckets (fixed: stable runs).
_SEEDS = (0, 0x5DEECE66D1234567, -0x3C6EF372FE94F82B)

PAIRS_SCHEMA = pa.schema([("a", pa.int64()), ("b", pa.int64()), ("shared", pa.int64())])


@dataclass(frozen=True, slots=True)
class Candidates:
    """The plan's two results: candidate ``pairs`` and near-duplicate ``groups``."""

    pairs: pa.Table  # a, b (article keys, a < b), shared (distinct shared fingerprints)
    groups: pa.Table  # article, group (smallest key of the group), size [, id, group_id]


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(self, x: int, y: int) -> None:
        rx, ry = self.find(x), self.find(y)
        if rx != ry:
            # the smaller key is the root: the group id is stable and order-free
            lo, hi = (rx, ry) if rx < ry else (ry, rx)
            self.parent[hi] = lo
            self.parent.setdefault(lo, lo)


def _check(postings: pa.Table) -> None:
    missing = {"hash", "article"} - set(postings.column_names)
    if missing:
        raise WiretraceError(f"postings table lacks column(s) {sorted(missing)}")


def _minhash_edges(con: duckdb.DuckDBPyConnection, threshold: float) -> list[tuple[int, int]]:
    """Near-duplicate edges (member, leader) from min-hash buckets (step 2a)."""
    edges: list[tuple[int, int]] = []
    for seed in _SEEDS:
        rows = con.execute(
            """
            WITH mins AS (
                SELECT article, min(xor(hash, $seed)) AS m FROM fp GROUP BY article
            ),
            leaders AS (
                SELECT article, min(article) OVER (PARTITION BY m) AS leader FROM mins
            ),
            shared AS (
                SELECT l.article, l.leader, count(*) AS n
                FROM leaders l
                JOIN fp f1 ON f1.article = l.article
                JOIN fp f2 ON f2.article = l.leader AND f2.hash = f1.hash
                WHERE l.article <> l.leader
                GROUP BY l.article, l.leader
            )
            SELECT s.article, s.leader
            FROM shared s
            JOIN size z1 ON z1.article = s.article
            JOIN size z2 ON z2.article = s.leader
            WHERE s.n >= $t * greatest(z1.n, z2.n)
            """,
            {"seed": seed, "t": threshold},
        ).fetchall()
        edges.extend((int(x), int(y)) for x, y in rows)
    return edges


def near_duplicate_groups(postings: pa.Table, settings: Settings) -> dict[int, int]:
    """Article key -> group id (smallest key) for articles in near-duplicate groups of
    two or more, from min-hash buckets only (step 2a; :func:`candidate_plan` adds the
    pairs its self-join finds)."""
    _check(postings)
    con = duckdb.connect()
    try:
        _load(con, postings)
        uf = _UnionFind()
        for x, y in _minhash_edges(con, settings.detect.near_duplicate):
            uf.union(x, y)
        return {k: uf.find(k) for k in list(uf.parent)}
    finally:
        con.close()


def _load(con: duckdb.DuckDBPyConnection, postings: pa.Table) -> None:
    con.register("postings", postings.select(["article", "hash"]))
    con.execute(
        "CREATE TEMP TABLE fp AS SELECT DISTINCT CAST(article AS BIGINT) AS article, "
        "CAST(hash AS BIGINT) AS hash FROM postings"
    )
    con.execute("CREATE TEMP TABLE size AS SELECT article, count(*) AS n FROM fp GROUP BY article")


def candidate_plan(
    postings: pa.Table, settings: Settings, ids: Mapping[int, str] | None = None
) -> Candidates:
    """Run the whole plan (module docstring); deterministic output order (a, b)."""
    _check(postings)
    ds = settings.detect
    con = duckdb.connect()
    try:
        _load(con, postings)
        uf = _UnionFind()
        for x, y in _minhash_edges(con, ds.near_duplicate):
            uf.union(x, y)
        group_rows = [(k, uf.find(k)) for k in list(uf.parent)]
        con.register(
            "grp_in",
            pa.table(
                {
                    "article": pa.array([r[0] for r in group_rows], pa.int64()),
                    "grp": pa.array([r[1] for r in group_rows], pa.int64()),
                }
            ),
        )
        con.execute(
            "CREATE TEMP TABLE rep AS SELECT s.article, coalesce(g.grp, s.article) AS grp "
            "FROM size s LEFT JOIN grp_in g ON g.article = s.article"
        )
        # step 3 on collapsed postings: one row per (group representative, hash)
        con.execute(
            """
            CREATE TEMP TABLE cp AS
            SELECT DISTINCT r.grp AS article, f.hash FROM fp f JOIN rep r USING (article)
            """
        )
        rep_pairs = con.execute(
            """
            WITH df AS (SELECT hash FROM cp GROUP BY hash HAVING count(*) <= $max_df),
            kept AS (SELECT cp.* FROM cp JOIN df USING (hash))
            SELECT x.article AS a, y.article AS b, count(*) AS shared,
                   greatest(zx.n, zy.n) AS big
            FROM kept x JOIN kept y ON x.hash = y.hash AND x.article < y.article
            JOIN size zx ON zx.article = x.article
            JOIN size zy ON zy.article = y.article
            GROUP BY x.article, y.article, zx.n, zy.n
            HAVING count(*) >= $min_shared
            """,
            {"max_df": ds.max_df, "min_shared": ds.min_shared},
        ).fetchall()
        # step 2b: nearly identical representatives found by the join join one group
        plain: list[tuple[int, int, int]] = []
        for a, b, shared, big in rep_pairs:
            if shared >= ds.near_duplicate * big:
                uf.union(int(a), int(b))
            else:
                plain.append((int(a), int(b), int(shared)))
        members: dict[int, list[int]] = {}
        for k in con.execute("SELECT article FROM size ORDER BY article").fetchall():
            key = int(k[0])
            root = uf.find(key)
            members.setdefault(root, []).append(key)
        pairs = _expand(con, uf, members, plain)
    finally:
        con.close()
    groups = _groups_table(members, ids)
    log.info(
        "candidates: %d pairs, %d near-duplicate groups",
        pairs.num_rows,
        len(set(groups.column("group").to_pylist())),
    )
    return Candidates(pairs=pairs, groups=groups)


def _expand(
    con: duckdb.DuckDBPyConnection,
    uf: _UnionFind,
    members: Mapping[int, list[int]],
    plain: list[tuple[int, int, int]],
) -> pa.Table:
    """Step 4: member -> group id pairs, and representative pairs expanded to members."""
    out: dict[tuple[int, int], int] = {}
    # member -> group id, with their real shared counts
    member_rows = [(m, root) for root, ms in members.items() for m in ms if m != root]
    if member_rows:
        con.register(
            "mem",
            pa.table(
                {
                    "m": pa.array([r[0] for r in member_rows], pa.int64()),
                    "g": pa.array([r[1] for r in member_rows], pa.int64()),
                }
            ),
        )
        for m, g, n in con.execute(
            """
            SELECT mem.m, mem.g, count(*) FROM mem
            JOIN fp f1 ON f1.article = mem.m
            JOIN fp f2 ON f2.article = mem.g AND f2.hash = f1.hash
            GROUP BY mem.m, mem.g
            """
        ).fetchall():
            out[(min(m, g), max(m, g))] = int(n)
        for m, g in member_rows:  # members whose shared count is 0 (cannot happen) stay
            out.setdefault((min(m, g), max(m, g)), 0)
    for a, b, shared in plain:
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        ga, gb = members.get(ra, [ra]), members.get(rb, [rb])
        if len(ga) > 1 and len(gb) > 1:
            # two groups: representatives only, N + M pairs not N x M
            todo = [(m, rb) for m in ga] + [(ra, m) for m in gb]
        else:
            todo = [(x, y) for x in ga for y in gb]
        for x, y in todo:
            key = (min(x, y), max(x, y))
            out[key] = max(out.get(key, 0), shared)
    rows = sorted(out.items())
    return pa.table(
        {
            "a": pa.array([k[0] for k, _ in rows], pa.int64()),
            "b": pa.array([k[1] for k, _ in rows], pa.int64()),
            "shared": pa.array([v for _, v in rows], pa.int64()),
        },
        schema=PAIRS_SCHEMA,
    )


def _groups_table(members: Mapping[int, list[int]], ids: Mapping[int, str] | None) -> pa.Table:
    rows = sorted((m, root, len(ms)) for root, ms in members.items() if len(ms) > 1 for m in ms)
    cols: dict[str, pa.Array] = {
        "article": pa.array([r[0] for r in rows], pa.int64()),
        "group": pa.array([r[1] for r in rows], pa.int64()),
        "size": pa.array([r[2] for r in rows], pa.int64()),
    }
    if ids is not None:
        cols["id"] = pa.array([ids.get(r[0]) for r in rows], pa.string())
        cols["group_id"] = pa.array([ids.get(r[1]) for r in rows], pa.string())
    return pa.table(cols)


def find_candidates(
    postings: pa.Table, settings: Settings, ids: Mapping[int, str] | None = None
) -> pa.Table:
    """Candidate pairs ``(a, b, shared)``, ``a < b`` (article keys), near-duplicate
    groups collapsed (see :func:`candidate_plan`, which also returns the groups)."""
    return candidate_plan(postings, settings, ids).pairs

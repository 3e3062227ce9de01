"""The groups holding each much-shared fingerprint, kept for ``check``.

A reprint flood's fingerprints each have one posting per copy: looking up a flood
member's ~150 fingerprints in ``postings`` fetches tens of thousands of rows, scattered
over the table (at 10^6 articles, 88 ms of CPU at the 95th percentile, against 6 ms
without them). ``check`` needs, per fingerprint, only the near-duplicate groups holding
it. So :func:`refresh` (run at the end of every index update that changed something)
writes, for each fingerprint with at least :data:`HOT_POSTINGS` postings, one row per
group holding it, table ``check_hot`` (store migration 9): ``(hash, grp, members,
holder)``, ``members`` the group's articles holding it, ``holder`` the smallest of their
keys (the only one when ``members`` is 1: ``check`` then knows whether the input's own
stored copy is the only holder). A fingerprint held by more than ``detect.max_df + 1``
groups gets one row with ``grp`` NULL: leaving one article out cannot make it rare.

The table is trusted only while the index is the one it was computed from: ``meta``
keeps a digest of the index (:func:`index_digest`: the ``indexed`` rows, the postings
count, the index settings) with ``detect.max_df``; any other writer (a Spark load, an
update killed before the refresh) leaves a different digest, and ``check`` then looks
every fingerprint up in ``postings``, as it always can.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np

from wiretrace.settings import Settings

__all__ = ["HOT_POSTINGS", "HotTable", "index_digest", "load", "refresh"]

#: Fingerprints with at least this many postings get their groups in ``check_hot``.
HOT_POSTINGS = 32
_META = "check_hot"  # meta key: {"digest": ..., "max_df": ...} of the last refresh


def index_digest(con: Any) -> str:
    """A digest of the detection index: the ``indexed`` rows (article, group, content),
    the number of postings and the settings the index was built with. It changes
    whenever an update, a removal or a load changes what ``check`` would read."""
    n, total = con.execute(
        "SELECT count(*), coalesce(sum(hash(article, coalesce(grp, article), content_hash)), 0)"
        " FROM indexed"
    ).fetchall()[0]
    postings = con.execute("SELECT count(*) FROM postings").fetchall()[0][0]
    state = con.execute("SELECT value FROM meta WHERE key = 'index_state'").fetchall()
    return f"{n}|{total}|{postings}|{state[0][0] if state else ''}"


def refresh(con: Any, settings: Settings) -> None:
    """Recompute ``check_hot`` from the index and record the digest it matches (inside
    the caller's transaction)."""
    limit = settings.detect.max_df + 1
    con.execute("DELETE FROM check_hot")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _hot AS SELECT hash FROM postings GROUP BY hash "
        "HAVING count(*) >= ?",
        [HOT_POSTINGS],
    )
    con.execute(
        """
        INSERT INTO check_hot
        WITH hg AS (
            SELECT p.hash, coalesce(i.grp, i.article) AS grp, count(*) AS members,
                   min(p.article) AS holder
            FROM postings p JOIN indexed i ON i.article = p.article
            WHERE p.hash IN (SELECT hash FROM _hot)
            GROUP BY p.hash, coalesce(i.grp, i.article)),
        ng AS (SELECT hash, count(*) AS n FROM hg GROUP BY hash)
        SELECT hg.hash, hg.grp, hg.members, hg.holder FROM hg JOIN ng USING (hash)
        WHERE ng.n <= $limit
        UNION ALL
        SELECT hash, NULL, NULL, NULL FROM ng WHERE n > $limit
        """,
        {"limit": limit},
    )
    con.execute("DROP TABLE _hot")
    value = json.dumps({"digest": index_digest(con), "max_df": settings.detect.max_df})
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [_META, value])


@dataclass(frozen=True, slots=True)
class HotTable:
    """``check_hot`` in memory, sorted by hash (``grp`` of a frequent hash: 0, with
    ``frequent`` set)."""

    hash: np.ndarray
    grp: np.ndarray
    members: np.ndarray
    holder: np.ndarray
    frequent: np.ndarray

    def split(
        self, query: np.ndarray, own_key: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(hash, group) of every group holding a hot hash of ``query`` (the input's
        own stored copy left out: a group whose only holder it is does not count; a
        hash held by too many groups gives none), and the hashes of ``query`` that are
        not hot (to look up in ``postings``)."""
        lo = np.searchsorted(self.hash, query, side="left")
        hi = np.searchsorted(self.hash, query, side="right")
        hot = hi > lo
        counts = (hi - lo)[hot]
        if not len(counts):
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, query
        starts = np.repeat(lo[hot], counts)
        offsets = np.arange(len(starts)) - np.repeat(np.cumsum(counts) - counts, counts)
        rows = starts + offsets
        keep = ~self.frequent[rows] & ~((self.members[rows] == 1) & (self.holder[rows] == own_key))
        rows = rows[keep]
        return self.hash[rows], self.grp[rows], query[~hot]


def load(con: Any, settings: Settings) -> HotTable | None:
    """``check_hot`` when it matches the index as it is now (and ``detect.max_df``),
    else None (the table is then not used)."""
    try:
        found = con.execute("SELECT value FROM meta WHERE key = ?", [_META]).fetchall()
    except duckdb.Error:  # a store without the meta table: not used
        return None
    if not found:
        return None
    recorded = json.loads(found[0][0])
    if recorded.get("max_df") != settings.detect.max_df:
        return None
    if recorded.get("digest") != index_digest(con):
        return None
    cols = con.execute(
        "SELECT hash, coalesce(grp, 0) AS grp, coalesce(members, 0) AS members, "
        "coalesce(holder, 0) AS holder, grp IS NULL AS frequent FROM check_hot "
        "ORDER BY hash"
    ).fetchnumpy()
    return HotTable(
        hash=np.asarray(cols["hash"], dtype=np.int64),
        grp=np.asarray(cols["grp"], dtype=np.int64),
        members=np.asarray(cols["members"], dtype=np.int64),
        holder=np.asarray(cols["holder"], dtype=np.int64),
        frequent=np.asarray(cols["frequent"], dtype=bool),
    )

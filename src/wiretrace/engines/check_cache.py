"""What ``check`` may remember between calls on a store that cannot change.

A store opened read-only cannot change while it is open: DuckDB's file lock keeps every
writer out, and a server's snapshot generation is a file of its own (a private link to
it, never written again). Its stored articles, their prepared and masked token
sequences and the shared boilerplate are then the same for every check, so they are
read (and prepared) once; so are the alias table and the learned swaps, which a server
would otherwise load again for the collection it opens per request. The cache is found
by the store's file identity (path, inode, modification time and size of the file and of
its write-ahead log), so reopening a file that was written in between starts afresh. A
writable store gets no cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from wiretrace.engines.check_hot import HotTable
from wiretrace.engines.local import Prepared
from wiretrace.models import Article
from wiretrace.settings import Settings
from wiretrace.store import Store

__all__ = ["StoreCache", "files_state", "store_cache"]

#: Stores whose caches are kept (a server holds two snapshot generations at most).
STORES_MAX = 2
#: Stored articles, and prepared (masked) stored articles, kept per store.
ENTRIES_MAX = 2048
#: A fingerprint with at least this many postings has them remembered (a reprint
#: flood's text: one row per copy, so the index lookup of a flood member fetches tens of
#: thousands of rows, and the next check of that story fetches the same ones again).
HOT_POSTINGS = 32
#: Most postings remembered per store (16 bytes each), and most ``indexed`` rows.
POSTINGS_MAX = 4_000_000
INDEXED_MAX = 200_000

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class StoreCache:
    """The remembered reads of one unchanging store (thread-safe: the server runs
    checks in several threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._boilerplate: frozenset[int] | None = None
        self._articles: OrderedDict[str, Article] = OrderedDict()
        self._masked: OrderedDict[Hashable, Prepared] = OrderedDict()
        self._context: dict[Hashable, Any] = {}
        self._postings: OrderedDict[int, np.ndarray] = OrderedDict()
        self._postings_size = 0
        self._indexed: OrderedDict[int, tuple[str, int]] = OrderedDict()

    def context(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per ``key`` (what every check on the store shares: the
        alias table and the learned swaps)."""
        with self._lock:
            if key in self._context:
                return self._context[key]
        value = compute()
        with self._lock:
            return self._context.setdefault(key, value)

    def hot(self, con: Any, settings: Settings) -> HotTable | None:
        """The store's ``check_hot`` table when it is current (read once)."""
        from wiretrace.engines import check_hot

        key = ("hot", settings.detect.max_df)
        found: HotTable | None = self.context(key, lambda: check_hot.load(con, settings))
        return found

    def boilerplate(self, store: Store) -> frozenset[int]:
        """The store's shared boilerplate fingerprints (read once)."""
        if self._boilerplate is None:
            from wiretrace.engines.incremental import stored_boilerplate

            self._boilerplate = stored_boilerplate(store)
        return self._boilerplate

    def articles(self, store: Store, ids: Iterable[str]) -> dict[str, Article]:
        """The stored articles among ``ids`` (absent ids left out), read once each."""
        wanted = list(dict.fromkeys(ids))
        with self._lock:
            out = {i: self._articles[i] for i in wanted if i in self._articles}
            for i in out:
                self._articles.move_to_end(i)
        missing = [i for i in wanted if i not in out]
        if missing:
            read = store.articles_by_id(missing)
            out.update(read)
            with self._lock:
                for i, article in read.items():
                    _put(self._articles, i, article)
        return out

    def masked(self, key: Hashable, compute: Callable[[], Prepared]) -> Prepared:
        """``compute()`` (a stored article prepared and masked), once per ``key``."""
        with self._lock:
            found = self._masked.get(key)
            if found is not None:
                self._masked.move_to_end(key)
                return found
        value = compute()
        with self._lock:
            _put(self._masked, key, value)
        return value

    def postings(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(hash, article) of the remembered postings of the hashes in ``query``, and
        the hashes of ``query`` not remembered (to look up in the store)."""
        hashes: list[np.ndarray] = []
        arts: list[np.ndarray] = []
        cold = np.ones(len(query), dtype=bool)
        with self._lock:
            if self._postings:
                for n, h in enumerate(query.tolist()):
                    found = self._postings.get(h)
                    if found is not None:
                        self._postings.move_to_end(h)
                        hashes.append(np.full(len(found), h, dtype=np.int64))
                        arts.append(found)
                        cold[n] = False
        if not hashes:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, query
        return np.concatenate(hashes), np.concatenate(arts), query[cold]

    def remember_postings(self, hit_hash: np.ndarray, hit_art: np.ndarray) -> None:
        """Remember the postings of the hashes holding at least :data:`HOT_POSTINGS`
        of the looked-up rows ``(hit_hash, hit_art)`` (every posting of each hash)."""
        values, counts = np.unique(hit_hash, return_counts=True)
        hot = values[counts >= HOT_POSTINGS]
        if not len(hot):
            return
        order = np.argsort(hit_hash, kind="stable")
        h, a = hit_hash[order], hit_art[order]
        lo = np.searchsorted(h, hot, side="left")
        hi = np.searchsorted(h, hot, side="right")
        with self._lock:
            for key, start, end in zip(hot.tolist(), lo.tolist(), hi.tolist(), strict=True):
                if key not in self._postings:
                    self._postings[key] = a[start:end].copy()
                    self._postings_size += end - start
            while self._postings_size > POSTINGS_MAX and self._postings:
                self._postings_size -= len(self._postings.popitem(last=False)[1])

    def postings_count(self) -> int:
        """How many postings are remembered."""
        with self._lock:
            return self._postings_size

    def indexed(self, keys: Iterable[int]) -> tuple[dict[int, tuple[str, int]], list[int]]:
        """The remembered ``indexed`` rows (article key -> (id, group)) among ``keys``,
        and the keys not remembered."""
        known: dict[int, tuple[str, int]] = {}
        missing: list[int] = []
        with self._lock:
            for k in keys:
                found = self._indexed.get(k)
                if found is None:
                    missing.append(k)
                else:
                    known[k] = found
        return known, missing

    def remember_indexed(self, rows: dict[int, tuple[str, int]]) -> None:
        with self._lock:
            for k, v in rows.items():
                self._indexed[k] = v
            while len(self._indexed) > INDEXED_MAX:
                self._indexed.popitem(last=False)


def _put(entries: OrderedDict[K, V], key: K, value: V) -> None:
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > ENTRIES_MAX:
        entries.popitem(last=False)


_CACHES: OrderedDict[tuple[object, ...], StoreCache] = OrderedDict()
_CACHES_LOCK = threading.Lock()


def store_cache(store: Store) -> StoreCache | None:
    """The cache of ``store`` when it is open read-only, else None."""
    if not store.read_only:
        return None
    path = Path(store.path)
    key = (str(path), *files_state((path, path.with_name(path.name + ".wal"))))
    with _CACHES_LOCK:
        found = _CACHES.get(key)
        if found is None:
            found = _CACHES[key] = StoreCache()
            while len(_CACHES) > STORES_MAX:
                _CACHES.popitem(last=False)
        else:
            _CACHES.move_to_end(key)
        return found


def files_state(paths: Iterable[str | Path]) -> tuple[object, ...]:
    """Which files ``paths`` are now (path, inode, modification time and size of each;
    None for a missing one): a key that changes when one of them is written. (A snapshot
    generation's private link is removed once open: its path alone then names it.)"""
    out: list[object] = []
    for p in paths:
        try:
            st = Path(p).stat()
        except OSError:
            out.append((str(p), None))
            continue
        out.append((str(p), st.st_ino, st.st_mtime_ns, st.st_size))
    return tuple(out)

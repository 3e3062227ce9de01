"""The server's view of the store: the newest read snapshot, reopened as it changes.

See :mod:`wiretrace.snapshots` for why the server reads a snapshot and who publishes it.
Each published snapshot is one **generation**: the server opens it read-only through a
private hard link (a fresh path, so DuckDB's per-path instance cache cannot hand back the
previous generation; the link is removed at once, the open file stays readable), serves
every new request from the newest generation, and closes an older one when its last
request ends. Each request reads through its own cursor (:meth:`Store.reader`), since a
DuckDB connection must not be shared between threads.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import shutil
import threading
import time
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from wiretrace.collection import Collection
from wiretrace.errors import StoreError, WiretraceError
from wiretrace.settings import Settings
from wiretrace.snapshots import (
    ServingLock,
    StoreLocked,
    is_served,
    refresh_snapshot,
    snapshot_path,
    wanted_path,
)
from wiretrace.store import Store

__all__ = ["SnapshotSource", "StoreUnavailable"]

log = logging.getLogger(__name__)

#: Most results kept per snapshot generation (pages and objects read from it).
CACHE_ENTRIES = 2048
_MISSING = object()


class StoreUnavailable(WiretraceError):
    """No snapshot to read yet (a writer holds the store and has not published one)."""


@dataclass
class _Generation:
    store: Store
    identity: tuple[int, int]  # the snapshot file's (inode, mtime): which one is open
    published: float
    users: int = 0
    retired: bool = False
    cache: dict[Hashable, Any] = field(default_factory=dict)


class SnapshotSource:
    """Read access for many threads to the newest snapshot of the store ``db``.

    ``check_every``: seconds between two looks at the snapshot file (a ``stat``).
    """

    def __init__(self, db: Path, settings: Settings, check_every: float = 0.5) -> None:
        self.db = db
        self.settings = settings
        self.snapshot = snapshot_path(db)
        self.check_every = check_every
        self._current: _Generation | None = None
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._checked = float("-inf")
        self._tried_main = float("-inf")
        self._links = itertools.count()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._serving = ServingLock(db)

    # -- lifetime --------------------------------------------------------------------

    def start(self) -> None:
        """Refresh the snapshot from the store when no writer holds it, then open it.

        Raises :class:`StoreError` when the store is missing or unreadable; when a
        writer holds it and no snapshot exists, the server starts anyway and answers 503
        until the writer publishes one.
        """
        if not self.db.is_file():
            raise StoreError(f"{self.db}: no store here (run `wiretrace ingest` first)")
        self._serving.acquire()  # before the first copy: writers publish from now on
        try:
            self._refresh_from_store(strict=True)
            self._reload()
        except BaseException:
            self._serving.release()
            raise

    def close(self) -> None:
        """Close the open generation and remove the snapshot (writers stop refreshing
        it); a request still running keeps its generation until it ends."""
        with self._lock:
            gen, self._current = self._current, None
            if gen is not None:
                gen.retired = True
                if gen.users == 0:
                    gen.store.close()
        self._serving.release()
        if is_served(self.db):
            return  # another server still reads the snapshot
        for path in (self.snapshot, wanted_path(self.db)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    # -- reading ---------------------------------------------------------------------

    @contextlib.contextmanager
    def collection(self) -> Iterator[tuple[Collection, dict[Hashable, Any]]]:
        """A read-only :class:`Collection` on the newest snapshot, for one request,
        with that generation's cache (a dict for results that depend only on it)."""
        gen = self._acquire()
        reader = gen.store.reader()
        try:
            yield Collection(reader, self.settings), gen.cache
        finally:
            reader.close()
            self._release(gen)

    def cached(self, cache: dict[Hashable, Any], key: Hashable, compute: Any) -> Any:
        """``cache[key]``, computed by ``compute()`` once per generation (a snapshot never
        changes, so neither does anything read from it). At most :data:`CACHE_ENTRIES`
        entries: a full cache starts again empty."""
        found = cache.get(key, _MISSING)  # one lookup: another thread may clear the cache
        if found is not _MISSING:
            return found
        with self._lock:  # one computation per key at a time: the others wait for it
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:
            try:
                found = cache.get(key, _MISSING)
                if found is not _MISSING:
                    return found
                value = compute()
                if len(cache) >= CACHE_ENTRIES:
                    cache.clear()
                cache[key] = value
                return value
            finally:
                with self._lock:
                    self._computing.pop(key, None)

    def status(self) -> dict[str, object]:
        """What the server reads: the snapshot's age (seconds since published)."""
        gen = self._current
        if gen is None:
            return {"snapshot": None}
        return {"snapshot": {"published_seconds_ago": round(time.time() - gen.published, 1)}}

    def _acquire(self) -> _Generation:
        if time.monotonic() - self._checked >= self.check_every:
            self._reload()
        with self._lock:
            gen = self._current
            if gen is None:
                raise StoreUnavailable(
                    f"{self.db.name}: being written by another process and no snapshot "
                    "published yet; try again in a moment"
                )
            gen.users += 1
            return gen

    def _release(self, gen: _Generation) -> None:
        with self._lock:
            gen.users -= 1
            if gen.retired and gen.users == 0:
                gen.store.close()

    # -- generations -----------------------------------------------------------------

    def _reload(self) -> None:
        """Open the snapshot when it changed (one thread at a time; the others go on
        with the current generation). With no snapshot file, make one from the store
        when no writer holds it (at most once a second), else ask the writer for one."""
        if not self._reload_lock.acquire(blocking=self._current is None):
            return
        try:
            self._checked = time.monotonic()
            if not self.snapshot.exists() and self._checked - self._tried_main >= 1.0:
                self._tried_main = self._checked
                self._refresh_from_store(strict=False)
            try:
                stat = self.snapshot.stat()
            except FileNotFoundError:
                return
            current = self._current
            if current is not None and current.identity == (stat.st_ino, stat.st_mtime_ns):
                return
            gen = self._open_generation()
            with self._lock:
                old, self._current = self._current, gen
                if old is not None:
                    old.retired = True
                    if old.users == 0:
                        old.store.close()
            log.info("serving snapshot published %.1f s ago", time.time() - gen.published)
        finally:
            self._reload_lock.release()

    def _refresh_from_store(self, strict: bool) -> bool:
        try:
            refresh_snapshot(self.db, prepare=_migrate)
        except StoreLocked:
            if not self.snapshot.exists():
                wanted_path(self.db).touch()
            log.info("%s is being written; reading its published snapshot", self.db)
            return False
        except (duckdb.Error, OSError, StoreError) as exc:  # an unreadable store
            if strict:
                raise StoreError(f"{self.db}: cannot read store: {exc}") from None
            log.warning("cannot refresh the snapshot of %s: %s", self.db, exc)
            return False
        return True

    def _open_generation(self) -> _Generation:
        link = self.snapshot.with_name(
            f".{self.snapshot.name}.{os.getpid()}.{next(self._links)}"
        )
        try:
            os.link(self.snapshot, link)
            stat = link.stat()
        except OSError:  # no hard links here: a private copy instead
            stat = self.snapshot.stat()
            shutil.copyfile(self.snapshot, link)
        try:
            store = Store.open(link, read_only=True)
        except StoreError as exc:  # name the user's store, not the private link
            raise StoreError(str(exc).replace(str(link), str(self.db))) from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                link.unlink()
        store.path = self.db  # messages name the store the user gave
        return _Generation(store, (stat.st_ino, stat.st_mtime_ns), stat.st_mtime)


def _migrate(copy: Path) -> None:
    """Bring a snapshot copy to this wiretrace's schema (the store stays as it is)."""
    Store.open(copy).close()

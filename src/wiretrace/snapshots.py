"""Read snapshots: how ``wiretrace serve`` reads a store that another process writes.

DuckDB lets one process write a file, and a read-only opener in another process
conflicts with it (each side takes a file lock). So the server never holds the store
itself: it reads a **snapshot**, a complete copy of the store beside it
(``news.duckdb.snapshot``), and the writers keep that copy fresh:

* a writing :class:`~wiretrace.store.Store` whose file is served publishes a new snapshot after
  a committed transaction and when it closes: ``CHECKPOINT`` (the file then holds every
  committed write, the write-ahead log is empty), copy the file to a temporary name,
  ``fsync``, and ``os.replace`` it over the snapshot. Readers see the old snapshot or
  the new one, never a mix. Publishing is rate-limited so that it costs at most about a
  fifth of the writer's time (:data:`MIN_INTERVAL`, :data:`MAX_SHARE`); the last commit
  is always published on close.
* the server refreshes the snapshot itself when it starts and no writer holds the store
  (:func:`refresh_snapshot`); when a writer holds it and no snapshot exists yet, it drops
  the request marker so that the writer publishes one at its next commit.

A store is *served* while some server holds a shared ``flock`` on ``news.duckdb.serving``
(:class:`ServingLock`, taken for the server's whole life). The kernel drops the lock when
the server dies, however it dies, so a killed server never leaves writers copying for
nobody: a writer finds the lock free, stops publishing and removes the stale snapshot.
Stores nobody serves pay one failed ``open`` (or one lock probe) per commit.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

__all__ = [
    "MAX_SHARE",
    "MIN_INTERVAL",
    "ServingLock",
    "SnapshotPublisher",
    "StoreLocked",
    "is_served",
    "refresh_snapshot",
    "serving_path",
    "snapshot_path",
    "wanted_path",
]

log = logging.getLogger(__name__)

#: Fewest seconds between two publications by one writer (the last one is always made
#: on close).
MIN_INTERVAL = 1.0
#: A writer waits at least ``last copy time / MAX_SHARE`` between publications, so
#: copying a large store takes at most about this share of its time.
MAX_SHARE = 0.2


class StoreLocked(Exception):
    """The store is held by a writing process (raised by :func:`refresh_snapshot`)."""


def snapshot_path(db: Path) -> Path:
    """The read snapshot of the store ``db``: ``<db>.snapshot`` beside it."""
    return db.with_name(db.name + ".snapshot")


def wanted_path(db: Path) -> Path:
    """The marker a server drops to ask the writer of ``db`` for a snapshot."""
    return db.with_name(db.name + ".snapshot-wanted")


def serving_path(db: Path) -> Path:
    """The file servers of ``db`` hold a shared lock on: ``<db>.serving``."""
    return db.with_name(db.name + ".serving")


def is_served(db: Path) -> bool:
    """True while a live server holds :func:`serving_path` (a non-blocking probe for an
    exclusive lock fails exactly then)."""
    try:
        fd = os.open(serving_path(db), os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's lock, if it got it
    return False


class ServingLock:
    """Held by a server for its whole life: tells writers to keep the snapshot fresh."""

    def __init__(self, db: Path) -> None:
        self.path = serving_path(db)
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_SH)
        self._fd = fd

    def release(self) -> None:
        """Drop the lock; returns with the lock gone even if others still serve."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _replace_from(
    source: Path, snapshot: Path, prepare: Callable[[Path], None] | None = None
) -> None:
    """Copy ``source`` to a temporary file beside ``snapshot``, let ``prepare`` update
    the copy, and move it into place."""
    tmp = snapshot.with_name(f"{snapshot.name}.tmp-{os.getpid()}")
    try:
        shutil.copyfile(source, tmp)
        if prepare is not None:
            prepare(tmp)
        _fsync(tmp)
        tmp.replace(snapshot)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SnapshotPublisher:
    """Kept by a writing store: publishes its snapshot when someone serves the store."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.snapshot = snapshot_path(db)
        self.wanted = wanted_path(db)
        self._dirty = False
        self._last = float("-inf")
        self._cost = 0.0

    def served(self) -> bool:
        """True while a server holds the serving lock. A snapshot left behind by a
        server that is gone is removed here, so nobody copies for it again."""
        if is_served(self.db):
            return True
        for stale in (self.snapshot, self.wanted):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        return False

    def committed(self, con: duckdb.DuckDBPyConnection) -> None:
        """After a committed transaction: publish when served and due."""
        self._dirty = True
        if not self.served():
            return
        wait = max(MIN_INTERVAL, self._cost / MAX_SHARE)
        if self.wanted.exists() or time.monotonic() - self._last >= wait:
            self.publish(con)

    def closing(self, con: duckdb.DuckDBPyConnection) -> None:
        """Before the store closes: publish what was committed since the last one (and
        whatever a write outside the store's transactions may have changed)."""
        if self.served() and (self._dirty or self._last == float("-inf")):
            self.publish(con)

    def publish(self, con: duckdb.DuckDBPyConnection) -> bool:
        """Checkpoint and copy the store over its snapshot; False when it could not
        (logged: the next commit or the close tries again)."""
        start = time.monotonic()
        try:
            con.execute("CHECKPOINT")
        except duckdb.Error as exc:
            log.info("snapshot of %s postponed: %s", self.db, exc)
            return False
        try:
            _replace_from(self.db, self.snapshot)
        except OSError as exc:
            log.warning("cannot publish the snapshot of %s: %s", self.db, exc)
            return False
        with contextlib.suppress(FileNotFoundError):
            self.wanted.unlink()
        self._dirty = False
        self._last = time.monotonic()
        self._cost = self._last - start
        log.debug("snapshot of %s published in %.3f s", self.db, self._cost)
        return True


def refresh_snapshot(db: Path, prepare: Callable[[Path], None] | None = None) -> None:
    """Make ``db``'s snapshot current from the store itself (the server, at start).

    Opens the store read-only for the time of one copy: a byte copy when the file is
    checkpointed (no write-ahead log), else a logical ``COPY FROM DATABASE`` (which
    includes what the log holds). ``prepare(copy)`` may update the copy before it
    replaces the snapshot (the server migrates a store written by an older wiretrace
    there, leaving the store itself as it is). Raises :class:`StoreLocked` when a writer holds the
    store, ``duckdb.Error``/``OSError`` when it cannot be read.
    """
    snapshot = snapshot_path(db)
    con = duckdb.connect()
    try:
        try:
            con.execute(f"ATTACH {_literal(db)} AS src (READ_ONLY)")
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreLocked(str(db)) from None
            raise
        wal = db.with_name(db.name + ".wal")
        if not wal.exists():
            _replace_from(db, snapshot, prepare)
            return
        tmp = snapshot.with_name(f"{snapshot.name}.tmp-{os.getpid()}")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        try:
            con.execute(f"ATTACH {_literal(tmp)} AS dst")
            con.execute("COPY FROM DATABASE src TO dst")
            con.execute("DETACH dst")
            if prepare is not None:
                prepare(tmp)
            _fsync(tmp)
            tmp.replace(snapshot)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            with contextlib.suppress(FileNotFoundError):
                tmp.with_name(tmp.name + ".wal").unlink()
    finally:
        con.close()


def _literal(path: Path) -> str:
    """``path`` as a SQL string literal (ATTACH takes no parameters)."""
    return "'" + str(path).replace("'", "''") + "'"

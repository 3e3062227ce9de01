"""Read snapshots follow the life of the server process that asked for them: a writer
publishes while a server holds the serving lock, and a server killed with SIGKILL
leaves nothing that makes later writers copy the store for nobody."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from wiretrace.collection import open_collection
from wiretrace.snapshots import is_served, serving_path, snapshot_path

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "examples" / "seeds"

HOLDER = """
import sys, time
from pathlib import Path
from wiretrace.snapshots import ServingLock
lock = ServingLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
time.sleep(600)
"""


def _ingest(db: Path, path: Path) -> None:
    with open_collection(db) as collection:
        collection.ingest([path])


def _hold_serving_lock(db: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_writer_publishes_only_while_served_and_cleans_up_after_a_killed_server(
    tmp_path: Path,
) -> None:
    db = tmp_path / "news.duckdb"
    seed_files = sorted(SEEDS.glob("*.txt"))
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / seed_files[0].name).write_bytes(seed_files[0].read_bytes())
    (second / seed_files[1].name).write_bytes(seed_files[1].read_bytes())

    _ingest(db, first)
    assert not is_served(db)
    assert not snapshot_path(db).exists()  # nobody serves: no copy is made

    server = _hold_serving_lock(db)
    try:
        assert is_served(db)
        _ingest(db, second)
        assert snapshot_path(db).is_file()  # served: the commit was published
    finally:
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
    # The killed server left its files behind, but not its lock.
    assert serving_path(db).exists() and snapshot_path(db).exists()
    assert not is_served(db)

    # The next write finds nobody serving and removes the stale snapshot.
    (second / "extra.txt").write_text("A short local note\n\nNothing to see here at all.\n")
    _ingest(db, second)
    assert not snapshot_path(db).exists()

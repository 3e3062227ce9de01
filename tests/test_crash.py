"""Crash safety: a real ``wiretrace ingest`` killed with SIGKILL at several moments
leaves a store that opens, holds only whole articles, and a re-run completes the job:
the final store equals a clean run's (ids, versions and content hashes), nothing lost,
nothing duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wiretrace.store import Store

SHARED = Path(__file__).resolve().parents[2] / "shared"
BBC = SHARED / "data" / "bbc-news"
# The BBC set: about 1,800 real articles, many batches of 100.
SECTIONS = [str(BBC)]
BATCH = "ingest.batch_articles=100"
# How the ingest pool's fork server names its preloaded modules on its command line.
POOL_PRELOAD = "'wiretrace.ingest', 'wiretrace.ingest.textfile'"


def _command(db: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "wiretrace",
        "ingest",
        *SECTIONS,
        "--db",
        str(db),
        "--set",
        BATCH,
        "--json",
    ]


def _state(db: Path) -> dict[str, tuple[int, str]]:
    # Opened for writing, as the next command would: a kill during the first open
    # may leave a file whose schema is not created yet.
    with Store.open(db) as store:
        rows = store.query("SELECT id, version, content_hash FROM articles").to_pylist()
        dup = store.query("SELECT id FROM articles GROUP BY id HAVING count(*) > 1").num_rows
    assert dup == 0, "an id is stored twice"
    return {r["id"]: (r["version"], r["content_hash"]) for r in rows}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    db = tmp_path_factory.mktemp("clean") / "clean.duckdb"
    proc = subprocess.run(_command(db), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    state = _state(db)
    assert len(state) > 1800
    return state


def _kill_after(db: Path, delay: float) -> int:
    """Start an ingest, SIGKILL it ``delay`` seconds after the store file appears (or
    after it exits on its own); returns the process's exit status."""
    proc = subprocess.Popen(_command(db), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not db.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(delay)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    return proc.wait(timeout=60)


def test_killed_ingest_resumes_to_the_clean_result(
    tmp_path: Path, clean: dict[str, tuple[int, str]]
) -> None:
    db = tmp_path / "crash.duckdb"
    killed = 0
    partial_sizes = []
    # Kill the same growing store several times, at moments spread over the run
    # (opening, early batches, mid-run, near the end), each time resuming the job.
    for delay in (0.0, 0.2, 1.0, 1.6, 2.2, 3.0):
        status = _kill_after(db, delay)
        killed += status == -signal.SIGKILL
        # The file opens after every kill and holds only whole, correct articles.
        state = _state(db)
        partial_sizes.append(len(state))
        for id, value in state.items():
            assert clean[id] == value, f"{id} stored differently after a kill"
    assert killed >= 3, f"too few runs were killed mid-way ({killed}); sizes {partial_sizes}"
    # Running the same command again completes the job.
    proc = subprocess.run(_command(db), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert _state(db) == clean
    # And once more: a no-op.
    proc = subprocess.run(_command(db), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert '"added": 0' in proc.stdout
    assert _state(db) == clean


def test_kill_during_first_open_leaves_a_usable_file(
    tmp_path: Path, clean: dict[str, tuple[int, str]]
) -> None:
    # Killed right as the file is created (schema migrations running): the next run
    # must open it, finish the migrations and ingest everything.
    db = tmp_path / "early.duckdb"
    _kill_after(db, 0.0)
    proc = subprocess.run(_command(db), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert _state(db) == clean


def test_killed_ingest_leaves_no_worker_processes(tmp_path: Path) -> None:
    db = tmp_path / "orphans.duckdb"
    proc = subprocess.Popen(_command(db), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not db.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(1.0)  # the worker pool is up by now
    assert proc.poll() is None
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    # Workers are forked from a fork server started by the killed process; they notice
    # their parent is gone and exit (the fork server follows once they have).
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = _processes_started_by(proc.pid)
        if not left:
            break
        time.sleep(0.2)
    assert not left, f"processes left behind: {left}"


def _processes_started_by(pid: int) -> list[int]:
    """Orphaned fork servers of the ingest pool (their parent, ``pid``, is gone, so
    their parent id is 1); each keeps its workers as children while it lives."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            status = (entry / "status").read_text()
        except OSError:
            continue
        ppid = next(
            (line.split()[1] for line in status.splitlines() if line.startswith("PPid:")), ""
        )
        if "forkserver" in cmdline and POOL_PRELOAD in cmdline and ppid == "1":
            found.append(int(entry.name))
    return found


# -- a whole run (ingest, detection, provenance, stories) killed and resumed ------------


def _run_command(db: Path, inputs: list[Path]) -> list[str]:
    # small detection steps: several transactions, so kills land between and inside them
    return [sys.executable, "-m", "wiretrace", "run", *map(str, inputs), "--db", str(db),
            "--set", "detect.index_batch=400", "--json"]  # fmt: skip


def _pairs_lines(db: Path) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "wiretrace", "pairs", "--db", str(db), "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return sorted(out.stdout.splitlines())


def test_killed_run_resumes_to_the_clean_pairs(tmp_path: Path) -> None:
    """``wiretrace run`` over the BBC set plus planted reuse and a flood of 150 reprints,
    SIGKILLed at moments spread over its detection steps: after every kill the store
    opens with whole articles only, and the same command run again ends with exactly the
    pairs (passages, edits, origin, credit) of a run never interrupted."""
    from reuse_corpus import flood, planted, write_jsonl

    table = write_jsonl(tmp_path / "in" / "planted.jsonl", planted() + flood(150))
    inputs = [BBC, table]
    clean_db = tmp_path / "clean.duckdb"
    t0 = time.monotonic()
    proc = subprocess.run(_run_command(clean_db, inputs), capture_output=True, text=True,
                          timeout=900, check=False)  # fmt: skip
    took = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    clean_pairs = _pairs_lines(clean_db)
    assert len(clean_pairs) > 150  # the flood's reprints at least
    clean_articles = _state(clean_db)

    db = tmp_path / "crash.duckdb"
    killed = 0
    for share in (0.3, 0.5, 0.7, 0.9):
        p = subprocess.Popen(_run_command(db, inputs), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            p.wait(timeout=took * share)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(timeout=60)
            killed += 1
        state = _state(db)  # opens; whole, correct articles only
        assert all(clean_articles[i] == v for i, v in state.items())
    assert killed >= 2, "too few runs were killed mid-way"
    proc = subprocess.run(_run_command(db, inputs), capture_output=True, text=True,
                          timeout=900, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert _state(db) == clean_articles
    assert _pairs_lines(db) == clean_pairs

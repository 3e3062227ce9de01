"""DuckDB's memory while the index is updated (``detect.memory_limit``): a limit that
follows the machine by default, and a clear one-line error, with what to do, when DuckDB
runs out of it; the store keeps what was committed and the next run completes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from wiretrace import open_collection
from wiretrace.engines.incremental import AUTO_MEMORY_SHARE, _memory, auto_memory_mb
from wiretrace.settings import Settings, load_settings
from wiretrace.store import error_line

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "examples" / "seeds"


def _total_mb() -> int:
    with open("/proc/meminfo", encoding="ascii") as fh:
        kb = next(int(line.split()[1]) for line in fh if line.startswith("MemTotal:"))
    return kb // 1024


def test_auto_limit_follows_the_machine(tmp_path: Path) -> None:
    assert Settings().detect.memory_limit == "auto"
    expected = _total_mb() * AUTO_MEMORY_SHARE
    assert abs(auto_memory_mb() - expected) <= 0.01 * expected
    assert _memory("auto") == f"{auto_memory_mb()}MiB"
    assert _memory(" 6 GB ") == "6GB"
    with open_collection(tmp_path / "w.duckdb") as coll:
        coll.ingest([str(SEEDS)])
        coll.update()
        limit = coll.store.connection.execute(
            "SELECT current_setting('memory_limit')"
        ).fetchone()
        temp = coll.store.connection.execute(
            "SELECT current_setting('temp_directory')"
        ).fetchone()
    assert limit is not None and temp is not None
    value, unit = str(limit[0]).split()
    mb = float(value) * {"MiB": 1, "GiB": 1024}[unit]
    assert abs(mb - auto_memory_mb()) <= 0.02 * auto_memory_mb()
    assert str(temp[0]).endswith("w.duckdb.tmp")


def test_original_error_is_kept_in_the_message() -> None:
    exc = duckdb.Error(
        "FATAL Error: Failed to rollback transaction. Cannot continue operation.\n"
        "Original Error: Out of Memory Error: could not allocate block of size 256 KiB"
    )
    line = error_line(exc)
    assert line.startswith("FATAL Error: Failed to rollback transaction.")
    assert "(Original Error: Out of Memory Error: could not allocate" in line
    assert line.endswith("raise detect.memory_limit (or set it to 'auto') and run again")
    assert error_line(duckdb.Error("Catalog Error: no table x\nLINE 1: ...")) == (
        "Catalog Error: no table x"
    )


def test_out_of_memory_is_one_line_and_the_next_run_completes(tmp_path: Path) -> None:
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    db = tmp_path / "w.duckdb"

    def run(limit: str | None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "WIRETRACE_DETECT_MEMORY_LIMIT"}
        if limit is not None:
            env["WIRETRACE_DETECT_MEMORY_LIMIT"] = limit
        return subprocess.run(
            [sys.executable, "-m", "wiretrace", "run", str(folder), "--db", str(db)],
            check=False, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path,
        )

    with open_collection(db) as coll:  # the articles stored, nothing detected yet
        coll.ingest([str(folder)])
    starved = run("1MB")
    assert starved.returncode == 1
    lines = starved.stderr.strip().splitlines()
    assert len(lines) == 1, starved.stderr
    assert lines[0].startswith("error: ")
    assert "Out of Memory Error" in lines[0]
    assert lines[0].endswith("raise detect.memory_limit (or set it to 'auto') and run again")
    done = run(None)
    assert done.returncode == 0, done.stderr
    with open_collection(db, load_settings({}), read_only=True) as coll:
        pairs = list(coll.pairs())
    assert {frozenset((p.source, p.target)) for p in pairs} >= {
        frozenset(("000_a7cae44381716f60", "003_aa80bf1ba9256955"))
    }


def test_new_runtime_defaults_do_not_make_stored_indexes_stale(tmp_path: Path) -> None:
    """The index state an existing store recorded (runtime-only settings at their
    frozen values, memory_limit '4GB') still matches: a new default for such a setting
    must not rebuild every index; a setting that shapes the index still does."""
    from wiretrace.engines.incremental import index_state

    state = index_state(Settings())
    assert "memory_limit='4GB'" in state and "index_batch=50000" in state
    runtime = load_settings({"detect.memory_limit": "12GB", "detect.workers": 1,
                             "detect.index_batch": 10})
    assert index_state(runtime) == state
    assert index_state(load_settings({"detect.max_df": 500})) != state
    db = tmp_path / "w.duckdb"
    with open_collection(db) as coll:
        coll.ingest([str(SEEDS)])
        coll.update()
        assert coll.store.meta("index_state") == state
    with open_collection(db, runtime) as coll:
        again = coll.update()
    assert again.new == 0 and again.aligned == 0  # nothing rebuilt

"""The Spark engine under bad input and faults, on real local Spark.

``local[2,3]`` retries a failed task up to three times (plain ``local[2]`` does not), so
a Python worker killed mid-stage (SIGKILL, by the engine's fault hook
``spark_tasks.FAULT_PROPERTY``) is either recovered by the retry or, when every attempt
dies, fails the job with one clear line; finished stages keep their checkpoints, the
failed one leaves none, and the next run resumes from there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from spark_support import local_spark

pytest.importorskip("pyspark")

from wiretrace.collection import open_collection
from wiretrace.engines import RunRequest, get_engine
from wiretrace.engines.base import Checkpoints
from wiretrace.engines.spark_tasks import FAULT_PROPERTY
from wiretrace.errors import EngineError
from wiretrace.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "examples" / "seeds"

pytestmark = [
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.timeout(1200),
]


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    yield from local_spark("local[2,3]", "wiretrace-fault-tests", "OFF")


def _fault(spark: object, value: str | None) -> None:
    spark.sparkContext.setLocalProperty(FAULT_PROPERTY, value)  # type: ignore[attr-defined]


def test_killed_worker_fails_cleanly_then_retry_recovers(spark: object, tmp_path: Path) -> None:
    out, db = tmp_path / "ck", tmp_path / "spark.duckdb"
    engine = get_engine("spark", spark=spark)
    request = RunRequest((str(SEEDS),), Settings(), db=db, out=out)
    ck = Checkpoints(out)

    # every attempt of the align stage's first task dies: the job fails, in one line
    _fault(spark, "align:always")
    try:
        with pytest.raises(EngineError) as failed:
            engine.run(request)
    finally:
        _fault(spark, None)
    message = str(failed.value)
    assert message.startswith("spark stage 'align' failed: ")
    assert "\n" not in message and len(message) < 600
    assert [s for s in ("ingest", "normalize", "fingerprint", "candidates") if ck.done(s)] == [
        "ingest", "normalize", "fingerprint", "candidates"
    ]
    assert not ck.done("align") and not ck.done("attribute")
    assert not (out / "attribute").exists()

    # the next run resumes; its align task is killed once more, and the retry recovers
    marker = tmp_path / "killed"
    _fault(spark, f"align:{marker}")
    try:
        result = engine.run(request)
    finally:
        _fault(spark, None)
    assert marker.exists()  # the worker really was killed
    assert result.stages == {
        "ingest": "skipped", "normalize": "skipped", "fingerprint": "skipped",
        "candidates": "skipped", "align": "ran", "attribute": "ran",
    }
    assert ck.done("attribute")
    with open_collection(db, Settings(), read_only=True) as coll:
        pairs = list(coll.pairs())
    local_db = tmp_path / "local.duckdb"
    with open_collection(local_db, Settings()) as coll:
        coll.run([str(SEEDS)])
        expected = list(coll.pairs())
    assert pairs == expected
    assert [(p.source, p.target, len(p.passages)) for p in pairs] == [
        ("000_a7cae44381716f60", "003_aa80bf1ba9256955", 3)
    ]


def test_malformed_records_and_files_are_named(spark: object, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(
        json.dumps({"id": "g1", "text": "A story about the harbour strike in Lagos today."})
        + "\n{not json at all\n"
        + json.dumps({"id": "g2", "text": ""}) + "\n"
        + json.dumps({"id": "g1", "text": "The same id again, with other words in it."}) + "\n",
        encoding="utf-8",
    )
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 this is not a parquet file")
    out = tmp_path / "ck"
    request = RunRequest(
        (str(SEEDS), f"file://{good}", str(broken), str(tmp_path / "missing.txt")),
        Settings(), out=out, stop_after="ingest",
    )
    result = get_engine("spark", spark=spark).run(request)
    errors = {(e.input, e.reason) for e in result.ingest.errors}
    warnings = {(w.input, w.reason) for w in result.ingest.warnings}
    assert result.ingest.failed
    assert (f"file://{good}:line 2", "malformed record: {not json at all") in errors
    assert any(i == str(broken) and r.startswith("not a readable Parquet file") for i, r in errors)
    assert (str(tmp_path / "missing.txt"), "no such file or directory") in errors
    assert (f"file://{good}:line 3", "no text in column 'text'; skipped") in warnings
    assert (
        f"file://{good}:line 4", f"id 'g1' already read from file://{good}:line 1; skipped"
    ) in warnings
    assert result.ingest.articles_added == 3  # the two seeds and g1 (its first reading)
    assert result.ingest.skipped == 1
    assert result.stages == {"ingest": "ran"}
    assert Checkpoints(out).done("ingest")


def test_damaged_parquet_partition_fails_with_one_line(spark: object, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "table"
    folder.mkdir()
    pq.write_table(pa.table({"id": ["x"], "text": ["One clean row of text."]}),
                   folder / "part-0.parquet")
    (folder / "part-1.parquet").write_bytes(b"PAR1" + b"\0" * 64 + b"PAR1")
    out = tmp_path / "ck"
    request = RunRequest((f"file://{folder}",), Settings(), out=out, stop_after="ingest")
    with pytest.raises(EngineError) as failed:
        get_engine("spark", spark=spark).run(request)
    message = str(failed.value)
    assert message.startswith("spark stage 'ingest' failed: ")
    assert "\n" not in message
    assert "part-1.parquet" in message
    assert not Checkpoints(out).done("ingest")


def test_a_session_wiretrace_starts_has_the_driver_heap_of_its_settings(tmp_path: Path) -> None:
    """Spark's default driver heap (1 GB) ran out in the alignment of 100,000 articles on
    ``local[2]``, where the tasks run in the driver: a session wiretrace starts takes
    ``spark.driver_memory`` (read when its JVM starts, so in a process of its own here)."""
    import subprocess
    import sys

    script = (
        "from wiretrace.engines.spark import spark_session\n"
        "from wiretrace.settings import load_settings\n"
        "s = spark_session('local[1]', load_settings({'spark.driver_memory': '1536m'}))\n"
        "print(s.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory() >> 20)\n"
        "s.stop()\n"
    )
    script_path = tmp_path / "heap.py"
    script_path.write_text(script)
    out = subprocess.run([sys.executable, str(script_path)], capture_output=True, text=True,
                         timeout=300, check=True)
    heap_mb = int(out.stdout.split()[-1])
    assert 1_300 <= heap_mb <= 1_536  # the JVM reports the heap less a survivor space
    assert Settings().spark.driver_memory == "4g"

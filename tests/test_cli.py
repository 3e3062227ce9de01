"""The CLI contract (DESIGN.md section 3): run, ingest, articles, pairs, remove,
settings; one-line errors and exit codes; deterministic output."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from wiretrace.cli import main

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "examples" / "seeds"
A = "000_a7cae44381716f60"
B = "003_aa80bf1ba9256955"


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "seeds"
    folder.mkdir()
    for name in (A, B):
        shutil.copyfile(SEEDS / f"{name}.txt", folder / f"{name}.txt")
    return folder


def _json_lines(result: Result) -> list[dict[str, object]]:
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_ingest_then_articles_json(seeds: Path) -> None:
    result = cli("ingest", str(seeds))
    assert result.exit_code == 0, result.stderr
    assert "2 articles ingested, 0 failed -> wiretrace.duckdb" in result.stdout
    assert Path("wiretrace.duckdb").is_file()
    rows = _json_lines(cli("articles", "--json"))
    assert [r["id"] for r in rows] == [A, B]
    a = rows[0]
    for key in (
        "id",
        "title",
        "outlet",
        "url",
        "published",
        "byline",
        "credits",
        "language",
        "boilerplate",
        "words",
    ):
        assert key in a
    assert a["title"] == "Russian Air Force Lands Troops in Venezuela"
    assert a["published"] == "2019-03-24T20:22:00"
    assert a["credits"] == ["Reuters"]
    text = (seeds / f"{A}.txt").read_text()
    boilerplate = a["boilerplate"]
    assert isinstance(boilerplate, list) and boilerplate
    # Offsets are character offsets into the file: the spans name real lines.
    assert any("Inverse Times" in text[s:e] for s, e in boilerplate)
    assert isinstance(a["words"], int) and 400 < a["words"] < 440
    assert rows[1]["published"] is None


def test_run_summary_and_json(seeds: Path) -> None:
    result = cli("run", str(seeds))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("2 articles ingested, 0 failed -> wiretrace.duckdb")
    again = cli("run", str(seeds), "--json")
    payload = json.loads(again.stdout)
    assert payload["articles"] == 2 and payload["added"] == 0 and payload["unchanged"] == 2
    assert payload["errors"] == [] and payload["db"] == "wiretrace.duckdb"
    assert isinstance(payload["pairs"], int)


def test_failed_inputs_exit_1_with_one_line_each(seeds: Path) -> None:
    (seeds / "blob.txt").write_bytes(bytes(range(256)) * 16)
    (seeds / "empty.txt").write_text("A title alone\n")
    result = cli("ingest", str(seeds), "missing-folder", "--db", "x.duckdb")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert "error: missing-folder: no such file or directory" in lines
    assert any(line.startswith("error: ") and "blob.txt" in line for line in lines)
    assert any(line.endswith("empty.txt: empty article skipped") for line in lines)
    assert "Traceback" not in result.stderr
    assert "2 articles ingested, 2 failed" in result.stdout
    # The good articles were stored despite the failures.
    assert [r["id"] for r in _json_lines(cli("articles", "--json", "--db", "x.duckdb"))] == [A, B]


def test_warnings_alone_do_not_fail(seeds: Path) -> None:
    (seeds / "empty.txt").write_text("A title alone\n")
    result = cli("ingest", str(seeds), "--json")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["warnings"][0]["reason"] == "empty article skipped"
    assert payload["skipped"] == 1


def test_changed_file_is_reported_as_a_new_version(seeds: Path) -> None:
    cli("ingest", str(seeds))
    path = seeds / f"{B}.txt"
    path.write_text(path.read_text().replace("Latest News", "Latest News "))
    result = cli("ingest", str(seeds))
    assert result.exit_code == 0
    assert f"updated: {B} (version 2)" in result.stdout


def test_remove(seeds: Path) -> None:
    cli("ingest", str(seeds))
    result = cli("remove", A)
    assert result.exit_code == 0 and f"removed {A}" in result.stdout
    assert [r["id"] for r in _json_lines(cli("articles", "--json"))] == [B]
    missing = cli("remove", A)
    assert missing.exit_code == 1
    assert missing.stderr.strip() == f"error: {A}: no such article"


def test_pairs_json_on_a_store_without_pairs(seeds: Path) -> None:
    cli("ingest", str(seeds / f"{A}.txt"))  # one article: nothing to pair (ingest analyses)
    assert _json_lines(cli("pairs", "--json")) == []


def test_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("articles", "--json")
    assert result.exit_code == 1
    assert (
        result.stderr.strip() == "error: wiretrace.duckdb: no store here (run `wiretrace "
        "ingest` first)"
    )
    bad = cli("ingest", ".", "--set", "detect.min_similarity=high")
    assert bad.exit_code == 1
    assert bad.stderr.strip().startswith("error: detect.min_similarity")
    unknown = cli("ingest", ".", "--set", "detect.nothing=1")
    assert unknown.exit_code == 1 and "unknown setting 'detect.nothing'" in unknown.stderr
    Path("notes.duckdb").write_text("not a database\n" * 100)
    broken = cli("articles", "--db", "notes.duckdb")
    assert broken.exit_code == 1 and broken.stderr.startswith("error: notes.duckdb: ")
    assert len(broken.stderr.strip().splitlines()) == 1


def test_output_is_deterministic(seeds: Path) -> None:
    cli("ingest", str(seeds), "--db", "one.duckdb")
    # Another store filled from the files in the other order gives the same listing.
    cli("ingest", str(seeds / f"{B}.txt"), str(seeds / f"{A}.txt"), "--db", "two.duckdb")
    one = cli("articles", "--json", "--db", "one.duckdb").stdout
    two = cli("articles", "--json", "--db", "two.duckdb").stdout
    assert one == two and one.count("\n") == 2


def test_locked_store_from_the_command_line(seeds: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from wiretrace.store import Store; s = Store.open('held.duckdb'); "
            "print('ready', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = cli("ingest", str(seeds), "--db", "held.duckdb")
        assert result.exit_code == 1
        assert result.stderr.strip() == (
            "error: held.duckdb: store is being written by another process"
        )
    finally:
        holder.communicate("", timeout=30)


def test_real_command_has_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wiretrace", "ingest", "no/such/path"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["error: no/such/path: no such file or directory"]


# -- the Python API and progress ---------------------------------------------------------


def test_collection_run_detects_the_seed_pair_once(seeds: Path) -> None:
    from wiretrace import open_collection

    with open_collection("api.duckdb") as coll:
        first = coll.run([seeds])
        assert not first.failed and first.ingest.articles_added == 2
        if not first.detected:
            pytest.skip("no detection engine installed")
        assert [(p.source, p.target) for p in first.pairs] == [(A, B)]
        assert coll.pairs_current
        second = coll.run([seeds])  # nothing changed: the stored pairs are reused
        assert second.pairs == first.pairs
        assert [p.target for p in coll.pairs()] == [B]
        coll.remove(A)
        assert list(coll.pairs()) == [] and not coll.pairs_current
        assert [a.id for a in coll.articles()] == [B]


def test_progress_draws_on_a_terminal_and_stays_quiet_when_piped() -> None:
    import io

    from wiretrace.progress import NullProgress, make_progress

    assert isinstance(make_progress(io.StringIO()), NullProgress)  # not a terminal
    out = io.StringIO()
    bars = make_progress(out, enabled=True)
    bars.begin("ingest", total=3, total_bytes=3_000_000)
    for _ in range(3):
        bars.advance(1, nbytes=1_000_000, articles=2)
    bars.end()
    drawn = out.getvalue()
    assert "ingest" in drawn and "6 articles" in drawn and "3/3" in drawn


def test_run_keeps_only_the_most_reused_pairs_when_asked(tmp_path: Path) -> None:
    """`Collection.run(top=N)` (what the CLI asks for) holds the N pairs that reuse most
    of their target, in that order, and counts them all; the store keeps every pair."""
    from wiretrace import open_collection

    demo = Path(__file__).resolve().parents[1] / "examples" / "demo"
    with open_collection(tmp_path / "demo.duckdb") as coll:
        result = coll.run([demo], top=1)
        every = sorted(coll.pairs(), key=lambda p: (-p.target_coverage, p.target, p.source))
        assert result.pair_count == len(every) == 2
        assert result.pairs == every[:1]
        assert coll.store.top_pairs(5) == every
        again = coll.run([demo])  # unchanged: every stored pair, none recomputed
        assert sorted(again.pairs, key=lambda p: (p.source, p.target)) == sorted(
            every, key=lambda p: (p.source, p.target)
        )

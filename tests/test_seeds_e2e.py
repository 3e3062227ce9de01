"""DESIGN.md section 1, end to end through the real CLI on the two seed articles."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "examples" / "seeds"
A = "000_a7cae44381716f60"
B = "003_aa80bf1ba9256955"


def wiretrace(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wiretrace", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def seeds_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("seeds")
    folder = work / "seeds"
    folder.mkdir()
    for name in (f"{A}.txt", f"{B}.txt"):
        shutil.copyfile(SEEDS / name, folder / name)
    proc = wiretrace("run", str(folder), cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert (work / "wiretrace.duckdb").is_file(), "the default store is wiretrace.duckdb in the cwd"
    return work


def _lines(proc: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def test_articles_metadata(seeds_run: Path) -> None:
    rows = {r["id"]: r for r in _lines(wiretrace("articles", "--json", cwd=seeds_run))}
    assert set(rows) == {A, B}
    a, b = rows[A], rows[B]
    assert a["title"] == "Russian Air Force Lands Troops in Venezuela"
    assert a["outlet"] == "Inverse Times Open Publishing"
    assert a["url"] == "http://inversetimes.lingama.net/news/story-539.html"
    assert datetime.fromisoformat(str(a["published"])).replace(tzinfo=None) == datetime(
        2019, 3, 24, 20, 22
    )
    assert a["credits"] == ["Reuters"]
    assert b["title"] == "Russia Lands Two Air Force Planes In Venezuela, Official Says"
    assert b["published"] is None
    assert b["credits"] == []
    text_b = (SEEDS / f"{B}.txt").read_text(encoding="utf-8")
    excluded = " ".join(text_b[s:e] for s, e in b["boilerplate"])  # type: ignore[attr-defined]
    for boiler in ("Activists walk past", "Russia Will Continue to Expand", "Latest News"):
        assert boiler in excluded
    assert "Maduro has denounced" not in excluded
    assert b["words"] == 307


def test_exactly_three_passages(seeds_run: Path) -> None:
    pairs = _lines(wiretrace("pairs", "--json", cwd=seeds_run))
    assert len(pairs) == 1
    pair = pairs[0]
    assert (pair["source"], pair["target"]) == (A, B)
    spans = [
        (p["source_start"], p["source_end"], p["target_start"], p["target_end"])
        for p in pair["passages"]  # type: ignore[attr-defined]
    ]
    assert spans == [(577, 808, 1073, 1304), (2223, 2335, 1486, 1609), (2724, 2987, 1904, 2167)]
    text_a = (SEEDS / f"{A}.txt").read_text(encoding="utf-8")
    text_b = (SEEDS / f"{B}.txt").read_text(encoding="utf-8")
    for p in pair["passages"]:  # type: ignore[attr-defined]
        assert p["source_text"] == text_a[p["source_start"] : p["source_end"]]
        assert p["target_text"] == text_b[p["target_start"] : p["target_end"]]
    p1, p2, p3 = pair["passages"]  # type: ignore[misc]
    assert p1["edits"] == [] and p3["edits"] == []
    swaps = {(e["source_text"], e["target_text"], e["kind"], e["op"]) for e in p2["edits"]}
    assert swaps == {
        ("U.S.", "USA", "alias", "replace"),
        ("Russia", "Russian Federation", "alias", "replace"),
    }
    for e in p2["edits"]:
        assert text_a[e["source_start"] : e["source_end"]] == e["source_text"]
        assert text_b[e["target_start"] : e["target_end"]] == e["target_text"]
    assert round(float(pair["target_coverage"]), 2) == round(91 / 307, 2)


def test_origin_and_credit(seeds_run: Path) -> None:
    pair = _lines(wiretrace("pairs", "--json", cwd=seeds_run))[0]
    assert pair["credit"] == "uncredited"
    assert pair["credited"] is False
    assert float(pair["origin_confidence"]) >= 0.8  # type: ignore[arg-type]
    evidence = " ".join(pair["evidence"]).lower()  # type: ignore[arg-type]
    assert "reuters" in evidence
    assert "alias" in evidence or "variant" in evidence

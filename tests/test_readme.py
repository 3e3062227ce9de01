"""The README's promises: its two opening commands, the demo run they start, and the
seeds section regenerated from a real run."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _fenced_blocks(text: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(r"```[a-z]*\n(.*?)```", text, re.S)]


def test_readme_opens_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    head = text.split("\n## ", 1)[0]
    blocks = _fenced_blocks(head)
    assert len(blocks) == 2, blocks
    install_and_run, install_and_test = blocks
    assert install_and_run.startswith("pip install")
    assert "wiretrace run examples/demo" in install_and_run
    assert install_and_test == "scripts/test"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test" in ci


def _wiretrace(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wiretrace", *args],
        cwd=cwd, capture_output=True, text=True, check=False, timeout=300,
    )


def test_demo_run_as_the_readme_says(tmp_path: Path) -> None:
    """`wiretrace run examples/demo` from a copy of the project's examples, into the
    default store in the current folder: the reprint is credited, the patchwork is not
    and shows its alias swaps, the unrelated story pairs with nothing."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    done = _wiretrace("run", "examples/demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert (tmp_path / "wiretrace.duckdb").is_file()
    lines = _wiretrace("pairs", "--json", cwd=tmp_path).stdout.splitlines()
    pairs = {(p["source"], p["target"]): p for p in map(json.loads, lines)}
    assert set(pairs) == {
        ("agency_shetland_grounding", "reprint_coastal_herald"),
        ("agency_shetland_grounding", "patchwork_daily_pulse"),
    }
    assert pairs["agency_shetland_grounding", "reprint_coastal_herald"]["credit"] == "credited"
    patchwork = pairs["agency_shetland_grounding", "patchwork_daily_pulse"]
    assert patchwork["credit"] == "uncredited"
    kinds = {e["kind"] for p in patchwork["passages"] for e in p["edits"]}
    assert "alias" in kinds
    # Running it again changes nothing and still succeeds.
    again = _wiretrace("run", "examples/demo", "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["unchanged"] == 4 and summary["added"] == 0 and summary["pairs"] == 2


def test_seeds_section_is_current() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme_seeds.py"), "--check"],
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_python_example_runs_as_written(tmp_path: Path) -> None:
    """The README's Python example, saved as a script beside a copy of the demo
    collection (as ``articles/``), runs and prints the demo's two reusing pairs."""
    block = next(
        b for b in re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
        if "open_collection" in b
    )
    shutil.copytree(ROOT / "examples" / "demo", tmp_path / "articles")
    (tmp_path / "example.py").write_text(block, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True,
        check=False, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    printed = sorted(tuple(line.split()[:2]) for line in done.stdout.splitlines())
    assert printed == [
        ("agency_shetland_grounding", "patchwork_daily_pulse"),
        ("agency_shetland_grounding", "reprint_coastal_herald"),
    ]

"""Regenerate the seeds section of README.md from a real run (never typed by hand).

    python scripts/readme_seeds.py            # rewrite README.md between the seeds markers
    python scripts/readme_seeds.py --check    # exit 1 when README.md is out of date

The block shows what `wiretrace run ../shared/examples/seeds` prints, run in a temporary
folder with a fresh store, so the README always matches the code.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "examples" / "seeds"
START, END = "<!-- seeds:start -->", "<!-- seeds:end -->"


def render() -> str:
    """The seeds block: the command and what it prints, in a fenced block."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "seeds.duckdb"
        done = subprocess.run(
            [sys.executable, "-m", "wiretrace", "run", str(SEEDS), "--db", str(db)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "COLUMNS": "100", "NO_COLOR": "1"},
        )
    if done.returncode != 0:
        raise SystemExit(f"wiretrace run failed on the seeds: {done.stderr.strip()}")
    out = done.stdout.replace(str(db), "seeds.duckdb").rstrip()
    command = "$ wiretrace run ../shared/examples/seeds --db seeds.duckdb"
    return f"{START}\n```text\n{command}\n{out}\n```\n{END}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether it is current")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args()
    text = args.readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{args.readme}: no {START} ... {END} markers")
    updated = pattern.sub(lambda _: render(), text)
    if args.check:
        if updated != text:
            print(f"{args.readme}: the seeds section is out of date; run {Path(__file__).name}")
            return 1
        return 0
    args.readme.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

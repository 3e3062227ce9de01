"""``check``: one article against the stored collection, without storing it, from the
stored index (Collection.check and ``wiretrace check FILE|- --json``)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from reuse_corpus import bbc, flood, record, write_jsonl
from wiretrace import open_collection
from wiretrace.cli import main
from wiretrace.ingest.decode import decode_bytes
from wiretrace.ingest.textfile import parse_text
from wiretrace.models import Article
from wiretrace.settings import Settings

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "examples" / "seeds"
A = "000_a7cae44381716f60"
B = "003_aa80bf1ba9256955"
SETTINGS = dataclasses.replace(
    Settings(), detect=dataclasses.replace(Settings().detect, workers=1)
)


def _read(path: Path, id: str | None = None) -> Article:
    text, _ = decode_bytes(path.read_bytes(), path.name)
    return parse_text(text, id or path.stem, str(path), "text", SETTINGS.ingest)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Reuters seed, a flooded story and a few unrelated BBC stories, detected."""
    tmp = tmp_path_factory.mktemp("check")
    db = tmp / "check.duckdb"
    others = [record(f"bbc/{n}", *bbc(f"tech/{n:03d}.txt"), "Tech", 3) for n in range(30, 40)]
    with open_collection(db, SETTINGS) as coll:
        coll.ingest([SEEDS / f"{A}.txt", write_jsonl(tmp / "more.jsonl", [*flood(20), *others])])
        coll.detect()
    return db


def test_check_finds_the_three_seed_passages_without_storing(store: Path) -> None:
    with open_collection(store, SETTINGS) as coll:
        before = (coll.store.count_articles(), coll.store.count_pairs())
        pairs = coll.check(_read(SEEDS / f"{B}.txt"))
        after = (coll.store.count_articles(), coll.store.count_pairs())
    assert before == after
    assert [(p.source, p.target) for p in pairs] == [(A, B)]
    spans = [(p.source_start, p.source_end, p.target_start, p.target_end)
             for p in pairs[0].passages]
    assert spans == [(577, 808, 1073, 1304), (2223, 2335, 1486, 1609), (2724, 2987, 1904, 2167)]
    assert pairs[0].credit == "uncredited"
    assert round(pairs[0].target_coverage, 2) == 0.30


def test_an_unrelated_article_has_no_pairs(store: Path) -> None:
    title, paras = bbc("sport/150.txt")
    article = parse_text(title + "\n\n" + "\n\n".join(paras), "x", None, "text", SETTINGS.ingest)
    with open_collection(store, SETTINGS, read_only=True) as coll:
        assert coll.check(article) == []


def test_a_new_reprint_of_a_flooded_story_pairs_with_its_origin_once(store: Path) -> None:
    reprint = flood(25)[-1]  # a copy the store has not seen
    article = parse_text(reprint["title"] + "\n\n" + reprint["text"], "new-copy", None, "text",
                         SETTINGS.ingest)
    with open_collection(store, SETTINGS, read_only=True) as coll:
        pairs = coll.check(article)
    assert [(p.source, p.target) for p in pairs] == [("flood/origin", "new-copy")]
    assert pairs[0].target_coverage > 0.9


def test_a_stored_article_checked_again_is_not_paired_with_itself(store: Path) -> None:
    with open_collection(store, SETTINGS, read_only=True) as coll:
        pairs = coll.check(_read(SEEDS / f"{A}.txt"))
    assert pairs == []  # nothing stored reuses the Reuters story (003 is not stored)


def test_the_cli_reads_standard_input_and_prints_pairs_lines(store: Path) -> None:
    result = CliRunner().invoke(
        main, ["check", "-", "--db", str(store), "--json"],
        input=(SEEDS / f"{B}.txt").read_bytes(), catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [(x["source"], x["target"]) for x in lines] == [(A, "-")]
    assert set(lines[0]) >= {
        "source", "target", "origin_confidence", "evidence", "credited", "credit",
        "credited_to", "source_coverage", "target_coverage", "passages",
    }
    assert len(lines[0]["passages"]) == 3


def test_the_cli_names_a_missing_file_in_one_line(store: Path) -> None:
    result = CliRunner().invoke(main, ["check", "no/such.txt", "--db", str(store)])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: no/such.txt: no such file or directory"


def test_the_cli_checks_any_input_kind_ingest_reads(store: Path, tmp_path: Path) -> None:
    """An HTML page (read by trafilatura, as ingest reads it) and a JSONL table of two
    records: each article of the input is checked, nothing is stored."""
    from html import escape

    seed = (SEEDS / f"{B}.txt").read_text(encoding="utf-8")
    title, _, body = seed.partition("\n")
    paras = "".join(f"<p>{escape(p)}</p>" for p in body.split("\n") if p.strip())
    page = tmp_path / "copy.html"
    page.write_text(
        f"<html><head><title>{escape(title)}</title><script>var x = 1;</script></head>"
        f"<body><nav>Home | World | Latest News</nav><article><h1>{escape(title)}</h1>"
        f"{paras}</article></body></html>",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["check", str(page), "--db", str(store), "--json"],
                                catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [(x["source"], x["target"]) for x in lines] == [(A, "copy")]
    assert len(lines[0]["passages"]) >= 2
    table = write_jsonl(tmp_path / "two.jsonl", [
        {"id": "mine", "title": title, "text": body},
        record("other", *bbc("sport/001.txt"), "Sport", 4),
    ])  # fmt: skip
    result = CliRunner().invoke(main, ["check", str(table), "--db", str(store)],
                                catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert f"mine reuses {A}" in result.stdout
    assert "other: no reuse found" in result.stdout
    with open_collection(store, read_only=True) as coll:
        assert {"copy", "mine", "other"}.isdisjoint(a.id for a in coll.articles())

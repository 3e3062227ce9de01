"""A site notice appended to every article is shared boilerplate, not reuse, through
the path users take (``wiretrace run``, ``ingest``, ``check``: the incremental engine):
unrelated articles sharing only the notice form no pair and no common story, real reuse
among them is still found without the notice in its passages, and a collection that
grows until the notice becomes boilerplate ends with the pairs a from-scratch run gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reuse_corpus import bbc, record, write_jsonl
from wiretrace import open_collection
from wiretrace.cli import main

NOTICE = (
    "This article is published under licence. Subscribe to our newsletter for the best "
    "of our journalism delivered to your inbox every morning, and follow us on social "
    "media for breaking news."
)
# unrelated BBC stories of four sections
STORIES = ("business/001", "tech/010", "sport/020", "entertainment/040", "business/050",
           "tech/060", "sport/070", "entertainment/090")


def cli(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def _lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def _with_notice(rel: str, day: int) -> dict[str, Any]:
    title, paras = bbc(f"{rel}.txt")
    return record(f"site/{rel}", title, [*paras, NOTICE], "Site", day)


def _copy_of(rel: str, day: int) -> dict[str, Any]:
    """A later article of the same site taking two paragraphs of ``rel``."""
    _, own = bbc("tech/120.txt")
    _, taken = bbc(f"{rel}.txt")
    return record("site/copy", "Dozens held", [own[0], taken[1], taken[2], own[1], NOTICE],
                  "Site", day)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_unrelated_articles_sharing_a_notice_make_no_pairs(here: Path) -> None:
    folder = here / "in"
    folder.mkdir()
    for k, rel in enumerate(STORIES[:5]):
        title, paras = bbc(f"{rel}.txt")
        (folder / f"a{k}.txt").write_text("\n\n".join([title, *paras, NOTICE]), "utf-8")
    cli("run", "in")
    assert _lines(cli("pairs", "--json")) == []
    assert len(_lines(cli("stories", "--json"))) == 5
    # checking a new article that carries the notice finds nothing either
    title, paras = bbc("sport/130.txt")
    (here / "new.txt").write_text("\n\n".join([title, *paras, NOTICE]), "utf-8")
    assert _lines(cli("check", "new.txt", "--json")) == []


def test_real_reuse_is_found_without_the_notice(here: Path) -> None:
    records = [_with_notice(rel, 1 + k) for k, rel in enumerate(STORIES[:6])]
    records.append(_copy_of(STORIES[0], 20))
    cli("run", str(write_jsonl(here / "site.jsonl", records)))
    pairs = _lines(cli("pairs", "--json"))
    assert [(p["source"], p["target"]) for p in pairs] == [("site/business/001", "site/copy")]
    texts = [p["target_text"] for p in pairs[0]["passages"]]
    assert texts and not any("newsletter" in t for t in texts)
    # the same through check: another copy, not stored
    _, own = bbc("sport/130.txt")
    _, taken = bbc(f"{STORIES[0]}.txt")
    text = "\n\n".join(["Weir poised", own[0], taken[3], taken[4], own[1], NOTICE])
    (here / "other.txt").write_text(text, "utf-8")
    checked = _lines(cli("check", "other.txt", "--json"))
    assert [p["source"] for p in checked] == ["site/business/001"]
    assert not any("newsletter" in p["target_text"] for p in checked[0]["passages"])


def _pairs_after(here: Path, name: str, steps: list[list[dict[str, Any]]]) -> list[Any]:
    db = str(here / f"{name}.duckdb")
    for k, step in enumerate(steps):
        cli("ingest", "--db", db, str(write_jsonl(here / f"{name}{k}.jsonl", step)))
    return _lines(cli("pairs", "--db", db, "--json"))


def test_a_growing_collection_masks_what_a_from_scratch_run_masks(here: Path) -> None:
    site = [_with_notice(rel, 1 + k) for k, rel in enumerate(STORIES[:6])]
    copy = _copy_of(STORIES[0], 20)
    # the notice becomes boilerplate only once five stories carry it: pairs made of it
    # before then are aligned again without it
    grown = _pairs_after(here, "grown", [site[:3], [copy], site[3:]])
    scratch = _pairs_after(here, "scratch", [[*site, copy]])
    assert grown == scratch
    assert [(p["source"], p["target"]) for p in grown] == [("site/business/001", "site/copy")]
    # removals make it a notice of too few stories again: its pairs come back
    with open_collection(here / "grown.duckdb") as coll:
        for record_ in site[3:]:
            coll.remove(record_["id"])
        coll.update()
        shrunk = [p.to_json() for p in coll.pairs()]
    assert shrunk == _pairs_after(here, "again", [[*site[:3], copy]])
    assert len(shrunk) > 1


def test_text_that_stops_being_shared_by_most_stories_is_compared_again(here: Path) -> None:
    site = [_with_notice(rel, 1 + k) for k, rel in enumerate(STORIES[:5])]
    # unrelated articles without the notice: it is no longer in most stories
    others = []
    for k, rel in enumerate(("business/100", "tech/120", "sport/130", "entertainment/140",
                             *STORIES[5:])):
        title, paras = bbc(f"{rel}.txt")
        others.append(record(f"other/{rel}", title, paras, "Other", 10 + k))
    grown = _pairs_after(here, "grown", [site, others])
    scratch = _pairs_after(here, "scratch", [[*site, *others]])
    assert grown == scratch

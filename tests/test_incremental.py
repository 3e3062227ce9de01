"""A collection that grows step by step gets the pairs a from-scratch run gets: the
stored postings and pairs are updated incrementally (only new articles are aligned),
and removed or changed articles drop what was derived from them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from reuse_corpus import planted, write_jsonl
from wiretrace import open_collection
from wiretrace.settings import Settings

# one process: the collection is small, and the tests share two cores
SETTINGS = dataclasses.replace(
    Settings(), detect=dataclasses.replace(Settings().detect, workers=1)
)


def _pairs(db: Path) -> list[dict[str, Any]]:
    with open_collection(db, SETTINGS, read_only=True) as coll:
        return [p.to_json() for p in coll.pairs()]


def _scratch(tmp: Path, name: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    db = tmp / f"{name}.duckdb"
    with open_collection(db, SETTINGS) as coll:
        coll.ingest([write_jsonl(tmp / f"{name}.jsonl", records)])
        coll.detect()
    return _pairs(db)


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return planted()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory, records: list[dict[str, Any]]) -> Any:
    return _scratch(tmp_path_factory.mktemp("scratch"), "all", records)


def test_the_planted_reuse_is_found(scratch: list[dict[str, Any]]) -> None:
    found = {(p["source"], p["target"]) for p in scratch}
    for pair in [
        ("wire/001", "reprint/001a"),
        ("wire/001", "reprint/001b"),
        ("wire/002", "partial/002"),
        ("wire/010", "spun/010"),
        ("wire/003", "patch/34"),
        ("wire/004", "patch/34"),
    ]:
        assert pair in found, pair
    # the copy of the lightly spun copy is found (near-duplicates of one story form one
    # group, a star around its earliest article, so the chain may collapse onto it)
    assert {s for s, t in found if t == "chain/010"} & {"wire/010", "spun/010"}
    # the reprints are a near-duplicate group: a star around the origin, no sibling pair
    assert ("reprint/001a", "reprint/001b") not in found


def test_ingesting_in_two_halves_gives_the_from_scratch_pairs(
    tmp_path: Path, records: list[dict[str, Any]], scratch: list[dict[str, Any]]
) -> None:
    # interleaved halves: some sources arrive after the articles that reuse them
    first, second = records[::2], records[1::2]
    db = tmp_path / "grow.duckdb"
    with open_collection(db, SETTINGS) as coll:
        coll.ingest([write_jsonl(tmp_path / "first.jsonl", first)])
        step1 = coll.update()
        coll.ingest([write_jsonl(tmp_path / "second.jsonl", second)])
        step2 = coll.update()
        again = coll.update()
    assert step1.new == len(first) and step2.new == len(second)
    assert not step2.rebuilt
    assert again.new == 0 and again.aligned == 0  # nothing new: nothing aligned
    assert _pairs(db) == scratch


def test_the_second_step_aligns_only_pairs_with_new_articles(
    tmp_path: Path, records: list[dict[str, Any]]
) -> None:
    old, new = records[:-3], records[-3:]
    db = tmp_path / "day.duckdb"
    with open_collection(db, SETTINGS) as coll:
        coll.ingest([write_jsonl(tmp_path / "old.jsonl", old)])
        coll.update()
        coll.ingest([write_jsonl(tmp_path / "new.jsonl", new)])
        step = coll.update()
        con = coll.store.connection
        new_ids = [r["id"] for r in new]
        con.register("new_ids", pa.table({"id": new_ids}))
        with_new = con.execute(
            "SELECT count(*) FROM aligned WHERE source IN (SELECT id FROM new_ids) "
            "OR target IN (SELECT id FROM new_ids)"
        ).fetchall()[0][0]
    assert step.new == 3
    assert 0 < step.aligned <= with_new


def test_removing_and_changing_articles_drops_what_was_derived(
    tmp_path: Path, records: list[dict[str, Any]]
) -> None:
    db = tmp_path / "edit.duckdb"
    changed = [dict(r) for r in records if r["id"] != "wire/002"]
    for r in changed:
        if r["id"] == "spun/010":  # rewritten: no longer a copy of anything
            r["text"] = "An entirely new text about the weather in the north of the country."
    with open_collection(db, SETTINGS) as coll:
        coll.ingest([write_jsonl(tmp_path / "v1.jsonl", records)])
        coll.detect()
        coll.remove("wire/002")
        coll.ingest([write_jsonl(tmp_path / "v2.jsonl", changed)])
        step = coll.update()
    assert step.stale >= 1
    got = _pairs(db)
    ids = {x for p in got for x in (p["source"], p["target"])}
    assert "wire/002" not in ids and "spun/010" not in ids
    assert got == _scratch(tmp_path, "v2-scratch", changed)


def test_pairs_stay_in_the_store_as_plain_tables(tmp_path: Path, records: list[Any]) -> None:
    db = tmp_path / "tables.duckdb"
    with open_collection(db, SETTINGS) as coll:
        coll.ingest([write_jsonl(tmp_path / "all.jsonl", records)])
        coll.detect()
        q = coll.store.query
        postings = q("SELECT count(*) AS n, count(DISTINCT article) AS a FROM postings")
        indexed = q("SELECT count(*) AS n FROM indexed").column("n")[0].as_py()
        raw = q("SELECT raw FROM aligned WHERE passages > 0 LIMIT 1").column("raw")[0].as_py()
    assert postings.column("a")[0].as_py() == indexed == len(records)
    assert json.loads(raw)["passages"]


def test_runtime_settings_do_not_rebuild_the_index(tmp_path: Path, records: list[Any]) -> None:
    db = tmp_path / "same.duckdb"
    with open_collection(db, SETTINGS) as coll:
        coll.ingest([write_jsonl(tmp_path / "all.jsonl", records[:6])])
        coll.update()
    faster = dataclasses.replace(
        SETTINGS, detect=dataclasses.replace(SETTINGS.detect, workers=2, index_batch=10)
    )
    with open_collection(db, faster) as coll:
        again = coll.update()
    stricter = dataclasses.replace(
        SETTINGS, detect=dataclasses.replace(SETTINGS.detect, min_passage_words=30)
    )
    with open_collection(db, stricter) as coll:
        rebuilt = coll.update()
    assert not again.rebuilt and again.new == 0
    assert rebuilt.rebuilt and rebuilt.new == 6

"""An update step attributes its pairs in batches of whole connected groups
(``detect.attribute_batch``), loading and writing one batch at a time: the stored pairs,
passages and edits are exactly those of attributing the whole step at once."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from reuse_corpus import flood, planted, write_jsonl
from wiretrace import open_collection
from wiretrace.engines.incremental import IndexUpdate, _batches, stored_boilerplate
from wiretrace.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "examples" / "seeds"

# one process (the tests share two cores); several update steps, so that later steps
# re-attribute pairs stored by earlier ones
BASE = Settings()
ONE_BATCH = dataclasses.replace(
    BASE,
    detect=dataclasses.replace(BASE.detect, workers=1, index_batch=400, attribute_batch=10**9),
    provenance=dataclasses.replace(BASE.provenance, workers=1),
)


def _batched(most: int) -> Settings:
    return dataclasses.replace(
        ONE_BATCH, detect=dataclasses.replace(ONE_BATCH.detect, attribute_batch=most)
    )


def _tables(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the stored pairs, passages and edits, in one order."""
    with open_collection(db, ONE_BATCH, read_only=True) as coll:
        con = coll.store.connection
        return {
            table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            for table in ("pairs", "passages", "edits")
        }


def _run(tmp: Path, name: str, inputs: list[str], settings: Settings) -> IndexUpdate:
    """Ingest ``inputs`` into a new store and update it; the update's totals."""
    with open_collection(tmp / f"{name}.duckdb", settings) as coll:
        coll.ingest(inputs)
        return coll.update()


def _same(tmp: Path, inputs: list[str], most: int) -> tuple[IndexUpdate, IndexUpdate]:
    """One batch against batches of at most ``most`` pairs, on the same inputs."""
    whole = _run(tmp, "whole", inputs, ONE_BATCH)
    parts = _run(tmp, "parts", inputs, _batched(most))
    expected, got = _tables(tmp / "whole.duckdb"), _tables(tmp / "parts.duckdb")
    assert expected["pairs"], "the corpus has reuse"
    for table in expected:
        assert got[table] == expected[table], table
    assert parts.finalised == whole.finalised
    return whole, parts


def test_batches_hold_whole_groups_and_a_large_group_stays_one() -> None:
    # a star of 6 pairs around "hub", a chain of 3, and 4 lone pairs
    star = [("hub", f"s{i}") for i in range(6)]
    chain = [("c0", "c1"), ("c1", "c2"), ("c2", "c3")]
    lone = [(f"l{i}", f"m{i}") for i in range(4)]
    keys = set(star + chain + lone)
    batches = _batches(keys, 4)
    assert set().union(*batches) == keys and sum(map(len, batches)) == len(keys)
    seen: dict[str, int] = {}
    for i, batch in enumerate(batches):
        for x in {a for k in batch for a in k}:
            assert seen.setdefault(x, i) == i, f"{x} in two batches"
    assert set(star) in batches  # larger than the bound: alone, never split
    assert all(len(b) <= 4 for b in batches if b != set(star))
    assert len(_batches(keys, 10**6)) == 1
    assert _batches(set(), 4) == []


# a site notice under every planted article: shared boilerplate, masked by the aligner
# that closes triangles (without it, provenance's own aligner closes them)
NOTICE = (
    "This article is published under licence. Subscribe to our newsletter for the best "
    "of our journalism delivered to your inbox every morning, and follow us on social "
    "media for breaking news."
)


@pytest.mark.parametrize("notice", [False, True], ids=["plain", "boilerplate"])
def test_seeds_and_planted_reuse_batched_equal_one_batch(tmp_path: Path, notice: bool) -> None:
    records = planted() + flood(12)
    if notice:
        records = [{**r, "text": f"{r['text']}\n\n{NOTICE}"} for r in records]
    inputs = [str(SEEDS), str(write_jsonl(tmp_path / "planted.jsonl", records))]
    whole, parts = _same(tmp_path, inputs, 1)
    assert whole.attribute_batches == 1
    assert parts.attribute_batches > 5  # one batch per connected group
    with open_collection(tmp_path / "parts.duckdb", ONE_BATCH, read_only=True) as coll:
        found = {(p.source, p.target) for p in coll.pairs()}
        boilerplate = stored_boilerplate(coll.store)
    assert ("wire/001", "reprint/001a") in found and ("wire/003", "patch/34") in found
    assert {"000_a7cae44381716f60", "003_aa80bf1ba9256955"} <= {x for k in found for x in k}
    assert bool(boilerplate) == notice


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,200 synthetic news articles with planted reuse of every kind (bench/corpus.py)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import corpus
    finally:
        sys.path.remove(str(ROOT / "bench"))
    out = tmp_path_factory.mktemp("corpus")
    corpus.write(1200, out, seed=5)
    return out / "articles.jsonl"


def test_generated_corpus_batched_equals_one_batch(tmp_path: Path, generated: Path) -> None:
    truth = [json.loads(line) for line in (generated.parent / "truth.jsonl").open()]
    assert len(truth) > 100
    whole, parts = _same(tmp_path, [str(generated)], 25)
    # three steps; the later ones re-attribute earlier pairs, in many batches
    assert whole.attribute_batches == 3
    assert parts.attribute_batches > 3 * 3


def test_staged_batches_and_swaps_are_those_of_all_pairs(
    tmp_path: Path, generated: Path
) -> None:
    """The step's raw pairs staged by batch (one Parquet file) read back batch by batch
    as the pairs of each batch's keys; the name swaps the triangle-closing aligner types
    as aliases, streamed from there (only pairs with a replace edit parsed), are those of
    every pair loaded at once."""
    from wiretrace.analyze.provenance import alias_swaps
    from wiretrace.detect.edits import apply_learned_aliases
    from wiretrace.engines.incremental import (
        _learned,
        _load_raw,
        _stage_raw,
        _staged_raw,
        _step_swaps,
    )

    _run(tmp_path, "one", [str(generated)], ONE_BATCH)
    staged = tmp_path / "staged.parquet"
    with open_collection(tmp_path / "one.duckdb", ONE_BATCH, read_only=True) as coll:
        con = coll.store.connection
        keys = {
            (str(x), str(y))
            for x, y in con.execute(
                "SELECT least(source, target), greatest(source, target) FROM aligned "
                "WHERE passages > 0"
            ).fetchall()
        }
        batches = _batches(keys, 25)
        assert len(batches) > 10
        _stage_raw(con, batches, staged)
        for number, batch in enumerate(batches):
            assert _staged_raw(staged, number) == _load_raw(con, batch)
        everything = _load_raw(con, keys)
        learned = _learned(con, ONE_BATCH.detect.learn_alias_min_pairs)
    assert learned  # swaps recurring in several pairs
    for known in (learned, {}):  # (none learned: the edits as aligned)
        typed = apply_learned_aliases(everything, known) if known else everything
        expected = alias_swaps(typed)
        assert expected  # the corpus's spun copies swap names
        assert _step_swaps(staged, known) == expected


def test_the_batch_size_does_not_make_stored_indexes_stale() -> None:
    """A runtime setting added after stores recorded their index state: left out of the
    state, so that neither its arrival nor a new value rebuilds an index."""
    from wiretrace.engines.incremental import index_state

    state = index_state(ONE_BATCH)
    assert "attribute_batch" not in state and "index_batch=50000" in state
    assert index_state(_batched(5)) == state
    assert index_state(dataclasses.replace(
        BASE, detect=dataclasses.replace(BASE.detect, min_shared=3)
    )) != state


def test_a_killed_steps_staging_folder_is_removed_by_the_next(tmp_path: Path) -> None:
    """A step attributed in batches stages its raw pairs in a folder beside the store;
    a step killed before its end leaves that folder behind, and the next batched step
    removes it (the store's writer lock says no other step is using it)."""
    records = planted() + flood(12)
    inputs = [str(SEEDS), str(write_jsonl(tmp_path / "planted.jsonl", records))]
    db = tmp_path / "s.duckdb"
    stale = tmp_path / ".s.duckdb.step-killed"
    (stale / "raw.parquet").parent.mkdir()
    (stale / "raw.parquet").write_bytes(b"PAR1 left by a killed step")
    other = tmp_path / ".t.duckdb.step-x"  # another store's: not this store's to remove
    other.mkdir()
    with open_collection(db, _batched(1)) as coll:
        coll.ingest(inputs)
        assert coll.update().attribute_batches > 1
    assert not stale.exists() and other.exists()
    assert not list(tmp_path.glob(".s.duckdb.step-*"))  # its own folder went too

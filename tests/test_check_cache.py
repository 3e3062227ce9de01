"""``check`` on a read-only store remembers what it read (stored articles, the postings
of a flooded story, group rows): the answers stay those of a writable store, check after
check, and a store written in between is read afresh."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from reuse_corpus import bbc, flood, record, write_jsonl
from wiretrace import open_collection
from wiretrace.engines import check_cache
from wiretrace.ingest.textfile import parse_text
from wiretrace.models import Article
from wiretrace.settings import Settings

SETTINGS = dataclasses.replace(
    Settings(), detect=dataclasses.replace(Settings().detect, workers=1)
)
COPIES = check_cache.HOT_POSTINGS + 8  # a flood whose fingerprints are remembered


def _article(rec: dict[str, str], id: str) -> Article:
    return parse_text(rec["title"] + "\n\n" + rec["text"], id, None, "text", SETTINGS.ingest)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("check_cache")
    db = tmp / "cache.duckdb"
    others = [record(f"bbc/{n}", *bbc(f"tech/{n:03d}.txt"), "Tech", 3) for n in range(40, 48)]
    with open_collection(db, SETTINGS) as coll:
        coll.ingest([write_jsonl(tmp / "in.jsonl", [*flood(COPIES), *others])])
        coll.detect()
    return db


def _answers(db: Path, articles: list[Article], read_only: bool) -> list[list[dict[str, object]]]:
    with open_collection(db, SETTINGS, read_only=read_only) as coll:
        return [[p.to_json() for p in coll.check(a)] for a in articles]


def test_repeated_checks_on_a_read_only_store_answer_as_a_writable_one(store: Path) -> None:
    with open_collection(store, SETTINGS, read_only=True) as coll:
        stored = list(coll.articles())
    # each stored article under its own id (its copy left out), and under another id
    # (its stored copy found), twice: the second round reads from the cache
    queries = [*stored, *(dataclasses.replace(a, id=f"again-{a.id}") for a in stored)]
    writable = _answers(store, queries, read_only=False)
    assert any(len(x) > 0 for x in writable)
    first = _answers(store, queries, read_only=True)
    second = _answers(store, queries, read_only=True)
    assert first == writable
    assert second == writable


def test_a_flood_s_groups_come_from_check_hot_with_the_same_pairs(store: Path) -> None:
    member = _article(flood(COPIES)[3], "flood-member-again")
    (writable,) = _answers(store, [member], read_only=False)
    with open_collection(store, SETTINGS, read_only=True) as coll:
        cache = check_cache.store_cache(coll.store)
        assert cache is not None
        hot = cache.hot(coll.store.connection, SETTINGS)
        assert hot is not None and len(hot.hash) > 0  # the flood's fingerprints
        found = [p.to_json() for p in coll.check(member)]
    assert found == writable
    assert [p["source"] for p in found] == ["flood/origin"]


def test_a_stale_check_hot_is_not_used_and_the_postings_are_remembered(
    store: Path, tmp_path: Path
) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(store, db)
    with open_collection(db, SETTINGS) as coll:  # as a Spark load would leave it
        coll.store.connection.execute("DELETE FROM postings WHERE article = 0")
        coll.store.connection.execute("UPDATE check_hot SET grp = grp + 1")  # wrong groups
        coll.store.connection.execute(
            "INSERT INTO postings SELECT hash, 0 FROM postings LIMIT 1"
        )
    member = _article(flood(COPIES)[3], "flood-member-again")
    (writable,) = _answers(store, [member], read_only=False)
    with open_collection(db, SETTINGS, read_only=True) as coll:
        cache = check_cache.store_cache(coll.store)
        assert cache is not None
        assert cache.hot(coll.store.connection, SETTINGS) is None  # the digest differs
        first = [p.to_json() for p in coll.check(member)]
        remembered = cache.postings_count()
        again = [p.to_json() for p in coll.check(member)]
    assert remembered > 0  # each flood fingerprint holds COPIES postings
    assert first == again == writable


def test_a_store_written_in_between_is_read_afresh(tmp_path: Path) -> None:
    db = tmp_path / "grow.duckdb"
    story = flood(COPIES)
    with open_collection(db, SETTINGS) as coll:
        coll.ingest([write_jsonl(tmp_path / "a.jsonl", story)])
        coll.detect()
    probe = _article(story[2], "probe")
    (pairs,) = _answers(db, [probe], read_only=True)  # remembers the flood's postings
    assert [(p["source"], p["target"]) for p in pairs] == [("flood/origin", "probe")]
    with open_collection(db, SETTINGS) as coll:
        for rec in story:
            coll.remove(rec["id"])
        coll.detect()
    assert _answers(db, [probe], read_only=True) == [[]]


def test_check_hot_is_recomputed_when_the_index_grew_by_a_tenth(tmp_path: Path) -> None:
    """A small update leaves ``check_hot`` as it was (no longer matching the index, so
    unused: the answers come from the postings); an update that grows the index by a
    tenth recomputes it."""
    from wiretrace.engines import check_hot

    db = tmp_path / "grow.duckdb"
    base = [*flood(COPIES), *(record(f"bbc/{n}", *bbc(f"tech/{n:03d}.txt"), "Tech", 3)
                              for n in range(40, 60))]  # fmt: skip
    extra = [record(f"more/{n}", *bbc(f"sport/{n:03d}.txt"), "Sport", 4) for n in range(1, 12)]
    with open_collection(db, SETTINGS) as coll:
        coll.ingest([write_jsonl(tmp_path / "a.jsonl", base)])
        coll.detect()
        assert check_hot.load(coll.store.connection, SETTINGS) is not None
        coll.ingest([write_jsonl(tmp_path / "b.jsonl", extra[:1])])  # under a tenth
        coll.detect()
        assert check_hot.load(coll.store.connection, SETTINGS) is None
        coll.ingest([write_jsonl(tmp_path / "c.jsonl", extra[1:])])  # past a tenth
        coll.detect()
        assert check_hot.load(coll.store.connection, SETTINGS) is not None

"""Reprint floods: one wire story reprinted by 300 outlets with small edits costs about
one alignment per copy (a star around the origin, not a clique), and the
document-frequency cut never drops it: the most reprinted story is still found, while
text that only an outlet's articles share (a footer) makes no pairs."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from reuse_corpus import bbc, flood, record, write_jsonl
from wiretrace import open_collection
from wiretrace.engines.incremental import IndexUpdate
from wiretrace.settings import Settings

COPIES = 300
# a document-frequency cut far below the flood's size: a plain cut would drop the story
SETTINGS = dataclasses.replace(
    Settings(), detect=dataclasses.replace(Settings().detect, max_df=50, workers=1)
)
FOOTER = (
    "Copyright Outlet Seven News Group, all rights reserved; this story may not be "
    "republished, broadcast or redistributed without our written permission."
)


def _outlet_articles() -> list[dict[str, Any]]:
    """60 unrelated stories from one outlet, each ending with the outlet's footer."""
    out = []
    for k, rel in enumerate(f"{s}/{n:03d}.txt" for s in ("business", "tech", "sport")
                            for n in range(60, 80)):
        title, paras = bbc(rel)
        out.append(record(f"seven/{k:02d}", title, [*paras, FOOTER], "Outlet Seven", 10))
    return out


def _patchwork() -> dict[str, Any]:
    """A later article taking two paragraphs of the flooded story."""
    _, paras = bbc("entertainment/005.txt")
    _, other = bbc("tech/090.txt")
    return record("patch/flood", "Weekly roundup", [other[0], paras[1], paras[2], other[1]],
                  "Weekly", 25)


@pytest.fixture(scope="module")
def flooded(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], IndexUpdate]:
    tmp = tmp_path_factory.mktemp("flood")
    records = [*flood(COPIES), *_outlet_articles(), _patchwork()]
    db = tmp / "flood.duckdb"
    with open_collection(db, SETTINGS) as coll:
        coll.ingest([write_jsonl(tmp / "flood.jsonl", records)])
        done = coll.update()
        pairs = [p.to_json() for p in coll.pairs()]
    return pairs, done


def test_every_reprint_is_paired_with_the_origin(flooded: Any) -> None:
    pairs, _ = flooded
    found = {(p["source"], p["target"]) for p in pairs}
    for k in range(COPIES):
        assert ("flood/origin", f"flood/{k:03d}") in found
    # a star: no pair between two reprints
    assert not [p for p in found if p[0].startswith("flood/0") and p[1].startswith("flood/0")]


def test_a_flood_costs_about_one_alignment_per_copy(flooded: Any) -> None:
    _, done = flooded
    # 300 member -> origin alignments, plus the few pairs outside the flood
    assert COPIES <= done.aligned <= COPIES + 20


def test_reuse_of_the_flooded_story_is_found_despite_the_df_cut(flooded: Any) -> None:
    pairs, _ = flooded
    patch = [p for p in pairs if p["target"] == "patch/flood"]
    assert [p["source"] for p in patch] == ["flood/origin"]
    assert len(patch[0]["passages"]) >= 1
    assert patch[0]["target_coverage"] > 0.3


def test_text_every_article_of_an_outlet_shares_makes_no_pairs(flooded: Any) -> None:
    pairs, _ = flooded
    outlet = [p for p in pairs if p["source"].startswith("seven/")]
    # (a few BBC stories really share paragraphs: those pairs stay, without the footer)
    assert len(outlet) < 5
    for pair in outlet:
        for passage in pair["passages"]:
            assert "Outlet Seven" not in passage["source_text"]


def test_the_flood_grows_one_alignment_per_new_copy(tmp_path: Path) -> None:
    records = flood(40)
    db = tmp_path / "grow.duckdb"
    with open_collection(db, SETTINGS) as coll:
        coll.ingest([write_jsonl(tmp_path / "a.jsonl", records[:30])])
        coll.update()
        coll.ingest([write_jsonl(tmp_path / "b.jsonl", records[30:])])
        step = coll.update()
        found = {(p.source, p.target) for p in coll.pairs()}
    assert step.aligned == len(records) - 30  # one per new copy
    assert {("flood/origin", f"flood/{k:03d}") for k in range(40)} == found


def _aligned_and_pairs(db: Path, steps: list[list[dict[str, Any]]], tmp: Path) -> Any:
    with open_collection(db, SETTINGS) as coll:
        for k, step in enumerate(steps):
            coll.ingest([write_jsonl(tmp / f"{db.stem}{k}.jsonl", step)])
            coll.update()
        aligned = coll.store.connection.execute(
            "SELECT least(source, target), greatest(source, target) FROM aligned ORDER BY 1, 2"
        ).fetchall()
        return aligned, [p.to_json() for p in coll.pairs()]


def test_a_small_group_is_aligned_pair_by_pair_and_a_large_one_as_a_star(
    tmp_path: Path,
) -> None:
    # detect.group_all_pairs (6): four copies and the origin are aligned pair by pair
    # (provenance keeps origin -> copy); growing past it leaves a star, as from scratch
    records = flood(8)
    small, _ = _aligned_and_pairs(tmp_path / "small.duckdb", [records[:5]], tmp_path)
    assert len(small) == 5 * 4 // 2
    # the origin arrives last: the group's representative changes on the way
    steps = [records[1:4], records[4:], records[:1]]
    grown = _aligned_and_pairs(tmp_path / "grown.duckdb", steps, tmp_path)
    scratch = _aligned_and_pairs(tmp_path / "scratch.duckdb", [records], tmp_path)
    assert grown == scratch
    assert len(scratch[0]) == 8  # a star: one alignment per copy
    assert {(p["source"], p["target"]) for p in scratch[1]} == {
        ("flood/origin", f"flood/{k:03d}") for k in range(8)
    }

"""The labelled benchmark generator (eval/generate.py) on the real BBC articles."""

from __future__ import annotations

import json
import re
import sys
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BBC = ROOT.parent / "shared" / "data" / "bbc-news"
sys.path.insert(0, str(ROOT))

from eval.generate import (  # noqa: E402
    LEARNABLE,
    SUBSTITUTIONS,
    dedupe_bases,
    generate,
    load_bases,
)

SMALL = {"n_sources": 8, "n_patchworks": 3, "n_chains": 2, "n_distractors": 6}
WORD = re.compile(r"\w+(?:[-'’]\w+)*")


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, str]]:
    out = tmp_path_factory.mktemp("bench")
    truth = generate(BBC, out, seed=7, **SMALL)
    texts = {
        aid: (out / rec["file"]).read_bytes().decode("utf-8")
        for aid, rec in truth["articles"].items()
    }
    return truth, texts


def test_every_kind_is_planted(bench: tuple[dict[str, Any], dict[str, str]]) -> None:
    truth, _ = bench
    kinds = {p["kind"] for p in truth["pairs"]}
    assert kinds == {
        "verbatim",
        "partial",
        "spun",
        "shuffled",
        "patchwork",
        "chain_spun",
        "chain_copy",
    }
    roles = {r["role"] for r in truth["articles"].values()}
    assert roles == {"origin", "copy", "patchwork", "distractor"}
    assert {p["credit"] for p in truth["pairs"]} == {"credited", "uncredited", "credited_elsewhere"}
    assert all(p["origin"] == p["source"] for p in truth["pairs"])


def test_truth_offsets_slice_the_written_files(
    bench: tuple[dict[str, Any], dict[str, str]],
) -> None:
    truth, texts = bench
    for p in truth["pairs"]:
        src, tgt = texts[p["source"]], texts[p["target"]]
        for s0, s1, t0, t1 in p["passages"]:
            a, b = src[s0:s1], tgt[t0:t1]
            assert len(WORD.findall(b)) >= 10  # no planted passage is a short phrase
            if p["kind"] in ("verbatim", "partial", "chain_copy"):
                assert a == b
            else:  # same words up to the planted edits: most words shared
                wa, wb = set(WORD.findall(a)), set(WORD.findall(b))
                assert len(wa & wb) >= 0.5 * len(wa)
        for e in p["edits"]:
            assert src[e["source"][0] : e["source"][1]] == e["source_text"]
            assert tgt[e["target"][0] : e["target"][1]] == e["target_text"]
            assert e["kind"] in {"alias", "synonym", "spelling", "number", "other"}
        if p["kind"] in ("spun", "chain_spun"):
            assert p["edits"], "a spun copy carries planted edits"
    # the body, header and footer spans cut the files at line boundaries
    for aid, rec in truth["articles"].items():
        text = texts[aid]
        assert text.startswith(rec["title"] + "\n\n")
        s, e = rec["body"]
        assert text[s - 2 : s] == "\n\n" and text[e] == "\n"
        for s, e in rec["neutral"]:
            assert re.fullmatch(r"[A-Z ]+ \((Reuters|AFP|AP|PA)\) -", text[s:e])


def test_patchwork_labels_and_novel_sentences(
    bench: tuple[dict[str, Any], dict[str, str]],
) -> None:
    truth, texts = bench
    patchworks = [a for a, r in truth["articles"].items() if r["role"] == "patchwork"]
    assert patchworks
    for aid in patchworks:
        labels = truth["articles"][aid]["sentences"]
        sources = {p["source"] for p in truth["pairs"] if p["target"] == aid}
        assert {lab for _, _, lab in labels if lab} == sources
        novel = [texts[aid][s:e] for s, e, lab in labels if lab is None]
        assert novel
        for sent in novel:  # novel text is found nowhere else in the collection
            assert not any(sent in t for other, t in texts.items() if other != aid)


def test_substitutions_are_consistent_and_include_learnable_swaps(
    bench: tuple[dict[str, Any], dict[str, str]],
) -> None:
    truth, _ = bench
    swaps: dict[str, set[str]] = {}
    where: dict[str, set[str]] = {}
    for p in truth["pairs"]:
        for e in p["edits"]:
            if e["kind"] == "alias":
                key = e["source_text"].casefold()
                swaps.setdefault(key, set()).add(e["target_text"].casefold())
                where.setdefault(key, set()).add(p["target"])
    assert swaps
    # one name is always swapped for the same variant ("Gordon Brown" has two on purpose:
    # "the chancellor", or "Mr Brown" after the word chancellor)
    assert all(len(v) == 1 for k, v in swaps.items() if k != "gordon brown")
    learnable_sources = {re.sub(r"\(.*?\)", "", p).casefold() for p in LEARNABLE}
    learned = {k for k in swaps if k in learnable_sources}
    assert learned, "the benchmark plants swaps that a stock alias table lacks"
    assert any(len(where[k]) >= 2 for k in learned), "a learnable swap recurs"
    required = {"tony blair", "gordon brown", "conservatives", "labour"}
    assert required <= {re.sub(r"\(.*?\)", "", p).casefold() for p, _, _ in SUBSTITUTIONS}


def test_metadata_for_provenance(bench: tuple[dict[str, Any], dict[str, str]]) -> None:
    truth, texts = bench
    recs = truth["articles"]
    published = [r["published"] for r in recs.values()]
    assert None in published and any(p for p in published)
    assert any(r["timezone"] for r in recs.values())
    assert any(r["published"] and not r["timezone"] for r in recs.values())
    for aid, r in recs.items():
        if r["header"]:
            header = texts[aid][r["header"][0] : r["header"][1]]
            assert "\n" not in header
        if r["role"] in ("origin", "distractor"):
            assert r["agency"] and r["dateline"] and r["neutral"]
    # an origin is never published after its copy
    from datetime import UTC, datetime

    def utc(v: str) -> datetime:
        d = datetime.fromisoformat(v)
        return d if d.tzinfo else d.replace(tzinfo=UTC)

    for p in truth["pairs"]:
        a, b = recs[p["source"]]["published"], recs[p["target"]]["published"]
        if a and b:
            assert utc(a) < utc(b)


def test_no_accidental_sharing(bench: tuple[dict[str, Any], dict[str, str]]) -> None:
    truth, texts = bench
    related = {frozenset((p["source"], p["target"])) for p in truth["pairs"]}
    related |= {frozenset((x["a"], x["b"])) for x in truth["implied"]}
    runs = {}
    for aid, rec in truth["articles"].items():
        words = [w.casefold() for w in WORD.findall(texts[aid][rec["body"][0] : rec["body"][1]])]
        runs[aid] = {tuple(words[i : i + 8]) for i in range(len(words) - 7)}
    checked = 0
    for a, b in combinations(sorted(runs), 2):
        if frozenset((a, b)) in related:
            continue
        checked += 1
        assert not runs[a] & runs[b], (a, b)
    assert checked == truth["checks"]["accidental_8word_runs"]["pairs_checked"]
    assert truth["checks"]["accidental_8word_runs"]["violations"] == []
    # implied pairs derive from the same origin text: they share words in order, though two
    # different spins of one sentence may leave no 8-word run in common
    short: dict[str, set[tuple[str, ...]]] = {}
    for aid, rec in truth["articles"].items():
        words = [w.casefold() for w in WORD.findall(texts[aid][rec["body"][0] : rec["body"][1]])]
        short[aid] = {tuple(words[i : i + 4]) for i in range(len(words) - 3)}
    for x in truth["implied"]:
        assert short[x["a"]] & short[x["b"]], x
    assert sum(bool(runs[x["a"]] & runs[x["b"]]) for x in truth["implied"]) > 0.8 * len(
        truth["implied"]
    )


def test_determinism_by_seed(tmp_path: Path, bench: tuple[dict[str, Any], dict[str, str]]) -> None:
    truth, texts = bench
    again = generate(BBC, tmp_path / "again", seed=7, **SMALL)
    assert json.dumps(again, sort_keys=True) == json.dumps(truth, sort_keys=True)
    for aid in texts:
        assert (tmp_path / "again" / "corpus" / f"{aid}.txt").read_bytes().decode() == texts[aid]
    other = generate(BBC, tmp_path / "other", seed=8, **SMALL)
    assert sorted(other["articles"]) != sorted(truth["articles"])


def test_dedupe_drops_articles_sharing_a_sentence() -> None:
    bases = load_bases(BBC)
    kept, dropped = dedupe_bases(bases)
    assert dropped >= 84  # at least one per group of byte-identical articles
    seen: dict[str, str] = {}
    for b in kept:
        for s in b.sentences():
            words = WORD.findall(s.casefold())
            if len(words) < 5:
                continue
            key = " ".join(words)
            assert seen.setdefault(key, b.key) == b.key, (key, seen[key], b.key)

"""n-gram hashes, winnowing, postings, article keys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wiretrace.settings import Settings
from wiretrace.text.aliases import AliasTable
from wiretrace.text.fingerprint import (
    article_key,
    fingerprints,
    ngram_hashes,
    ngram_size,
    postings_table,
    winnow,
)
from wiretrace.text.normalize import normalize
from wiretrace.text.tokens import tokenize

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "examples" / "seeds"


def _seed(name: str) -> str:
    return next(SEEDS.glob(f"{name}_*.txt")).read_text(encoding="utf-8")


def test_ngram_hashes_depend_on_the_words_only() -> None:
    a = "the cargo plane left Caracas on Sunday afternoon".split()
    b = ["yesterday", *a[2:], "again"]
    ha, hb = ngram_hashes(a, 3), ngram_hashes(b, 3)
    assert ha.dtype == np.int64 and len(ha) == len(a) - 2
    assert list(ha[2:]) == list(hb[1:-1])  # same trigram, same hash, anywhere
    assert len(set(ha.tolist())) == len(ha)
    assert ngram_hashes(["a", "b"], 3).size == 0
    assert ngram_hashes(["x", "y"], 2).tolist() != ngram_hashes(["y", "x"], 2).tolist()
    with pytest.raises(ValueError, match="at least 1"):
        ngram_hashes(a, 0)


def _naive_winnow(hashes: list[int], window: int) -> list[int]:
    if not hashes:
        return []
    if len(hashes) <= window:
        m = min(hashes)
        return [max(i for i, h in enumerate(hashes) if h == m)]
    picked: list[int] = []
    for i in range(len(hashes) - window + 1):
        part = hashes[i : i + window]
        m = min(part)
        pos = i + max(k for k, h in enumerate(part) if h == m)
        if not picked or picked[-1] != pos:
            picked.append(pos)
    return picked


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-5, 5), max_size=40), st.integers(1, 6))
def test_winnow_matches_the_definition(values: list[int], window: int) -> None:
    # small values force ties: rightmost minimum on ties, each position once
    got = winnow(np.array(values, np.int64), window).tolist()
    assert got == _naive_winnow(values, window)


_WORDS = st.sampled_from([f"w{i}" for i in range(12)])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_WORDS, max_size=30),
    st.lists(_WORDS, max_size=30),
    st.lists(_WORDS, min_size=1, max_size=30),
    st.lists(_WORDS, max_size=30),
    st.lists(_WORDS, max_size=30),
    st.integers(1, 6),
    st.integers(1, 6),
)
def test_shared_run_yields_a_shared_fingerprint(
    pre_a: list[str],
    post_a: list[str],
    shared: list[str],
    pre_b: list[str],
    post_b: list[str],
    n: int,
    window: int,
) -> None:
    # the winnowing guarantee: any shared run of window + n - 1 tokens is detected
    run = (shared * (window + n))[: window + n - 1]
    a, b = pre_a + run + post_a, pre_b + run + post_b
    ha, pa_ = fingerprints(a, n, window)
    hb, _ = fingerprints(b, n, window)
    assert set(ha.tolist()) & set(hb.tolist())
    assert len(ha) == len(pa_) and pa_.dtype == np.int32
    assert all(0 <= p <= len(a) - n for p in pa_.tolist())
    assert ha.tolist() == ngram_hashes(a, n)[pa_].tolist()


def test_density_is_about_two_over_window_plus_one() -> None:
    words = " ".join(_seed(s) for s in ("000", "003")).split()
    hashes, _ = fingerprints(words, 5, 4)
    density = len(hashes) / (len(words) - 4)
    assert 0.25 < density < 0.6  # expected 2 / (w + 1) = 0.4


def test_seed_passages_share_fingerprints() -> None:
    aliases = AliasTable.load()
    s0, s3 = normalize(_seed("000"), aliases), normalize(_seed("003"), aliases)
    h0, _ = fingerprints(s0, 5, 4)
    h3, p3 = fingerprints(s3, 5, 4)
    shared = set(h0.tolist()) & set(h3.tolist())
    # every shared fingerprint of 003 lies in one of the three reused passages
    at = {h: s3.starts[p] for h, p in zip(h3.tolist(), p3.tolist(), strict=True)}
    spans = [(1073, 1304), (1486, 1609), (1904, 2167)]
    inside = [any(lo <= at[h] < hi for lo, hi in spans) for h in shared]
    assert sum(inside) >= 3 and sum(inside) >= len(shared) - 2
    # P2 is found even though 003 swapped "U.S." -> "USA" and "Russia" -> "Russian Federation"
    assert any(1486 <= at[h] < 1609 for h in shared)


def test_ngram_size_uses_characters_for_unspaced_scripts() -> None:
    st_ = Settings()
    assert ngram_size(tokenize("Two Russian planes landed in Caracas"), st_) == st_.text.ngram
    zh = tokenize("两架俄罗斯空军飞机周六降落在加拉加斯机场，飞行追踪显示。")
    assert ngram_size(zh, st_) == st_.text.cjk_ngram
    custom = Settings().with_overrides({"text.cjk_ngram": 3})
    assert ngram_size(zh, custom) == 3


def test_cjk_copy_is_found_by_character_ngrams() -> None:
    st_ = Settings()
    source = (
        "两架俄罗斯空军飞机周六降落在加拉加斯机场，飞行追踪显示。"
        "委内瑞拉官员周日表示，这是两国军事合作的一部分。"
    )
    copy = "新华社报道：" + source[10:40] + "记者没有得到证实。"
    sa, sb = tokenize(source), tokenize(copy)
    n, w = ngram_size(sa, st_), st_.text.winnow_window
    ha, _ = fingerprints(sa, n, w)
    hb, _ = fingerprints(sb, n, w)
    assert set(ha.tolist()) & set(hb.tolist())


def test_postings_table_schema_and_rows() -> None:
    st_ = Settings()
    aliases = AliasTable.load()
    ids = ["000_a7cae44381716f60", "003_aa80bf1ba9256955", "empty"]
    seqs = [normalize(_seed("000"), aliases), normalize(_seed("003"), aliases), tokenize("")]
    keys = [article_key(i) for i in ids]
    table = postings_table(keys, seqs, st_)
    assert table.schema.names == ["article", "hash", "pos"]
    assert table.schema.types == [pa.int64(), pa.int64(), pa.int32()]
    by_article = table.group_by("article").aggregate([("hash", "count")]).to_pydict()
    counts = dict(zip(by_article["article"], by_article["hash_count"], strict=True))
    assert set(counts) == set(keys[:2])
    assert counts[keys[0]] == len(fingerprints(seqs[0], 5, 4)[0])
    assert postings_table([], [], st_).num_rows == 0
    with pytest.raises(ValueError, match="article keys"):
        postings_table(keys[:1], seqs, st_)


def test_article_key_is_stable_across_processes() -> None:
    ids = ["business/001", "sport/001", "000_a7cae44381716f60", "ünïcode/ид"]
    keys = [article_key(i) for i in ids]
    assert len(set(keys)) == len(keys)
    assert all(-(2**63) <= k < 2**63 for k in keys)
    code = (
        "from wiretrace.text.fingerprint import article_key, ngram_hashes;"
        f"print([article_key(i) for i in {ids!r}]);"
        "print(ngram_hashes('a b c d e f'.split(), 5).tolist())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
    ).stdout.splitlines()
    assert out[0] == str(keys)
    assert out[1] == str(ngram_hashes("a b c d e f".split(), 5).tolist())


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.lists(_WORDS, max_size=25), max_size=8),
    st.integers(1, 5),
    st.integers(1, 5),
)
def test_postings_table_equals_fingerprints_per_article(
    docs: list[list[str]], n: int, window: int
) -> None:
    # the batched path gives, row for row, what fingerprints() gives each article
    text_settings = Settings().with_overrides({"text.ngram": n, "text.winnow_window": window})
    seqs = [tokenize(" ".join(d)) for d in docs]
    keys = list(range(100, 100 + len(docs)))
    table = postings_table(keys, seqs, text_settings).to_pydict()
    expected: dict[str, list[int]] = {"article": [], "hash": [], "pos": []}
    for key, seq in zip(keys, seqs, strict=True):
        h, p = fingerprints(seq, n, window)
        expected["article"] += [key] * len(h)
        expected["hash"] += h.tolist()
        expected["pos"] += p.tolist()
    assert table == expected


def test_postings_table_mixes_scripts() -> None:
    st_ = Settings()
    seqs = [
        tokenize("两架俄罗斯空军飞机周六降落在加拉加斯机场，飞行追踪显示。"),
        tokenize(_seed("000")),
        tokenize("短"),
    ]
    table = postings_table([7, 8, 9], seqs, st_).to_pydict()
    for key, seq in zip([7, 8, 9], seqs, strict=True):
        h, p = fingerprints(seq, ngram_size(seq, st_), st_.text.winnow_window)
        rows = [(hh, pp) for a, hh, pp in zip(*table.values(), strict=True) if a == key]
        assert rows == list(zip(h.tolist(), p.tolist(), strict=True))

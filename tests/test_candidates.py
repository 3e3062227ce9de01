"""The candidate plan on real BBC text: rare shared fingerprints make candidates,
near-duplicate reprints collapse into one group (about N alignments, not N squared),
document-frequency filtering, and the byte-identical groups of the BBC corpus."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from wiretrace.detect.candidates import candidate_plan, find_candidates
from wiretrace.errors import WiretraceError
from wiretrace.ingest.decode import decode_bytes
from wiretrace.ingest.textfile import parse_text
from wiretrace.models import Article
from wiretrace.settings import Settings
from wiretrace.text.aliases import AliasTable
from wiretrace.text.fingerprint import article_key, postings_table
from wiretrace.text.normalize import normalize

BBC = Path(__file__).resolve().parents[2] / "shared" / "data" / "bbc-news"
SETTINGS = Settings()
ALIASES = AliasTable.load()


def _article(rel: str, text: str | None = None, id: str | None = None) -> Article:
    if text is None:
        text, _ = decode_bytes((BBC / rel).read_bytes(), rel)
    body = text
    return parse_text(body, id or rel, rel, "text", SETTINGS.ingest)


def _postings(articles: list[Article], settings: Settings = SETTINGS) -> pa.Table:
    seqs = [normalize(a, ALIASES, settings) for a in articles]
    return postings_table([article_key(a.id) for a in articles], seqs, settings)


def _ids(articles: list[Article]) -> dict[int, str]:
    return {article_key(a.id): a.id for a in articles}


def _pairs(table: pa.Table, ids: dict[int, str]) -> set[tuple[str, str]]:
    return {
        tuple(sorted((ids[a], ids[b])))  # type: ignore[misc]
        for a, b in zip(table.column("a").to_pylist(), table.column("b").to_pylist(), strict=True)
    }


def _reprint(base: Article, k: int) -> Article:
    """A reprint of ``base`` with its own headline and one word changed in the body."""
    body = base.text.split("\n", 1)[1]
    words = body.split(" ")
    words[10 + k] = "indeed"
    return _article("x", f"Reprint headline number {k}\n" + " ".join(words), id=f"reprint/{k}")


@pytest.fixture(scope="module")
def collection() -> list[Article]:
    base = _article("business/010.txt")
    reprints = [_reprint(base, k) for k in range(5)]
    body = base.text.split("\n\n", 1)[1]
    half = body[: len(body) // 2]
    partial = _article(
        "x", "A partial copy\n\n" + half + "\n\nOur own closing line here.", id="partial"
    )
    unrelated = [_article(r) for r in ("sport/050.txt", "tech/020.txt", "entertainment/030.txt")]
    return [base, *reprints, partial, *unrelated]


def test_groups_collapse_reprints(collection: list[Article]) -> None:
    ids = _ids(collection)
    result = candidate_plan(_postings(collection), SETTINGS, ids)
    groups = result.groups.to_pylist()
    members = {g["id"] for g in groups}
    assert members == {"business/010.txt", *(f"reprint/{k}" for k in range(5))}
    (group_id,) = {g["group_id"] for g in groups}
    # the group id is the member with the smallest key, the same whatever the input order
    assert group_id == ids[min(article_key(m) for m in members)]
    again = candidate_plan(_postings(list(reversed(collection))), SETTINGS, ids)
    assert again.groups.to_pylist() == groups
    assert again.pairs.equals(result.pairs)
    pairs = _pairs(result.pairs, ids)
    # inside the group: member -> group id only (5 pairs, not 15)
    inside = {p for p in pairs if p[0] in members and p[1] in members}
    assert inside == {tuple(sorted((m, group_id))) for m in members if m != group_id}
    # the partial copy pairs with every member (each reprint's own pair)
    assert {p for p in pairs if "partial" in p} == {tuple(sorted((m, "partial"))) for m in members}
    # the unrelated articles pair with nothing
    assert len(pairs) == 5 + 6


def test_pairs_are_ordered_and_counted(collection: list[Article]) -> None:
    table = find_candidates(_postings(collection), SETTINGS)
    assert table.column_names == ["a", "b", "shared"]
    rows = table.to_pylist()
    assert all(r["a"] < r["b"] for r in rows)
    assert rows == sorted(rows, key=lambda r: (r["a"], r["b"]))
    assert all(r["shared"] >= SETTINGS.detect.min_shared for r in rows)


def test_max_df_drops_common_fingerprints() -> None:
    """A paragraph every article carries (shared boilerplate) proposes no pair when it is
    in more articles than ``detect.max_df``."""
    stock = (
        "This story is published under our standard terms and may be freely shared by "
        "any reader who keeps this notice and the link to the original site intact."
    )
    rels = ["business/010.txt", "sport/050.txt", "tech/020.txt", "entertainment/030.txt"]
    arts = []
    for rel in rels:
        text = (BBC / rel).read_text(encoding="utf-8")
        arts.append(_article(rel, text + "\n\n" + stock))
    ids = _ids(arts)
    with_stock = _pairs(find_candidates(_postings(arts), SETTINGS), ids)
    assert len(with_stock) == 6  # every pair shares the paragraph
    strict = SETTINGS.with_overrides({"detect.max_df": 3})
    assert _pairs(find_candidates(_postings(arts, strict), strict), ids) == set()


def test_bbc_byte_identical_articles_group() -> None:
    """The BBC corpus holds byte-identical articles: in one folder they form groups."""
    files = sorted((BBC / "entertainment").glob("*.txt"))[:150]
    arts = [_article(f"entertainment/{f.name}") for f in files]
    by_text: dict[str, list[str]] = {}
    for a in arts:
        by_text.setdefault(a.text, []).append(a.id)
    identical = [sorted(v) for v in by_text.values() if len(v) > 1]
    assert identical, "the sample should contain byte-identical articles"
    result = candidate_plan(_postings(arts), SETTINGS, _ids(arts))
    group_of = dict(
        zip(
            result.groups.column("id").to_pylist(),
            result.groups.column("group_id").to_pylist(),
            strict=True,
        )
    )
    for same in identical:
        assert len({group_of[i] for i in same}) == 1


def test_bad_postings() -> None:
    with pytest.raises(WiretraceError):
        find_candidates(pa.table({"x": [1]}), SETTINGS)
    empty = pa.table({"article": pa.array([], pa.int64()), "hash": pa.array([], pa.int64())})
    assert find_candidates(empty, SETTINGS).num_rows == 0

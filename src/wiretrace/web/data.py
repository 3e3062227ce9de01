# SQL here is built from constants only; every value goes in as a parameter.
# ruff: noqa: S608
"""What the viewer and the API read, over one read-only :class:`Collection`.

Listing pages read the store's plain tables with SQL (filtered and paged in DuckDB, so a
page costs the same on ten articles or a million); single objects come from the library
(``Collection.article``, ``analyze.patchwork``, ``analyze.provenance`` results as
stored). Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from wiretrace.analyze.patchwork import Patchwork, patchwork
from wiretrace.collection import Collection
from wiretrace.errors import NotFound
from wiretrace.models import Article, Edit, Passage, ReusePair

__all__ = [
    "ArticleRow",
    "ArticleView",
    "Overview",
    "Page",
    "PairView",
    "article_rows",
    "article_view",
    "find_pair",
    "overview",
    "pair_page",
    "pair_view",
    "pairs_of",
    "passage_page",
    "published_of",
    "search_page",
    "story_json",
    "story_page",
]

_SEP = "\x1f"  # joins (source, target) into one key for list filters


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing: ``items``, the ``total`` that match, and the window."""

    items: list[Any]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        following = self.offset + self.limit
        return following if following < self.total else None


@dataclass(frozen=True, slots=True)
class ArticleRow:
    """An article as listings show it (no text)."""

    id: str
    title: str | None
    outlet: str | None
    published: datetime | None
    words: int
    snippet: str | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.id,
            "title": self.title,
            "outlet": self.outlet,
            "published": self.published.isoformat() if self.published else None,
            "words": self.words,
        }
        if self.snippet is not None:
            out["snippet"] = self.snippet
        return out


@dataclass(frozen=True, slots=True)
class Overview:
    """The collection at a glance (see :func:`overview`)."""

    articles: int
    pairs: int
    passages: int
    credit: Mapping[str, int]
    reusing_articles: int
    top_sources: list[dict[str, Any]]
    top_reusers: list[dict[str, Any]]
    top_outlets: list[dict[str, Any]]

    @property
    def share_uncredited(self) -> float:
        """Share of reuse pairs whose reuser credits nobody it took from."""
        return self.credit.get("uncredited", 0) / self.pairs if self.pairs else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "articles": self.articles,
            "pairs": self.pairs,
            "passages": self.passages,
            "reusing_articles": self.reusing_articles,
            "credit": dict(self.credit),
            "share_uncredited": round(self.share_uncredited, 4),
            "top_sources": self.top_sources,
            "top_reusers": self.top_reusers,
            "top_outlets": self.top_outlets,
        }


@dataclass(frozen=True, slots=True)
class ArticleView:
    """One article with the pairs it is part of and its patchwork map."""

    article: Article
    words: int
    pairs: list[ReusePair]
    patchwork: Patchwork
    versions: int


@dataclass(frozen=True, slots=True)
class PairView:
    """One pair with both articles and the reuser's patchwork map."""

    pair: ReusePair
    source: Article
    target: Article
    target_patchwork: Patchwork


def _rows(coll: Collection, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = coll.store.query(sql, params).to_pylist()
    return rows


def _count(coll: Collection, sql: str, params: Sequence[object] = ()) -> int:
    rows = _rows(coll, sql, params)
    return int(next(iter(rows[0].values())) or 0) if rows else 0


# -- overview ----------------------------------------------------------------------------


def overview(coll: Collection, top: int) -> Overview:
    """Counts, credit status of the pairs, and the top sources, reusers and outlets."""
    credit = {
        r["credit"]: int(r["n"])
        for r in _rows(coll, "SELECT credit, count(*) AS n FROM pairs GROUP BY credit")
    }
    top_sources = _rows(
        coll,
        "SELECT p.source AS id, a.title, a.outlet, count(*) AS reusers, "
        "sum(CASE WHEN p.credit = 'credited' THEN 0 ELSE 1 END) AS uncredited "
        "FROM pairs p LEFT JOIN articles a ON a.id = p.source "
        "GROUP BY p.source, a.title, a.outlet ORDER BY reusers DESC, p.source LIMIT ?",
        [top],
    )
    top_reusers = _rows(
        coll,
        "SELECT p.target AS id, a.title, a.outlet, count(*) AS sources, "
        "round(max(p.target_coverage), 4) AS reused_share, "
        "sum(CASE WHEN p.credit = 'credited' THEN 0 ELSE 1 END) AS uncredited "
        "FROM pairs p LEFT JOIN articles a ON a.id = p.target "
        "GROUP BY p.target, a.title, a.outlet "
        "ORDER BY sources DESC, reused_share DESC, p.target LIMIT ?",
        [top],
    )
    top_outlets = _rows(
        coll,
        "SELECT coalesce(s.outlet, 'unknown') AS source, coalesce(t.outlet, 'unknown') AS "
        "target, count(*) AS pairs, sum(CASE WHEN p.credit = 'uncredited' THEN 1 ELSE 0 END) "
        "AS uncredited FROM pairs p LEFT JOIN articles s ON s.id = p.source "
        "LEFT JOIN articles t ON t.id = p.target GROUP BY 1, 2 "
        "ORDER BY pairs DESC, source, target LIMIT ?",
        [top],
    )
    for row in (*top_sources, *top_reusers, *top_outlets):
        for key in ("reusers", "sources", "pairs", "uncredited"):
            if key in row:
                row[key] = int(row[key] or 0)
    return Overview(
        articles=_count(coll, "SELECT count(*) FROM articles"),
        pairs=sum(credit.values()),
        passages=_count(coll, "SELECT count(*) FROM passages"),
        credit=credit,
        reusing_articles=_count(coll, "SELECT count(DISTINCT target) FROM pairs"),
        top_sources=top_sources,
        top_reusers=top_reusers,
        top_outlets=top_outlets,
    )


# -- articles ----------------------------------------------------------------------------


def _like(text: str) -> str:
    """``text`` as an ILIKE pattern matching it anywhere (wildcards escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def published_of(row: Mapping[str, Any]) -> datetime | None:
    """The stored wall-clock time with its offset (as ``Store`` joins them)."""
    wall, offset = row["published"], row["published_utc_offset"]
    if wall is None or offset is None:
        return wall  # type: ignore[no-any-return]
    return wall.replace(tzinfo=timezone(timedelta(minutes=offset)))  # type: ignore[no-any-return]


_ROW_COLUMNS = "id, title, outlet, published, published_utc_offset, words"


def article_rows(coll: Collection, limit: int, offset: int) -> Page:
    """Every article, sorted by id."""
    rows = _rows(
        coll, f"SELECT {_ROW_COLUMNS} FROM articles ORDER BY id LIMIT ? OFFSET ?",
        [limit, offset],
    )
    items = [_article_row(r) for r in rows]
    return Page(items, _count(coll, "SELECT count(*) FROM articles"), limit, offset)


def _article_row(r: Mapping[str, Any], snippet: str | None = None) -> ArticleRow:
    return ArticleRow(
        id=r["id"], title=r["title"], outlet=r["outlet"], published=published_of(r),
        words=int(r["words"] or 0), snippet=snippet,
    )


def search_page(coll: Collection, query: str, limit: int, offset: int) -> Page:
    """Articles whose title or text contains ``query`` (case-insensitive), title matches
    first, each with a snippet of text around the first match."""
    pattern = _like(query)
    where = "(title ILIKE ? ESCAPE '\\' OR text ILIKE ? ESCAPE '\\')"
    total = _count(coll, f"SELECT count(*) FROM articles WHERE {where}", [pattern, pattern])
    rows = _rows(
        coll,
        f"SELECT {_ROW_COLUMNS}, "
        "CAST(greatest(strpos(lower(text), lower(?)) - 80, 1) AS BIGINT) AS cut, "
        "substr(text, CAST(greatest(strpos(lower(text), lower(?)) - 80, 1) AS BIGINT), "
        "240) AS around, strpos(lower(text), lower(?)) AS at "
        f"FROM articles WHERE {where} "
        "ORDER BY (title ILIKE ? ESCAPE '\\') DESC, id LIMIT ? OFFSET ?",
        [query, query, query, pattern, pattern, pattern, limit, offset],
    )
    items = []
    for r in rows:
        snippet = None
        if r["at"]:
            snippet = " ".join(str(r["around"]).split())
            if int(r["cut"]) > 1:
                snippet = "… " + snippet
        items.append(_article_row(r, snippet))
    return Page(items, total, limit, offset)


def article_view(coll: Collection, id: str) -> ArticleView:
    """The article ``id`` (:class:`NotFound` when absent) with its pairs and patchwork."""
    article = coll.article(id)
    pairs = pairs_of(coll, id)
    words = _count(coll, "SELECT words FROM articles WHERE id = ?", [id])
    versions = _count(
        coll, "SELECT count(*) FROM article_versions WHERE id = ?", [id]
    )
    work = patchwork(article, pairs, settings=coll.settings)
    return ArticleView(article, words, pairs, work, versions + 1)


# -- pairs -------------------------------------------------------------------------------


def _load_pairs(coll: Collection, where: str, params: Sequence[object]) -> list[ReusePair]:
    """Pairs (with passages and edits) whose rows satisfy ``where`` (a condition on
    ``source`` and ``target`` only, so it applies to all three tables)."""
    edits: dict[tuple[str, str, int], list[Edit]] = {}
    for r in _rows(
        coll,
        "SELECT source, target, passage, op, source_start, source_end, target_start, "
        f"target_end, source_text, target_text, kind FROM edits WHERE {where} "
        "ORDER BY source, target, passage, edit",
        params,
    ):
        edits.setdefault((r["source"], r["target"], r["passage"]), []).append(
            Edit(op=r["op"], source_start=r["source_start"], source_end=r["source_end"],
                 target_start=r["target_start"], target_end=r["target_end"],
                 source_text=r["source_text"], target_text=r["target_text"], kind=r["kind"])
        )  # fmt: skip
    passages: dict[tuple[str, str], list[Passage]] = {}
    for r in _rows(
        coll,
        "SELECT source, target, passage, source_start, source_end, target_start, "
        "target_end, source_text, target_text, similarity, origin, source_words, "
        f"target_words FROM passages WHERE {where} ORDER BY source, target, passage",
        params,
    ):
        passages.setdefault((r["source"], r["target"]), []).append(
            Passage(
                source_start=r["source_start"], source_end=r["source_end"],
                target_start=r["target_start"], target_end=r["target_end"],
                source_text=r["source_text"], target_text=r["target_text"],
                similarity=r["similarity"],
                edits=tuple(edits.get((r["source"], r["target"], r["passage"]), ())),
                origin=r["origin"], source_words=r["source_words"] or 0,
                target_words=r["target_words"] or 0,
            )
        )
    return [
        ReusePair(
            source=r["source"], target=r["target"],
            passages=tuple(passages.get((r["source"], r["target"]), ())),
            origin_confidence=r["origin_confidence"], evidence=tuple(r["evidence"] or ()),
            credited=bool(r["credited"]), credit=r["credit"],
            credited_to=tuple(r["credited_to"] or ()), source_coverage=r["source_coverage"],
            target_coverage=r["target_coverage"],
        )
        for r in _rows(
            coll,
            "SELECT source, target, origin_confidence, evidence, credited, credit, "
            f"credited_to, source_coverage, target_coverage FROM pairs WHERE {where} "
            "ORDER BY source, target",
            params,
        )
    ]


def pairs_of(coll: Collection, id: str) -> list[ReusePair]:
    """Every pair where article ``id`` is the origin or the reuser."""
    return _load_pairs(coll, "(source = ? OR target = ?)", [id, id])


def find_pair(coll: Collection, a: str, b: str) -> ReusePair:
    """The pair between ``a`` and ``b`` (either order); :class:`NotFound` when none."""
    found = _load_pairs(
        coll, "((source = ? AND target = ?) OR (source = ? AND target = ?))", [a, b, b, a]
    )
    if not found:
        raise NotFound(f"{a} and {b}: no reuse pair between them")
    return found[0]


def pair_view(coll: Collection, a: str, b: str) -> PairView:
    """The pair between ``a`` and ``b`` (either order) with its articles and the
    reuser's patchwork; :class:`NotFound` when there is none."""
    pair = find_pair(coll, a, b)
    target = coll.article(pair.target)
    work = patchwork(target, pairs_of(coll, pair.target), settings=coll.settings)
    return PairView(pair, coll.article(pair.source), target, work)


def pair_page(
    coll: Collection, limit: int, offset: int, article: str | None = None,
    credit: str | None = None,
) -> Page:
    """Pairs (with passages), most reused first, optionally those of one ``article`` or
    with one ``credit`` status."""
    conditions, params = [], []
    if article is not None:
        conditions.append("(source = ? OR target = ?)")
        params += [article, article]
    if credit is not None:
        conditions.append("credit = ?")
        params.append(credit)
    where = " AND ".join(conditions) or "TRUE"
    total = _count(coll, f"SELECT count(*) FROM pairs WHERE {where}", params)
    keys = [
        r["k"]
        for r in _rows(
            coll,
            f"SELECT source || '{_SEP}' || target AS k FROM pairs WHERE {where} "
            "ORDER BY target_coverage DESC, target, source LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
    ]
    loaded = {
        f"{p.source}{_SEP}{p.target}": p
        for p in _load_pairs(coll, f"list_contains(?, source || '{_SEP}' || target)", [keys])
    } if keys else {}
    return Page([loaded[k] for k in keys if k in loaded], total, limit, offset)


def passage_page(
    coll: Collection, limit: int, offset: int, article: str | None = None
) -> Page:
    """Passages of every pair (or of one ``article``'s pairs), in pair order."""
    where, params = ("(source = ? OR target = ?)", [article, article]) if article else (
        "TRUE", [])
    total = _count(coll, f"SELECT count(*) FROM passages WHERE {where}", params)
    rows = _rows(
        coll,
        "SELECT source, target, passage, source_start, source_end, target_start, target_end, "
        "source_text, target_text, round(similarity, 4) AS similarity, origin, "
        f"source_words, target_words FROM passages WHERE {where} "
        "ORDER BY source, target, passage LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return Page(rows, total, limit, offset)


# -- stories -----------------------------------------------------------------------------


def story_page(coll: Collection, limit: int, offset: int) -> Page | None:
    """One page of the collection's stored stories, largest first, as ``wiretrace
    stories --json`` objects; None when there are none. Only the page's stories are
    summarised (entities, facts): listing a store of 50,000 stories stays quick."""
    from wiretrace.story_store import story_states, summarize_states

    states = sorted(
        story_states(coll.store), key=lambda s: (-len(s[0].members), s[0].id)
    )
    if not states:
        return None
    window = states[offset : offset + limit]
    items = [s.to_json() for s in summarize_states(coll.store, coll.settings, window)]
    return Page(items, len(states), limit, offset)


def story_json(coll: Collection, id: str) -> dict[str, Any]:
    """One stored story as a ``wiretrace stories --json`` object; NotFound if absent."""
    return coll.story(id).to_json()

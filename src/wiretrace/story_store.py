# SQL here is built only from module constants; values go in as parameters.
# ruff: noqa: S608
"""Stories in the store: load the assigner's state, assign new articles, save changes.

The tables (``stories``, ``story_articles``, ``story_terms``; see ``store._migration_5``)
hold everything the online assignment needs to go on: each story's centroid (term
hashes and weights) and span, its members in joining order, and the document
frequencies. :func:`update_stories` loads them, assigns the articles that no story
holds yet (reuse pairs first, then similarity), merges new stories where they meet
others, and rewrites only the stories that changed; ids of existing stories never
change. A change of the ``stories`` settings rebuilds every story.
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pyarrow as pa

from wiretrace.analyze.stories import StoryAssigner, StoryState, StoryTables
from wiretrace.analyze.story_summary import Story, story_label, summarize_story
from wiretrace.analyze.story_vectors import TermCounter, body_text
from wiretrace.errors import ConfigError, NotFound
from wiretrace.models import Article, Span
from wiretrace.processes import workers_can_start
from wiretrace.settings import Settings, StoriesSettings
from wiretrace.store import Store
from wiretrace.text.aliases import AliasTable

__all__ = [
    "StoryUpdate",
    "iter_stories",
    "load_story",
    "story_states",
    "summarize_states",
    "update_stories",
]

log = logging.getLogger(__name__)

_PARALLEL_FROM = 20_000  # articles at once from which counting uses worker processes


@dataclass(frozen=True, slots=True)
class StoryUpdate:
    """What :func:`update_stories` did: articles assigned, stories now stored, stories
    founded or changed, and whether every story was rebuilt."""

    assigned: int
    stories: int
    changed: int
    rebuilt: bool


def _options(settings: StoriesSettings, n_new: int) -> dict[str, Any]:
    workers = (settings.workers or (os.cpu_count() or 1)) if workers_can_start() else 1
    return {
        "threshold": settings.threshold,
        "merge_threshold": settings.merge_threshold,
        "window_days": settings.window_days,
        "top_terms": settings.top_terms,
        "index_terms": settings.index_terms,
        "lead_chars": settings.lead_chars,
        "candidates": settings.candidates,
        "batch": settings.batch,
        "workers": workers if n_new >= _PARALLEL_FROM else 1,
    }


def _settings_state(settings: StoriesSettings) -> str:
    """What stored stories depend on (workers only change the speed)."""
    return repr({k: v for k, v in _options(settings, 0).items() if k != "workers"})


def _make(tables: StoryTables | None, options: dict[str, Any]) -> StoryAssigner:
    try:
        if tables is None:
            return StoryAssigner(**options)
        return StoryAssigner.from_tables(tables, **options)
    except ValueError as exc:
        raise ConfigError(f"stories.{exc} (stories settings)") from None


def _when(wall: datetime | None, offset: int | None) -> datetime | None:
    if wall is None or offset is None:
        return wall
    return wall.replace(tzinfo=timezone(timedelta(minutes=offset)))


def _split(value: datetime | None) -> tuple[datetime | None, int | None]:
    if value is None:
        return None, None
    offset = value.utcoffset()
    wall = value.replace(tzinfo=None)
    return wall, None if offset is None else int(offset.total_seconds() // 60)


def _load_tables(store: Store) -> StoryTables:
    stories = store.query(
        'SELECT story, founder, "start", start_utc_offset, "end", end_utc_offset, terms, '
        "weights FROM stories ORDER BY story"
    )
    members = store.query(
        "SELECT s.story, s.article FROM story_articles s SEMI JOIN articles a "
        "ON a.id = s.article ORDER BY s.story, s.rank"
    )
    # in the order saved (the vocabulary's column order, which decides ties between
    # equal weights): stated, not left to the scan
    terms = store.query("SELECT hash, df FROM story_terms ORDER BY rowid")
    ids = stories.column("story").to_pylist()
    position = {sid: i for i, sid in enumerate(ids)}
    term_lists = stories.column("terms").combine_chunks()
    weight_lists = stories.column("weights").combine_chunks()
    starts = [_when(w, o) for w, o in zip(stories.column("start").to_pylist(),
                                          stories.column("start_utc_offset").to_pylist(),
                                          strict=True)]  # fmt: skip
    ends = [_when(w, o) for w, o in zip(stories.column("end").to_pylist(),
                                        stories.column("end_utc_offset").to_pylist(),
                                        strict=True)]  # fmt: skip
    return StoryTables(
        ids=ids,
        founders=stories.column("founder").to_pylist(),
        starts=starts,
        ends=ends,
        cent_indptr=np.asarray(term_lists.offsets, dtype=np.int64)
        if len(ids)
        else np.zeros(1, np.int64),
        cent_hashes=np.asarray(term_lists.values, dtype=np.int64)
        if len(ids)
        else np.zeros(0, np.int64),
        cent_weights=np.asarray(weight_lists.values, dtype=np.float64)
        if len(ids)
        else np.zeros(0),
        article_ids=members.column("article").to_pylist(),
        article_story=np.array(
            [position[s] for s in members.column("story").to_pylist()], dtype=np.int64
        ),
        df_hashes=np.asarray(terms.column("hash").to_numpy(), dtype=np.int64),
        df=np.asarray(terms.column("df").to_numpy(), dtype=np.int64),
        n_docs=int(store.meta("stories_docs") or 0),
    )


def _reuse(store: Store) -> dict[str, set[str]]:
    """Each article's reuse partners. Sets: their order changes with the process's
    hash seed, so the assignment must not depend on it (it counts them)."""
    links: dict[str, set[str]] = defaultdict(set)
    for source, target in _pairs_of(store.query("SELECT source, target FROM pairs")):
        links[source].add(target)
        links[target].add(source)
    return links


def _pairs_of(table: pa.Table) -> list[tuple[str, str]]:
    """The rows of a two-column table as tuples."""
    first, second = (table.column(i).to_pylist() for i in range(2))
    return list(zip(first, second, strict=True))


def update_stories(store: Store, settings: Settings) -> StoryUpdate:
    """Assign the stored articles that no story holds yet, merge, save what changed."""
    state = _settings_state(settings.stories)
    rebuild = store.meta("stories_settings") != state
    source = "articles a" + ("" if rebuild else " ANTI JOIN story_articles s ON s.article = a.id")
    n_new = int(store.query(f"SELECT count(*) AS n FROM {source}").column("n")[0].as_py())
    if not n_new and not rebuild:
        return StoryUpdate(0, _count(store), 0, False)
    options = _options(settings.stories, n_new)
    t_start = time.perf_counter()
    ids: list[str] = []
    published: list[datetime | None] = []
    with TermCounter(options["lead_chars"], options["workers"]) as counter:
        for batch in _article_batches(store, source):
            items = []
            for row in batch:
                ids.append(row["id"])
                published.append(_when(row["published"], row["published_utc_offset"]))
                spans = tuple(Span(x["start"], x["end"], x["kind"]) for x in row["excluded"] or ())
                body = body_text(Article(id=row["id"], text=row["text"] or "", excluded=spans))
                items.append((body, row["title"]))
            counter.add(items)
        counts = counter.result()
    t_counted = time.perf_counter()
    assigner = _make(None if rebuild else _load_tables(store), options)
    t_loaded = time.perf_counter()
    assigner.assign_counts(ids, published, counts, _reuse(store))
    t_assigned = time.perf_counter()
    assigner.merge()
    t_merged = time.perf_counter()
    _save(store, assigner, state, full=rebuild)
    log.info(
        "stories: %d articles read and counted in %.1fs, state loaded in %.1fs, assigned "
        "in %.1fs, merged in %.1fs, saved in %.1fs", len(ids), t_counted - t_start,
        t_loaded - t_counted, t_assigned - t_loaded, t_merged - t_assigned,
        time.perf_counter() - t_merged,
    )  # fmt: skip
    return StoryUpdate(len(ids), _count(store), len(assigner.changed), rebuild)


_COLUMNS = ("id", "title", "published", "published_utc_offset", "excluded", "text")


def _article_batches(
    store: Store, source: str, size: int = 20_000
) -> Iterator[list[dict[str, Any]]]:
    """What counting needs of the articles in ``source``, in batches (sorted by id):
    streamed when that is every article, else one query."""
    if source == "articles a":
        batch: list[dict[str, Any]] = []
        for row in store.iter_article_rows(_COLUMNS):
            batch.append(row)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch
        return
    cols = ", ".join(f'a."{c}"' for c in _COLUMNS)
    yield store.query(f"SELECT {cols} FROM {source} ORDER BY a.id").to_pylist()


def _count(store: Store) -> int:
    return int(store.query("SELECT count(*) AS n FROM stories").column("n")[0].as_py())


def _titles(store: Store, ids: Sequence[str]) -> dict[str, str | None]:
    rows = store.query(
        "SELECT id, title FROM articles WHERE id IN (SELECT unnest(?::VARCHAR[]))", [list(ids)]
    )
    return dict(zip(rows.column("id").to_pylist(), rows.column("title").to_pylist(), strict=True))


def _save(store: Store, assigner: StoryAssigner, state: str, full: bool) -> None:
    t = assigner.tables(changed_only=not full)
    titles = _titles(store, t.article_ids)
    members: dict[int, list[str]] = defaultdict(list)
    for a, s in zip(t.article_ids, t.article_story.tolist(), strict=True):
        members[s].append(a)
    starts = [_split(v) for v in t.starts]
    ends = [_split(v) for v in t.ends]
    offsets = pa.array(t.cent_indptr, pa.int32())
    stories = pa.table({
        "story": pa.array(t.ids, pa.string()),
        "founder": pa.array(t.founders, pa.string()),
        "title": pa.array([story_label([titles.get(a) for a in members[i]])
                           for i in range(len(t.ids))], pa.string()),
        "start": pa.array([w for w, _ in starts], pa.timestamp("us")),
        "start_utc_offset": pa.array([o for _, o in starts], pa.int32()),
        "end": pa.array([w for w, _ in ends], pa.timestamp("us")),
        "end_utc_offset": pa.array([o for _, o in ends], pa.int32()),
        "articles": pa.array([len(members[i]) for i in range(len(t.ids))], pa.int32()),
        "terms": pa.ListArray.from_arrays(offsets, pa.array(t.cent_hashes, pa.int64())),
        "weights": pa.ListArray.from_arrays(offsets, pa.array(t.cent_weights, pa.float64())),
    })  # fmt: skip
    ranks = np.arange(len(t.article_ids)) - np.repeat(
        np.searchsorted(t.article_story, np.arange(len(t.ids))),
        np.bincount(t.article_story, minlength=len(t.ids)),
    ) if len(t.article_ids) else np.zeros(0, np.int64)  # fmt: skip
    story_articles = pa.table({
        "story": pa.array([t.ids[s] for s in t.article_story.tolist()], pa.string()),
        "article": pa.array(t.article_ids, pa.string()),
        "rank": pa.array(ranks, pa.int32()),
    })  # fmt: skip
    terms = pa.table({"hash": pa.array(t.df_hashes, pa.int64()),
                      "df": pa.array(t.df, pa.int32())})  # fmt: skip
    key = None if full else "story"
    store.write_rows(
        [("stories", key, stories), ("story_articles", key, story_articles),
         ("story_terms", None, terms)],
        meta=[("stories_settings", state), ("stories_docs", str(t.n_docs))],
    )  # fmt: skip


# -- reading ----------------------------------------------------------------------------


def story_states(store: Store, only: str | None = None) -> list[tuple[StoryState, str]]:
    """Every stored story (earliest first, undated last, then by id) with its label;
    with ``only``, that story alone (or none)."""
    params = [only] if only is not None else []
    rows = store.query(
        'SELECT story, founder, title, "start", start_utc_offset, "end", end_utc_offset '
        f'FROM stories {"WHERE story = ?" if params else ""} ORDER BY "start" NULLS LAST, story',
        params,
    ).to_pylist()
    members: dict[str, list[str]] = defaultdict(list)
    for story, article in _pairs_of(store.query(
        "SELECT s.story, s.article FROM story_articles s SEMI JOIN articles a "
        f"ON a.id = s.article {'WHERE s.story = ?' if params else ''} ORDER BY s.story, s.rank",
        params,
    )):  # fmt: skip
        members[story].append(article)
    return [
        (
            StoryState(
                id=r["story"],
                founder=r["founder"],
                members=tuple(members.get(r["story"], ())),
                start=_when(r["start"], r["start_utc_offset"]),
                end=_when(r["end"], r["end_utc_offset"]),
            ),
            r["title"] or "",
        )
        for r in rows
        if members.get(r["story"])
    ]


def iter_stories(store: Store, settings: Settings) -> Iterator[Story]:
    """Every stored story with its entities, facts and reuse links. Read a few thousand
    member articles at a time (with the pairs among them), not the whole collection."""
    states = story_states(store)
    if not states:
        return
    yield from summarize_states(store, settings, states)


def summarize_states(
    store: Store, settings: Settings, states: Sequence[tuple[StoryState, str]]
) -> Iterator[Story]:
    """``states`` (from :func:`story_states`) summarised in order, reading a few thousand
    member articles at a time (with the pairs among them)."""
    aliases = AliasTable.load(tuple(settings.text.alias_files))
    for chunk in _chunks_of_members(states):
        members = {a for state, _ in chunk for a in state.members}
        articles = store.articles_by_id(members)
        pairs = list(store.iter_pairs(among=members))
        for state, title in chunk:
            yield summarize_story(state, articles, pairs, aliases=aliases, title=title)


def _chunks_of_members(
    states: Sequence[tuple[StoryState, str]],
) -> Iterator[list[tuple[StoryState, str]]]:
    """``states`` in order, cut into runs of about :data:`_STORY_CHUNK_ARTICLES` members."""
    chunk: list[tuple[StoryState, str]] = []
    size = 0
    for item in states:
        chunk.append(item)
        size += len(item[0].members)
        if size >= _STORY_CHUNK_ARTICLES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


# Member articles read at once when listing stories (with the pairs among them).
_STORY_CHUNK_ARTICLES = 5000


def load_story(store: Store, id: str, settings: Settings) -> Story:
    """One stored story; :class:`NotFound` when no story has that id."""
    for state, title in story_states(store, id):
        articles = store.articles_by_id(state.members)
        pairs = list(store.iter_pairs(among=state.members))
        aliases = AliasTable.load(tuple(settings.text.alias_files))
        return summarize_story(state, articles, pairs, aliases=aliases, title=title)
    raise NotFound(f"{id}: no such story (see `wiretrace stories`)")

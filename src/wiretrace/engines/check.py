# SQL here is built only from integers (fingerprint hashes and article keys), so that
# DuckDB can answer the IN lists from its indexes.
# ruff: noqa: S608
"""``check``: one article against the stored collection, answered from the detection
index (:mod:`wiretrace.engines.incremental`), nothing stored.

The article's winnowed fingerprints are looked up in ``postings`` (a literal ``IN``
list, which DuckDB answers from the ART index on ``hash``: point lookups, no scan),
except the much-shared ones (a reprint flood's: one posting per copy), whose groups come
from ``check_hot`` (:mod:`wiretrace.engines.check_hot`; on a store open read-only,
while the table matches the index); the
hits are counted per near-duplicate group (document frequency in groups, as the
collection's own candidates are), vectorised; the ``detect.check_candidates`` groups
sharing most rare fingerprints are aligned against it through their representatives, and
every pair found is attributed (origin, evidence, credit, coverages), as stored pairs
are. The answer is the same with or without ``check_hot`` and the caches.

A store open read-only cannot change while it is open (DuckDB's file lock keeps writers
out; a server's snapshot generation is a file of its own), so for such a store the
stored articles read, their prepared and masked forms and the shared boilerplate are
remembered between checks (:mod:`wiretrace.engines.check_cache`); a writable store is
read afresh each time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from wiretrace.detect.edits import EntityLookup, retype_edits
from wiretrace.engines.check_cache import StoreCache, files_state, store_cache
from wiretrace.engines.check_hot import HotTable
from wiretrace.engines.incremental import _prepare, mask_boilerplate, stored_boilerplate
from wiretrace.engines.local import Prepared
from wiretrace.models import Article, Passage, ReusePair
from wiretrace.settings import DetectSettings, Settings
from wiretrace.store import Store
from wiretrace.text.fingerprint import article_key

__all__ = ["check_article", "check_context"]


def check_context(
    store: Store, settings: Settings, load_aliases: Callable[[], EntityLookup | None]
) -> tuple[EntityLookup | None, dict[tuple[str, str], int]]:
    """The alias table (``load_aliases()``) and the swaps learned from the stored pairs
    that :func:`check_article` uses. Loaded once per store that cannot change: a server
    opens a collection per request, and loading them again each time (with a fresh alias
    table, so nothing prepared with the old one is found again) doubled a check's CPU."""
    from wiretrace.engines.incremental import learned_aliases

    def load() -> tuple[EntityLookup | None, dict[tuple[str, str], int]]:
        return load_aliases(), learned_aliases(store, settings)

    cache = store_cache(store)
    if cache is None:
        return load()
    key = ("context", files_state(settings.text.alias_files),
           settings.detect.learn_alias_min_pairs)
    found: tuple[EntityLookup | None, dict[tuple[str, str], int]] = cache.context(key, load)
    return found


def check_article(
    store: Store,
    article: Article,
    settings: Settings,
    aliases: EntityLookup | None,
    learned: Mapping[tuple[str, str], int] | None = None,
) -> list[ReusePair]:
    """Pairs between ``article`` (not stored) and the indexed articles, attributed,
    sorted by (source, target). Reads the index only: the article's fingerprints are
    looked up by hash (index point lookups), the ``detect.check_candidates`` groups
    sharing most rare fingerprints are aligned against it (their representatives)."""
    from wiretrace.analyze.provenance import attribute
    from wiretrace.detect import provisional_order
    from wiretrace.engines.local import _align_one
    from wiretrace.text.fingerprint import fingerprints, ngram_size

    prep = _prepare(article, settings, aliases)
    hashes, _ = fingerprints(prep.seq, ngram_size(prep.seq, settings), settings.text.winnow_window)
    query = np.unique(np.asarray(hashes, dtype=np.int64))
    if not len(query):
        return []
    con = store.connection
    cache = store_cache(store)
    hot = cache.hot(con, settings) if cache is not None else None
    rep_ids = _candidates(con, query, article.id, settings.detect, cache, hot)
    if not rep_ids:
        return []
    others = _articles(store, rep_ids, cache)
    # the collection's shared boilerplate (a site notice) is masked, as in detection
    boilerplate = cache.boilerplate(store) if cache is not None else stored_boilerplate(store)
    mine = mask_boilerplate(prep, article.id, boilerplate, settings)
    pairs: list[ReusePair] = []
    for other_id in rep_ids:
        other = others.get(other_id)
        if other is None:
            continue
        src, tgt = provisional_order(other, article)
        p_src = mine if src is article else _stored(src, settings, aliases, boilerplate, cache)
        p_tgt = mine if tgt is article else _stored(tgt, settings, aliases, boilerplate, cache)
        passages: list[Passage] = _align_one(p_src, p_tgt, settings, aliases)
        if not passages:
            continue
        if learned:  # (attribute measures the coverages: no provisional pair is built)
            passages = [replace(p, edits=retype_edits(p.edits, learned)) for p in passages]
        pairs.append(attribute(src, tgt, passages, settings, aliases))  # type: ignore[arg-type]
    return sorted(pairs, key=lambda p: (p.source, p.target))


def _candidates(
    con: Any,
    query: np.ndarray,
    own: str,
    ds: DetectSettings,
    cache: StoreCache | None,
    hot: HotTable | None = None,
) -> list[str]:
    """The ids to align with: the representatives of the ``ds.check_candidates``
    near-duplicate groups sharing most fingerprints of ``query`` whose document frequency
    (in groups) is at most ``ds.max_df``, at least ``ds.min_shared`` of them, most first
    (ties: smaller group key). The article ``own`` (a stored article checked again) is
    left out of every count. With ``hot`` (:mod:`wiretrace.engines.check_hot`), the
    groups of much-shared fingerprints come from it instead of their postings."""
    empty = np.empty(0, dtype=np.int64)
    hot_hash, hot_grp, cold = hot.split(query, article_key(own)) if hot else (empty, empty, query)
    hit_hash, hit_art = _postings(con, cold, cache)
    info = _indexed(con, np.unique(hit_art).tolist(), cache) if len(hit_art) else {}
    hit_grp = empty
    if info:
        keys = np.array(sorted(info), dtype=np.int64)
        grp = np.fromiter((info[k][1] for k in keys.tolist()), np.int64, len(keys))
        usable = np.fromiter((info[k][0] != own for k in keys.tolist()), bool, len(keys))
        # each hit's row in ``keys``; hits on articles not indexed (or the input) dropped
        at = np.minimum(np.searchsorted(keys, hit_art), len(keys) - 1)
        keep = (keys[at] == hit_art) & usable[at]
        hit_hash, hit_art, hit_grp = hit_hash[keep], hit_art[keep], grp[at[keep]]
    else:
        hit_hash = hit_art = empty
    best = _best_groups(
        np.concatenate((hit_hash, hot_hash)), np.concatenate((hit_grp, hot_grp)), ds
    )
    ids = {k: v[0] for k, v in info.items()}
    unknown = [g for g in best if g not in ids]
    if unknown:
        ids.update((k, v[0]) for k, v in _indexed(con, unknown, cache).items())
    if hot is not None and any(ids.get(g, "") == own for g in best):
        # the input's stored copy represents a candidate group: its stand-in is the
        # member sharing most fingerprints, counted over every posting
        return _candidates(con, query, own, ds, cache)
    return [_representative(g, ids, hit_art[hit_grp == g], own) for g in best]


def _postings(con: Any, query: np.ndarray, cache: StoreCache | None) -> tuple[np.ndarray, ...]:
    """(hash, article) of every posting of the hashes in ``query``: looked up in the
    store, except the postings ``cache`` remembers (a flooded story's)."""
    if cache is not None:
        known_hash, known_art, query = cache.postings(query)
    if len(query):
        # a literal IN list: DuckDB answers it from the ART index on postings(hash)
        found = con.execute(
            "SELECT hash, article FROM postings WHERE hash IN ("
            + ",".join(map(str, query.tolist())) + ")"
        ).fetchnumpy()
        hit_hash = np.asarray(found["hash"], dtype=np.int64)
        hit_art = np.asarray(found["article"], dtype=np.int64)
    else:
        hit_hash = hit_art = np.empty(0, dtype=np.int64)
    if cache is None:
        return hit_hash, hit_art
    cache.remember_postings(hit_hash, hit_art)
    return np.concatenate((known_hash, hit_hash)), np.concatenate((known_art, hit_art))


def _indexed(con: Any, keys: list[int], cache: StoreCache | None) -> dict[int, tuple[str, int]]:
    """``indexed`` rows of the article ``keys`` (absent ones left out): key -> (id,
    near-duplicate group key; the article's own key when it is in no group)."""
    known, missing = cache.indexed(keys) if cache is not None else ({}, keys)
    if missing:
        rows = {
            int(a): (str(i), int(g))
            for a, i, g in con.execute(
                "SELECT article, id, coalesce(grp, article) FROM indexed WHERE article IN ("
                + ",".join(map(str, missing)) + ")"
            ).fetchall()
        }
        if cache is not None:
            cache.remember_indexed(rows)
        known.update(rows)
    return known


def _best_groups(hit_hash: np.ndarray, hit_grp: np.ndarray, ds: DetectSettings) -> list[int]:
    """Groups sharing at least ``ds.min_shared`` distinct hashes held by at most
    ``ds.max_df`` groups, most shared first (ties: smaller key), the first
    ``ds.check_candidates`` of them."""
    if not len(hit_hash):
        return []
    order = np.lexsort((hit_grp, hit_hash))
    h, g = hit_hash[order], hit_grp[order]
    first = np.ones(len(h), dtype=bool)
    first[1:] = (h[1:] != h[:-1]) | (g[1:] != g[:-1])
    h, g = h[first], g[first]  # distinct (hash, group), sorted by hash
    starts = np.flatnonzero(np.concatenate(([True], h[1:] != h[:-1])))
    per_hash = np.diff(np.append(starts, len(h)))  # groups holding each hash
    rare = np.repeat(per_hash <= ds.max_df, per_hash)
    groups, shared = np.unique(g[rare], return_counts=True)
    enough = shared >= ds.min_shared
    groups, shared = groups[enough], shared[enough]
    top = np.lexsort((groups, -shared))[: ds.check_candidates]
    return [int(x) for x in groups[top]]


def _representative(group: int, ids: Mapping[int, str], members: np.ndarray, own: str) -> str:
    """The id to align with for ``group``: its representative, unless that is the input
    itself (a stored article checked again), then the member hit most (``members``: the
    group's article key of each hit; ties: the smaller key)."""
    rep = ids.get(group, "")
    if rep != own:
        return rep
    keys, hits = np.unique(members, return_counts=True)
    return ids[int(keys[int(np.argmax(hits))])]


def _articles(store: Store, ids: Sequence[str], cache: StoreCache | None) -> dict[str, Article]:
    """The stored articles ``ids`` (remembered when the store cannot change)."""
    if cache is None:
        return store.articles_by_id(ids)
    return cache.articles(store, ids)


_PREPARED: OrderedDict[tuple[str, str, str, int], Prepared] = OrderedDict()
_PREPARED_MAX = 512


def _prepared(article: Article, settings: Settings, aliases: EntityLookup | None) -> Prepared:
    """:func:`_prepare`, remembered for the most recently used stored articles (a
    flood's representative answers many checks)."""
    key = (article.id, article.content_hash, repr(settings.text), id(aliases))
    found = _PREPARED.get(key)
    if found is None:
        found = _prepare(article, settings, aliases)
        _PREPARED[key] = found
        if len(_PREPARED) > _PREPARED_MAX:
            _PREPARED.popitem(last=False)
    else:
        _PREPARED.move_to_end(key)
    return found


def _stored(
    article: Article,
    settings: Settings,
    aliases: EntityLookup | None,
    boilerplate: frozenset[int],
    cache: StoreCache | None,
) -> Prepared:
    """A stored article prepared (remembered) and masked (:func:`mask_boilerplate`;
    remembered too when the store cannot change)."""
    if cache is None:
        return mask_boilerplate(_prepared(article, settings, aliases), article.id, boilerplate,
                                settings)
    key = (article.id, article.content_hash, repr(settings.text), id(aliases))
    return cache.masked(
        key,
        lambda: mask_boilerplate(_prepared(article, settings, aliases), article.id,
                                 boilerplate, settings),
    )

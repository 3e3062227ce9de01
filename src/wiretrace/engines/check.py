# SQL here is built only from integers (fingerprint hashes and article keys), so that
# DuckDB can answer the IN lists from its indexes.
# ruff: noqa: S608
"""``check``: one article against the stored collection, answered from the detection
index (:mod:`wiretrace.engines.incremental`), nothing stored.

The article's winnowed fingerprints are looked up in ``postings`` (a literal ``IN``
list, which DuckDB answers from the ART index on ``hash``: point lookups, no scan); the
hits are counted per near-duplicate group (document frequency in groups, as the
collection's own candidates are); the ``detect.check_candidates`` groups sharing most
rare fingerprints are aligned against it through their representatives, and every pair
found is attributed (origin, evidence, credit, coverages), as stored pairs are.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from wiretrace.detect.edits import EntityLookup, apply_learned_aliases
from wiretrace.engines.incremental import _prepare, mask_boilerplate, stored_boilerplate
from wiretrace.engines.local import Prepared
from wiretrace.models import Article, Passage, ReusePair
from wiretrace.settings import Settings
from wiretrace.store import Store

__all__ = ["check_article"]


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
    from wiretrace.detect import _pair, provisional_order
    from wiretrace.engines.local import _align_one
    from wiretrace.text.fingerprint import fingerprints, ngram_size

    ds = settings.detect
    prep = _prepare(article, settings, aliases)
    hashes, _ = fingerprints(prep.seq, ngram_size(prep.seq, settings), settings.text.winnow_window)
    query = sorted({int(h) for h in hashes})
    if not query:
        return []
    con = store.connection
    # a literal IN list: DuckDB answers it from the ART index on postings(hash)
    hits = con.execute(
        "SELECT hash, article FROM postings WHERE hash IN (" + ",".join(map(str, query)) + ")"
    ).fetchall()
    if not hits:
        return []
    arts = sorted({int(a) for _, a in hits})
    info = {
        int(a): (str(i), int(g) if g is not None else int(a))
        for a, i, g in con.execute(
            "SELECT article, id, grp FROM indexed WHERE article IN ("
            + ",".join(map(str, arts)) + ")"
        ).fetchall()
    }
    by_hash: dict[int, set[int]] = {}
    member_hits: dict[int, dict[int, int]] = {}  # group -> member -> fingerprints hit
    for h, a in hits:
        key = int(a)
        if key in info and info[key][0] != article.id:
            group = info[key][1]
            by_hash.setdefault(int(h), set()).add(group)
            hit = member_hits.setdefault(group, {})
            hit[key] = hit.get(key, 0) + 1
    shared: dict[int, int] = {}
    for groups in by_hash.values():
        if len(groups) <= ds.max_df:
            for g in groups:
                shared[g] = shared.get(g, 0) + 1
    best = sorted(
        (g for g, n in shared.items() if n >= ds.min_shared), key=lambda g: (-shared[g], g)
    )[: ds.check_candidates]
    if not best:
        return []
    rep_ids = [_representative(con, g, info, member_hits[g], article.id) for g in best]
    others = store.articles_by_id(rep_ids)
    # the collection's shared boilerplate (a site notice) is masked, as in detection
    boilerplate = stored_boilerplate(store)
    mine = mask_boilerplate(prep, article.id, boilerplate, settings)
    pairs: list[ReusePair] = []
    for other_id in rep_ids:
        other = others.get(other_id)
        if other is None:
            continue
        src, tgt = provisional_order(other, article)
        p_src = mine if src is article else _stored(src, settings, aliases, boilerplate)
        p_tgt = mine if tgt is article else _stored(tgt, settings, aliases, boilerplate)
        passages: list[Passage] = _align_one(p_src, p_tgt, settings, aliases)
        if not passages:
            continue
        raw = _pair(src, tgt, passages)
        if learned:
            raw = apply_learned_aliases([raw], learned)[0]
        pairs.append(attribute(src, tgt, raw.passages, settings, aliases))  # type: ignore[arg-type]
    return sorted(pairs, key=lambda p: (p.source, p.target))


def _representative(
    con: Any, group: int, info: Mapping[int, tuple[str, int]], hits: Mapping[int, int], own: str
) -> str:
    """The id to align with for ``group``: its representative, unless that is the input
    itself (a stored article checked again), then the member hit most."""
    rep = info[group][0] if group in info else _id_of(con, group)
    if rep != own:
        return rep
    return info[max(hits, key=lambda k: (hits[k], -k))][0]


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
    article: Article, settings: Settings, aliases: EntityLookup | None, boilerplate: frozenset[int]
) -> Prepared:
    """A stored article prepared (remembered) and masked (:func:`mask_boilerplate`)."""
    prep = _prepared(article, settings, aliases)
    return mask_boilerplate(prep, article.id, boilerplate, settings)


def _id_of(con: Any, key: int) -> str:
    rows = con.execute("SELECT id FROM indexed WHERE article = ?", [key]).fetchall()
    return str(rows[0][0]) if rows else ""

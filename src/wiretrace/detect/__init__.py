"""Reuse detection over a collection: normalise, fingerprint, candidates, align, type.

:func:`detect_reuse` is the whole stage for articles in memory; :func:`align_articles`
aligns one given pair. Pairs come out *provisionally oriented*: ``source`` is the earlier
published article when both carry a date, else the smaller id. Provenance
(``analyze.provenance.attribute``) re-orients them with evidence; it needs nothing more
than what a raw pair carries (both ids; passages with both sides' offsets;
``Passage.swapped()``).
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from wiretrace.detect.align import align_pair
from wiretrace.detect.candidates import Candidates, candidate_plan
from wiretrace.detect.edits import (
    EntityLookup,
    LearnedAliases,
    apply_learned_aliases,
    learn_aliases,
)
from wiretrace.errors import WiretraceError
from wiretrace.models import Article, Passage, ReusePair
from wiretrace.progress import Progress
from wiretrace.settings import Settings
from wiretrace.text.tokens import tokenize

__all__ = [
    "Detection",
    "align_articles",
    "body_coverage",
    "detect_collection",
    "detect_reuse",
    "prepare",
    "provisional_order",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Detection:
    """Everything one detection run found."""

    pairs: list[ReusePair]
    groups: dict[str, str] = field(default_factory=dict)  # article id -> group id
    learned: LearnedAliases = field(default_factory=dict)
    candidates: int = 0


def _load_aliases(settings: Settings) -> EntityLookup:
    from wiretrace.text.aliases import AliasTable

    table: EntityLookup = AliasTable.load(tuple(settings.text.alias_files))
    return table


def prepare(article: Article, settings: Settings, aliases: object) -> object:
    """The kernel's view of one article (``engines.local.Prepared``)."""
    from wiretrace.engines.local import Prepared
    from wiretrace.text.normalize import normalize
    from wiretrace.text.sentences import split_sentences

    seq = normalize(article, aliases, settings)  # type: ignore[arg-type]
    return Prepared(article.text, seq, tuple(split_sentences(article.text, article.excluded)))


def provisional_order(a: Article, b: Article) -> tuple[Article, Article]:
    """(source, target) before provenance: earlier publication when both are dated
    (and differ), else the smaller id first."""
    if a.published is not None and b.published is not None:
        try:
            if a.published != b.published:
                return (a, b) if a.published < b.published else (b, a)
        except TypeError:  # naive vs aware: leave it to provenance
            pass
    return (a, b) if a.id <= b.id else (b, a)


def body_coverage(article: Article, ranges: Iterable[tuple[int, int]]) -> float:
    """Share of ``article``'s body words (tokens outside title and boilerplate) whose
    start lies inside one of ``ranges`` (character offsets); 0.0 without body words."""
    starts = tokenize(article.text, article.excluded).starts
    if not starts:
        return 0.0
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    inside = sum(
        bisect.bisect_left(starts, hi) - bisect.bisect_left(starts, lo) for lo, hi in merged
    )
    return inside / len(starts)


def _pair(source: Article, target: Article, passages: Sequence[Passage]) -> ReusePair:
    return ReusePair(
        source=source.id,
        target=target.id,
        passages=tuple(passages),
        source_coverage=body_coverage(source, ((p.source_start, p.source_end) for p in passages)),
        target_coverage=body_coverage(target, ((p.target_start, p.target_end) for p in passages)),
    )


def _keys(articles: Sequence[Article]) -> dict[int, str]:
    from wiretrace.text.fingerprint import article_key

    keys: dict[int, str] = {}
    for art in articles:
        key = int(article_key(art.id))
        if key in keys and keys[key] != art.id:
            raise WiretraceError(f"article key collision: {keys[key]!r} and {art.id!r}")
        keys[key] = art.id
    return keys


def detect_collection(
    articles: Iterable[Article],
    settings: Settings,
    aliases: EntityLookup | None = None,
    progress: Progress | None = None,
) -> Detection:
    """Detect reuse among ``articles``; see :func:`detect_reuse`. Also returns the
    near-duplicate groups (article id -> group id, the id of the group's smallest key)
    and the aliases learned from the collection."""
    from wiretrace.engines.local import Prepared, align_many
    from wiretrace.text.fingerprint import postings_table

    by_id: dict[str, Article] = {}
    for art in articles:
        if art.id in by_id:
            raise WiretraceError(f"duplicate article id {art.id!r}")
        by_id[art.id] = art
    if len(by_id) < 2:
        return Detection(pairs=[])
    table = aliases if aliases is not None else _load_aliases(settings)
    ids = sorted(by_id)
    prepared: dict[str, Prepared] = {}
    keys = _keys([by_id[i] for i in ids])
    key_of = {v: k for k, v in keys.items()}
    for art_id in ids:
        prep = prepare(by_id[art_id], settings, table)
        assert isinstance(prep, Prepared)
        prepared[art_id] = prep
    postings = postings_table([key_of[i] for i in ids], [prepared[i].seq for i in ids], settings)
    cands: Candidates = candidate_plan(postings, settings, keys)
    todo: list[tuple[str, str]] = []
    for a_key, b_key in zip(
        cands.pairs.column("a").to_pylist(), cands.pairs.column("b").to_pylist(), strict=True
    ):
        src, tgt = provisional_order(by_id[keys[a_key]], by_id[keys[b_key]])
        todo.append((src.id, tgt.id))
    todo.sort()
    if progress is not None:
        progress.begin("align", total=len(todo))
    last = [0]

    def tick(done: int, total: int) -> None:
        if progress is not None:
            progress.advance(done - last[0])
            last[0] = done

    try:
        results = align_many(todo, prepared, settings, table, tick)
    finally:
        if progress is not None:
            progress.end()
    raw = [
        _pair(by_id[s], by_id[t], passages)
        for (s, t), passages in zip(todo, results, strict=True)
        if passages
    ]
    learned = learn_aliases(raw, settings.detect.learn_alias_min_pairs)
    pairs = apply_learned_aliases(raw, learned) if learned else raw
    groups = dict(
        zip(
            cands.groups.column("id").to_pylist(),
            cands.groups.column("group_id").to_pylist(),
            strict=True,
        )
    )
    log.info(
        "detect: %d articles, %d candidate pairs, %d reuse pairs, %d learned aliases",
        len(ids),
        len(todo),
        len(pairs),
        len(learned),
    )
    return Detection(pairs=pairs, groups=groups, learned=learned, candidates=len(todo))


def detect_reuse(
    articles: Iterable[Article],
    settings: Settings,
    aliases: EntityLookup | None = None,
    progress: Progress | None = None,
) -> list[ReusePair]:
    """Reusing article pairs among ``articles``, sorted by (source, target).

    normalise -> fingerprints -> postings (Arrow) -> candidate plan (DuckDB) -> align
    each candidate (process pool when many) -> typed edits (with swaps learned from the
    collection re-typed ``alias``) -> coverages (shares of each side's body words inside
    passages). Orientation is provisional (:func:`provisional_order`). Fewer than two
    articles give ``[]``; duplicate ids raise :class:`WiretraceError`.
    """
    return detect_collection(articles, settings, aliases, progress).pairs


def align_articles(
    a: Article,
    b: Article,
    settings: Settings,
    aliases: EntityLookup | None = None,
    learned: Mapping[tuple[str, str], int] | None = None,
) -> list[Passage]:
    """Passages between one given pair, ``a`` on the source side (no candidate stage)."""
    from wiretrace.text.normalize import normalize

    table = aliases if aliases is not None else _load_aliases(settings)
    seq_a = normalize(a, table, settings)  # type: ignore[arg-type]
    seq_b = normalize(b, table, settings)  # type: ignore[arg-type]
    return align_pair(a, b, seq_a, seq_b, settings, table, learned)

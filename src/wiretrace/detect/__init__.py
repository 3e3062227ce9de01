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
from datetime import UTC, datetime

import pyarrow as pa

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
from wiretrace.text.tokens import TokenSeq, tokenize

__all__ = [
    "Detection",
    "align_articles",
    "body_coverage",
    "detect_collection",
    "detect_reuse",
    "group_pairs",
    "mask_tokens",
    "prepare",
    "provisional_order",
    "shared_boilerplate",
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


def body_word_starts(text: str, seq: TokenSeq) -> list[int]:
    """``tokenize(text, excluded).starts`` read off ``seq``, the article's normalised body
    sequence (``normalize``: the same tokens, where an alias match merges several words
    into one entry, whose words are tokenised again here): the aligner has the sequence
    already, and tokenising the whole text again for each pair's coverage was a third of
    the cost of aligning it."""
    out: list[int] = []
    for start, end, words in zip(seq.starts, seq.ends, seq.words, strict=True):
        if words == 1:
            out.append(start)
        else:
            out.extend(start + x for x in tokenize(text[start:end]).starts)
    return out


def body_coverage(
    article: Article, ranges: Iterable[tuple[int, int]], starts: Sequence[int] | None = None
) -> float:
    """Share of ``article``'s body words (tokens outside title and boilerplate) whose
    start lies inside one of ``ranges`` (character offsets); 0.0 without body words.
    ``starts``: the body words' starts when known (:func:`body_word_starts`)."""
    if starts is None:
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


def _pair(
    source: Article,
    target: Article,
    passages: Sequence[Passage],
    starts: tuple[Sequence[int], Sequence[int]] | None = None,
) -> ReusePair:
    """The raw pair with its coverages (``starts``: both articles' body word starts,
    when known)."""
    s_starts, t_starts = starts if starts is not None else (None, None)
    return ReusePair(
        source=source.id,
        target=target.id,
        passages=tuple(passages),
        source_coverage=body_coverage(
            source, ((p.source_start, p.source_end) for p in passages), s_starts
        ),
        target_coverage=body_coverage(
            target, ((p.target_start, p.target_end) for p in passages), t_starts
        ),
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


def shared_boilerplate(
    postings: pa.Table,
    story_of: Mapping[int, int],
    settings: Settings,
    ngram_of: Mapping[int, int] | None = None,
) -> dict[int, list[tuple[int, int]]]:
    """Token ranges (article key -> [(first, end)], end exclusive) of shared
    boilerplate: n-grams whose fingerprint is in at least ``detect.boilerplate_share``
    of the collection's stories and in ``detect.boilerplate_min_stories`` or more.

    ``postings`` has columns ``article``, ``hash``, ``pos`` (``text.fingerprint``);
    ``story_of`` maps an article key to its near-duplicate group's key (articles not in
    it are stories of their own), so a story reprinted N times is one story and never
    boilerplate of its own reprints; ``ngram_of`` gives an article's n-gram size
    (``text.ngram`` when absent). Engines mask these ranges (:func:`mask_tokens`)
    before aligning, so a site notice under every article is never a passage.
    """
    import numpy as np

    ds = settings.detect
    if postings.num_rows == 0:
        return {}
    arts = postings.column("article").to_numpy()
    hashes = postings.column("hash").to_numpy()
    story = np.fromiter((story_of.get(int(a), int(a)) for a in arts), np.int64, len(arts))
    stories = len(np.unique(story))
    need = max(ds.boilerplate_min_stories, int(np.ceil(ds.boilerplate_share * stories)))
    if stories < need or need < 1:
        return {}
    pairs = np.unique(np.stack([hashes, story]), axis=1)
    found, counts = np.unique(pairs[0], return_counts=True)
    common = found[counts >= need]
    if not len(common):
        return {}
    rows = np.isin(hashes, common)
    sizes = ngram_of or {}
    out: dict[int, list[tuple[int, int]]] = {}
    positions = postings.column("pos").to_numpy()
    for key, pos in zip(arts[rows].tolist(), positions[rows].tolist(), strict=True):
        n = sizes.get(key, settings.text.ngram)
        out.setdefault(int(key), []).append((int(pos), int(pos) + n))
    log.info("detect: shared boilerplate in %d articles", len(out))
    return out


def mask_tokens(seq: TokenSeq, ranges: Iterable[tuple[int, int]], key: int) -> TokenSeq:
    """``seq`` whose tokens inside ``ranges`` match nothing: each gets a norm of its own
    (made from the article ``key`` and its index), so no anchor or equal run uses it.
    Offsets and word counts are kept."""
    norms = list(seq.norms)
    for lo, hi in ranges:
        for i in range(max(lo, 0), min(hi, len(norms))):
            norms[i] = f"\x00{key}:{i}"
    return TokenSeq(list(seq.starts), list(seq.ends), norms, list(seq.words))


def _earliest(article: Article) -> tuple[bool, datetime, str]:
    """Sort key: dated articles first, earliest first (a time without zone read as
    UTC), then by id."""
    when = article.published
    if when is None:
        return (True, datetime.min.replace(tzinfo=UTC), article.id)
    return (False, when if when.tzinfo else when.replace(tzinfo=UTC), article.id)


def group_pairs(
    members: Mapping[str, Sequence[str]], by_id: Mapping[str, Article], limit: int
) -> tuple[set[frozenset[str]], set[frozenset[str]]]:
    """(pairs to add, pairs to drop) for near-duplicate groups given as group id ->
    member ids (the group id is a member: the one a candidate plan pairs the others
    with).

    The plan pairs each member with the group's id, an arbitrary member; but the group's
    origin is what provenance must find, and a reprint paired only with another reprint
    loses its pair with the origin. A group of at most ``limit`` articles is aligned pair
    by pair (provenance then keeps origin -> member and drops sibling pairs); a larger
    one as a star around its earliest dated member, the likeliest origin (around the
    plan's choice when no member is dated).
    """
    add: set[frozenset[str]] = set()
    drop: set[frozenset[str]] = set()
    for group_id, ids in members.items():
        if len(ids) <= limit:
            add |= {frozenset((x, y)) for x in ids for y in ids if x < y}
            continue
        hub = min(ids, key=lambda i: _earliest(by_id[i]))
        if hub != group_id and by_id[hub].published is not None:
            drop |= {frozenset((group_id, m)) for m in ids if m not in (group_id, hub)}
            add |= {frozenset((hub, m)) for m in ids if m != hub}
    return add, drop


def _group_pairs(
    groups: pa.Table, by_id: Mapping[str, Article], limit: int
) -> tuple[set[frozenset[str]], set[frozenset[str]]]:
    """:func:`group_pairs` for a candidate plan's ``groups`` table (columns ``id`` and
    ``group_id``)."""
    members: dict[str, list[str]] = {}
    for art_id, group_id in zip(
        groups.column("id").to_pylist(), groups.column("group_id").to_pylist(), strict=True
    ):
        members.setdefault(group_id, []).append(art_id)
    return group_pairs(members, by_id, limit)


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
    from wiretrace.text.fingerprint import ngram_size, postings_table

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
    groups = cands.groups
    story_of = dict(
        zip(groups.column("article").to_pylist(), groups.column("group").to_pylist(), strict=True)
    )
    ngram_of = {key_of[i]: ngram_size(prepared[i].seq, settings) for i in ids}
    for key, ranges in shared_boilerplate(postings, story_of, settings, ngram_of).items():
        prep = prepared[keys[key]]
        masked = mask_tokens(prep.seq, ranges, key)
        prepared[keys[key]] = Prepared(prep.text, masked, prep.sentences)
    wanted = {
        frozenset((keys[a_key], keys[b_key]))
        for a_key, b_key in zip(
            cands.pairs.column("a").to_pylist(), cands.pairs.column("b").to_pylist(), strict=True
        )
    }
    add, drop = _group_pairs(groups, by_id, settings.detect.group_all_pairs)
    todo = sorted(
        (src.id, tgt.id)
        for src, tgt in (
            provisional_order(*(by_id[i] for i in sorted(pair))) for pair in (wanted - drop) | add
        )
    )
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

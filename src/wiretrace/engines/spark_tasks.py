"""What Spark tasks run: plain functions over Arrow record batches.

Each function here takes an iterator of ``pyarrow.RecordBatch`` (a partition, as
``DataFrame.mapInArrow`` hands it over) and yields batches of a fixed schema. They call
wiretrace's own readers, normaliser, fingerprinting, alignment kernel and provenance,
exactly as the local engine does; nothing here imports pyspark except
:func:`_maybe_die` (the fault hook, which reads the task context).

Worker processes load the alias table once (module cache) and reuse it for every batch.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from wiretrace.engines.rows import (
    ARTICLE_SCHEMA,
    PAIR_TYPE,
    PREP_SCHEMA,
    article_from_row,
    articles_table,
    pair_from_row,
    pair_row,
    prep_row,
    sentences_from_row,
    seq_from_row,
)
from wiretrace.models import Article, IngestIssue, Span
from wiretrace.settings import Settings

__all__ = [
    "ALIGNED_SCHEMA",
    "ISSUE_FIELDS",
    "LEARN_SCHEMA",
    "RECORD_SCHEMA",
    "alias_swap_batches",
    "align_batches",
    "attribute_group",
    "fingerprint_batches",
    "group_plan",
    "learn_batches",
    "normalize_batches",
    "rank_batches",
    "read_batches",
    "table_row_batches",
]

#: Fault injection for the fault tests, a Spark local property ``STAGE[:MODE]``: the
#: first task of ``STAGE`` kills its own Python worker (SIGKILL). MODE ``always`` kills
#: every attempt (the job fails); any other MODE is a file path, created just before the
#: kill and only on the first attempt (task retry then succeeds), so a test can prove
#: the kill happened.
FAULT_PROPERTY = "wiretrace.fault.kill_worker"

ISSUE_FIELDS = [
    ("_input", pa.int64()),
    ("_record", pa.int64()),
    ("_issue_input", pa.string()),
    ("_issue_reason", pa.string()),
    ("_issue_severity", pa.string()),
]
#: Ingest output: an article row (store schema) or an issue, with its input order.
RECORD_SCHEMA = pa.schema([*ARTICLE_SCHEMA, *ISSUE_FIELDS])

_PAIR_FIELDS = list(PAIR_TYPE)
#: Aligned (raw) pairs: provisional orientation, as detection gives them.
ALIGNED_SCHEMA = pa.schema(_PAIR_FIELDS)
#: One learnable name swap seen in one article pair.
LEARN_SCHEMA = pa.schema(
    [("ks", pa.string()), ("kt", pa.string()), ("lo", pa.string()), ("hi", pa.string())]
)

_ALIASES: dict[tuple[str, ...], Any] = {}


def _aliases(settings: Settings) -> Any:
    """The alias table, loaded once per worker process."""
    key = tuple(settings.text.alias_files)
    if key not in _ALIASES:
        from wiretrace.text.aliases import AliasTable

        _ALIASES[key] = AliasTable.load(key)
    return _ALIASES[key]


def _maybe_die(stage: str) -> None:
    """The fault hook (see :data:`FAULT_PROPERTY`)."""
    from pyspark import TaskContext

    ctx = TaskContext.get()
    value = ctx.getLocalProperty(FAULT_PROPERTY) if ctx is not None else None
    if ctx is None or not value or ctx.partitionId() != 0:
        return
    target, _, mode = value.partition(":")
    if target != stage:
        return
    if mode != "always":
        if ctx.attemptNumber() != 0:
            return
        if mode:
            Path(mode).touch()
    os.kill(os.getpid(), signal.SIGKILL)


def _batch(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist(rows, schema=schema)


# -- ingest ---------------------------------------------------------------------------


def _issue_row(n: int, k: int, issue: IngestIssue) -> dict[str, Any]:
    return {
        "_input": n,
        "_record": k,
        "_issue_input": issue.input,
        "_issue_reason": issue.reason,
        "_issue_severity": issue.severity,
    }


def _records(
    n: int, records: Iterable[Article | IngestIssue], display: str, now: datetime
) -> list[dict[str, Any]]:
    """Rows for one input's records: articles (with their warnings as issue rows),
    empty articles as a warning, bad records as issues; ``_record`` keeps their order."""
    from wiretrace.text.tokens import word_count

    rows: list[dict[str, Any]] = []
    k = 0
    for record in records:
        k += 1
        if isinstance(record, IngestIssue):
            rows.append(_issue_row(n, k, record))
            continue
        where = record.source or display
        for warning in record.warnings:
            rows.append(_issue_row(n, k, IngestIssue(where, warning, "warning")))
        words = word_count(record.text, record.excluded)
        if words == 0:
            rows.append(_issue_row(n, k, IngestIssue(where, "empty article skipped", "warning")))
            continue
        row = articles_table([record], [words], now).to_pylist()[0]
        row.update({"_input": n, "_record": k})
        rows.append(row)
    return rows


def read_batches(
    batches: Iterator[pa.RecordBatch], settings: Settings, now: datetime
) -> Iterator[pa.RecordBatch]:
    """Read local inputs with wiretrace's readers. Input columns: ``n`` (input order),
    ``id``, ``kind``, ``display``, ``path``, ``url``."""
    from wiretrace.ingest import _read_one
    from wiretrace.ingest.base import SourceInput

    _maybe_die("ingest")
    for batch in batches:
        for src in batch.to_pylist():
            inp = SourceInput(
                id=src["id"],
                kind=src["kind"],
                display=src["display"],
                path=Path(src["path"]) if src["path"] else None,
                url=src["url"],
            )
            rows = _records(src["n"], _read_one(inp, settings.ingest), inp.display, now)
            if rows:
                yield _batch(rows, RECORD_SCHEMA)


def table_row_batches(
    batches: Iterator[pa.RecordBatch],
    settings: Settings,
    now: datetime,
    display: str,
    stem: str,
    kind: str,
    n_input: int,
) -> Iterator[pa.RecordBatch]:
    """Rows of a Spark-read table (Parquet or JSON Lines) as articles, through the
    table reader's own row mapping. Input: the table's columns, ``_row`` (record number
    from 1: the line for JSON Lines without blank lines) and ``_corrupt`` (the raw line
    of a record Spark could not parse). Named ``URI:line N`` / ``URI:row N`` as the
    local table reader names them."""
    from wiretrace.ingest.base import SourceInput
    from wiretrace.ingest.tables import row_article

    src = SourceInput(id=stem, kind=kind, display=display)
    for batch in batches:
        out: list[dict[str, Any]] = []
        for row in batch.to_pylist():
            n = int(row["_row"])
            where = f"{display}:{'line' if kind == 'jsonl' else 'row'} {n}"
            corrupt = row.get("_corrupt")
            if corrupt is not None:
                shown = corrupt[:60] + ("..." if len(corrupt) > 60 else "")
                record: Article | IngestIssue = IngestIssue(where, f"malformed record: {shown}")
            else:
                record = row_article(row, n, where, src, settings.ingest)
            for r in _records(n_input, [record], display, now):
                r["_record"] = n
                out.append(r)
        if out:
            yield _batch(out, RECORD_SCHEMA)


# -- normalise and fingerprint --------------------------------------------------------


def normalize_batches(
    batches: Iterator[pa.RecordBatch], settings: Settings
) -> Iterator[pa.RecordBatch]:
    """Article rows -> ``PREP_SCHEMA`` rows (normalised body tokens, sentences)."""
    from wiretrace.text.fingerprint import article_key
    from wiretrace.text.normalize import normalize
    from wiretrace.text.sentences import split_sentences

    _maybe_die("normalize")
    aliases = _aliases(settings)
    for batch in batches:
        rows = []
        for row in batch.to_pylist():
            art = article_from_row(row)
            seq = normalize(art, aliases, settings)
            rows.append(
                prep_row(art.id, int(article_key(art.id)), seq,
                         split_sentences(art.text, art.excluded))
            )
        yield _batch(rows, PREP_SCHEMA)


def fingerprint_batches(
    batches: Iterator[pa.RecordBatch], settings: Settings
) -> Iterator[pa.RecordBatch]:
    """``PREP_SCHEMA`` rows -> postings ``(article, hash, pos)``, batch by batch."""
    from wiretrace.text.fingerprint import postings_table

    _maybe_die("fingerprint")
    for batch in batches:
        rows = batch.to_pylist()
        table = postings_table(
            [int(r["key"]) for r in rows], [seq_from_row(r) for r in rows], settings
        )
        yield from table.to_batches()


# -- align ----------------------------------------------------------------------------


class _Side:
    """One side of a pair to align: the article (the fields alignment and coverage
    read), its kernel view with its shared boilerplate (``bp``) masked, the view
    unmasked, and its fingerprints in more than ``detect.max_df`` groups (``fq``)."""

    def __init__(self, row: Mapping[str, Any], settings: Settings) -> None:
        from wiretrace.engines.local import Prepared
        from wiretrace.text.fingerprint import article_key

        self.article = Article(
            id=row["id"],
            text=row["text"],
            published=_published(row["published"], row["published_utc_offset"]),
            excluded=tuple(Span(s["start"], s["end"], s["kind"]) for s in row["excluded"] or ()),
        )
        seq = seq_from_row(row)
        sentences = sentences_from_row(row)
        self.plain = Prepared(row["text"], seq, sentences)
        masked = _masked(seq, row.get("bp"), int(article_key(self.article.id)), settings)
        self.masked = Prepared(row["text"], masked, sentences)
        self.frequent = frozenset(int(h) for h in row.get("fq") or ())


def _masked(seq: Any, positions: Iterable[int] | None, key: int, settings: Settings) -> Any:
    """``seq`` with the n-grams starting at ``positions`` (its shared boilerplate
    fingerprints) masked by :func:`wiretrace.detect.mask_tokens`, as the local engine
    masks them before every alignment."""
    if not positions:
        return seq
    from wiretrace.detect import mask_tokens
    from wiretrace.text.fingerprint import ngram_size

    n = ngram_size(seq, settings)
    return mask_tokens(seq, [(int(p), int(p) + n) for p in positions], key)


def _published(wall: datetime | None, offset: int | None) -> datetime | None:
    from wiretrace.store import _join_published

    return _join_published(wall, offset)


RANK_SCHEMA = pa.schema([("id", pa.string()), ("rank", pa.string())])
GROUP_PAIR_SCHEMA = pa.schema([("lo", pa.string()), ("hi", pa.string())])


def rank_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Article rows (``id``, ``published``, ``published_utc_offset``) -> ``(id, rank)``:
    the local engine's rank (:func:`wiretrace.engines.incremental._rank`: earliest
    published first, then the id), whose smallest member is a near-duplicate group's
    representative."""
    from wiretrace.engines.incremental import _rank

    for batch in batches:
        rows = [
            {"id": r["id"], "rank": _rank(Article(
                id=r["id"], text="",
                published=_published(r["published"], r["published_utc_offset"])))}
            for r in batch.to_pylist()
        ]
        yield _batch(rows, RANK_SCHEMA)


def group_plan(members: pa.Table, limit: int) -> pa.Table:
    """The pairs to align inside one near-duplicate group, as the local engine plans
    them (``incremental._group_plan``): every member with the representative (``rep``,
    the member of smallest rank), changed by :func:`wiretrace.detect.group_pairs`
    (every pair of a group of at most ``limit`` members; a larger one a star around its
    earliest dated member). Input columns: ``id``, ``rep``, ``published``,
    ``published_utc_offset``."""
    from wiretrace.detect import group_pairs

    rows = members.to_pylist()
    if not rows:
        return pa.Table.from_pylist([], schema=GROUP_PAIR_SCHEMA)
    rep = rows[0]["rep"]
    by_id = {
        r["id"]: Article(id=r["id"], text="",
                         published=_published(r["published"], r["published_utc_offset"]))
        for r in rows
    }
    ids = [r["id"] for r in rows]
    add, drop = group_pairs({rep: ids}, by_id, limit)
    wanted = ({frozenset((rep, m)) for m in ids if m != rep} - drop) | add
    out = [{"lo": min(p), "hi": max(p)} for p in wanted]
    return pa.Table.from_pylist(sorted(out, key=lambda r: (r["lo"], r["hi"])),
                                schema=GROUP_PAIR_SCHEMA)


def align_batches(
    batches: Iterator[pa.RecordBatch], settings: Settings
) -> Iterator[pa.RecordBatch]:
    """Candidate pairs joined with both sides (struct columns ``x`` and ``y``: article
    id, text, excluded, published, tokens, sentences, ``bp``, ``fq``) -> raw reuse pairs,
    provisionally oriented, as the local engine makes them
    (:func:`wiretrace.engines.incremental._align_chunk`): shared boilerplate masked
    before aligning, passages made of frequent fingerprints (an outlet's footer in more
    than ``detect.max_df`` groups) dropped by the local engine's own predicate
    (:func:`wiretrace.engines.incremental.banal`) on the source side."""
    from wiretrace.detect import _pair, body_word_starts, provisional_order
    from wiretrace.engines.incremental import banal
    from wiretrace.engines.local import _align_one

    _maybe_die("align")
    aliases = _aliases(settings)
    for batch in batches:
        out = []
        for row in batch.to_pylist():
            x, y = _Side(row["x"], settings), _Side(row["y"], settings)
            first, _ = provisional_order(x.article, y.article)
            src, tgt = (x, y) if first is x.article else (y, x)
            passages = _align_one(src.masked, tgt.masked, settings, aliases)
            if src.frequent:
                passages = [p for p in passages
                            if not banal(p, src.plain, settings, src.frequent)]
            if passages:
                starts = (body_word_starts(src.plain.text, src.plain.seq),
                          body_word_starts(tgt.plain.text, tgt.plain.seq))
                out.append(pair_row(_pair(src.article, tgt.article, passages, starts)))
        if out:
            yield _batch(out, ALIGNED_SCHEMA)


# -- origin and credit ----------------------------------------------------------------


def learn_batches(
    batches: Iterator[pa.RecordBatch], settings: Settings
) -> Iterator[pa.RecordBatch]:
    """Raw pairs -> the learnable name swaps each pair shows (``learn_aliases`` on one
    pair at a time; the driver counts pairs per swap, as ``learn_aliases`` does)."""
    from wiretrace.detect.edits import learn_aliases

    for batch in batches:
        out = []
        for row in batch.to_pylist():
            pair = pair_from_row(row)
            lo, hi = min(pair.source, pair.target), max(pair.source, pair.target)
            for ks, kt in learn_aliases([pair], 1):
                out.append({"ks": ks, "kt": kt, "lo": lo, "hi": hi})
        if out:
            yield _batch(out, LEARN_SCHEMA)


def alias_swap_batches(
    batches: Iterator[pa.RecordBatch], learned: Mapping[tuple[str, str], int]
) -> Iterator[pa.RecordBatch]:
    """Raw pairs -> the name swaps typed ``alias`` in them (learned aliases applied):
    what ``provenance.detection_aligner`` types as aliases when it aligns new pairs."""
    from wiretrace.detect.edits import apply_learned_aliases, swap_key

    for batch in batches:
        pairs = [pair_from_row(r) for r in batch.to_pylist()]
        if learned:
            pairs = apply_learned_aliases(pairs, dict(learned))
        keys = {
            swap_key(e.source_text, e.target_text)
            for pair in pairs
            for p in pair.passages
            for e in p.edits
            if e.kind == "alias" and e.op == "replace"
        }
        if keys:
            yield _batch([{"ks": a, "kt": b} for a, b in sorted(keys)], SWAP_SCHEMA)


SWAP_SCHEMA = pa.schema([("ks", pa.string()), ("kt", pa.string())])


def attribute_group(
    pairs: pa.Table,
    articles: pa.Table,
    settings: Settings,
    learned: Mapping[tuple[str, str], int],
    swaps: Mapping[tuple[str, str], int],
) -> pa.Table:
    """``provenance.attribute_all`` over one connected group of raw pairs (``articles``:
    the group's store rows): orientation, evidence and credit per pair, triangles
    closed, compilations weighed, copy chains resolved. Every step of ``attribute_all``
    looks only at pairs that share an article, so groups are independent; within one,
    pairs go in the order detection gives them, as in the local engine. ``swaps``: the
    collection's alias swaps (for the pairs aligned to close triangles); the pairs
    aligned to close triangles have their shared boilerplate (``articles``' ``bp``
    column) masked, as in the align stage."""
    from wiretrace.analyze.provenance import attribute_all
    from wiretrace.detect.align import align_pair
    from wiretrace.detect.edits import apply_learned_aliases
    from wiretrace.models import Passage
    from wiretrace.text.fingerprint import article_key
    from wiretrace.text.normalize import normalize

    _maybe_die("attribute")
    aliases = _aliases(settings)
    rows = sorted(pairs.to_pylist(), key=lambda r: (r["source"], r["target"]))
    raw = [pair_from_row(r) for r in rows]
    if learned:
        raw = apply_learned_aliases(raw, dict(learned))
    members = articles.to_pylist()
    by_id = {r["id"]: article_from_row(r) for r in members}
    masks = {r["id"]: r.get("bp") for r in members}

    def align(a: Article, b: Article) -> list[Passage]:
        # as the local engine's masking aligner: shared boilerplate masked
        sa, sb = (
            _masked(normalize(x, aliases, settings), masks.get(x.id), int(article_key(x.id)),
                    settings)
            for x in (a, b)
        )
        return align_pair(a, b, sa, sb, settings, aliases, swaps)

    done = attribute_all(raw, by_id, settings, aliases, align)
    return pa.Table.from_pylist([pair_row(p) for p in done], schema=ALIGNED_SCHEMA)

# SQL here is built only from module constants (table and column names); every value
# goes in as a parameter or a registered Arrow table.
# ruff: noqa: S608
"""The store: one DuckDB file holding articles, their versions and everything derived.

Tables (plain tables, so users can query them with SQL):

``meta(key, value)``
    ``schema_version`` and other store-wide facts.
``articles``
    One row per article id: its latest version. All :class:`~wiretrace.models.Article`
    fields; ``excluded`` is a list of ``{start, end, kind}`` structs (character offsets
    into ``text``, end exclusive); ``published`` is the wall-clock time as written and
    ``published_utc_offset`` its offset in minutes (NULL when the input gave no zone);
    ``words`` counts body words (outside the title and boilerplate); ``version`` counts
    from 1; ``content_hash`` is :attr:`Article.content_hash` (what defines a version);
    ``record_hash`` covers every field read (spans, credits, language ...), so a reader
    that now reads the same text differently refreshes the row without a new version.
``article_versions``
    Earlier versions of articles, the same columns as ``articles``: when changed content
    arrives under a stored id, the stored row moves here and the new one becomes
    version n+1.
``ingest_log``
    One row per batch written by an ingest: when, how many articles added, updated,
    unchanged.
``pairs``, ``passages``, ``edits``
    The fields of :class:`ReusePair`, :class:`Passage` and :class:`Edit`. A pair is keyed
    by ``(source, target)``; a passage by ``(source, target, passage)``; an edit by
    ``(source, target, passage, edit)`` (``passage``/``edit`` count from 0 in order).
``stories``, ``story_articles``, ``story_terms``
    Stories (one row each: label, span, centroid), their articles in joining order, and
    term document frequencies; written by ``story_store`` through :meth:`Store.write_rows`.

Every write runs inside one transaction, so a batch is stored whole or not at all and a
process killed at any moment leaves the file consistent (DuckDB's write-ahead log rolls
an unfinished transaction back on the next open). DuckDB allows one writing process:
a second one gets :class:`StoreError` ("store is being written by another process").

Schema changes are versioned migrations (:data:`MIGRATIONS`); opening an older file for
writing migrates it forward; a file from a newer wiretrace raises :class:`StoreError`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pyarrow as pa

from wiretrace import rowbuffers
from wiretrace.errors import NotFound, StoreError
from wiretrace.models import Article, Edit, Passage, ReusePair, Span
from wiretrace.rowbuffers import record_hash
from wiretrace.snapshots import SnapshotPublisher
from wiretrace.text.tokens import word_count

__all__ = [
    "ARTICLE_SCHEMA",
    "DEFAULT_DB",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "PutResult",
    "Store",
    "article_from_row",
    "error_line",
    "record_hash",
]

log = logging.getLogger(__name__)

#: The default store file, in the current folder.
DEFAULT_DB = "wiretrace.duckdb"

# The articles columns as schema version 1 created them (frozen: later columns come
# from later migrations).
_ARTICLE_COLUMNS = """
    id VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    content_hash VARCHAR NOT NULL,
    ingested_at TIMESTAMPTZ NOT NULL,
    kind VARCHAR,
    source VARCHAR,
    url VARCHAR,
    title VARCHAR,
    outlet VARCHAR,
    published TIMESTAMP,
    published_utc_offset INTEGER,
    byline VARCHAR,
    credits VARCHAR[],
    dateline VARCHAR,
    section VARCHAR,
    language VARCHAR,
    links VARCHAR[],
    excluded STRUCT("start" INTEGER, "end" INTEGER, kind VARCHAR)[],
    warnings VARCHAR[],
    words INTEGER,
    text VARCHAR
"""

_SPAN_TYPE = pa.struct(
    [("start", pa.int32()), ("end", pa.int32()), ("kind", pa.string())]
)

#: The Arrow schema of the ``articles`` and ``article_versions`` tables.
ARTICLE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("version", pa.int32()),
        ("content_hash", pa.string()),
        ("ingested_at", pa.timestamp("us", tz="UTC")),
        ("kind", pa.string()),
        ("source", pa.string()),
        ("url", pa.string()),
        ("title", pa.string()),
        ("outlet", pa.string()),
        ("published", pa.timestamp("us")),
        ("published_utc_offset", pa.int32()),
        ("byline", pa.string()),
        ("credits", pa.list_(pa.string())),
        ("dateline", pa.string()),
        ("section", pa.string()),
        ("language", pa.string()),
        ("links", pa.list_(pa.string())),
        ("excluded", pa.list_(_SPAN_TYPE)),
        ("warnings", pa.list_(pa.string())),
        ("words", pa.int32()),
        ("text", pa.string()),
        ("record_hash", pa.string()),
    ]
)
_COLS = ", ".join(f'"{name}"' for name in ARTICLE_SCHEMA.names)
#: ``ARTICLE_SCHEMA`` without what the store sets when it writes a row (``version``,
#: ``ingested_at``): the rows :func:`article_rows` builds.
ARTICLE_ROW_SCHEMA = pa.schema(
    [f for f in ARTICLE_SCHEMA if f.name not in ("version", "ingested_at")]
)
#: Rows for :meth:`Store.put_article_rows`: column buffers
#: (:func:`wiretrace.rowbuffers.article_row_buffers`) and the indices of the rows to
#: store from them.
RowRun = tuple[Sequence[tuple[str, rowbuffers.Column]], Sequence[int]]
#: The Arrow schema of ``ingest_files`` rows (``put_file_states``).
_FILE_STATE_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("digest", pa.string()),
        ("reader", pa.string()),
        ("ids", pa.list_(pa.string())),
        ("hashes", pa.list_(pa.string())),
        ("issues", pa.string()),
        ("skipped", pa.int32()),
    ]
)

_PAIR_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("target", pa.string()),
        ("origin_confidence", pa.float64()),
        ("evidence", pa.list_(pa.string())),
        ("credited", pa.bool_()),
        ("credit", pa.string()),
        ("credited_to", pa.list_(pa.string())),
        ("source_coverage", pa.float64()),
        ("target_coverage", pa.float64()),
        ("passage_count", pa.int32()),
    ]
)
_PASSAGE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("target", pa.string()),
        ("passage", pa.int32()),
        ("source_start", pa.int32()),
        ("source_end", pa.int32()),
        ("target_start", pa.int32()),
        ("target_end", pa.int32()),
        ("source_text", pa.string()),
        ("target_text", pa.string()),
        ("similarity", pa.float64()),
        ("origin", pa.string()),
        ("source_words", pa.int32()),
        ("target_words", pa.int32()),
    ]
)
_EDIT_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("target", pa.string()),
        ("passage", pa.int32()),
        ("edit", pa.int32()),
        ("op", pa.string()),
        ("source_start", pa.int32()),
        ("source_end", pa.int32()),
        ("target_start", pa.int32()),
        ("target_end", pa.int32()),
        ("source_text", pa.string()),
        ("target_text", pa.string()),
        ("kind", pa.string()),
    ]
)

_DUCK_TYPES = {
    pa.string(): "VARCHAR",
    pa.int32(): "INTEGER",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.list_(pa.string()): "VARCHAR[]",
}


def _ddl(name: str, schema: pa.Schema) -> str:
    cols = ", ".join(f'"{f.name}" {_DUCK_TYPES[f.type]}' for f in schema)
    return f"CREATE TABLE {name} ({cols})"


def _migration_1(con: duckdb.DuckDBPyConnection) -> None:
    """The base schema: meta, articles, article_versions, pairs, passages, edits."""
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    # No PRIMARY KEY on articles: uniqueness of id is kept by put_articles (one writer,
    # inside a transaction), and DuckDB's unique indexes make bulk inserts and
    # delete-then-insert of the same key inside one transaction slow or impossible.
    con.execute(f"CREATE TABLE articles ({_ARTICLE_COLUMNS})")
    con.execute(f"CREATE TABLE article_versions ({_ARTICLE_COLUMNS})")
    con.execute(_ddl("pairs", _PAIR_SCHEMA))
    con.execute(_ddl("passages", _PASSAGE_SCHEMA))
    con.execute(_ddl("edits", _EDIT_SCHEMA))


def _migration_2(con: duckdb.DuckDBPyConnection) -> None:
    """The ingest log: one row per written batch (when, what changed)."""
    con.execute(
        "CREATE TABLE ingest_log (written_at TIMESTAMPTZ, articles INTEGER, added INTEGER, "
        "updated INTEGER, unchanged INTEGER)"
    )


def _migration_3(con: duckdb.DuckDBPyConnection) -> None:
    """``record_hash``: a digest of every field read, beside ``content_hash``."""
    for table in ("articles", "article_versions"):
        con.execute(f"ALTER TABLE {table} ADD COLUMN record_hash VARCHAR")


def _migration_4(con: duckdb.DuckDBPyConnection) -> None:
    """The detection index, kept so that new articles are analysed incrementally and
    ``check`` answers from the store: ``postings`` (winnowed fingerprints, with an ART
    index on ``hash`` for point lookups), ``indexed`` (one row per fingerprinted article:
    its 64-bit key, id, content hash, fingerprint count, min-hash sketch and
    near-duplicate group), ``aligned`` (every candidate pair aligned, with its raw
    passages as JSON, before provenance) and ``swaps`` (name swaps seen per pair, from
    which aliases are learned)."""
    con.execute("CREATE TABLE postings (hash BIGINT, article BIGINT)")
    con.execute("CREATE INDEX postings_hash ON postings (hash)")
    con.execute(
        "CREATE TABLE indexed (article BIGINT, id VARCHAR, content_hash VARCHAR, "
        "size INTEGER, m0 BIGINT, m1 BIGINT, m2 BIGINT, grp BIGINT)"
    )
    con.execute("CREATE INDEX indexed_article ON indexed (article)")
    con.execute(
        "CREATE TABLE aligned (source VARCHAR, target VARCHAR, passages INTEGER, raw VARCHAR)"
    )
    con.execute("CREATE TABLE swaps (x VARCHAR, y VARCHAR, source VARCHAR, target VARCHAR)")


def _migration_5(con: duckdb.DuckDBPyConnection) -> None:
    """Stories (``analyze.stories``): ``stories`` (one row per story: id, founding
    article, label, publication span as wall time plus UTC offset in minutes, article
    count, centroid as term hashes and weights), ``story_articles`` (story, article,
    joining rank) and ``story_terms`` (document frequency per term hash, for IDF)."""
    con.execute(
        'CREATE TABLE stories (story VARCHAR, founder VARCHAR, title VARCHAR, '
        '"start" TIMESTAMP, start_utc_offset INTEGER, "end" TIMESTAMP, '
        "end_utc_offset INTEGER, articles INTEGER, terms BIGINT[], weights DOUBLE[])"
    )
    con.execute("CREATE TABLE story_articles (story VARCHAR, article VARCHAR, rank INTEGER)")
    con.execute("CREATE TABLE story_terms (hash BIGINT, df INTEGER)")


def _migration_6(con: duckdb.DuckDBPyConnection) -> None:
    """``ingest_files``: the state of each local file ingested (``ingest.filestate``):
    size, mtime, digest, reader fingerprint, the ``(id, content_hash)`` of the articles
    it gave and its warnings as JSON, so that unchanged files are skipped."""
    con.execute(
        "CREATE TABLE ingest_files (key VARCHAR, size BIGINT, mtime_ns BIGINT, "
        "digest VARCHAR, reader VARCHAR, ids VARCHAR[], hashes VARCHAR[], issues VARCHAR, "
        "skipped INTEGER)"
    )


def _migration_7(con: duckdb.DuckDBPyConnection) -> None:
    """``indexed.rank``: the order in which a near-duplicate group picks its
    representative (earliest publication, then id), so a reprint flood is a star around
    its likely origin."""
    con.execute("ALTER TABLE indexed ADD COLUMN rank VARCHAR")


def _migration_8(con: duckdb.DuckDBPyConnection) -> None:
    """An ART index on ``articles.id`` (not unique: uniqueness stays with
    ``put_articles``), so the detection engine and ``check`` fetch the few articles they
    align by id without scanning the table."""
    con.execute("CREATE INDEX articles_id ON articles (id)")


def _migration_9(con: duckdb.DuckDBPyConnection) -> None:
    """``check_hot``: the near-duplicate groups holding each fingerprint with many
    postings (a reprint flood's), so that ``check`` need not fetch one posting per copy
    (:mod:`wiretrace.engines.check_hot`)."""
    con.execute(
        "CREATE TABLE check_hot (hash BIGINT, grp BIGINT, members INTEGER, holder BIGINT)"
    )


#: Migration n+1 brings a file from schema version n to n+1. Append, never edit.
MIGRATIONS: tuple[Callable[[duckdb.DuckDBPyConnection], None], ...] = (
    _migration_1,
    _migration_2,
    _migration_3,
    _migration_4,
    _migration_5,
    _migration_6,
    _migration_7,
    _migration_8,
    _migration_9,
)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(slots=True)
class PutResult:
    """What :meth:`Store.put_articles` did: ids added, ``(id, new version)`` updated,
    and the number of articles whose content was already stored."""

    added: list[str] = field(default_factory=list)
    updated: list[tuple[str, int]] = field(default_factory=list)
    unchanged: int = 0
    refreshed: list[str] = field(default_factory=list)


def _unfinished_creation(db: Path) -> bool:
    """True for a file that a process killed while DuckDB was creating it leaves behind:
    shorter than DuckDB's file headers (three blocks of 4 KB, written first) and either
    empty, all zeros, or starting like a DuckDB file (its magic bytes "DUCK" after the
    checksum), without a write-ahead log. DuckDB refuses to open it; it holds nothing."""
    try:
        if db.stat().st_size >= _DUCKDB_HEADERS or db.with_name(db.name + ".wal").exists():
            return False
        head = db.read_bytes()
    except OSError:
        return False
    return not head.strip(b"\0") or head[8:12] == b"DUCK"


_DUCKDB_HEADERS = 3 * 4096


def _is_lock_error(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


class Store:
    """One DuckDB store file. Open with :meth:`open`; close with :meth:`close` (or use
    it as a context manager)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
        self._con = con
        self.path = path
        self.read_only = read_only
        # A writer keeps the read snapshot of a served store fresh (wiretrace.snapshots).
        self._publisher = None if read_only else SnapshotPublisher(path)

    # -- opening ---------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path | None = None, read_only: bool = False) -> Store:
        """Open (for writing: create if missing, and migrate forward) the store at
        ``path`` (default ``wiretrace.duckdb`` in the current folder).

        Raises :class:`StoreError` when the file is not a wiretrace store, is written by
        another process, comes from a newer wiretrace, or (read-only) does not exist or
        needs a migration.
        """
        db = Path(path) if path is not None else Path(DEFAULT_DB)
        if read_only and not db.is_file():
            raise StoreError(f"{db}: no store here (run `wiretrace ingest` first)")
        if db.is_dir():
            raise StoreError(f"{db}: is a folder, not a store file")
        if not read_only and _unfinished_creation(db):
            # killed while DuckDB was creating the file: nothing was ever stored in it
            db.unlink()
        try:
            con = _connect(db, read_only)
        except duckdb.IOException as exc:
            if _is_lock_error(exc):
                raise StoreError(f"{db}: store is being written by another process") from None
            raise StoreError(f"{db}: cannot open store: {error_line(exc)}") from None
        except duckdb.Error as exc:
            raise StoreError(f"{db}: cannot open store: {error_line(exc)}") from None
        store = cls(con, db, read_only)
        try:
            store._prepare()
        except BaseException:
            con.close()
            raise
        return store

    def _prepare(self) -> None:
        version = self._stored_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: store schema version {version} is newer than this wiretrace "
                f"supports ({SCHEMA_VERSION}); upgrade wiretrace"
            )
        if version == SCHEMA_VERSION:
            return
        if self.read_only:
            if version == 0 and not self._has_foreign_tables():
                raise StoreError(
                    f"{self.path}: empty store (never written); run `wiretrace ingest` first"
                )
            if version == 0:
                raise StoreError(f"{self.path}: a DuckDB file, but not a wiretrace store")
            raise StoreError(
                f"{self.path}: store schema version {version} needs migrating to "
                f"{SCHEMA_VERSION}; open it once for writing (e.g. `wiretrace ingest`)"
            )
        if version == 0 and self._has_foreign_tables():
            raise StoreError(f"{self.path}: a DuckDB file, but not a wiretrace store")
        for n in range(version, SCHEMA_VERSION):
            with self._transaction():
                MIGRATIONS[n](self._con)
                self._con.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(n + 1)]
                )
            log.info("store %s migrated to schema version %d", self.path, n + 1)

    def _stored_version(self) -> int:
        if not self._scalar(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_name = 'meta'"
        ):
            return 0
        value = self._scalar("SELECT value FROM meta WHERE key = 'schema_version'")
        try:
            return int(value) if value is not None else 0
        except ValueError:
            raise StoreError(f"{self.path}: bad schema version {value!r}") from None

    def _scalar(self, sql: str, params: Sequence[object] = ()) -> Any:
        """The first column of the first row (None when no rows). fetchall, not
        fetchone: DuckDB 2 refuses new work on a connection with an unfinished result."""
        rows = self._con.execute(sql, list(params)).fetchall()
        return rows[0][0] if rows else None

    def _has_foreign_tables(self) -> bool:
        return bool(
            self._scalar("SELECT count(*) FROM information_schema.tables "
                         "WHERE table_schema = 'main'")
        )

    @property
    def schema_version(self) -> int:
        """The schema version of the open file (always :data:`SCHEMA_VERSION` once open)."""
        return self._stored_version()

    def close(self) -> None:
        """Close the file (a checkpoint folds the write-ahead log into it)."""
        try:
            if self._publisher is not None:
                self._publisher.closing(self._con)
            self._con.close()
        except duckdb.Error as exc:  # pragma: no cover - closing never fails in practice
            log.warning("closing %s: %s", self.path, exc)

    def reader(self) -> Store:
        """A read-only Store on a new cursor of the same open database, for one thread
        (a DuckDB connection must not be shared between threads); close it after use."""
        return Store(self._con.cursor(), self.path, read_only=True)

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextlib.contextmanager
    def bulk_writes(self) -> Iterator[None]:
        """Around many write transactions in a row (an ingest).

        DuckDB folds its write-ahead log into the file (a checkpoint) whenever the log
        passes 16 MB, and each checkpoint compresses the last row group of a table
        again: it grows with every batch until it holds 122,880 rows, so an ingest had
        its text compressed several times over (about 12 us of CPU an article in the
        process that writes the store, against 5 for one checkpoint). Within this block
        the threshold is :data:`BULK_CHECKPOINT`, so a row group is written about once
        (unless a server is publishing snapshots of the store, which checkpoints at every
        commit); the log is folded in at the first checkpoint after the block (at the
        latest when the store is closed). Every commit is as durable as before (the log is
        written at each); what grows is the log, and DuckDB's memory for the rows not
        checkpointed yet, by at most the threshold."""
        if self.read_only:
            yield
            return
        before = str(self._scalar("SELECT current_setting('checkpoint_threshold')"))
        before = before.replace("'", "")  # "16.0 MiB", given back as it was
        self._con.execute(f"SET checkpoint_threshold = '{BULK_CHECKPOINT}'")
        try:
            yield
        finally:
            with contextlib.suppress(duckdb.Error):
                self._con.execute(f"SET checkpoint_threshold = '{before}'")

    # -- transactions ----------------------------------------------------------------

    def _transaction(self) -> _Transaction:
        if self.read_only:
            raise StoreError(f"{self.path}: store is open read-only")
        return _Transaction(self)

    # -- articles --------------------------------------------------------------------

    def put_articles(
        self,
        articles: Sequence[Article],
        words: Sequence[int] | None = None,
        content_hashes: Sequence[str] | None = None,
    ) -> PutResult:
        """Store a batch of articles in one transaction.

        An id not stored yet is added as version 1; an id stored with the same
        ``content_hash`` and ``record_hash`` is left alone (counted in ``unchanged``);
        one with the same content but other fields read differently (boilerplate spans,
        credits, language: a newer reader) is rewritten in place, same version
        (``refreshed``); an id stored with a different ``content_hash`` gets version
        n+1 and the old row moves to ``article_versions``. Pairs and passages derived
        from a rewritten article are deleted (they describe the old record).
        Within one batch a repeated id keeps its last article. ``words`` (body word
        counts, one per article) and ``content_hashes`` (``Article.content_hash``, one
        per article) save recomputing when the caller has them (ingest workers do).
        """
        if not articles:
            return PutResult()
        counts = list(words) if words is not None else [
            word_count(a.text, a.excluded) for a in articles
        ]
        if len(counts) != len(articles):
            raise ValueError("words must have one count per article")
        if content_hashes is not None and len(content_hashes) != len(articles):
            raise ValueError("content_hashes must have one hash per article")
        hashes = (
            list(content_hashes) if content_hashes is not None
            else [a.content_hash for a in articles]
        )
        records = [record_hash(a, h) for a, h in zip(articles, hashes, strict=True)]

        def rows_of(keep: list[int]) -> pa.Table:
            return article_rows(
                [articles[i] for i in keep], [counts[i] for i in keep],
                [hashes[i] for i in keep], [records[i] for i in keep],
            )

        return self._put_rows([a.id for a in articles], hashes, records, rows_of)

    def put_article_rows(
        self,
        runs: Sequence[RowRun],
        ids: Sequence[str],
        hashes: Sequence[str],
        records: Sequence[str],
    ) -> PutResult:
        """:meth:`put_articles` for articles already made rows (by the ingest workers,
        so that the process writing the store does not build them): ``runs`` of
        ``(buffers, indices)``, the rows at ``indices`` of the column buffers
        :func:`wiretrace.rowbuffers.article_row_buffers` built, in order; ``ids``,
        content ``hashes`` and ``records`` (record hashes) one per row, in that order."""
        tables: dict[int, pa.Table] = {}
        parts = []
        for buffers, indices in runs:
            table = tables.get(id(buffers))
            if table is None:
                table = tables[id(buffers)] = article_rows_from_buffers(buffers)
            parts.append(table if list(indices) == list(range(table.num_rows))
                         else select_rows(table, indices))
        if not len(ids) == len(hashes) == len(records) == sum(t.num_rows for t in parts):
            raise ValueError("runs, ids, hashes and records must have one item per article")
        if not ids:
            return PutResult()
        rows = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        return self._put_rows(
            ids, hashes, records,
            lambda keep: rows if len(keep) == rows.num_rows else select_rows(rows, keep),
        )

    def _put_rows(
        self,
        ids: Sequence[str],
        hashes: Sequence[str],
        records: Sequence[str],
        rows_of: Callable[[list[int]], pa.Table],
    ) -> PutResult:
        """The versioning rule of :meth:`put_articles` for articles given by id, content
        hash and record hash; ``rows_of(indices)``: the rows of those articles (without
        ``version`` and ``ingested_at``, added here)."""
        result = PutResult()
        latest: dict[str, int] = {}
        for i, id_ in enumerate(ids):
            latest[id_] = i
        order = sorted(latest.values())
        now = datetime.now(UTC)

        with self._transaction():
            con = self._con
            # The ids go in as a list parameter: an Arrow table of them built by
            # pa.table would import pandas (half a second of every ingest).
            stored = {
                row[0]: (int(row[1]), str(row[2]), row[3])
                for row in con.execute(
                    "SELECT a.id, a.version, a.content_hash, a.record_hash FROM articles a "
                    "WHERE a.id IN (SELECT unnest(?::VARCHAR[]))",
                    [[ids[i] for i in order]],
                ).fetchall()
            }
            keep: list[int] = []
            versions: list[int] = []
            changed: list[str] = []
            refreshed: list[str] = []
            for i in order:
                id_, h = ids[i], hashes[i]
                old = stored.get(id_)
                if old is None:
                    keep.append(i)
                    versions.append(1)
                    result.added.append(id_)
                elif old[1] == h and old[2] == records[i]:
                    result.unchanged += 1
                elif old[1] == h:
                    keep.append(i)
                    versions.append(old[0])
                    refreshed.append(id_)
                    result.refreshed.append(id_)
                else:
                    keep.append(i)
                    versions.append(old[0] + 1)
                    changed.append(id_)
                    result.updated.append((id_, old[0] + 1))
            if changed:
                con.register("_changed_ids", _id_table(changed))
                try:
                    con.execute(
                        f"INSERT INTO article_versions ({_COLS}) SELECT {_COLS} FROM articles "
                        "WHERE id IN (SELECT id FROM _changed_ids)"
                    )
                    con.execute("DELETE FROM articles WHERE id IN (SELECT id FROM _changed_ids)")
                    self._delete_derived("SELECT id FROM _changed_ids")
                finally:
                    con.unregister("_changed_ids")
            if refreshed:
                con.register("_refreshed_ids", _id_table(refreshed))
                try:
                    con.execute("DELETE FROM articles WHERE id IN (SELECT id FROM _refreshed_ids)")
                    self._delete_derived("SELECT id FROM _refreshed_ids")
                finally:
                    con.unregister("_refreshed_ids")
            if keep:
                _insert_articles(con, _stamped(rows_of(keep), versions, now))
            con.execute(
                "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?)",
                [now, len(order), len(result.added), len(result.updated), result.unchanged],
            )
        return result

    def _delete_derived(self, ids_query: str) -> None:
        for table in ("edits", "passages", "pairs"):
            self._con.execute(
                f"DELETE FROM {table} WHERE source IN ({ids_query}) OR target IN ({ids_query})"
            )

    def get_article(self, id: str) -> Article:
        """The latest version of article ``id``; :class:`NotFound` when not stored."""
        rows = self._article_rows(f"SELECT {_COLS} FROM articles WHERE id = ?", [id])
        if not rows:
            raise NotFound(f"{id}: no such article")
        return article_from_row(rows[0])

    def _article_rows(self, sql: str, params: Sequence[object]) -> list[dict[str, Any]]:
        """Rows of ``sql`` as dicts by column name, fetched as Python tuples: turning an
        Arrow result into Python objects cost 8x more."""
        cur = self._con.execute(sql, list(params))
        names = [d[0] for d in cur.description or ()]
        return [dict(zip(names, values, strict=True)) for values in cur.fetchall()]

    def has_article(self, id: str) -> bool:
        return bool(self._scalar("SELECT count(*) FROM articles WHERE id = ?", [id]))

    def article_ids(self) -> list[str]:
        """Every stored article id, sorted."""
        return [r[0] for r in self._con.execute("SELECT id FROM articles ORDER BY id").fetchall()]

    def count_articles(self) -> int:
        return int(self._scalar("SELECT count(*) FROM articles") or 0)

    def iter_articles(self, batch_size: int = 2048) -> Iterator[Article]:
        """Every stored article (latest versions), sorted by id, streamed in batches."""
        for row in self.iter_article_rows(batch_size=batch_size):
            yield article_from_row(row)

    def iter_article_rows(
        self, columns: Sequence[str] | None = None, batch_size: int = 2048
    ) -> Iterator[dict[str, Any]]:
        """Rows of ``articles`` as dicts (``columns`` only, default all), sorted by id."""
        cols = _COLS if columns is None else ", ".join(f'"{c}"' for c in columns)
        # A separate cursor: the caller may write through this store while iterating.
        cur = self._con.cursor()
        try:
            rel = cur.sql(f"SELECT {cols} FROM articles ORDER BY id")
            for batch in _arrow_reader(rel, batch_size):
                yield from batch.to_pylist()
        finally:
            cur.close()

    def versions(self, id: str) -> list[tuple[int, str, datetime]]:
        """``(version, content_hash, ingested_at)`` of every stored version of ``id``,
        oldest first; :class:`NotFound` when the id was never stored."""
        rows = self._con.execute(
            "SELECT version, content_hash, ingested_at FROM article_versions WHERE id = ? "
            "UNION ALL SELECT version, content_hash, ingested_at FROM articles WHERE id = ? "
            "ORDER BY version",
            [id, id],
        ).fetchall()
        if not rows:
            raise NotFound(f"{id}: no such article")
        return [(int(v), str(h), at) for v, h, at in rows]

    # -- ingested files (wiretrace.ingest.filestate) ----------------------------------

    def has_file_states(self) -> bool:
        """Whether any file state is recorded (none: no ingest has finished a file)."""
        return bool(self._scalar("SELECT EXISTS (SELECT 1 FROM ingest_files)"))

    def file_states(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The recorded states of the files ``keys`` (rows of ``ingest_files`` as dicts),
        each with ``current``: every ``(id, content_hash)`` it lists is still the
        stored latest version of its article."""
        if not keys:
            return {}
        # The keys go in as one list parameter: registering an Arrow table would
        # import pandas (half a second), most of a re-run that skips every file.
        cursor = self._con.execute(
            "WITH f AS (SELECT * FROM ingest_files "
            "WHERE key IN (SELECT unnest(?::VARCHAR[]))), "
            "items AS (SELECT key, unnest(ids) AS id, unnest(hashes) AS h FROM f), "
            "stale AS (SELECT DISTINCT i.key FROM items i LEFT JOIN articles a "
            "ON a.id = i.id AND a.content_hash = i.h WHERE a.id IS NULL) "
            "SELECT f.*, f.key NOT IN (SELECT key FROM stale) AS current FROM f",
            [list(keys)],
        )
        names = [d[0] for d in cursor.description or ()]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        return {row["key"]: row for row in rows}

    def put_file_states(self, rows: Sequence[Mapping[str, Any]], new: bool = False) -> None:
        """Record file states (replacing those with the same ``key``), in one
        transaction. Columns: key, size, mtime_ns, digest, reader, ids, hashes, issues
        (JSON text), skipped. ``new``: the caller knows no key is recorded yet (the
        first ingest into a store), which spares looking for the ones to replace."""
        if not rows:
            return
        # Built from buffers: pa.table on Python lists would import pandas.
        table = _arrow_table_of(
            {name: [r[name] for r in rows] for name in _FILE_STATE_SCHEMA.names},
            _FILE_STATE_SCHEMA,
        )
        with self._transaction():
            self._con.register("_file_states", table)
            try:
                if not new:
                    self._con.execute(
                        "DELETE FROM ingest_files WHERE key IN (SELECT key FROM _file_states)"
                    )
                self._con.execute("INSERT INTO ingest_files SELECT * FROM _file_states")
            finally:
                self._con.unregister("_file_states")

    def remove_article(self, id: str) -> None:
        """Delete article ``id``, its earlier versions, every pair, passage and edit
        where it is source or target, and its place in a story (a story left without
        members goes too), in one transaction; :class:`NotFound` if absent. The
        detection index forgets it at the next update (``engines.incremental``)."""
        with self._transaction():
            if not self.has_article(id):
                raise NotFound(f"{id}: no such article")
            self._con.execute("DELETE FROM articles WHERE id = ?", [id])
            self._con.execute("DELETE FROM article_versions WHERE id = ?", [id])
            for table in ("edits", "passages", "pairs"):
                self._con.execute(f"DELETE FROM {table} WHERE source = ? OR target = ?", [id, id])
            self._con.execute("DELETE FROM story_articles WHERE article = ?", [id])
            self._con.execute(
                "DELETE FROM stories WHERE story NOT IN (SELECT story FROM story_articles)"
            )

    # -- pairs -----------------------------------------------------------------------

    def replace_pairs(self, pairs: Iterable[ReusePair], state: str | None = None) -> int:
        """Replace every stored pair (with its passages and edits) by ``pairs``, in one
        transaction. ``state`` (e.g. :meth:`content_state` plus the settings used) is
        kept in ``meta`` as ``pairs_state`` in the same transaction, so the pairs and the
        record of what they were computed from never disagree. Returns the number of
        pairs stored."""
        pair_rows, passage_rows, edit_rows = _pair_tables(pairs)
        with self._transaction():
            con = self._con
            con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('pairs_state', ?)", [state or ""]
            )
            for table in ("edits", "passages", "pairs"):
                con.execute(f"DELETE FROM {table}")
            _insert_pair_tables(con, pair_rows, passage_rows, edit_rows)
        return int(pair_rows.num_rows)

    def write_rows(
        self,
        writes: Sequence[tuple[str, str | None, pa.Table]],
        meta: Sequence[tuple[str, str]] = (),
    ) -> None:
        """In one transaction, for each ``(table, key, rows)``: delete the stored rows
        whose ``key`` column holds one of ``rows``' keys (every row when ``key`` is
        None), then insert ``rows``; and set the ``meta`` values. For derived tables
        that a stage rewrites in part (stories). ``table`` and ``key`` are names from
        the caller's constants, never user input."""
        with self._transaction():
            con = self._con
            for key_name, value in meta:
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key_name, value])
            for table, key, rows in writes:
                con.register("_rows", rows)
                try:
                    if key is None:
                        con.execute(f"DELETE FROM {table}")
                    elif rows.num_rows:
                        con.execute(
                            f'DELETE FROM {table} WHERE "{key}" IN '
                            f'(SELECT DISTINCT "{key}" FROM _rows)'
                        )
                    if rows.num_rows:
                        cols = ", ".join(f'"{c}"' for c in rows.schema.names)
                        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _rows")
                finally:
                    con.unregister("_rows")

    def content_state(self) -> str:
        """A digest of every stored (id, content hash): it changes whenever an article
        is added, changed or removed."""
        value = self._scalar(
            "SELECT md5(coalesce(string_agg(id || ':' || content_hash || ':' || "
            "coalesce(record_hash, ''), ',' ORDER BY id), '')) "
            "FROM articles"
        )
        return str(value)

    def meta(self, key: str) -> str | None:
        """A value of the ``meta`` table (None when unset)."""
        value = self._scalar("SELECT value FROM meta WHERE key = ?", [key])
        return None if value is None else str(value)

    def count_pairs(self) -> int:
        return int(self._scalar("SELECT count(*) FROM pairs") or 0)

    def iter_pairs(
        self, among: Iterable[str] | None = None, page: int = 5000
    ) -> Iterator[ReusePair]:
        """Every stored pair with its passages and edits, sorted by (source, target);
        with ``among``, only the pairs whose two articles are both in it. Read ``page``
        pairs at a time (then their passages and edits), so memory follows the page, not
        the collection."""
        ids = None if among is None else sorted(set(among))
        if ids is not None and not ids:
            return
        last: tuple[str, str] | None = None
        while True:
            rows = self._pair_rows(last, ids, page)
            if not rows:
                return
            first_key, last_key = (rows[0][0], rows[0][1]), (rows[-1][0], rows[-1][1])
            passages = self._passages_between(first_key, last_key, ids)
            for r in rows:
                yield ReusePair(
                    source=r[0], target=r[1], passages=tuple(passages.get((r[0], r[1]), ())),
                    origin_confidence=r[2], evidence=tuple(r[3] or ()), credited=bool(r[4]),
                    credit=r[5], credited_to=tuple(r[6] or ()), source_coverage=r[7],
                    target_coverage=r[8],
                )
            if len(rows) < page:
                return
            last = last_key

    def top_pairs(self, n: int) -> list[ReusePair]:
        """The ``n`` pairs reusing most of their target (then by target and source id),
        with passages and edits."""
        keys = [
            (str(a), str(b))
            for a, b in self._con.execute(
                "SELECT source, target FROM pairs ORDER BY target_coverage DESC, target, "
                "source LIMIT ?",
                [int(n)],
            ).fetchall()
        ]
        found = {
            (p.source, p.target): p
            for p in self.iter_pairs(among={x for key in keys for x in key})
        }
        return [found[k] for k in keys if k in found]

    def _pair_rows(
        self, after: tuple[str, str] | None, ids: Sequence[str] | None, page: int
    ) -> list[tuple[Any, ...]]:
        """One page of ``pairs`` rows after the key ``after``, in key order."""
        where, params = _key_filter(None, after, ids)
        return self._con.execute(
            "SELECT source, target, origin_confidence, evidence, credited, credit, "
            f"credited_to, source_coverage, target_coverage FROM pairs {where} "
            f"ORDER BY source, target LIMIT {int(page)}",
            params,
        ).fetchall()

    def _passages_between(
        self, lo: tuple[str, str], hi: tuple[str, str], ids: Sequence[str] | None
    ) -> dict[tuple[str, str], list[Passage]]:
        """The passages (with their edits) of the pairs keyed from ``lo`` to ``hi``."""
        where, params = _key_filter(lo, hi, ids, upper=True)
        edits: dict[tuple[str, str, int], list[Edit]] = {}
        for r in self._con.execute(
            "SELECT source, target, passage, op, source_start, source_end, target_start, "
            f"target_end, source_text, target_text, kind FROM edits {where} "
            "ORDER BY source, target, passage, edit",
            params,
        ).fetchall():
            edits.setdefault((r[0], r[1], r[2]), []).append(
                Edit(op=r[3], source_start=r[4], source_end=r[5], target_start=r[6],
                     target_end=r[7], source_text=r[8], target_text=r[9], kind=r[10])
            )
        passages: dict[tuple[str, str], list[Passage]] = {}
        for r in self._con.execute(
            "SELECT source, target, passage, source_start, source_end, target_start, "
            "target_end, source_text, target_text, similarity, origin, source_words, "
            f"target_words FROM passages {where} ORDER BY source, target, passage",
            params,
        ).fetchall():
            passages.setdefault((r[0], r[1]), []).append(
                Passage(
                    source_start=r[3], source_end=r[4], target_start=r[5], target_end=r[6],
                    source_text=r[7], target_text=r[8], similarity=r[9],
                    edits=tuple(edits.get((r[0], r[1], r[2]), ())), origin=r[10],
                    source_words=r[11] or 0, target_words=r[12] or 0,
                )
            )
        return passages

    # -- the detection index (postings, indexed, aligned, swaps) ----------------------

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The open DuckDB connection, for the detection engine's relational plans over
        the index tables (:mod:`wiretrace.engines.incremental`); shells use :meth:`query`."""
        return self._con

    def transaction(self) -> _Transaction:
        """``with store.transaction():`` one atomic write (BEGIN ... COMMIT/ROLLBACK)."""
        return self._transaction()

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the ``meta`` table (its own transaction)."""
        with self._transaction():
            self._con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def articles_by_id(self, ids: Iterable[str]) -> dict[str, Article]:
        """The latest version of each stored article among ``ids`` (absent ids are
        left out): id -> Article."""
        wanted = sorted(set(ids))
        out: dict[str, Article] = {}
        # a parameter list (not a joined table) lets DuckDB use the index on id
        for lo in range(0, len(wanted), 512):
            part = wanted[lo : lo + 512]
            marks = ", ".join("?" * len(part))
            sql = f"SELECT {_COLS} FROM articles WHERE id IN ({marks})"
            for row in self._article_rows(sql, part):
                out[row["id"]] = article_from_row(row)
        return out

    def replace_pairs_of(self, keys: Iterable[tuple[str, str]], pairs: Iterable[ReusePair]) -> int:
        """Delete the stored pairs between each ``(a, b)`` of ``keys`` (either
        orientation), with their passages and edits, and store ``pairs`` instead, in one
        transaction: the incremental counterpart of :meth:`replace_pairs`."""
        with self._transaction():
            return self.write_pairs_of(keys, pairs)

    def write_pairs_of(self, keys: Iterable[tuple[str, str]], pairs: Iterable[ReusePair]) -> int:
        """:meth:`replace_pairs_of` inside the caller's :meth:`transaction`."""
        pair_rows, passage_rows, edit_rows = _pair_tables(pairs)
        doomed = sorted({(min(a, b), max(a, b)) for a, b in keys})
        con = self._con
        if doomed:
            con.register(
                "_doomed",
                pa.table({"x": pa.array([d[0] for d in doomed], pa.string()),
                          "y": pa.array([d[1] for d in doomed], pa.string())}),
            )
            try:
                for table in ("edits", "passages", "pairs"):
                    con.execute(
                        f"DELETE FROM {table} WHERE (least(source, target), "
                        "greatest(source, target)) IN (SELECT (x, y) FROM _doomed)"
                    )
            finally:
                con.unregister("_doomed")
        _insert_pair_tables(con, pair_rows, passage_rows, edit_rows)
        return int(pair_rows.num_rows)

    # -- SQL -------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[object] = ()) -> pa.Table:
        """Run one SQL statement and return its result as an Arrow table."""
        try:
            return _arrow_table(self._con.sql(sql, params=list(params) or None))
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: query failed: {error_line(exc)}") from None


class _Transaction:
    """``with store._transaction():`` BEGIN ... COMMIT, ROLLBACK on any exception."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __enter__(self) -> None:
        self._store._con.execute("BEGIN TRANSACTION")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        con = self._store._con
        if exc_type is None:
            try:
                con.execute("COMMIT")
            except duckdb.Error as err:
                with contextlib.suppress(duckdb.Error):  # a failed COMMIT may have ended it
                    con.execute("ROLLBACK")
                raise StoreError(
                    f"{self._store.path}: write failed: {error_line(err)}"
                ) from None
            if self._store._publisher is not None:
                self._store._publisher.committed(con)
            return
        with contextlib.suppress(duckdb.Error):  # a failed statement may have aborted it
            con.execute("ROLLBACK")
        if isinstance(exc, duckdb.Error):
            raise StoreError(f"{self._store.path}: write failed: {error_line(exc)}") from None


#: DuckDB's checkpoint threshold within :meth:`Store.bulk_writes` (16 MB by default).
BULK_CHECKPOINT = "256MB"

#: Seconds an opener waits for another process's lock on the file before giving up (a
#: server refreshing its read snapshot holds it for the time of one file copy).
LOCK_WAIT = 2.0


def _connect(db: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, retried for :data:`LOCK_WAIT` seconds while the file is locked."""
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            return duckdb.connect(str(db), read_only=read_only)
        except duckdb.IOException as exc:
            if not _is_lock_error(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def _arrow_table(rel: duckdb.DuckDBPyRelation) -> pa.Table:
    # DuckDB 2 renamed the relation's arrow() to to_arrow_table(); accept both.
    method = getattr(rel, "to_arrow_table", None) or rel.arrow
    table: pa.Table = method()
    return table


def _arrow_reader(rel: duckdb.DuckDBPyRelation, batch_size: int) -> pa.RecordBatchReader:
    method = getattr(rel, "to_arrow_reader", None) or rel.fetch_arrow_reader
    reader: pa.RecordBatchReader = method(batch_size)
    return reader


def error_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message, and DuckDB's "Original Error" line when it
    has one (a failed COMMIT whose rollback failed too says only "Failed to rollback
    transaction" first, and the cause in that line); for DuckDB out of memory, what to
    do about it."""
    lines = str(exc).strip().splitlines()
    if not lines:
        return type(exc).__name__
    cause = next((line.strip() for line in lines[1:] if line.startswith("Original Error")), None)
    line = f"{lines[0]} ({cause})" if cause else lines[0]
    if "out of memory" in line.lower():
        # what was committed stays; the next run resumes from there
        line += "; raise detect.memory_limit (or set it to 'auto') and run again"
    return line


def _join_published(wall: datetime | None, offset: int | None) -> datetime | None:
    if wall is None:
        return None
    if offset is None:
        return wall
    return wall.replace(tzinfo=timezone(timedelta(minutes=offset)))


def _article_table(
    articles: Sequence[Article],
    versions: Sequence[int],
    hashes: Sequence[str],
    records: Sequence[str],
    words: Sequence[int],
    now: datetime,
) -> pa.Table:
    """Rows of the ``articles`` table (``ARTICLE_SCHEMA``) for ``articles``."""
    return _stamped(article_rows(articles, words, hashes, records), versions, now)


def _stamped(rows: pa.Table, versions: Sequence[int], now: datetime) -> pa.Table:
    """Article rows (``ARTICLE_ROW_SCHEMA``) with what the store sets when it writes
    them: ``version`` and ``ingested_at``, in ``ARTICLE_SCHEMA``'s order."""
    columns = {name: rows.column(name) for name in rows.column_names}
    columns["version"] = _int_array(versions, pa.int32())
    utc = pa.timestamp("us", tz="UTC")
    columns["ingested_at"] = _from_buffers(rowbuffers.micros([now] * rows.num_rows), utc)
    return pa.Table.from_arrays([columns[f.name] for f in ARTICLE_SCHEMA], schema=ARTICLE_SCHEMA)


def _id_table(ids: Sequence[str]) -> pa.Table:
    """A one-column table of ``ids`` to register (``pa.table`` would import pandas)."""
    return pa.Table.from_arrays([_utf8_array(ids)], names=["id"])


def _insert_articles(con: duckdb.DuckDBPyConnection, rows: pa.Table) -> None:
    """Insert article rows (every column of ``ARTICLE_SCHEMA``, by name)."""
    con.register("_new_articles", rows)
    try:
        con.execute(f"INSERT INTO articles ({_COLS}) SELECT {_COLS} FROM _new_articles")
    finally:
        con.unregister("_new_articles")


# -- Arrow tables from Python lists, without pandas ------------------------------------
#
# ``pa.array`` (and so ``pa.table``) on a Python list imports pandas on its first call
# in a process, to check whether the list is a pandas object: half a second of every
# ingest. The tables the store writes at ingest (article rows, file states) are built
# from buffers instead (``wiretrace.rowbuffers``, which the ingest workers use too);
# tests/test_store.py checks them against pyarrow's own conversion.

def _arrow_table_of(columns: Mapping[str, Sequence[Any]], schema: pa.Schema) -> pa.Table:
    """``pa.table(columns, schema=schema)`` for the column types of file states
    (strings, 32- and 64-bit integers, lists of strings), built from buffers."""
    arrays = [_arrow_array(columns[f.name], f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _arrow_array(values: Sequence[Any], type: pa.DataType) -> pa.Array:
    if type == pa.string():
        return _utf8_array(values)
    if type in (pa.int32(), pa.int64()):
        return _int_array(values, type)
    if type == pa.list_(pa.string()):
        return _list_array(values, _utf8_array([item for row in values for item in row]), type)
    raise TypeError(f"no buffer builder for Arrow type {type}")  # pragma: no cover


def _from_buffers(column: rowbuffers.Column, type: pa.DataType) -> pa.Array:
    """The Arrow array of a column built by :mod:`wiretrace.rowbuffers`, of ``type``."""
    tag = column[0]
    if tag == "utf8":
        _, n, bits, nulls, offsets, data = column
        return pa.Array.from_buffers(
            pa.string(), n, [_buffer(bits), pa.py_buffer(offsets), pa.py_buffer(data)],
            null_count=nulls,
        )
    if tag in ("int32", "int64"):
        _, n, bits, nulls, data = column
        ints = pa.Array.from_buffers(
            pa.int32() if tag == "int32" else pa.int64(), n, [_buffer(bits), pa.py_buffer(data)],
            null_count=nulls,
        )
        return ints if ints.type == type else ints.view(type)  # timestamps
    if tag == "list":
        _, n, offsets, child = column
        starts = pa.Array.from_buffers(pa.int32(), n + 1, [None, pa.py_buffer(offsets)])
        return pa.ListArray.from_arrays(starts, _from_buffers(child, type.value_type), type=type)
    if tag == "struct":
        _, n, children = column
        fields = list(type)
        return pa.StructArray.from_arrays(
            [_from_buffers(c, f.type) for c, f in zip(children, fields, strict=True)],
            fields=fields,
        )
    raise TypeError(f"no Arrow layout {tag!r}")  # pragma: no cover


def _buffer(data: bytes | None) -> pa.Buffer | None:
    return None if data is None else pa.py_buffer(data)


def _utf8_array(values: Sequence[str | None]) -> pa.Array:
    return _from_buffers(rowbuffers.utf8(values), pa.string())


def _int_array(values: Sequence[int | None], type: pa.DataType) -> pa.Array:
    return _from_buffers(rowbuffers.ints(values, wide=type == pa.int64()), type)


def _list_array(rows: Sequence[Sequence[Any]], items: pa.Array, type: pa.DataType) -> pa.Array:
    from itertools import accumulate

    offsets = _int_array(list(accumulate((len(row) for row in rows), initial=0)), pa.int32())
    return pa.ListArray.from_arrays(offsets, items, type=type)


def article_rows(
    articles: Sequence[Article],
    words: Sequence[int],
    hashes: Sequence[str],
    records: Sequence[str],
) -> pa.Table:
    """``articles`` as rows of ``ARTICLE_ROW_SCHEMA``, with their body word counts,
    content hashes and record hashes."""
    buffers = rowbuffers.article_row_buffers(articles, words, hashes, records)
    return article_rows_from_buffers(buffers)


def select_rows(rows: pa.Table, indices: Sequence[int]) -> pa.Table:
    """The rows of ``rows`` at ``indices``, in that order (without pandas)."""
    return rows.take(_int_array(indices, pa.int64()))


def article_rows_from_buffers(buffers: Sequence[tuple[str, rowbuffers.Column]]) -> pa.Table:
    """The rows :func:`wiretrace.rowbuffers.article_row_buffers` built (in an ingest
    worker, without pyarrow) as an Arrow table of ``ARTICLE_ROW_SCHEMA``."""
    names = [name for name, _ in buffers]
    if names != ARTICLE_ROW_SCHEMA.names:
        raise ValueError(f"article row columns {names} are not {ARTICLE_ROW_SCHEMA.names}")
    arrays = [
        _from_buffers(column, field.type)
        for (_, column), field in zip(buffers, ARTICLE_ROW_SCHEMA, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=ARTICLE_ROW_SCHEMA)


def _insert_pair_tables(
    con: duckdb.DuckDBPyConnection, pairs: pa.Table, passages: pa.Table, edits: pa.Table
) -> None:
    """Insert ``_pair_tables``' rows into ``pairs``, ``passages`` and ``edits``."""
    for name, tbl in (("pairs", pairs), ("passages", passages), ("edits", edits)):
        if tbl.num_rows:
            con.register("_rows", tbl)
            try:
                cols = ", ".join(f'"{c}"' for c in tbl.schema.names)
                con.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM _rows")
            finally:
                con.unregister("_rows")


def _key_filter(
    lo: tuple[str, str] | None,
    hi: tuple[str, str] | None,
    ids: Sequence[str] | None,
    upper: bool = False,
) -> tuple[str, list[Any]]:
    """A ``WHERE`` clause over (source, target) keys: from ``lo`` (inclusive), before or
    up to ``hi`` (after ``hi`` when not ``upper``: the next page), both ends in ``ids``."""
    terms: list[str] = []
    params: list[Any] = []
    if lo is not None:
        terms.append("(source > ? OR (source = ? AND target >= ?))")
        params += [lo[0], lo[0], lo[1]]
    if hi is not None:
        op = "<=" if upper else ">"
        cmp = "<" if upper else ">"
        terms.append(f"(source {cmp} ? OR (source = ? AND target {op} ?))")
        params += [hi[0], hi[0], hi[1]]
    if ids is not None:
        terms.append("source IN (SELECT unnest(?::VARCHAR[])) "
                     "AND target IN (SELECT unnest(?::VARCHAR[]))")
        params += [list(ids), list(ids)]
    return ("WHERE " + " AND ".join(terms) if terms else ""), params


def article_from_row(row: dict[str, Any]) -> Article:
    return Article(
        id=row["id"],
        text=row["text"],
        title=row["title"],
        source=row["source"],
        kind=row["kind"] or "text",
        outlet=row["outlet"],
        url=row["url"],
        published=_join_published(row["published"], row["published_utc_offset"]),
        byline=row["byline"],
        credits=tuple(row["credits"] or ()),
        dateline=row["dateline"],
        section=row["section"],
        language=row["language"],
        links=tuple(row["links"] or ()),
        excluded=tuple(
            Span(s["start"], s["end"], s["kind"]) for s in (row["excluded"] or ())
        ),
        warnings=tuple(row["warnings"] or ()),
    )


def _pair_tables(pairs: Iterable[ReusePair]) -> tuple[pa.Table, pa.Table, pa.Table]:
    pr: list[dict[str, Any]] = []
    ps: list[dict[str, Any]] = []
    ed: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for pair in pairs:
        key = (pair.source, pair.target)
        if key in seen:
            raise StoreError(f"pair {pair.source} -> {pair.target} given twice")
        seen.add(key)
        pr.append({
            "source": pair.source, "target": pair.target,
            "origin_confidence": pair.origin_confidence, "evidence": list(pair.evidence),
            "credited": pair.credited, "credit": pair.credit,
            "credited_to": list(pair.credited_to), "source_coverage": pair.source_coverage,
            "target_coverage": pair.target_coverage, "passage_count": len(pair.passages),
        })
        for n, p in enumerate(pair.passages):
            ps.append({
                "source": pair.source, "target": pair.target, "passage": n,
                "source_start": p.source_start, "source_end": p.source_end,
                "target_start": p.target_start, "target_end": p.target_end,
                "source_text": p.source_text, "target_text": p.target_text,
                "similarity": p.similarity, "origin": p.origin,
                "source_words": p.source_words, "target_words": p.target_words,
            })
            for m, e in enumerate(p.edits):
                ed.append({
                    "source": pair.source, "target": pair.target, "passage": n, "edit": m,
                    **e.to_json(),
                })
    return (
        pa.Table.from_pylist(pr, schema=_PAIR_SCHEMA),
        pa.Table.from_pylist(ps, schema=_PASSAGE_SCHEMA),
        pa.Table.from_pylist(ed, schema=_EDIT_SCHEMA),
    )

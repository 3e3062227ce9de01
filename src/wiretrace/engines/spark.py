"""The Spark engine: the local pipeline's stages as Spark jobs, with named checkpoints.

``wiretrace run PATH... --engine spark --master URL [--out DIR] [--db FILE]``. Stages
(:data:`wiretrace.engines.base.STAGES`), each writing Parquet tables under
``OUT/<stage>/`` and then its ``_STAGE_DONE.json`` marker:

============  ====================================================================
ingest        inputs read by wiretrace's own readers, one task per group of inputs
              (or Parquet/JSON Lines at any Spark-readable URI, through the table
              reader's row mapping) -> ``articles`` (the store's schema), ``issues``
normalize     ``prep``: normalised body tokens and sentence spans per article
fingerprint   ``postings``: (article key, hash, position), winnowed n-grams
candidates    ``pairs`` (a, b, shared: pairs of stories, a near-duplicate group or an
              article in none) and ``groups``: the relational plan of
              ``detect.candidates`` as DataFrame operations (:mod:`.spark_plan`);
              ``frequent``: the hashes in more than ``detect.max_df`` groups
align         ``boilerplate``: each article's shared boilerplate positions (the rule of
              ``detect.shared_boilerplate``, over the postings); ``frequent``: each
              article's frequent hashes; ``aligned``: the alignment kernel over
              batches of pairs (mapInArrow) planned as the local engine plans them
              (a pair of stories once, between their representatives; inside a
              group, its members with the representative), boilerplate masked,
              passages made of frequent hashes dropped (the local engine's ``banal``)
attribute     ``pairs_nested`` and the store's ``pairs``/``passages``/``edits``:
              learned aliases, origin and credit (``analyze.provenance.attribute``),
              copy chains resolved per connected group of pairs (pairs aligned to
              close triangles masked too)
============  ====================================================================

A stage whose marker exists is skipped (resume), provided it was made from the same
inputs and settings (else :class:`EngineError`: remove the folder or pick another
``--out``). With a store file the results are then loaded into it, with the local
engine's detection index (:mod:`wiretrace.engines.load`), so ``check`` and later
incremental ``ingest`` work on it as on a store the local engine built. The checkpoint
folder must be visible to the driver and every executor (a shared file system on a
cluster).

pyspark is imported only when this engine runs (the ``spark`` extra).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from wiretrace.engines import spark_tasks as tasks
from wiretrace.engines.base import (
    STAGES,
    Checkpoints,
    EngineResult,
    RunRequest,
    check_stage,
    default_checkpoints,
)
from wiretrace.engines.rows import ARTICLE_SCHEMA, PAIR_TYPE, PREP_SCHEMA
from wiretrace.errors import ConfigError, EngineError
from wiretrace.ingest import IngestSummary, discover
from wiretrace.models import IngestIssue
from wiretrace.progress import NullProgress, Progress
from wiretrace.settings import Settings
from wiretrace.store import DEFAULT_DB

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SparkEngine", "is_spark_path", "spark_session"]

log = logging.getLogger(__name__)

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_ISSUE_SCHEMA = pa.schema(
    [("input", pa.string()), ("reason", pa.string()), ("severity", pa.string()),
     ("n", pa.int64()), ("k", pa.int64())]
)


def is_spark_path(path: str) -> bool:
    """True for a URI Spark reads itself (``hdfs://``, ``s3a://``, ``file://`` ...);
    http(s) URLs are pages to fetch, and plain paths go through wiretrace's readers."""
    return bool(_SCHEME.match(path)) and not path.startswith(("http://", "https://"))


def spark_session(master: str | None, settings: Settings) -> SparkSession:
    """A session for ``master`` (default ``local[*]``) with wiretrace's settings."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(
            "the spark engine needs pyspark: pip install 'wiretrace[spark]'"
        ) from None
    builder = SparkSession.builder.appName("wiretrace").master(master or "local[*]")
    builder = builder.config("spark.sql.session.timeZone", "UTC").config(
        "spark.ui.showConsoleProgress", "false"
    )
    if settings.spark.driver_memory:
        # read when the session's JVM starts (a running one keeps its heap)
        builder = builder.config("spark.driver.memory", settings.spark.driver_memory)
    if settings.spark.shuffle_partitions:
        builder = builder.config(
            "spark.sql.shuffle.partitions", str(settings.spark.shuffle_partitions)
        )
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - py4j/JVM start-up errors have no common base
        where = master or "local[*]"
        raise EngineError(f"cannot start Spark ({where}): {_one_line(exc)}") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def _one_line(exc: BaseException) -> str:
    """The line of a Spark or Python worker error a user needs (not the JVM stack)."""
    text = str(exc)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    # a Python worker's traceback ends with the exception line
    py = [ln for ln in lines if re.match(r"^[A-Za-z_.]*(Error|Exception)\b.*:", ln)
          and not ln.startswith(("org.", "java.", "scala.", "py4j", "at "))]
    if py:
        return py[-1][:400]
    for ln in lines:
        m = re.search(r"(?:Exception|Error):\s*(.+)$", ln)
        if m:
            return m.group(1)[:400]
    return (lines[0] if lines else type(exc).__name__)[:400]


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def _write(df: DataFrame, path: Path) -> None:
    df.write.mode("overwrite").parquet(str(path))


def _digests(request: RunRequest) -> dict[str, str]:
    """What each stage's checkpoint depends on: the inputs as given and the settings
    the stage and the stages before it read (a digest chained stage by stage)."""
    s = request.settings
    reads: dict[str, object] = {
        "ingest": (request.paths, s.ingest),
        "normalize": s.text,
        "fingerprint": s.text,
        "candidates": s.detect,
        "align": s.detect,
        "attribute": (s.detect, s.provenance),
    }
    out: dict[str, str] = {}
    previous = ""
    for stage in STAGES:
        text = previous + repr(reads[stage])
        previous = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        out[stage] = previous
    return out


class SparkEngine:
    """The ``spark`` engine; ``spark`` passes an existing session (tests, notebooks)."""

    name = "spark"

    def __init__(self, spark: SparkSession | None = None) -> None:
        self._spark = spark

    def run(self, request: RunRequest, progress: Progress | None = None) -> EngineResult:
        check_stage(request.stop_after)
        db = request.db
        root = request.out or default_checkpoints(db or Path(DEFAULT_DB))
        ck = Checkpoints(root)
        progress = progress or NullProgress()
        spark = self._spark or spark_session(request.master, request.settings)
        _configure(spark)
        run = _Run(spark, ck, request, _digests(request))
        result = EngineResult(engine=self.name, ingest=IngestSummary(), db=db, out=root)
        progress.begin("spark stages", total=len(STAGES))
        try:
            for stage in STAGES:
                result.stages[stage] = run.stage(stage)
                progress.advance(1)
                if stage == request.stop_after:
                    break
        finally:
            progress.end()
        result.ingest = run.ingest_summary()
        if ck.done("attribute"):
            result.pairs = int(ck.info("attribute")["pairs"])
        if db is not None:
            self._load(result, ck, request)
        return result

    @staticmethod
    def _load(result: EngineResult, ck: Checkpoints, request: RunRequest) -> None:
        from wiretrace.engines.load import load_results

        assert request.db is not None
        put, stored = load_results(request.db, ck, request.settings)
        summary = result.ingest
        summary.articles_added = len(put.added)
        summary.updated = len(put.updated)
        summary.versions = list(put.updated)
        summary.unchanged = put.unchanged + len(put.refreshed)
        summary.refreshed = len(put.refreshed)
        if stored is not None:
            result.pairs = stored


def _configure(spark: SparkSession) -> None:
    """Session settings the stages rely on (runtime SQL settings: safe to set on a
    shared session)."""
    conf = spark.conf
    conf.set("spark.sql.session.timeZone", "UTC")
    conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")


class _Run:
    """One run's stages over one checkpoint folder."""

    def __init__(
        self, spark: SparkSession, ck: Checkpoints, request: RunRequest, digests: dict[str, str]
    ) -> None:
        self.spark = spark
        self.ck = ck
        self.request = request
        self.settings = request.settings
        self.digests = digests

    # -- bookkeeping -----------------------------------------------------------------

    def stage(self, name: str) -> str:
        """Run stage ``name`` unless its checkpoint exists; ``ran`` or ``skipped``."""
        if self.ck.done(name):
            made = self.ck.info(name).get("digest")
            if made != self.digests[name]:
                raise EngineError(
                    f"{self.ck.root}: the {name!r} checkpoint was made from other inputs or "
                    "settings; remove that folder or choose another --out"
                )
            log.info("stage %s: checkpoint present, skipped", name)
            return "skipped"
        missing = [s for s in STAGES[: STAGES.index(name)] if not self.ck.done(s)]
        if missing:  # pragma: no cover - the loop runs stages in order
            raise EngineError(f"stage {name!r} needs {missing[0]!r} first")
        self.ck.begin(name)
        step: Callable[[], dict[str, Any]] = getattr(self, f"_{name}")
        started = time.perf_counter()
        try:
            with warnings.catch_warnings():
                # pyspark warns about pandas versions it has not been tested with
                warnings.simplefilter("ignore", FutureWarning)
                info = step()
        except (EngineError, ConfigError):
            raise
        except Exception as exc:
            if type(exc).__module__.startswith(("pyspark", "py4j")):
                raise EngineError(f"spark stage {name!r} failed: {_one_line(exc)}") from None
            raise
        seconds = round(time.perf_counter() - started, 2)
        self.ck.finish(
            name, {**info, "digest": self.digests[name], "stage": name, "seconds": seconds}
        )
        log.info("stage %s: done %s", name, info)
        return "ran"

    def read(self, stage: str, table: str) -> DataFrame:
        return self.spark.read.parquet(str(self.ck.table(stage, table)))

    def ingest_summary(self) -> IngestSummary:
        summary = IngestSummary()
        if not self.ck.done("ingest"):
            return summary
        info = self.ck.info("ingest")
        summary.files = int(info["files"])
        summary.skipped = int(info["skipped"])
        summary.articles_added = int(info["articles"])
        issues = pq.read_table(self.ck.table("ingest", "issues.parquet"))
        for row in issues.to_pylist():
            summary.add_issue(IngestIssue(row["input"], row["reason"], row["severity"]))
        return summary

    # -- stages ----------------------------------------------------------------------

    def _ingest(self) -> dict[str, Any]:
        from pyspark.sql import Window
        from pyspark.sql import functions as F  # noqa: N812

        paths = self.request.paths
        local = [p for p in paths if not is_spark_path(p)]
        remote = [p for p in paths if is_spark_path(p)]
        now = datetime.now(UTC)
        found: list[dict[str, Any]] = []
        issues: list[dict[str, Any]] = []
        for item in discover(local, self.settings.ingest):
            if isinstance(item, IngestIssue):
                issues.append({"input": item.input, "reason": item.reason,
                               "severity": item.severity, "n": -1, "k": len(issues)})
            else:
                found.append({"n": len(found), "id": item.id, "kind": item.kind,
                              "display": item.display,
                              "path": str(item.path) if item.path else None, "url": item.url})
        record_schema = _spark_schema(tasks.RECORD_SCHEMA)
        parts: list[DataFrame] = []
        if found:
            inputs = self.spark.createDataFrame(
                pa.Table.from_pylist(found, schema=pa.schema(
                    [("n", pa.int64()), ("id", pa.string()), ("kind", pa.string()),
                     ("display", pa.string()), ("path", pa.string()), ("url", pa.string())]
                )).to_pandas()
            )
            slices = max(1, min(len(found), self.spark.sparkContext.defaultParallelism * 4))
            parts.append(inputs.repartition(slices, "n").mapInArrow(
                functools.partial(tasks.read_batches, settings=self.settings, now=now),
                record_schema,
            ))
        for k, uri in enumerate(remote):
            parts.append(self._read_table(uri, len(found) + k, now, record_schema))
        staging = self.ck.table("ingest", "records")
        if parts:
            records = parts[0]
            for part in parts[1:]:
                records = records.unionByName(part)
            _write(records, staging)
            recs = self.spark.read.parquet(str(staging))
        else:
            recs = self.spark.createDataFrame([], record_schema)
        arts = recs.where(F.col("id").isNotNull())
        # only ids read twice are ranked (the first read wins, as in the local ingest):
        # the window shuffles those rows alone, not every article's text
        twice = arts.groupBy("id").count().where("count > 1").select("id").localCheckpoint()
        w = Window.partitionBy("id").orderBy("_input", "_record")
        ranked = arts.join(twice, "id").withColumn(
            "_rank", F.row_number().over(w)
        ).withColumn("_first", F.first(F.coalesce("source", F.lit(""))).over(w))
        names = ARTICLE_SCHEMA.names
        once = arts.join(twice, "id", "left_anti").select(*names)
        first_reads = once.unionByName(ranked.where("_rank = 1").select(*names))
        _write(first_reads, self.ck.table("ingest", "articles"))
        dups = ranked.where("_rank > 1").select(
            F.coalesce("source", F.lit("")).alias("input"),
            F.concat(F.lit("id '"), F.col("id"), F.lit("' already read from "), F.col("_first"),
                     F.lit("; skipped")).alias("reason"),
            F.lit("warning").alias("severity"),
            F.col("_input").alias("n"), F.col("_record").alias("k"),
        )
        bad = recs.where(F.col("_issue_reason").isNotNull()).select(
            F.col("_issue_input").alias("input"), F.col("_issue_reason").alias("reason"),
            F.col("_issue_severity").alias("severity"),
            F.col("_input").alias("n"), F.col("_record").alias("k"),
        )
        rows = [r.asDict() for r in bad.union(dups).collect()]
        all_issues = issues + sorted(rows, key=lambda r: (r["n"], r["k"], r["reason"]))
        pq.write_table(pa.Table.from_pylist(all_issues, schema=_ISSUE_SCHEMA),
                       self.ck.table("ingest", "issues.parquet"))
        kept = self.read("ingest", "articles").count()
        if staging.exists():
            shutil.rmtree(staging)
        skipped = sum(1 for r in rows if r["reason"] == "empty article skipped") + len(
            [r for r in rows if r["reason"].startswith("id '")]
        )
        return {"files": len(found) + len(remote), "articles": kept, "skipped": skipped}

    def _read_table(self, uri: str, n_input: int, now: datetime, schema: Any) -> DataFrame:
        """A Parquet or JSON Lines table at a Spark-readable URI, rows numbered from 1."""
        from pyspark.sql import functions as F  # noqa: N812
        from pyspark.sql.types import LongType, StructField

        name = PurePosixPath(uri.rstrip("/")).name
        lower = name.lower()
        is_json = lower.endswith((".jsonl", ".json", ".jsonl.gz", ".json.gz", ".ndjson"))
        stem = re.sub(r"(\.(jsonl|json|ndjson|parquet))?(\.gz)?$", "", name, flags=re.I)
        reader = self.spark.read
        if is_json:
            df = (reader.option("mode", "PERMISSIVE")
                  .option("columnNameOfCorruptRecord", "_corrupt").json(uri))
        else:
            df = reader.parquet(uri)
        if "_corrupt" not in df.columns:
            df = df.withColumn("_corrupt", F.lit(None).cast("string"))
        ing = self.settings.ingest
        wanted = [c for c in (ing.id_column, ing.text_column, ing.title_column, ing.url_column,
                              ing.published_column, ing.outlet_column) if c in df.columns]
        if ing.text_column not in df.columns:
            raise EngineError(
                f"{uri}: no text column {ing.text_column!r}; set ingest.text_column"
            )
        df = df.select(*[F.col(c).cast("string") if c == ing.published_column else F.col(c)
                         for c in wanted], "_corrupt")
        numbered = df.rdd.zipWithIndex().map(lambda t: (*t[0], t[1] + 1))
        df = self.spark.createDataFrame(numbered, df.schema.add(StructField("_row", LongType())))
        return df.mapInArrow(
            functools.partial(tasks.table_row_batches, settings=self.settings, now=now,
                              display=uri, stem=stem, kind="jsonl" if is_json else "parquet",
                              n_input=n_input),
            schema,
        )

    def _normalize(self) -> dict[str, Any]:
        from pyspark.sql import functions as F  # noqa: N812

        arts = self.read("ingest", "articles")
        prep = arts.mapInArrow(
            functools.partial(tasks.normalize_batches, settings=self.settings),
            _spark_schema(PREP_SCHEMA),
        )
        _write(prep, self.ck.table("normalize", "prep"))
        prep = self.read("normalize", "prep")
        clash = prep.groupBy("key").agg(F.count(F.lit(1)).alias("n"), F.min("id").alias("a"),
                                        F.max("id").alias("b")).where("n > 1").limit(1).collect()
        if clash:
            raise EngineError(f"article key collision: {clash[0]['a']!r} and {clash[0]['b']!r}")
        return {"articles": prep.count()}

    def _fingerprint(self) -> dict[str, Any]:
        from wiretrace.text.fingerprint import POSTINGS_SCHEMA

        postings = self.read("normalize", "prep").mapInArrow(
            functools.partial(tasks.fingerprint_batches, settings=self.settings),
            _spark_schema(POSTINGS_SCHEMA),
        )
        _write(postings, self.ck.table("fingerprint", "postings"))
        return {"postings": self.read("fingerprint", "postings").count()}

    def _candidates(self) -> dict[str, Any]:
        from pyspark.sql import functions as F  # noqa: N812

        from wiretrace.engines.spark_plan import candidate_plan

        cands = candidate_plan(self.read("fingerprint", "postings"), self.settings)
        _write(cands.pairs, self.ck.table("candidates", "pairs"))
        _write(cands.frequent, self.ck.table("candidates", "frequent"))
        ids = self.read("normalize", "prep").select(F.col("key").alias("article"), "id")
        gids = ids.select(F.col("article").alias("group"), F.col("id").alias("group_id"))
        groups = cands.groups.join(ids, "article", "left").join(gids, "group", "left")
        _write(groups.select("article", "group", "size", "id", "group_id"),
               self.ck.table("candidates", "groups"))
        return {
            "pairs": self.read("candidates", "pairs").count(),
            "grouped": self.read("candidates", "groups").count(),
            "frequent": self.read("candidates", "frequent").count(),
        }

    def _align(self) -> dict[str, Any]:
        from pyspark.sql import functions as F  # noqa: N812

        arts = self.read("ingest", "articles").select(
            "id", "text", "excluded", "published", "published_utc_offset"
        )
        masked = self._boilerplate().select(F.col("article").alias("key"), "bp")
        frequent = self._frequent().select(F.col("article").alias("key"), "fq")
        sides = (
            self.read("normalize", "prep").join(arts, "id").join(masked, "key", "left")
            .join(frequent, "key", "left")
        )
        cols = [F.col(c) for c in sides.columns]
        x = sides.select(F.col("id").alias("lo"), F.struct(*cols).alias("x"))
        y = sides.select(F.col("id").alias("hi"), F.struct(*cols).alias("y"))
        todo = self._todo()
        n_pairs = todo.count()
        parts = max(
            self.spark.sparkContext.defaultParallelism,
            -(-n_pairs // max(1, self.settings.spark.align_batch_pairs)),
        )
        joined = todo.join(x, "lo").join(y, "hi").select("x", "y").repartition(parts)
        aligned = joined.mapInArrow(
            functools.partial(tasks.align_batches, settings=self.settings),
            _spark_schema(tasks.ALIGNED_SCHEMA),
        )
        _write(aligned, self.ck.table("align", "aligned"))
        return {
            "pairs": n_pairs,
            "aligned": self.read("align", "aligned").count(),
            "boilerplate_articles": self.read("align", "boilerplate").count(),
            "frequent_articles": self.read("align", "frequent").count(),
        }

    def _frequent(self) -> DataFrame:
        """Each article's fingerprints in more than ``detect.max_df`` groups
        (``align/frequent``: article key, ``fq``), from the candidates stage's
        ``frequent`` table (recomputed from the postings for a checkpoint written
        before that table existed)."""
        from wiretrace.engines.spark_plan import candidate_plan, frequent_hashes

        postings = self.read("fingerprint", "postings")
        table = self.ck.table("candidates", "frequent")
        if table.exists():
            frequent = self.spark.read.parquet(str(table))
        else:
            frequent = candidate_plan(postings, self.settings).frequent
        _write(frequent_hashes(postings, frequent), self.ck.table("align", "frequent"))
        return self.read("align", "frequent")

    def _boilerplate(self) -> DataFrame:
        """The shared boilerplate's positions per article (``align/boilerplate``:
        article key, id, ``bp``), which the align and attribute stages mask
        (:func:`wiretrace.engines.spark_plan.boilerplate_positions`)."""
        from pyspark.sql import functions as F  # noqa: N812

        from wiretrace.engines.spark_plan import boilerplate_positions

        ids = self.read("normalize", "prep").select(F.col("key").alias("article"), "id")
        bp = boilerplate_positions(
            self.read("fingerprint", "postings"), self.read("candidates", "groups"), self.settings
        )
        _write(bp.join(ids, "article").select("article", "id", "bp"),
               self.ck.table("align", "boilerplate"))
        return self.read("align", "boilerplate")

    def _todo(self) -> DataFrame:
        """The pairs to align, ``(lo, hi)`` article ids, planned as the local engine
        plans them (``incremental._index_step``): inside each near-duplicate group the
        pairs of :func:`wiretrace.engines.spark_tasks.group_plan` (members with the
        group's representative, its member of smallest rank; every pair of a small
        group); a candidate pair of two stories once, between their representatives
        (an article in no group is its own). Member pairs across groups are left to
        provenance, which aligns the ones it needs to close triangles (attribute
        stage), as in the local engine."""
        from pyspark.sql import functions as F  # noqa: N812

        dates = self.read("ingest", "articles").select(
            "id", "published", "published_utc_offset"
        )
        ranks = dates.mapInArrow(tasks.rank_batches, _spark_schema(tasks.RANK_SCHEMA))
        members = self.read("candidates", "groups").select("article", "group", "id")
        reps = (
            members.join(ranks, "id")
            .groupBy("group")
            .agg(F.min(F.struct("rank", "article", "id")).alias("r"))
            .select("group", F.col("r.id").alias("rep"))
            .localCheckpoint()
        )
        inside = (
            members.join(reps, "group").join(dates, "id")
            .select("id", "rep", "published", "published_utc_offset")
            .groupBy("rep")
            .applyInArrow(_group_plan_of(self.settings.detect.group_all_pairs),
                          _spark_schema(tasks.GROUP_PAIR_SCHEMA))
        )
        stories = self.read("normalize", "prep").select(F.col("key").alias("story"), "id")
        stories = stories.join(
            reps.select(F.col("group").alias("story"), "rep"), "story", "left"
        ).select("story", F.coalesce("rep", "id").alias("rep"))
        sa = stories.select(F.col("story").alias("a"), F.col("rep").alias("ra"))
        sb = stories.select(F.col("story").alias("b"), F.col("rep").alias("rb"))
        between = self.read("candidates", "pairs").join(sa, "a").join(sb, "b").select(
            F.least("ra", "rb").alias("lo"), F.greatest("ra", "rb").alias("hi")
        )
        return inside.union(between).distinct()

    def _learned(self, raw: DataFrame) -> dict[tuple[str, str], int]:
        from pyspark.sql import functions as F  # noqa: N812

        swaps = raw.mapInArrow(
            functools.partial(tasks.learn_batches, settings=self.settings),
            _spark_schema(tasks.LEARN_SCHEMA),
        ).distinct()
        counted = swaps.groupBy("ks", "kt").agg(F.count(F.lit(1)).alias("n")).where(
            F.col("n") >= self.settings.detect.learn_alias_min_pairs
        )
        return {(r["ks"], r["kt"]): int(r["n"]) for r in counted.collect()}

    def _swaps(
        self, raw: DataFrame, learned: dict[tuple[str, str], int]
    ) -> dict[tuple[str, str], int]:
        keys = raw.mapInArrow(
            functools.partial(tasks.alias_swap_batches, learned=learned),
            _spark_schema(tasks.SWAP_SCHEMA),
        ).distinct()
        return {(r["ks"], r["kt"]): 2 for r in keys.collect()}

    def _attribute(self) -> dict[str, Any]:
        """Origin and credit: ``attribute_all`` per connected group of raw pairs (its
        steps only relate pairs that share an article), with the aliases learned over
        the whole collection."""
        from pyspark.sql import functions as F  # noqa: N812

        from wiretrace.engines.spark_plan import connected_components

        raw = self.read("align", "aligned")
        learned = self._learned(raw)
        swaps = self._swaps(raw, learned)
        comps = connected_components(
            raw.select(F.col("source").alias("u"), F.col("target").alias("v"))
        ).localCheckpoint()
        names = [f.name for f in PAIR_TYPE]
        grouped = raw.join(comps.select(F.col("node").alias("source"), "comp"), "source")
        grouped = grouped.select("comp", *names)
        arts = self.read("ingest", "articles")
        # a renamed key: both sides derive from ``comps``, and Spark cannot tell apart
        # two columns of one lineage
        members = comps.select(F.col("node").alias("id"), F.col("comp").alias("mcomp"))
        masked = self.read("align", "boilerplate").select("id", "bp")
        members = members.join(arts, "id").join(masked, "id", "left")
        final = grouped.groupBy("comp").cogroup(members.groupBy("mcomp")).applyInArrow(
            _attribute_cogroup(self.settings, learned, swaps),
            _spark_schema(tasks.ALIGNED_SCHEMA),
        )
        _write(final, self.ck.table("attribute", "pairs_nested"))
        nested = self.read("attribute", "pairs_nested")
        self._flatten(nested)
        return {"pairs": nested.count(), "learned_aliases": len(learned)}

    def _flatten(self, nested: DataFrame) -> None:
        """The store's ``pairs``, ``passages`` and ``edits`` tables (same columns, same
        types) from the nested pairs."""
        from pyspark.sql import functions as F  # noqa: N812

        from wiretrace.store import _EDIT_SCHEMA, _PAIR_SCHEMA, _PASSAGE_SCHEMA

        pairs = nested.withColumn("passage_count", F.size("passages").cast("int"))
        _write(_cast(pairs, _PAIR_SCHEMA), self.ck.table("attribute", "pairs"))
        ps = nested.select("source", "target", F.posexplode("passages").alias("passage", "p"))
        ps = ps.select("source", "target", F.col("passage").cast("int").alias("passage"), "p.*")
        _write(_cast(ps, _PASSAGE_SCHEMA), self.ck.table("attribute", "passages"))
        ed = ps.select("source", "target", "passage",
                       F.posexplode("edits").alias("edit", "e"))
        ed = ed.select("source", "target", "passage", F.col("edit").cast("int").alias("edit"),
                       "e.*")
        _write(_cast(ed, _EDIT_SCHEMA), self.ck.table("attribute", "edits"))


def _cast(df: DataFrame, schema: pa.Schema) -> DataFrame:
    """``df``'s columns in ``schema``'s order and types."""
    target = _spark_schema(schema)
    return df.select(*[df[f.name].cast(f.dataType).alias(f.name) for f in target.fields])


def _group_plan_of(limit: int) -> Callable[[pa.Table], pa.Table]:
    """A grouped-map function (its type hints tell pyspark it takes one Arrow table)."""

    def run(members: pa.Table) -> pa.Table:
        return tasks.group_plan(members, limit)

    return run


def _attribute_cogroup(
    settings: Settings,
    learned: dict[tuple[str, str], int],
    swaps: dict[tuple[str, str], int],
) -> Callable[[pa.Table, pa.Table], pa.Table]:
    """A cogrouped-map function (type hints tell pyspark it takes Arrow tables)."""

    def run(pairs: pa.Table, articles: pa.Table) -> pa.Table:
        return tasks.attribute_group(pairs, articles, settings, learned, swaps)

    return run


def iter_stage_rows(out: Path, stage: str, table: str) -> Iterator[dict[str, object]]:
    """Rows of one checkpoint table (no Spark needed)."""
    from wiretrace.engines.load import iter_parquet_rows

    return iter_parquet_rows(Checkpoints(out).table(stage, table))

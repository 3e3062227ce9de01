"""The candidate plan of :mod:`wiretrace.detect.candidates`, as Spark DataFrame operations.

Step for step the DuckDB plan (read its module docstring first): distinct
fingerprints and sizes; near-duplicate edges from min-hash buckets (each article against
its bucket's leader only); groups as connected components; postings collapsed to one
row per (group, hash); hashes in more than ``detect.max_df`` groups dropped; the
self-join on hash; nearly identical representatives joined into groups. The pairs are
then kept as pairs of *stories* (a near-duplicate group, named by its smallest key, or
an article in none), not expanded to members: the local engine aligns a candidate pair
of two groups once, between their representatives, and so does the Spark engine's align
stage (``spark.py``, ``_todo``). The same inputs give the same groups as the DuckDB plan,
and its pairs collapsed to stories (tested).

Connected components are computed with DataFrame joins (no GraphFrames: Maven packages
are not reachable at run time): min-label propagation with pointer jumping, which needs
O(log d) rounds for a component of diameter d. Each round's labels are checkpointed
(``localCheckpoint``) so the query plan does not grow with the rounds.

Only imported by the Spark engine (it imports pyspark at module level).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F  # noqa: N812 - the PySpark convention

from wiretrace.detect.candidates import _SEEDS
from wiretrace.errors import EngineError
from wiretrace.settings import Settings

__all__ = [
    "SparkCandidates",
    "boilerplate_positions",
    "candidate_plan",
    "connected_components",
    "frequent_hashes",
]

log = logging.getLogger(__name__)

#: Rounds after which label propagation is declared stuck (never reached: each round
#: at least halves the distance to a component's minimum along pointer chains).
MAX_ROUNDS = 64


@dataclass(frozen=True)
class SparkCandidates:
    #: a, b (story keys, a < b: a group's id, its smallest key, or an article in no
    #: group), shared (the most fingerprints any two of their parts share)
    pairs: DataFrame
    groups: DataFrame  # article, group, size (members of groups of two or more)
    #: hash: fingerprints in more than ``detect.max_df`` groups (dropped from the join;
    #: the align stage drops passages made of them, as the local engine does)
    frequent: DataFrame


def connected_components(edges: DataFrame, src: str = "u", dst: str = "v") -> DataFrame:
    """``(node, comp)`` for every node named in ``edges``; ``comp`` is the smallest node
    of its connected component (so the result does not depend on the edge order).

    Min-label propagation: every node starts labelled with itself; each round, both ends
    of every edge take the smaller of their two labels, then every node takes its
    label's label (pointer jumping). At the fixed point all nodes of a component carry
    one label; labels only decrease and are always nodes of the component, so that
    label is the component's minimum.
    """
    e = edges.select(F.col(src).alias("u"), F.col(dst).alias("v")).where("u <> v")
    e = e.select(F.least("u", "v").alias("u"), F.greatest("u", "v").alias("v")).distinct()
    e = e.localCheckpoint()
    labels = (
        e.select(F.col("u").alias("node"))
        .union(e.select(F.col("v").alias("node")))
        .distinct()
        .withColumn("label", F.col("node"))
        .localCheckpoint()
    )
    for rounds in range(1, MAX_ROUNDS + 1):
        lu = labels.select(F.col("node").alias("u"), F.col("label").alias("lu"))
        lv = labels.select(F.col("node").alias("v"), F.col("label").alias("lv"))
        both = e.join(lu, "u").join(lv, "v").select("u", "v", F.least("lu", "lv").alias("m"))
        proposals = both.select(F.col("u").alias("node"), F.col("m").alias("label")).union(
            both.select(F.col("v").alias("node"), F.col("m").alias("label"))
        )
        merged = labels.union(proposals).groupBy("node").agg(F.min("label").alias("label"))
        parent = merged.select(F.col("node").alias("label"), F.col("label").alias("up"))
        jumped = merged.join(parent, "label", "left").select(
            "node", F.least("label", F.coalesce("up", "label")).alias("label")
        ).localCheckpoint()
        changed = (
            jumped.alias("n")
            .join(labels.alias("o"), "node")
            .where(F.col("n.label") != F.col("o.label"))
            .limit(1)
            .count()
        )
        labels = jumped
        if not changed:
            log.debug("connected components: %d rounds", rounds)
            return labels.select("node", F.col("label").alias("comp"))
    raise EngineError(f"connected components did not converge in {MAX_ROUNDS} rounds")


def _minhash_edges(fp: DataFrame, size: DataFrame, threshold: float) -> DataFrame:
    """Near-duplicate edges (u = member, v = bucket leader) from min-hash buckets."""
    zx = size.select(F.col("article").alias("u"), F.col("n").alias("nu"))
    zy = size.select(F.col("article").alias("v"), F.col("n").alias("nv"))
    parts: list[DataFrame] = []
    for seed in _SEEDS:
        mins = fp.groupBy("article").agg(
            F.min(F.col("hash").bitwiseXOR(F.lit(seed).cast("long"))).alias("m")
        )
        leaders = mins.join(mins.groupBy("m").agg(F.min("article").alias("leader")), "m")
        leaders = leaders.where(F.col("article") != F.col("leader"))
        f1 = fp.select(F.col("article").alias("u"), "hash")
        f2 = fp.select(F.col("article").alias("v"), "hash")
        shared = (
            leaders.select(F.col("article").alias("u"), F.col("leader").alias("v"))
            .join(f1, "u")
            .join(f2, ["v", "hash"])
            .groupBy("u", "v")
            .agg(F.count(F.lit(1)).alias("n"))
        )
        kept = (
            shared.join(zx, "u")
            .join(zy, "v")
            .where(F.col("n") >= F.lit(threshold) * F.greatest("nu", "nv"))
            .select("u", "v")
        )
        parts.append(kept)
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part)
    return out


def _comp_of(articles: DataFrame, comps: DataFrame) -> DataFrame:
    """``(article, grp)``: each article's component, itself when in none."""
    return articles.join(
        comps.select(F.col("node").alias("article"), F.col("comp")), "article", "left"
    ).select("article", F.coalesce("comp", "article").alias("grp"))


def candidate_plan(postings: DataFrame, settings: Settings) -> SparkCandidates:
    """The plan on a postings DataFrame (``article``, ``hash`` [, ``pos``])."""
    ds = settings.detect
    fp = postings.select("article", "hash").distinct().localCheckpoint()
    size = fp.groupBy("article").agg(F.count(F.lit(1)).alias("n")).localCheckpoint()
    minhash = _minhash_edges(fp, size, ds.near_duplicate).localCheckpoint()
    rep = _comp_of(size.select("article"), connected_components(minhash))
    cp = fp.join(rep, "article").select(F.col("grp").alias("article"), "hash").distinct()
    df = cp.groupBy("hash").agg(F.count(F.lit(1)).alias("df")).localCheckpoint()
    df_ok = df.where(F.col("df") <= ds.max_df)
    kept = cp.join(df_ok.select("hash"), "hash")
    x = kept.select(F.col("article").alias("a"), "hash")
    y = kept.select(F.col("article").alias("b"), "hash")
    za = size.select(F.col("article").alias("a"), F.col("n").alias("na"))
    zb = size.select(F.col("article").alias("b"), F.col("n").alias("nb"))
    rep_pairs = (
        x.join(y, "hash")
        .where(F.col("a") < F.col("b"))
        .groupBy("a", "b")
        .agg(F.count(F.lit(1)).alias("shared"))
        .where(F.col("shared") >= ds.min_shared)
        .join(za, "a")
        .join(zb, "b")
        .select("a", "b", "shared", F.greatest("na", "nb").alias("big"))
        .localCheckpoint()
    )
    near: Column = F.col("shared") >= F.lit(ds.near_duplicate) * F.col("big")
    joined = rep_pairs.where(near).select(F.col("a").alias("u"), F.col("b").alias("v"))
    edges = minhash.union(joined)
    final = _comp_of(size.select("article"), connected_components(edges)).localCheckpoint()
    gsize = final.groupBy("grp").agg(F.count(F.lit(1)).alias("gsize"))
    members = final.join(gsize, "grp").localCheckpoint()
    plain = rep_pairs.where(~near).select("a", "b", "shared")
    pairs = _story_pairs(final, plain)
    groups = members.where(F.col("gsize") > 1).select(
        "article", F.col("grp").alias("group"), F.col("gsize").alias("size")
    )
    frequent = df.where(F.col("df") > ds.max_df).select("hash")
    return SparkCandidates(pairs=pairs, groups=groups, frequent=frequent)


def _story_pairs(final: DataFrame, plain: DataFrame) -> DataFrame:
    """Step 4, as the local engine plans it: each candidate pair of first-round groups
    becomes a pair of final groups (``final``: article, grp), pairs inside one group
    dropped (the group's own pairs are planned from its members). Never expanded to
    members: what the align stage aligns is the two stories' representatives."""
    ga = final.select(F.col("article").alias("a"), F.col("grp").alias("ga"))
    gb = final.select(F.col("article").alias("b"), F.col("grp").alias("gb"))
    return (
        plain.join(ga, "a").join(gb, "b").where(F.col("ga") != F.col("gb"))
        .select(F.least("ga", "gb").alias("a"), F.greatest("ga", "gb").alias("b"), "shared")
        .groupBy("a", "b")
        .agg(F.max("shared").alias("shared"))
    )


def boilerplate_positions(postings: DataFrame, groups: DataFrame, settings: Settings) -> DataFrame:
    """``(article, bp)``: the token positions (``pos`` of the postings) of each
    article's shared boilerplate fingerprints, for the articles that have any.

    The rule of :func:`wiretrace.detect.shared_boilerplate` (and of the local engine's
    ``boilerplate_hashes``): fingerprints in at least ``detect.boilerplate_share`` of
    the stories and in ``detect.boilerplate_min_stories`` or more, where a story is a
    near-duplicate group (``groups``: article, group) or an article in none, so a
    reprint flood is one story and never boilerplate of its own reprints. Stories are
    the articles with postings.
    """
    ds = settings.detect
    story = postings.select("article", "hash").join(
        groups.select("article", "group"), "article", "left"
    ).select("hash", F.coalesce("group", "article").alias("story"))
    stories = story.select("story").distinct().count()
    need = max(ds.boilerplate_min_stories, math.ceil(ds.boilerplate_share * stories))
    empty = postings.select("article", F.array().cast("array<int>").alias("bp")).limit(0)
    if stories < need or need < 1:
        return empty
    common = (
        story.distinct()
        .groupBy("hash")
        .agg(F.count(F.lit(1)).alias("n"))
        .where(F.col("n") >= need)
        .select("hash")
    )
    return (
        postings.join(common, "hash")
        .groupBy("article")
        .agg(F.collect_list(F.col("pos").cast("int")).alias("bp"))
    )


def frequent_hashes(postings: DataFrame, frequent: DataFrame) -> DataFrame:
    """``(article, fq)``: each article's fingerprints among ``frequent`` (hashes in more
    than ``detect.max_df`` groups: an outlet's footer or masthead), for the articles
    that have any. The align stage hands each pair's source side its own, so the local
    engine's predicate (:func:`wiretrace.engines.incremental.banal`) sees exactly the
    frequent fingerprints it would look up."""
    return (
        postings.select("article", "hash")
        .join(frequent.select("hash"), "hash")
        .groupBy("article")
        .agg(F.collect_set("hash").alias("fq"))
    )

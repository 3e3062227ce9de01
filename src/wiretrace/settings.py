"""One settings tree, a section per stage.

Precedence: defaults < ``wiretrace.toml`` (in the current folder, or the file named by
``WIRETRACE_CONFIG``) < ``WIRETRACE_<SECTION>_<NAME>`` environment variables < explicit
overrides (CLI options). Every setting carries its help text in the field metadata; the
README's settings table is generated from :func:`describe` and a test checks it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from wiretrace.errors import ConfigError

__all__ = [
    "DetectSettings",
    "IngestSettings",
    "ProvenanceSettings",
    "ServeSettings",
    "Settings",
    "SparkSettings",
    "StoriesSettings",
    "TextSettings",
    "describe",
    "load_settings",
]


def _opt(default: Any, help: str, **kw: Any) -> Any:
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass(frozen=True)
class IngestSettings:
    max_article_bytes: int = _opt(
        20_000_000,
        "Inputs (one file, one page, one record's text) larger than this many bytes are "
        "refused with a one-line error; WARC and table files are streamed and not limited.",
    )
    fetch_timeout: float = _opt(20.0, "Seconds before a URL fetch gives up.")
    fetch_max_bytes: int = _opt(10_000_000, "A fetched page or feed larger than this is refused.")
    user_agent: str = _opt(
        "wiretrace/0.1 (+text-reuse research; polite fetcher)", "User-Agent sent with fetches."
    )
    respect_robots: bool = _opt(True, "Obey robots.txt when fetching URLs.")
    default_timezone: str = _opt(
        "",
        "Timezone (IANA name) given to publication times that carry none; empty keeps them "
        "naive.",
    )
    workers: int = _opt(
        0, "Processes reading inputs (text, feeds, tables, HTML, WARC); 0 means one per core."
    )
    id_column: str = _opt("id", "Table input: the column holding the article id.")
    text_column: str = _opt("text", "Table input: the column holding the article text.")
    title_column: str = _opt("title", "Table input: the column holding the title.")
    url_column: str = _opt("url", "Table input: the column holding the URL.")
    published_column: str = _opt("published", "Table input: the publication time column.")
    outlet_column: str = _opt("outlet", "Table input: the outlet (publisher) column.")
    batch_articles: int = _opt(
        2000,
        "Articles written to the store per transaction; a killed ingest keeps every "
        "finished batch, and running it again completes the rest.",
    )


@dataclass(frozen=True)
class TextSettings:
    alias_files: list[str] = _opt(
        [], "Extra alias tables (TSV: canonical<TAB>alias<TAB>alias...) added to the built-in one."
    )
    fold_accents: bool = _opt(True, "Match 'Guaidó' with 'Guaido'.")
    ngram: int = _opt(5, "Words per fingerprinted n-gram (see text.cjk_ngram for CJK/Thai).")
    winnow_window: int = _opt(4, "Winnowing window: one fingerprint kept per this many n-grams.")
    cjk_ngram: int = _opt(
        8,
        "Characters per fingerprinted n-gram in text written without spaces (Chinese, "
        "Japanese, Thai...), used instead of text.ngram when most of an article's tokens "
        "are such characters.",
    )


@dataclass(frozen=True)
class DetectSettings:
    max_df: int = _opt(
        1000,
        "Fingerprints shared by more articles than this are not used to propose candidate "
        "pairs (reprint floods are handled by near-duplicate groups, not dropped).",
    )
    min_shared: int = _opt(2, "Shared fingerprints a pair needs to become a candidate.")
    min_passage_words: int = _opt(
        10, "Shortest passage, in words, reported as reuse (shared stock phrases are shorter)."
    )
    min_similarity: float = _opt(
        0.6, "Lowest share of equal words in an aligned passage (after alias normalisation)."
    )
    sentence_similarity: float = _opt(
        0.7, "Lowest similarity for a sentence-level (light paraphrase) match."
    )
    near_duplicate: float = _opt(
        0.9, "Containment above which articles join one near-duplicate group."
    )
    anchor_ngram: int = _opt(
        4,
        "Alignment: words per shared n-gram used as an anchor inside a candidate pair "
        "(every n-gram, not only the winnowed ones).",
    )
    max_anchor_repeats: int = _opt(
        8, "Alignment: an n-gram occurring more often than this in one article is no anchor."
    )
    max_gap: int = _opt(
        8,
        "Alignment: most words inserted, deleted or substituted between two anchor runs "
        "that still join one passage; a longer gap splits it.",
    )
    snap_words: int = _opt(
        2,
        "Alignment: a passage is extended to its sentence's start or end when at most this "
        "many words of that sentence lie outside it on each side.",
    )
    min_sentence_words: int = _opt(
        10, "Sentence-level (light paraphrase) matching: fewest words in each sentence."
    )
    learn_alias_min_pairs: int = _opt(
        2,
        "A name swap (e.g. 'Tories' for 'Conservatives') recurring in this many article "
        "pairs of a run is learned as an alias.",
    )
    boilerplate_share: float = _opt(
        0.8,
        "Text found in at least this share of a collection's stories (a near-duplicate "
        "group counts once) is shared boilerplate, such as a site's notice under every "
        "article: it is not aligned and never reuse.",
    )
    boilerplate_min_stories: int = _opt(
        5, "Shared boilerplate (detect.boilerplate_share) needs at least this many stories."
    )
    group_all_pairs: int = _opt(
        6,
        "Near-duplicate groups of at most this many articles are aligned pair by pair, so "
        "that provenance can tell the origin from its reprints; a larger group is aligned "
        "as a star around one member (about N alignments for N reprints).",
    )
    workers: int = _opt(0, "Processes aligning candidate pairs; 0 means one per core.")
    parallel_min_pairs: int = _opt(
        64, "Fewer candidate pairs than this are aligned in-process (no pool start-up)."
    )
    check_candidates: int = _opt(
        20,
        "check: the stored articles (near-duplicate groups count once) sharing the most "
        "fingerprints with the input that are aligned against it.",
    )
    index_batch: int = _opt(
        50000,
        "New articles fingerprinted, paired and aligned per step of an incremental "
        "update (one transaction each; bounds memory).",
    )
    attribute_batch: int = _opt(
        10000,
        "Aligned pairs an update step re-attributes at a time, whole connected groups "
        "together (a larger group is one batch): bounds the memory attribution holds "
        "(about 20 KB a pair); the pairs found are the same whatever it is. Batches under "
        "2,000 pairs are attributed in-process (no provenance.workers pool).",
    )
    memory_limit: str = _opt(
        "auto",
        "DuckDB memory limit while the index is updated ('auto': 60% of the machine's "
        "memory); intermediate results past it spill to a folder beside the store, but the "
        "postings index (~40 bytes per posting) must fit.",
    )


@dataclass(frozen=True)
class ProvenanceSettings:
    naive_time_slack_hours: float = _opt(
        14.0,
        "A publication time without a timezone and one with a timezone only decide the "
        "origin when they differ by more than this many hours (the unknown zone's range).",
    )
    reused_sentence_share: float = _opt(
        0.5,
        "Patchwork: a sentence counts as reused when more than this share of its words "
        "lies inside passages from other articles.",
    )
    close_triangle_words: int = _opt(
        10,
        "Near-duplicate groups: when article R took text from S and shares at least this "
        "many words of it with M, but S and M were never aligned (detection paired M with "
        "R, the group's representative, not its origin), S and M are aligned so that M is "
        "paired with the group's origin or found to copy R; 0 turns this off.",
    )
    workers: int = _opt(
        0,
        "Processes attributing origin and credit, one connected group of pairs (pairs "
        "linked through shared articles) at a time; 0 means one per core, 1 keeps it "
        "in-process. Fewer than 2,000 pairs, or a single group, are attributed in-process.",
    )


@dataclass(frozen=True)
class ServeSettings:
    page_size: int = _opt(50, "Web viewer and HTTP API: items per page when none is asked for.")
    max_page_size: int = _opt(
        500, "Web viewer and HTTP API: most items one request may ask for (limit=...)."
    )
    max_request_bytes: int = _opt(
        2_000_000,
        "Web viewer and HTTP API: largest request body (a pasted article to check); larger "
        "requests get 413.",
    )
    check_concurrency: int = _opt(
        1, "Web viewer and HTTP API: article checks computed at once (each uses the CPU)."
    )
    check_wait: float = _opt(
        30.0,
        "Web viewer and HTTP API: seconds a check waits for a free slot before the server "
        "answers 503 (busy).",
    )
    top: int = _opt(10, "Web viewer overview: entries in each top list (sources, reusers).")


@dataclass(frozen=True)
class SparkSettings:
    shuffle_partitions: int = _opt(
        0,
        "Spark engine: partitions of each shuffle (spark.sql.shuffle.partitions) for a "
        "session wiretrace starts; 0 keeps Spark's default (200). About 2-4 per core.",
    )
    align_batch_pairs: int = _opt(
        2000,
        "Spark engine: candidate pairs per alignment task (at least one task per core).",
    )
    driver_memory: str = _opt(
        "4g",
        "Spark engine: JVM heap of the driver (spark.driver.memory) of a session wiretrace "
        "starts; with a local[N] master the tasks run in it too. Empty keeps Spark's default "
        "(1g, which the alignment of 100,000 articles outgrew).",
    )


@dataclass(frozen=True)
class StoriesSettings:
    threshold: float = _opt(
        0.1,
        "Stories: lowest cosine similarity (TF-IDF over words and names) between an "
        "article and a story's centroid for the article to join the story.",
    )
    merge_threshold: float = _opt(
        0.1, "Stories: lowest cosine similarity between two stories' centroids to merge them."
    )
    window_days: float = _opt(
        7.0,
        "Stories: a dated article joins only a story whose publication span comes within "
        "this many days of it.",
    )
    top_terms: int = _opt(60, "Stories: heaviest terms kept per article (its TF-IDF row).")
    index_terms: int = _opt(
        12, "Stories: heaviest terms per story in the index that proposes candidate stories."
    )
    lead_chars: int = _opt(
        2000,
        "Stories: characters of each body read for its terms (news put the event in the "
        "lead); 0 reads the whole body.",
    )
    candidates: int = _opt(
        16,
        "Stories: candidate stories compared exactly per article (those sharing the most "
        "index weight with it).",
    )
    batch: int = _opt(2048, "Stories: articles assigned per batch of the online pass.")
    workers: int = _opt(
        0,
        "Stories: processes counting terms when many articles arrive at once (20,000 or "
        "more); 0 means one per core.",
    )


@dataclass(frozen=True)
class Settings:
    ingest: IngestSettings = field(default_factory=IngestSettings)
    text: TextSettings = field(default_factory=TextSettings)
    detect: DetectSettings = field(default_factory=DetectSettings)
    provenance: ProvenanceSettings = field(default_factory=ProvenanceSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)
    spark: SparkSettings = field(default_factory=SparkSettings)
    stories: StoriesSettings = field(default_factory=StoriesSettings)

    def with_overrides(self, overrides: dict[str, Any]) -> Settings:
        """Return a copy with ``{"section.name": value}`` applied (values are validated)."""
        current = self
        for key, value in overrides.items():
            current = _apply(current, key, value, origin="override")
        return current


def _coerce(value: Any, default: Any, key: str, origin: str) -> Any:
    target = type(default)
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                low = value.strip().lower()
                if low in {"1", "true", "yes", "on"}:
                    return True
                if low in {"0", "false", "no", "off"}:
                    return False
                raise ValueError(value)
            return bool(value)
        if isinstance(default, list):
            if isinstance(value, str):
                return [v for v in value.split(os.pathsep) if v]
            return list(value)
        return target(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{key} ({origin}) must be a {target.__name__}, not {value!r}"
        ) from None


def _apply(settings: Settings, key: str, value: Any, origin: str) -> Settings:
    section_name, _, name = key.partition(".")
    section = getattr(settings, section_name, None)
    if section is None or not is_dataclass(section) or not name:
        raise ConfigError(f"unknown setting {key!r} ({origin}); see `wiretrace settings`")
    names = {f.name: f for f in fields(section)}
    if name not in names:
        raise ConfigError(f"unknown setting {key!r} ({origin}); see `wiretrace settings`")
    coerced = _coerce(value, getattr(section, name), key, origin)
    if isinstance(coerced, int | float) and not isinstance(coerced, bool) and coerced < 0:
        raise ConfigError(f"{key} ({origin}) must be >= 0, not {coerced!r}")
    new_section: Any = replace(section, **{name: coerced})  # type: ignore[type-var]
    changes: dict[str, Any] = {section_name: new_section}
    return replace(settings, **changes)


def load_settings(
    overrides: dict[str, Any] | None = None,
    config_file: str | Path | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Build settings from defaults, the config file, the environment and overrides."""
    env = os.environ if environ is None else environ
    settings = Settings()
    path = Path(config_file or env.get("WIRETRACE_CONFIG") or "wiretrace.toml")
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read settings: {exc}") from None
        for section_name, values in data.items():
            if not isinstance(values, dict):
                raise ConfigError(f"{path}: [{section_name}] must be a table of settings")
            for name, value in values.items():
                settings = _apply(settings, f"{section_name}.{name}", value, origin=str(path))
    for section_field in fields(settings):
        for f in fields(getattr(settings, section_field.name)):
            var = f"WIRETRACE_{section_field.name}_{f.name}".upper()
            if var in env:
                settings = _apply(settings, f"{section_field.name}.{f.name}", env[var], var)
    return settings.with_overrides(overrides or {})


def describe(settings: Settings | None = None) -> list[tuple[str, Any, str]]:
    """``(section.name, value, help)`` for every setting, in declaration order."""
    settings = settings or Settings()
    rows: list[tuple[str, Any, str]] = []
    for section_field in fields(settings):
        section = getattr(settings, section_field.name)
        for f in fields(section):
            key = f"{section_field.name}.{f.name}"
            rows.append((key, getattr(section, f.name), f.metadata["help"]))
    return rows

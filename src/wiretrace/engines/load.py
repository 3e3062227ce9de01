"""Loading an engine's Parquet results into the DuckDB store.

The Spark engine writes the store's tables as Parquet (``ingest/articles``,
``attribute/pairs_nested``); this module loads them into a store file so that
``pairs``, ``show``, ``report`` and ``serve`` read them unchanged. No Spark needed:
it reads the Parquet files with pyarrow, in batches.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pyarrow.dataset as ds

from wiretrace.engines.rows import article_from_row, pair_from_row
from wiretrace.models import Article, ReusePair
from wiretrace.settings import Settings
from wiretrace.store import PutResult

__all__ = ["iter_parquet_rows", "load_results"]

log = logging.getLogger(__name__)


def iter_parquet_rows(folder: Path, batch_size: int = 2048) -> Iterator[dict[str, object]]:
    """Rows of a Parquet folder (as Spark writes it: ``part-*.parquet`` files)."""
    files = sorted(str(p) for p in folder.glob("*.parquet"))
    if not files:
        return
    for batch in ds.dataset(files, format="parquet").to_batches(batch_size=batch_size):
        yield from batch.to_pylist()


def _articles(folder: Path) -> Iterator[tuple[Article, int]]:
    for row in iter_parquet_rows(folder):
        yield article_from_row(row), int(row["words"] or 0)  # type: ignore[call-overload]


def load_results(
    db: Path, articles_dir: Path, pairs_dir: Path | None, settings: Settings
) -> tuple[PutResult, int]:
    """Put the articles into the store at ``db`` (same versioning as an ingest) and,
    when ``pairs_dir`` is given, replace its pairs with the engine's.

    The stored pairs are marked current (so a later local ``run`` does not redo them)
    only when the store then holds exactly the engine's articles; otherwise (the store
    had other articles too) they are stored unmarked, and a local ``run`` recomputes.
    Stories are then updated in the store, as a local ``run`` does.
    Returns what ``put_articles`` did (summed over batches) and the pairs stored.
    """
    from wiretrace.collection import open_collection

    total = PutResult()
    loaded = 0
    with open_collection(db, settings) as coll:
        batch: list[Article] = []
        words: list[int] = []

        def flush() -> None:
            result = coll.store.put_articles(batch, words)
            total.added.extend(result.added)
            total.updated.extend(result.updated)
            total.unchanged += result.unchanged
            total.refreshed.extend(result.refreshed)
            batch.clear()
            words.clear()

        for article, n in _articles(articles_dir):
            batch.append(article)
            words.append(n)
            loaded += 1
            if len(batch) >= settings.ingest.batch_articles:
                flush()
        flush()
        if pairs_dir is None:
            return total, 0
        pairs: list[ReusePair] = [pair_from_row(r) for r in iter_parquet_rows(pairs_dir)]
        pairs.sort(key=lambda p: (p.source, p.target))
        current = coll.store.count_articles() == loaded
        if not current:
            log.warning(
                "%s holds articles beyond this run's; its pairs cover this run's only", db
            )
        stored = coll.store.replace_pairs(pairs, coll._pairs_state() if current else "")
        # stories are what a local ``run`` stores next; computed here, on the store
        coll.update_stories()
    return total, stored

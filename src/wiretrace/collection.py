"""The core object the shells use: a collection of articles in one store.

``open_collection()`` opens (or creates) the store; :class:`Collection` ingests inputs,
runs detection over what is stored, and reads articles and pairs back. The CLI, the
HTTP API and the Python API are thin layers over it::

    with open_collection("news.duckdb") as coll:
        summary = coll.ingest(["articles/"])
        pairs = coll.detect()
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from wiretrace.errors import StoreError
from wiretrace.ingest import IngestSummary
from wiretrace.ingest import ingest as ingest_inputs
from wiretrace.models import Article, ReusePair
from wiretrace.progress import NullProgress, Progress
from wiretrace.settings import Settings, load_settings
from wiretrace.store import Store

__all__ = ["Collection", "RunSummary", "open_collection"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class RunSummary:
    """What :meth:`Collection.run` did: the ingest summary and the pairs detected
    (``detected`` is False when no detection engine is installed)."""

    ingest: IngestSummary
    pairs: list[ReusePair] = field(default_factory=list)
    detected: bool = False

    @property
    def failed(self) -> bool:
        return self.ingest.failed


class Collection:
    """Articles and what was derived from them, in one store.

    Not thread-safe: one Collection per thread (DuckDB connections are not shared).
    """

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    @property
    def path(self) -> Path:
        return self.store.path

    # -- ingest and detection --------------------------------------------------------

    def ingest(
        self, paths: Iterable[str | Path], progress: Progress | None = None
    ) -> IngestSummary:
        """Read files, folders and URLs into the store (see :func:`wiretrace.ingest.ingest`).

        Returns the summary; bad inputs are in its ``errors``, never raised.
        """
        return ingest_inputs(paths, self.store, self.settings, progress)

    def detect(self, progress: Progress | None = None) -> list[ReusePair]:
        """Find reuse among all stored articles and replace the stored pairs with it.

        Detection (:func:`wiretrace.detect.detect_reuse`) gives provisionally oriented
        pairs; provenance (:func:`wiretrace.analyze.provenance.attribute_all`) orients
        them, weighs the evidence, checks credits and resolves copy chains. Returns the
        pairs sorted by (source, target). When no detection engine is installed, logs a
        warning, leaves the store as it is and returns ``[]``.
        """
        detect_reuse = _detect_function()
        if detect_reuse is None:
            log.warning("no detection engine installed; pairs not computed")
            return []
        state = self._pairs_state()
        articles = list(self.store.iter_articles())
        pairs = self._find_pairs(detect_reuse, articles, progress)
        self.store.replace_pairs(pairs, state)
        return pairs

    def _pairs_state(self) -> str:
        """What stored pairs depend on: the articles' contents and the settings."""
        s = self.settings
        return f"{self.store.content_state()}|{s.text!r}|{s.detect!r}|{s.provenance!r}"

    @property
    def pairs_current(self) -> bool:
        """True when the stored pairs were computed from the stored articles as they are
        now, with the current settings (so :meth:`detect` would find the same)."""
        return self.store.meta("pairs_state") == self._pairs_state()

    def _find_pairs(
        self, detect_reuse: Any, articles: list[Article], progress: Progress | None
    ) -> list[ReusePair]:
        aliases = _load_aliases(self.settings)
        pairs: list[ReusePair] = list(
            detect_reuse(articles, self.settings, aliases, progress or NullProgress())
        )
        attribute_all = _optional("wiretrace.analyze.provenance", "attribute_all")
        if attribute_all is not None:
            by_id = {a.id: a for a in articles}
            pairs = list(attribute_all(pairs, by_id, self.settings, aliases))
        pairs.sort(key=lambda p: (p.source, p.target))
        return pairs

    @property
    def can_detect(self) -> bool:
        """True when a detection engine is installed."""
        return _detect_function() is not None

    def run(self, paths: Iterable[str | Path], progress: Progress | None = None) -> RunSummary:
        """Ingest ``paths``, then detect reuse over the whole collection (skipped when
        the stored pairs are current: nothing changed since the last detection)."""
        summary = self.ingest(paths, progress)
        if not self.can_detect:
            return RunSummary(summary)
        if self.pairs_current:
            return RunSummary(summary, list(self.store.iter_pairs()), detected=True)
        return RunSummary(summary, self.detect(progress), detected=True)

    def check(self, article: Article) -> list[ReusePair]:
        """Pairs between ``article`` (not stored) and the stored articles.

        Runs detection over the collection plus the article and keeps the pairs that
        involve it; raises :class:`StoreError` when no detection engine is installed.
        """
        detect_reuse = _detect_function()
        if detect_reuse is None:
            raise StoreError("no detection engine installed")
        others = [a for a in self.store.iter_articles() if a.id != article.id]
        pairs = self._find_pairs(detect_reuse, [*others, article], None)
        return [p for p in pairs if article.id in (p.source, p.target)]

    # -- reading ---------------------------------------------------------------------

    def articles(self) -> Iterator[Article]:
        """Every stored article (latest versions), sorted by id."""
        return self.store.iter_articles()

    def article(self, id: str) -> Article:
        """One stored article; :class:`~wiretrace.errors.NotFound` when absent."""
        return self.store.get_article(id)

    def pairs(self) -> Iterator[ReusePair]:
        """Every stored reuse pair, sorted by (source, target)."""
        return self.store.iter_pairs()

    def remove(self, id: str) -> None:
        """Delete an article and everything derived from it (pairs where it is source
        or target); :class:`~wiretrace.errors.NotFound` when absent."""
        self.store.remove_article(id)

    # -- lifetime --------------------------------------------------------------------

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Collection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_collection(
    db_path: str | Path | None = None,
    settings: Settings | None = None,
    read_only: bool = False,
) -> Collection:
    """Open the collection stored at ``db_path`` (default ``wiretrace.duckdb`` in the
    current folder; created when missing unless ``read_only``).

    ``settings`` default to :func:`wiretrace.settings.load_settings` (defaults,
    ``wiretrace.toml``, ``WIRETRACE_*`` variables). Raises :class:`StoreError` when the
    store cannot be opened (see :meth:`Store.open`).
    """
    settings = settings if settings is not None else load_settings()
    return Collection(Store.open(db_path, read_only=read_only), settings)


def _optional(module_name: str, name: str) -> Any:
    """``module_name.name`` when that module is installed and defines it, else None."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    return getattr(module, name, None)


def _detect_function() -> Any:
    """``wiretrace.detect.detect_reuse``, or None while detection is not installed."""
    return _optional("wiretrace.detect", "detect_reuse")


def _load_aliases(settings: Settings) -> Any:
    """The alias table (built in plus ``text.alias_files``), or None when the module
    is not installed yet."""
    table = _optional("wiretrace.text.aliases", "AliasTable")
    return None if table is None else table.load(tuple(settings.text.alias_files))

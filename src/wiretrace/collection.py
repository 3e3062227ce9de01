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

from wiretrace.analyze.story_summary import Story
from wiretrace.errors import StoreError
from wiretrace.ingest import IngestSummary
from wiretrace.ingest import ingest as ingest_inputs
from wiretrace.models import Article, ReusePair
from wiretrace.progress import Progress
from wiretrace.settings import Settings, load_settings
from wiretrace.store import Store
from wiretrace.story_store import StoryUpdate, iter_stories, load_story, update_stories

__all__ = ["Collection", "RunSummary", "open_collection"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class RunSummary:
    """What :meth:`Collection.run` did: the ingest summary and the pairs detected
    (``detected`` is False when no detection engine is installed): every stored pair,
    or with ``run(..., top=N)`` the N most reused; ``pair_count`` counts them all."""

    ingest: IngestSummary
    pairs: list[ReusePair] = field(default_factory=list)
    detected: bool = False
    stories: int = 0  # stories stored after the run (see Collection.update_stories)
    pair_count: int = 0

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
        self._alias_table: Any = None
        self._learned: dict[tuple[str, str], int] | None = None

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
        """Bring the stored reuse pairs up to date with the stored articles and return
        them, sorted by (source, target).

        Incremental (:func:`wiretrace.engines.incremental.update_index`): only new
        articles are fingerprinted and aligned against the collection's index (the
        postings kept in the store); removed or changed articles drop what was derived
        from them; provenance (:func:`wiretrace.analyze.provenance.attribute_all`)
        re-attributes the pairs that touch the change. The first call on a collection
        is the same procedure with every article new. When no detection engine is
        installed, logs a warning, leaves the store as it is and returns ``[]``.
        """
        if _detect_function() is None:
            log.warning("no detection engine installed; pairs not computed")
            return []
        self.update(progress)
        return list(self.store.iter_pairs())

    def update(self, progress: Progress | None = None) -> Any:
        """Update the detection index and the stored pairs incrementally; returns an
        :class:`wiretrace.engines.incremental.IndexUpdate` (what was done)."""
        from wiretrace.engines.incremental import update_index

        state = self._pairs_state()
        done = update_index(self.store, self.settings, self._aliases(), progress)
        self.store.set_meta("pairs_state", state)
        self._learned = None
        return done

    def _aliases(self) -> Any:
        """The alias table, loaded once per collection (kept warm for :meth:`check`)."""
        if self._alias_table is None:
            self._alias_table = _load_aliases(self.settings)
        return self._alias_table

    def _pairs_state(self) -> str:
        """What stored pairs depend on: the articles' contents and the settings."""
        s = self.settings
        return f"{self.store.content_state()}|{s.text!r}|{s.detect!r}|{s.provenance!r}"

    @property
    def pairs_current(self) -> bool:
        """True when the stored pairs were computed from the stored articles as they are
        now, with the current settings (so :meth:`detect` would find the same)."""
        return self.store.meta("pairs_state") == self._pairs_state()

    @property
    def can_detect(self) -> bool:
        """True when a detection engine is installed."""
        return _detect_function() is not None

    def run(
        self,
        paths: Iterable[str | Path],
        progress: Progress | None = None,
        top: int | None = None,
    ) -> RunSummary:
        """Ingest ``paths``, then detect reuse over the whole collection (skipped when
        the stored pairs are current: nothing changed since the last detection). The
        summary holds every stored pair, or with ``top`` only the ``top`` most reused
        (so that a run over a large collection does not hold all its pairs)."""
        summary = self.ingest(paths, progress)
        if not self.can_detect:
            result = RunSummary(summary)
        else:
            if not self.pairs_current:
                self.update(progress)
            pairs = (
                list(self.store.iter_pairs()) if top is None else self.store.top_pairs(top)
            )
            count = len(pairs) if top is None else self.store.count_pairs()
            result = RunSummary(summary, pairs, detected=True, pair_count=count)
        result.stories = self.update_stories().stories
        return result

    # -- stories ---------------------------------------------------------------------

    def update_stories(self) -> StoryUpdate:
        """Assign articles that no story holds yet to stories (incrementally: existing
        stories keep their ids) and store the result; see :mod:`wiretrace.story_store`."""
        return update_stories(self.store, self.settings)

    def stories(self) -> Iterator[Story]:
        """Every stored story with entities, facts and reuse links (earliest first)."""
        return iter_stories(self.store, self.settings)

    def story(self, id: str) -> Story:
        """One stored story; :class:`~wiretrace.errors.NotFound` when absent."""
        return load_story(self.store, id, self.settings)

    def check(self, article: Article) -> list[ReusePair]:
        """Pairs between ``article`` (not stored) and the stored articles, attributed,
        with the same fields as :meth:`pairs`.

        Answered from the stored index (:func:`wiretrace.engines.check.check_article`:
        index lookups of the article's fingerprints, alignment against the few stored
        articles sharing most of them), never by re-running detection; articles stored
        but not yet indexed (ingested, detection not run since) are not seen. The alias
        table and learned swaps stay loaded between calls. Raises :class:`StoreError`
        when no detection engine is installed.
        """
        from wiretrace.engines.check import check_article, check_context

        if _detect_function() is None:
            raise StoreError("no detection engine installed")
        if self._learned is None:  # shared by the collections on an unchanging store
            self._alias_table, self._learned = check_context(
                self.store, self.settings, self._aliases
            )
        return check_article(self.store, article, self.settings, self._aliases(), self._learned)

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

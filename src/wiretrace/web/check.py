"""The "check an article" action: pasted text against the collection, stored nowhere.

The text is read like a ``.txt`` file (:func:`wiretrace.ingest.textfile.parse_text`:
title line, boilerplate recognised), compared by :meth:`Collection.check` on a read-only
snapshot (so it cannot be stored), and mapped with :func:`analyze.patchwork.patchwork`.
Checks use the CPU: at most ``serve.check_concurrency`` run at once, and a request that
waits more than ``serve.check_wait`` seconds for a slot gets 503.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wiretrace.analyze.patchwork import Patchwork, patchwork
from wiretrace.cli import article_json
from wiretrace.errors import IngestError
from wiretrace.ingest.textfile import is_empty, parse_text
from wiretrace.models import Article, ReusePair

if TYPE_CHECKING:
    from wiretrace.web.app import WebState

__all__ = ["INPUT_ID", "CheckResult", "run_check"]

#: The id the pasted article carries in the answer (as ``wiretrace check -`` does).
INPUT_ID = "-"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The pasted article as read, its pairs with stored articles, its patchwork."""

    article: Article
    pairs: list[ReusePair]
    patchwork: Patchwork

    def to_json(self) -> dict[str, Any]:
        return {
            "input": {**article_json(self.article), "text": self.article.text},
            "pairs": [p.to_json() for p in self.pairs],
            "patchwork": self.patchwork.to_json(),
            "stored": False,
        }


def run_check(state: WebState, text: str, title: str | None, kind: str) -> CheckResult:
    """Read ``text`` (with ``title`` as its first line when given) and compare it with
    the collection. :class:`IngestError` (400) when it has no body words;
    :class:`~wiretrace.web.app.Busy` (503) when no check slot frees in time."""
    from wiretrace.web.app import Busy

    full = f"{title.strip()}\n\n{text}" if title and title.strip() else text
    try:
        size = len(full.encode("utf-8"))
    except UnicodeEncodeError as exc:  # JSON can carry lone surrogates ("\ud800")
        raise IngestError("text", f"not valid Unicode (a lone surrogate at {exc.start})") from None
    settings = state.settings
    if size > settings.ingest.max_article_bytes:
        raise IngestError("text", f"over {settings.ingest.max_article_bytes} bytes")
    article = parse_text(full, INPUT_ID, None, kind, settings.ingest)
    if not full.strip() or is_empty(article):
        raise IngestError("text", "no article text to compare (the first line is the title)")
    if not state.check_slots.acquire(timeout=settings.serve.check_wait):
        wait = settings.serve.check_wait
        raise Busy(f"too many checks at once; try again (waited {wait} s: serve.check_wait)")
    try:
        with state.source.collection() as (coll, _):
            pairs = coll.check(article)
    finally:
        state.check_slots.release()
    return CheckResult(article, pairs, patchwork(article, pairs, settings=settings))

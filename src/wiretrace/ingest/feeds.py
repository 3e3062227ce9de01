"""RSS and Atom feeds through feedparser; every entry is an article.

An entry's text is its full content (``content:encoded`` in RSS, ``<content>`` in Atom)
where the feed carries it, else its summary; HTML in it is turned into plain text with
one paragraph per line (:func:`wiretrace.ingest.html.html_fragment_to_text`), so offsets
are into that text. The entry title is kept in ``title`` and not repeated in the text.

Ids: the entry link, else the entry id (guid), else ``"{src.id}#{n}"`` with n counting
entries from 1. ``outlet`` is the feed title; ``byline`` the entry author; ``published``
the entry's published (else updated) time with the zone the feed gives.

A malformed feed (feedparser's *bozo* flag) is an error when no entry could be read and
a warning otherwise; an entry without text is a warning and is skipped.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from wiretrace.errors import IngestError, InputTooLarge
from wiretrace.ingest.html import boilerplate_spans, html_fragment_to_text
from wiretrace.models import Article, IngestIssue

if TYPE_CHECKING:
    from wiretrace.ingest.base import Record, SourceInput
    from wiretrace.settings import IngestSettings

__all__ = ["parse_feed", "read_feed"]

log = logging.getLogger(__name__)

_HTML_TYPES = ("text/html", "application/xhtml+xml")


def read_feed(src: SourceInput, settings: IngestSettings) -> Iterator[Record]:
    """Reader for a feed file (``src.path``) or a feed URL (``src.url``, fetched by
    :func:`wiretrace.ingest.fetch.read_url`).

    The file is read whole (feedparser needs it so) and refused past
    ``ingest.max_article_bytes``. Yields articles and issues as :func:`parse_feed`.
    """
    if src.path is None and src.url:
        from wiretrace.ingest.fetch import read_url

        yield from read_url(src, settings)
        return
    if src.path is None:
        raise IngestError(src.display, "a feed input needs a path or a URL")
    try:
        size = src.path.stat().st_size
        if size > settings.max_article_bytes:
            raise InputTooLarge(
                src.display,
                f"feed is {size} bytes, over ingest.max_article_bytes "
                f"({settings.max_article_bytes})",
            )
        data = src.path.read_bytes()
    except OSError as exc:
        raise IngestError(src.display, f"cannot read: {exc.strerror or exc}") from None
    yield from parse_feed(data, src, settings)


def parse_feed(
    data: bytes, src: SourceInput, settings: IngestSettings, url: str | None = None
) -> Iterator[Record]:
    """Parse a feed document (bytes as read or fetched) into articles.

    ``url`` is where the feed was fetched from (relative links resolve against it).
    Raises :class:`IngestError` when the document is malformed and yields no entry, or
    is no feed at all.
    """
    import feedparser

    parsed = feedparser.parse(data, response_headers={"content-location": url} if url else None)
    entries: list[Any] = list(parsed.entries)
    if not entries:
        if parsed.bozo:
            raise IngestError(src.display, f"malformed feed: {_bozo_reason(parsed)}")
        if not parsed.version:
            raise IngestError(src.display, "not an RSS or Atom feed")
        yield IngestIssue(src.display, "the feed has no entries", "warning")
        return
    if not parsed.version:
        # feedparser takes any <item> for an entry; an XML document that is no RSS, RDF
        # or Atom is not a feed even so.
        raise IngestError(src.display, "not an RSS or Atom feed")
    if parsed.bozo:
        yield IngestIssue(
            src.display,
            f"malformed feed, {len(entries)} entries read: {_bozo_reason(parsed)}",
            "warning",
        )
    feed: Any = parsed.feed
    outlet = _clean(feed.get("title")) or None
    feed_language = _language_of(feed.get("language"))
    seen: set[str] = set()
    for n, entry in enumerate(entries, start=1):
        record = _entry_article(entry, n, src, settings, outlet, feed_language)
        if isinstance(record, Article):
            if record.id in seen:
                yield IngestIssue(
                    f"{src.display}: entry {n}", f"repeats the id {record.id}; skipped", "warning"
                )
                continue
            seen.add(record.id)
        yield record


def _bozo_reason(parsed: Any) -> str:
    exc = parsed.get("bozo_exception")
    text = str(exc) if exc is not None else "not well-formed"
    return " ".join(text.split())[:200]


def _clean(value: object) -> str:
    return " ".join(str(value).split()) if value else ""


def _language_of(lang: object) -> str | None:
    if not lang:
        return None
    code = str(lang).strip().lower().replace("_", "-").split("-")[0]
    return code if re.fullmatch(r"[a-z]{2}", code) else None


def _entry_text(entry: Any) -> str:
    """Full content where present (HTML preferred over plain), else the summary."""
    contents: list[Any] = list(entry.get("content") or [])
    contents.sort(key=lambda c: 0 if str(c.get("type", "")).startswith(_HTML_TYPES) else 1)
    for content in contents:
        text = _to_text(content.get("value") or "", str(content.get("type", "")))
        if text:
            return text
    detail: Any = entry.get("summary_detail") or {}
    return _to_text(entry.get("summary") or "", str(detail.get("type", "text/html")))


def _to_text(value: str, content_type: str) -> str:
    if content_type.startswith("text/plain"):
        return "\n".join(line.strip() for line in value.strip().splitlines() if line.strip())
    return html_fragment_to_text(value)


def _published(entry: Any, settings: IngestSettings) -> datetime | None:
    from wiretrace.ingest.dates import parse_date

    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if raw:
            value = parse_date(str(raw), settings.default_timezone)
            if value is not None:
                return value
        # feedparser's own parse handles more formats but keeps only UTC.
        parsed = entry.get(f"{key}_parsed")
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    return None


def _entry_article(
    entry: Any,
    n: int,
    src: SourceInput,
    settings: IngestSettings,
    outlet: str | None,
    feed_language: str | None,
) -> Article | IngestIssue:
    link = _clean(entry.get("link"))
    if not link.startswith(("http://", "https://")):
        link = ""  # feedparser offers a non-URL entry id as the link where there is none
    entry_id = link or _clean(entry.get("id")) or f"{src.id}#{n}"
    where = f"{src.display}: entry {n}"
    text = _entry_text(entry)
    if not text:
        return IngestIssue(where, f"entry {entry_id} has no text; skipped", "warning")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > settings.max_article_bytes:
        return IngestIssue(
            where,
            f"text is {size} bytes, over ingest.max_article_bytes ({settings.max_article_bytes})",
        )
    from wiretrace.ingest.credits import analyze_credits
    from wiretrace.ingest.language import detect_language

    byline = _clean(entry.get("author")) or None
    excluded = tuple(boilerplate_spans(text))
    credits = analyze_credits(text, excluded, byline)
    return Article(
        id=entry_id,
        text=text,
        title=_clean(html_fragment_to_text(entry.get("title") or "")) or None,
        source=f"{src.display}#entry {n}",
        kind="feed",
        outlet=outlet,
        url=link or None,
        published=_published(entry, settings),
        byline=byline,
        credits=tuple(credits.credits),
        dateline=credits.dateline,
        language=_language_of(entry.get("language")) or feed_language or detect_language(text),
        excluded=excluded,
    )

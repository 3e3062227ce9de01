"""Polite fetching of pages and feeds given by URL (httpx).

Polite means: the configured User-Agent, a timeout (``ingest.fetch_timeout`` seconds,
for connecting, for each read and for the whole transfer), a size limit
(``ingest.fetch_max_bytes``, enforced while the body streams in: the transfer stops as
soon as it is passed), at most :data:`MAX_REDIRECTS` redirects, and robots.txt obeyed
for every URL visited, the redirect targets included (``ingest.respect_robots``;
robots.txt files are cached per host for the life of the process).

:func:`read_url` fetches an input and sends it to the HTML or the feed path by its
content type (by its first bytes when the server's type says nothing useful).
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.robotparser
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from wiretrace.errors import IngestError, InputTooLarge

if TYPE_CHECKING:
    import httpx

    from wiretrace.ingest.base import Record, SourceInput
    from wiretrace.settings import IngestSettings

__all__ = ["MAX_REDIRECTS", "FetchedPage", "clear_robots_cache", "fetch", "read_url"]

log = logging.getLogger(__name__)

#: Redirects followed before a fetch gives up.
MAX_REDIRECTS = 5
#: Bytes of a robots.txt read (Google reads 500 KiB); the rest is ignored, not fetched.
ROBOTS_MAX_BYTES = 500_000

_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+xml",
               "application/rdf+xml", "application/xml", "text/xml")
_HTML_TYPES = ("text/html", "application/xhtml+xml")

_robots: dict[str, urllib.robotparser.RobotFileParser] = {}
_robots_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """A fetched resource: the URL asked for, the URL it was finally served from, the
    HTTP status, the media type (lower case, no parameters), the declared charset (or
    ``None``) and the body bytes (already decompressed)."""

    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes
    charset: str | None = None


def clear_robots_cache() -> None:
    """Forget the robots.txt files read so far (they are cached per host)."""
    with _robots_lock:
        _robots.clear()


def _robots_for(client: httpx.Client, url: str, settings: IngestSettings) -> (
    urllib.robotparser.RobotFileParser
):
    import httpx

    parts = urlsplit(url)
    origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    with _robots_lock:
        cached = _robots.get(origin)
    if cached is not None:
        return cached
    parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
    try:
        with client.stream("GET", origin + "/robots.txt", follow_redirects=True) as response:
            if response.status_code in (401, 403):
                # As urllib's own reader does: a closed robots.txt closes the site.
                parser.parse(["User-agent: *", "Disallow: /"])
            elif response.status_code >= 400:
                parser.parse([])  # no robots.txt: nothing is forbidden
            else:
                text = _head(response, ROBOTS_MAX_BYTES).decode(
                    response.encoding or "utf-8", "replace"
                )
                parser.parse(text.splitlines())
    except httpx.HTTPError as exc:
        # An unreachable robots.txt says nothing; the page fetch will fail on its own.
        log.debug("robots.txt of %s unreadable: %s", origin, exc)
        parser.parse([])
    with _robots_lock:
        _robots[origin] = parser
    return parser


def _head(response: httpx.Response, limit: int) -> bytes:
    """The first ``limit`` bytes of a streamed body; the rest is never read (a server
    that sends without end cannot fill the memory)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def fetch(url: str, settings: IngestSettings) -> FetchedPage:
    """Fetch ``url`` politely (see the module docstring).

    Returns the page on a 2xx status. Raises :class:`IngestError` naming the URL for a
    non-2xx status, a URL forbidden by robots.txt, too many redirects, a timeout or a
    network failure, and :class:`InputTooLarge` past ``ingest.fetch_max_bytes``.
    """
    import httpx

    if urlsplit(url).scheme not in ("http", "https"):
        raise IngestError(url, "only http and https URLs can be fetched")
    timeout = settings.fetch_timeout
    deadline = time.monotonic() + timeout
    headers = {"User-Agent": settings.user_agent}
    try:
        with httpx.Client(headers=headers, timeout=timeout, follow_redirects=False) as client:
            current = url
            for _ in range(MAX_REDIRECTS + 1):
                if settings.respect_robots and not _robots_for(client, current, settings).can_fetch(
                    settings.user_agent, current
                ):
                    raise IngestError(current, "forbidden by robots.txt")
                with client.stream("GET", current) as response:
                    if response.is_redirect and response.next_request is not None:
                        current = str(response.next_request.url)
                        continue
                    return _read_body(url, current, response, settings, deadline)
            raise IngestError(url, f"more than {MAX_REDIRECTS} redirects")
    except httpx.TimeoutException:
        raise IngestError(url, f"timed out after {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise IngestError(url, f"fetch failed: {type(exc).__name__}: {exc}") from None


def _read_body(
    url: str, final_url: str, response: httpx.Response, settings: IngestSettings, deadline: float
) -> FetchedPage:
    import httpx

    status = response.status_code
    if not 200 <= status < 300:
        raise IngestError(url, f"HTTP {status} {response.reason_phrase}".rstrip())
    limit = settings.fetch_max_bytes
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise InputTooLarge(
            url, f"body is {declared} bytes, over ingest.fetch_max_bytes ({limit})"
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise InputTooLarge(url, f"body passed ingest.fetch_max_bytes ({limit}); aborted")
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("whole transfer too slow", request=response.request)
        chunks.append(chunk)
    media, _, params = response.headers.get("content-type", "").partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return FetchedPage(
        url=url,
        final_url=final_url,
        status=status,
        content_type=media.strip().lower(),
        body=b"".join(chunks),
        charset=charset,
    )


def _kind_of(page: FetchedPage) -> str:
    ctype = page.content_type
    if ctype.startswith(_HTML_TYPES):
        return "html"
    head = page.body[:1024].lstrip().lower()
    if ctype.startswith(_FEED_TYPES) or ctype.endswith(("+xml", "/xml")):
        return "feed" if b"<rss" in head or b"<feed" in head or b"<rdf" in head or (
            b"<?xml" in head and b"<html" not in head) else "html"
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return "html"
    if b"<rss" in head or b"<feed" in head:
        return "feed"
    return ctype or "unknown"


def read_url(src: SourceInput, settings: IngestSettings) -> Iterator[Record]:
    """Reader for a URL input (``src.url``): fetch it, then read it as an HTML page
    (one article, id ``src.id``, ``url`` the final URL) or as a feed (one article per
    entry), by the content type.

    Raises :class:`IngestError` when the fetch fails or the content is neither.
    """
    if not src.url:
        raise IngestError(src.display, "no URL to fetch")
    page = fetch(src.url, settings)
    kind = _kind_of(page)
    if kind == "html":
        from wiretrace.ingest.html import HtmlItem, parse_item

        item = HtmlItem(page.body, src.id, src.display, page.final_url, charset=page.charset)
        yield parse_item(item, settings)
    elif kind == "feed":
        from wiretrace.ingest.feeds import parse_feed

        yield from parse_feed(page.body, src, settings, url=page.final_url)
    else:
        raise IngestError(src.display, f"neither an HTML page nor a feed (content type {kind})")

"""HTML pages: main text and metadata through trafilatura.

The stored text of an HTML article is trafilatura's extracted main text (paragraphs
joined by ``"\\n"``); every offset is a character offset into that text, not into the
page. Scripts, styles, iframes, event handlers and ``javascript:`` links never reach the
text or the title: trafilatura drops those elements before extraction, and the title
is read as text only.

Public functions:

- :func:`parse_html` (pure): one page's HTML -> :class:`Article`.
- :func:`read_html`: the reader for one ``.html`` input (a file, or a URL).
- :func:`read_html_many` / :func:`parse_html_many`: many pages at once over a process
  pool, results in input order, with a bounded number of pages in flight so that a
  streamed source (a WARC file) stays streamed.
- :func:`decode_html`: bytes -> text with the charset the page or server declares.
- :func:`html_fragment_to_text`: a light text extraction for HTML snippets (feed
  content), where trafilatura's article heuristics would drop short text.
- :func:`boilerplate_spans`: furniture lines that survive extraction ("Read more: ...",
  "Advertisement", copyright lines) as excluded spans.

A page without article text (a section front, an empty page) raises
:class:`NoArticleText`, which readers report as a warning, like an empty article.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from wiretrace.errors import IngestError, InputTooLarge
from wiretrace.models import Article, IngestIssue, Span
from wiretrace.processes import workers_can_start

if TYPE_CHECKING:
    from wiretrace.ingest.base import Record, SourceInput
    from wiretrace.settings import IngestSettings

__all__ = [
    "HtmlItem",
    "NoArticleText",
    "boilerplate_spans",
    "decode_html",
    "html_fragment_to_text",
    "parse_html",
    "parse_html_many",
    "read_html",
    "read_html_many",
]

log = logging.getLogger(__name__)

#: Pages per task sent to a worker process: large enough that pickling and scheduling
#: cost little next to extraction (~5-20 ms a page), small enough to keep both cores busy.
_CHUNK = 8

#: A page's text must have a line of at least this many words to count as an article.
_MIN_PROSE_WORDS = 8

#: A declared charset in the first bytes of a page (``<meta charset>`` or http-equiv).
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)

#: Browsers decode pages labelled latin-1 or ASCII as windows-1252 (WHATWG Encoding);
#: doing the same keeps curly quotes and dashes that such pages really contain.
_WHATWG_ALIASES = {"latin_1": "cp1252", "ascii": "cp1252", "iso8859_1": "cp1252"}

_DATE_PARAMS = {
    # Keep the time and the zone where the page gives them; htmldate's default is a day.
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
    "original_date": True,
    "extensive_search": False,
}

#: Elements whose content is never text.
_NON_TEXT = ("script", "style", "noscript", "iframe", "object", "embed", "svg", "math",
             "template", "form", "button", "select", "textarea", "head")
#: Elements that end a line in the light text extraction.
_BLOCKS = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 blockquote pre tr table section article "
    "header footer figure figcaption dd dt dl hr aside main".split()
)


class NoArticleText(IngestError):
    """A page holds no article text (an index page, an empty shell): a warning, like an
    empty article, not a failure of the run."""


@dataclass(frozen=True, slots=True)
class HtmlItem:
    """One page to parse: the page (bytes or decoded text) and what names it.

    ``charset`` is the charset declared by the server (HTTP Content-Type), if any;
    ``warnings`` are carried onto the article (e.g. a decoding guess made earlier).
    """

    html: str | bytes
    id: str
    source: str
    url: str | None = None
    kind: str = "html"
    charset: str | None = None
    warnings: tuple[str, ...] = ()


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        canonical = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None
    return _WHATWG_ALIASES.get(canonical.replace("-", "_"), canonical)


def decode_html(data: bytes, name: str, declared: str | None = None) -> tuple[str, tuple[str, ...]]:
    """Decode an HTML page: BOM, else the declared charset (HTTP header, then the
    page's ``<meta>``), else UTF-8, else :func:`wiretrace.ingest.decode.decode_bytes`
    (detection, which reports its guess as a warning).

    Returns ``(text, warnings)``. Raises :class:`IngestError` for binary data.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig", errors="replace"), ()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), ()
    meta = _META_CHARSET.search(data[:4096])
    candidates = [_codec(declared), _codec(meta.group(1).decode("ascii") if meta else None)]
    for codec in candidates:
        # A page that says UTF-16 without a BOM is nearly always mislabelled ASCII.
        if codec is None or codec.startswith("utf_16"):
            continue
        try:
            return data.decode(codec), ()
        except UnicodeDecodeError:
            continue
    try:
        return data.decode("utf-8"), ()
    except UnicodeDecodeError:
        pass
    from wiretrace.ingest.decode import decode_bytes

    return decode_bytes(data, name)


def html_fragment_to_text(fragment: str) -> str:
    """Text of an HTML snippet (feed content, a summary): block elements end lines,
    scripts/styles/iframes are dropped, runs of spaces collapse, blank lines go.

    Plain text (no markup) comes back with only whitespace tidied.
    """
    if "<" not in fragment:
        text = fragment
    else:
        import lxml.html
        from lxml import etree

        try:
            root = lxml.html.fragment_fromstring(fragment, create_parent="div")
        except (etree.ParserError, ValueError):
            return _tidy(re.sub(r"<[^>]*>", " ", fragment))
        etree.strip_elements(root, *_NON_TEXT, etree.Comment, etree.ProcessingInstruction,
                             with_tail=False)
        parts: list[str] = []

        def walk(el: Any) -> None:
            tag = el.tag if isinstance(el.tag, str) else ""
            if tag in _BLOCKS:
                parts.append("\n")
            if el.text:
                parts.append(el.text)
            for child in el:
                walk(child)
                if child.tail:
                    parts.append(child.tail)
            if tag in _BLOCKS:
                parts.append("\n")

        walk(root)
        text = "".join(parts)
    return _tidy(text)


def _tidy(text: str) -> str:
    lines = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


#: Short lines of page furniture that survive extraction inside the article body.
_RELATED_LINE = re.compile(
    r"(?i)^(read more|related( stories| articles| coverage)?|see also|more on this story|"
    r"also read|read also|you may also like|recommended|more from|watch|listen)\b\s*[:\-\u2013|>]"
)
_NAVIGATION_LINE = re.compile(
    r"(?i)^(advertisement|advert|sponsored( content)?|share( this( article| story| page)?)?|"
    r"follow us( on \w+)?|sign up( for our newsletter| to our newsletter)?|subscribe( now)?|"
    r"click here|latest news|most read|top stories|back to top|skip to (main )?content|"
    r"comments?|print( this( article| page)?)?|email( this( article| page)?)?)\s*[.!:]?$"
)
_COPYRIGHT_LINE = re.compile(r"(?i)^(copyright\b|\(c\)\s*\d{4}|\u00a9)|all rights reserved\.?$")
#: WordPress and similar feeds end each item with this line.
_FEED_FOOTER_LINE = re.compile(r"(?i)^the post .{1,300} appeared first on .{1,200}$")
_MAX_FURNITURE_WORDS = 15


def boilerplate_spans(text: str) -> list[Span]:
    """Spans of page-furniture lines inside extracted text: "Read more: ..." and
    related-article lines (kind ``related``), "Advertisement", "Share this article" and
    other menu words (``navigation``), copyright lines (``copyright``) and feed footers
    such as "The post ... appeared first on ..." (``boilerplate``).

    Only short lines (at most 15 words, the feed footer excepted) qualify, so a sentence
    that merely starts with "Watch" stays text. Offsets are into ``text``, sorted.
    """
    spans: list[Span] = []
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        stripped = line.strip()
        if not stripped:
            continue
        kind: str | None = None
        if _FEED_FOOTER_LINE.match(stripped):
            kind = "boilerplate"
        elif len(stripped.split()) <= _MAX_FURNITURE_WORDS:
            if _NAVIGATION_LINE.match(stripped):
                kind = "navigation"
            elif _RELATED_LINE.match(stripped):
                kind = "related"
            elif _COPYRIGHT_LINE.search(stripped):
                kind = "copyright"
        if kind is not None:
            spans.append(Span(start, end, kind))
    return spans


def _language_of(lang: str | None) -> str | None:
    if not lang:
        return None
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    return code if re.fullmatch(r"[a-z]{2}", code) else None


def _outlet(sitename: str | None, url: str | None) -> str | None:
    if sitename and sitename.strip():
        return sitename.strip()
    if url:
        host = urlsplit(url).hostname or ""
        host = host.removeprefix("www.")
        return host or None
    return None


def _parse_published(value: str | None, settings: IngestSettings) -> datetime | None:
    if not value:
        return None
    from wiretrace.ingest.dates import parse_date

    return parse_date(value, settings.default_timezone)


def parse_html(
    html: str,
    id: str,
    source: str,
    url: str | None,
    settings: IngestSettings,
    kind: str = "html",
    warnings: tuple[str, ...] = (),
) -> Article:
    """Extract one article from one page.

    ``html`` is the decoded page; ``id`` the article id; ``source`` the path or URL read
    (with a record locator for WARC records); ``url`` the page's address if known.
    The article's text is the extracted main text; if it starts with the title line,
    that line is an excluded ``title`` span. ``published`` is the page's publication
    time (timezone-aware where the page gives a zone; ``settings.default_timezone``
    otherwise). ``byline`` is the page author; ``outlet`` the site name, else the host.

    Raises :class:`IngestError` (naming ``source``) when the page has no main text and
    :class:`InputTooLarge` past ``settings.max_article_bytes``.
    """
    import trafilatura
    from trafilatura.utils import load_html

    size = len(html.encode("utf-8", "surrogatepass"))
    if size > settings.max_article_bytes:
        raise InputTooLarge(
            source,
            f"page is {size} bytes, over ingest.max_article_bytes ({settings.max_article_bytes})",
        )
    if not html.strip():
        raise NoArticleText(source, "empty page")
    tree = load_html(html)
    if tree is None:
        raise IngestError(source, "not parseable as HTML")
    lang_attr = tree.get("lang") or tree.get("xml:lang")
    # A Document (with_metadata, python output); typed Any as trafilatura's union is loose.
    doc: Any = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_images=False,
        include_links=False,
        include_formatting=False,
        date_extraction_params=_DATE_PARAMS,
    )
    text = _tidy(getattr(doc, "text", None) or "") if doc is not None else ""
    if not _has_prose(text):
        raise NoArticleText(source, "no article text found in the page")
    title = _tidy(doc.title or "").replace("\n", " ") or None
    excluded: list[Span] = []
    first_line = text.split("\n", 1)[0]
    if title and _same_line(first_line, title):
        excluded.append(Span(0, len(first_line), "title"))
    elif title is None and "\n" in text:
        title = first_line
    excluded.extend(s for s in boilerplate_spans(text) if not excluded or s.start > 0)

    from wiretrace.ingest.credits import analyze_credits
    from wiretrace.ingest.language import detect_language

    byline = (doc.author or "").strip() or None
    credits = analyze_credits(text, tuple(excluded), byline)
    language = _language_of(lang_attr) or _language_of(doc.language) or detect_language(text)
    return Article(
        id=id,
        text=text,
        title=title,
        source=source,
        kind=kind,
        outlet=_outlet(doc.sitename, url),
        url=url or doc.url or None,
        published=_parse_published(doc.date, settings),
        byline=byline,
        credits=tuple(credits.credits),
        dateline=credits.dateline,
        language=language,
        excluded=tuple(excluded),
        warnings=warnings,
    )


def _has_prose(text: str) -> bool:
    """Whether extracted text holds at least one sentence-like line.

    On pages without an article (section fronts, error pages) trafilatura's fallbacks
    return menu entries; those are short lines only.
    """
    return any(len(line.split()) >= _MIN_PROSE_WORDS for line in text.split("\n"))


def _same_line(line: str, title: str) -> bool:
    def fold(s: str) -> str:
        return re.sub(r"\W+", " ", s).strip().casefold()

    a, b = fold(line), fold(title)
    if not a:
        return False
    return a == b or (len(a) > 10 and b.startswith(a)) or (len(b) > 10 and a.startswith(b))


def parse_item(item: HtmlItem, settings: IngestSettings) -> Article | IngestIssue:
    """Parse one :class:`HtmlItem`; every expected failure becomes an ``IngestIssue``."""
    try:
        warnings = item.warnings
        if isinstance(item.html, bytes):
            if len(item.html) > settings.max_article_bytes:
                raise InputTooLarge(
                    item.source,
                    f"page is {len(item.html)} bytes, over ingest.max_article_bytes "
                    f"({settings.max_article_bytes})",
                )
            html, more = decode_html(item.html, item.source, item.charset)
            warnings = warnings + more
        else:
            html = item.html
        return parse_html(html, item.id, item.source, item.url, settings, item.kind, warnings)
    except IngestError as exc:
        if isinstance(exc, NoArticleText):
            return IngestIssue(exc.input, exc.reason, "warning")
        return IngestIssue(exc.input, exc.reason)
    except (ValueError, TypeError, LookupError, RecursionError) as exc:
        # trafilatura/lxml on pathological markup: one page fails, not the run.
        log.debug("extraction failed for %s", item.source, exc_info=True)
        return IngestIssue(item.source, f"HTML extraction failed: {type(exc).__name__}: {exc}")


def _parse_chunk(items: list[HtmlItem], settings: IngestSettings) -> list[Article | IngestIssue]:
    return [parse_item(item, settings) for item in items]


def _worker_count(workers: int) -> int:
    if not workers_can_start():
        return 1
    return workers if workers > 0 else (os.cpu_count() or 1)


def parse_html_many(
    items: Iterable[HtmlItem], settings: IngestSettings, workers: int | None = None
) -> Iterator[Article | IngestIssue]:
    """Parse many pages, in parallel over ``workers`` processes (``None`` takes
    ``settings.workers``; 0 means one per core; 1 parses in this process).

    Yields one result per item, in input order. ``items`` is consumed lazily and at most
    about ``4 * workers`` chunks of pages are in flight, so memory stays bounded for a
    streamed source. A page that fails gives an :class:`IngestIssue`.
    """
    n = _worker_count(settings.workers if workers is None else workers)
    iterator = iter(items)
    first = list(islice(iterator, _CHUNK))
    if n <= 1 or len(first) < _CHUNK:
        # Too few pages to pay for starting processes.
        yield from _parse_chunk(first, settings)
        for item in iterator:
            yield parse_item(item, settings)
        return
    yield from _parse_in_pool(first, iterator, settings, n)


def _parse_in_pool(
    first: list[HtmlItem], rest: Iterator[HtmlItem], settings: IngestSettings, workers: int
) -> Iterator[Article | IngestIssue]:
    import multiprocessing
    from concurrent.futures.process import BrokenProcessPool

    # forkserver: safe when the caller has threads (an HTTP server, DuckDB) running,
    # and cheaper than spawn because the server preloads the extraction modules.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["wiretrace.ingest.html", "trafilatura"])
    pending: deque[tuple[Future[list[Article | IngestIssue]], list[HtmlItem]]] = deque()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    try:
        chunk = first
        while chunk or pending:
            if chunk:
                pending.append((pool.submit(_parse_chunk, chunk, settings), chunk))
                chunk = list(islice(rest, _CHUNK))
            while pending and (not chunk or len(pending) >= 4 * workers):
                future, items = pending.popleft()
                try:
                    results = future.result()
                except BrokenProcessPool:
                    # A worker died (a crash in native code, the OOM killer): the pages
                    # it may have held fail, the rest go on in a fresh pool.
                    log.warning("an HTML worker process died; restarting the pool")
                    results = [
                        IngestIssue(item.source, "HTML worker process died while parsing")
                        for item in items
                    ]
                    retry = [it for _, chunk_items in pending for it in chunk_items]
                    pending.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
                    for i in range(0, len(retry), _CHUNK):
                        part = retry[i:i + _CHUNK]
                        pending.append((pool.submit(_parse_chunk, part, settings), part))
                yield from results
    finally:
        # Also when the consumer stops early: drop queued work rather than finish it.
        pool.shutdown(wait=True, cancel_futures=True)


def _item_from_file(src: SourceInput, settings: IngestSettings) -> HtmlItem:
    if src.path is None:
        raise IngestError(src.display, "an HTML input needs a path or a URL")
    try:
        size = src.path.stat().st_size
        if size > settings.max_article_bytes:
            raise InputTooLarge(
                src.display,
                f"file is {size} bytes, over ingest.max_article_bytes "
                f"({settings.max_article_bytes})",
            )
        data = src.path.read_bytes()
    except OSError as exc:
        raise IngestError(src.display, f"cannot read: {exc.strerror or exc}") from None
    return HtmlItem(html=data, id=src.id, source=src.display, url=None)


def read_html(src: SourceInput, settings: IngestSettings) -> Iterator[Record]:
    """Reader for one HTML input: a local page (``src.path``) or a URL (``src.url``,
    fetched and dispatched by :func:`wiretrace.ingest.fetch.read_url`).

    Yields one :class:`Article` (id ``src.id``), or one issue: a warning when the page
    holds no article text, an error when it is binary or cannot be parsed. Raises
    :class:`IngestError` when the file cannot be read or is over the size limit.
    """
    if src.path is None and src.url:
        from wiretrace.ingest.fetch import read_url

        yield from read_url(src, settings)
        return
    yield parse_item(_item_from_file(src, settings), settings)


def read_html_many(
    srcs: Iterable[SourceInput], settings: IngestSettings, workers: int | None = None
) -> Iterator[Record]:
    """Read many local HTML files in parallel (see :func:`parse_html_many`).

    Yields, in input order, one :class:`Article` or one :class:`IngestIssue` per input
    (an unreadable file or a page without text is an issue; the rest go on).
    """
    issues: dict[int, IngestIssue] = {}

    def items() -> Iterator[HtmlItem]:
        for n, src in enumerate(srcs):
            try:
                yield _item_from_file(src, settings)
            except IngestError as exc:
                issues[n] = IngestIssue(exc.input, exc.reason)
                # A placeholder keeps results aligned with inputs; it becomes the issue.
                yield HtmlItem(html="", id=src.id, source=src.display)

    for n, result in enumerate(parse_html_many(items(), settings, workers)):
        yield issues.pop(n, result)

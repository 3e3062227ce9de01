"""Plain-text and Markdown articles: title, metadata lines, boilerplate, body.

The layout read (that of the seeds and of most text dumps of news pages)::

    Title line                       (Markdown "#", "**" emphasis stripped)
    header lines                     byline, date, section, outlet, a repeat of the title
    body paragraphs                  with in-body boilerplate: captions, related headlines,
                                     navigation ("Latest News"), copyright, link lines
    footer lines                     copyright notice, short/bare links, "Site Name. http://..."

The stored text is the decoded file, line ends untouched, so every offset is a
character offset into the file. Nothing is removed from it: the title line and every
metadata or boilerplate line become ``Article.excluded`` spans (kinds from
``models.SPAN_KINDS``) covering the line without its surrounding whitespace.

The rules are deliberately conservative: a body paragraph must never be excluded (on
the 1,808 BBC articles of ``shared/data/bbc-news`` a test bounds the share of excluded
body lines). A header line must carry metadata (a byline, a full date, a section path)
and little else; footer lines are only taken from the end; in-body lines are excluded
only when they are not sentences (no final punctuation) and carry a caption cue (a full
date, "Photo:", an agency photo credit), read like a headline (most words capitalised,
at least ``_MIN_HEADLINE_WORDS`` words), or are known navigation words.

Markdown (``kind="markdown"``) adds: YAML front matter (``title``, ``date``, ``author``,
``url``, ``source``/``outlet`` keys) as a header, setext title underlines, image lines
(captions), link-only lines and horizontal rules (boilerplate).

Empty articles: :func:`parse_text` and :func:`read_text` return the article even when
it has no body words; the ingest driver decides (it reports "empty article skipped" as
a warning). :func:`is_empty` is the test to use.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import regex

from wiretrace.errors import IngestError, InputTooLarge
from wiretrace.ingest.base import Record, SourceInput
from wiretrace.ingest.credits import analyze_credits
from wiretrace.ingest.dates import parse_date
from wiretrace.ingest.decode import decode_bytes
from wiretrace.ingest.language import detect_language
from wiretrace.models import Article, Span
from wiretrace.settings import IngestSettings
from wiretrace.text.tokens import word_count

__all__ = [
    "article_from_bytes",
    "body_text",
    "is_empty",
    "load_bytes",
    "load_bytes_stat",
    "parse_text",
    "read_text",
]

log = logging.getLogger(__name__)

_MAX_HEADER_LINES = 6
_MAX_FOOTER_LINES = 8
#: A header or footer line longer than this (in words) is body text.
_MAX_META_WORDS = 30
#: Words a related-article headline has at least (shorter capitalised lines are often
#: sub-headings or fixture lists, which are body).
_MIN_HEADLINE_WORDS = 8
_MAX_HEADLINE_WORDS = 25
_MAX_CAPTION_WORDS = 60

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAY = (
    r"(?:(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs?)?|Fri|Sat(?:ur)?|Sun)(?:day)?\.?,?\s+)?"
)
#: A zone after a time: a numeric offset ("-0500", "+01:00", "GMT+0100") and/or an
#: abbreviation ("EST", "(GMT)").
_ZONE = (
    r"(?:\s*(?:GMT|UTC)?\s*[+-]\d{2}:?\d{2}(?![\w]))?"
    r"(?:\s*\(?[A-Z]{2,5}\)?(?![\w]))?"
)
_TIME = (
    r"(?:,?\s*(?:at\s+|-\s+|\|\s*)?\d{1,2}(?:[:.]\d{2}){1,2}\s*(?:[ap]\.?m\.?)?"
    rf"{_ZONE}|,?\s*(?:at\s+)?\d{{1,2}}\s*[ap]\.?m\.?{_ZONE})?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
#: A full date (year, month and day), optionally with a weekday and a time.
_DATE = regex.compile(
    rf"(?<![\w])(?:"
    rf"{_WEEKDAY}{_MONTH}\s+{_DAY},?\s+\d{{4}}{_TIME}"
    rf"|{_WEEKDAY}{_DAY}\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}{_TIME}"
    r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    rf"|\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{4}}{_TIME}"
    r")(?![\w])",
    regex.IGNORECASE,
)
#: A section path: "international / prose / post", "News > World > Americas".
_SECTION = regex.compile(
    r"(?:^|(?<=\s))((?:[\p{L}&'’-]+(?: [\p{L}&'’-]+)?\s+(?:/|>|»|›|\|)\s+)+"
    r"[\p{L}&'’-]+(?: [\p{L}&'’-]+)?)\s*$"
)
_BYLINE = regex.compile(
    r"^(?:by|written by|words by|author:|reporter:)\s+(?P<who>.+)$", regex.IGNORECASE
)
_BYLINE_SECOND_WORD = frozenset({"staff", "our", "special", "wire", "agency", "agencies"})
_META_WORDS = regex.compile(
    r"\b(?:published|posted|updated|last updated|first published|filed|modified|date|"
    r"time|on|at|am|pm)\b|[-|,:·•–—]",
    regex.IGNORECASE,
)
_ZONE_NAMES = frozenset(
    {"GMT", "UTC", "BST", "CET", "CEST", "EST", "EDT", "PST", "PDT", "ET", "PT"}
)
_URL_ONLY = regex.compile(r"^<?(?P<url>(?:https?://|www\.)\S+?)>?$", regex.IGNORECASE)
_URL = regex.compile(r"(?:https?://|www\.)[^\s<>()\"']+", regex.IGNORECASE)
_MD_LINK_ONLY = regex.compile(r"^(?:[-*+]\s+)?\[(?P<label>[^\]]*)\]\((?P<url>[^)\s]+)[^)]*\)\W*$")
_MD_IMAGE = regex.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<url>[^)\s]+)[^)]*\)")
_SITE_LINE = regex.compile(
    r"^(?P<name>[^\s.!?:][^.!?]{1,80}?)\s*[.:,|–—-]*\s+(?P<url>https?://\S+?)[.)]*$",
    regex.IGNORECASE,
)
_COPYRIGHT = regex.compile(
    r"^(?:©|\(c\)|copyright\b|all rights reserved)|\ball rights reserved\b|^copyright applies",
    regex.IGNORECASE,
)
_FOOTER_NOTE = regex.compile(
    r"^\(?(?:(?:additional )?reporting|writing|editing|compiled|translated) by\b"
    r"|^(?:this (?:article|story) (?:was )?(?:originally|first) (?:published|appeared))"
    r"|^(?:originally published|first published|source|sources|via|tags?|filed under"
    r"|categories|category|topics?)\s*:",
    regex.IGNORECASE,
)
_NAVIGATION = frozenset(
    {
        "latest news", "latest", "top stories", "most read", "most popular", "more news",
        "read more", "read more here", "more", "related", "related articles",
        "related stories", "related news", "related content", "related topics",
        "more on this story", "you may also like", "recommended", "trending",
        "share", "share this", "share this article", "share this story", "share on facebook",
        "share on twitter", "tweet", "email", "print", "comments", "comment", "leave a comment",
        "advertisement", "sponsored", "sponsored content", "subscribe", "sign up",
        "back to top", "next article", "previous article", "next", "previous", "home",
        "follow us", "skip to content", "continue reading", "see also", "watch", "listen",
        "click here", "view comments", "show comments", "breaking news",
    }
)
_LEAD_IN = regex.compile(
    r"^(?:read more|read also|also read|see also|related|more|watch|listen|click here"
    r"|recommended|you may also like)\s*[:»›>|–—-]+\s*\S",
    regex.IGNORECASE,
)
_PHOTO_CUE = regex.compile(
    r"^(?:photo|image|picture|pictured|photograph|above|top|file photo|caption)\s*[:|]"
    r"|\((?:photo|image|picture)\b|\b(?:photo|image|picture)\s*(?:credit|courtesy)\b"
    r"|\bgetty images\b|\bAP Photo\b|\bREUTERS/|\bAFP/|/AFP\b|\bEPA/|\bimage copyright\b"
    r"|\bimage caption\b|\bshutterstock\b",
    regex.IGNORECASE,
)
#: Capitalised lines that are list items, not headlines: bullets, enumerations,
#: parentheses, fixtures ("Arsenal v West Ham").
_LISTISH = regex.compile(r"^[-*+•·]\s|^[\p{L}\p{N}]+:\s|,.*,|[()]|\sv\s")
# REVERSE: searched from the line's end, so a long paragraph costs a few steps.
_SENTENCE_END = regex.compile(r"[.!?:;…\"'”’»)\]]\W*$", regex.REVERSE)
_WORD = regex.compile(r"\p{L}[\p{L}\p{M}'’-]*")
#: ``_WORD`` for ASCII lines (no marks, no ’), with the standard library's faster engine.
_ASCII_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_HR = regex.compile(r"^(?:[-*_]\s*){3,}$")
_SETEXT = regex.compile(r"^(?:=+|-+)\s*$")
_MD_DECOR = regex.compile(
    r"^(?:#{1,6}\s*|>\s*)+|(?<!\w)(?:\*{1,3}|_{1,3})|(?:\*{1,3}|_{1,3})(?!\w)"
)


@dataclass(slots=True)
class _Line:
    start: int  # offset of the first non-blank character
    end: int  # offset after the last non-blank character
    text: str  # the line without surrounding whitespace (and without "\r")


@dataclass(slots=True)
class _Meta:
    byline: str | None = None
    published: datetime | None = None
    section: str | None = None
    outlet: str | None = None
    url: str | None = None
    title: str | None = None
    links: list[str] = field(default_factory=list)

    def add_link(self, url: str) -> None:
        if url not in self.links:
            self.links.append(url)


def _lines(text: str) -> list[_Line]:
    """Non-blank lines, split on "\\n" only (a lone "\\r" or U+0085 is not a line end)."""
    out: list[_Line] = []
    pos = 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            out.append(_Line(pos + lead, pos + lead + len(stripped), stripped))
        pos += len(raw) + 1
    return out


def _undecorate(line: str) -> str:
    """The line without Markdown heading marks, quote marks and emphasis markers."""
    if "*" not in line and "_" not in line and "#" not in line and ">" not in line:
        return line
    return " ".join(_MD_DECOR.sub("", line).split())


def _words(line: str) -> list[str]:
    words: list[str] = (_ASCII_WORD if line.isascii() else _WORD).findall(line)
    return words


#: For ASCII lines: letters to "a", apostrophes and hyphens dropped, the rest a space.
_WORD_MARKS = bytes(
    ord("a") if chr(b).isascii() and chr(b).isalpha() else ord(" ") for b in range(256)
)


def _count_words(line: str) -> int:
    """``len(_words(line))``, without building the words for ASCII lines: each word
    there is a maximal run of letters, apostrophes and hyphens holding a letter, so
    with apostrophes and hyphens dropped, a maximal run of letters."""
    if not line.isascii():
        return len(_WORD.findall(line))
    return (b" " + line.encode("ascii").translate(_WORD_MARKS, b"'-")).count(b" a")


def _may_be_copyright(low: str) -> bool:
    """A cheap necessary condition for ``_COPYRIGHT`` (``low``: the line lowered)."""
    return "©" in low or "(c)" in low or "copyright" in low or "all rights" in low


#: ``_PHOTO_CUE``'s alternatives anchored at the line start, and words one of its other
#: alternatives contains (all lowered).
_PHOTO_STARTS = ("photo", "image", "picture", "above", "top", "file photo", "caption")
_PHOTO_WORDS = (
    "(photo", "(image", "(picture", "credit", "courtesy", "getty", "ap photo", "reuters/",
    "afp/", "/afp", "epa/", "image copyright", "image caption", "shutterstock",
)


def _may_be_caption(low: str) -> bool:
    """A cheap necessary condition for ``_PHOTO_CUE`` (``low``: the stripped line
    lowered): its regex costs a scan of the whole line per alternative, this a few
    substring tests."""
    return low.startswith(_PHOTO_STARTS) or any(word in low for word in _PHOTO_WORDS)


def _is_sentence(line: str) -> bool:
    return _SENTENCE_END.search(line) is not None


def _title_case_share(words: list[str]) -> float:
    long_words = [w for w in words[1:] if len(w) >= 4]
    if len(long_words) < 3:
        return 0.0
    return sum(1 for w in long_words if w[0].isupper()) / len(long_words)


#: Every alternative of ``_DATE`` holds a four-digit year: a necessary condition.
_HAS_YEAR = re.compile(r"\d{4}")
_HAS_SECTION_MARK = re.compile(r"[/>»›|]")
_NOT_ALNUM = regex.compile(r"[^\p{L}\p{N}]+")


#: For ASCII text: everything but letters and digits to a space (what ``_NOT_ALNUM``
#: removes there).
_BYTES_NOT_ALNUM = bytes(b if b < 128 and chr(b).isalnum() else ord(" ") for b in range(256))


#: For ASCII text: every byte but letters and digits (deleted to count those).
_BYTES_NOT_ALNUM_ONLY = bytes(b for b in range(128) if not chr(b).isalnum())


def _may_fold_to(s: str, folded: str) -> bool:
    """False when ``_fold(s) == folded`` cannot hold, told without folding ``s`` (a
    paragraph compared with a title or the navigation lines): for ASCII ``s`` the fold
    keeps exactly its letters and digits, so it must have as many as ``folded``."""
    if not s.isascii():
        return True
    if not folded.isascii():
        return False  # the fold of ASCII text is ASCII
    return len(s.encode("ascii").translate(None, _BYTES_NOT_ALNUM_ONLY)) == len(
        folded
    ) - folded.count(" ")


#: The most letters and digits a navigation line has (see ``_may_fold_to``).
_NAVIGATION_ALNUM = max(len(n) - n.count(" ") for n in _NAVIGATION)


def _may_be_navigation(s: str) -> bool:
    """False when ``_fold(s) in _NAVIGATION`` cannot hold (as ``_may_fold_to``)."""
    return not s.isascii() or len(
        s.encode("ascii").translate(None, _BYTES_NOT_ALNUM_ONLY)
    ) <= _NAVIGATION_ALNUM


def _fold(s: str) -> str:
    if s.isascii():  # the same result with C-level passes over bytes instead of a regex
        return b" ".join(s.encode("ascii").lower().translate(_BYTES_NOT_ALNUM).split()).decode()
    return " ".join(_NOT_ALNUM.sub(" ", s.casefold()).split())


def _header_kind(
    line: str, meta: _Meta, settings: IngestSettings, title: str | None = None
) -> str | None:
    """The span kind of a metadata line under the title, filling ``meta``; None if the
    line is not one. ``title``: ``_fold(meta.title)`` when the caller has it."""
    plain = _undecorate(line)
    if meta.title and title is None:
        title = _fold(meta.title)
    if meta.title and _may_fold_to(plain, title or "") and _fold(plain) == title:
        return "header"  # the title repeated (often in another case)
    if _URL_ONLY.match(plain):
        meta.add_link(_URL_ONLY.match(plain).group("url"))  # type: ignore[union-attr]
        return "link"
    if len(plain.split()) > _MAX_META_WORDS:
        return None
    rest = plain
    when: datetime | None = None
    # Cheap necessary conditions first: these two regexes backtrack on every word.
    date_match = _DATE.search(rest) if _HAS_YEAR.search(rest) else None
    if date_match is not None:
        when = parse_date(date_match.group(), settings.default_timezone)
        if when is not None:
            rest = (rest[: date_match.start()] + " " + rest[date_match.end() :]).strip()
    section: str | None = None
    section_match = _SECTION.search(rest) if _HAS_SECTION_MARK.search(rest) else None
    if section_match is not None:
        section = " / ".join(
            p.strip() for p in regex.split(r"\s+(?:/|>|»|›|\|)\s+", section_match.group(1))
        )
        rest = rest[: section_match.start()].strip()
    byline: str | None = None
    outlet: str | None = None
    byline_match = _BYLINE.match(rest)
    if byline_match is not None:
        who = byline_match.group("who").strip(" -|,;·").split()
        looks_like_names = len(who) <= 12 and not (len(who) > 5 and who[-1].endswith("."))
        if who and looks_like_names and (
            who[0][0].isupper() or who[0].lower() in _BYLINE_SECOND_WORD
        ):
            byline = " ".join(who)
    if byline is None:
        if when is None and section is None:
            return None
        leftover = [w for w in _words(_META_WORDS.sub(" ", rest)) if w not in _ZONE_NAMES]
        if len(leftover) > 5 or not all(w[0].isupper() for w in leftover):
            return None
        # "China National News 5th March, 2014": the outlet named beside the date.
        outlet = " ".join(leftover) or None
    # The line is metadata: only now fill in what it says (first value wins).
    meta.byline = meta.byline or byline
    meta.published = meta.published or when
    meta.section = meta.section or section
    meta.outlet = meta.outlet or outlet
    return "header"


def _footer_kind(line: str, meta: _Meta) -> str | None:
    """The span kind of a trailing metadata line, filling ``meta``; None if body."""
    plain = _undecorate(line)
    if len(plain.split()) > _MAX_META_WORDS:
        return None
    url_only = _URL_ONLY.match(plain)
    if url_only is not None:
        meta.add_link(url_only.group("url"))
        return "link"
    md_link = _MD_LINK_ONLY.match(line)
    if md_link is not None:
        meta.add_link(md_link.group("url"))
        return "link"
    # Cheap necessary conditions (ASCII lines) before the regexes that scan the line.
    low = plain.lower()
    folds = not plain.isascii()  # case-insensitive matching may fold other characters
    if (folds or _may_be_copyright(low)) and _COPYRIGHT.search(plain):
        return "copyright"
    if _FOOTER_NOTE.match(plain):
        for url in _URL.findall(plain):
            meta.add_link(url)
        return "footer"
    site = _SITE_LINE.match(plain) if folds or "http" in low else None
    if site is not None:
        name = site.group("name").strip(" -|:,")
        words = _words(name)
        if 1 <= len(words) <= 8 and all(w[0].isupper() for w in words if len(w) > 3):
            if meta.outlet is None:
                meta.outlet = name
            if meta.url is None:
                meta.url = site.group("url")
            else:
                meta.add_link(site.group("url"))
            return "footer"
    if _may_be_navigation(plain) and _fold(plain) in _NAVIGATION:
        return "navigation"
    return None


def _body_kind(line: str, meta: _Meta, markdown: bool) -> str | None:
    """The boilerplate kind of a line between header and footer; None for body text."""
    # The cheap tests before each match are necessary conditions of its regex.
    image = _MD_IMAGE.match(line) if line.startswith("![") else None
    if image is not None:
        meta.add_link(image.group("url"))
        return "caption"
    md_link = _MD_LINK_ONLY.match(line) if "](" in line else None
    if md_link is not None:
        meta.add_link(md_link.group("url"))
        return "link"
    if markdown and _HR.match(line):
        return "boilerplate"
    plain = _undecorate(line)
    url_only = _URL_ONLY.match(plain) if " " not in plain else None
    if url_only is not None:
        meta.add_link(url_only.group("url"))
        return "link"
    return _line_kind(plain)


def _line_kind(plain: str) -> str | None:
    """The boilerplate kind of an undecorated body line, or None."""
    n = _count_words(plain)  # the words themselves only for the headline rule
    if n == 0:
        return None
    if n <= 6 and _fold(plain) in _NAVIGATION:
        return "navigation"
    if n > _MAX_CAPTION_WORDS:
        return None  # a long paragraph: no rule below applies (the common case)
    low = plain.lower()
    if n <= 25 and _may_be_copyright(low) and _COPYRIGHT.search(plain):
        return "copyright"
    if n <= _MAX_HEADLINE_WORDS and _LEAD_IN.match(plain):
        return "related"
    if n <= _MAX_CAPTION_WORDS and _may_be_caption(low) and _PHOTO_CUE.search(plain):
        return "caption"
    if _is_sentence(plain):
        return None
    if 5 <= n <= _MAX_CAPTION_WORDS and _HAS_YEAR.search(plain) and _DATE.search(plain):
        return "caption"  # "Activists walk past ... 16 March 2019 Washington"
    if (
        _MIN_HEADLINE_WORDS <= n <= _MAX_HEADLINE_WORDS
        and not _LISTISH.search(plain)
        and _title_case_share(_words(plain)) >= 0.9
    ):
        return "related"
    return None


def _front_matter(lines: list[_Line], meta: _Meta, settings: IngestSettings) -> int:
    """Parse Markdown YAML front matter; returns how many lines it spans (0 if none)."""
    if not lines or lines[0].text != "---":
        return 0
    for i in range(1, min(len(lines), 40)):
        if lines[i].text in ("---", "..."):
            break
    else:
        return 0
    for line in lines[1:i]:
        key, sep, value = line.text.partition(":")
        if not sep:
            continue
        key, value = key.strip().lower(), value.strip().strip("'\"")
        if not value:
            continue
        if key == "title":
            meta.title = meta.title or value
        elif key in ("date", "published", "pubdate", "published_at"):
            meta.published = meta.published or parse_date(value, settings.default_timezone)
        elif key in ("author", "byline", "authors"):
            meta.byline = meta.byline or value.strip("[]")
        elif key in ("url", "link", "canonical_url", "permalink"):
            meta.url = meta.url or value
        elif key in ("source", "outlet", "site", "site_name", "publisher"):
            meta.outlet = meta.outlet or value
        elif key in ("section", "category", "categories"):
            meta.section = meta.section or value.strip("[]")
    return i + 1


def parse_text(
    text: str, id: str, source: str | None, kind: str, settings: IngestSettings
) -> Article:
    """Read one article from its decoded text.

    ``kind`` is "text" or "markdown". The first non-blank line (after Markdown front
    matter) is the title; its span has kind "title". Header lines under it (byline,
    date, section, a repeat of the title), in-body boilerplate (caption, related,
    navigation, copyright, link) and footer lines (copyright, link, footer) become
    excluded spans; they fill ``byline``, ``published`` (aware where the text gives a
    zone, else in ``settings.default_timezone`` if set, else naive), ``section``,
    ``outlet``, ``url`` (from a "Site Name. http://..." footer line) and ``links``
    (bare and short links). ``credits``/``dateline`` come from
    :func:`wiretrace.ingest.credits.analyze_credits`, ``language`` from the body.
    Never raises for content; an article without body words is returned as is (see
    :func:`is_empty`).
    """
    markdown = kind == "markdown"
    lines = _lines(text)
    meta = _Meta()
    spans: list[Span] = []
    # The kind of each line's span (None for body lines), for the credit rules.
    kinds: list[str | None] = [None] * len(lines)
    first = _front_matter(lines, meta, settings) if markdown else 0
    if first:
        spans.append(Span(lines[0].start, lines[first - 1].end, "header"))
        kinds[:first] = ["header"] * first
    rest = lines[first:]
    if rest and (
        meta.title is None
        or rest[0].text.startswith("#")
        or _fold(_undecorate(rest[0].text)) == _fold(meta.title)
    ):
        title_line = rest[0]
        title = _undecorate(title_line.text)
        meta.title = meta.title or title or None
        spans.append(Span(title_line.start, title_line.end, "title"))
        kinds[first] = "title"
        first += 1
        rest = rest[1:]
        if rest and _SETEXT.match(rest[0].text):
            spans.append(Span(rest[0].start, rest[0].end, "header"))
            kinds[first] = "header"
            first += 1
            rest = rest[1:]
    head = 0
    folded_title = _fold(meta.title) if meta.title else None
    while head < min(len(rest), _MAX_HEADER_LINES):
        header_kind = _header_kind(rest[head].text, meta, settings, folded_title)
        if header_kind is None:
            break
        spans.append(Span(rest[head].start, rest[head].end, header_kind))
        kinds[first + head] = header_kind
        head += 1
    tail = len(rest)
    footer: list[Span] = []
    while tail > head and len(rest) - tail < _MAX_FOOTER_LINES:
        footer_kind = _footer_kind(rest[tail - 1].text, meta)
        if footer_kind is None:
            break
        footer.append(Span(rest[tail - 1].start, rest[tail - 1].end, footer_kind))
        kinds[first + tail - 1] = footer_kind
        tail -= 1
    for i in range(first + head, first + tail):
        line = lines[i]
        body_kind = _body_kind(line.text, meta, markdown)
        if body_kind is not None:
            spans.append(Span(line.start, line.end, body_kind))
            kinds[i] = body_kind
    spans.extend(reversed(footer))
    spans.sort(key=lambda s: s.start)
    excluded = tuple(spans)
    credits = analyze_credits(
        text, excluded, meta.byline, lines=zip([line.text for line in lines], kinds, strict=True)
    )
    return Article(
        id=id,
        text=text,
        title=meta.title,
        source=source,
        kind=kind,
        outlet=meta.outlet,
        url=meta.url,
        published=meta.published,
        byline=meta.byline,
        credits=credits.credits,
        dateline=credits.dateline,
        section=meta.section,
        language=detect_language(body_text(text, excluded)),
        links=tuple(meta.links),
        excluded=excluded,
    )


def body_text(text: str, excluded: tuple[Span, ...]) -> str:
    """``text`` with the excluded spans left out (each replaced by a line break)."""
    parts: list[str] = []
    pos = 0
    for span in sorted(excluded, key=lambda s: s.start):
        if span.start > pos:
            parts.append(text[pos : span.start])
        parts.append("\n")
        pos = max(pos, span.end)
    parts.append(text[pos:])
    return "".join(parts)


def is_empty(article: Article) -> bool:
    """True when the article has no body words (outside its title and boilerplate).

    Readers return such articles; the ingest driver skips them with a warning
    ("empty article skipped"), which does not fail the run.
    """
    return word_count(article.text, article.excluded) == 0


def read_text(src: SourceInput, settings: IngestSettings) -> Iterator[Record]:
    """Read one .txt/.md file as one article with id ``src.id``.

    Raises :class:`InputTooLarge` past ``settings.max_article_bytes`` (checked before
    reading), :class:`IngestError` when the file cannot be read or is binary. A guessed
    encoding is listed in ``Article.warnings``.
    """
    yield article_from_bytes(load_bytes(src, settings), src, settings)


def load_bytes(src: SourceInput, settings: IngestSettings) -> bytes:
    """The bytes of a text input, refused past ``settings.max_article_bytes`` before
    they are read (:class:`InputTooLarge`); :class:`IngestError` if unreadable."""
    return load_bytes_stat(src, settings)[0]


def load_bytes_stat(
    src: SourceInput, settings: IngestSettings
) -> tuple[bytes, os.stat_result, bool]:
    """:func:`load_bytes` with the file's stat before reading and whether it was the
    same after (one ``open``, two ``fstat``: no path lookups besides the open)."""
    if src.path is None:
        raise IngestError(src.display, "a text article must be a local file")
    limit = settings.max_article_bytes
    try:
        # Plain file descriptor calls: a buffered file object costs more to make than
        # reading a news article does.
        fd = os.open(src.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            before = os.fstat(fd)
            if before.st_size > limit:
                raise InputTooLarge(
                    src.display, f"{before.st_size} bytes, over ingest.max_article_bytes ({limit})"
                )
            # Asking for the size read (not the limit) spares allocating a buffer of
            # the limit's size for each file; a file that grew is read on to the limit.
            # One read: a regular file's read comes back short only at its end. A file
            # that changed since the stat (or is no regular file) is read on to the limit.
            data = os.read(fd, before.st_size + 1)
            if len(data) != before.st_size:
                data += _read_fd(fd, limit + 1 - len(data))
            after = os.fstat(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise IngestError(src.display, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:  # grew since stat
        raise InputTooLarge(src.display, f"over ingest.max_article_bytes ({limit})")
    same = (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    return data, before, same and len(data) == before.st_size


def _read_fd(fd: int, size: int) -> bytes:
    """Up to ``size`` bytes from ``fd``, fewer only at the end of the file (``os.read``
    may return less than asked, e.g. from a pipe or after a signal)."""
    data = os.read(fd, size)
    if len(data) in (0, size):
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = os.read(fd, size - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def article_from_bytes(data: bytes, src: SourceInput, settings: IngestSettings) -> Article:
    """The article of a text input's bytes (decoded with detection; a guessed encoding
    is listed in ``Article.warnings``). :class:`IngestError` for binary data."""
    decoded, warnings = decode_bytes(data, src.display)
    kind = src.kind if src.kind in ("text", "markdown") else "text"
    article = parse_text(decoded, src.id, src.display, kind, settings)
    if warnings:
        article = article.with_(warnings=warnings)
    return article

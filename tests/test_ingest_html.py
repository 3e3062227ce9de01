"""HTML pages: main text, metadata, hostile markup, encodings, limits, the process pool."""

from __future__ import annotations

import html as htmllib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from wiretrace.errors import IngestError, InputTooLarge
from wiretrace.ingest.base import SourceInput
from wiretrace.ingest.html import (
    HtmlItem,
    decode_html,
    html_fragment_to_text,
    parse_html,
    parse_html_many,
    read_html,
    read_html_many,
)
from wiretrace.models import Article, IngestIssue
from wiretrace.settings import IngestSettings

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "html"
BBC = Path(__file__).resolve().parents[2] / "shared" / "data" / "bbc-news"


def _src(path: Path, id: str | None = None) -> SourceInput:
    return SourceInput(id=id or path.stem, kind="html", display=str(path), path=path)


def _read_one(path: Path, settings: IngestSettings | None = None) -> Article | IngestIssue:
    records = list(read_html(_src(path), settings or IngestSettings()))
    assert len(records) == 1
    return records[0]


def _bbc_page(path: Path, n: int) -> str:
    """A realistic news page around a BBC article: header, nav, related links, footer."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    title = lines[0].strip()
    paras = [p.strip() for p in lines[1:] if p.strip()]
    body = "\n".join(f"<p>{htmllib.escape(p)}</p>" for p in paras)
    esc = htmllib.escape(title)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{esc} | Test Daily</title><meta property="og:site_name" content="Test Daily">
<meta property="article:published_time" content="2005-01-{n % 28 + 1:02d}T08:00:00+00:00">
<script>var tracking = {n};</script></head><body>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a>
<a href="/latest">Latest News</a></nav></header>
<main><article><h1>{esc}</h1>{body}</article>
<aside><h2>Related</h2><ul><li><a href="/a">Markets rally on rate hopes</a></li>
<li><a href="/b">Minister resigns over expenses</a></li></ul></aside></main>
<footer><p>Copyright 2005 Test Daily</p><a href="/privacy">Privacy</a></footer></body></html>"""


def test_agency_story_page_gives_text_and_metadata() -> None:
    article = _read_one(FIXTURES / "agency_story.html")
    assert isinstance(article, Article)
    assert article.id == "agency_story"
    assert article.kind == "html"
    assert article.title == "Port workers strike over pay in Valparaiso"
    assert article.outlet == "The Coastal Herald"
    assert article.byline == "Marta Quiroga"
    assert article.url == "https://coastalherald.example/world/port-strike"
    assert article.language == "en"
    assert article.published == datetime(2024, 3, 5, 14, 30, tzinfo=timezone(timedelta(hours=-3)))
    assert article.published.utcoffset() == timedelta(hours=-3)
    text = article.text
    assert "Thousands of dock workers walked off the job" in text
    assert "cherry season" in text
    # Page furniture stays out of the stored text.
    for furniture in (
        "Latest News",
        "Copyright 2024",
        "Related stories",
        "Privacy",
        "window.analytics",
        "font-family",
    ):
        assert furniture not in text
    # The title line is in the text and excluded by a span whose offsets point at it.
    titles = [s for s in article.excluded if s.kind == "title"]
    assert titles
    assert text[titles[0].start : titles[0].end] == article.title
    assert "Reuters" in article.credits


def test_hostile_page_never_leaks_script() -> None:
    article = _read_one(FIXTURES / "hostile.html")
    assert isinstance(article, Article)
    assert "2.3 million pounds" in article.text
    assert "Construction is expected to begin next spring" in article.text
    assert article.title is not None and "library budget" in article.title
    for field in (article.text, article.title):
        low = field.lower()
        for bad in (
            "alert",
            "script",
            "javascript",
            "eval(",
            "document.cookie",
            "evil",
            "iframe-srcdoc",
            "noscript",
            "onerror",
            "onclick",
            "<",
        ):
            assert bad not in low, (bad, field)


def test_page_without_article_text_is_a_warning() -> None:
    issue = _read_one(FIXTURES / "index_page.html")
    assert isinstance(issue, IngestIssue)
    assert issue.severity == "warning"
    assert "index_page.html" in issue.input
    assert "no article text" in issue.reason


def test_missing_file_raises_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as info:
        list(read_html(_src(tmp_path / "nope.html"), IngestSettings()))
    assert "nope.html" in str(info.value)
    assert "\n" not in str(info.value)


def test_page_over_size_limit_is_refused() -> None:
    settings = IngestSettings(max_article_bytes=1000)
    with pytest.raises(InputTooLarge) as info:
        list(read_html(_src(FIXTURES / "agency_story.html"), settings))
    assert "max_article_bytes" in info.value.reason


def test_declared_latin1_is_decoded_as_windows_1252(tmp_path: Path) -> None:
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        "<title>Caf\u00e9 owners \u2019win\u2019 rent fight</title></head><body><article>"
        "<h1>Caf\u00e9 owners \u2019win\u2019 rent fight</h1><p>The owners of a small caf\u00e9 "
        "near the station won their long fight against a rent rise on Friday \u2013 a ruling "
        "that tenants across the city said gave them hope for their own disputes.</p>"
        "<p>The landlord said it would consider an appeal after reading the judgment.</p>"
        "</article></body></html>"
    )
    path = tmp_path / "cafe.html"
    path.write_bytes(page.encode("cp1252"))
    article = _read_one(path)
    assert isinstance(article, Article)
    assert "caf\u00e9 near the station" in article.text or "small caf\u00e9" in article.text
    assert "\u2013" in article.text
    assert article.title == "Caf\u00e9 owners \u2019win\u2019 rent fight"
    assert article.warnings == ()


def test_undeclared_legacy_encoding_is_guessed_with_a_warning() -> None:
    text = (
        "<html><body><article><p>L\u2019\u00e9t\u00e9 dernier, la r\u00e9gion a "
        "connu une s\u00e9cheresse s\u00e9v\u00e8re, selon les autorit\u00e9s, qui ont "
        "d\u00e9cid\u00e9 de limiter l\u2019usage de l\u2019eau dans quarante communes.</p>"
        "</article></body></html>"
    )
    decoded, warnings = decode_html(text.encode("cp1252"), "ete.html")
    assert "s\u00e9cheresse" in decoded
    # Not UTF-8 and nothing declared: the decoder guesses and says so.
    assert len(warnings) == 1
    assert "encoding" in warnings[0].lower()


def test_utf8_and_bom_need_no_guess() -> None:
    text = "<p>Gda\u0144sk \u2014 \u017b\u00f3\u0142w</p>"
    assert decode_html(text.encode("utf-8"), "x") == (text, ())
    assert decode_html(b"\xef\xbb\xbf" + text.encode("utf-8"), "x") == (text, ())


def test_published_without_zone_takes_the_default_timezone() -> None:
    page = (
        "<html><head><title>Rail line reopens</title>"
        '<meta property="article:published_time" content="2023-11-20T07:15:00"></head>'
        "<body><article><h1>Rail line reopens</h1><p>The coastal rail line reopened on Monday "
        "after engineers finished repairing a bridge damaged by storms in October, the "
        "operator said, with the first train leaving on time.</p></article></body></html>"
    )
    naive = parse_html(page, "r", "r.html", None, IngestSettings())
    assert naive.published == datetime(2023, 11, 20, 7, 15)
    assert naive.published is not None and naive.published.tzinfo is None
    zoned = parse_html(page, "r", "r.html", None, IngestSettings(default_timezone="UTC"))
    assert zoned.published == datetime(2023, 11, 20, 7, 15, tzinfo=UTC)


def test_fragment_to_text_keeps_paragraphs_and_drops_script() -> None:
    frag = "<p>One <b>bold</b> line.</p><script>alert(1)</script><p>Two&amp;three</p><br>Four"
    assert html_fragment_to_text(frag) == "One bold line.\nTwo&three\nFour"
    assert html_fragment_to_text("plain   text\n\n  here ") == "plain text\nhere"


def test_parallel_parse_matches_sequential_on_bbc_pages() -> None:
    files = sorted((BBC / "business").glob("*.txt"))[:24]
    items = [
        HtmlItem(html=_bbc_page(p, n), id=f"business/{p.stem}", source=str(p))
        for n, p in enumerate(files)
    ]
    settings = IngestSettings()
    sequential = list(parse_html_many(items, settings, workers=1))
    parallel = list(parse_html_many(iter(items), settings, workers=2))
    assert [r.id for r in parallel if isinstance(r, Article)] == [i.id for i in items]
    assert parallel == sequential
    for path, article in zip(files, parallel, strict=True):
        assert isinstance(article, Article)
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        assert article.title == lines[0].strip()
        assert article.outlet == "Test Daily"
        body_line = next(p for p in lines[1:] if p)
        assert body_line.strip() in article.text
        assert "Latest News" not in article.text
        assert "Minister resigns over expenses" not in article.text


def test_read_html_many_keeps_order_and_reports_bad_inputs(tmp_path: Path) -> None:
    srcs = [
        _src(FIXTURES / "agency_story.html"),
        _src(tmp_path / "missing.html"),
        _src(FIXTURES / "index_page.html"),
        _src(FIXTURES / "hostile.html"),
    ]
    results = list(read_html_many(srcs, IngestSettings(), workers=1))
    assert [type(r).__name__ for r in results] == [
        "Article",
        "IngestIssue",
        "IngestIssue",
        "Article",
    ]
    missing = results[1]
    assert isinstance(missing, IngestIssue)
    assert missing.severity == "error" and "missing.html" in missing.input


def test_binary_and_empty_pages_give_one_issue_each(tmp_path: Path) -> None:
    png = tmp_path / "photo.html"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    for path in (png, empty):
        issue = _read_one(path)
        assert isinstance(issue, IngestIssue), path
        assert issue.input == str(path)
        assert "\n" not in issue.reason
    binary_issue, empty_issue = _read_one(png), _read_one(empty)
    assert isinstance(binary_issue, IngestIssue) and binary_issue.severity == "error"
    # An empty page is like an empty article: skipped with a warning.
    assert isinstance(empty_issue, IngestIssue) and empty_issue.severity == "warning"


def test_furniture_lines_inside_the_body_are_excluded_spans() -> None:
    page = (
        "<html><body><article><h1>Dam project approved</h1>"
        "<p>The regional government approved the construction of a new hydroelectric dam on "
        "Thursday, despite protests from farmers who fear losing their land.</p>"
        "<p>Read more: Farmers march on the capital</p>"
        "<p>Officials said the dam would supply power to two hundred thousand homes.</p>"
        "<div>Advertisement</div><p>Share this article</p>"
        "<p>Watch the river rise as engineers open the gates for the first time in a decade.</p>"
        "<p>(c) 2024 Valley Times. All rights reserved.</p></article></body></html>"
    )
    article = parse_html(page, "dam", "dam.html", None, IngestSettings())
    found = [(s.kind, article.text[s.start : s.end]) for s in article.excluded]
    assert found == [
        ("title", "Dam project approved"),
        ("related", "Read more: Farmers march on the capital"),
        ("navigation", "Advertisement"),
        ("navigation", "Share this article"),
        ("copyright", "(c) 2024 Valley Times. All rights reserved."),
    ]
    # A sentence that merely starts like a menu word is text.
    assert "Watch the river rise" in article.text
    assert all("Watch" not in text for _, text in found)

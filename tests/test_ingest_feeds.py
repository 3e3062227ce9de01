"""RSS 2.0 and Atom feeds: entries, content, dates with zones, malformed feeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from wiretrace.errors import IngestError, InputTooLarge
from wiretrace.ingest.base import SourceInput
from wiretrace.ingest.feeds import parse_feed, read_feed
from wiretrace.models import Article, IngestIssue
from wiretrace.settings import IngestSettings

FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"


def _read(path: Path, settings: IngestSettings | None = None) -> list[Article | IngestIssue]:
    src = SourceInput(id=path.stem, kind="feed", display=str(path), path=path)
    return list(read_feed(src, settings or IngestSettings()))


def test_rss2_entries_with_full_content() -> None:
    results = _read(FEEDS / "rss2.xml")
    articles = [r for r in results if isinstance(r, Article)]
    issues = [r for r in results if isinstance(r, IngestIssue)]
    assert [a.id for a in articles] == [
        "https://gazette.example/news/ferry-strike",
        "https://gazette.example/news/lighthouse",
    ]
    ferry, lighthouse = articles
    assert ferry.title == "Ferry crews walk out & crossings cancelled"
    assert ferry.outlet == "Harbour Gazette"
    assert ferry.byline == "Ann Lee"
    assert ferry.language == "en"
    assert ferry.kind == "feed"
    assert ferry.url == "https://gazette.example/news/ferry-strike"
    assert ferry.published == datetime(2024, 3, 5, 14, 30, tzinfo=timezone(timedelta(hours=1)))
    # content:encoded wins over the one-line description; paragraphs become lines.
    lines = ferry.text.split("\n")
    assert len(lines) == 3
    assert lines[0].startswith("OSLO (AFP) - Ferry crews on the busiest routes")
    assert "alert" not in ferry.text and "<" not in ferry.text
    assert "AFP" in ferry.credits
    # Without content the HTML summary is the text.
    assert lighthouse.text.startswith("The old lighthouse on the northern cape reopened")
    assert lighthouse.text.endswith("Guides will lead tours of the lantern room every afternoon.")
    assert lighthouse.published == datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
    # The entry without any text is skipped with a warning naming it.
    assert len(issues) == 1
    assert issues[0].severity == "warning"
    assert "rss2.xml" in issues[0].input and "entry 3" in issues[0].input


def test_atom_entries() -> None:
    results = _read(FEEDS / "atom.xml")
    assert all(isinstance(r, Article) for r in results)
    flood, market = results
    assert isinstance(flood, Article) and isinstance(market, Article)
    assert flood.id == "https://courier.example/2024/04/flood-defences"
    assert flood.title == "Flood defences hold after record rain"
    assert flood.outlet == "Valley Courier"
    assert flood.byline == "Tomas Berg"
    assert flood.published == datetime(2024, 4, 2, 7, 45, tzinfo=timezone(timedelta(hours=2)))
    assert flood.text.startswith("New flood walls along the river held overnight")
    assert "Reuters" in flood.credits
    # No link: the entry id is the article id; text content keeps its lines.
    assert market.id == "tag:courier.example,2024:market-roof"
    assert market.url is None
    assert market.text == (
        "Work on the market hall roof finished on Monday, two weeks ahead of "
        "schedule.\nTraders will return to their stalls on Saturday."
    )
    assert market.published == datetime(2024, 4, 1, 16, 20, tzinfo=UTC)


def test_malformed_feed_with_entries_is_a_warning() -> None:
    results = _read(FEEDS / "broken_rss.xml")
    articles = [r for r in results if isinstance(r, Article)]
    issues = [r for r in results if isinstance(r, IngestIssue)]
    assert [a.id for a in articles] == ["https://broken.example/first"]
    assert articles[0].outlet == "Broken Wire"
    assert issues and all(i.severity == "warning" for i in issues)
    assert any("malformed feed" in i.reason for i in issues)


def test_not_a_feed_and_broken_beyond_repair_are_errors(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as info:
        _read(FEEDS / "not_a_feed.xml")
    assert "not an RSS or Atom feed" in info.value.reason
    cut = tmp_path / "cut.xml"
    cut.write_bytes(b"<?xml version='1.0'?><rss version='2.0'><channel><title>Cut")
    with pytest.raises(IngestError) as info:
        _read(cut)
    assert info.value.input == str(cut)
    assert "\n" not in str(info.value)


def test_feed_from_bytes_and_size_limit() -> None:
    data = (FEEDS / "atom.xml").read_bytes()
    src = SourceInput(
        id="courier",
        kind="feed",
        display="https://courier.example/feed",
        url="https://courier.example/feed",
    )
    ids = [r.id for r in parse_feed(data, src, IngestSettings()) if isinstance(r, Article)]
    assert len(ids) == 2
    with pytest.raises(InputTooLarge):
        _read(FEEDS / "atom.xml", IngestSettings(max_article_bytes=500))


def test_entries_without_link_or_id_get_numbered_ids(tmp_path: Path) -> None:
    path = tmp_path / "bare.xml"
    path.write_text(
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Bare</title>"
        "<item><description>First bare entry about the weather turning cold.</description></item>"
        "<item><description>Second bare entry about the bus timetable.</description></item>"
        "</channel></rss>",
        encoding="utf-8",
    )
    ids = [r.id for r in _read(path) if isinstance(r, Article)]
    assert ids == ["bare#1", "bare#2"]


def test_wordpress_feed_footer_is_boilerplate(tmp_path: Path) -> None:
    path = tmp_path / "wp.xml"
    path.write_text(
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Town Blog</title><item>"
        "<title>Bridge repairs</title><link>https://blog.example/bridge</link><description>"
        "&lt;p&gt;Repairs to the old stone bridge will close the road for three weeks from "
        "Monday, the council said.&lt;/p&gt;&lt;p&gt;The post &lt;a href='https://blog.example/"
        "bridge'&gt;Bridge repairs&lt;/a&gt; appeared first on &lt;a href='https://blog.example'"
        "&gt;Town Blog&lt;/a&gt;.&lt;/p&gt;</description></item></channel></rss>",
        encoding="utf-8",
    )
    [article] = _read(path)
    assert isinstance(article, Article)
    [span] = article.excluded
    assert article.text[span.start : span.end] == (
        "The post Bridge repairs appeared first on Town Blog."
    )
    assert article.text.startswith("Repairs to the old stone bridge")

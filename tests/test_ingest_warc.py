"""WARC and WARC.gz crawls: record selection, ids, dates, truncation, streaming."""

from __future__ import annotations

import gzip
import html as htmllib
import subprocess
import sys
import textwrap
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from wiretrace.errors import IngestError
from wiretrace.ingest.base import SourceInput
from wiretrace.ingest.warc import read_warc
from wiretrace.models import Article, IngestIssue
from wiretrace.settings import IngestSettings

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "html"
BBC = Path(__file__).resolve().parents[2] / "shared" / "data" / "bbc-news"


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def _record(warc_type: str, uri: str, block: bytes, n: int, extra: str = "") -> bytes:
    content_type = {
        "response": "application/http; msgtype=response",
        "request": "application/http; msgtype=request",
        "warcinfo": "application/warc-fields",
        "revisit": "application/http; msgtype=response",
    }[warc_type]
    target = f"WARC-Target-URI: {uri}\r\n" if uri else ""
    header = (
        f"WARC/1.0\r\nWARC-Type: {warc_type}\r\n{target}"
        f"WARC-Date: 2025-06-01T12:00:{n % 60:02d}Z\r\n"
        f"WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-{n:012d}>\r\n{extra}"
        f"Content-Type: {content_type}\r\nContent-Length: {len(block)}\r\n\r\n"
    )
    return header.encode() + block + b"\r\n\r\n"


def _http(
    body: bytes,
    content_type: str = "text/html; charset=utf-8",
    status: str = "200 OK",
    headers: str = "",
) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{headers}"
    if "Transfer-Encoding" not in headers:
        head += f"Content-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


def _chunked(data: bytes, size: int = 700) -> bytes:
    out = b""
    for i in range(0, len(data), size):
        part = data[i : i + size]
        out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    return out + b"0\r\n\r\n"


def _bbc_page(path: Path, date: str | None) -> bytes:
    lines = [htmllib.escape(line) for line in _lines(path)]
    paras = "".join(f"<p>{p.strip()}</p>" for p in lines[1:] if p.strip())
    meta = f'<meta property="article:published_time" content="{date}">' if date else ""
    return (
        f"<html lang='en'><head><title>{lines[0].strip()}</title>{meta}</head><body>"
        f"<nav><a href='/'>Home</a> <a href='/latest'>Latest News</a></nav>"
        f"<article><h1>{lines[0].strip()}</h1>{paras}</article>"
        "<footer>Copyright 2005</footer></body></html>"
    ).encode()


def _crawl() -> tuple[list[bytes], list[str]]:
    """Records of a small crawl, and the ids of the articles it must give, in order."""
    files = sorted((BBC / "tech").glob("*.txt"))[:4]
    records = [_record("warcinfo", "", b"software: hand-made test crawl\r\n", 0)]
    expected: list[str] = []
    n = 1
    for i, path in enumerate(files):
        uri = f"https://news.example/tech/{path.stem}"
        records.append(
            _record("request", uri, f"GET /tech/{path.stem} HTTP/1.1\r\n\r\n".encode(), n)
        )
        n += 1
        page = _bbc_page(path, "2005-02-03T10:20:00+01:00" if i == 0 else None)
        if i == 2:
            block = _http(
                _chunked(gzip.compress(page)),
                headers=("Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"),
            )
        else:
            block = _http(page)
        records.append(_record("response", uri, block, n))
        expected.append(uri)
        n += 1
        # Things a crawl also holds that are not articles.
        records.append(
            _record("response", uri + ".png", _http(b"\x89PNG\r\n" + bytes(300), "image/png"), n)
        )
        n += 1
    records.append(
        _record(
            "response",
            "https://news.example/gone",
            _http(
                b"<html><body><p>" + b"Not found. " * 40 + b"</p></body></html>",
                status="404 Not Found",
            ),
            n,
        )
    )
    records.append(
        _record(
            "revisit",
            expected[0],
            _http(b""),
            n + 1,
            extra="WARC-Profile: http://netpreserve.org/warc/1.0/revisit/"
            "identical-payload-digest\r\n",
        )
    )
    return records, expected


def _write(tmp_path: Path, records: list[bytes], gz: bool, name: str = "crawl") -> Path:
    if gz:
        path = tmp_path / f"{name}.warc.gz"
        path.write_bytes(b"".join(gzip.compress(r) for r in records))
    else:
        path = tmp_path / f"{name}.warc"
        path.write_bytes(b"".join(records))
    return path


def _read(path: Path, settings: IngestSettings | None = None) -> list[Article | IngestIssue]:
    src = SourceInput(id=path.name.split(".")[0], kind="warc", display=str(path), path=path)
    return list(read_warc(src, settings or IngestSettings(workers=1)))


@pytest.mark.parametrize("gz", [False, True])
def test_html_responses_become_articles(tmp_path: Path, gz: bool) -> None:
    records, expected = _crawl()
    results = _read(_write(tmp_path, records, gz))
    assert all(isinstance(r, Article) for r in results), results
    articles = [r for r in results if isinstance(r, Article)]
    assert [a.id for a in articles] == expected
    first = articles[0]
    assert first.kind == "warc" and first.url == expected[0]
    assert first.source is not None and first.source.startswith(str(tmp_path))
    # The page's own date is kept with its zone; the crawl date never stands in for it.
    assert first.published == datetime(2005, 2, 3, 10, 20, tzinfo=timezone(timedelta(hours=1)))
    assert all(a.published is None for a in articles[1:])
    for article in articles:
        assert "Latest News" not in article.text and "Copyright" not in article.text
        assert len(article.text) > 200
    # The gzip + chunked response decoded like the others.
    third = _lines(BBC / "tech" / (expected[2].rsplit("/", 1)[1] + ".txt"))
    assert third[0].strip() == articles[2].title


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_warc_keeps_what_was_read(tmp_path: Path, gz: bool) -> None:
    records, expected = _crawl()
    whole = _write(tmp_path, records, gz, "whole").read_bytes()
    # Cut inside the last record, inside the third response, and in a record header.
    response_3 = sum(len(gzip.compress(r)) if gz else len(r) for r in records[:8])
    for cut in (len(whole) - 40, response_3 + 400, response_3 + 30):
        path = tmp_path / f"cut{cut}.warc{'.gz' if gz else ''}"
        path.write_bytes(whole[:cut])
        results = _read(path)
        articles = [r for r in results if isinstance(r, Article)]
        issues = [r for r in results if isinstance(r, IngestIssue)]
        ids = [a.id for a in articles]
        assert ids == expected[: len(ids)], cut
        if cut < response_3 + 500:
            assert ids == expected[:2], cut
        else:
            assert ids == expected, cut
        assert len(issues) == 1, (cut, issues)
        assert issues[0].severity == "error"
        assert issues[0].input == str(path)
        assert "damaged WARC" in issues[0].reason
        assert "\n" not in issues[0].reason


def test_not_a_warc_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "page.warc"
    path.write_bytes((FIXTURES / "agency_story.html").read_bytes())
    with pytest.raises(IngestError) as info:
        _read(path)
    assert str(path) in str(info.value) and "WARC" in info.value.reason
    gz = tmp_path / "junk.warc.gz"
    gz.write_bytes(zlib.compress(b"junk" * 100))
    with pytest.raises(IngestError):
        _read(gz)


def test_page_over_the_limit_is_skipped_with_an_issue(tmp_path: Path) -> None:
    records, expected = _crawl()
    big = _http(b"<html><body><p>" + b"word " * 4000 + b"</p></body></html>")
    records.insert(3, _record("response", "https://news.example/huge", big, 99))
    results = _read(
        _write(tmp_path, records, True), IngestSettings(max_article_bytes=15_000, workers=1)
    )
    assert [r.id for r in results if isinstance(r, Article)] == expected
    issues = [r for r in results if isinstance(r, IngestIssue)]
    assert len(issues) == 1 and "https://news.example/huge" in issues[0].input
    assert "max_article_bytes" in issues[0].reason


def test_large_warc_streams_in_bounded_memory(tmp_path: Path) -> None:
    """160 MB of records (4 MiB each, uncompressed) stream through with a small peak RSS."""
    records, expected = _crawl()
    path = tmp_path / "big.warc.gz"
    blob = _http(bytes(range(256)) * (4 << 12), "application/octet-stream")  # 4 MiB
    blob_gz = gzip.compress(_record("response", "https://news.example/video.bin", blob, 7), 1)
    with path.open("wb") as out:
        for r in records[:5]:
            out.write(gzip.compress(r))
        for _ in range(40):
            out.write(blob_gz)
        for r in records[5:]:
            out.write(gzip.compress(r))
    script = textwrap.dedent(f"""
        import resource
        from pathlib import Path
        from wiretrace.ingest.base import SourceInput
        from wiretrace.ingest.warc import read_warc
        from wiretrace.settings import IngestSettings
        import wiretrace.ingest.html, trafilatura  # load code before measuring
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        p = Path({str(path)!r})
        out = list(read_warc(SourceInput("big", "warc", str(p), p), IngestSettings(workers=1)))
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(len([r for r in out if type(r).__name__ == "Article"]), len(out), after - before)
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    articles, total, grown_kib = (int(x) for x in done.stdout.split())
    assert articles == len(expected) and total == articles
    # 40 records of 4 MiB each went through; memory grew by far less than one of them each.
    assert grown_kib < 64 * 1024, grown_kib


def test_corrupt_member_in_the_middle_of_a_warc_gz(tmp_path: Path) -> None:
    records, expected = _crawl()
    members = [gzip.compress(r) for r in records]
    # Damage the deflate data of the third response (record 8), keep its gzip header.
    bad = bytearray(members[8])
    for i in range(20, len(bad) - 20, 7):
        bad[i] ^= 0x5A
    members[8] = bytes(bad)
    path = tmp_path / "corrupt.warc.gz"
    path.write_bytes(b"".join(members))
    results = _read(path)
    ids = [r.id for r in results if isinstance(r, Article)]
    issues = [r for r in results if isinstance(r, IngestIssue)]
    assert ids == expected[:2]
    assert len(issues) == 1 and issues[0].input == str(path)
    assert "damaged WARC" in issues[0].reason


def test_charset_from_the_http_header(tmp_path: Path) -> None:
    page = (
        "<html><body><article><h1>Caf\u00e9 r\u00e9ouvert</h1><p>Le caf\u00e9 de la gare a "
        "rouvert ses portes lundi apr\u00e8s six mois de travaux, a annonc\u00e9 la mairie, "
        "qui pr\u00e9voit une f\u00eate le week-end prochain.</p></article></body></html>"
    ).encode("cp1252")
    block = _http(page, "text/html; charset=windows-1252")
    path = _write(tmp_path, [_record("response", "https://fr.example/cafe", block, 1)], False)
    [article] = _read(path)
    assert isinstance(article, Article)
    assert "apr\u00e8s six mois" in article.text and article.warnings == ()
    assert article.id == "https://fr.example/cafe"


def test_warc_without_pages_is_a_warning(tmp_path: Path) -> None:
    records, _ = _crawl()
    no_pages = [r for r in records if b"text/html" not in r or b"404" in r]
    path = _write(tmp_path, no_pages, True)
    [issue] = _read(path)
    assert isinstance(issue, IngestIssue) and issue.severity == "warning"
    assert f"in {len(no_pages)} records" in issue.reason
    empty = tmp_path / "empty.warc"
    empty.write_bytes(b"")
    [issue] = _read(empty)
    assert isinstance(issue, IngestIssue) and issue.severity == "warning"

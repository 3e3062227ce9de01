"""Fetching pages and feeds by URL, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from wiretrace.errors import IngestError, InputTooLarge
from wiretrace.ingest.base import SourceInput
from wiretrace.ingest.fetch import clear_robots_cache, fetch, read_url
from wiretrace.models import Article
from wiretrace.settings import IngestSettings

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAGE = (FIXTURES / "html" / "agency_story.html").read_bytes()
FEED = (FIXTURES / "feeds" / "rss2.xml").read_bytes()
ROBOTS = b"User-agent: *\nDisallow: /private/\n"


class _Handler(BaseHTTPRequestHandler):
    agents: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str, length: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        _Handler.agents.append(self.headers.get("User-Agent", ""))
        path = self.path
        if path == "/robots.txt":
            self._send(200, ROBOTS, "text/plain")
        elif path in ("/news/port-strike", "/private/secret"):
            self._send(200, PAGE, "text/html; charset=utf-8")
        elif path == "/feed":
            self._send(200, FEED, "application/rss+xml")
        elif path == "/feed-as-xml":
            self._send(200, FEED, "text/xml")
        elif path == "/old":
            self.send_response(301)
            self.send_header("Location", "/news/port-strike")
            self.end_headers()
        elif path == "/to-private":
            self.send_response(302)
            self.send_header("Location", "/private/secret")
            self.end_headers()
        elif path.startswith("/loop"):
            self.send_response(302)
            self.send_header("Location", f"/loop{len(path)}")
            self.end_headers()
        elif path == "/slow":
            time.sleep(2.0)
            self._send(200, PAGE, "text/html")
        elif path == "/big":
            self._send(200, b"<p>" + b"x" * 300_000 + b"</p>", "text/html")
        elif path == "/big-stream":
            # No Content-Length: the limit must be enforced while the body streams in.
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b"<p>" + b"y" * 10_000 + b"</p>")
        elif path == "/image":
            self._send(200, b"\x89PNG\r\n\x1a\n" + bytes(100), "image/png")
        else:
            self._send(404, b"not here", "text/plain")


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that abort on purpose (size limit, timeout) break the pipe; not news.
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = _QuietServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    clear_robots_cache()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


SETTINGS = IngestSettings(fetch_timeout=5.0, fetch_max_bytes=200_000, user_agent="wt-test/1.0")


def _src(url: str) -> SourceInput:
    return SourceInput(id=url, kind="html", display=url, url=url)


def test_fetch_page_with_user_agent(server: str) -> None:
    page = fetch(server + "/news/port-strike", SETTINGS)
    assert page.status == 200
    assert page.content_type == "text/html" and page.charset == "utf-8"
    assert page.body == PAGE
    assert page.final_url == page.url == server + "/news/port-strike"
    assert "wt-test/1.0" in _Handler.agents


def test_read_url_dispatches_html_and_feeds(server: str) -> None:
    [article] = list(read_url(_src(server + "/old"), SETTINGS))
    assert isinstance(article, Article)
    assert article.url == server + "/news/port-strike"  # the final URL after the redirect
    assert article.title == "Port workers strike over pay in Valparaiso"
    assert article.id == server + "/old"
    for path in ("/feed", "/feed-as-xml"):
        records = list(read_url(_src(server + path), SETTINGS))
        ids = [r.id for r in records if isinstance(r, Article)]
        assert ids == [
            "https://gazette.example/news/ferry-strike",
            "https://gazette.example/news/lighthouse",
        ]


def test_robots_txt_is_obeyed_even_after_a_redirect(server: str) -> None:
    for path in ("/private/secret", "/to-private"):
        with pytest.raises(IngestError) as info:
            fetch(server + path, SETTINGS)
        assert "robots.txt" in info.value.reason
    impolite = IngestSettings(respect_robots=False, fetch_timeout=5.0)
    assert fetch(server + "/private/secret", impolite).status == 200


def test_http_errors_name_the_url_and_status(server: str) -> None:
    url = server + "/missing"
    with pytest.raises(IngestError) as info:
        fetch(url, SETTINGS)
    assert info.value.input == url and "404" in info.value.reason
    assert "\n" not in str(info.value)
    with pytest.raises(IngestError) as info:
        fetch(server + "/loop", SETTINGS)
    assert "redirects" in info.value.reason


def test_timeout(server: str) -> None:
    settings = IngestSettings(fetch_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(IngestError) as info:
        fetch(server + "/slow", settings)
    assert time.monotonic() - started < 1.8
    assert "timed out" in info.value.reason


def test_size_limit_declared_and_streamed(server: str) -> None:
    for path in ("/big", "/big-stream"):
        with pytest.raises(InputTooLarge) as info:
            fetch(server + path, SETTINGS)
        assert "fetch_max_bytes" in info.value.reason


def test_neither_page_nor_feed_and_bad_scheme(server: str) -> None:
    with pytest.raises(IngestError) as info:
        list(read_url(_src(server + "/image"), SETTINGS))
    assert "image/png" in info.value.reason
    with pytest.raises(IngestError):
        fetch("file:///etc/passwd", SETTINGS)


def test_unreachable_host(server: str) -> None:
    # A port nobody listens on (the server's port + 0 is taken; port 9 is discard).
    with pytest.raises(IngestError) as info:
        fetch("http://127.0.0.1:9/page", IngestSettings(fetch_timeout=2.0))
    assert "127.0.0.1:9" in info.value.input


def test_html_and_feed_readers_fetch_urls(server: str) -> None:
    from wiretrace.ingest.feeds import read_feed
    from wiretrace.ingest.html import read_html

    [page] = list(read_html(_src(server + "/news/port-strike"), SETTINGS))
    assert isinstance(page, Article) and page.outlet == "The Coastal Herald"
    url = server + "/feed"
    entries = list(read_feed(SourceInput(id=url, kind="feed", display=url, url=url), SETTINGS))
    assert [e.outlet for e in entries if isinstance(e, Article)] == ["Harbour Gazette"] * 2


class _EndlessRobots(BaseHTTPRequestHandler):
    """robots.txt that never ends (up to ``CAP`` bytes); counts what it managed to send."""

    CAP = 20_000_000
    sent: ClassVar[list[int]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path != "/robots.txt":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        line = b"# a comment line that goes on and on and on and on and on and on\n" * 1000
        sent = 0
        try:
            while sent < self.CAP:
                self.wfile.write(line)
                sent += len(line)
        except OSError:  # the client stopped reading and closed
            pass
        _EndlessRobots.sent.append(sent)


def test_endless_robots_txt_is_read_only_up_to_a_limit() -> None:
    httpd = _QuietServer(("127.0.0.1", 0), _EndlessRobots)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    clear_robots_cache()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/news/port-strike"
        page = fetch(url, SETTINGS)
        assert page.body == PAGE
        deadline = time.monotonic() + 10
        while not _EndlessRobots.sent and time.monotonic() < deadline:
            time.sleep(0.05)
        # the client hung up long before the server ran out of robots.txt to send
        assert _EndlessRobots.sent and _EndlessRobots.sent[0] < _EndlessRobots.CAP
    finally:
        httpd.shutdown()
        httpd.server_close()
        clear_robots_cache()

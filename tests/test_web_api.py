"""The HTTP API of `wiretrace serve`, against a real uvicorn server on 127.0.0.1.

The store holds the two seed articles (analysed) and a hostile article; the server runs
in its own process (``python -m wiretrace serve``), as a user starts it. Serving while
another process writes the store is tested with real writer processes too.
"""

from __future__ import annotations

import http.client
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from web_support import (
    DEMO,
    HOSTILE,
    HOSTILE_TEXT,
    PASTED,
    A,
    B,
    Server,
    build_store,
    seed_text,
)
from wiretrace.snapshots import snapshot_path

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("web-api"))


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[Server]:
    with Server(store) as srv:
        yield srv


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60.0) as c:
        yield c


def assert_error(response: httpx.Response, status: int, code: str) -> str:
    """The one error shape, with this status and code; returns the message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    message: str = body["error"]["message"]
    assert message and "\n" not in message and "Traceback" not in message
    return message


# -- reading -----------------------------------------------------------------------------


def test_overview_counts_and_tops(client: httpx.Client) -> None:
    o = client.get("/api/overview").json()
    assert o["articles"] == 3 and o["pairs"] == 1 and o["passages"] == 3
    assert o["credit"] == {"uncredited": 1}
    assert o["share_uncredited"] == 1.0
    assert [r["id"] for r in o["top_sources"]] == [A]
    assert [r["id"] for r in o["top_reusers"]] == [B]
    assert o["top_reusers"][0]["reused_share"] == pytest.approx(91 / 307, abs=0.01)


def test_articles_are_paged(client: httpx.Client) -> None:
    first = client.get("/api/articles", params={"limit": 2}).json()
    assert first["total"] == 3 and first["limit"] == 2 and first["next"] == 2
    assert [r["id"] for r in first["items"]] == [A, B]
    rest = client.get("/api/articles", params={"limit": 2, "offset": first["next"]}).json()
    assert [r["id"] for r in rest["items"]] == [HOSTILE] and rest["next"] is None
    assert "text" not in rest["items"][0]  # listings carry no text


def test_page_limits_are_enforced(client: httpx.Client) -> None:
    message = assert_error(client.get("/api/articles", params={"limit": 501}), 400,
                           "bad_request")  # fmt: skip
    assert "limit" in message and "500" in message
    assert "offset" in assert_error(
        client.get("/api/pairs", params={"offset": -1}), 400, "bad_request"
    )
    assert_error(client.get("/api/pairs", params={"credit": "maybe"}), 400, "bad_request")


def test_search_titles_and_text(client: httpx.Client) -> None:
    by_text = client.get("/api/articles", params={"q": "deeper russian INVOLVEMENT"}).json()
    assert [r["id"] for r in by_text["items"]] == [B]
    assert "Deeper Russian involvement" in by_text["items"][0]["snippet"]
    both = client.get("/api/articles", params={"q": "Maiquetia"}).json()
    assert [r["id"] for r in both["items"]] == [A, B]
    by_title = client.get("/api/articles", params={"q": "air force lands"}).json()
    assert [r["id"] for r in by_title["items"]] == [A]
    # SQL wildcards are plain characters
    assert client.get("/api/articles", params={"q": "Venezuela%Russia"}).json()["total"] == 0
    assert client.get("/api/articles", params={"q": "Russi_"}).json()["total"] == 0
    assert client.get("/api/articles", params={"q": "__pwned"}).json()["total"] == 1


def test_article_with_patchwork(client: httpx.Client) -> None:
    body = client.get(f"/api/articles/{B}").json()
    assert body["title"] == "Russia Lands Two Air Force Planes In Venezuela, Official Says"
    assert body["text"] == seed_text(B)
    work = body["patchwork"]
    novel = [s for s in work["sentences"] if s["source"] is None]
    assert len(novel) == 10
    assert any(s["text"].startswith("Deeper Russian involvement") for s in novel)
    assert work["sources"] == {A: pytest.approx(91 / 307, abs=0.01)}
    assert [p["source"] for p in body["reuses"]] == [A] and body["reused_by"] == []
    origin = client.get(f"/api/articles/{A}").json()
    assert origin["credits"] == ["Reuters"] and [p["target"] for p in origin["reused_by"]] == [B]


def test_an_articles_pair_lists_are_paged(tmp_path: Path) -> None:
    """The demo's agency story is reused by two articles; with one pair a page, the
    article answers the first and the total, and /api/pairs pages through both."""
    from wiretrace import open_collection

    db = tmp_path / "demo.duckdb"
    with open_collection(db) as coll:
        assert not coll.run([DEMO]).failed
    with Server(db, "--set", "serve.page_size=1") as srv, httpx.Client(
        base_url=srv.url, timeout=60.0
    ) as c:
        body = c.get("/api/articles/agency_shetland_grounding").json()
        assert len(body["reused_by"]) == 1 and body["reused_by_total"] == 2
        targets = []
        url: str | None = body["pairs_url"]
        offset = 0
        while url is not None:
            page = c.get(url, params={"offset": offset}).json()
            targets += [p["target"] for p in page["items"]]
            offset = page["next"]
            url = body["pairs_url"] if offset is not None else None
        assert sorted(targets) == ["patchwork_daily_pulse", "reprint_coastal_herald"]


def test_article_ids_with_slashes(client: httpx.Client) -> None:
    body = client.get(f"/api/articles/{HOSTILE}").json()
    assert body["id"] == HOSTILE and body["text"] == HOSTILE_TEXT
    assert_error(client.get("/api/articles/nope"), 404, "not_found")


def test_pair_either_order_with_edits_origin_and_credit(client: httpx.Client) -> None:
    for a, b in ((A, B), (B, A)):
        pair = client.get("/api/pair", params={"a": a, "b": b}).json()
        assert (pair["source"], pair["target"]) == (A, B)
    assert pair["credit"] == "uncredited" and pair["credited_to"] == []
    spans = [(p["source_start"], p["source_end"], p["target_start"], p["target_end"])
             for p in pair["passages"]]  # fmt: skip
    assert spans == [(577, 808, 1073, 1304), (2223, 2335, 1486, 1609), (2724, 2987, 1904, 2167)]
    edits = [(e["source_text"], e["target_text"], e["kind"])
             for p in pair["passages"] for e in p["edits"]]  # fmt: skip
    assert edits == [("U.S.", "USA", "alias"), ("Russia", "Russian Federation", "alias")]
    assert any("Reuters" in line for line in pair["evidence"])
    assert len([s for s in pair["target_patchwork"]["sentences"] if s["source"] is None]) == 10
    assert_error(client.get("/api/pair", params={"a": A, "b": HOSTILE}), 404, "not_found")
    assert "b" in assert_error(client.get("/api/pair", params={"a": A}), 400, "bad_request")


def test_pairs_and_passages_listings(client: httpx.Client) -> None:
    pairs = client.get("/api/pairs").json()
    assert pairs["total"] == 1 and len(pairs["items"][0]["passages"]) == 3
    assert client.get("/api/pairs", params={"credit": "credited"}).json()["total"] == 0
    assert client.get("/api/pairs", params={"article": HOSTILE}).json()["total"] == 0
    passages = client.get("/api/passages", params={"limit": 2}).json()
    assert passages["total"] == 3 and passages["next"] == 2
    assert passages["items"][0]["target_start"] == 1073


def test_stories_answer_even_without_stories(client: httpx.Client) -> None:
    body = client.get("/api/stories").json()
    assert set(body) == {"items", "total", "limit", "offset", "next"}
    for story in body["items"]:
        assert client.get(f"/api/stories/{story['story']}").json()["story"] == story["story"]
    assert_error(client.get("/api/stories/no-such-story"), 404, "not_found")


def test_openapi_schema_lists_the_api(client: httpx.Client) -> None:
    schema = client.get("/api/openapi.json").json()
    for path in ("/api/overview", "/api/articles", "/api/articles/{id}", "/api/pairs",
                 "/api/pair", "/api/passages", "/api/stories", "/api/check"):  # fmt: skip
        assert path in schema["paths"], path
    assert "ErrorBody" in schema["components"]["schemas"]


def test_unknown_urls_and_methods_use_the_error_shape(client: httpx.Client) -> None:
    assert_error(client.get("/api/nope"), 404, "not_found")
    assert_error(client.delete("/api/pairs"), 405, "method_not_allowed")
    assert_error(client.post("/api/check", content=b"{not json",
                             headers={"content-type": "application/json"}), 400, "bad_request")
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]


def test_no_endpoint_reads_a_client_path(client: httpx.Client) -> None:
    for url in ("/api/articles/..%2F..%2F..%2Fetc%2Fpasswd", "/static/..%2F..%2Fapp.py",
                "/article/%2Fetc%2Fpasswd"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 404, url
        assert "root:" not in response.text and "import" not in response.text


def test_security_headers(client: httpx.Client) -> None:
    response = client.get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"


def test_hostile_text_is_data_in_json_and_inert_in_html(client: httpx.Client) -> None:
    html = client.get(f"/article/{HOSTILE}").text
    for raw in ("<script>window", "<img src", "onerror=\"window", "<svg onload",
                'href="javascript:'):  # fmt: skip
        assert raw not in html, raw
    assert "&lt;script&gt;window.__pwned=" in html
    assert html.count("<script") == 1  # the viewer's own /static/app.js


def test_foreign_host_names_are_refused(server: Server) -> None:
    response = httpx.get(server.url + "/api/overview", headers={"host": "evil.example"})
    assert_error(response, 403, "forbidden")


# -- check -------------------------------------------------------------------------------


def test_check_finds_the_reuse_and_stores_nothing(client: httpx.Client, store: Path) -> None:
    before = store.stat().st_mtime_ns, snapshot_path(store).stat().st_mtime_ns
    body = client.post("/api/check", json={"text": PASTED}).json()
    assert body["stored"] is False and body["input"]["id"] == "-"
    assert body["input"]["title"] == "Russian planes seen at Caracas airport"
    assert [(p["source"], p["target"]) for p in body["pairs"]] == [(A, "-")]
    pair = body["pairs"][0]
    assert len(pair["passages"]) == 2 and pair["credit"] == "uncredited"
    edits = [(e["source_text"], e["target_text"], e["kind"])
             for p in pair["passages"] for e in p["edits"]]  # fmt: skip
    assert edits == [("Russia", "Russian Federation", "alias")]
    for p in pair["passages"]:  # offsets into the pasted text
        assert PASTED[p["target_start"] : p["target_end"]] == p["target_text"]
    work = body["patchwork"]
    assert set(work["sources"]) == {A}
    assert [s["text"] for s in work["sentences"] if s["source"] is None] == [
        "Residents near the airport said they heard heavy aircraft overnight and saw "
        "soldiers on the tarmac at dawn.",
        "Local officials declined to comment on the arrivals when asked by reporters at a "
        "press briefing on Monday.",
    ]
    # nothing stored: the collection is as it was, the pasted text is nowhere
    assert client.get("/api/overview").json()["articles"] == 3
    assert client.get("/api/articles", params={"q": "heavy aircraft overnight"}).json()[
        "total"] == 0
    assert (store.stat().st_mtime_ns, snapshot_path(store).stat().st_mtime_ns) == before


def test_check_with_a_title_and_no_reuse(client: httpx.Client) -> None:
    body = client.post("/api/check", json={
        "title": "Harbour reopens",
        "text": "The harbour of a small town reopened on Tuesday after a storm damaged "
                "its wall; the mayor thanked the workers who repaired it in record time.",
    }).json()  # fmt: skip
    assert body["pairs"] == [] and body["input"]["title"] == "Harbour reopens"
    assert body["input"]["text"].startswith("Harbour reopens\n\n")


def test_check_refuses_empty_and_oversized_input(client: httpx.Client) -> None:
    assert "text" in assert_error(client.post("/api/check", json={"text": "   "}), 400,
                                  "bad_request")  # fmt: skip
    big = "word " * 80_000  # 400 kB, over the server's 300 kB limit
    assert_error(client.post("/api/check", json={"text": big}), 413, "too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
        yield b'{"text": "'
        for _ in range(40):
            yield b"word " * 2000
        yield b'"}'

    response = client.post("/api/check", content=chunks(),
                           headers={"content-type": "application/json"})  # fmt: skip
    assert_error(response, 413, "too_large")


def test_hostile_requests_get_client_errors_not_500(client: httpx.Client) -> None:
    # A lone surrogate is valid JSON but not Unicode text: 400, not a crash in the answer.
    response = client.post(
        "/api/check", content=b'{"text": "Harbour\\n\\nThe quay \\ud800 reopened today."}',
        headers={"content-type": "application/json"},
    )
    assert "surrogate" in assert_error(response, 400, "bad_request")
    # An offset past what the store can count: a bad parameter, on the API and the pages.
    assert "offset" in assert_error(client.get("/api/articles?offset=" + "9" * 20), 400,
                                    "bad_request")  # fmt: skip
    assert client.get("/articles?offset=" + "9" * 20).status_code == 400
    # A form post with more fields than the check form has: refused as a bad form.
    fields = "&".join(f"f{i}=x" for i in range(20))
    response = client.post("/check", content=fields,
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400 and "more fields" in response.text


# -- token -------------------------------------------------------------------------------


def test_token_is_required_off_loopback(store: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wiretrace", "serve", "--db", str(store), "--host", "0.0.0.0"],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "--token" in proc.stderr and "Traceback" not in proc.stderr


def test_every_request_carries_the_token(store: Path) -> None:
    with Server(store, env={"WIRETRACE_TOKEN": "s3cret-token"}) as srv:
        url = srv.url + "/api/overview"
        assert_error(httpx.get(url), 401, "unauthorized")
        assert_error(httpx.get(url, headers={"authorization": "Bearer wrong"}), 401,
                     "unauthorized")  # fmt: skip
        ok = httpx.get(url, headers={"authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200 and ok.json()["articles"] == 3
        page = httpx.get(srv.url + "/?token=s3cret-token")
        assert page.status_code == 303 and page.headers["location"] == "/"
        assert "wiretrace_token=s3cret-token" in page.headers["set-cookie"]
        assert "HttpOnly" in page.headers["set-cookie"]
        with httpx.Client(base_url=srv.url, cookies={"wiretrace_token": "s3cret-token"}) as c:
            assert c.get("/").status_code == 200
        assert httpx.get(srv.url + "/static/style.css").status_code == 401
        # Browsers send every cookie of the host (any port): another app's cookie that
        # breaks the strict cookie grammar must not hide the token.
        foreign = {"cookie": 'prefs={"a": 1, "b": 2}; wiretrace_token=s3cret-token'}
        assert httpx.get(url, headers=foreign).status_code == 200
        # The ?token= redirect stays on this server, whatever the path looks like.
        conn = http.client.HTTPConnection(srv.url.removeprefix("http://"), timeout=30)
        try:
            conn.request("GET", "//evil.example/?token=s3cret-token")
            raw = conn.getresponse()
            assert raw.status == 303 and raw.getheader("location") == "/evil.example/"
        finally:
            conn.close()


# -- serving while another process writes -------------------------------------------------


def _poll(url: str, stop: threading.Event, seen: list[tuple[int, int, int]]) -> None:
    with httpx.Client(timeout=30.0) as c:
        while not stop.is_set():
            r = c.get(url)
            body = r.json()
            seen.append((r.status_code, body.get("articles", -1), body.get("pairs", -1)))
            time.sleep(0.05)


def _wait_for(url: str, test: object, timeout: float = 60.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, object] = httpx.get(url, timeout=30.0).json()
        if test(body):  # type: ignore[operator]
            return body
        time.sleep(0.2)
    raise AssertionError(f"{url}: condition not met in {timeout} s (last: {body})")


def _wiretrace(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wiretrace", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=240, check=False)  # fmt: skip


def test_serve_keeps_answering_while_ingest_and_run_write(tmp_path: Path) -> None:
    db = build_store(tmp_path)
    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo)
    with Server(db) as srv:
        url = srv.url + "/api/overview"
        stop, seen = threading.Event(), []
        poller = threading.Thread(target=_poll, args=(url, stop, seen))
        poller.start()
        try:
            ingest = _wiretrace("ingest", str(demo), "--db", str(db), cwd=tmp_path)
            assert ingest.returncode == 0, ingest.stderr
            _wait_for(url, lambda o: o["articles"] == 7)
            run = _wiretrace("run", str(demo), "--db", str(db), cwd=tmp_path)
            assert run.returncode == 0, run.stderr
            after = _wait_for(url, lambda o: o["pairs"] > 1)
        finally:
            stop.set()
            poller.join()
    assert seen and all(status == 200 for status, _, _ in seen)
    counts = [articles for _, articles, _ in seen]
    assert counts == sorted(counts)  # never back to an older snapshot
    assert after["articles"] == 7
    # the server stopped cleanly and took its snapshot with it (writers stop paying)
    assert not snapshot_path(db).exists()


_HOLDER = """
import sys
from pathlib import Path
from wiretrace.collection import open_collection
with open_collection(sys.argv[1]) as coll:
    print("ready", flush=True)
    sys.stdin.readline()
    coll.ingest([sys.argv[2]])
    print("written", flush=True)
    sys.stdin.readline()
"""


def test_server_started_under_a_writer_waits_for_its_snapshot(tmp_path: Path) -> None:
    db = build_store(tmp_path)
    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo)
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(db), str(demo)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with Server(db) as srv:
            url = srv.url + "/api/overview"
            message = assert_error(httpx.get(url), 503, "unavailable")
            assert "another process" in message
            assert holder.stdin is not None
            holder.stdin.write("go\n")
            holder.stdin.flush()
            assert holder.stdout.readline().strip() == "written"
            # the writer still holds the store; its commit published a snapshot
            assert _wait_for(url, lambda o: "articles" in o)["articles"] == 7
    finally:
        holder.communicate("\n", timeout=60)
    assert holder.returncode == 0


def test_story_timeline_orders_times_with_offsets_by_instant() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from wiretrace.web.views import _timeline

    paris = timezone(timedelta(hours=2))
    # 10:00 in Paris is 08:00 UTC: before the 09:00 UTC report, though its clock reads later.
    info = {
        "paris": {"published": datetime(2019, 3, 24, 10, 0, tzinfo=paris)},
        "london": {"published": datetime(2019, 3, 24, 9, 0, tzinfo=UTC)},
    }
    line = _timeline(["london", "paris"], info)
    assert [p["id"] for p in line["points"]] == ["paris", "london"]
    assert line["points"][0]["x"] < line["points"][1]["x"]


def test_a_terminated_server_takes_its_snapshot_with_it(tmp_path: Path) -> None:
    """SIGTERM (what a service manager sends): the server shuts down and deletes the
    snapshot it read (a store's size on disk), though uvicorn ends the process by
    re-raising the signal."""
    import signal

    db = build_store(tmp_path)
    srv = Server(db).start()
    assert srv.proc is not None
    assert snapshot_path(db).exists()
    srv.proc.send_signal(signal.SIGTERM)
    srv.proc.wait(timeout=30)
    assert not snapshot_path(db).exists()

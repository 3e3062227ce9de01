"""The DuckDB store and the ingest driver: round trips, versions, removal, migrations,
locking, discovery of inputs, and the driver's handling of bad inputs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from wiretrace.errors import NotFound, StoreError
from wiretrace.ingest import discover, ingest, kind_of
from wiretrace.ingest.base import SourceInput
from wiretrace.ingest.textfile import read_text
from wiretrace.models import Article, Edit, IngestIssue, Passage, ReusePair, Span
from wiretrace.settings import IngestSettings
from wiretrace.store import MIGRATIONS, SCHEMA_VERSION, Store

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "examples" / "seeds"
BBC = SHARED / "data" / "bbc-news"
A = "000_a7cae44381716f60"
B = "003_aa80bf1ba9256955"


def _seed(name: str) -> Article:
    path = SEEDS / f"{name}.txt"
    (article,) = read_text(SourceInput(name, "text", str(path), path), IngestSettings())
    assert isinstance(article, Article)
    return article


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store.open(tmp_path / "w.duckdb") as s:
        yield s


def _seed_pair() -> ReusePair:
    a, b = _seed(A), _seed(B)
    # DESIGN.md section 1: P1 000[577:808] = 003[1073:1304]; P2 with two alias edits.
    p1 = Passage(
        577,
        808,
        1073,
        1304,
        a.text[577:808],
        b.text[1073:1304],
        1.0,
        source_words=34,
        target_words=34,
    )
    i = a.text.index("U.S.", 2223)
    j = b.text.index("USA", 1486)
    edit = Edit("replace", i, i + 4, j, j + 3, "U.S.", "USA", "alias")
    p2 = Passage(
        2223,
        2335,
        1486,
        1609,
        a.text[2223:2335],
        b.text[1486:1609],
        0.9,
        edits=(edit,),
        source_words=17,
        target_words=18,
    )
    return ReusePair(
        A,
        B,
        (p1, p2),
        source_coverage=0.21,
        target_coverage=0.3,
        origin_confidence=0.9,
        evidence=("Reuters dateline",),
        credit="uncredited",
        credited_to=(),
    )


def test_articles_round_trip(store: Store) -> None:
    a, b = _seed(A), _seed(B)
    result = store.put_articles([a, b])
    assert result.added == [A, B] and result.unchanged == 0
    assert store.get_article(A) == a
    assert store.get_article(B) == b
    assert [x.id for x in store.iter_articles()] == [A, B]
    # Offsets survive: the excluded spans point at the same text.
    got = store.get_article(A)
    assert [got.text[s.start : s.end] for s in got.excluded] == [
        a.text[s.start : s.end] for s in a.excluded
    ]
    words = store.query("SELECT words FROM articles WHERE id = ?", [A]).column(0).to_pylist()
    assert words[0] > 400


def test_published_time_zones_round_trip(store: Store) -> None:
    base = _seed(B)
    naive = base.with_(id="naive", published=datetime(2019, 3, 24, 20, 22))
    aware = base.with_(
        id="aware", published=datetime(2019, 3, 24, 20, 22, tzinfo=timezone(timedelta(hours=-4)))
    )
    store.put_articles([naive, aware])
    assert store.get_article("naive").published == datetime(2019, 3, 24, 20, 22)
    got = store.get_article("aware").published
    assert got is not None and got.utcoffset() == timedelta(hours=-4)
    assert got == aware.published


def test_same_content_is_a_no_op_and_changes_make_versions(store: Store) -> None:
    a, b = _seed(A), _seed(B)
    store.put_articles([a, b])
    store.replace_pairs([_seed_pair()])
    again = store.put_articles([a, b])
    assert again.added == [] and again.updated == [] and again.unchanged == 2
    assert store.count_pairs() == 1, "an unchanged re-ingest keeps derived pairs"
    changed = a.with_(text=a.text.replace("nearly 100 troops", "about 100 troops"))
    result = store.put_articles([changed, b])
    assert result.updated == [(A, 2)] and result.unchanged == 1
    assert store.get_article(A).text == changed.text
    versions = store.versions(A)
    assert [v for v, _, _ in versions] == [1, 2]
    assert versions[0][1] == a.content_hash and versions[1][1] == changed.content_hash
    # Pairs describe the old text: they are gone until detection runs again.
    assert store.count_pairs() == 0
    assert store.query("SELECT count(*) FROM passages").column(0)[0].as_py() == 0
    assert store.count_articles() == 2
    # Removing the article removes its history too.
    store.remove_article(A)
    with pytest.raises(NotFound):
        store.versions(A)


def test_same_text_read_differently_is_refreshed_in_place(store: Store) -> None:
    a, b = _seed(A), _seed(B)
    store.put_articles([a, b])
    store.replace_pairs([_seed_pair()])
    # A newer reader finds one more boilerplate span in the same text.
    extra = (*a.excluded, Span(0, 5, "boilerplate"))
    reread = a.with_(excluded=tuple(sorted(extra, key=lambda s: s.start)))
    result = store.put_articles([reread, b])
    assert result.refreshed == [A] and result.updated == [] and result.unchanged == 1
    assert store.get_article(A).excluded == reread.excluded
    assert [v for v, _, _ in store.versions(A)] == [1]
    assert store.count_pairs() == 0, "pairs computed from the old spans are dropped"


def test_repeated_id_in_one_batch_keeps_the_last(store: Store) -> None:
    a = _seed(A)
    later = a.with_(title="Another title")
    result = store.put_articles([a, later])
    assert result.added == [A]
    assert store.get_article(A).title == "Another title"
    assert store.count_articles() == 1


def test_pairs_round_trip_and_remove(store: Store) -> None:
    store.put_articles([_seed(A), _seed(B)])
    pair = _seed_pair()
    assert store.replace_pairs([pair]) == 1
    (got,) = list(store.iter_pairs())
    assert got == pair
    assert got.passages[1].edits[0].source_text == "U.S."
    # SQL users see plain tables.
    rows = store.query(
        "SELECT passage, source_start, target_end FROM passages ORDER BY passage"
    ).to_pylist()
    assert rows == [
        {"passage": 0, "source_start": 577, "target_end": 1304},
        {"passage": 1, "source_start": 2223, "target_end": 1609},
    ]
    store.remove_article(B)
    assert not store.has_article(B)
    assert list(store.iter_pairs()) == []
    for table in ("passages", "edits"):
        assert store.query(f"SELECT count(*) FROM {table}").column(0)[0].as_py() == 0
    assert store.has_article(A)
    with pytest.raises(NotFound):
        store.remove_article(B)
    with pytest.raises(NotFound):
        store.get_article(B)


def test_replace_pairs_refuses_duplicates_and_keeps_the_old(store: Store) -> None:
    store.put_articles([_seed(A), _seed(B)])
    pair = _seed_pair()
    store.replace_pairs([pair])
    with pytest.raises(StoreError, match="given twice"):
        store.replace_pairs([pair, pair])
    assert list(store.iter_pairs()) == [pair]


def test_migrates_an_older_file_forward(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    MIGRATIONS[0](con)  # a file as the first schema version left it
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.close()
    with Store.open(db) as store:
        assert store.schema_version == SCHEMA_VERSION
        store.put_articles([_seed(A)])
        log = store.query("SELECT articles, added FROM ingest_log").to_pylist()
        assert log == [{"articles": 1, "added": 1}]


def test_old_file_read_only_asks_for_a_migration(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    MIGRATIONS[0](con)
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.close()
    with pytest.raises(StoreError, match="needs migrating"):
        Store.open(db, read_only=True)


def test_newer_file_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "new.duckdb"
    Store.open(db).close()
    con = duckdb.connect(str(db))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    con.close()
    with pytest.raises(StoreError, match="newer than this wiretrace"):
        Store.open(db)


def test_not_a_store(tmp_path: Path) -> None:
    text = tmp_path / "notes.duckdb"
    text.write_text("These are notes, not a database.\n" * 100)
    with pytest.raises(StoreError, match="cannot open store"):
        Store.open(text)
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="not a wiretrace store"):
        Store.open(other)
    with pytest.raises(StoreError, match="no store here"):
        Store.open(tmp_path / "missing.duckdb", read_only=True)


def test_read_only_store_refuses_writes(tmp_path: Path) -> None:
    db = tmp_path / "ro.duckdb"
    with Store.open(db) as store:
        store.put_articles([_seed(A)])
    with Store.open(db, read_only=True) as store:
        assert store.get_article(A).id == A
        with pytest.raises(StoreError, match="read-only"):
            store.put_articles([_seed(B)])


def test_second_writer_gets_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from wiretrace.store import Store; "
            f"s = Store.open({str(db)!r}); print('ready', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreError, match="being written by another process"):
            Store.open(db)
    finally:
        holder.communicate("", timeout=30)


# -- discovery ---------------------------------------------------------------------------


def test_discover_ids_kinds_and_order(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for rel, content in {
        "business/001.txt": "Title\n\nBody text here.\n",
        "sport/001.txt": "Title\n\nOther body text.\n",
        "sport/notes.md": "# Notes\n\nSome notes.\n",
        "pages/page": "<!DOCTYPE html><html><body><p>x</p></body></html>",
        "feeds/news.xml": "<?xml version='1.0'?><rss version='2.0'><channel></channel></rss>",
        "crawl/c.warc.gz": "",
        "tables/rows.jsonl": '{"id": "r1", "text": "x"}\n',
        "tables/rows2": '{"id": "r2", "text": "y"}\n',
        "plain/readme": "Just words in a file.\n",
        ".hidden/secret.txt": "hidden\n",
        "business/.draft.txt": "hidden\n",
        "wiretrace.duckdb": "",
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    found = list(discover([root, tmp_path / "nowhere", str(root / "sport" / "001.txt")]))
    inputs = [f for f in found if isinstance(f, SourceInput)]
    issues = [f for f in found if isinstance(f, IngestIssue)]
    assert [(s.id, s.kind) for s in inputs] == [
        ("business/001", "text"),
        ("crawl/c", "warc"),
        ("feeds/news", "feed"),
        ("pages/page", "html"),
        ("plain/readme", "text"),
        ("sport/001", "text"),
        ("sport/notes", "markdown"),
        ("tables/rows", "jsonl"),
        ("tables/rows2", "jsonl"),
    ]
    # The missing path is reported; the file given again is read once.
    assert issues == [IngestIssue(str(tmp_path / "nowhere"), "no such file or directory")]


def test_discover_file_given_directly_and_urls(tmp_path: Path) -> None:
    path = tmp_path / "story.warc.gz"
    path.write_bytes(b"")
    url = "https://example.org/news/1"
    found = list(discover([path, url, SEEDS / f"{A}.txt"]))
    assert [(s.id, s.kind) for s in found if isinstance(s, SourceInput)] == [
        ("story", "warc"),
        (url, "html"),
        (A, "text"),
    ]
    assert kind_of(SEEDS / f"{A}.txt") == "text"


def test_discover_same_id_twice_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Title\n\nBody.\n")
    (tmp_path / "a.md").write_text("# Title\n\nBody.\n")
    found = list(discover([tmp_path]))
    issues = [f for f in found if isinstance(f, IngestIssue)]
    assert len(issues) == 1 and "id 'a' is already used" in issues[0].reason
    assert issues[0].severity == "error"


# -- the driver --------------------------------------------------------------------------


def test_ingest_driver_goes_on_past_bad_inputs(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in (A, B):
        shutil.copyfile(SEEDS / f"{name}.txt", folder / f"{name}.txt")
    (folder / "empty.txt").write_text("Just a title\n\n\n")
    (folder / "image.txt").write_bytes(bytes(range(256)) * 20)
    (folder / "latin1.txt").write_bytes(
        "Caf\xe9 owners protest\n\nThe caf\xe9 owners of the town protested on Monday "
        "against the new tax, said the mayor.\n".encode("cp1252")
    )
    summary = ingest([folder, tmp_path / "missing.txt"], store)
    assert summary.files == 5
    assert summary.articles_added == 3 and summary.skipped == 1
    errors = {(Path(e.input).name, e.reason.split(":")[0]) for e in summary.errors}
    assert ("missing.txt", "no such file or directory") in errors
    assert any(name == "image.txt" for name, _ in errors)
    assert len(summary.errors) == 2
    warnings = {(Path(w.input).name, w.reason) for w in summary.warnings}
    assert ("empty.txt", "empty article skipped") in warnings
    assert any(name == "latin1.txt" and "encoding" in reason for name, reason in warnings)
    assert store.article_ids() == [A, B, "latin1"]
    # The same command again changes nothing; a changed file becomes version 2.
    again = ingest([folder], store)
    assert again.articles_added == 0 and again.unchanged == 3
    text = (folder / f"{A}.txt").read_text()
    (folder / f"{A}.txt").write_text(text.replace("nearly 100 troops", "almost 100 troops"))
    third = ingest([folder], store)
    assert third.versions == [(A, 2)] and third.unchanged == 2


def test_ingest_bbc_folders_keep_section_ids(tmp_path: Path, store: Store) -> None:
    summary = ingest([BBC], store)
    assert not summary.errors
    ids = set(store.article_ids())
    assert {"business/001", "sport/001", "tech/001", "entertainment/001"} <= ids
    assert summary.articles == len(ids) == summary.files - summary.skipped


def test_ingest_a_url_served_locally(tmp_path: Path, store: Store) -> None:
    import http.server
    import threading
    from functools import partial

    page = (
        "<!DOCTYPE html><html><head><title>Harbour cranes return to work</title></head>"
        "<body><article><h1>Harbour cranes return to work</h1>"
        "<p>The harbour cranes returned to work on Tuesday after a two-week repair that "
        "kept dozens of ships waiting in the bay, the port authority said.</p>"
        "<p>Dock workers said the delays had cost the town more than a month of trade, "
        "and the mayor promised an inquiry into the failed maintenance contract.</p>"
        "</article></body></html>"
    )
    (tmp_path / "cranes.html").write_text(page)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(Quiet, directory=str(tmp_path))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/cranes.html"
        summary = ingest([url, f"http://127.0.0.1:{server.server_address[1]}/gone.html"], store)
    finally:
        server.shutdown()
        server.server_close()
    assert summary.articles_added == 1
    assert store.article_ids() == [url]
    assert "harbour cranes returned" in store.get_article(url).text
    assert len(summary.errors) == 1 and "gone.html" in summary.errors[0].input


@pytest.mark.parametrize("content", [b"", bytes(4096), b"\x01" * 8 + b"DUCK" + bytes(500)])
def test_a_file_left_by_a_killed_creation_is_created_again(tmp_path: Path, content: bytes) -> None:
    """A process killed while DuckDB creates the store leaves a file shorter than
    DuckDB's headers, which DuckDB refuses to open; opening for writing starts over (it
    holds nothing). A short file of something else is never touched."""
    db = tmp_path / "w.duckdb"
    db.write_bytes(content)
    with Store.open(db) as store:
        assert store.schema_version == SCHEMA_VERSION
    other = tmp_path / "notes.duckdb"
    other.write_bytes(b"my notes, not a database")
    with pytest.raises(StoreError, match="cannot open store"):
        Store.open(other)
    assert other.read_bytes() == b"my notes, not a database"


def test_bulk_writes_fold_the_log_in_once_and_restore_the_threshold(tmp_path: Path) -> None:
    """Within ``bulk_writes`` (an ingest) 40 MB of committed articles stay in the
    write-ahead log (DuckDB would otherwise checkpoint past 16 MB, compressing the growing
    row group again each time); after it the threshold is DuckDB's again, and every
    committed article is in the file when it is opened anew."""
    texts = [p.read_text(errors="replace") for p in sorted(BBC.glob("*/*.txt"))]
    db = tmp_path / "w.duckdb"
    wal = tmp_path / "w.duckdb.wal"
    setting = "SELECT current_setting('checkpoint_threshold')"
    with Store.open(db) as store:
        default = store._scalar(setting)
        with store.bulk_writes():
            assert store._scalar(setting) != default
            n = 0
            while wal.exists() is False or wal.stat().st_size < 40_000_000:
                batch = [Article(id=f"a{n + i}", text=f"{texts[(n + i) % len(texts)]}\n{n + i}")
                         for i in range(2_000)]
                store.put_articles(batch)
                n += len(batch)
                assert n < 60_000, "the log never grew: checkpointed on the way"
        assert store._scalar(setting) == default
    with Store.open(db) as store:
        assert store._scalar("SELECT count(*) FROM articles") == n


def test_article_rows_equal_pyarrows_own_conversion() -> None:
    """The rows built from buffers (by the ingest workers, without pyarrow) hold what
    pyarrow's conversion of the same values holds: nulls, naive times before 1970,
    aware times at a half-hour offset, non-ASCII text, empty and filled lists, spans."""
    from wiretrace.store import ARTICLE_ROW_SCHEMA, article_rows

    articles = [
        Article(id="a", text="Plain text.", excluded=(Span(0, 5, "title"),)),
        Article(
            id="b/ü", text="Ünïcödé — text “quoted”.", title="Tïtle", outlet="Le Monde",
            url="https://example.org/x", published=datetime(1969, 7, 20, 20, 17),
            byline="Ana Ñúñez", credits=("Reuters", "AFP"), dateline="CARACAS",
            section="World", language="es", links=("https://t.co/x",),
            excluded=(Span(0, 3, "title"), Span(4, 9, "caption")), warnings=("guessed",),
        ),
        Article(
            id="c", text="x" * 3, published=datetime(
                2024, 3, 5, 9, 30, tzinfo=timezone(timedelta(hours=-4, minutes=-30))
            ), credits=(), links=(),
        ),
    ]
    words, hashes, records = [2, 3, 1], ["h1", "h2", "h3"], ["r1", "r2", "r3"]
    built = article_rows(articles, words, hashes, records)
    built.validate(full=True)
    offsets = [None, None, -270]
    walls = [None, datetime(1969, 7, 20, 20, 17), datetime(2024, 3, 5, 9, 30)]
    expected = {
        "id": [a.id for a in articles], "content_hash": hashes,
        "kind": [a.kind for a in articles], "source": [a.source for a in articles],
        "url": [a.url for a in articles], "title": [a.title for a in articles],
        "outlet": [a.outlet for a in articles], "published": walls,
        "published_utc_offset": offsets, "byline": [a.byline for a in articles],
        "credits": [list(a.credits) for a in articles],
        "dateline": [a.dateline for a in articles], "section": [a.section for a in articles],
        "language": [a.language for a in articles], "links": [list(a.links) for a in articles],
        "excluded": [[{"start": s.start, "end": s.end, "kind": s.kind} for s in a.excluded]
                     for a in articles],
        "warnings": [list(a.warnings) for a in articles], "words": words,
        "text": [a.text for a in articles], "record_hash": records,
    }
    assert built.equals(pa.table(expected, schema=ARTICLE_ROW_SCHEMA))

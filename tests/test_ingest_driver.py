"""The ingest driver end to end: every kind of bad input in one run, table rows spread
over worker processes, files skipped when unchanged, and the progress bar."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from wiretrace.cli import main
from wiretrace.errors import StoreError
from wiretrace.ingest import IngestSummary, ingest
from wiretrace.settings import load_settings
from wiretrace.store import Store

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "examples" / "seeds"
BBC = SHARED / "data" / "bbc-news"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
A = "000_a7cae44381716f60"
B = "003_aa80bf1ba9256955"


def _bbc(n: int, folder: str = "business") -> list[tuple[str, str, str]]:
    """(id, title, body) of ``n`` real BBC articles."""
    out = []
    for path in sorted((BBC / folder).glob("*.txt"))[:n]:
        lines = path.read_bytes().decode("utf-8", "replace").split("\n")
        out.append((f"{folder}/{path.stem}", lines[0].strip(), "\n".join(lines[2:]).strip()))
    return out


def _warc_response(uri: str, html: bytes, n: int) -> bytes:
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
    http += f"Content-Length: {len(html)}\r\n\r\n".encode() + html
    header = (
        f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: {uri}\r\n"
        f"WARC-Date: 2025-06-01T12:00:0{n}Z\r\n"
        f"WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-{n:012d}>\r\n"
        f"Content-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(http)}\r\n\r\n"
    )
    return header.encode() + http + b"\r\n\r\n"


def _bbc_page(title: str, body: str) -> bytes:
    paras = "".join(f"<p>{p}</p>" for p in body.split("\n") if p.strip())
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title></head><body>"
        f"<article><h1>{title}</h1>{paras}</article></body></html>"
    ).encode()


def cli(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# -- every bad input in one run ----------------------------------------------------------


def test_every_bad_input_gets_one_line_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in (A, B):
        shutil.copyfile(SEEDS / f"{name}.txt", inbox / f"{name}.txt")
    # Unreadable: binary data under a text name, and a file without read permission.
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
    (inbox / "photo.txt").write_bytes(png)
    locked = inbox / "locked.txt"
    locked.write_text("Locked away\n\nNobody may read this article at all.\n")
    locked.chmod(0)
    # Invalid UTF-8: decoded with detection, said so (a warning).
    (inbox / "legacy.txt").write_bytes(
        "Caf\u00e9 owners protest\r\n\r\n\u201cWe\u2019re open,\u201d the caf\u00e9 owners "
        "said on Monday, protesting against the new tax.\r\n".encode("cp1252")
    )
    # An empty article (a warning).
    (inbox / "empty.txt").write_text("Just a headline\n\n\n")
    # A 50 MB article: refused before it is read, past ingest.max_article_bytes.
    with (inbox / "huge.txt").open("w") as fh:
        fh.write("An enormous article\n\n")
        line = "The council met again on Tuesday to discuss the harbour budget. " * 16 + "\n"
        for _ in range(50_000_000 // len(line) + 1):
            fh.write(line)
    # A JSON Lines table with a malformed line and a line that is not an object.
    rows = _bbc(2)
    (inbox / "rows.jsonl").write_text(
        "\n".join(
            [
                json.dumps({"id": rows[0][0], "title": rows[0][1], "text": rows[0][2]}),
                '{"id": "broken", "text": "no closing brace"',
                json.dumps(["not", "an", "object"]),
                json.dumps({"id": rows[1][0], "title": rows[1][1], "text": rows[1][2]}),
            ]
        )
        + "\n"
    )
    # A WARC cut inside its second record: the first page is kept.
    first = _warc_response("https://news.example/cranes", _bbc_page(*_bbc(3)[2][1:]), 1)
    second = _warc_response(
        "https://news.example/agency", (FIXTURES / "html" / "agency_story.html").read_bytes(), 2
    )
    (inbox / "crawl.warc").write_bytes(first + second[: len(second) // 2])
    # Hostile HTML (scripts, iframes, handlers): its article text only.
    shutil.copyfile(FIXTURES / "html" / "hostile.html", inbox / "hostile.html")

    try:
        result = cli("ingest", str(inbox), str(tmp_path / "missing-folder"), "--json")
    finally:
        locked.chmod(0o644)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    stderr = result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    summary = json.loads(result.stdout)  # type: ignore[attr-defined]

    def one_line(severity: str, name: str, reason: str) -> None:
        hits = [ln for ln in lines if ln.startswith(f"{severity}: ") and name in ln]
        assert len(hits) == 1, (name, lines)
        assert reason in hits[0], (reason, hits[0])

    one_line("error", "missing-folder", "no such file or directory")
    one_line("error", "photo.txt", "binary")
    if os.geteuid() != 0:  # root reads any file
        one_line("error", "locked.txt", "cannot read")
    one_line("warning", "legacy.txt", "encoding guessed as cp1252")
    one_line("warning", "empty.txt", "empty article skipped")
    one_line("error", "huge.txt", "over ingest.max_article_bytes (20000000)")
    one_line("error", "rows.jsonl:line 2", "malformed JSON")
    one_line("error", "rows.jsonl:line 3", "not an object")
    one_line("error", "crawl.warc", "damaged WARC")
    # The summary counts them; the good inputs went on and were stored.
    errors = 6 + (os.geteuid() != 0)
    assert len(summary["errors"]) == errors and len(summary["warnings"]) == 2
    assert summary["skipped"] == 1
    stored = {r["id"]: r for r in map(json.loads, cli("articles", "--json").stdout.splitlines())}  # type: ignore[attr-defined]
    expected = {A, B, "legacy", rows[0][0], rows[1][0], "https://news.example/cranes", "hostile"}
    if os.geteuid() == 0:
        expected.add("locked")
    assert set(stored) == expected
    assert summary["articles"] == len(expected)
    hostile = Store.open(tmp_path / "wiretrace.duckdb", read_only=True)
    try:
        text = hostile.get_article("hostile").text.lower()
    finally:
        hostile.close()
    assert "2.3 million pounds" in text
    assert all(bad not in text for bad in ("alert", "<script", "iframe", "onerror", "javascript"))


# -- tables over worker processes ---------------------------------------------------------


def _summary_view(summary: IngestSummary) -> tuple[object, ...]:
    return (
        summary.articles_added,
        summary.skipped,
        [(i.input, i.reason, i.severity) for i in summary.errors],
        [(i.input, i.reason, i.severity) for i in summary.warnings],
    )


def test_one_large_table_is_parsed_over_workers_in_order(tmp_path: Path) -> None:
    """A 2.5 MB JSON Lines file is split into row batches parsed by two worker
    processes; ids, stored order, issues and counts equal a one-process read."""
    rows = _bbc(400) + _bbc(400, "sport") + _bbc(300, "tech")
    lines: list[str] = []
    for n, (id, title, body) in enumerate(rows):
        lines.append(json.dumps({"id": id, "title": title, "text": body}))
        if n % 250 == 7:
            lines.append('{"id": "bad", "text": ')  # malformed, mid-file
        if n % 333 == 5:
            lines.append(json.dumps({"id": f"blank{n}", "text": "   "}))  # empty: warning
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size > 2_000_000  # over the pooling threshold
    views = []
    ids = []
    for workers in (2, 1):
        with Store.open(tmp_path / f"w{workers}.duckdb") as store:
            summary = ingest([path], store, load_settings({"ingest.workers": workers}))
            views.append(_summary_view(summary))
            ids.append(store.article_ids())
    assert views[0] == views[1]
    assert ids[0] == ids[1]
    added, _skipped, errors, warnings = views[0]
    unique = {id for id, _, _ in rows}
    assert added == len(unique)
    assert len(errors) == 5 and all("malformed JSON" in e[1] for e in errors)  # type: ignore[union-attr]
    line_numbers = [int(e[0].rsplit(" ", 1)[1]) for e in errors]  # type: ignore[union-attr]
    assert line_numbers == sorted(line_numbers)
    assert len(warnings) >= 4  # type: ignore[arg-type]


# -- unchanged files are not read again --------------------------------------------------


def test_unchanged_files_are_skipped_and_changes_still_make_versions(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in (A, B):
        shutil.copyfile(SEEDS / f"{name}.txt", inbox / f"{name}.txt")
    (inbox / "empty.txt").write_text("Just a headline\n")
    (inbox / "photo.txt").write_bytes(bytes(range(256)) * 8)
    rows = _bbc(3)
    (inbox / "rows.jsonl").write_text(
        "\n".join(json.dumps({"id": i, "title": t, "text": b}) for i, t, b in rows) + "\n"
    )
    db = tmp_path / "w.duckdb"
    with Store.open(db) as store:
        first = ingest([inbox], store)
        assert first.articles_added == 5 and first.files_unchanged == 0
        assert len(first.errors) == 1 and len(first.warnings) == 1

        # The same input again: nothing read but the file with an error; the summary
        # still counts every article and repeats the warning and the error.
        again = ingest([inbox], store)
        assert again.files_unchanged == 4 and again.articles_added == 0
        assert again.unchanged == 5 and again.skipped == 1
        assert _summary_view(again)[2:] == _summary_view(first)[2:]

        # Touched, same bytes: still skipped (its digest is compared).
        future = time.time() + 10
        os.utime(inbox / f"{A}.txt", (future, future))
        touched = ingest([inbox], store)
        assert touched.files_unchanged == 4 and touched.unchanged == 5

        # Changed to the same size within the same clock tick: read, and a version.
        path = inbox / f"{B}.txt"
        text = path.read_text()
        path.write_text(text.replace("Latest News", "Latest Newz"))
        changed = ingest([inbox], store)
        assert changed.versions == [(B, 2)] and changed.files_unchanged == 3

        # An article removed from the store comes back from its unchanged file.
        store.remove_article(A)
        back = ingest([inbox], store)
        assert back.articles_added == 1 and back.files_unchanged == 3
        assert A in store.article_ids()

        # Another id stored a new version meanwhile: the file is read again and its
        # own content comes back as the next version (the content-hash rule decides).
        from wiretrace.ingest.textfile import parse_text
        from wiretrace.settings import IngestSettings

        other = parse_text("Other text\n\nSomething else entirely, said the mayor.\n", A,
                           "elsewhere", "text", IngestSettings())
        store.put_articles([other])
        restored = ingest([inbox], store)
        assert restored.versions == [(A, 3)]

        # Settings that change what is read make every file be read again.
        tz = ingest([inbox], store, load_settings({"ingest.default_timezone": "UTC"}))
        assert tz.files_unchanged == 0
        # The same files given from their parent folder have other ids: other inputs
        # (the table's rows keep the ids of their id column).
        parent = ingest([tmp_path], store)
        assert parent.files_unchanged == 0
        assert parent.articles_added == 2 and parent.unchanged == 3
        assert f"inbox/{A}" in store.article_ids()


def test_rerun_from_the_command_line_reports_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SEEDS, tmp_path / "seeds", ignore=shutil.ignore_patterns("*.md"))
    (tmp_path / "seeds" / "empty.txt").write_text("A headline alone\n")
    first = cli("ingest", "seeds", "--json")
    # The same folder named another way: skipped all the same, and the repeated
    # warning names the file as given this time.
    again = cli("ingest", str(tmp_path / "seeds"), "--json")
    assert first.exit_code == again.exit_code == 0  # type: ignore[attr-defined]
    payload = json.loads(again.stdout)  # type: ignore[attr-defined]
    assert payload["files_unchanged"] == 3 and payload["unchanged"] == 2
    assert payload["added"] == 0 and payload["skipped"] == 1
    assert payload["warnings"] == [
        {"input": str(tmp_path / "seeds" / "empty.txt"), "reason": "empty article skipped"}
    ]
    human = cli("ingest", "seeds")
    assert "3 unchanged, not read again" in human.stdout  # type: ignore[attr-defined]


# -- progress ----------------------------------------------------------------------------


def _run_in_terminal(args: list[str], cwd: Path) -> str:
    """Run ``wiretrace ARGS`` with standard error on a pseudo-terminal; its output."""
    import pty
    import select

    main_fd, worker_fd = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "wiretrace", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=worker_fd,
        env={**os.environ, "COLUMNS": "120", "TERM": "xterm"},
    )
    os.close(worker_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main_fd], [], [], 0.5)
        if ready:
            try:
                data = os.read(main_fd, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=60)
    os.close(main_fd)
    return b"".join(chunks).decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_quiet_when_piped(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    for sub in ("business", "tech"):
        shutil.copytree(BBC / sub, inbox / sub)
    drawn = _run_in_terminal(["ingest", str(inbox), "--db", "t.duckdb"], tmp_path)
    assert "ingest" in drawn and "articles" in drawn
    assert "911/911" in drawn  # files done of files
    assert "MB" in drawn or "kB" in drawn  # bytes read
    piped = subprocess.run(
        [sys.executable, "-m", "wiretrace", "ingest", str(inbox), "--db", "p.duckdb"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""  # no bar, no control characters, when piped
    assert "911 articles ingested" in piped.stdout or "articles ingested" in piped.stdout


def test_a_table_and_an_article_file_with_one_stem_are_both_read(tmp_path: Path) -> None:
    # news.txt is the article "news"; news.jsonl holds records with ids of their own
    # (or "news#n"): nothing clashes, so neither file may be refused.
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copyfile(SEEDS / f"{A}.txt", inbox / "news.txt")
    rows = _bbc(2)
    (inbox / "news.jsonl").write_text(
        json.dumps({"id": rows[0][0], "title": rows[0][1], "text": rows[0][2]}) + "\n"
        + json.dumps({"title": rows[1][1], "text": rows[1][2]}) + "\n"
    )
    with Store.open(tmp_path / "news.duckdb") as store:
        summary = ingest([inbox], store)
        ids = sorted(r["id"] for r in store.query("SELECT id FROM articles").to_pylist())
    assert ids == sorted(["news", rows[0][0], "news#2"])
    assert not summary.errors


def test_pool_is_started_ahead_only_for_files_not_ingested_before(tmp_path: Path) -> None:
    """The worker pool starts during discovery for a folder the store has not seen (its
    start then overlaps the walk), not for one ingested before (most likely unchanged,
    skipped without reading: a pool started for it would be thrown away)."""
    from wiretrace.ingest import _ingested_before, discover
    from wiretrace.ingest.base import SourceInput

    folder = tmp_path / "bbc"
    shutil.copytree(BBC / "tech", folder)
    (tmp_path / "later").mkdir()
    shutil.copyfile(BBC / "sport" / "001.txt", tmp_path / "later" / "new.txt")
    store = Store.open(tmp_path / "w.duckdb")
    try:
        first = next(s for s in discover([folder]) if isinstance(s, SourceInput))
        assert not _ingested_before(store, first)
        summary = ingest([folder], store)
        assert summary.articles_added > 64
        assert _ingested_before(store, first)
        [new] = list(discover([tmp_path / "later"]))
        assert isinstance(new, SourceInput)
        assert not _ingested_before(store, new)
        again = ingest([folder], store)
        assert again.articles_added == 0 and again.unchanged == summary.articles_added
    finally:
        store.close()


class _FailingStore(Store):
    """A real store whose third batch write fails, as a full disk would make it fail
    (whichever way the batch comes: articles, or rows made by worker processes)."""

    writes = 0

    def _count_write(self) -> None:
        type(self).writes += 1
        if type(self).writes == 3:
            raise StoreError(f"{self.path}: write failed: No space left on device")

    def put_articles(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        self._count_write()
        return super().put_articles(*args, **kwargs)  # type: ignore[arg-type]

    def put_article_rows(self, *args: object) -> object:  # type: ignore[override]
        self._count_write()
        return super().put_article_rows(*args)  # type: ignore[arg-type]


def test_a_failed_batch_write_ends_the_ingest_and_keeps_the_batches_before(
    tmp_path: Path,
) -> None:
    """Batches are stored by a writer thread while the next one is read: the error of a
    failed write still ends the ingest (raised, not lost in the thread), the batches
    committed before it stay with their file states, and the same ingest run again
    completes the job without duplicates."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = _bbc(40)
    for id_, title, body in rows:
        (inbox / f"{id_.split('/')[1]}.txt").write_text(f"{title}\n\n{body}\n")
    db = tmp_path / "w.duckdb"
    _FailingStore.writes = 0
    with _FailingStore.open(db) as store, pytest.raises(StoreError, match="No space left"):
        ingest([inbox], store, batch_size=10)
    first = sorted(inbox.glob("*.txt"))[0]
    first.write_text(first.read_text() + "An added line.\n")  # its state is replaced
    with Store.open(db) as store:
        kept = {a.id for a in store.iter_articles()}
        assert len(kept) == 20  # the two batches committed before the failure
        again = ingest([inbox], store, batch_size=10)
        # The states of files 1-19 were recorded after their batches (a file's state
        # goes with the batch after its last article's): all but the changed one skip.
        assert again.files_unchanged == 18
        assert again.articles_added == 20 and again.updated == 1 and not again.errors
        assert len({a.id for a in store.iter_articles()}) == 40
        # One state a file: the first run wrote its states without looking for old ones
        # (the store had none); the rerun replaced the changed file's.
        rows, keys = store._con.execute(
            "SELECT count(*), count(DISTINCT key) FROM ingest_files"
        ).fetchone()
        assert rows == keys == 40


def test_worker_processes_store_the_same_rows_as_one_process(tmp_path: Path) -> None:
    """Worker processes send their articles as ready rows of the ``articles`` table
    (column buffers, not pickled articles), which a batch mixes with articles read in
    this process (an HTML page): the stored rows and file states are those of the same
    folder read in one process, field for field."""
    inbox = tmp_path / "inbox"
    shutil.copytree(BBC / "tech", inbox / "tech")
    for name in (A, B):
        shutil.copyfile(SEEDS / f"{name}.txt", inbox / f"{name}.txt")
    rows = _bbc(40, "sport")
    (inbox / "rows.jsonl").write_text(
        "\n".join(json.dumps({"id": i, "title": t, "text": b}) for i, t, b in rows) + "\n"
    )
    page = FIXTURES / "html" / "agency_story.html"
    shutil.copyfile(page, inbox / page.name)
    assert len(list(inbox.rglob("*.txt"))) > 64  # enough for the worker processes
    stored = []
    for workers in (1, 2):
        db = tmp_path / f"w{workers}.duckdb"
        with _CountingStore.open(db) as store:
            summary = ingest([inbox], store, load_settings({"ingest.workers": workers}))
            assert summary.articles_added > 400 and not summary.errors
            assert (store.row_writes > 0) == (workers > 1)  # rows from the workers
            con = store._con
            articles = "SELECT * EXCLUDE (ingested_at) FROM articles ORDER BY id"
            states = "SELECT * EXCLUDE (mtime_ns) FROM ingest_files ORDER BY key"
            stored.append((con.execute(articles).fetchall(), con.execute(states).fetchall()))
    assert any(row[0] == page.stem for row in stored[0][0])  # the page is one of them
    assert stored[0] == stored[1]


class _CountingStore(Store):
    """A real store that counts the batches it is given as rows made by workers."""

    row_writes = 0

    def put_article_rows(self, *args: object) -> object:  # type: ignore[override]
        self.row_writes += 1
        return super().put_article_rows(*args)  # type: ignore[arg-type]


def test_a_script_read_from_stdin_ingests_in_its_own_process(tmp_path: Path) -> None:
    """Worker processes import the parent's main module first; a script given on
    standard input (``python -``) has none to import, and every worker would die at
    start. The pools then work in the calling process, with one warning, and the run
    completes (before, the ingest restarted its pool without end and died with a
    traceback)."""
    inbox = tmp_path / "inbox"
    shutil.copytree(BBC / "entertainment", inbox)
    assert len(list(inbox.glob("*.txt"))) > 64
    db = tmp_path / "w.duckdb"
    settings = {"ingest.workers": 2, "detect.workers": 2}
    script = (
        "from wiretrace.collection import open_collection\n"
        "from wiretrace.settings import load_settings\n"
        f"with open_collection({str(db)!r}, load_settings({settings!r})) as coll:\n"
        f"    summary = coll.ingest([{str(inbox)!r}])\n"
        "    coll.update()\n"
        "    print(summary.articles, len(summary.errors))\n"
    )
    done = subprocess.run(
        [sys.executable, "-"], input=script, capture_output=True, text=True, timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(len(list(inbox.glob("*.txt")))), "0"]
    assert "Traceback" not in done.stderr
    assert done.stderr.count("cannot be imported by worker processes") == 1


def test_a_walk_read_as_it_goes_stores_and_reports_as_a_walk_read_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Into a fresh store, once a worker is up the rest of the folder is walked as
    the workers need files (reading starts at once instead of after the whole walk).
    Inputs found on the way (a table, an HTML page, a binary file, an id read twice, a
    Markdown file) and a missing path after the folder: stored and reported, in the
    same order, as when the walk ends before reading starts (one process)."""
    import wiretrace.ingest as ingest_module
    import wiretrace.ingest.work as work

    inbox = tmp_path / "inbox"
    shutil.copytree(BBC / "business", inbox / "a")
    # an issue of the walk's first part (read before the pool is up): "a/001" twice
    shutil.copyfile(SEEDS / f"{A}.txt", inbox / "a" / "001.md")
    late = inbox / "b"
    late.mkdir()
    rows = _bbc(30, "sport")
    (late / "1rows.jsonl").write_text(
        "\n".join(json.dumps({"id": i, "title": t, "text": b}) for i, t, b in rows) + "\n"
    )
    page = FIXTURES / "html" / "agency_story.html"
    shutil.copyfile(page, late / f"2{page.name}")
    (late / "3blob.txt").write_bytes(bytes(range(256)) * 8)
    shutil.copyfile(SEEDS / f"{A}.txt", late / "4same.txt")
    shutil.copyfile(SEEDS / f"{B}.txt", late / "4same.md")  # the id "b/4same" again
    shutil.copyfile(SEEDS / f"{B}.txt", late / "5seed.md")
    assert len(list((inbox / "a").glob("*.txt"))) > 64  # enough for the worker processes

    start_pool = work.start_pool

    def started_pool(workers: int) -> work.Pool:  # a real pool, waited for
        pool = start_pool(workers)
        pool.ready.wait()
        return pool

    walks = []

    def counted(*args: object) -> object:
        walks.append(1)
        return walk_pooled(*args)

    walk_pooled = ingest_module._walk_pooled
    monkeypatch.setattr(work, "start_pool", started_pool)
    monkeypatch.setattr(ingest_module, "_walk_pooled", counted)
    seen = []
    for workers in (1, 2):
        with Store.open(tmp_path / f"w{workers}.duckdb") as store:
            summary = ingest([inbox, tmp_path / "missing.txt"], store,
                             load_settings({"ingest.workers": workers}))
            con = store._con
            articles = "SELECT * EXCLUDE (ingested_at) FROM articles ORDER BY id"
            states = "SELECT * EXCLUDE (mtime_ns) FROM ingest_files ORDER BY key"
            seen.append((summary.to_json(), con.execute(articles).fetchall(),
                         con.execute(states).fetchall()))
        assert len(walks) == workers - 1  # the walk went on while reading (2 workers)
    report, stored, _ = seen[0]
    # the walk's issues first (in walk order), then the readers'
    assert [(Path(e["input"]).name, e["reason"].split(" (")[0]) for e in report["errors"]] == [
        ("001.txt", f"id 'a/001' is already used by {inbox / 'a' / '001.md'}; skipped"),
        ("4same.txt", f"id 'b/4same' is already used by {late / '4same.md'}; skipped"),
        ("missing.txt", "no such file or directory"),
        ("3blob.txt", "binary file"),
    ]
    assert report["files"] == len(list(inbox.rglob("*.*"))) - 2  # not the second ids
    ids = {row[0] for row in stored}
    assert {"b/4same", "b/5seed", f"b/2{page.stem}"} <= ids and len(ids) > 100
    assert seen[0] == seen[1]

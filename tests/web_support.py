"""Shared by the web tests: a real store built from real text, and a real server.

``build_store`` ingests and analyses the two seed articles plus a hostile article (a
JSON Lines record whose title, text, outlet and URL carry script, event handlers and a
``javascript:`` link, under the id ``hostile/evil``) with the library. ``Server`` runs
``python -m wiretrace serve`` on a free loopback port in its own process, waits until
it answers and stops it afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from wiretrace.collection import open_collection

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "examples" / "seeds"
DEMO = ROOT / "examples" / "demo"
A = "000_a7cae44381716f60"
B = "003_aa80bf1ba9256955"
HOSTILE = "hostile/evil"
HOSTILE_TITLE = "<script>window.__pwned='title'</script>Hostile <b>title</b>"
HOSTILE_TEXT = (
    "Officials said on Monday that the harbour <script>window.__pwned='script'</script> "
    "would reopen after repairs to the northern wall were finished by the city.\n\n"
    'A photo <img src="x" onerror="window.__pwned=\'onerror\'"> showed the damage, '
    "and residents were told to keep away from the quay until further notice.\n\n"
    'Read the <a href="javascript:window.__pwned=\'link\'">full statement</a> and '
    "<svg onload=\"window.__pwned='svg'\"></svg> the harbour master's plan online.\n"
)
HOSTILE_OUTLET = "<img src=x onerror=\"window.__pwned='outlet'\">Evil Gazette"
HOSTILE_URL = "javascript:window.__pwned='url'"

#: An article written for the tests that takes two paragraphs of 000 (none of 003's),
#: one with "Russia" swapped for "Russian Federation", beside its own sentences.
PASTED = (
    "Russian planes seen at Caracas airport\n\n"
    "Residents near the airport said they heard heavy aircraft overnight and saw soldiers "
    "on the tarmac at dawn.\n\n"
    "A flight-tracking website showed that two planes left from a Russian military airport "
    "bound for Caracas on Friday, and another flight-tracking site showed that one plane "
    "left Caracas on Sunday.\n\n"
    "Local officials declined to comment on the arrivals when asked by reporters at a "
    "press briefing on Monday.\n\n"
    'Maduro on Wednesday said Russian Federation would send medicine "next week" to '
    "Venezuela, without describing how it would arrive, adding that Moscow in February "
    "had sent some 300 tonnes of humanitarian aid.\n"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_inputs(folder: Path) -> Path:
    """The seeds and the hostile article in ``folder`` (returned)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in (f"{A}.txt", f"{B}.txt"):
        shutil.copyfile(SEEDS / name, folder / name)
    (folder / "hostile").mkdir(exist_ok=True)
    record = {"id": HOSTILE, "title": HOSTILE_TITLE, "text": HOSTILE_TEXT,
              "outlet": HOSTILE_OUTLET, "url": HOSTILE_URL}  # fmt: skip
    (folder / "hostile" / "evil.jsonl").write_text(json.dumps(record) + "\n", "utf-8")
    return folder


def build_store(work: Path) -> Path:
    """``work/web.duckdb`` with the seeds and the hostile article, analysed."""
    inputs = write_inputs(work / "inputs")
    db = work / "web.duckdb"
    with open_collection(db) as coll:
        summary = coll.run([inputs])
        assert not summary.failed, summary.ingest.errors
    return db


class Server:
    """``wiretrace serve`` in a child process on 127.0.0.1 (a context manager)."""

    def __init__(self, db: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.db = db.resolve()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = args
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[str] | None = None
        self.log = db.with_name(f"serve-{self.port}.log")

    def start(self, ready: str = "/api/health", timeout: float = 60.0) -> Server:
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "wiretrace", "serve", "--db", str(self.db),
                 "--port", str(self.port), "--set", "serve.max_request_bytes=300000",
                 *self.args],
                stdout=log, stderr=subprocess.STDOUT, text=True, env=self.env,
                cwd=self.db.parent,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            try:
                httpx.get(self.url + ready, timeout=2.0)
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not answer in {timeout} s: {self.log.read_text()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=20)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def seed_text(name: str) -> str:
    return (SEEDS / f"{name}.txt").read_text("utf-8")

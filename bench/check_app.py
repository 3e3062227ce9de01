"""A minimal HTTP front for ``Collection.check``: the fallback the check-latency bench
uses when ``wiretrace serve`` does not come up. One warm read-only collection, one
route (``POST /api/check`` with ``{"text", "title"}``), served by uvicorn.

Run: ``python bench/check_app.py --db bench.duckdb --port 8765``.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from wiretrace import open_collection
from wiretrace.ingest.textfile import parse_text


class CheckBody(BaseModel):
    text: str
    title: str | None = None


def build(db: Path) -> FastAPI:
    app = FastAPI()
    coll = open_collection(db, read_only=True)
    lock = threading.Lock()  # one DuckDB connection: one check at a time

    @app.get("/api/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/check")
    def check(body: CheckBody) -> list[dict[str, Any]]:
        full = f"{body.title}\n\n{body.text}" if body.title else body.text
        article = parse_text(full, "-", None, "text", coll.settings.ingest)
        with lock:
            return [p.to_json() for p in coll.check(article)]

    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args()
    uvicorn.run(build(args.db), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

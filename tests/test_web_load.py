"""A bounded load test of `wiretrace serve`: 100 concurrent clients for 30 seconds
against the loopback server, over a mix of pages and API calls.

It asserts zero errors (every answer 200, no connection failure) and prints the
latency percentiles and throughput; it asserts nothing about time (speed is measured,
not tested). It stops by itself after LOAD_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from web_support import HOSTILE, A, B, Server, build_store

CLIENTS = 100
LOAD_SECONDS = 30.0

URLS = (
    "/",
    "/api/overview",
    "/api/articles?limit=10",
    "/api/articles?q=Caracas",
    f"/api/articles/{B}",
    f"/api/pair?a={A}&b={B}",
    "/api/pairs",
    "/api/passages",
    f"/article/{B}",
    f"/article/{quote(HOSTILE, safe='')}",
    f"/pair?a={A}&b={B}",
    "/articles?q=Maduro",
    "/stories",
    "/static/style.css",
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(build_store(tmp_path_factory.mktemp("web-load"))) as srv:
        yield srv


async def _client(
    client: httpx.AsyncClient, n: int, stop_at: float, latencies: list[float],
    errors: list[str],
) -> None:
    i = n
    while time.monotonic() < stop_at:
        url = URLS[i % len(URLS)]
        i += 1
        start = time.perf_counter()
        try:
            response = await client.get(url)
        except httpx.HTTPError as exc:
            errors.append(f"{url}: {type(exc).__name__}: {exc}")
            continue
        latencies.append(time.perf_counter() - start)
        if response.status_code != 200:
            errors.append(f"{url}: {response.status_code} {response.text[:200]}")


async def _load(base: str) -> tuple[list[float], list[str], float]:
    """CLIENTS clients, each with its own connection, made before the clock starts
    (making an httpx client costs tens of milliseconds: not the server's time)."""
    latencies: list[float] = []
    errors: list[str] = []
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=60.0))
            for _ in range(CLIENTS)
        ]
        start = time.monotonic()
        stop_at = start + LOAD_SECONDS
        await asyncio.gather(
            *(_client(c, n, stop_at, latencies, errors) for n, c in enumerate(clients))
        )
        elapsed = time.monotonic() - start
    return latencies, errors, elapsed


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def test_hundred_clients_for_thirty_seconds(server: Server) -> None:
    latencies, errors, elapsed = asyncio.run(_load(server.url))
    assert errors == [], errors[:5]
    assert latencies
    p50, p99 = _percentile(latencies, 0.50), _percentile(latencies, 0.99)
    print(
        f"\nload: {CLIENTS} clients, {elapsed:.1f} s, {len(latencies)} requests "
        f"({len(latencies) / elapsed:.0f}/s), 0 errors; latency p50 {p50 * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms, mean {statistics.fmean(latencies) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms"
    )

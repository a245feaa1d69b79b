"""The inline CSV export's memory at 10 k and at 50 k rows: it must not grow with the limit.

    python bench/export_memory.py [--sizes 10000,50000]

A SQLite database is bulk-loaded (bench/reads.py's seed and load) with the largest
size, then the operator's ``GET /api/v1/orders/export.csv?limit=N`` is driven through
the ASGI app in process for each size, the body dropped as it arrives (an HTTP client
such as httpx's ASGI transport would keep the whole body, and measure itself). For
each size: chunks, bytes, the tracemalloc peak and the peak rise of the resident set.
The aim: the peak at 50 k within 1.2x of the peak at 10 k.

``stream_export`` is the measurement; the lead's benchmark and the tests call it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    """The resident set size now, in bytes (Linux), else the peak so far."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass(frozen=True)
class Streamed:
    """What one streamed response took: its status, body chunks and bytes, memory peaks."""

    status: int
    headers: dict[str, str]
    chunks: int
    size: int
    traced_peak: int  # bytes allocated at the peak, over the start (tracemalloc)
    rss_rise: int  # the resident set's highest point over its level at the start


async def stream_export(app: Any, path: str, headers: dict[str, str]) -> Streamed:
    """GET ``path`` through the ASGI ``app`` (lifespan already running), dropping the body
    as it arrives; count its chunks and bytes and measure the memory it took."""
    raw_path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
    }
    state: dict[str, Any] = {"status": 0, "headers": {}, "chunks": 0, "size": 0}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        return {"type": "http.disconnect"}

    base_rss = peak_rss = _rss()

    async def send(message: dict[str, Any]) -> None:
        nonlocal peak_rss
        if message["type"] == "http.response.start":
            state["status"] = message["status"]
            state["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            if body:
                state["chunks"] += 1
                state["size"] += len(body)
            peak_rss = max(peak_rss, _rss())

    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    start, _ = tracemalloc.get_traced_memory()
    try:
        await app(scope, receive, send)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not tracing:
            tracemalloc.stop()
    return Streamed(
        status=state["status"],
        headers=state["headers"],
        chunks=state["chunks"],
        size=state["size"],
        traced_peak=peak - start,
        rss_rise=peak_rss - base_rss,
    )


async def _measure(url: str, sizes: list[int]) -> dict[int, Streamed]:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT.parent / "src"))
    import reads  # the lead's bulk loader: sellers, stores, a realistic mix of orders
    from tuoguan.api.app import create_app
    from tuoguan.cli.main import upgrade_database
    from tuoguan.config import Settings
    from tuoguan.db import Database
    from tuoguan.kit.clock import FrozenClock

    settings = Settings(database_url=url, environment="test", export_inline_rows=max(sizes))
    upgrade_database(settings)
    async with Database.opened(url) as db:
        market = await reads.seed(db)
    reads.load(url, max(sizes), market.shops)
    app = create_app(settings, clock=FrozenClock(reads.NOW))
    headers = {"Authorization": f"Bearer {market.tokens['operator']}"}
    results: dict[int, Streamed] = {}
    async with app.router.lifespan_context(app):
        await stream_export(app, "/api/v1/orders/export.csv?limit=100", headers)  # warm up
        for rows in sizes:
            results[rows] = await stream_export(
                app, f"/api/v1/orders/export.csv?limit={rows}", headers
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000")
    args = parser.parse_args()
    sizes = sorted(int(n) for n in args.sizes.split(","))
    with tempfile.TemporaryDirectory() as folder:
        results = asyncio.run(_measure(f"sqlite:///{folder}/export.db", sizes))
    mib = 2**20
    print(f"{'rows':>8}{'chunks':>8}{'MiB sent':>10}{'traced peak MiB':>17}{'RSS rise MiB':>14}")
    for rows, r in results.items():
        assert r.status == 200, r.status
        print(
            f"{rows:>8,}{r.chunks:>8}{r.size / mib:>10.1f}"
            f"{r.traced_peak / mib:>17.2f}{r.rss_rise / mib:>14.2f}"
        )
    small, large = results[sizes[0]], results[sizes[-1]]
    ratio = large.traced_peak / small.traced_peak
    print(
        f"traced peak {sizes[-1]:,} / {sizes[0]:,}: {ratio:.2f}x (aim <= 1.2x): "
        f"{'met' if ratio <= 1.2 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()

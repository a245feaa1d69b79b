"""Label and quote speed: PDF labels, a 500-label batch, ZPL, the event loop while a batch
renders, and quote latency.

    python bench/labels.py [-n 200] [--quotes 1000]

Every figure is a ratio against a baseline measured in this run on this
machine: for PDFs, reportlab writing a bare 100 x 150 mm page with one line of
Helvetica (no embedded font, no barcode, no QR); for quotes, reading the same
order by id through the same session. Absolute rates are printed beside the
ratios for the aims in issue 4 (50 PDF labels/s, 10 000 ZPL/s on one core).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from reportlab.pdfgen.canvas import Canvas  # noqa: E402
from sqlalchemy import select  # noqa: E402

from tuoguan.cli.main import upgrade_database  # noqa: E402
from tuoguan.config import Settings  # noqa: E402
from tuoguan.context import Ctx  # noqa: E402
from tuoguan.db import Database  # noqa: E402
from tuoguan.demo import load as demo  # noqa: E402
from tuoguan.kit.clock import SystemClock  # noqa: E402
from tuoguan.orders import service as orders  # noqa: E402
from tuoguan.orders.models import Order  # noqa: E402
from tuoguan.principal import Principal, Role  # noqa: E402
from tuoguan.shipping import labels as drawing  # noqa: E402
from tuoguan.shipping import quotes  # noqa: E402
from tuoguan.shipping.labels import HEIGHT, WIDTH, LabelData, render_pdf, render_zpl  # noqa: E402

LABEL = LabelData(
    shipment_id="shp_01BENCH",
    order_id="ord_01BENCH",
    tracking_number="TG0000000000CN",
    carrier_code="sandbox",
    service_code="TG-POST-REG",
    service_name="挂号小包 Registered small parcel",
    zone="EU",
    sender={
        "name": "深圳优品科技 张三",
        "phone": "+86 138 0013 8000",
        "line1": "广东省深圳市南山区科技园科苑路15号 科兴科学园B栋4单元1201",
        "city": "深圳",
        "postcode": "518057",
        "country": "CN",
    },
    receiver={
        "name": "Jan Kowalski",
        "phone": "+48 501 234 567",
        "line1": "ul. Marszałkowska 10",
        "city": "Warszawa",
        "postcode": "00-590",
        "country": "PL",
    },
    weight_g=340,
    insured=True,
    printed_on="2026-11-22",
)


def _rate(work, count: int) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for i in range(count):
        work(i)
    return count / (time.perf_counter() - start)


def _bare_page(_: int) -> None:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(WIDTH, HEIGHT))
    canvas.setFont("Helvetica", 12)
    canvas.drawString(20, 20, "TG0000000000CN")
    canvas.showPage()
    canvas.save()


def labels(count: int) -> None:
    render_pdf([LABEL])  # registers the fonts once, as a running server has
    baseline = _rate(_bare_page, count)
    single = _rate(lambda i: render_pdf([replace(LABEL, tracking_number=f"TG{i:010d}CN")]), count)
    batch = [replace(LABEL, tracking_number=f"TG{i:010d}CN") for i in range(500)]
    start = time.perf_counter()
    pdf = render_pdf(batch)
    batch_rate = len(batch) / (time.perf_counter() - start)
    zpl = _rate(lambda i: render_zpl(replace(LABEL, tracking_number=f"TG{i:010d}CN")), count * 50)
    print(f"baseline: bare reportlab page           {baseline:9.0f} pages/s")
    print(
        f"single PDF label                        {single:9.1f} labels/s  {single / baseline:.3f}x"
    )
    print(
        f"500-label batch ({len(pdf) // 1024} KiB)            {batch_rate:9.1f} labels/s  "
        f"{batch_rate / baseline:.3f}x"
    )
    print(f"ZPL                                     {zpl:9.0f} labels/s  {zpl / baseline:.2f}x")


async def _stall(render) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """The longest the event loop went without running a 1 ms ticker during ``render``, and
    how long the render took."""
    longest = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal longest
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            longest = max(longest, now - last)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    start = time.perf_counter()
    await render()
    took = time.perf_counter() - start
    done.set()
    await task
    return longest, took


async def _loop_stalls() -> None:
    """A 200-label batch drawn on the event loop (as before issue 10) and in a worker thread."""
    batch = [replace(LABEL, tracking_number=f"TG{i:010d}CN") for i in range(200)]

    async def inline() -> None:
        render_pdf(batch)

    async def threaded() -> None:
        await drawing.pdf(batch)

    idle, _ = await _stall(lambda: asyncio.sleep(0.5))
    on_loop, took_inline = await _stall(inline)
    off_loop, took_threaded = await _stall(threaded)
    print(f"event loop, idle 0.5 s: longest gap     {idle * 1000:9.1f} ms (baseline)")
    print(
        f"200 labels drawn on the loop:           {on_loop * 1000:9.1f} ms gap  "
        f"{on_loop / idle:.0f}x  (render {took_inline:.2f} s)"
    )
    print(
        f"200 labels drawn in a thread:           {off_loop * 1000:9.1f} ms gap  "
        f"{off_loop / idle:.1f}x  (render {took_threaded:.2f} s)"
    )


async def _quotes(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db")
        upgrade_database(settings)
        clock = SystemClock()
        async with Database.opened(settings.database_url) as db:
            await demo.load(db, clock, settings)
            ctx = Ctx(
                principal=Principal(role=Role.operator, actor_id="bench"),
                clock=clock,
                settings=settings,
            )
            async with db.read() as session:
                ids = list((await session.scalars(select(Order.id))).all())
                base: list[float] = []
                timed: list[float] = []
                for i in range(count):
                    order_id = ids[i % len(ids)]
                    start = time.perf_counter()
                    await orders.get_order(session, principal=ctx.principal, order_id=order_id)
                    base.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    await quotes.shipping_options(session, ctx=ctx, order_id=order_id)
                    timed.append(time.perf_counter() - start)
    for name, values in (
        ("baseline: read the order", base),
        ("shipping options (4 services)", timed),
    ):
        cuts = statistics.quantiles(values, n=100)
        print(f"{name:40s} p50 {cuts[49] * 1000:6.2f} ms  p99 {cuts[98] * 1000:6.2f} ms")
    p50 = statistics.median(timed) / statistics.median(base)
    print(f"quote p50 / order-read p50: {p50:.1f}x over {count} quotes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="labels per single-label run")
    parser.add_argument("--quotes", type=int, default=1000)
    args = parser.parse_args()
    labels(args.n)
    asyncio.run(_loop_stalls())
    asyncio.run(_quotes(args.quotes))


if __name__ == "__main__":
    main()

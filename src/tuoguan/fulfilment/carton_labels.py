"""Carton labels of an inbound notice (箱唛, R1): a 100 x 150 mm PDF page per carton, with the
ASN id as a Code 128 barcode the warehouse scans, the destination warehouse, the seller's store,
"carton n of N" (第 n/N 箱) and the notice's SKUs.

The page size and the embedded fonts are those of the shipping labels (``shipping/labels.py``),
so one printer roll serves both. ``fulfilment`` sits below ``shipping`` and may not import it:
the few lines that register the fonts and pick a font per character are repeated here, under
font names of their own (two modules registering one name would swap the font object under a
render running in another thread), reading the same font files from ``shipping/fonts/`` without
importing the package. Rendering runs in a worker thread, a few at a time, like the shipping
labels: a 999-carton notice never stalls the event loop.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

import anyio
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.catalog.models import Product, Sku
from tuoguan.errors import Busy, Conflict
from tuoguan.fulfilment.inbound import get_notice
from tuoguan.fulfilment.models import InboundStatus
from tuoguan.inventory.models import Warehouse
from tuoguan.kit.pdf_fonts import FONT
from tuoguan.kit.pdf_fonts import glyphs as _fonts
from tuoguan.kit.pdf_fonts import runs as _runs
from tuoguan.principal import Principal
from tuoguan.stores.models import Store

WIDTH, HEIGHT = 100 * mm, 150 * mm
MARGIN = 4 * mm
RENDER_THREADS = 2
RENDER_QUEUE = 8
_limiter: anyio.CapacityLimiter | None = None


@dataclass(frozen=True)
class CartonLine:
    """One SKU as the label lists it."""

    code: str
    description: str
    quantity: int


@dataclass(frozen=True)
class CartonLabels:
    """Everything the labels of one notice print (the same on each page but the carton number)."""

    notice_id: str
    cartons: int
    warehouse_code: str
    warehouse_name: str
    warehouse_address: dict[str, Any]
    warehouse_country: str
    store_name: str
    carrier_name: str | None
    tracking_number: str | None
    lines: tuple[CartonLine, ...]
    printed_on: str  # ISO date

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


async def label_data(
    session: AsyncSession, *, principal: Principal, notice_id: str, today: date
) -> CartonLabels:
    """What the carton labels of a notice the principal sees print; a cancelled notice has none."""
    notice = await get_notice(session, principal=principal, notice_id=notice_id)
    if notice.status is InboundStatus.cancelled:
        raise Conflict(
            "the inbound notice is cancelled: its cartons are not sent",
            field="status",
            rule="state_allows_labels",
        )
    warehouse = await session.get(Warehouse, notice.warehouse_id)
    store = await session.get(Store, notice.store_id)
    assert warehouse is not None and store is not None
    skus = {
        sku.id: (sku, name)
        for sku, name in await session.execute(
            select(Sku, Product.name)
            .join(Product, Product.id == Sku.product_id)
            .where(Sku.id.in_([line.sku_id for line in notice.lines]))
        )
    }
    lines = []
    for line in notice.lines:
        sku, name = skus[line.sku_id]
        attributes = " ".join(str(v) for v in (sku.attributes or {}).values())
        lines.append(
            CartonLine(
                code=sku.code,
                description=f"{name} {attributes}".strip(),
                quantity=line.expected,
            )
        )
    return CartonLabels(
        notice_id=notice.id,
        cartons=notice.cartons,
        warehouse_code=warehouse.code,
        warehouse_name=warehouse.name,
        warehouse_address=dict(warehouse.address or {}),
        warehouse_country=warehouse.country,
        store_name=store.name,
        carrier_name=notice.carrier_name,
        tracking_number=notice.tracking_number,
        lines=tuple(lines),
        printed_on=today.isoformat(),
    )


# -- fonts (as shipping/labels.py) ------------------------------------------------------------


def _width(text: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(run, font, size) for font, run in _runs(text))


def _fit(text: str, size: float, width: float) -> str:
    """The text, cut with an ellipsis where it would run past ``width``."""
    if _width(text, size) <= width:
        return text
    while text and _width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _draw(canvas: Canvas, x: float, y: float, text: str, size: float, align: str = "left") -> None:
    if align == "right":
        x -= _width(text, size)
    elif align == "centre":
        x -= _width(text, size) / 2
    for font, run in _runs(text):
        canvas.setFont(font, size)
        canvas.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, font, size)


def _address(address: dict[str, Any], country: str) -> list[str]:
    place = " ".join(p for p in (address.get("postcode"), address.get("city")) if p)
    lines = [address.get("line1"), address.get("line2"), place, address.get("region"), country]
    return [str(line) for line in lines if line]


# -- the page ---------------------------------------------------------------------------------


def _barcode(canvas: Canvas, value: str, y: float) -> None:
    """The ASN id in Code 128, centred, with bars as wide as the page allows (an ASN id gives
    about 0.26 mm) and the quiet zone of ten bars on each side clear of the border."""
    modules = Code128(value, barWidth=1, quiet=False).width
    bar = min(0.33 * mm, (WIDTH - MARGIN) / (modules + 20))
    code = Code128(value, barWidth=bar, barHeight=18 * mm, quiet=False)
    code.drawOn(canvas, (WIDTH - code.width) / 2, y)


# The carton number's baselines, between the heading and the barcode.
TOP = HEIGHT - MARGIN - 10
NUMBER_Y, NUMBER_EN_Y = TOP - 28, TOP - 46
FORM = "carton"


def _common(canvas: Canvas, data: CartonLabels) -> None:
    """Everything but the carton number, drawn once as a form that each page repeats (a
    999-carton notice is one form and 999 small pages, not 999 copies of the drawing)."""
    inner = WIDTH - 2 * MARGIN
    canvas.setLineWidth(0.8)
    canvas.rect(MARGIN / 2, MARGIN / 2, WIDTH - MARGIN, HEIGHT - MARGIN)
    _draw(canvas, MARGIN, TOP, "入库单 INBOUND", 10)
    _draw(canvas, WIDTH - MARGIN, TOP, data.warehouse_code, 10, "right")
    y = NUMBER_EN_Y - 6 - 18 * mm
    _barcode(canvas, data.notice_id, y)
    y -= 13
    _draw(canvas, WIDTH / 2, y, data.notice_id, 11, "centre")
    y -= 7
    canvas.line(MARGIN / 2, y, WIDTH - MARGIN / 2, y)
    y -= 11
    _draw(canvas, MARGIN, y, "收货仓 TO", 8)
    y -= 15
    _draw(canvas, MARGIN, y, _fit(data.warehouse_name, 13, inner), 13)
    for line in _address(data.warehouse_address, data.warehouse_country):
        y -= 12
        _draw(canvas, MARGIN, y, _fit(line, 9.5, inner), 9.5)
    y -= 7
    canvas.line(MARGIN / 2, y, WIDTH - MARGIN / 2, y)
    y -= 11
    _draw(canvas, MARGIN, y, "发货 FROM", 8)
    y -= 13
    _draw(canvas, MARGIN, y, _fit(data.store_name, 11, inner), 11)
    if data.carrier_name or data.tracking_number:
        y -= 11
        carrier = " ".join(p for p in (data.carrier_name, data.tracking_number) if p)
        _draw(canvas, MARGIN, y, _fit(f"承运 {carrier}", 8, inner), 8)
    y -= 7
    canvas.line(MARGIN / 2, y, WIDTH - MARGIN / 2, y)
    y -= 11
    _draw(canvas, MARGIN, y, f"SKU × 数量 ({len(data.lines)} SKU, {data.units} 件 units)", 8)
    bottom = MARGIN + 14
    shown = 0
    for entry in data.lines:
        room = 10 if shown < len(data.lines) - 1 else 0  # keep a row for "+k SKU"
        if y - 10 < bottom + room:
            break
        y -= 10
        _draw(
            canvas, MARGIN, y, _fit(f"{entry.code}  {entry.description}", 7.5, inner - 16 * mm), 7.5
        )
        _draw(canvas, WIDTH - MARGIN, y, f"× {entry.quantity}", 7.5, "right")
        shown += 1
    if shown < len(data.lines):
        y -= 10
        _draw(canvas, MARGIN, y, f"… +{len(data.lines) - shown} SKU", 7.5)
    _draw(canvas, MARGIN, MARGIN + 2, data.printed_on, 6.5)


def render_pdf(data: CartonLabels) -> bytes:
    """One PDF, a 100 x 150 mm page per carton."""
    _fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(WIDTH, HEIGHT), initialFontName=FONT, pageCompression=1)
    canvas.setTitle(f"tuoguan carton labels {data.notice_id}")
    canvas.beginForm(FORM)
    _common(canvas, data)
    canvas.endForm()
    for n in range(1, data.cartons + 1):
        canvas.doForm(FORM)
        _draw(canvas, WIDTH / 2, NUMBER_Y, f"第 {n}/{data.cartons} 箱", 24, "centre")
        _draw(canvas, WIDTH / 2, NUMBER_EN_Y, f"carton {n} of {data.cartons}", 14, "centre")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _turn() -> anyio.CapacityLimiter:
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(RENDER_THREADS)
    if _limiter.statistics().tasks_waiting >= RENDER_QUEUE:
        raise Busy("labels are being printed for many requests at once; try again in a moment")
    return _limiter


async def pdf(data: CartonLabels) -> bytes:
    """``render_pdf`` in a worker thread, so a long notice never stalls other requests."""
    _fonts()  # registered once, before threads share reportlab's font table
    return await anyio.to_thread.run_sync(render_pdf, data, limiter=_turn())

"""Shipping labels (面单, F8 step 3): 100 x 150 mm PDF with an embedded CJK font, and ZPL.

The PDF embeds a subset of Noto Sans SC (shipped in ``fonts/``), so Chinese
prints on any printer or viewer; reportlab's CID fonts would leave that to the
reader. The QR code is drawn from segno's module matrix as one path, which is
several times faster than reportlab's own QR widget.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import segno
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from tuoguan.errors import Busy
from tuoguan.kit.pdf_fonts import FONT
from tuoguan.kit.pdf_fonts import glyphs as _fonts
from tuoguan.kit.pdf_fonts import runs as _runs

WIDTH, HEIGHT = 100 * mm, 150 * mm
MARGIN = 4 * mm
# ZPL at 8 dots/mm (203 dpi): 800 x 1200 dots.
DOTS_PER_MM = 8
# Renders running at once in worker threads; more wait their turn without holding the event loop,
# up to a queue this long, after which a request is told to come back (429).
RENDER_THREADS = 2
RENDER_QUEUE = 8
_limiter: anyio.CapacityLimiter | None = None


@dataclass(frozen=True)
class LabelData:
    """Everything printed on one label."""

    shipment_id: str
    order_id: str
    tracking_number: str
    carrier_code: str
    service_code: str
    service_name: str
    zone: str
    sender: dict[str, Any]
    receiver: dict[str, Any]
    weight_g: int
    insured: bool
    printed_on: str  # ISO date
    # The carrier's own label, printed instead of tuoguan's when the carrier issued one.
    carrier_label: bytes | None = None
    carrier_format: str | None = None  # PDF | ZPL

    def qr_payload(self) -> str:
        """What the QR code carries: enough to find the parcel without the network."""
        return f"TG1|{self.carrier_code}|{self.tracking_number}|{self.order_id}|{self.shipment_id}"


def missing_glyphs(texts: Iterable[str]) -> list[str]:
    """Characters neither label font can draw (they would print as empty boxes)."""
    main, latin = _fonts()
    return sorted(
        {
            ch
            for text in texts
            for ch in text
            if ch.isprintable() and ord(ch) not in main and ord(ch) not in latin
        }
    )


def _width(text: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(run, font, size) for font, run in _runs(text))


def _draw(canvas: Canvas, x: float, y: float, text: str, size: float, align: str = "left") -> None:
    """Draw one line at a size, each character in a font that has it."""
    if align == "right":
        x -= _width(text, size)
    elif align == "centre":
        x -= _width(text, size) / 2
    for font, run in _runs(text):
        canvas.setFont(font, size)
        canvas.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, font, size)


def address_lines(party: dict[str, Any]) -> list[str]:
    """A party's address as printed, most specific line first."""
    place = " ".join(p for p in (party.get("postcode"), party.get("city")) if p)
    region = party.get("region")
    lines = [party.get("line1") or "", party.get("line2") or "", place, region or ""]
    return [line for line in lines if line]


def _wrap(text: str, size: float, width: float) -> list[str]:
    """Break text to fit a width: at spaces for Latin words, anywhere between CJK characters."""
    lines: list[str] = []
    current = ""
    for ch in text:
        trial = current + ch
        if _width(trial, size) <= width:
            current = trial
            continue
        cut = current.rfind(" ")
        if cut > 0 and not ch.isspace():
            lines.append(current[:cut])
            current = current[cut + 1 :] + ch
        else:
            lines.append(current)
            current = ch.lstrip()
    if current:
        lines.append(current)
    return lines


def _block(
    canvas: Canvas, x: float, y: float, width: float, lines: Sequence[tuple[str, float]]
) -> float:
    """Draw wrapped lines downward from y; return the y below them."""
    for text, size in lines:
        for part in _wrap(text, size, width):
            y -= size * 1.25
            _draw(canvas, x, y, part, size)
    return y


def _qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    matrix = segno.make(data, error="m", micro=False).matrix
    n = len(matrix)
    cell = size / n
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        top = y + (n - 1 - row_index) * cell
        for col, dark in enumerate(row):
            if dark:
                path.rect(x + col * cell, top, cell, cell)
    canvas.drawPath(path, stroke=0, fill=1)


def _page(canvas: Canvas, label: LabelData) -> None:
    inner = WIDTH - 2 * MARGIN
    canvas.setLineWidth(0.8)
    canvas.rect(MARGIN / 2, MARGIN / 2, WIDTH - MARGIN, HEIGHT - MARGIN)
    top = HEIGHT - MARGIN
    _draw(canvas, MARGIN, top - 11, label.service_name, 11)
    _draw(canvas, MARGIN, top - 21, f"{label.carrier_code} · {label.service_code}", 8)
    _draw(canvas, WIDTH - MARGIN, top - 20, label.zone, 22, "right")
    canvas.line(MARGIN / 2, top - 25, WIDTH - MARGIN / 2, top - 25)
    sender = label.sender
    y = _block(
        canvas,
        MARGIN,
        top - 26,
        inner,
        [(f"寄件人 FROM: {sender.get('name', '')}  {sender.get('phone', '')}", 7.5)]
        + [(line, 7.5) for line in address_lines(sender)]
        + [(sender.get("country", ""), 7.5)],
    )
    canvas.line(MARGIN / 2, y - 3, WIDTH - MARGIN / 2, y - 3)
    receiver = label.receiver
    y = _block(
        canvas,
        MARGIN,
        y - 4,
        inner,
        [("收件人 TO:", 8), (f"{receiver.get('name', '')}", 13), (receiver.get("phone", ""), 9)]
        + [(line, 11) for line in address_lines(receiver)],
    )
    _draw(canvas, WIDTH - MARGIN, y - 26, receiver.get("country", ""), 26, "right")
    barcode = Code128(label.tracking_number, barHeight=16 * mm, barWidth=0.33 * mm, quiet=False)
    bar_y = 44 * mm
    barcode.drawOn(canvas, (WIDTH - barcode.width) / 2, bar_y)
    _draw(canvas, WIDTH / 2, bar_y - 5 * mm, label.tracking_number, 12, "centre")
    _qr(canvas, label.qr_payload(), WIDTH - MARGIN - 30 * mm, MARGIN + 2 * mm, 30 * mm)
    _block(
        canvas,
        MARGIN,
        34 * mm,
        inner - 32 * mm,
        [
            (f"{label.weight_g} g{'  · 保价 INSURED' if label.insured else ''}", 9),
            (f"订单 Order {label.order_id}", 6.5),
            (f"运单 Shipment {label.shipment_id}", 6.5),
            (f"{label.printed_on}", 6.5),
        ],
    )
    canvas.showPage()


def render_pdf(labels: Iterable[LabelData]) -> bytes:
    """One PDF, a 100 x 150 mm page per label (batch printing takes many).

    A label the carrier issued as a PDF goes in as the carrier's own pages.
    """
    _fonts()
    parts: list[bytes] = []
    buffer: io.BytesIO | None = None
    canvas: Canvas | None = None

    def close() -> None:
        nonlocal buffer, canvas
        if canvas is not None and buffer is not None:
            canvas.save()
            parts.append(buffer.getvalue())
        buffer = canvas = None

    for label in labels:
        if label.carrier_label is not None and label.carrier_format == "PDF":
            close()
            parts.append(label.carrier_label)
            continue
        if canvas is None:
            buffer = io.BytesIO()
            canvas = Canvas(
                buffer, pagesize=(WIDTH, HEIGHT), initialFontName=FONT, pageCompression=1
            )
            canvas.setTitle("tuoguan shipping labels")
        _page(canvas, label)
    close()
    if len(parts) == 1:
        return parts[0]
    return _merge(parts)


def _render_limiter() -> anyio.CapacityLimiter:
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(RENDER_THREADS)
    return _limiter


def _turn() -> anyio.CapacityLimiter:
    limiter = _render_limiter()
    if limiter.statistics().tasks_waiting >= RENDER_QUEUE:
        raise Busy("labels are being printed for many requests at once; try again in a moment")
    return limiter


async def pdf(labels: Sequence[LabelData]) -> bytes:
    """``render_pdf`` in a worker thread, so a long batch never stalls other requests."""
    _fonts()  # registered once, before threads share reportlab's font table
    return await anyio.to_thread.run_sync(render_pdf, list(labels), limiter=_turn())


async def zpl(label: LabelData) -> str:
    """``render_zpl`` in a worker thread, like ``pdf``."""
    return await anyio.to_thread.run_sync(render_zpl, label, limiter=_turn())


def _merge(parts: Sequence[bytes]) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part in parts:
        for page in PdfReader(io.BytesIO(part)).pages:
            writer.add_page(page)
    writer.add_metadata({"/Title": "tuoguan shipping labels"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _zpl_text(text: str) -> str:
    # ^ and ~ start ZPL commands; with ^FH they travel hex-escaped.
    return text.replace("_", "_5F").replace("^", "_5E").replace("~", "_7E")


def render_zpl(label: LabelData) -> str:
    """ZPL II for a 203 dpi thermal printer, UTF-8 (^CI28).

    Chinese needs a CJK TrueType font on the printer, stored as E:NOTOSC.TTF
    (the same font as the PDF; see docs/shipping.md). A label the carrier
    issued as ZPL is the carrier's own.
    """
    if label.carrier_label is not None and label.carrier_format == "ZPL":
        return label.carrier_label.decode("utf-8", errors="replace")
    d = DOTS_PER_MM
    lines = [
        "^XA",
        "^CI28",
        "^CWN,E:NOTOSC.TTF",
        f"^PW{100 * d}",
        f"^LL{150 * d}",
    ]

    def text(x: int, y: int, size: int, value: str) -> None:
        lines.append(f"^FO{x},{y}^ANN,{size},{size}^FH^FD{_zpl_text(value)}^FS")

    text(30, 30, 36, label.service_name)
    text(30, 75, 24, f"{label.carrier_code} {label.service_code}")
    text(640, 30, 70, label.zone)
    sender = label.sender
    y = 130
    text(30, y, 24, f"FROM {sender.get('name', '')} {sender.get('phone', '')}")
    for line in [*address_lines(sender), sender.get("country", "")]:
        y += 28
        text(30, y, 24, line)
    receiver = label.receiver
    y += 50
    text(30, y, 26, "TO")
    y += 34
    text(30, y, 44, receiver.get("name", ""))
    y += 52
    text(30, y, 30, receiver.get("phone", ""))
    for line in address_lines(receiver):
        y += 40
        text(30, y, 36, line)
    text(640, y + 40, 80, receiver.get("country", ""))
    lines.append(f"^FO60,{150 * d - 520}^BY3^BCN,130,Y,N,N^FD{label.tracking_number}^FS")
    lines.append(f"^FO{100 * d - 280},{150 * d - 280}^BQN,2,6^FDMA,{label.qr_payload()}^FS")
    text(30, 150 * d - 250, 30, f"{label.weight_g} g{' INSURED' if label.insured else ''}")
    text(30, 150 * d - 205, 20, f"Order {label.order_id}")
    text(30, 150 * d - 175, 20, f"Shipment {label.shipment_id}")
    text(30, 150 * d - 145, 20, label.printed_on)
    lines.append("^XZ")
    return "\n".join(lines) + "\n"

"""A statement as files people keep: CSV for a spreadsheet (local times, plain amounts such as
12.34) and an A4 PDF that runs to as many pages as the lines need, both in the reader's
language (zh-CN or en, from the gettext catalogs).

The PDF embeds Noto Sans SC from ``shipping/fonts`` (and DejaVu Sans for the few letters it
lacks), registered here under names of its own as ``fulfilment/carton_labels.py`` does: two
modules registering one name would swap the font object under a render in another thread.
Drawing runs in a worker thread, a few at a time, so a long statement never stalls the event
loop; past a short queue a request is told to come back (429).
"""

from __future__ import annotations

import csv
import io
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import anyio
from babel.dates import format_datetime, format_skeleton
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from tuoguan.errors import Busy
from tuoguan.kit import i18n
from tuoguan.kit.money import format_minor, major_text
from tuoguan.kit.pdf_fonts import FONT
from tuoguan.kit.pdf_fonts import glyphs as _fonts
from tuoguan.kit.pdf_fonts import runs as _runs
from tuoguan.ledger.kinds import EntryKind
from tuoguan.settlement.statements import ABOUT_WORDS, Statement, StatementLine

_BABEL = {"zh-CN": "zh_Hans_CN", "en": "en_US"}
_MOMENT_YEAR = {"zh-CN": "yyyy年M月d日 HH:mm", "en": "MMM d, yyyy, HH:mm"}
CSV_TIME = "%Y-%m-%d %H:%M"  # a spreadsheet reads it as a date and time
# A spreadsheet runs a cell starting with one of these as a formula (a store's name could).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
RENDER_THREADS = 2
RENDER_QUEUE = 8
_limiter: anyio.CapacityLimiter | None = None


# -- words ------------------------------------------------------------------------------------


def _t(language: str, key: str, **params: Any) -> str:
    text = i18n.gettext(language, key)
    return text.format(**params) if params else text


def period_words(statement: Statement, language: str) -> str:
    """ "2026年11月" / "November 2026" for a month, else the two local times."""
    lang = i18n.language(language)
    zone = ZoneInfo(statement.timezone)
    if statement.period:
        first = statement.start.astimezone(zone)
        return str(format_skeleton("yMMMM", first, locale=_BABEL[lang]))
    ends = [
        format_datetime(at.astimezone(zone), _MOMENT_YEAR[lang], tzinfo=zone, locale=_BABEL[lang])
        for at in (statement.start, statement.end)
    ]
    return f"{ends[0]} – {ends[1]}"


def kind_words(line: StatementLine, language: str) -> str:
    """What the line records, in words; a reversal says so."""
    words = i18n.gettext(language, f"entry_kind_{line.kind.value}")
    if line.reverses_id:
        words += f" ({i18n.gettext(language, 'statement_reversal')})"
    return words


def about_words(line: StatementLine, language: str) -> str:
    """What the line is about, in words ("Order", "Penalty on order", "Payout"), or nothing."""
    key = ABOUT_WORDS.get(line.subject_type or "")
    return i18n.gettext(language, key) if key else ""


def note(line: StatementLine) -> str:
    """A note worth a reader's eye: an adjustment's memo, a reversal's reason (a rule's own
    memo is for the records)."""
    if line.memo and (line.reverses_id or line.kind is EntryKind.adjustment):
        return line.memo
    return ""


# -- CSV --------------------------------------------------------------------------------------


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(statement: Statement, language: str) -> str:
    """The statement as CSV: header rows (store, period, zone, currency), the opening, one row
    per line (local time, kind and subject in words, reference, amount, balance), the closing,
    then the deposit held; amounts in major units (12.34), no symbol or grouping."""
    t = lambda key: _t(language, key)  # noqa: E731
    code = statement.currency

    def money(minor: int) -> str:
        return major_text(minor, code)

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    width = 7

    def row(*cells: str) -> None:
        writer.writerow([*cells, *[""] * (width - len(cells))])

    zone = ZoneInfo(statement.timezone)
    row(t("statement_title"), _text(statement.store_name))
    row(t("statement_period"), period_words(statement, language))
    row(t("statement_zone"), statement.timezone)
    row(t("statement_currency"), code)
    row()
    row(
        t("statement_when"),
        t("statement_kind"),
        t("statement_about"),
        t("statement_reference"),
        t("statement_amount"),
        t("statement_balance"),
        t("statement_note"),
    )
    row(t("statement_opening"), "", "", "", "", money(statement.opening_minor))
    for line in statement.lines:
        row(
            line.posted_at.astimezone(zone).strftime(CSV_TIME),
            kind_words(line, language),
            about_words(line, language),
            line.reference,
            money(line.amount_minor),
            money(line.balance_minor),
            _text(note(line)),
        )
    row(t("statement_closing"), "", "", "", "", money(statement.closing_minor))
    row()
    row(t("statement_deposit_opening"), "", "", "", "", money(statement.deposit_opening_minor))
    row(t("statement_deposit_closing"), "", "", "", "", money(statement.deposit_closing_minor))
    return buffer.getvalue()


def csv_bytes(statement: Statement, language: str) -> bytes:
    """The CSV as UTF-8 with a byte-order mark, which spreadsheets need to read Chinese."""
    return to_csv(statement, language).encode("utf-8-sig")


# -- PDF --------------------------------------------------------------------------------------


def _markup(text: str) -> str:
    """Paragraph markup drawing each character in the first font that has it."""
    return "".join(
        escape(run) if font == FONT else f'<font face="{font}">{escape(run)}</font>'
        for font, run in _runs(text)
    )


def _width(text: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(run, font, size) for font, run in _runs(text))


def _draw(canvas: Canvas, x: float, y: float, text: str, size: float) -> None:
    for font, run in _runs(text):
        canvas.setFont(font, size)
        canvas.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, font, size)


def _style(size: float, **extra: Any) -> ParagraphStyle:
    return ParagraphStyle(
        f"s{size}", fontName=FONT, fontSize=size, leading=size * 1.3, wordWrap="CJK", **extra
    )


GREY = colors.HexColor("#667085")
LINE = colors.HexColor("#d0d5dd")
SHADE = colors.HexColor("#f2f4f7")
MARGIN = 15 * mm
COLUMNS = [27 * mm, 37 * mm, 60 * mm, 28 * mm, 28 * mm]


def _summary(statement: Statement, language: str) -> Table:
    t = lambda key: _t(language, key)  # noqa: E731
    code = statement.currency

    def money(minor: int) -> str:
        return format_minor(minor, code, language)

    rows = [
        (t("statement_opening"), money(statement.opening_minor)),
        (t("statement_money_in"), money(statement.money_in_minor)),
        (t("statement_money_out"), money(statement.money_out_minor)),
        (t("statement_closing"), money(statement.closing_minor)),
        (
            t("statement_deposit"),
            f"{money(statement.deposit_opening_minor)} → {money(statement.deposit_closing_minor)}",
        ),
    ]
    body = _style(9.5)
    table = Table(
        [[Paragraph(_markup(a), body), Paragraph(_markup(b), body)] for a, b in rows],
        colWidths=[60 * mm, 70 * mm],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, LINE),
                ("BACKGROUND", (0, 3), (-1, 3), SHADE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _lines(statement: Statement, language: str) -> Table:
    t = lambda key: _t(language, key)  # noqa: E731
    code, zone = statement.currency, statement.timezone
    small, body = _style(7.5, textColor=GREY), _style(8.5)

    def money(minor: int) -> str:
        return format_minor(minor, code, language)

    def fitted(text: str) -> str | Paragraph:
        # A time in another year than the period's start is longer: wrap it, the rest stay text.
        return text if _width(text, 8.5) < COLUMNS[0] - 12 else Paragraph(_markup(text), body)

    def signed(minor: int) -> str:
        return ("+" if minor > 0 else "") + money(minor)

    header = [
        t("statement_when"),
        t("statement_kind"),
        t("statement_about"),
        t("statement_amount"),
        t("statement_balance"),
    ]
    data: list[list[Any]] = [header]
    data.append(
        [
            Paragraph(_markup(t("statement_opening")), body),
            "",
            "",
            "",
            money(statement.opening_minor),
        ]
    )
    for line in statement.lines:
        what = _markup(kind_words(line, language))
        if note(line):
            what += f"<br/><font size=7>{_markup(note(line))}</font>"
        about = " ".join(p for p in (about_words(line, language), line.reference) if p)
        data.append(
            [
                fitted(i18n.local_time(line.posted_at, zone, language, now=statement.start)),
                Paragraph(what, body),
                Paragraph(_markup(about), small),
                signed(line.amount_minor),
                money(line.balance_minor),
            ]
        )
    data.append(
        [
            Paragraph(_markup(t("statement_closing")), body),
            "",
            "",
            "",
            money(statement.closing_minor),
        ]
    )
    last = len(data) - 1
    table = Table(data, colWidths=COLUMNS, repeatRows=1)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("FONTSIZE", (0, 0), (-1, 0), 8),
        ("TEXTCOLOR", (0, 0), (-1, 0), GREY),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 1), (-1, -2), 0.3, LINE),
        ("ALIGN", (3, 0), (4, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("SPAN", (0, 1), (3, 1)),
        ("SPAN", (0, last), (3, last)),
        ("BACKGROUND", (0, 1), (-1, 1), SHADE),
        ("BACKGROUND", (0, last), (-1, last), SHADE),
        ("LINEABOVE", (0, last), (-1, last), 0.8, colors.black),
    ]
    table.setStyle(TableStyle(style))
    return table


def render_pdf(statement: Statement, language: str) -> bytes:
    """The statement as an A4 PDF: a heading, the summary, every line with the balance after
    it, the closing; the store, period and page number at the foot of each page."""
    _fonts()
    lang = i18n.language(language)
    t = lambda key, **kw: _t(lang, key, **kw)  # noqa: E731
    period = period_words(statement, lang)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 6 * mm,
        title=f"{t('statement_title')} {statement.store_name} {period}",
        author="tuoguan",
    )

    def foot(canvas: Canvas, _: Any) -> None:
        canvas.saveState()
        canvas.setFillColor(GREY)
        _draw(canvas, MARGIN, MARGIN, f"{statement.store_name} · {period}", 7.5)
        page = t("statement_page", n=canvas.getPageNumber())
        _draw(canvas, A4[0] - MARGIN - _width(page, 7.5), MARGIN, page, 7.5)
        canvas.restoreState()

    heading = f"{t('statement_title')} · {statement.store_name}"
    facts = " · ".join((period, statement.currency, f"{t('statement_zone')} {statement.timezone}"))
    story: list[Any] = [
        Paragraph(_markup(heading), _style(16)),
        Spacer(1, 2 * mm),
        Paragraph(_markup(facts), _style(9.5, textColor=GREY)),
        Spacer(1, 2 * mm),
        Paragraph(_markup(t("statement_explain")), _style(8, textColor=GREY)),
        Spacer(1, 4 * mm),
        _summary(statement, lang),
        Spacer(1, 6 * mm),
        _lines(statement, lang),
    ]
    if not statement.lines:
        story += [Spacer(1, 3 * mm), Paragraph(_markup(t("statement_no_lines")), _style(9))]
    doc.build(story, onFirstPage=foot, onLaterPages=foot)
    return buffer.getvalue()


def to_pdf(statement: Statement, language: str) -> bytes:
    """The statement as an A4 PDF (``render_pdf``), drawn in the calling thread."""
    return render_pdf(statement, language)


def _turn() -> anyio.CapacityLimiter:
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(RENDER_THREADS)
    if _limiter.statistics().tasks_waiting >= RENDER_QUEUE:
        raise Busy("statements are being drawn for many requests at once; try again in a moment")
    return _limiter


async def pdf(statement: Statement, language: str) -> bytes:
    """``render_pdf`` in a worker thread, so a long statement never stalls other requests."""
    _fonts()  # registered once, before threads share reportlab's font table
    return await anyio.to_thread.run_sync(render_pdf, statement, language, limiter=_turn())

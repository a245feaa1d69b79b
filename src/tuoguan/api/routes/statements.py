"""A store's statement (对账单, issue 14): what the platform owes the seller at the start of a
period, each entry that changed it with the balance after it, and at the end, reconciled to the
minor unit; as JSON, CSV or an A4 PDF. A seller reads its own stores', operators any store's."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from tuoguan.api import access
from tuoguan.api.deps import ClockDep, PrincipalDep, get_database
from tuoguan.api.openapi import refusal
from tuoguan.api.routes.sla import api_language
from tuoguan.kit.clock import UTCInstant
from tuoguan.ledger.kinds import EntryKind
from tuoguan.principal import Role
from tuoguan.settlement import statement_files, statements
from tuoguan.stores import service as stores

router = APIRouter(tags=["statements"])
READERS = access.roles(Role.operator, Role.seller)
BINARY = {"schema": {"type": "string", "format": "binary"}}
FILES = {
    200: {
        "description": "The statement: JSON (format=json), CSV (format=csv, UTF-8 with a BOM) "
        "or an A4 PDF (format=pdf).",
        "content": {"text/csv": {"schema": {"type": "string"}}, "application/pdf": BINARY},
    },
    **refusal(429, "PDFs are being drawn for many requests at once: wait Retry-After seconds."),
}


class StatementFormat(StrEnum):
    """What the statement comes as."""

    json = "json"
    csv = "csv"
    pdf = "pdf"


class StatementLineRead(BaseModel):
    """One entry that changed the balance, and the balance after it."""

    entry_id: str = Field(description="The journal entry: GET /ledger/entries/{entry_id}.")
    posted_at: datetime
    kind: EntryKind
    reversal: bool = Field(description="Whether the entry reverses an earlier one.")
    subject_type: str | None = Field(
        description="What the entry is about: order, penalty, claim, shipment, payout..."
    )
    subject_id: str | None
    order_id: str | None = Field(description="The order the subject concerns, where one does.")
    memo: str | None
    amount_minor: int = Field(description="+ raised what the seller is due, - lowered it.")
    balance_minor: int = Field(description="The balance after this line.")


class StatementRead(BaseModel):
    """A store's statement for [start, end) in one currency; opening + lines = closing."""

    store_id: str
    currency: str
    start: datetime
    end: datetime
    period: str | None = Field(description="The month (YYYY-MM), when one was asked for.")
    timezone: str = Field(description="The store's zone, in which a month is counted.")
    opening_minor: int = Field(
        description="What the platform owed the seller at the start: receivable + payout "
        "clearing - payable."
    )
    money_in_minor: int
    money_out_minor: int
    closing_minor: int
    deposit_opening_minor: int = Field(description="The deposit held at the start.")
    deposit_closing_minor: int = Field(description="The deposit held at the end.")
    lines: list[StatementLineRead]


def present(found: statements.Statement) -> StatementRead:
    """A statement as the API answers it."""
    return StatementRead(
        store_id=found.store_id,
        currency=found.currency,
        start=found.start,
        end=found.end,
        period=found.period,
        timezone=found.timezone,
        opening_minor=found.opening_minor,
        money_in_minor=found.money_in_minor,
        money_out_minor=found.money_out_minor,
        closing_minor=found.closing_minor,
        deposit_opening_minor=found.deposit_opening_minor,
        deposit_closing_minor=found.deposit_closing_minor,
        lines=[
            StatementLineRead(
                entry_id=line.entry_id,
                posted_at=line.posted_at,
                kind=line.kind,
                reversal=line.reverses_id is not None,
                subject_type=line.subject_type,
                subject_id=line.subject_id,
                order_id=line.order_id,
                memo=line.memo,
                amount_minor=line.amount_minor,
                balance_minor=line.balance_minor,
            )
            for line in found.lines
        ],
    )


def file_name(found: statements.Statement, suffix: str) -> str:
    """statement-<store>-<period or start date>-<currency>.<suffix>."""
    when = found.period or f"{found.start:%Y%m%d}-{found.end:%Y%m%d}"
    return f"statement-{found.store_id}-{when}-{found.currency}.{suffix}"


@router.get(
    "/stores/{store_id}/statement", response_model=StatementRead, responses=FILES, **READERS
)
async def get_statement(
    store_id: Annotated[str, Path(max_length=40)],
    request: Request,
    principal: PrincipalDep,
    clock: ClockDep,
    period: Annotated[
        str | None,
        Query(
            max_length=7,
            description="A month, YYYY-MM, in the store's zone (default, without start and "
            "end: this month).",
        ),
    ] = None,
    start: Annotated[
        UTCInstant | None, Query(description="With end instead of period: from this instant.")
    ] = None,
    end: Annotated[UTCInstant | None, Query(description="Up to (not including) this.")] = None,
    currency: Annotated[
        str | None, Query(max_length=8, description="ISO 4217; default the store's currency.")
    ] = None,
    fmt: Annotated[
        StatementFormat, Query(alias="format", description="json, csv or pdf.")
    ] = StatementFormat.json,
) -> StatementRead | Response:
    """A store's statement: ``period=YYYY-MM`` (the month in the store's zone; this month when
    neither form is given) or ``start`` and ``end`` (instants with their offset, at most 366
    days apart), in ``currency`` (default the store's). The opening balance (what the platform owes the seller: receivable + payout
    clearing - payable), each entry that changed it with the balance after it and what it is
    about, and the closing balance; opening + lines = closing. Entries moving money inside that
    balance (payout prepared, debt netted) are not lines. A seller reads its own stores' (another
    store: 404). 422 naming the field and the rule: ``period_or_range`` (both forms),
    ``year_month``, ``required_with_start``, ``after_start``, ``max_days``, ``iso_4217``. A CSV
    or PDF reads in the request's Accept-Language (zh-CN or en; English when neither)."""
    lang = api_language(request.headers.get("accept-language"))
    async with get_database(request).read() as session:
        store = await stores.get_store(session, principal=principal, store_id=store_id)
        if period is None and start is None and end is None:  # this month, so far
            period = statements.month_of(clock.now(), store.timezone)
        first, last = statements.bounds(store.timezone, period=period, start=start, end=end)
        found = await statements.statement(
            session,
            store_id=store.id,
            currency=currency if currency is not None else store.currency,
            start=first,
            end=last,
        )
    found = replace(found, period=period.strip() if period is not None else None)
    if fmt is StatementFormat.csv:
        return Response(
            statement_files.csv_bytes(found, lang),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{file_name(found, "csv")}"'},
        )
    if fmt is StatementFormat.pdf:
        return Response(
            await statement_files.pdf(found, lang),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{file_name(found, "pdf")}"'},
        )
    return present(found)

"""Receiving an inbound notice (收货, R1): the cartons arrive, staff count each SKU as good or
defective (清点, 验货), and what differs from the notice is kept as a discrepancy (收货异常, R2).

Who: warehouse staff of the notice's warehouse, and operators. Staff of another warehouse get
404 for the notice, exactly as a seller does for another seller's objects.

**Put-away (入库) happens with the count.** Each count is put away at once: good units go on
hand and become available in the same transaction (ledger ``receipt``), so an order waiting for
them is served right after (``fulfilment.service.serve_waiting``) and a notice left open for
days does not hide stock that is on the shelf. There is no ledger kind for "received
defective": a defective count writes ``receipt`` then ``defective`` (on hand up, then from on
hand to defective), two rows that say what happened. Each count also settles the announced
units it accounts for (``inbound_cancel``, up to what the line announced); closing settles the
rest of each line (what never arrived) and records it as a ``short`` discrepancy.

Counting is additive: a scanner sends one unit at a time, each request adding to the line, and
the same request sent again with its ``Idempotency-Key`` is answered from the first time
instead of counted twice (``api/mutation.py``). A request whose counts break a rule changes
nothing at all: every count is checked before any is applied.

Discrepancies are kept one per (kind, SKU) on a notice, so a case (R3) has one record per
problem: a count that adds to an ``over``, ``damaged`` or ``wrong_sku`` already recorded updates
it (its count, its note) and keeps who recorded it first; the audit trail keeps every count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.catalog.models import Sku
from tuoguan.context import Ctx
from tuoguan.errors import Forbidden, InvalidInput, NotFound
from tuoguan.errors import check_version as _check_version
from tuoguan.fulfilment import service as fulfilment
from tuoguan.fulfilment.discrepancies import Discrepancies, recorded_for
from tuoguan.fulfilment.inbound import REF_TYPE, enter, get_notice, lock
from tuoguan.fulfilment.inbound_schemas import CountLine, CountsCreate
from tuoguan.fulfilment.inbound_states import RECEIVERS, InboundAction, transition
from tuoguan.fulfilment.models import (
    DiscrepancyKind,
    InboundDiscrepancy,
    InboundLine,
    InboundNotice,
    InboundStatus,
)
from tuoguan.inventory import service as stock
from tuoguan.inventory.models import MoveKind
from tuoguan.principal import Principal, Role

K = DiscrepancyKind


def _receiver(principal: Principal) -> None:
    if principal.role not in RECEIVERS and principal.role is not Role.system:
        raise Forbidden("only the warehouse's staff or an operator receive an inbound notice")


async def _step(
    session: AsyncSession,
    ctx: Ctx,
    notice_id: str,
    action: InboundAction,
    expected_version: int | None,
) -> InboundNotice:
    """Move a notice one step along the table (arrive, start receiving), audited."""
    _receiver(ctx.principal)
    notice = await lock(session, principal=ctx.principal, notice_id=notice_id)
    step = transition(notice, action, ctx.principal)
    _check_version("inbound notice", notice.id, notice.version, expected_version)
    if action is InboundAction.arrive:
        notice.arrived_at = ctx.clock.now()
    enter(session, ctx, notice, step.targets[0], action)
    await session.flush()
    return notice


async def arrive(
    session: AsyncSession, *, ctx: Ctx, notice_id: str, expected_version: int | None = None
) -> InboundNotice:
    """The cartons reached the warehouse (到仓): in transit → arrived."""
    return await _step(session, ctx, notice_id, InboundAction.arrive, expected_version)


async def start_receiving(
    session: AsyncSession, *, ctx: Ctx, notice_id: str, expected_version: int | None = None
) -> InboundNotice:
    """Counting begins (开始收货): arrived → receiving (the first count does it too)."""
    return await _step(session, ctx, notice_id, InboundAction.start_receiving, expected_version)


# -- which line a scan names ------------------------------------------------------------------


class _Scan:
    """The notice's lines by every name a scanner may type: SKU id, barcode, code."""

    def __init__(self, lines: Sequence[InboundLine], skus: Sequence[Sku]) -> None:
        by_sku = {line.sku_id: line for line in lines}
        self.exact: dict[str, InboundLine] = {}
        self.folded: dict[str, InboundLine] = {}
        # Weakest first, so an id beats a barcode and a barcode beats a code.
        for sku in skus:
            line = by_sku[sku.id]
            for name in (sku.code, sku.barcode, sku.id):
                if name:
                    self.exact[name] = line
                    self.folded[name.casefold()] = line

    def line(self, code: str) -> InboundLine | None:
        return self.exact.get(code) or self.folded.get(code.casefold())


async def _scan(session: AsyncSession, notice: InboundNotice) -> _Scan:
    sku_ids = [line.sku_id for line in notice.lines]
    skus = list(await session.scalars(select(Sku).where(Sku.id.in_(sku_ids))))
    return _Scan(notice.lines, skus)


async def _store_sku(session: AsyncSession, store_id: str, code: str) -> Sku | None:
    """A SKU of the store a code names (by id, code or barcode), on the notice or not."""
    return await session.scalar(
        select(Sku)
        .where(Sku.store_id == store_id, or_(Sku.id == code, Sku.code == code, Sku.barcode == code))
        .limit(1)
    )


async def find_line(
    session: AsyncSession, *, principal: Principal, notice_id: str, code: str
) -> InboundLine:
    """The line of a notice a scanned SKU id, barcode or code names; 404 when none does."""
    notice = await get_notice(session, principal=principal, notice_id=notice_id)
    line = (await _scan(session, notice)).line(code.strip())
    if line is None:
        raise NotFound(
            f"no line of inbound notice {notice.id} is SKU {code}",
            field="code",
            rule="sku_not_on_notice",
        )
    return line


# -- counting ---------------------------------------------------------------------------------


@dataclass
class _Count:
    """One checked count: the line it adds to (None: a wrong SKU) and what it records."""

    item: CountLine
    named: str
    line: InboundLine | None
    wrong_sku: Sku | None = None


def _units_field(where: str, item: CountLine) -> str:
    return f"{where}.good" if item.good else f"{where}.defective"


async def _check_counts(
    session: AsyncSession,
    notice: InboundNotice,
    counts: Sequence[CountLine],
    recorded: Sequence[InboundDiscrepancy],
) -> list[_Count]:
    """Every count of a request, checked against the notice before any is applied."""
    scan = await _scan(session, notice)
    totals = {line.id: line.received_good + line.received_defective for line in notice.lines}
    over_allowed = {d.sku_id for d in recorded if d.kind is K.over}
    checked: list[_Count] = []
    for i, item in enumerate(counts):
        where = f"counts.{i}"
        if item.sku_id is None and item.code is None:
            raise InvalidInput(
                "name the SKU counted: its sku_id, or its code or barcode as scanned",
                field=f"{where}.code",
                rule="sku_named",
            )
        named = item.code if item.code is not None else str(item.sku_id)
        field = f"{where}.code" if item.code is not None else f"{where}.sku_id"
        units = item.good + item.defective
        if units < 1:
            raise InvalidInput(
                "a count adds at least one unit, good or defective",
                field=f"{where}.good",
                rule="count_positive",
            )
        kind = item.discrepancy.kind if item.discrepancy else None
        if kind is K.short:
            raise InvalidInput(
                "a short receipt is recorded when the notice is closed",
                field=f"{where}.discrepancy.kind",
                rule="short_recorded_at_close",
            )
        line = scan.line(named)
        if item.sku_id is not None and item.code is not None and line is not scan.line(item.sku_id):
            raise InvalidInput(
                f"sku_id {item.sku_id} and code {item.code} name different SKUs",
                field=f"{where}.code",
                rule="sku_code_agree",
            )
        if line is None:
            if kind is not K.wrong_sku:
                raise InvalidInput(
                    f"SKU {named} is not on inbound notice {notice.id}; to keep it, record it "
                    "as a wrong_sku discrepancy (it is not put into stock)",
                    field=field,
                    rule="sku_not_on_notice",
                )
            found = await _store_sku(session, notice.store_id, named)
            checked.append(_Count(item=item, named=named, line=None, wrong_sku=found))
            continue
        if kind is K.wrong_sku:
            raise InvalidInput(
                f"SKU {named} is on the notice: count it, it is not a wrong SKU",
                field=f"{where}.discrepancy.kind",
                rule="sku_on_notice",
            )
        after = totals[line.id] + units
        if after > line.expected:
            if kind is not K.over and line.sku_id not in over_allowed:
                raise InvalidInput(
                    f"this count makes {after} units of SKU {named}, {line.expected} announced: "
                    "record the extra as an `over` discrepancy",
                    field=_units_field(where, item),
                    rule="over_receipt_needs_discrepancy",
                    expected=line.expected,
                    counted=after,
                )
            over_allowed.add(line.sku_id)
        elif kind is K.over:
            raise InvalidInput(
                f"{after} units of SKU {named} are within the {line.expected} announced: "
                "nothing is over",
                field=f"{where}.discrepancy.kind",
                rule="not_over_expected",
            )
        totals[line.id] = after
        checked.append(_Count(item=item, named=named, line=line))
    return checked


async def _move(
    session: AsyncSession, ctx: Ctx, notice: InboundNotice, kind: MoveKind, sku_id: str, n: int
) -> None:
    reasons = {
        MoveKind.receipt: "counted and put away (入库)",
        MoveKind.defective: "counted defective on receipt (次品)",
        MoveKind.inbound_cancel: "announced units settled by receiving",
    }
    await stock.move(
        session,
        ctx=ctx,
        kind=kind,
        warehouse_id=notice.warehouse_id,
        sku_id=sku_id,
        quantity=n,
        reason=reasons.get(kind),
        ref_type=REF_TYPE,
        ref_id=notice.id,
    )


async def _apply(
    session: AsyncSession, ctx: Ctx, notice: InboundNotice, count: _Count, book: Discrepancies
) -> None:
    """Put one checked count away (see the module) and record what differs."""
    item, line = count.item, count.line
    note = item.discrepancy.note if item.discrepancy else None
    if line is None:
        book.record(
            K.wrong_sku,
            sku_id=count.wrong_sku.id if count.wrong_sku else None,
            scanned_code=count.named,
            expected=0,
            counted=item.good + item.defective,
            note=note,
            add=True,
        )
        return
    before = line.received_good + line.received_defective
    line.received_good += item.good
    line.received_defective += item.defective
    after = before + item.good + item.defective
    if item.good:
        await _move(session, ctx, notice, MoveKind.receipt, line.sku_id, item.good)
    if item.defective:
        await _move(session, ctx, notice, MoveKind.receipt, line.sku_id, item.defective)
        await _move(session, ctx, notice, MoveKind.defective, line.sku_id, item.defective)
    settled = min(after, line.expected) - min(before, line.expected)
    if settled:
        await _move(session, ctx, notice, MoveKind.inbound_cancel, line.sku_id, settled)
    kind = item.discrepancy.kind if item.discrepancy else None
    if after > line.expected:
        book.record(
            K.over,
            sku_id=line.sku_id,
            scanned_code=count.named,
            expected=line.expected,
            counted=after,
            note=note if kind is K.over else None,
            add=False,
        )
    if item.defective or kind is K.damaged:
        book.record(
            K.damaged,
            sku_id=line.sku_id,
            scanned_code=count.named,
            expected=line.expected,
            counted=item.defective,
            note=note if kind is K.damaged else None,
            add=True,
        )


def _count_log(counts: Sequence[_Count]) -> list[dict[str, Any]]:
    return [
        {
            "sku_id": c.line.sku_id if c.line else (c.wrong_sku.id if c.wrong_sku else None),
            "code": c.named,
            "good": c.item.good,
            "defective": c.item.defective,
            **({"discrepancy": c.item.discrepancy.kind.value} if c.item.discrepancy else {}),
        }
        for c in counts
    ]


async def count(
    session: AsyncSession, *, ctx: Ctx, notice_id: str, data: CountsCreate
) -> InboundNotice:
    """Add counts to a notice that arrived (the first count starts receiving); see the module
    for what each count writes. Refused whole (422) when any count breaks a rule."""
    _receiver(ctx.principal)
    notice = await lock(session, principal=ctx.principal, notice_id=notice_id)
    step = transition(notice, InboundAction.count_units, ctx.principal)
    recorded = await recorded_for(session, notice.id)
    checked = await _check_counts(session, notice, data.counts, recorded)
    book = Discrepancies(session, ctx, notice, recorded)
    for counted in checked:
        await _apply(session, ctx, notice, counted, book)
    enter(
        session,
        ctx,
        notice,
        step.targets[0],
        InboundAction.count_units,
        {"counts": _count_log(checked)},
    )
    await session.flush()
    put_away = sorted({c.line.sku_id for c in checked if c.line is not None and c.item.good})
    if put_away:
        await fulfilment.serve_waiting(
            session, ctx=ctx, warehouse_id=notice.warehouse_id, sku_ids=put_away
        )
    return notice


async def close(
    session: AsyncSession, *, ctx: Ctx, notice_id: str, expected_version: int | None = None
) -> InboundNotice:
    """Receiving is done (收货完成): each line counted short gets a ``short`` discrepancy and
    its missing units leave the ``inbound`` bucket; the notice is ``received`` when every line
    was counted good exactly as announced and nothing differed, else
    ``closed_with_discrepancies``. Then orders waiting for the SKUs received are served."""
    _receiver(ctx.principal)
    notice = await lock(session, principal=ctx.principal, notice_id=notice_id)
    transition(notice, InboundAction.close, ctx.principal)
    _check_version("inbound notice", notice.id, notice.version, expected_version)
    book = Discrepancies(session, ctx, notice, await recorded_for(session, notice.id))
    short = []
    for line in notice.lines:
        counted = line.received_good + line.received_defective
        if counted >= line.expected:
            continue
        await _move(
            session, ctx, notice, MoveKind.inbound_cancel, line.sku_id, line.expected - counted
        )
        book.record(
            K.short,
            sku_id=line.sku_id,
            scanned_code=None,
            expected=line.expected,
            counted=counted,
            note=None,
            add=False,
        )
        short.append({"sku_id": line.sku_id, "expected": line.expected, "counted": counted})
    exact = not book.rows and all(line.received_good == line.expected for line in notice.lines)
    notice.received_at = ctx.clock.now()
    enter(
        session,
        ctx,
        notice,
        InboundStatus.received if exact else InboundStatus.closed_with_discrepancies,
        InboundAction.close,
        {"short": short, "discrepancies": len(book.rows)},
    )
    await session.flush()
    received = sorted({line.sku_id for line in notice.lines if line.received_good})
    if received:
        await fulfilment.serve_waiting(
            session, ctx=ctx, warehouse_id=notice.warehouse_id, sku_ids=received
        )
    return notice

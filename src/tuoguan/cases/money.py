"""What a case's decision posts, through the ledger's entry kinds, in the decision's
transaction (R3, G4, G6, M3).

- **Receiving exceptions.** ``compensate`` pays the seller (``case_compensation``); when the
  carrier bears it, the platform also books what the carrier owes it (``carrier_charged``).
  ``return_to_seller`` borne by the seller may charge it the return postage
  (``shipping_fee_charged``). ``accept_counts`` and ``reship`` move no money.
- **Disputes.** ``refund_full`` and ``refund_partial`` refund the buyer through the refunds of
  ``shipping.refunds``: at most what the buyer paid less its refunds, borne by the platform
  inside a full-managed order's 3-month exemption and by the seller outside it. ``reject``
  moves no money.
- **An overturned appeal** undoes the first decision's money: its entries are reversed, and a
  refund the buyer has kept moves from the seller to the platform (the buyer is never asked to
  pay back); then the new decision's money is posted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.cases.kinds import Bearer, CaseKind
from tuoguan.cases.models import Case
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, InvalidInput
from tuoguan.ledger import service as ledger
from tuoguan.ledger.kinds import EntryKind
from tuoguan.orders import service as orders
from tuoguan.shipping import refunds
from tuoguan.shipping import repository as shipping_reads
from tuoguan.shipping.money_models import Refund
from tuoguan.shipping.refund_schemas import RefundCreate
from tuoguan.stores.modes import Party


@dataclass
class Posted:
    entry_ids: list[str] = field(default_factory=list)
    refund_ids: list[str] = field(default_factory=list)
    amount_minor: int | None = None


async def _post(
    session: AsyncSession,
    ctx: Ctx,
    case: Case,
    kind: EntryKind,
    amount: int,
    reason: str,
    *,
    platform: bool = False,
    step: str,
) -> str:
    entry = await ledger.post(
        session,
        ctx,
        kind,
        currency=case.currency,
        parts={"amount": amount},
        store_id=None if platform else case.store_id,
        subject=("case", case.id),
        idem_key=f"case:{case.id}:{step}:{kind.value}",
        memo=f"case {case.id}: {reason}"[:500],
    )
    return entry.id


async def apply(
    session: AsyncSession,
    ctx: Ctx,
    case: Case,
    decision: str,
    bearer: Bearer | None,
    amount: int | None,
    reason: str,
    *,
    step: str = "decision",
) -> Posted:
    """Post what ``decision`` moves (see the module); nothing for a decision that moves none."""
    posted = Posted(amount_minor=amount)
    if case.kind is CaseKind.receiving_exception:
        if decision == "compensate" and amount is not None:
            posted.entry_ids.append(
                await _post(
                    session, ctx, case, EntryKind.case_compensation, amount, reason, step=step
                )
            )
            if bearer is Bearer.carrier:
                posted.entry_ids.append(
                    await _post(
                        session,
                        ctx,
                        case,
                        EntryKind.carrier_charged,
                        amount,
                        reason,
                        platform=True,
                        step=step,
                    )
                )
        elif decision == "return_to_seller" and amount is not None:
            if bearer is not Bearer.seller:
                raise InvalidInput(
                    "the return's postage is charged only to a seller that bears the return",
                    field="amount_minor",
                    rule="postage_seller_only",
                )
            posted.entry_ids.append(
                await _post(
                    session, ctx, case, EntryKind.shipping_fee_charged, amount, reason, step=step
                )
            )
        return posted
    if decision in ("refund_full", "refund_partial"):
        assert case.order_id is not None
        if decision == "refund_full":
            order = await orders.lock_order(
                session, principal=ctx.principal, order_id=case.order_id
            )
            amount = order.total_minor - await shipping_reads.refunded_minor(session, order.id)
            if amount <= 0:
                raise Conflict(
                    f"order {order.id} was refunded in full already",
                    field="decision",
                    rule="nothing_to_refund",
                )
        assert amount is not None
        row = await refunds.refund(
            session,
            ctx=ctx,
            order_id=case.order_id,
            data=RefundCreate(amount_minor=amount, currency=case.currency, reason=reason[:500]),
        )
        posted.refund_ids.append(row.id)
        posted.entry_ids.append(row.entry_id)
        posted.amount_minor = amount
    return posted


async def overturn(
    session: AsyncSession,
    ctx: Ctx,
    case: Case,
    decision: str,
    bearer: Bearer | None,
    amount: int | None,
    reason: str,
) -> Posted:
    """Undo the first decision's money and post the new one's (see the module)."""
    posted = Posted(amount_minor=amount)
    why = f"appeal on case {case.id}: {reason}"[:500]
    kept = list(await session.scalars(select(Refund).where(Refund.id.in_(case.refund_ids or [""]))))
    refund_entries = {r.entry_id for r in kept}
    for entry_id in case.entry_ids:
        if entry_id not in refund_entries:
            posted.entry_ids.append((await ledger.reverse(session, ctx, entry_id, why)).id)
    if case.kind is CaseKind.receiving_exception:
        new = await apply(session, ctx, case, decision, bearer, amount, reason, step="appeal")
        posted.entry_ids += new.entry_ids
        return posted
    refunded = sum(r.amount_minor for r in kept)
    if decision == "refund_partial" and amount is not None and amount < refunded:
        raise Conflict(
            f"the buyer was refunded {refunded} already and keeps it: an appeal does not "
            "take a refund back",
            field="amount_minor",
            rule="refund_kept",
            refunded_minor=refunded,
        )
    if decision == "reject":
        # The seller won: what the buyer keeps, the platform bears instead.
        for row in kept:
            if row.bearer is Party.seller:
                posted.entry_ids.append((await ledger.reverse(session, ctx, row.entry_id, why)).id)
                posted.entry_ids.append(
                    await _post(
                        session,
                        ctx,
                        case,
                        EntryKind.refund_borne_by_platform,
                        row.amount_minor,
                        why,
                        platform=True,
                        step=f"appeal:{row.id}",
                    )
                )
                row.bearer = Party.platform
        posted.amount_minor = refunded or None
        return posted
    if decision == "refund_partial" and amount == refunded:
        posted.amount_minor = refunded  # the refund made stands as it is
        return posted
    if decision == "refund_partial" and amount is not None:
        amount = amount - refunded
    new = await apply(session, ctx, case, decision, bearer, amount, reason, step="appeal")
    posted.entry_ids += new.entry_ids
    posted.refund_ids += new.refund_ids
    posted.amount_minor = refunded + (new.amount_minor or 0)
    return posted

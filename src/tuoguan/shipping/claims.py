"""Insurance claims on insured shipments (G3). Never commits.

A seller (or an operator for them) claims on an insured parcel that the
carrier reported lost, or that arrived damaged (within 15 days of delivery, the
after-sales window of G6), with evidence. The claim is capped by the cover the
premium bought: the declared value up to the rate card's cover limit. An
operator approves an amount up to the claim, or rejects it with a reason. An
approved claim is paid to the seller in the same transaction: the ledger's
``insurance_claim_paid`` credits the store's receivable and records what the
insurer owes the platform (``shipping.money.pay_claim``).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from tuoguan.kit import i18n
from tuoguan.kit.clock import as_utc
from tuoguan.kit.ids import new_id
from tuoguan.kit.keyset import Keyset
from tuoguan.notify import service as notify
from tuoguan.orders import service as orders
from tuoguan.principal import Principal, Role
from tuoguan.shipping import money, shipments
from tuoguan.shipping.models import (
    ClaimKind,
    ClaimStatus,
    InsuranceClaim,
    RateCardVersion,
    Shipment,
    ShipmentStatus,
)
from tuoguan.shipping.shipment_schemas import ClaimApprove, ClaimCreate, ClaimReject

DAMAGE_WINDOW = timedelta(days=15)
# The shipment statuses each kind of claim may be filed in.
CLAIMABLE = {
    ClaimKind.loss: frozenset({ShipmentStatus.lost}),
    ClaimKind.damage: frozenset({ShipmentStatus.delivered, ShipmentStatus.exception}),
}


async def cover_of(session: AsyncSession, shipment: Shipment) -> int:
    """What the premium insured: the declared value up to the card's cover limit."""
    card = await session.get(RateCardVersion, shipment.rate_card_id)
    assert card is not None
    insurance = card.rate_card().insurance
    limit = insurance.max_cover_minor if insurance else 0
    return min(shipment.declared_value_minor, limit)


async def file(
    session: AsyncSession, *, ctx: Ctx, shipment_id: str, data: ClaimCreate
) -> InsuranceClaim:
    """G3: claim on an insured shipment's loss or damage."""
    if ctx.principal.role not in (Role.seller, Role.operator):
        raise Forbidden("only the seller or an operator files a claim")
    shipment = await shipments.get_shipment(
        session, principal=ctx.principal, shipment_id=shipment_id
    )
    if not shipment.insured:
        raise InvalidInput(
            f"shipment {shipment.id} was not insured", field="shipment_id", rule="insured"
        )
    if shipment.status not in CLAIMABLE[data.kind]:
        allowed = ", ".join(sorted(s.value for s in CLAIMABLE[data.kind]))
        raise Conflict(
            f"a {data.kind.value} claim needs a shipment that is {allowed}; "
            f"this one is {shipment.status.value}",
            field="kind",
            rule="claimable_status",
        )
    now = ctx.clock.now()
    if (
        data.kind is ClaimKind.damage
        and shipment.delivered_at is not None
        and now > as_utc(shipment.delivered_at) + DAMAGE_WINDOW
    ):
        raise Conflict(
            "damage is claimed within 15 days of delivery", field="kind", rule="claim_window"
        )
    cover = await cover_of(session, shipment)
    if data.amount_minor > cover:
        raise InvalidInput(
            f"the cover is {cover} {shipment.currency} minor units; claim at most that",
            field="amount_minor",
            rule="within_cover",
        )
    claim = InsuranceClaim(
        id=new_id("claim"),
        shipment_id=shipment.id,
        order_id=shipment.order_id,
        seller_id=shipment.seller_id,
        kind=data.kind,
        status=ClaimStatus.filed,
        currency=shipment.currency,
        claimed_minor=data.amount_minor,
        cover_minor=cover,
        description=data.description,
        evidence=list(data.evidence),
        filed_at=now,
        filed_by=ctx.principal.actor_id,
    )
    open_claim = await session.scalar(
        select(InsuranceClaim.id).where(
            InsuranceClaim.shipment_id == shipment.id,
            InsuranceClaim.status != ClaimStatus.rejected,
        )
    )
    taken = Conflict(
        f"shipment {shipment.id} already has a claim that was not rejected",
        field="shipment_id",
        rule="one_open_claim",
    )
    if open_claim is not None:
        raise taken
    try:
        # A savepoint: a concurrent claim that wins the unique index leaves this transaction usable.
        async with session.begin_nested():
            session.add(claim)
    except IntegrityError as exc:
        raise taken from exc
    _record(session, ctx, claim, "file", None, {"claimed_minor": claim.claimed_minor})
    return claim


def _record(
    session: AsyncSession,
    ctx: Ctx,
    claim: InsuranceClaim,
    action: str,
    source: ClaimStatus | None,
    data: dict[str, int | str],
    reason: str | None = None,
) -> None:
    for subject_type, subject_id in (("claim", claim.id), ("order", claim.order_id)):
        audit.record(
            session,
            ctx=ctx,
            subject_type=subject_type,
            subject_id=subject_id,
            action=f"claim_{action}",
            from_state=source.value if source else None,
            to_state=claim.status.value,
            reason=reason,
            data={"claim_id": claim.id, **data},
        )


def _visible(principal: Principal) -> Select[InsuranceClaim]:
    query = select(InsuranceClaim)
    if principal.is_operator:
        return query
    if principal.role is Role.seller and principal.seller_id:
        return query.where(InsuranceClaim.seller_id == principal.seller_id)
    return query.where(InsuranceClaim.id.is_(None))


async def get_claim(
    session: AsyncSession, *, principal: Principal, claim_id: str
) -> InsuranceClaim:
    """A claim the principal may see; anyone else's is not found."""
    found = await session.scalar(_visible(principal).where(InsuranceClaim.id == claim_id))
    if found is None:
        raise NotFound(f"claim {claim_id} not found", field="claim_id")
    return found


CLAIMS_NEWEST = Keyset((InsuranceClaim.id,), ("id",), descending=True)


async def list_claims(
    session: AsyncSession,
    *,
    principal: Principal,
    status: ClaimStatus | None = None,
    order_id: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[InsuranceClaim], str | None]:
    """Claims newest first and the next page's cursor: a seller its own, operators all
    (status=filed is the queue); each filter reads its ``(…, id)`` index."""
    query = _visible(principal)
    if order_id is not None:
        # The order's own range; a seller's filter by an order not theirs is an empty page.
        if principal.role is Role.seller:
            try:
                await orders.get_order(session, principal=principal, order_id=order_id)
            except NotFound:
                CLAIMS_NEWEST.seek(cursor)  # a bad cursor is still a 400
                return [], None
            query = select(InsuranceClaim)
        query = query.where(InsuranceClaim.order_id == order_id)
        # One (order_id, status, id) range per status, merged.
        statuses = [status] if status is not None else list(ClaimStatus)
        queries = [query.where(InsuranceClaim.status == s) for s in statuses]
        return await CLAIMS_NEWEST.page(session, queries, cursor=cursor, limit=limit)
    if status is not None:
        query = query.where(InsuranceClaim.status == status)
    return await CLAIMS_NEWEST.page(session, [query], cursor=cursor, limit=limit)


async def decide(
    session: AsyncSession,
    *,
    ctx: Ctx,
    claim_id: str,
    decision: ClaimApprove | ClaimReject,
) -> InsuranceClaim:
    """An operator approves an amount up to the claim, or rejects it with a reason."""
    if not ctx.principal.is_operator:
        raise Forbidden("only an operator decides a claim")
    claim = await session.scalar(
        _visible(ctx.principal)
        .where(InsuranceClaim.id == claim_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if claim is None:
        raise NotFound(f"claim {claim_id} not found", field="claim_id")
    action = "approve" if isinstance(decision, ClaimApprove) else "reject"
    if claim.status is not ClaimStatus.filed:
        raise IllegalTransition(
            current=claim.status.value, action=action, allowed=[], subject="claim"
        )
    source = claim.status
    data: dict[str, int | str] = {}
    if isinstance(decision, ClaimApprove):
        if decision.amount_minor > claim.claimed_minor:
            raise InvalidInput(
                f"approve at most the {claim.claimed_minor} claimed",
                field="amount_minor",
                rule="within_claim",
            )
        claim.status = ClaimStatus.approved
        claim.approved_minor = decision.amount_minor
        data = {"approved_minor": decision.amount_minor}
    else:
        claim.status = ClaimStatus.rejected
    claim.decision_reason = decision.reason
    claim.decided_at = ctx.clock.now()
    claim.decided_by = ctx.principal.actor_id
    if claim.status is ClaimStatus.approved:  # G3: paid out, once (its key is the claim's)
        shipment = await session.get(Shipment, claim.shipment_id)
        assert shipment is not None
        entry = await money.pay_claim(session, ctx, claim, shipment)
        data["entry_id"] = entry.id
    _record(session, ctx, claim, action, source, data, decision.reason)
    notify.notify(
        session,
        ctx=ctx,
        seller_id=claim.seller_id,
        kind=f"claim_{claim.status.value}",
        subject_type="order",
        subject_id=claim.order_id,
        key=i18n.N_("note_claim_decided"),
        params={"outcome": i18n.label(f"claim_{claim.status.value}"), "reason": decision.reason},
    )
    await session.flush()
    return claim

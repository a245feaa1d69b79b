"""The case engine's ground: who is on a case, reading and locking one, its timeline and audit,
and opening one (R2, R3, G4); moving, messages and evidence are ``steps``, deciding and the
appeal ``decisions``. Never commits: each call is one transaction of the caller's, with the
case row locked, its timeline entry and its audit event.

Who is on a case (``party_of``): operators are the platform; the store's seller; staff of the
notice's warehouse (or receiving a return); the carrier named on it; the storefront (the buyer)
on a dispute or a return. Anyone
else reads a case as not found, and may not add to one they can see (403 ``not_a_party``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.cases.kinds import (
    KINDS,
    WORKING,
    CaseKind,
    CaseParty,
    CaseState,
    KindSpec,
)
from tuoguan.cases.models import Case, CaseEntry
from tuoguan.cases.schemas import (
    DisputeCreate,
    ReceivingCaseCreate,
)
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput, NotFound
from tuoguan.fulfilment import inbound
from tuoguan.fulfilment.discrepancies import PHOTO_STATES as RECEIVED_STATES
from tuoguan.fulfilment.models import DiscrepancyKind, InboundDiscrepancy
from tuoguan.kit import i18n
from tuoguan.kit.ids import new_id
from tuoguan.notify import service as notify
from tuoguan.onboarding import documents
from tuoguan.onboarding.review_models import Document
from tuoguan.orders import service as orders
from tuoguan.principal import SYSTEM, Principal, Role
from tuoguan.shipping.refunds import REFUNDABLE
from tuoguan.stores.models import Store

SUBJECT = "case"
# The kinds the storefront is a party to, for its buyer: disputes and returns.
BUYER_KINDS = (CaseKind.dispute, CaseKind.after_sale)
EVIDENCE = documents.CASE_EVIDENCE
FAR = datetime(9999, 12, 31, tzinfo=UTC)  # the queue's key for a case with no running deadline
# Causes that are a count's difference itself; the others (a label, the information, the
# system) say why a count differed and go with any discrepancy.
COUNT_CAUSES = frozenset({"short", "over", "damaged", "wrong_item"})
CAUSE_OF: dict[DiscrepancyKind, str] = {
    DiscrepancyKind.short: "short",
    DiscrepancyKind.over: "over",
    DiscrepancyKind.wrong_sku: "wrong_item",
    DiscrepancyKind.damaged: "damaged",
}


def party_of(principal: Principal, case: Case) -> CaseParty | None:
    """Which party the principal is on this case, or None."""
    role = principal.role
    if role in (Role.operator, Role.system):
        return CaseParty.platform
    if role is Role.seller:
        return CaseParty.seller if principal.seller_id == case.seller_id else None
    if role is Role.warehouse:
        on = case.warehouse_id is not None and case.warehouse_id in principal.warehouse_ids
        return CaseParty.warehouse if on else None
    if role is Role.carrier:
        on = case.carrier_code is not None and principal.carrier_code == case.carrier_code
        return CaseParty.carrier if on else None
    if role is Role.buyer_channel:
        return CaseParty.buyer if case.kind in BUYER_KINDS else None
    return None


def visible(principal: Principal) -> Select[Case]:
    """The cases a principal may read (a filter the lists and the lookups share)."""
    query = select(Case)
    role = principal.role
    if role in (Role.operator, Role.system):
        return query
    if role is Role.seller:
        return query.where(Case.seller_id == (principal.seller_id or ""))
    if role is Role.warehouse:
        return query.where(Case.warehouse_id.in_(principal.warehouse_ids or ("",)))
    if role is Role.carrier:
        return query.where(Case.carrier_code == (principal.carrier_code or ""))
    if role is Role.buyer_channel:
        return query.where(Case.kind.in_(BUYER_KINDS))
    return query.where(Case.id == "")


async def get_case(session: AsyncSession, *, principal: Principal, case_id: str) -> Case:
    case = await session.scalar(visible(principal).where(Case.id == case_id))
    if case is None:
        raise NotFound(f"case {case_id} not found", field="case_id")
    return case


async def lock_case(session: AsyncSession, *, principal: Principal, case_id: str) -> Case:
    """A visible case, read fresh and row-locked until the transaction ends."""
    await session.flush()
    case = await session.scalar(
        visible(principal)
        .where(Case.id == case_id)
        .with_for_update(of=Case)
        .execution_options(populate_existing=True)
    )
    if case is None:
        raise NotFound(f"case {case_id} not found", field="case_id")
    return case


def spec_of(case: Case) -> KindSpec:
    return KINDS[case.kind]


def appeal_by(case: Case) -> datetime | None:
    """Until when the one appeal may be made (the decided step's deadline)."""
    return case.step_due_at if case.state is CaseState.decided else None


def enter(case: Case, state: CaseState, now: datetime) -> None:
    step = spec_of(case).step(state)
    case.state = state
    case.state_entered_at = now
    case.step_owner = step.owner
    case.step_due_at = step.due(now, case.opened_at)
    case.warned_at = None
    case.breached_at = None
    case.queue_rank = 0 if state in WORKING or state is CaseState.appealed else 1
    if state is CaseState.closed:
        case.queue_rank, case.closed_at, case.step_due_at = 2, now, None
    case.queue_due_at = case.step_due_at or FAR


def append(
    session: AsyncSession,
    ctx: Ctx,
    case: Case,
    type_: str,
    *,
    party: CaseParty | None,
    text: str | None = None,
    document: Document | None = None,
    sha256: str | None = None,
    data: dict[str, object] | None = None,
) -> CaseEntry:
    """Add an entry to the case's timeline (its position under the case's lock)."""
    case.entry_count = (case.entry_count or 0) + 1
    entry = CaseEntry(
        id=new_id("case_entry"),
        case_id=case.id,
        position=case.entry_count,
        type=type_,
        party=party,
        actor_id=ctx.principal.actor_id,
        actor_role=ctx.principal.role,
        at=ctx.clock.now(),
        text=text,
        document_id=document.id if document else None,
        sha256=sha256 or (document.sha256 if document else None),
        data=data or {},
    )
    session.add(entry)
    return entry


def audit_case(
    session: AsyncSession,
    ctx: Ctx,
    case: Case,
    action: str,
    before: CaseState | None,
    reason: str | None = None,
    data: dict[str, object] | None = None,
) -> None:
    audit.record(
        session,
        ctx=ctx,
        subject_type=SUBJECT,
        subject_id=case.id,
        store_id=case.store_id,
        action=action,
        from_state=before.value if before else None,
        to_state=case.state.value,
        reason=reason,
        data=data or {},
    )


def tell_seller(
    session: AsyncSession, ctx: Ctx, case: Case, kind: str, key: str, **params: object
) -> None:
    notify.notify(
        session,
        ctx=ctx,
        seller_id=case.seller_id,
        kind=kind,
        subject_type=SUBJECT,
        subject_id=case.id,
        key=key,
        params={"kind": i18n.label(f"case_kind_{case.kind.value}"), **params},
        data={"case_id": case.id, "state": case.state.value},
    )


async def tell_buyer(
    session: AsyncSession, ctx: Ctx, case: Case, kind: str, key: str, **params: object
) -> None:
    """Tell the storefront, for its buyer and in the buyer's language, what moved on a dispute
    or a return (its webhook endpoints only; nothing on a case the buyer is not on)."""
    if case.kind not in BUYER_KINDS or case.order_id is None:
        return
    order = await orders.get_order(session, principal=SYSTEM, order_id=case.order_id)
    notify.tell_storefront(
        session,
        ctx=ctx,
        order_id=order.id,
        locale=order.buyer_locale,
        kind=kind,
        key=key,
        params={"kind": i18n.label(f"case_kind_{case.kind.value}"), **params},
        data={"case_id": case.id, "case_kind": case.kind.value, "state": case.state.value},
    )


# -- opening --------------------------------------------------------------------------------------


async def open_receiving(session: AsyncSession, ctx: Ctx, data: ReceivingCaseCreate) -> Case:
    """R2: a receiving exception on a notice the opener may see (its seller, staff of its
    warehouse, an operator); from a discrepancy of that notice where one is named (one case per
    discrepancy: 409 ``one_case_per_discrepancy``). Another seller's notice reads as not found."""
    principal = ctx.principal
    if principal.role not in (Role.seller, Role.warehouse, Role.operator):
        raise Forbidden(f"a {principal.role.value} does not raise receiving exceptions")
    notice = await inbound.lock(session, principal=principal, notice_id=data.notice_id)
    if notice.status not in RECEIVED_STATES:
        raise Conflict(
            f"notice {notice.id} is {notice.status.value}: a receiving exception is raised once "
            "the goods have reached the warehouse",
            field="notice_id",
            rule="notice_arrived",
            current_state=notice.status.value,
        )
    cause: str | None = data.cause
    discrepancy: InboundDiscrepancy | None = None
    if data.discrepancy_id is not None:
        discrepancy = await session.get(InboundDiscrepancy, data.discrepancy_id)
        if discrepancy is None or discrepancy.notice_id != notice.id:
            raise NotFound(
                f"discrepancy {data.discrepancy_id} is not one of notice {notice.id}'s",
                field="discrepancy_id",
            )
        taken = await session.scalar(select(Case.id).where(Case.discrepancy_id == discrepancy.id))
        if taken is not None:
            raise Conflict(
                f"discrepancy {discrepancy.id} already has its case, {taken}",
                field="discrepancy_id",
                rule="one_case_per_discrepancy",
                case_id=taken,
            )
        counted = CAUSE_OF[discrepancy.kind]
        if cause in COUNT_CAUSES and cause != counted:
            raise InvalidInput(
                f"discrepancy {discrepancy.id} is {discrepancy.kind.value}: its cause is "
                f"{counted}, or why the count differs (a label, the information, the system)",
                field="cause",
                rule="cause_matches_discrepancy",
            )
        cause = cause or counted
    if cause is None:
        raise InvalidInput(
            "name the cause (or the discrepancy it comes from)", field="cause", rule="required"
        )
    store = await session.get(Store, notice.store_id)
    assert store is not None
    return await open_case(
        session,
        ctx,
        Case(
            kind=CaseKind.receiving_exception,
            cause=cause,
            store_id=store.id,
            seller_id=notice.seller_id,
            mode=store.mode,
            notice_id=notice.id,
            discrepancy_id=discrepancy.id if discrepancy else None,
            warehouse_id=notice.warehouse_id,
            carrier_code=data.carrier_code,
            currency=store.currency,
            summary=data.summary,
        ),
    )


async def open_dispute(session: AsyncSession, ctx: Ctx, data: DisputeCreate) -> Case:
    """G4: the storefront opens a buyer's dispute on an order that shipped; one open dispute
    per order (409 ``one_open_dispute``); an order not shipped is cancelled instead (409
    ``refundable_state``). The seller answers first, except in full-managed, where the
    platform handles it alone."""
    if ctx.principal.role is not Role.buyer_channel:
        raise Forbidden("disputes are opened by the storefront, for its buyer")
    order = await orders.lock_order(session, principal=ctx.principal, order_id=data.order_id)
    if order.status not in REFUNDABLE:
        raise Conflict(
            f"order {order.id} is {order.status.value}: a dispute is about an order that "
            "shipped (one not shipped yet is cancelled instead)",
            field="order_id",
            rule="refundable_state",
            current_state=order.status.value,
        )
    open_one = await session.scalar(
        select(Case.id).where(
            Case.order_id == order.id,
            Case.kind == CaseKind.dispute,
            Case.state != CaseState.closed,
        )
    )
    if open_one is not None:
        raise Conflict(
            f"order {order.id} has an open dispute, {open_one}: add to it instead",
            field="order_id",
            rule="one_open_dispute",
            case_id=open_one,
        )
    return await open_case(
        session,
        ctx,
        Case(
            kind=CaseKind.dispute,
            cause=data.cause,
            store_id=order.store_id,
            seller_id=order.seller_id,
            mode=order.mode,
            order_id=order.id,
            currency=order.currency,
            summary=data.summary,
        ),
    )


async def open_case(session: AsyncSession, ctx: Ctx, case: Case) -> Case:
    now = ctx.clock.now()
    case.id = new_id("case")
    case.opened_by = ctx.principal.actor_id
    case.opened_role = ctx.principal.role
    case.opened_at = now
    case.entry_count = 0
    case.entry_ids, case.refund_ids = [], []
    enter(case, spec_of(case).first[case.mode], now)
    session.add(case)
    party = party_of(ctx.principal, case)
    append(session, ctx, case, "opened", party=party, text=case.summary, data={"cause": case.cause})
    audit_case(
        session, ctx, case, "open", None, data={"cause": case.cause, "kind": case.kind.value}
    )
    tell_seller(
        session,
        ctx,
        case,
        "case_opened",
        i18n.N_("case_note_opened"),
        cause=i18n.label(f"case_cause_{case.cause}"),
    )
    await session.flush()
    return case


def not_closed(case: Case) -> None:
    if case.state is CaseState.closed:
        raise Conflict(
            f"case {case.id} is closed: its history is kept, nothing more is added",
            field="case_id",
            rule="case_open",
            current_state=case.state.value,
        )


def party_on(ctx: Ctx, case: Case) -> CaseParty:
    party = party_of(ctx.principal, case)
    if party is None or party not in spec_of(case).parties:
        raise Forbidden(
            f"a {ctx.principal.role.value} is not a party to case {case.id}",
            field="case_id",
            rule="not_a_party",
        )
    return party

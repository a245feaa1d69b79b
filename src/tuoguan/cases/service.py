"""The case engine: open, move along the kind's steps, add evidence and messages, decide, appeal
once, close (R2, R3, G4). Never commits: each call is one transaction of the caller's, with the
case row locked, its timeline entry and its audit event.

Who is on a case (``party_of``): operators are the platform; the store's seller; staff of the
notice's warehouse; the carrier named on it; the storefront (the buyer) on a dispute. Anyone
else reads a case as not found, and may not add to one they can see (403 ``not_a_party``).
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.cases import money, stock
from tuoguan.cases.kinds import (
    KINDS,
    WORKING,
    Bearer,
    CaseKind,
    CaseParty,
    CaseState,
    KindSpec,
)
from tuoguan.cases.models import Case, CaseEntry
from tuoguan.cases.schemas import (
    AppealDecide,
    CaseAppeal,
    CaseDecide,
    CaseMove,
    DisputeCreate,
    ReceivingCaseCreate,
)
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput, NotFound
from tuoguan.fulfilment import inbound
from tuoguan.fulfilment.discrepancies import PHOTO_STATES as RECEIVED_STATES
from tuoguan.fulfilment.models import DiscrepancyKind, InboundDiscrepancy
from tuoguan.kit import i18n
from tuoguan.kit.ids import new_id
from tuoguan.kit.storage import Storage
from tuoguan.notify import service as notify
from tuoguan.onboarding import documents
from tuoguan.onboarding.review_models import Document
from tuoguan.orders import service as orders
from tuoguan.principal import Principal, Role
from tuoguan.shipping.refunds import REFUNDABLE
from tuoguan.stores.models import Store

SUBJECT = "case"
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
        return CaseParty.buyer if case.kind is CaseKind.dispute else None
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
        return query.where(Case.kind == CaseKind.dispute)
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


def _enter(case: Case, state: CaseState, now: datetime) -> None:
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


def _audit(
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


def _tell_seller(
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
    return await _open(
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
    return await _open(
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


async def _open(session: AsyncSession, ctx: Ctx, case: Case) -> Case:
    now = ctx.clock.now()
    case.id = new_id("case")
    case.opened_by = ctx.principal.actor_id
    case.opened_role = ctx.principal.role
    case.opened_at = now
    case.entry_count = 0
    case.entry_ids, case.refund_ids = [], []
    _enter(case, spec_of(case).first[case.mode], now)
    session.add(case)
    party = party_of(ctx.principal, case)
    append(session, ctx, case, "opened", party=party, text=case.summary, data={"cause": case.cause})
    _audit(session, ctx, case, "open", None, data={"cause": case.cause, "kind": case.kind.value})
    _tell_seller(
        session,
        ctx,
        case,
        "case_opened",
        i18n.N_("case_note_opened"),
        cause=i18n.label(f"case_cause_{case.cause}"),
    )
    await session.flush()
    return case


# -- moving, evidence, messages -------------------------------------------------------------------


def _not_closed(case: Case) -> None:
    if case.state is CaseState.closed:
        raise Conflict(
            f"case {case.id} is closed: its history is kept, nothing more is added",
            field="case_id",
            rule="case_open",
            current_state=case.state.value,
        )


def _party(ctx: Ctx, case: Case) -> CaseParty:
    party = party_of(ctx.principal, case)
    if party is None or party not in spec_of(case).parties:
        raise Forbidden(
            f"a {ctx.principal.role.value} is not a party to case {case.id}",
            field="case_id",
            rule="not_a_party",
        )
    return party


async def move(session: AsyncSession, ctx: Ctx, *, case_id: str, data: CaseMove) -> Case:
    """R3: an operator takes the case to one of its step's next steps (not to a decision:
    that is ``decide``). 409 ``illegal_transition`` naming the steps allowed."""
    if ctx.principal.role is not Role.operator:
        raise Forbidden("operators move a case along its steps")
    case = await lock_case(session, principal=ctx.principal, case_id=case_id)
    allowed = [s for s in spec_of(case).step(case.state).next if s in WORKING]
    if data.to not in allowed or case.state not in WORKING:
        raise Conflict(
            f"case {case.id} is {case.state.value}: it may move to "
            f"{', '.join(s.value for s in allowed) or 'no other step'}",
            field="to",
            rule="illegal_transition",
            current_state=case.state.value,
            allowed=[s.value for s in allowed],
        )
    if data.carrier_code is not None:
        if case.kind is not CaseKind.receiving_exception:
            raise InvalidInput(
                "a dispute is between the buyer, the seller and the platform: it names no carrier",
                field="carrier_code",
                rule="carrier_on_receiving",
            )
        case.carrier_code = data.carrier_code
    before = case.state
    _enter(case, data.to, ctx.clock.now())
    append(
        session,
        ctx,
        case,
        "moved",
        party=CaseParty.platform,
        text=data.note,
        data={"from": before.value, "to": data.to.value},
    )
    _audit(session, ctx, case, "move", before, reason=data.note)
    if case.step_owner is CaseParty.seller:
        _tell_seller(
            session,
            ctx,
            case,
            "case_your_step",
            i18n.N_("case_note_your_step"),
            due=i18n.when(case.step_due_at) if case.step_due_at else "",
        )
    await session.flush()
    return case


async def add_message(session: AsyncSession, ctx: Ctx, *, case_id: str, text: str) -> CaseEntry:
    """A message from a party, threaded on the case."""
    case = await lock_case(session, principal=ctx.principal, case_id=case_id)
    party = _party(ctx, case)
    _not_closed(case)
    entry = append(session, ctx, case, "message", party=party, text=text)
    _audit(session, ctx, case, "message", case.state, data={"party": party.value})
    if party is not CaseParty.seller:
        _tell_seller(session, ctx, case, "case_message", i18n.N_("case_note_message"))
    await session.flush()
    return entry


@dataclass(frozen=True)
class Evidence:
    text: str | None
    data: bytes | None
    file_name: str | None


async def add_evidence(
    session: AsyncSession,
    ctx: Ctx,
    *,
    case_id: str,
    evidence: Evidence,
    storage: Storage,
    settings: Settings,
) -> CaseEntry:
    """R3: proof from a party on the case (a file checked by content, kept through the same
    storage as review documents, and/or a text), with who, when and its SHA-256. A party that
    is not on the case: 403 ``not_a_party``; a closed case: 409 ``case_open``."""
    case = await lock_case(session, principal=ctx.principal, case_id=case_id)
    party = _party(ctx, case)
    _not_closed(case)
    if evidence.data is None and not evidence.text:
        raise InvalidInput("send a file, a text or both", field="file", rule="required")
    document: Document | None = None
    if evidence.data is not None:
        store = await session.get(Store, case.store_id)
        assert store is not None
        document = await documents.keep(
            session,
            ctx=ctx,
            storage=storage,
            settings=settings,
            store=store,
            purpose=EVIDENCE,
            data=evidence.data,
            file_name=evidence.file_name,
        )
    digest = None
    if document is None and evidence.text:
        digest = await asyncio.to_thread(
            lambda: hashlib.sha256(evidence.text.encode()).hexdigest() if evidence.text else None
        )
    entry = append(
        session,
        ctx,
        case,
        "evidence",
        party=party,
        text=evidence.text,
        document=document,
        sha256=digest,
    )
    _audit(
        session,
        ctx,
        case,
        "evidence",
        case.state,
        data={"party": party.value, "sha256": entry.sha256, "document_id": entry.document_id},
    )
    if party is not CaseParty.seller:
        _tell_seller(session, ctx, case, "case_evidence", i18n.N_("case_note_evidence"))
    await session.flush()
    return entry


# -- deciding and appealing -----------------------------------------------------------------------


def _checked(
    case: Case,
    decision: str | None,
    bearer: Bearer | None,
    amount: int | None,
    units: int | None = None,
) -> tuple[str, Bearer | None, int | None]:
    spec = spec_of(case)
    if decision not in spec.decisions:
        raise InvalidInput(
            f"a {case.kind.value} is decided as one of: {', '.join(spec.decisions)}",
            field="decision",
            rule="decision_in_kind",
            allowed=list(spec.decisions),
        )
    rule = spec.decisions[decision]
    if rule.bearers and bearer not in rule.bearers:
        raise InvalidInput(
            f"{decision} names who bears it: {', '.join(b.value for b in rule.bearers)}",
            field="bearer",
            rule="bearer_allowed",
            allowed=[b.value for b in rule.bearers],
        )
    if not rule.bearers and bearer is not None:
        raise InvalidInput(f"{decision} names no bearer", field="bearer", rule="no_bearer")
    if bearer is Bearer.carrier and not case.carrier_code:
        raise InvalidInput(
            "name the carrier on the case first (move it to the carrier's step with its code): "
            "no carrier, no one to bear it",
            field="bearer",
            rule="carrier_named",
        )
    if rule.amount == "required" and amount is None:
        raise InvalidInput(f"{decision} needs an amount", field="amount_minor", rule="required")
    if rule.amount is None and amount is not None:
        raise InvalidInput(f"{decision} moves no money", field="amount_minor", rule="no_amount")
    if rule.units and not units:
        raise InvalidInput(
            f"{decision} says how many units to put on hand or take off (not 0)",
            field="units",
            rule="required",
        )
    if not rule.units and units is not None:
        raise InvalidInput(f"{decision} changes no count", field="units", rule="no_units")
    return decision, bearer, amount


async def decide(session: AsyncSession, ctx: Ctx, *, case_id: str, data: CaseDecide) -> Case:
    """R3, G4: an operator decides from the kind's list (422 ``decision_in_kind``), naming the
    bearer where the decision needs one; the decision's money is posted in this transaction
    (a refund above what the buyer paid: 422 ``within_refundable``). One appeal may follow
    within ``APPEAL_DAYS``."""
    if ctx.principal.role is not Role.operator:
        raise Forbidden("operators decide cases", field="case_id", rule="operator_decides")
    case = await lock_case(session, principal=ctx.principal, case_id=case_id)
    if case.state not in WORKING:
        raise Conflict(
            f"case {case.id} is {case.state.value}: it was decided already",
            field="case_id",
            rule="illegal_transition",
            current_state=case.state.value,
        )
    decision, bearer, amount = _checked(
        case, data.decision, data.bearer, data.amount_minor, data.units
    )
    posted = await money.apply(session, ctx, case, decision, bearer, amount, data.reason)
    if data.units:
        await stock.adjust(session, ctx, case, data.units, data.reason)
    case.units = data.units
    before = case.state
    now = ctx.clock.now()
    case.decision, case.bearer, case.amount_minor = decision, bearer, posted.amount_minor
    case.decision_reason, case.decided_by, case.decided_at = (
        data.reason,
        ctx.principal.actor_id,
        now,
    )
    case.entry_ids = [*case.entry_ids, *posted.entry_ids]
    case.refund_ids = [*case.refund_ids, *posted.refund_ids]
    _enter(case, CaseState.decided, now)
    said: dict[str, object] = {
        "decision": decision,
        "bearer": bearer.value if bearer else None,
        "amount_minor": posted.amount_minor,
        "units": data.units,
        "entry_ids": posted.entry_ids,
        "refund_ids": posted.refund_ids,
    }
    append(session, ctx, case, "decided", party=CaseParty.platform, text=data.reason, data=said)
    _audit(session, ctx, case, "decide", before, reason=data.reason, data=said)
    _tell_seller(
        session,
        ctx,
        case,
        "case_decided",
        i18n.N_("case_note_decided"),
        decision=i18n.label(f"case_decision_{decision}"),
        reason=data.reason,
    )
    await session.flush()
    return case


async def appeal(session: AsyncSession, ctx: Ctx, *, case_id: str, data: CaseAppeal) -> Case:
    """R3 申诉: once per case, by a party on it other than the platform, while the decision's
    appeal window runs. A second appeal: 409 ``appeal_once``; too late: 409 ``appeal_window``."""
    case = await lock_case(session, principal=ctx.principal, case_id=case_id)
    party = _party(ctx, case)
    if party is CaseParty.platform:
        raise Forbidden("the platform decides appeals; a party to the case makes them")
    if case.appealed_at is not None:
        raise Conflict(
            f"case {case.id} was appealed already ({case.appealed_at:%Y-%m-%d}); the appeal's "
            "result is final",
            field="case_id",
            rule="appeal_once",
        )
    now = ctx.clock.now()
    if case.state is not CaseState.decided or (case.step_due_at and now > case.step_due_at):
        raise Conflict(
            f"case {case.id} is {case.state.value}: an appeal follows a decision, within its "
            "window",
            field="case_id",
            rule="appeal_window",
            current_state=case.state.value,
        )
    before = case.state
    case.appealed_by, case.appealed_party, case.appealed_at = ctx.principal.actor_id, party, now
    case.appeal_reason = data.reason
    _enter(case, CaseState.appealed, now)
    append(session, ctx, case, "appealed", party=party, text=data.reason)
    _audit(session, ctx, case, "appeal", before, reason=data.reason, data={"party": party.value})
    await session.flush()
    return case


async def decide_appeal(
    session: AsyncSession, ctx: Ctx, *, case_id: str, data: AppealDecide
) -> Case:
    """The appeal's final result, by an operator other than the one who decided (403
    ``different_operator``). Overturned: the first decision's money is undone (its entries
    reversed; a refund the buyer has kept moves from the seller to the platform) and the new
    decision's posted; then the case closes."""
    if ctx.principal.role is not Role.operator:
        raise Forbidden("operators decide appeals", field="case_id", rule="operator_decides")
    case = await lock_case(session, principal=ctx.principal, case_id=case_id)
    if case.state is not CaseState.appealed:
        raise Conflict(
            f"case {case.id} is {case.state.value}: there is no appeal to decide",
            field="case_id",
            rule="illegal_transition",
            current_state=case.state.value,
        )
    if case.decided_by == ctx.principal.actor_id:
        raise Forbidden(
            "the operator who decided the case does not decide its appeal: another one does",
            field="case_id",
            rule="different_operator",
        )
    said: dict[str, object] = {"outcome": data.outcome}
    if data.outcome == "overturned":
        decision, bearer, amount = _checked(
            case, data.decision, data.bearer, data.amount_minor, data.units
        )
        posted = await money.overturn(session, ctx, case, decision, bearer, amount, data.reason)
        if case.units:  # the first decision's count correction is taken back
            await stock.adjust(session, ctx, case, -case.units, f"appeal: {data.reason}")
        if data.units:
            await stock.adjust(session, ctx, case, data.units, f"appeal: {data.reason}")
        case.units = data.units
        case.decision, case.bearer, case.amount_minor = decision, bearer, posted.amount_minor
        case.decision_reason = data.reason
        case.entry_ids = [*case.entry_ids, *posted.entry_ids]
        case.refund_ids = [*case.refund_ids, *posted.refund_ids]
        said |= {
            "decision": decision,
            "bearer": bearer.value if bearer else None,
            "amount_minor": posted.amount_minor,
            "units": data.units,
            "entry_ids": posted.entry_ids,
            "refund_ids": posted.refund_ids,
        }
    elif (
        data.decision is not None
        or data.bearer is not None
        or data.amount_minor is not None
        or data.units is not None
    ):
        raise InvalidInput(
            "an upheld decision stands as it was: name no new decision",
            field="decision",
            rule="upheld_unchanged",
        )
    before = case.state
    now = ctx.clock.now()
    case.appeal_outcome = data.outcome
    case.appeal_decided_by, case.appeal_decided_at = ctx.principal.actor_id, now
    _enter(case, CaseState.closed, now)
    append(
        session, ctx, case, "appeal_decided", party=CaseParty.platform, text=data.reason, data=said
    )
    _audit(session, ctx, case, "decide_appeal", before, reason=data.reason, data=said)
    _tell_seller(
        session,
        ctx,
        case,
        "case_appeal_decided",
        i18n.N_("case_note_appeal_decided"),
        outcome=i18n.label(f"case_outcome_{data.outcome}"),
        reason=data.reason,
    )
    await session.flush()
    return case


async def close_after_window(session: AsyncSession, ctx: Ctx, case: Case) -> None:
    """A decided case whose appeal window passed unused closes (the sweep, on a locked row)."""
    before = case.state
    _enter(case, CaseState.closed, ctx.clock.now())
    append(session, ctx, case, "closed", party=None, data={"why": "appeal_window_passed"})
    _audit(session, ctx, case, "close", before, reason="appeal window passed")

"""A case decided from its kind's list, its money posted with the decision; its one appeal,
decided by another operator; and its closing when the window passes unused (R3, G4). Never
commits: each call is one transaction of the caller's, with the case locked."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.cases import money, returns, service, stock
from tuoguan.cases.kinds import WORKING, Bearer, CaseParty, CaseState
from tuoguan.cases.models import Case
from tuoguan.cases.schemas import AppealDecide, CaseAppeal, CaseDecide
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput
from tuoguan.kit import i18n
from tuoguan.principal import Role


def _checked(
    case: Case,
    decision: str | None,
    bearer: Bearer | None,
    amount: int | None,
    units: int | None = None,
) -> tuple[str, Bearer | None, int | None]:
    spec = service.spec_of(case)
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


def _record(
    case: Case,
    decision: str,
    bearer: Bearer | None,
    posted: money.Posted,
    units: int | None,
    reason: str,
) -> dict[str, object]:
    """Write a decision (the first, or the appeal's that replaces it) and what it posted on the
    case; what the timeline entry and the audit event say of it."""
    case.decision, case.bearer, case.amount_minor = decision, bearer, posted.amount_minor
    case.units, case.decision_reason = units, reason
    case.entry_ids = [*case.entry_ids, *posted.entry_ids]
    case.refund_ids = [*case.refund_ids, *posted.refund_ids]
    return {
        "decision": decision,
        "bearer": bearer.value if bearer else None,
        "amount_minor": posted.amount_minor,
        "units": units,
        "entry_ids": posted.entry_ids,
        "refund_ids": posted.refund_ids,
    }


async def _tell(
    session: AsyncSession,
    ctx: Ctx,
    case: Case,
    kind: str,
    keys: tuple[str, str],
    **params: object,
) -> None:
    """The seller in its inbox, and the storefront for its buyer (on a dispute or a return)."""
    seller_key, buyer_key = keys
    service.tell_seller(session, ctx, case, kind, seller_key, **params)
    await service.tell_buyer(session, ctx, case, kind, buyer_key, **params)


async def decide(session: AsyncSession, ctx: Ctx, *, case_id: str, data: CaseDecide) -> Case:
    """R3, G4: an operator decides from the kind's list (422 ``decision_in_kind``), naming the
    bearer where the decision needs one; the decision's money is posted in this transaction
    (a refund above what the buyer paid: 422 ``within_refundable``). One appeal may follow
    within ``APPEAL_DAYS``."""
    if ctx.principal.role is not Role.operator:
        raise Forbidden("operators decide cases", field="case_id", rule="operator_decides")
    case = await service.lock_case(session, principal=ctx.principal, case_id=case_id)
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
    if decision == "return_and_refund":
        await returns.check_from_dispute(session, ctx, case)
    posted = await money.apply(session, ctx, case, decision, bearer, amount, data.reason)
    if data.units:
        await stock.adjust(session, ctx, case, data.units, data.reason)
    before = case.state
    now = ctx.clock.now()
    said = _record(case, decision, bearer, posted, data.units, data.reason)
    case.decided_by, case.decided_at = ctx.principal.actor_id, now
    service.enter(case, CaseState.decided, now)
    service.append(
        session, ctx, case, "decided", party=CaseParty.platform, text=data.reason, data=said
    )
    service.audit_case(session, ctx, case, "decide", before, reason=data.reason, data=said)
    if decision == "return_and_refund":
        linked = await returns.open_from_dispute(session, ctx, case)
        service.append(
            session,
            ctx,
            case,
            "return_opened",
            party=CaseParty.platform,
            data={"case_id": linked.id},
        )
    await _tell(
        session,
        ctx,
        case,
        "case_decided",
        (i18n.N_("case_note_decided"), i18n.N_("buyer_case_decided")),
        decision=i18n.label(f"case_decision_{decision}"),
        reason=data.reason,
    )
    await session.flush()
    return case


async def appeal(session: AsyncSession, ctx: Ctx, *, case_id: str, data: CaseAppeal) -> Case:
    """R3 申诉: once per case, by a party on it other than the platform, while the decision's
    appeal window runs. A second appeal: 409 ``appeal_once``; too late: 409 ``appeal_window``."""
    case = await service.lock_case(session, principal=ctx.principal, case_id=case_id)
    party = service.party_on(ctx, case)
    if party is CaseParty.platform:
        raise Forbidden("the platform decides appeals; a party to the case makes them")
    if party not in service.spec_of(case).appellants:
        raise Forbidden(
            f"on a {case.kind.value} the {party.value} does not appeal: "
            + ", ".join(p.value for p in service.spec_of(case).appellants)
            + " may",
            field="case_id",
            rule="appellant",
        )
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
    service.enter(case, CaseState.appealed, now)
    service.append(session, ctx, case, "appealed", party=party, text=data.reason)
    service.audit_case(
        session, ctx, case, "appeal", before, reason=data.reason, data={"party": party.value}
    )
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
    case = await service.lock_case(session, principal=ctx.principal, case_id=case_id)
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
        if decision == "return_and_refund":
            await returns.check_from_dispute(session, ctx, case)
        elif case.decision == "return_and_refund":
            await returns.withdraw_linked(session, ctx, case, data.reason)
        posted = await money.overturn(session, ctx, case, decision, bearer, amount, data.reason)
        if decision == "return_and_refund":
            linked = await returns.open_from_dispute(session, ctx, case)
            said["return_case_id"] = linked.id
        if case.units:  # the first decision's count correction is taken back
            await stock.adjust(session, ctx, case, -case.units, f"appeal: {data.reason}")
        if data.units:
            await stock.adjust(session, ctx, case, data.units, f"appeal: {data.reason}")
        said |= _record(case, decision, bearer, posted, data.units, data.reason)
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
    service.enter(case, CaseState.closed, now)
    service.append(
        session, ctx, case, "appeal_decided", party=CaseParty.platform, text=data.reason, data=said
    )
    service.audit_case(session, ctx, case, "decide_appeal", before, reason=data.reason, data=said)
    await _tell(
        session,
        ctx,
        case,
        "case_appeal_decided",
        (i18n.N_("case_note_appeal_decided"), i18n.N_("buyer_case_appeal_decided")),
        outcome=i18n.label(f"case_outcome_{data.outcome}"),
        reason=data.reason,
    )
    await session.flush()
    return case


async def close_after_window(session: AsyncSession, ctx: Ctx, case: Case) -> None:
    """A decided case whose appeal window passed unused closes (the sweep, on a locked row)."""
    before = case.state
    service.enter(case, CaseState.closed, ctx.clock.now())
    service.append(session, ctx, case, "closed", party=None, data={"why": "appeal_window_passed"})
    service.audit_case(session, ctx, case, "close", before, reason="appeal window passed")

"""Use cases for penalty policies and penalties (F6, O2); the caller commits.

A penalty is money once it stands (``charges``): upheld, or its appeal window closed; a
waiver after that reverses its charge in the ledger, in the waive's transaction.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, NotFound, check_version
from tuoguan.finance import charges, repository
from tuoguan.finance import policy as arithmetic
from tuoguan.finance.models import Penalty, PenaltyPolicy
from tuoguan.finance.schemas import PenaltyPolicyCreate
from tuoguan.finance.states import (
    COUNTING,
    PenaltyAction,
    PenaltyStatus,
    allowed,
    next_status,
)
from tuoguan.kit import i18n
from tuoguan.kit.clock import as_utc
from tuoguan.kit.ids import new_id
from tuoguan.kit.versions import next_start
from tuoguan.notify import service as notify
from tuoguan.principal import Principal, Role
from tuoguan.timing.kinds import BreachKind

APPEAL_DAYS = 7  # 申诉期: how long after assessment a seller may appeal


async def create_policy(
    session: AsyncSession, *, ctx: Ctx, data: PenaltyPolicyCreate
) -> PenaltyPolicy:
    """An operator adds the next version of a kind's policy, effective now or later."""
    if not ctx.principal.is_operator:
        raise Forbidden("only an operator may change the penalty policy")
    tiers = [arithmetic.Tier(**tier.model_dump()) for tier in data.tiers]
    arithmetic.check_tiers(tiers)
    now = ctx.clock.now()
    latest = await repository.latest_policy(session, data.kind)
    effective_from = next_start(
        data.effective_from,
        now,
        (latest.version, latest.effective_from) if latest else None,
        what="policy",
    )
    created = PenaltyPolicy(
        id=new_id("policy"),
        kind=data.kind,
        version=(latest.version + 1) if latest else 1,
        effective_from=effective_from,
        tiers=[asdict(tier) for tier in tiers],
        note=data.note,
        created_at=now,
        created_by=ctx.principal.actor_id,
    )
    session.add(created)
    audit.record(
        session,
        ctx=ctx,
        subject_type="penalty_policy",
        subject_id=created.id,
        action="create",
        data={"kind": data.kind.value, "version": created.version, "tiers": created.tiers},
    )
    await session.flush()
    return created


async def list_policies(
    session: AsyncSession, *, principal: Principal, kind: BreachKind | None = None
) -> list[PenaltyPolicy]:
    """Every version; sellers may read the rules they are fined under."""
    if principal.role not in (Role.operator, Role.seller):
        raise Forbidden("this role cannot read penalty policies")
    return await repository.policies(session, kind)


def standing(policy: PenaltyPolicy, versions: list[PenaltyPolicy], now: datetime) -> str:
    """scheduled, in_force or superseded, as of now."""
    if as_utc(policy.effective_from) > now:
        return "scheduled"
    current = in_force(versions, policy.kind, now)
    return "in_force" if current is not None and current.id == policy.id else "superseded"


def in_force(versions: list[PenaltyPolicy], kind: BreachKind, at: datetime) -> PenaltyPolicy | None:
    """The version of a kind's policy that governs a breach whose deadline was ``at``."""
    started = [v for v in versions if v.kind == kind and as_utc(v.effective_from) <= at]
    return max(started, key=lambda v: as_utc(v.effective_from), default=None)


def assess(
    session: AsyncSession,
    *,
    ctx: Ctx,
    policy: PenaltyPolicy,
    breach_id: str,
    order_id: str,
    store_id: str,
    seller_id: str,
    order_total_minor: int,
    currency: str,
    lateness: timedelta,
) -> Penalty:
    """Price one breach under the given policy version and tell the seller."""
    index, tier = arithmetic.tier_for(policy.tier_list(), lateness)
    now = ctx.clock.now()
    penalty = Penalty(
        id=new_id("penalty"),
        breach_id=breach_id,
        order_id=order_id,
        store_id=store_id,
        seller_id=seller_id,
        kind=policy.kind,
        policy_id=policy.id,
        policy_version=policy.version,
        tier_index=index,
        lateness_seconds=int(lateness.total_seconds()),
        amount_minor=arithmetic.fine(order_total_minor, tier.rate_bp),
        currency=currency,
        rating_points=tier.rating_points,
        status=PenaltyStatus.assessed,
        assessed_at=now,
        appeal_by=now + timedelta(days=APPEAL_DAYS),
    )
    session.add(penalty)
    audit.record(
        session,
        ctx=ctx,
        subject_type="penalty",
        subject_id=penalty.id,
        store_id=store_id,
        action="assess",
        to_state=PenaltyStatus.assessed.value,
        data={
            "order_id": order_id,
            "policy_version": policy.version,
            "tier_index": index,
            "amount_minor": penalty.amount_minor,
            "currency": currency,
        },
    )
    notify.notify(
        session,
        ctx=ctx,
        seller_id=seller_id,
        kind="penalty_assessed",
        subject_type="penalty",
        subject_id=penalty.id,
        key=i18n.N_("note_penalty_assessed"),
        params={
            "late": i18n.duration(lateness),
            "late_kind": i18n.label(f"late_{policy.kind.value}"),
            "amount": i18n.money(penalty.amount_minor, currency),
            "points": tier.rating_points,
            "appeal_by": i18n.when(penalty.appeal_by),
        },
        data={"order_id": order_id, "amount_minor": penalty.amount_minor, "currency": currency},
    )
    return penalty


async def get_penalty(session: AsyncSession, *, principal: Principal, penalty_id: str) -> Penalty:
    """A penalty the principal may see; another seller's is not found."""
    found = await session.scalar(
        repository.visible_penalties(principal).where(Penalty.id == penalty_id)
    )
    if found is None:
        raise NotFound(f"penalty {penalty_id} not found", field="penalty_id")
    return found


async def list_penalties(
    session: AsyncSession,
    *,
    principal: Principal,
    status: PenaltyStatus | None = None,
    seller_id: str | None = None,
    store_id: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[Penalty], str | None]:
    """Penalties the principal may see, newest first, and the next page's cursor."""
    if principal.role not in (Role.operator, Role.seller):
        raise Forbidden("this role cannot read penalties")
    return await repository.page(
        session,
        principal,
        status=status,
        seller_id=seller_id,
        store_id=store_id,
        cursor=cursor,
        limit=limit,
    )


async def act(
    session: AsyncSession,
    *,
    ctx: Ctx,
    penalty_id: str,
    action: PenaltyAction,
    reason: str,
    expected_version: int | None = None,
) -> Penalty:
    """Appeal (seller, within the appeal window) or decide (operator) under a row lock."""
    penalty = await repository.get_for_update(session, ctx.principal, penalty_id)
    if penalty is None:
        raise NotFound(f"penalty {penalty_id} not found", field="penalty_id")
    check_version("penalty", penalty_id, penalty.version, expected_version)
    target = next_status(penalty.status, action, ctx.principal.role)
    now = ctx.clock.now()
    if action is PenaltyAction.appeal:
        if now > as_utc(penalty.appeal_by):
            raise Conflict(
                f"the appeal window closed at {as_utc(penalty.appeal_by).isoformat()}",
                field="penalty_id",
                rule="appeal_window",
            )
        penalty.appeal_reason = reason
        penalty.appealed_at = now
    else:
        penalty.decision_reason = reason
        penalty.decided_at = now
        penalty.decided_by = ctx.principal.actor_id
    source = penalty.status
    penalty.status = target
    audit.record(
        session,
        ctx=ctx,
        subject_type="penalty",
        subject_id=penalty.id,
        store_id=penalty.store_id,
        action=action.value,
        from_state=source.value,
        to_state=target.value,
        reason=reason,
    )
    if target is PenaltyStatus.upheld:
        await charges.charge(session, ctx, penalty, why="the appeal was rejected")
    elif target is PenaltyStatus.waived:
        await charges.reverse_charge(session, ctx, penalty, reason)  # won after the charge
    if action is PenaltyAction.appeal:
        notify.notify(
            session,
            ctx=ctx,
            seller_id=None,
            kind="penalty_appealed",
            subject_type="penalty",
            subject_id=penalty.id,
            key=i18n.N_("note_penalty_appealed"),
            params={
                "amount": i18n.money(penalty.amount_minor, penalty.currency),
                "reason": reason[:500],
            },
        )
    else:
        notify.notify(
            session,
            ctx=ctx,
            seller_id=penalty.seller_id,
            kind=f"penalty_{target.value}",
            subject_type="penalty",
            subject_id=penalty.id,
            key=i18n.N_("note_penalty_decided"),
            params={
                "amount": i18n.money(penalty.amount_minor, penalty.currency),
                "outcome": i18n.label(f"penalty_{target.value}"),
                "reason": reason[:500],
            },
        )
    await session.flush()
    return penalty


def allowed_actions(penalty: Penalty, principal: Principal, now: datetime) -> list[PenaltyAction]:
    """What this principal can do to the penalty now."""
    actions = allowed(penalty.status, principal.role)
    if PenaltyAction.appeal in actions and now > as_utc(penalty.appeal_by):
        actions.remove(PenaltyAction.appeal)
    return actions


async def rating_counts(
    session: AsyncSession, *, seller_id: str, since: datetime
) -> tuple[int, int, int]:
    """Rating points deducted, penalties counting and penalties waived since an instant."""
    by_status = await repository.rating_points(session, seller_id=seller_id, since=since)
    points = sum(by_status[s][1] for s in COUNTING if s in by_status)
    counting = sum(by_status[s][0] for s in COUNTING if s in by_status)
    waived = by_status.get(PenaltyStatus.waived, (0, 0))[0]
    return points, counting, waived


async def all_policies(session: AsyncSession) -> list[PenaltyPolicy]:
    """Every version of every kind: a handful of rows, read once per sweep batch."""
    return await repository.policies(session)

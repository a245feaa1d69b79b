"""Early warnings (G5): score open orders' risk, warn the seller once, list what is at risk."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.errors import Forbidden
from tuoguan.kit import i18n
from tuoguan.kit.clock import as_utc
from tuoguan.kit.ids import new_id
from tuoguan.notify import service as notify
from tuoguan.orders import deadlines
from tuoguan.orders import service as orders
from tuoguan.orders.models import Order
from tuoguan.orders.repository import RiskCheck, due_risk_checks
from tuoguan.orders.states import DEADLINE_OF
from tuoguan.principal import Principal, Role
from tuoguan.sla.models import RiskWarning
from tuoguan.stores.modes import Party, rules
from tuoguan.timing import risk

SELLER_DAYS = 30  # a seller's pace is read from the last 30 days
LANE_DAYS = 7  # "a lane running late this week"


@dataclass
class Histories:
    """Seller and lane histograms read once per request or sweep batch, from the aggregates."""

    now: datetime
    sellers: dict[tuple[str, str], risk.History] = field(default_factory=dict)
    lanes: dict[tuple[str, str], risk.History] = field(default_factory=dict)

    async def seller(self, session: AsyncSession, seller_id: str, kind: str) -> risk.History:
        """How long the seller recently took for this kind of work, and how often late."""
        key = (seller_id, kind)
        if key not in self.sellers:
            self.sellers[key] = await deadlines.seller_pace(
                session, seller_id=seller_id, kind=kind, since=self._since(SELLER_DAYS)
            )
        return self.sellers[key]

    async def lane(self, session: AsyncSession, origin: str, destination: str) -> risk.History:
        """How long parcels on the lane took this week, and how often they arrived late."""
        key = (origin, destination)
        if key not in self.lanes:
            self.lanes[key] = await deadlines.lane_pace(
                session, origin=origin, destination=destination, since=self._since(LANE_DAYS)
            )
        return self.lanes[key]

    def _since(self, days: int) -> date:
        # Whole UTC days: the aggregates count work per day.
        return (self.now - timedelta(days=days)).date()


async def score(session: AsyncSession, order: Order, histories: Histories) -> risk.Risk | None:
    """The risk of the order's running deadline (None when no deadline is running)."""
    kind = DEADLINE_OF.get(order.status)
    start = deadlines.window_start(order)
    if kind is None or start is None or order.deadline_at is None:
        return None
    if kind == "deliver_by":
        origin = await orders.origin_country(session, order)
        seller_record = risk.History()
        lane = await histories.lane(session, origin, order.country)
    else:
        seller_record = await histories.seller(session, order.seller_id, kind)
        lane = None
    return risk.assess(
        deadline_kind=kind,
        window_start=start,
        deadline_at=as_utc(order.deadline_at),
        now=histories.now,
        seller=seller_record,
        lane=lane,
    )


async def warn_due(
    session: AsyncSession,
    *,
    ctx: Ctx,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> int:
    """Score each order at its checkpoint; warn its seller once per deadline if at risk.

    The caller commits. Rows are locked (SKIP LOCKED on PostgreSQL) and the
    unique (order, deadline) pair refuses a second warning. ``exclude`` leaves
    out orders set aside after a failure; ``only`` takes just these.
    """
    now = ctx.clock.now()
    due = await due_risk_checks(
        session, now=now, limit=limit, skip_locked=skip_locked, exclude=exclude, only=only
    )
    histories = Histories(now)
    checks: list[RiskCheck] = []
    for order in due:
        start = deadlines.window_start(order)
        verdict = await score(session, order, histories)
        deadline = as_utc(order.deadline_at) if order.deadline_at else None
        checks.append(
            RiskCheck(
                order_id=order.id,
                next_check=(
                    risk.next_checkpoint(start, deadline, now) if start and deadline else None
                ),
                score=verdict.score if verdict else None,
                reasons=[asdict(r) for r in verdict.reasons] if verdict else None,
                scored_at=now,
            )
        )
        if verdict is None or not verdict.warn or verdict.seconds_left <= 0:
            continue
        if verdict.deadline_kind == "ship_by" and rules(order.mode).ships is Party.platform:
            continue  # F11: the platform's warehouse ships it; the score stays on the order
        already = await session.scalar(
            select(RiskWarning.id).where(
                RiskWarning.order_id == order.id,
                RiskWarning.deadline_kind == verdict.deadline_kind,
            )
        )
        if already:
            continue
        reasons = [asdict(reason) for reason in verdict.reasons]
        session.add(
            RiskWarning(
                id=new_id("warning"),
                order_id=order.id,
                seller_id=order.seller_id,
                deadline_kind=verdict.deadline_kind,
                deadline_at=verdict.deadline_at,
                score=verdict.score,
                reasons=reasons,
                warned_at=now,
            )
        )
        notify.notify(
            session,
            ctx=ctx,
            seller_id=order.seller_id,
            kind="at_risk",
            subject_type="order",
            subject_id=order.id,
            key=i18n.N_("note_at_risk"),
            params={
                "deadline": i18n.label(f"deadline_name_{verdict.deadline_kind}"),
                "left": i18n.duration(timedelta(seconds=verdict.seconds_left)),
                "score": verdict.score,
                "reasons": i18n.listing(
                    [(f"risk_{reason.code}", reason.params) for reason in verdict.reasons]
                ),
            },
            data={"score": verdict.score, "deadline_kind": verdict.deadline_kind},
        )
    # Bookkeeping, not a change a client acted on: the orders' versions stay as they were.
    await deadlines.set_risk_checks(session, checks)
    return len(due)


async def due_ids(
    session: AsyncSession, *, now: datetime, limit: int, exclude: Collection[str]
) -> list[str]:
    """The orders the warning sweep would take next (no locks): to retry them one by one."""
    due = await due_risk_checks(session, now=now, limit=limit, skip_locked=False, exclude=exclude)
    return [order.id for order in due]


def stored(order: Order, now: datetime) -> risk.Risk | None:
    """The order's score as the sweep stored it, with the time left counted now."""
    kind = DEADLINE_OF.get(order.status)
    if order.risk_score is None or kind is None or order.deadline_at is None:
        return None
    deadline = as_utc(order.deadline_at)
    return risk.Risk(
        deadline_kind=kind,
        deadline_at=deadline,
        seconds_left=int((deadline - now).total_seconds()),
        score=order.risk_score,
        reasons=[risk.Reason(**reason) for reason in order.risk_reasons or []],
    )


async def at_risk(
    session: AsyncSession,
    *,
    principal: Principal,
    now: datetime,
    min_score: int,
    store_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
    seller_id: str | None = None,
) -> tuple[list[tuple[Order, risk.Risk]], str | None]:
    """Open orders by stored score, highest first, then deadline soonest (G5); next cursor.

    One page read off an index of the scores the warning sweep stored: no history is
    loaded and nothing is scored here.
    """
    if principal.role not in (Role.operator, Role.seller):
        raise Forbidden("this role has no at-risk list")
    rows, next_cursor = await deadlines.at_risk_page(
        session,
        principal=principal,
        min_score=min_score,
        store_id=store_id,
        cursor=cursor,
        limit=limit,
        seller_id=seller_id,
    )
    found = [(order, verdict) for order in rows if (verdict := stored(order, now)) is not None]
    return found, next_cursor

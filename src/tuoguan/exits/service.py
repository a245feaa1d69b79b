"""Leaving full-managed (退出全托管, S4, S5): the exit page, the application and its review.
Never commits.

- **The page.** Before applying, the seller reads the terms in force in its store's currency
  (the fees, either possibly zero, and how long the review takes), what stands in the way
  (``blockers``, each thing linked) and what unbinding would do with its money (``outlook``).
- **Applying.** The store's seller applies with a reason and its documents (uploaded with
  purpose ``exit``), acknowledging the fees; refused, with nothing written, while anything
  stands in the way (409 naming the first rule, every failing rule in ``failed``). The
  application keeps the fees and the timing it showed; it is to be reviewed by the end of the
  N-th business day (platform calendar and zone). The operators are told.
- **Review.** An operator approves or rejects it, with reasons (a rejection needs one); the
  seller is told in-app and by webhook, with the reasons and, on approval, the fees.

Unbinding is ``exits.unbind``, closing ``exits.close``. Every change writes its audit event in
the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput, NotFound
from tuoguan.exits import blockers as checks
from tuoguan.exits import terms as exit_terms
from tuoguan.exits.models import ExitApplication, ExitArchive, ExitStatus, ExitTerms
from tuoguan.exits.schemas import ExitApply, ExitDecision
from tuoguan.exits.states import ExitAction, check
from tuoguan.kit import i18n
from tuoguan.kit.ids import new_id
from tuoguan.kit.keyset import Keyset
from tuoguan.notify import service as notify
from tuoguan.onboarding import documents
from tuoguan.principal import Principal, Role
from tuoguan.stores import service as stores
from tuoguan.stores.models import Store, StoreMode, StoreStatus
from tuoguan.timing.calendar import calendar_for
from tuoguan.timing.deadlines import end_of_day

SUBJECT = "exit"
PURPOSE = "exit"  # the documents an application carries
PLATFORM_COUNTRY = "CN"  # whose business days the review counts
QUEUE = Keyset((ExitApplication.queue_rank, ExitApplication.id), ("int", "id"))
_READERS = (Role.operator, Role.seller)


def _reader(principal: Principal) -> None:
    if principal.role not in _READERS:
        raise Forbidden(f"a {principal.role.value} does not read exits")


def full_managed_only(store: Store) -> Conflict:
    return Conflict(
        f"store {store.id} is {store.mode.value}: only a full-managed store leaves full-managed",
        field="store_id",
        rule="full_managed_only",
        mode=store.mode.value,
    )


def blocked(found: list[checks.Blocker], exit_id: str | None = None) -> Conflict:
    """409 naming the first rule that stands in the way, every one of them in ``failed``."""
    said = "; ".join(f"{b.rule}: {b.what}" for b in found)
    extra = {"exit_id": exit_id} if exit_id else {}
    return Conflict(
        f"the store cannot leave full-managed yet: {said}",
        field="store_id",
        rule=found[0].rule,
        failed=[b.problem() for b in found],
        **extra,
    )


def review_by(applied_at: datetime, days: int, zone: str) -> datetime:
    """The end of the ``days``-th business day after the day of applying (platform's)."""
    tz = ZoneInfo(zone)
    day = applied_at.astimezone(tz).date()
    return end_of_day(calendar_for(PLATFORM_COUNTRY).add_business_days(day, days), tz)


# -- reads ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """The exit page of one store, as of now."""

    store: Store
    terms: ExitTerms | None
    blockers: list[checks.Blocker]
    money: checks.Money
    outlook: checks.Outlook | None
    application: ExitApplication | None
    archive: ExitArchive | None

    @property
    def can_apply(self) -> bool:
        """Whether an application would be taken now (terms set, nothing in the way)."""
        return (
            self.store.mode is StoreMode.full_managed
            and self.store.status is StoreStatus.active
            and self.terms is not None
            and not self.blockers
            and not (self.application and self.application.status in OPEN_STATUSES)
        )


OPEN_STATUSES = (ExitStatus.applied, ExitStatus.approved)


async def latest_of(session: AsyncSession, store_id: str) -> ExitApplication | None:
    """The store's newest application (its current one)."""
    found = await session.scalars(
        select(ExitApplication)
        .where(ExitApplication.store_id == store_id)
        .order_by(ExitApplication.id.desc())
        .limit(1)
    )
    return found.first()


async def latest_archive(session: AsyncSession, store_id: str) -> ExitArchive | None:
    """The store's newest archive."""
    found = await session.scalars(
        select(ExitArchive)
        .where(ExitArchive.store_id == store_id)
        .order_by(ExitArchive.id.desc())
        .limit(1)
    )
    return found.first()


async def page_of(session: AsyncSession, store: Store, now: datetime) -> Page:
    """The exit page of a store (the caller checked who may read it)."""
    if store.mode is not StoreMode.full_managed:
        raise full_managed_only(store)
    application = await latest_of(session, store.id)
    shown = await exit_terms.in_force(session, store.currency, now)
    # An open application shows the fees it was made under.
    fees = (
        application.management_fee_minor + application.refund_fee_minor
        if application and application.status in OPEN_STATUSES
        else (shown.management_fee_minor + shown.refund_fee_minor if shown else None)
    )
    money = await checks.money_of(session, store)
    active = store.status in (StoreStatus.active, StoreStatus.suspended)
    return Page(
        store=store,
        terms=shown,
        blockers=await checks.blockers(session, store, now) if active else [],
        money=money,
        outlook=checks.outlook(money, fees) if fees is not None and active else None,
        application=application,
        archive=await latest_archive(session, store.id),
    )


async def page(session: AsyncSession, *, ctx: Ctx, store_id: str) -> Page:
    """S4: a store's exit page, as its seller (or an operator) reads it."""
    _reader(ctx.principal)
    store = await stores.get_store(session, principal=ctx.principal, store_id=store_id)
    return await page_of(session, store, ctx.clock.now())


async def get_exit(session: AsyncSession, *, principal: Principal, exit_id: str) -> ExitApplication:
    """An application its store's seller or an operator reads; anyone else's is not found."""
    _reader(principal)
    row = await session.get(ExitApplication, exit_id)
    if row is None or not (
        principal.is_operator
        or (principal.role is Role.seller and principal.seller_id == row.seller_id)
    ):
        raise NotFound(f"exit {exit_id} not found", field="exit_id")
    return row


async def queue(
    session: AsyncSession, *, principal: Principal, cursor: str | None = None, limit: int = 50
) -> tuple[list[ExitApplication], str | None]:
    """The operators' queue: applications waiting for review first, oldest first, then the
    others, oldest first."""
    if not principal.is_operator:
        raise Forbidden("only operators review exits")
    return await QUEUE.page(session, [select(ExitApplication)], cursor=cursor, limit=limit)


async def stores_of(session: AsyncSession, ids: set[str]) -> dict[str, Store]:
    """Stores by id (for lists of applications)."""
    if not ids:
        return {}
    found = await session.scalars(select(Store).where(Store.id.in_(sorted(ids))))
    return {store.id: store for store in found}


# -- applying -------------------------------------------------------------------------------------


async def _documents(
    session: AsyncSession, principal: Principal, store: Store, ids: list[str]
) -> list[str]:
    """The documents named, each the store's, uploaded for an exit (422 naming the one)."""
    kept: list[str] = []
    for index, document_id in enumerate(ids):
        field = f"document_ids.{index}"
        try:
            document = await documents.visible(
                session, principal=principal, document_id=document_id
            )
        except NotFound:
            raise InvalidInput(
                f"document {document_id} not found", field=field, rule="known_document"
            ) from None
        if document.store_id != store.id or document.purpose != PURPOSE:
            raise InvalidInput(
                f"document {document_id} was not uploaded for this store's exit "
                f'(purpose "{PURPOSE}")',
                field=field,
                rule="exit_document",
            )
        if document.id not in kept:
            kept.append(document.id)
    return kept


async def _lock_store(session: AsyncSession, store: Store) -> None:
    await session.execute(select(Store.id).where(Store.id == store.id).with_for_update())


async def apply(
    session: AsyncSession, ctx: Ctx, *, store_id: str, data: ExitApply
) -> ExitApplication:
    """S4: the store's seller applies to leave full-managed (see the module).

    Refused, with nothing written: another role (403), another seller's store (404), a store
    that is not full-managed (409 ``full_managed_only``) or not trading (409 ``store_active``),
    one with an application open (409 ``one_open_application``), fees not acknowledged (422
    ``fees_acknowledged``), no terms in the store's currency (409 ``exit_terms_in_force``),
    anything in the way (409 naming the first rule: ``no_unfinished_orders``,
    ``no_open_cases``, ``no_unpaid_debt``; all in ``failed``, each thing with its link), a
    document that is not the store's exit paper (422 ``exit_document``)."""
    if ctx.principal.role is not Role.seller:
        raise Forbidden("only the store's seller applies to leave full-managed")
    store = await stores.get_store(session, principal=ctx.principal, store_id=store_id)
    if store.mode is not StoreMode.full_managed:
        raise full_managed_only(store)
    # The store's row lock: a second application sent at once waits, then finds this one.
    await _lock_store(session, store)
    if store.status is not StoreStatus.active:
        raise Conflict(
            f"store {store.id} is {store.status.value}: only a trading store applies to leave",
            field="store_id",
            rule="store_active",
            store_status=store.status.value,
        )
    current = await latest_of(session, store.id)
    if current is not None and current.status in OPEN_STATUSES:
        raise Conflict(
            f"store {store.id} has an exit application {current.status.value} ({current.id}); "
            "one at a time",
            field="store_id",
            rule="one_open_application",
            exit_id=current.id,
        )
    if not data.fees_acknowledged:
        raise InvalidInput(
            "read the fees and the timing, then acknowledge them (fees_acknowledged: true)",
            field="fees_acknowledged",
            rule="fees_acknowledged",
        )
    now = ctx.clock.now()
    shown = await exit_terms.in_force(session, store.currency, now)
    if shown is None:
        raise Conflict(
            f"no exit terms are in force in {store.currency}: an operator sets them first",
            field="store_id",
            rule="exit_terms_in_force",
        )
    found = await checks.blockers(session, store, now)
    if found:
        raise blocked(found)
    papers = await _documents(session, ctx.principal, store, data.document_ids)
    row = ExitApplication(
        id=new_id("exit"),
        store_id=store.id,
        seller_id=store.seller_id,
        status=ExitStatus.applied,
        queue_rank=0,
        reason=data.reason,
        document_ids=papers,
        terms_id=shown.id,
        currency=store.currency,
        management_fee_minor=shown.management_fee_minor,
        refund_fee_minor=shown.refund_fee_minor,
        review_days=shown.review_days,
        review_by=review_by(now, shown.review_days, ctx.settings.settlement_zone),
        fees_acknowledged_at=now,
        created_at=now,
        created_by=ctx.principal.actor_id,
        decision_reasons=[],
        stock_moved=[],
        updated_at=now,
    )
    session.add(row)
    record(session, ctx, row, "apply", None, data.reason, documents=len(papers))
    notify.notify(
        session,
        ctx=ctx,
        seller_id=None,  # the operators' inbox: an application to review
        kind="exit_applied",
        subject_type=SUBJECT,
        subject_id=row.id,
        key=i18n.N_("exit_note_applied"),
        params={
            "store": store.name,
            "review_by": i18n.when(row.review_by, ctx.settings.settlement_zone),
        },
        data={"store_id": store.id},
    )
    await session.flush()
    return row


# -- review ---------------------------------------------------------------------------------------


async def locked(session: AsyncSession, principal: Principal, exit_id: str) -> ExitApplication:
    """An application the principal may see, row-locked and read afresh."""
    row = await session.get(ExitApplication, exit_id, with_for_update=True, populate_existing=True)
    if row is None or not (
        principal.is_operator
        or principal.role is Role.system
        or (principal.role is Role.seller and principal.seller_id == row.seller_id)
    ):
        raise NotFound(f"exit {exit_id} not found", field="exit_id")
    return row


def fees_params(row: ExitApplication) -> dict[str, object]:
    """The fees as a message's parameters (money in the reader's words)."""
    return {
        "management_fee": i18n.money(row.management_fee_minor, row.currency),
        "refund_fee": i18n.money(row.refund_fee_minor, row.currency),
    }


async def decide(
    session: AsyncSession, ctx: Ctx, *, exit_id: str, data: ExitDecision
) -> ExitApplication:
    """S4: an operator approves or rejects an application, with reasons; the seller is told
    (in-app and by webhook) with the reasons and the fees. Refused, with nothing written: a
    seller or another role (403), an application decided already (409 ``illegal_transition``),
    a rejection without a reason (422 ``reason_required``)."""
    if not ctx.principal.is_operator:
        raise Forbidden("only an operator decides an exit application", field="decision")
    action = ExitAction(data.decision)
    row = await locked(session, ctx.principal, exit_id)
    target = check(row.status, action, ctx.principal.role)
    reasons = [reason for reason in data.reasons if reason]
    if action is ExitAction.reject and not reasons:
        raise InvalidInput(
            "say why the application is rejected", field="reasons", rule="reason_required"
        )
    now = ctx.clock.now()
    before = row.status
    row.status, row.queue_rank = target, 1
    row.decided_at, row.decided_by, row.decision_reasons = now, ctx.principal.actor_id, reasons
    row.updated_at = now
    record(session, ctx, row, action.value, before, "; ".join(reasons) or None)
    store = await session.get(Store, row.store_id)
    approved = action is ExitAction.approve
    notify.notify(
        session,
        ctx=ctx,
        seller_id=row.seller_id,
        kind="exit_approved" if approved else "exit_rejected",
        subject_type=SUBJECT,
        subject_id=row.id,
        key=i18n.N_("exit_note_approved") if approved else i18n.N_("exit_note_rejected"),
        params={
            "store": store.name if store else "",
            "reasons": "; ".join(reasons) or "—",
            **fees_params(row),
        },
        data={
            "store_id": row.store_id,
            "reasons": reasons,
            "management_fee_minor": row.management_fee_minor,
            "refund_fee_minor": row.refund_fee_minor,
            "currency": row.currency,
        },
    )
    await session.flush()
    return row


def record(
    session: AsyncSession,
    ctx: Ctx,
    row: ExitApplication,
    action: str,
    before: ExitStatus | None,
    reason: str | None,
    **data: object,
) -> None:
    """The application's audit event."""
    audit.record(
        session,
        ctx=ctx,
        subject_type=SUBJECT,
        subject_id=row.id,
        store_id=row.store_id,
        action=action,
        from_state=before.value if before else None,
        to_state=row.status.value,
        reason=(reason or None) and reason[:500],
        data={
            "currency": row.currency,
            "management_fee_minor": row.management_fee_minor,
            "refund_fee_minor": row.refund_fee_minor,
            **data,
        },
    )

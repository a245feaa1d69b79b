"""Invitations to the full-managed program (邀约制, M2). Never commits.

- **Invite.** An operator invites a seller with a store in good standing (active, not
  full-managed), with a message and an expiry (14 days unless said, at most 60). A seller is
  invited once at a time, and never again once a full-managed store of its exited or closed
  (S4, 409 ``seller_exited``); a seller already in the program is not invited (409
  ``already_in_program``).
- **Answer.** The seller reads its own invitations and accepts or declines (with an optional
  reason). Accepting opens the second, linked full-managed store, joining (``joining``); who
  answered, when and from which client address is recorded and the operators are told. An
  expired invitation is refused (409 ``invitation_expired``). An operator may withdraw an open
  invitation, saying why.
- **On the seller's behalf.** ``open_store`` is how the API opens any store: a full-managed one
  by an operator is an invitation accepted on the seller's behalf, with the reason recorded
  (422 ``on_behalf_reason_required``), and the store joined at once.

Every change writes its audit event and its notification in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput, NotFound
from tuoguan.kit import i18n
from tuoguan.kit.ids import new_id
from tuoguan.kit.money import check_currency
from tuoguan.notify import service as notify
from tuoguan.onboarding import invitation_reads
from tuoguan.onboarding import invitation_states as states
from tuoguan.onboarding.invitation_states import InvitationAction
from tuoguan.onboarding.models import Invitation, InvitationStatus
from tuoguan.onboarding.origin import Origin
from tuoguan.onboarding.schemas import InvitationCreate
from tuoguan.principal import Principal, Role
from tuoguan.stores import service as stores
from tuoguan.stores.models import Seller, Store, StoreMode, StoreStatus
from tuoguan.stores.schemas import Address, StoreCreate
from tuoguan.timing.places import check_country

SUBJECT = "invitation"
S = InvitationStatus


# -- the rules of who may be invited -------------------------------------------------------------


async def _refuse_exited(session: AsyncSession, seller: Seller) -> list[Store]:
    """S4: a seller whose full-managed store exited or closed is never invited again (409
    ``seller_exited``); otherwise its full-managed stores."""
    own = await stores.program_stores(session, seller.id)
    left = [s for s in own if s.status in stores.LEFT_PROGRAM]
    if left:
        store = left[0]
        raise Conflict(
            f"seller {seller.name} left the full-managed program: its full-managed store "
            f"{store.name} is {store.status.value}, and a seller who exited or closed a "
            "full-managed store cannot join it again (S4)",
            field="seller_id",
            rule="seller_exited",
            store_id=store.id,
        )
    return own


async def _may_join(session: AsyncSession, seller: Seller) -> None:
    """The seller may be invited: never exited (S4), not in the program already."""
    own = await _refuse_exited(session, seller)
    if own:
        raise Conflict(
            f"seller {seller.name} is in the full-managed program already (store {own[0].name})",
            field="seller_id",
            rule="already_in_program",
            store_id=own[0].id,
        )


async def _good_standing(session: AsyncSession, seller: Seller, store_id: str) -> Store:
    """The seller's store the invitation links to, if it is in good standing (M2)."""
    store = await session.get(Store, store_id)
    if store is None or store.seller_id != seller.id:
        raise InvalidInput(
            f"store {store_id} is not a store of seller {seller.name}",
            field="store_id",
            rule="sellers_store",
        )
    if store.mode is StoreMode.full_managed or store.status is not StoreStatus.active:
        raise Conflict(
            f"store {store.name} is not in good standing to be linked to a full-managed store "
            f"(it is {store.mode.value}, {store.status.value}; it must be active and not "
            "full-managed)",
            field="store_id",
            rule="store_in_good_standing",
        )
    return store


async def _seller(session: AsyncSession, seller_id: str, *, lock: bool = False) -> Seller:
    seller = await session.get(Seller, seller_id, with_for_update=lock or None)
    if seller is None:
        raise NotFound(f"seller {seller_id} not found", field="seller_id")
    return seller


# -- invite -------------------------------------------------------------------------------------


async def _expire_open(session: AsyncSession, ctx: Ctx, seller_id: str) -> Invitation | None:
    """The seller's open invitation, if any: one past its expiry is written expired first."""
    row = await session.scalar(
        select(Invitation).where(Invitation.seller_id == seller_id, Invitation.status == S.invited)
    )
    now = ctx.clock.now()
    if row is not None and states.shown_status(row, now) is S.expired:
        _move(session, ctx, row, InvitationAction.expire, S.expired, None)
        await session.flush()
        return None
    return row


async def invite(session: AsyncSession, *, ctx: Ctx, data: InvitationCreate) -> Invitation:
    """M2: an operator invites a seller (see the module); the seller is told.

    Refused, with nothing written: another role (403), an unknown seller (404), a store not
    the seller's (422 ``sellers_store``), a store not in good standing (409
    ``store_in_good_standing``), a seller who exited (409 ``seller_exited``) or is in the
    program (409 ``already_in_program``), an open invitation (409 ``one_open_invitation``)."""
    if ctx.principal.role is not Role.operator:
        raise Forbidden("only an operator invites a seller to the full-managed program")
    # The seller's row lock: a second invitation sent at the same moment waits here, then
    # finds this one open.
    seller = await _seller(session, data.seller_id, lock=True)
    linked = await _good_standing(session, seller, data.store_id)
    await _may_join(session, seller)
    currency = check_currency(data.currency or linked.currency)
    country = check_country(data.country or linked.country)
    open_one = await _expire_open(session, ctx, seller.id)
    if open_one is not None:
        raise Conflict(
            f"seller {seller.name} has an open invitation ({open_one.id}) until "
            f"{open_one.expires_at.isoformat()}: withdraw it first",
            field="seller_id",
            rule="one_open_invitation",
            invitation_id=open_one.id,
        )
    now = ctx.clock.now()
    row = Invitation(
        id=new_id("invitation"),
        seller_id=seller.id,
        store_id=linked.id,
        store_name=data.store_name or linked.name,
        currency=currency,
        country=country,
        message=data.message,
        expires_at=now + timedelta(days=data.expires_in_days),
        status=S.invited,
        invited_by=ctx.principal.actor_id,
        created_at=now,
        on_behalf=False,
        updated_at=now,
    )
    session.add(row)
    _audit(session, ctx, row, "invite", None, None, expires_at=row.expires_at.isoformat())
    notify.notify(
        session,
        ctx=ctx,
        seller_id=seller.id,
        kind="inv_invited",
        subject_type=SUBJECT,
        subject_id=row.id,
        key=i18n.N_("inv_note_invited"),
        params={"store": row.store_name, "until": i18n.when(row.expires_at, linked.timezone)},
        data={"message": row.message, "expires_at": row.expires_at.isoformat()},
    )
    await session.flush()
    return row


# -- answers ------------------------------------------------------------------------------------


async def _locked(session: AsyncSession, principal: Principal, invitation_id: str) -> Invitation:
    """The invitation, row-locked, if the principal may see it (else 404)."""
    row = await session.get(Invitation, invitation_id, with_for_update=True, populate_existing=True)
    if row is None or not invitation_reads.sees(principal, row):
        raise NotFound(f"invitation {invitation_id} not found", field="invitation_id")
    return row


def _not_expired(row: Invitation, now: datetime) -> None:
    if states.shown_status(row, now) is S.expired:
        raise Conflict(
            f"invitation {row.id} expired at {row.expires_at.isoformat()}: ask the platform for "
            "a new one",
            field="invitation_id",
            rule="invitation_expired",
            expires_at=row.expires_at.isoformat(),
        )


async def accept(
    session: AsyncSession, *, ctx: Ctx, invitation_id: str, origin: Origin
) -> Invitation:
    """M2: the seller accepts: its full-managed store opens beside the linked store, joining;
    the operators are told. Refused: another role (403), not its own (404), expired (409
    ``invitation_expired``), answered or withdrawn (409 ``illegal_transition``), and the
    invitation's rules checked again (``seller_exited``, ``already_in_program``,
    ``store_in_good_standing``)."""
    if ctx.principal.role is not Role.seller:
        raise Forbidden(
            "only the invited seller accepts; an operator opens the store on its behalf with a "
            "reason (POST /stores)",
            field="invitation_id",
        )
    row = await _locked(session, ctx.principal, invitation_id)
    now = ctx.clock.now()
    _not_expired(row, now)
    target = states.transition(row, InvitationAction.accept, ctx.principal, now)
    seller = await _seller(session, row.seller_id)
    linked = await _good_standing(session, seller, row.store_id)
    await _may_join(session, seller)
    store = await stores.open_store(
        session,
        ctx=ctx,
        data=_store_of(row, linked),
        joined_at=None,
    )
    row.full_managed_store_id = store.id
    row.decided_from = origin.address
    _move(session, ctx, row, InvitationAction.accept, target, None, store_id=store.id)
    notify.notify(
        session,
        ctx=ctx,
        seller_id=None,  # the operators' inbox
        kind="inv_accepted",
        subject_type=SUBJECT,
        subject_id=row.id,
        key=i18n.N_("inv_note_accepted"),
        params={"seller": seller.name, "store": store.name},
        data={"store_id": store.id, "decided_from": origin.address},
    )
    await session.flush()
    return row


async def decline(
    session: AsyncSession, *, ctx: Ctx, invitation_id: str, reason: str | None, origin: Origin
) -> Invitation:
    """The seller declines, optionally saying why; the operators are told. Refused as
    ``accept`` is (403, 404, ``invitation_expired``, ``illegal_transition``)."""
    if ctx.principal.role is not Role.seller:
        raise Forbidden("only the invited seller declines", field="invitation_id")
    row = await _locked(session, ctx.principal, invitation_id)
    now = ctx.clock.now()
    _not_expired(row, now)
    target = states.transition(row, InvitationAction.decline, ctx.principal, now)
    said = (reason or "").strip() or None
    row.decided_from = origin.address
    _move(session, ctx, row, InvitationAction.decline, target, said)
    seller = await _seller(session, row.seller_id)
    notify.notify(
        session,
        ctx=ctx,
        seller_id=None,
        kind="inv_declined",
        subject_type=SUBJECT,
        subject_id=row.id,
        key=i18n.N_("inv_note_declined"),
        params={"seller": seller.name, "reason": said or "—"},
        data={"reason": said},
    )
    await session.flush()
    return row


async def withdraw(
    session: AsyncSession, *, ctx: Ctx, invitation_id: str, reason: str
) -> Invitation:
    """An operator withdraws an open invitation, saying why; the seller is told. 403 for
    another role, 409 ``illegal_transition`` once answered, expired or withdrawn."""
    if ctx.principal.role is not Role.operator:
        raise Forbidden("only an operator withdraws an invitation", field="invitation_id")
    row = await _locked(session, ctx.principal, invitation_id)
    said = reason.strip()
    if not said:
        raise InvalidInput("say why it is withdrawn", field="reason", rule="reason_required")
    target = states.transition(row, InvitationAction.withdraw, ctx.principal, ctx.clock.now())
    _move(session, ctx, row, InvitationAction.withdraw, target, said)
    notify.notify(
        session,
        ctx=ctx,
        seller_id=row.seller_id,
        kind="inv_withdrawn",
        subject_type=SUBJECT,
        subject_id=row.id,
        key=i18n.N_("inv_note_withdrawn"),
        params={"store": row.store_name, "reason": said},
        data={"reason": said},
    )
    await session.flush()
    return row


# -- a store opened directly: accepted on the seller's behalf -----------------------------------


async def open_store(
    session: AsyncSession, *, ctx: Ctx, data: StoreCreate, origin: Origin
) -> Store:
    """Open a store (M1). A full-managed one (M2) by an operator is an invitation accepted on
    the seller's behalf, in this transaction: the reason is required (422
    ``on_behalf_reason_required``), a seller who exited is refused (409 ``seller_exited``), and
    the store joins at once. Sellers open their own non-managed stores only (403). The seller
    agreed beforehand (the reason says how), so no notification is sent."""
    stores.may_open(ctx.principal, data)
    if data.mode is not StoreMode.full_managed:
        return await stores.create_store(session, ctx=ctx, data=data)
    if data.on_behalf_reason is None:
        raise InvalidInput(
            "a full-managed store is opened by invitation (M2): to open it directly, say why "
            "you accept the invitation on the seller's behalf",
            field="on_behalf_reason",
            rule="on_behalf_reason_required",
        )
    seller = await _seller(session, data.seller_id, lock=True)
    await _refuse_exited(session, seller)
    now = ctx.clock.now()
    store = await stores.open_store(session, ctx=ctx, data=data, joined_at=now)
    assert store.linked_store_id is not None  # a full-managed store always links (M2)
    open_one = await _expire_open(session, ctx, seller.id)
    if open_one is not None:  # the invitation it answers
        _move(session, ctx, open_one, InvitationAction.withdraw, S.withdrawn, data.on_behalf_reason)
    row = Invitation(
        id=new_id("invitation"),
        seller_id=seller.id,
        store_id=store.linked_store_id,
        store_name=store.name,
        currency=store.currency,
        country=store.country,
        message=data.on_behalf_reason,
        expires_at=now,
        status=S.accepted,
        invited_by=ctx.principal.actor_id,
        created_at=now,
        decided_by=ctx.principal.actor_id,
        decided_at=now,
        decided_from=origin.address,
        full_managed_store_id=store.id,
        on_behalf=True,
        on_behalf_reason=data.on_behalf_reason,
        updated_at=now,
    )
    session.add(row)
    _audit(
        session,
        ctx,
        row,
        "accept_on_behalf",
        None,
        data.on_behalf_reason,
        store_id=store.id,
        joined_at=now.isoformat(),
        joined="at once: opened on the seller's behalf",
    )
    await session.flush()
    return store


def _store_of(row: Invitation, linked: Store) -> StoreCreate:
    return StoreCreate(
        seller_id=row.seller_id,
        name=row.store_name,
        mode=StoreMode.full_managed,
        country=row.country,
        currency=row.currency,
        linked_store_id=linked.id,
        sender_address=Address.model_validate(linked.sender_address)
        if linked.sender_address
        else None,
    )


# -- bookkeeping --------------------------------------------------------------------------------


def _move(
    session: AsyncSession,
    ctx: Ctx,
    row: Invitation,
    action: InvitationAction,
    target: InvitationStatus,
    note: str | None,
    **data: object,
) -> None:
    """Move the invitation and record who did it, when, and the event."""
    before = row.status
    now = ctx.clock.now()
    row.status = target
    row.updated_at = now
    if action is not InvitationAction.expire:
        row.decided_by, row.decided_at = ctx.principal.actor_id, now
        row.decision_note = note
    _audit(session, ctx, row, action.value, before, note, **data)


def _audit(
    session: AsyncSession,
    ctx: Ctx,
    row: Invitation,
    action: str,
    before: InvitationStatus | None,
    reason: str | None,
    **data: object,
) -> None:
    audit.record(
        session,
        ctx=ctx,
        subject_type=SUBJECT,
        subject_id=row.id,
        store_id=row.store_id,
        action=action,
        from_state=before.value if before else None,
        to_state=row.status.value,
        reason=reason,
        data={"seller_id": row.seller_id, "decided_from": row.decided_from, **data},
    )

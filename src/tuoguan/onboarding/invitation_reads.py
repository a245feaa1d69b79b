"""Reading invitations (M2): one by id, a list newest first (a seller its own, operators every
seller's), the one waiting for a seller's answer; an open invitation past its expiry reads as
expired everywhere."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.errors import Forbidden, NotFound
from tuoguan.kit.keyset import Keyset
from tuoguan.onboarding.models import Invitation, InvitationStatus
from tuoguan.principal import Principal, Role

S = InvitationStatus
NEWEST = Keyset((Invitation.id,), ("id",), descending=True)


def sees(principal: Principal, row: Invitation) -> bool:
    """Operators (and the system) see every invitation, a seller its own."""
    if principal.role in (Role.operator, Role.system):
        return True
    return principal.role is Role.seller and principal.seller_id == row.seller_id


def _readers(principal: Principal) -> None:
    if principal.role not in (Role.operator, Role.seller, Role.system):
        raise Forbidden(f"a {principal.role.value} does not read invitations")


async def get(session: AsyncSession, *, principal: Principal, invitation_id: str) -> Invitation:
    """One invitation the principal may see (a seller its own; else 404)."""
    _readers(principal)
    row = await session.get(Invitation, invitation_id)
    if row is None or not sees(principal, row):
        raise NotFound(f"invitation {invitation_id} not found", field="invitation_id")
    return row


def _with_status(
    query: Select[Invitation], status: InvitationStatus, now: datetime
) -> Select[Invitation]:
    """Invitations that read as ``status`` at ``now`` (an open one past its expiry: expired)."""
    if status is S.invited:
        return query.where(Invitation.status == S.invited, Invitation.expires_at > now)
    if status is S.expired:
        return query.where(
            or_(
                Invitation.status == S.expired,
                and_(Invitation.status == S.invited, Invitation.expires_at <= now),
            )
        )
    return query.where(Invitation.status == status)


async def list_for(
    session: AsyncSession,
    *,
    principal: Principal,
    now: datetime,
    status: InvitationStatus | None = None,
    seller_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Invitation], str | None]:
    """Invitations newest first: a seller its own, operators every seller's (or one's)."""
    _readers(principal)
    query = select(Invitation)
    if principal.role is Role.seller:
        query = query.where(Invitation.seller_id == principal.seller_id)
    elif seller_id:
        query = query.where(Invitation.seller_id == seller_id)
    if status is not None:
        query = _with_status(query, status, now)
    return await NEWEST.page(session, [query], cursor=cursor, limit=limit)


async def open_for(session: AsyncSession, seller_id: str, now: datetime) -> Invitation | None:
    """The seller's invitation waiting for its answer now, if any."""
    return await session.scalar(
        select(Invitation).where(
            Invitation.seller_id == seller_id,
            Invitation.status == S.invited,
            Invitation.expires_at > now,
        )
    )

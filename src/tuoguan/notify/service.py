"""Sending and reading in-app notifications."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.db import bulk_insert, table_of
from tuoguan.errors import Forbidden, NotFound
from tuoguan.kit.ids import new_id
from tuoguan.kit.keyset import Keyset
from tuoguan.notify.models import Notification
from tuoguan.principal import Principal, Role


def notification_row(
    *,
    ctx: Ctx,
    seller_id: str | None,
    kind: str,
    subject_type: str,
    subject_id: str,
    key: str,
    params: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    notification_id: str | None = None,
) -> dict[str, Any]:
    """The column values of one notification (bulk sweeps insert many at once).

    ``key`` names the message in the catalogs and ``params`` fills it in; parameters a reader's
    language changes are typed with ``tuoguan.kit.i18n`` (money, when, label, duration)."""
    return {
        "id": notification_id or new_id("notification"),
        "seller_id": seller_id,
        "kind": kind,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "message_key": key,
        "params": params or {},
        "data": data or {},
        "created_at": ctx.clock.now(),
    }


def notify(session: AsyncSession, *, ctx: Ctx, **fields: Any) -> Notification:
    """Add a notification to the caller's transaction (fields as for ``notification_row``)."""
    note = Notification(**notification_row(ctx=ctx, **fields))
    session.add(note)
    return note


async def notify_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert many notifications in one statement (rows from ``notification_row``)."""
    if rows:
        await bulk_insert(session, table_of(Notification), rows)


def _visible(principal: Principal) -> Select[Notification]:
    query = select(Notification)
    if principal.role is Role.operator:
        # The operators' inbox: what is addressed to them, not every seller's mail.
        return query.where(Notification.seller_id.is_(None))
    if principal.role is Role.seller and principal.seller_id:
        return query.where(Notification.seller_id == principal.seller_id)
    raise Forbidden("this role has no notifications")


INBOX_NEWEST = Keyset((Notification.id,), ("id",), descending=True)


async def inbox(
    session: AsyncSession,
    *,
    principal: Principal,
    unread_only: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Notification], str | None]:
    """The principal's notifications, newest first, and the next page's cursor."""
    query = _visible(principal)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return await INBOX_NEWEST.page(session, [query], cursor=cursor, limit=limit)


async def mark_read(session: AsyncSession, *, ctx: Ctx, notification_id: str) -> Notification:
    """Mark one of the principal's notifications read (again is harmless)."""
    note = await session.scalar(_visible(ctx.principal).where(Notification.id == notification_id))
    if note is None:
        raise NotFound(f"notification {notification_id} not found", field="notification_id")
    if note.read_at is None:
        note.read_at = ctx.clock.now()
    return note

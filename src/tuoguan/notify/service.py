"""Sending and reading in-app notifications."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.db import bulk_insert, table_of
from tuoguan.errors import Forbidden, NotFound
from tuoguan.kit import i18n
from tuoguan.kit.ids import new_id
from tuoguan.kit.keyset import Keyset
from tuoguan.notify.models import Audience, Notification
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
    audience: Audience | None = None,
) -> dict[str, Any]:
    """The column values of one notification (bulk sweeps insert many at once).

    ``key`` names the message in the catalogs and ``params`` fills it in; parameters a reader's
    language changes are typed with ``tuoguan.kit.i18n`` (money, when, label, duration). The
    audience follows ``seller_id`` (a seller's, else the operators') unless it is given."""
    if audience is None:
        audience = Audience.platform if seller_id is None else Audience.seller
    return {
        "id": notification_id or new_id("notification"),
        "seller_id": seller_id,
        "audience": audience,
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


def tell_storefront(
    session: AsyncSession,
    *,
    ctx: Ctx,
    order_id: str,
    locale: str | None,
    kind: str,
    key: str,
    params: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> Notification:
    """Tell the storefront something about an order for its buyer (O6), in the caller's
    transaction: fanned out to the storefront's webhook endpoints only, never an inbox's.

    ``locale`` is the order's ``buyer_locale`` (``None``: English). ``data`` carries the order,
    the machine ``kind`` and the ``message`` already in the buyer's words (with its ``locale``),
    besides whatever the caller adds (e.g. a ``reason`` code)."""
    lang = locale if locale in i18n.LANGUAGES else "en"
    said = {
        **(data or {}),
        "order_id": order_id,
        "kind": kind,
        "locale": lang,
        "message": i18n.render(key, params, lang),
    }
    return notify(
        session,
        ctx=ctx,
        seller_id=None,
        audience=Audience.storefront,
        kind=kind,
        subject_type="order",
        subject_id=order_id,
        key=key,
        params=params,
        data=said,
    )


async def notify_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert many notifications in one statement (rows from ``notification_row``)."""
    if rows:
        await bulk_insert(session, table_of(Notification), rows)


def _visible(principal: Principal) -> Select[Notification]:
    query = select(Notification)
    if principal.role is Role.operator:
        # The operators' inbox: what is addressed to them, not every seller's mail nor the
        # storefront's. A literal, as the partial indexes' condition is: SQLite uses a partial
        # index only when the query says what its condition says.
        return query.where(Notification.audience == literal_column(f"'{Audience.platform.value}'"))
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

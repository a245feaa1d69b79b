"""Users, passwords, API tokens and console sessions."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import column, delete, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts.models import ApiToken, ApiTokenWarehouse, User, UserWarehouse, WebSession
from tuoguan.accounts.throttle import normalise_email
from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from tuoguan.kit.clock import Clock, SystemClock
from tuoguan.kit.ids import new_id
from tuoguan.principal import Principal, Role
from tuoguan.stores import repository as stores

_hasher = PasswordHasher()
TOKEN_PREFIX = "tg_"
# Verified against when the e-mail is unknown, so a miss costs as much as a wrong password.
_DUMMY_HASH = _hasher.hash("tuoguan-dummy-password")
# inventory's table, named rather than imported: inventory is a layer above accounts.
_WAREHOUSES = table("warehouses", column("id"))
CONSOLE_ROLES = (Role.operator, Role.seller, Role.warehouse)


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def _check_warehouses(
    session: AsyncSession, role: Role, warehouse_ids: Iterable[str]
) -> tuple[str, ...]:
    """The warehouses a credential is bound to, sorted and once each: warehouse staff name at
    least one, each existing; every other role names none."""
    ids = tuple(sorted(set(warehouse_ids)))
    if role is not Role.warehouse:
        if ids:
            raise InvalidInput(
                "only warehouse credentials name warehouses",
                field="warehouse_ids",
                rule="warehouse_role_only",
            )
        return ids
    if not ids:
        raise InvalidInput(
            "a warehouse credential names at least one warehouse",
            field="warehouse_ids",
            rule="warehouse_required",
        )
    found = set(await session.scalars(select(_WAREHOUSES.c.id).where(_WAREHOUSES.c.id.in_(ids))))
    missing = [w for w in ids if w not in found]
    if missing:
        raise InvalidInput(
            f"no such warehouse: {', '.join(missing)}",
            field="warehouse_ids",
            rule="warehouse_exists",
        )
    return ids


async def _check_scope(
    session: AsyncSession,
    role: Role,
    seller_id: str | None,
    carrier_code: str | None,
    warehouse_ids: Iterable[str] = (),
) -> tuple[str, ...]:
    """Refuse a credential whose scope does not fit its role; the warehouses it is bound to."""
    if role is Role.seller:
        if not seller_id or await stores.get_seller(session, seller_id) is None:
            raise InvalidInput("a seller credential needs an existing seller", field="seller_id")
    elif seller_id:
        raise InvalidInput("only seller credentials name a seller", field="seller_id")
    if role is Role.carrier and not carrier_code:
        raise InvalidInput("a carrier credential needs a carrier code", field="carrier_code")
    if role is not Role.carrier and carrier_code:
        raise InvalidInput("only carrier credentials name a carrier", field="carrier_code")
    if role is Role.system:
        raise InvalidInput("the system role is not issued", field="role")
    return await _check_warehouses(session, role, warehouse_ids)


async def create_user(
    session: AsyncSession,
    *,
    ctx: Ctx,
    email: str,
    password: str,
    display_name: str,
    role: Role,
    seller_id: str | None = None,
    warehouse_ids: Iterable[str] = (),
    locale: str = "zh-CN",
) -> User:
    """Register a console user (operators only, or the CLI/demo acting as system); warehouse
    staff name the warehouses they work in."""
    if ctx.principal.role not in (Role.operator, Role.system):
        raise Forbidden("only an operator creates users")
    if role not in CONSOLE_ROLES:
        raise InvalidInput("console users are operators, sellers or warehouse staff", field="role")
    warehouses = await _check_scope(session, role, seller_id, None, warehouse_ids)
    if len(password) < 8:
        raise InvalidInput("a password has at least 8 characters", field="password")
    email = normalise_email(email)
    if await session.scalar(select(User.id).where(User.email == email)):
        raise InvalidInput(f"{email} is already registered", field="email")
    user = User(
        id=new_id("user"),
        email=email,
        display_name=display_name,
        # argon2 is CPU-heavy on purpose: hash in a worker thread, not on the event loop.
        password_hash=await asyncio.to_thread(_hasher.hash, password),
        role=role,
        seller_id=seller_id,
        locale=locale,
        created_at=ctx.clock.now(),
        warehouses=[UserWarehouse(warehouse_id=w) for w in warehouses],
    )
    session.add(user)
    audit.record(
        session,
        ctx=ctx,
        subject_type="user",
        subject_id=user.id,
        action="create",
        data={"role": role.value, **({"warehouse_ids": list(warehouses)} if warehouses else {})},
    )
    await session.flush()
    return user


async def create_token(
    session: AsyncSession,
    *,
    ctx: Ctx,
    name: str,
    role: Role,
    seller_id: str | None = None,
    carrier_code: str | None = None,
    warehouse_ids: Iterable[str] = (),
) -> tuple[ApiToken, str]:
    """Issue an API token; the secret is returned once and only its hash is kept."""
    warehouses = await _check_scope(session, role, seller_id, carrier_code, warehouse_ids)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        id=new_id("token"),
        token_hash=_sha256(secret),
        name=name,
        role=role,
        seller_id=seller_id,
        carrier_code=carrier_code,
        created_at=ctx.clock.now(),
        warehouses=[ApiTokenWarehouse(warehouse_id=w) for w in warehouses],
    )
    session.add(token)
    data: dict[str, Any] = {
        "role": role.value,
        "seller_id": seller_id,
        "carrier_code": carrier_code,
    }
    if warehouses:
        data["warehouse_ids"] = list(warehouses)
    audit.record(
        session, ctx=ctx, subject_type="token", subject_id=token.id, action="create", data=data
    )
    await session.flush()
    return token, secret


async def list_tokens(session: AsyncSession) -> list[ApiToken]:
    """Every issued token (never its secret), newest first."""
    return list(await session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))


async def revoke_token(session: AsyncSession, *, ctx: Ctx, token_id: str) -> ApiToken:
    """Revoke a token at once; revoking twice changes nothing."""
    if ctx.principal.role not in (Role.operator, Role.system):
        raise Forbidden("only an operator revokes API tokens")
    token = await session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"token {token_id} not found", field="token_id")
    if token.revoked_at is None:
        token.revoked_at = ctx.clock.now()
        audit.record(session, ctx=ctx, subject_type="token", subject_id=token.id, action="revoke")
    return token


async def principal_for_token(session: AsyncSession, secret: str) -> Principal:
    """The principal behind a bearer token, or Unauthorized."""
    if not secret.startswith(TOKEN_PREFIX):
        raise Unauthorized("the bearer token is not a tuoguan token")
    # Columns, not an entity: this runs on every API request.
    row = (
        await session.execute(
            select(
                ApiToken.id,
                ApiToken.role,
                ApiToken.seller_id,
                ApiToken.carrier_code,
                ApiToken.name,
                ApiToken.revoked_at,
            ).where(ApiToken.token_hash == _sha256(secret))
        )
    ).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("the bearer token is unknown or revoked")
    warehouse_ids: tuple[str, ...] = ()
    if row.role is Role.warehouse:  # a second, indexed read for warehouse staff only
        warehouse_ids = tuple(
            await session.scalars(
                select(ApiTokenWarehouse.warehouse_id)
                .where(ApiTokenWarehouse.token_id == row.id)
                .order_by(ApiTokenWarehouse.warehouse_id)
            )
        )
    return Principal(
        role=row.role,
        actor_id=row.id,
        seller_id=row.seller_id,
        carrier_code=row.carrier_code,
        name=row.name,
        warehouse_ids=warehouse_ids,
    )


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User:
    """The user whose e-mail and password these are, or Unauthorized.

    An unknown e-mail is checked against a dummy hash, so it costs as much as a
    wrong password; argon2 runs in a worker thread, not on the event loop.
    """
    user = await session.scalar(select(User).where(User.email == normalise_email(email)))
    matches = await asyncio.to_thread(
        _verify, user.password_hash if user else _DUMMY_HASH, password
    )
    if user is None or not matches:
        raise Unauthorized("wrong e-mail or password")
    return user


def _elapsed(clock: Clock) -> datetime:
    """The time console sessions are measured in: real elapsed time. A system clock's shift
    (demo time travel, ``tuoguan clock advance``) moves deadlines, not sign-ins, so it is left
    out; the browser expires the cookie on its own real clock too. Any other clock (a test's
    frozen one) is that world's real time, and is read as it is."""
    if isinstance(clock, SystemClock):
        return datetime.now(UTC)
    return clock.now()


async def open_session(
    session: AsyncSession, *, user: User, clock: Clock, hours: int
) -> tuple[str, WebSession]:
    """Open a console session for a signed-in user, for ``hours`` of real time (not of the
    shifted demo clock); returns the cookie secret once."""
    secret = secrets.token_urlsafe(32)
    now = _elapsed(clock)
    web_session = WebSession(
        id_hash=_sha256(secret),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    session.add(web_session)
    return secret, web_session


async def session_user(
    session: AsyncSession, secret: str, clock: Clock
) -> tuple[User, WebSession] | None:
    """The user and session behind a console cookie, if it is live (in real time: moving the
    demo clock ends no session)."""
    web_session = await session.get(WebSession, _sha256(secret))
    if web_session is None or web_session.expires_at <= _elapsed(clock):
        return None
    user = await session.get(User, web_session.user_id)
    return (user, web_session) if user else None


async def logout(session: AsyncSession, secret: str) -> None:
    """End a console session."""
    await session.execute(delete(WebSession).where(WebSession.id_hash == _sha256(secret)))


def principal_for_user(user: User) -> Principal:
    """The principal a console user acts as."""
    return Principal(
        role=user.role,
        actor_id=user.id,
        seller_id=user.seller_id,
        name=user.display_name,
        warehouse_ids=user.warehouse_ids,
    )

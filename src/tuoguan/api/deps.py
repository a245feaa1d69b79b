"""Request-scoped dependencies: database, clock, principal, context."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.errors import InvalidInput, Unauthorized
from tuoguan.kit.clock import Clock
from tuoguan.principal import Principal

_bearer = HTTPBearer(auto_error=False, description="An API token: `tuoguan token create`.")


def get_database(request: Request) -> Database:
    """The app's database."""
    db: Database = request.app.state.db
    return db


def get_clock(request: Request) -> Clock:
    """The app's clock."""
    clock: Clock = request.app.state.clock
    return clock


async def read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for a read-only request."""
    async with get_database(request).read() as session:
        yield session


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The principal behind the request's bearer token."""
    if credentials is None:
        raise Unauthorized("send an API token as 'Authorization: Bearer tg_...'")
    async with get_database(request).read() as session:
        return await accounts.principal_for_token(session, credentials.credentials)


def get_ctx(request: Request, principal: Annotated[Principal, Depends(get_principal)]) -> Ctx:
    """The use-case context of this request."""
    settings: Settings = request.app.state.settings
    return Ctx(
        principal=principal,
        clock=get_clock(request),
        request_id=getattr(request.state, "request_id", None),
        settings=settings,
    )


CtxDep = Annotated[Ctx, Depends(get_ctx)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
ReadSession = Annotated[AsyncSession, Depends(read_session)]
ClockDep = Annotated[Clock, Depends(get_clock)]


def expected_version(if_match: str | None) -> int | None:
    """The object version an If-Match header names, if any (optimistic concurrency)."""
    if if_match is None:
        return None
    raw = if_match.strip().strip('"').removeprefix("W/").strip('"')
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise InvalidInput("If-Match carries the object's version number", field="If-Match")
    return int(raw)

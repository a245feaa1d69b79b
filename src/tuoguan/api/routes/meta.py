"""Health, the caller's identity, the order state tables, API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import ApiToken
from tuoguan.api import access
from tuoguan.api.deps import CtxDep, PrincipalDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.errors import Forbidden
from tuoguan.orders.states import INITIAL, TRANSITIONS
from tuoguan.principal import Role
from tuoguan.stores.models import StoreMode
from tuoguan.stores.schemas import Strict

router = APIRouter(tags=["meta"])


@router.get("/health", **access.anyone())
async def health(session: ReadSession) -> dict[str, str]:
    """Liveness and database reachability."""
    await session.execute(text("SELECT 1"))
    return {"status": "ok"}


WAREHOUSES_HELP = "The warehouses a warehouse token acts in (warehouse staff only)."


class Me(BaseModel):
    role: Role
    actor_id: str
    seller_id: str | None
    carrier_code: str | None
    warehouse_ids: list[str] = Field(description=WAREHOUSES_HELP)
    name: str


@router.get("/me", response_model=Me, **access.roles(*access.CALLERS))
async def me(principal: PrincipalDep) -> Me:
    """Who the token belongs to."""
    return Me(
        role=principal.role,
        actor_id=principal.actor_id,
        seller_id=principal.seller_id,
        carrier_code=principal.carrier_code,
        warehouse_ids=list(principal.warehouse_ids),
        name=principal.name,
    )


class TransitionRead(BaseModel):
    source: str
    action: str
    target: str
    roles: list[str]


class StateTable(BaseModel):
    mode: StoreMode
    initial: str
    transitions: list[TransitionRead]


@router.get("/order-states", response_model=list[StateTable], **access.anyone())
async def order_states() -> list[StateTable]:
    """The order state machine of each store mode, as the server enforces it."""
    return [
        StateTable(
            mode=mode,
            initial=INITIAL[mode].value,
            transitions=[
                TransitionRead(
                    source=t.source.value,
                    action=t.action.value,
                    target=t.target.value,
                    roles=sorted(r.value for r in t.roles),
                )
                for t in table
            ],
        )
        for mode, table in TRANSITIONS.items()
    ]


class TokenCreate(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    role: Role
    seller_id: str | None = Field(default=None, max_length=40)
    carrier_code: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_\-]{1,31}$")
    warehouse_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(
        default_factory=list,
        max_length=50,
        description="Warehouse tokens: the warehouses it acts in (at least one; no other role).",
    )


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    role: Role
    seller_id: str | None
    carrier_code: str | None
    warehouse_ids: list[str] = Field(description=WAREHOUSES_HELP)
    created_at: datetime
    revoked_at: datetime | None


class TokenIssued(BaseModel):
    id: str
    name: str
    role: Role
    seller_id: str | None
    carrier_code: str | None
    warehouse_ids: list[str] = Field(description=WAREHOUSES_HELP)
    token: str = Field(description="The secret; shown once, store it now.")


@router.get("/tokens", response_model=list[TokenRead], **access.roles(Role.operator))
async def list_tokens(principal: PrincipalDep, session: ReadSession) -> list[TokenRead]:
    """Issued API tokens, without their secrets (operators)."""
    if not principal.is_operator:
        raise Forbidden("only an operator lists API tokens")
    return [TokenRead.model_validate(t) for t in await accounts.list_tokens(session)]


@router.post("/tokens/{token_id}/revoke", response_model=TokenRead, **access.roles(Role.operator))
async def revoke_token(token_id: str, request: Request, ctx: CtxDep) -> Response:
    """Revoke a token; requests with it are refused from now on (operators)."""

    async def render(_: AsyncSession, token: ApiToken) -> TokenRead:
        return TokenRead.model_validate(token)

    return await run_mutation(
        request, ctx, lambda s: accounts.revoke_token(s, ctx=ctx, token_id=token_id), render
    )


@router.post("/tokens", status_code=201, response_model=TokenIssued, **access.roles(Role.operator))
async def create_token(request: Request, ctx: CtxDep, body: TokenCreate) -> Response:
    """Issue an API token (operators)."""
    if not ctx.principal.is_operator:
        raise Forbidden("only an operator issues API tokens")

    async def action(session: AsyncSession) -> tuple[ApiToken, str]:
        return await accounts.create_token(
            session,
            ctx=ctx,
            name=body.name,
            role=body.role,
            seller_id=body.seller_id,
            carrier_code=body.carrier_code,
            warehouse_ids=body.warehouse_ids,
        )

    async def render(_: AsyncSession, issued: tuple[ApiToken, str]) -> dict[str, Any]:
        token, secret = issued
        return TokenIssued(
            id=token.id,
            name=token.name,
            role=token.role,
            seller_id=token.seller_id,
            carrier_code=token.carrier_code,
            warehouse_ids=list(token.warehouse_ids),
            token=secret,
        ).model_dump(mode="json")

    return await run_mutation(request, ctx, action, render, status_code=201)

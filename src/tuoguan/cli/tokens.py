"""``tuoguan token create|list|revoke``: the API's machine credentials."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from tuoguan.cli.common import in_session, out, run, when
from tuoguan.principal import Role

app = typer.Typer(help="API tokens: issue, list and revoke them.", no_args_is_help=True)

# What each role's token is for, as the list says it.
ROLE_WORDS = {
    Role.operator: "operator",
    Role.seller: "seller",
    Role.carrier: "carrier",
    Role.buyer_channel: "storefront",
    Role.warehouse: "warehouse staff",
    Role.system: "system",
}


@dataclass(frozen=True)
class TokenLine:
    """One token as ``token list`` shows it: never its secret."""

    id: str
    name: str
    role: Role
    scope: str
    created_at: datetime
    revoked_at: datetime | None


async def _scope(session: Any, token: Any, principal: Any) -> str:
    """Whom the token acts for, by name: its seller, carrier or warehouses."""
    from tuoguan.inventory import warehouses
    from tuoguan.stores import service as stores

    if token.seller_id:
        seller = await stores.get_seller(session, principal=principal, seller_id=token.seller_id)
        return seller.name
    if token.carrier_code:
        return token.carrier_code
    if token.warehouse_ids:
        names = [
            (await warehouses.get_warehouse(session, principal=principal, warehouse_id=w)).name
            for w in token.warehouse_ids
        ]
        return ", ".join(names)
    return "-"


@app.command("create")
def create(
    role: Annotated[
        Role, typer.Option(help="operator, seller, carrier, buyer_channel or warehouse.")
    ],
    seller: Annotated[
        str | None, typer.Option(help="Seller id (seller tokens), as `tuoguan stores list` shows it.")
    ] = None,
    carrier: Annotated[str | None, typer.Option(help="Carrier code (carrier tokens).")] = None,
    warehouse: Annotated[
        list[str] | None,
        typer.Option(help="Warehouse id (warehouse tokens; repeat for each warehouse)."),
    ] = None,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
) -> None:
    """Issue an API token and print it once; only its hash is stored."""
    from tuoguan.accounts import service as accounts

    async def work(session: Any, ctx: Any) -> str:
        _, secret = await accounts.create_token(
            session,
            ctx=ctx,
            name=name,
            role=role,
            seller_id=seller,
            carrier_code=carrier,
            warehouse_ids=warehouse or (),
        )
        return secret

    out.print(run(in_session(work, write=True)), highlight=False, soft_wrap=True)


@app.command("list")
def list_tokens(
    active: Annotated[bool, typer.Option("--active", help="Only tokens not revoked.")] = False,
) -> None:
    """Every API token, newest first: what it is for, whom it acts for, when it was issued and
    whether it is revoked (never the secret). `tuoguan token revoke` takes the first column."""
    from tuoguan.accounts import service as accounts

    async def work(session: Any, ctx: Any) -> list[TokenLine]:
        tokens = await accounts.list_tokens(session)
        return [
            TokenLine(
                id=t.id,
                name=t.name,
                role=t.role,
                scope=await _scope(session, t, ctx.principal),
                created_at=t.created_at,
                revoked_at=t.revoked_at,
            )
            for t in tokens
            if not (active and t.revoked_at)
        ]

    lines: list[TokenLine] = run(in_session(work))
    table = Table(title=f"API tokens ({len(lines)})")
    for column in ("token", "name", "role", "acts for", "issued", "revoked"):
        table.add_column(column, no_wrap=column in ("token", "issued", "revoked"))
    for line in lines:
        table.add_row(
            line.id,
            line.name,
            ROLE_WORDS[line.role],
            line.scope,
            when(line.created_at),
            when(line.revoked_at) if line.revoked_at else "no",
            style="dim" if line.revoked_at else None,
        )
    out.print(table)


@app.command("revoke")
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token, as `tuoguan token list` shows it.")],
) -> None:
    """Revoke an API token at once; revoking it again changes nothing."""
    from tuoguan.accounts import service as accounts

    async def work(session: Any, ctx: Any) -> Any:
        return await accounts.revoke_token(session, ctx=ctx, token_id=token_id.strip())

    token = run(in_session(work, write=True))
    out.print(
        f"{token.id} ({token.name}, {ROLE_WORDS[token.role]}) revoked since {when(token.revoked_at)}",
        highlight=False,
    )

"""``tuoguan program``: the full-managed program from the terminal: ``invite`` a seller (M2),
``invitations`` lists them with their status."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from tuoguan.cli.common import in_session, out, run, when

app = typer.Typer(help="The full-managed program: invitations (M2).", no_args_is_help=True)


@app.command("invite")
def invite(
    seller: Annotated[str, typer.Argument(help="The seller's id (`tuoguan stores list`).")],
    store: Annotated[
        str,
        typer.Option(
            "--store", help="The seller's store in good standing the full-managed store links to."
        ),
    ],
    message: Annotated[str, typer.Option("--message", help="What the seller reads.")],
    days: Annotated[
        int, typer.Option("--days", min=1, max=60, help="Days the seller has to answer.")
    ] = 14,
    name: Annotated[
        str | None, typer.Option("--name", help="The full-managed store's name.")
    ] = None,
) -> None:
    """Invite a seller to the full-managed program, as an operator; the seller is told and
    answers in the console or the API. Refused for a seller who exited (S4)."""
    from tuoguan.onboarding import invitations
    from tuoguan.onboarding.schemas import InvitationCreate

    data = InvitationCreate(
        seller_id=seller, store_id=store, message=message, expires_in_days=days, store_name=name
    )

    async def work(session: Any, ctx: Any) -> Any:
        return await invitations.invite(session, ctx=ctx, data=data)

    row = run(in_session(work, write=True))
    out.print(
        f"invited: {row.id} (store {row.store_name}, {row.currency}); "
        f"open until {when(row.expires_at)}"
    )


@app.command("invitations")
def list_invitations(
    seller: Annotated[str | None, typer.Option("--seller", help="Only this seller's.")] = None,
) -> None:
    """Every invitation, newest first, with its status as of now."""
    from tuoguan.onboarding import invitation_reads
    from tuoguan.onboarding.invitation_states import shown_status

    async def work(session: Any, ctx: Any) -> list[tuple[Any, str]]:
        now = ctx.clock.now()
        rows, _ = await invitation_reads.list_for(
            session, principal=ctx.principal, now=now, seller_id=seller, limit=200
        )
        return [(row, shown_status(row, now).value) for row in rows]

    found = run(in_session(work))
    table = Table(title=f"invitations ({len(found)})")
    for column in ("invitation", "seller id", "store", "status", "invited", "until"):
        table.add_column(column, no_wrap=column in ("invitation", "seller id"))
    for row, status in found:
        table.add_row(
            row.id,
            row.seller_id,
            row.store_name,
            status + (" (on behalf)" if row.on_behalf else ""),
            when(row.created_at),
            when(row.expires_at) if status == "invited" else "",
        )
    out.print(table)

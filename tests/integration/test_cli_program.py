"""`tuoguan program invite SELLER --store STORE --message …` (M2): an operator invites a seller
from the terminal and `tuoguan program invitations` lists it; a seller who exited is refused in
one line on stderr with a non-zero exit (S4), and nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from tests.builders.ledger import run_on
from tests.builders.runs import World, scenario
from tuoguan.cli.main import app
from tuoguan.db import Database
from tuoguan.stores.models import Store, StoreStatus

runner = CliRunner()


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TUOGUAN_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    return db_url


def test_an_operator_invites_from_the_terminal(cli_env: str) -> None:  # M2 S4
    async def ids(w: World) -> dict[str, str]:
        return w.stores

    stores = scenario(cli_env, ids)

    async def sellers(db: Database) -> dict[str, str]:
        async with db.read() as session:
            return {key: (await session.get(Store, sid)).seller_id for key, sid in stores.items()}  # type: ignore[union-attr]

    seller_of = run_on(cli_env, sellers)
    # seller a is in the program: refused; its full-managed store exits, then it is for good
    busy = runner.invoke(
        app, ["program", "invite", seller_of["self"], "--store", stores["semi"], "--message", "hi"]
    )
    assert busy.exit_code == 1 and "in the full-managed program already" in busy.output

    async def exit_b(db: Database) -> None:
        async with db.write() as session:
            assert isinstance(session, AsyncSession)
            await session.execute(
                update(Store).where(Store.id == stores["full2"]).values(status=StoreStatus.exited)
            )
            await session.commit()

    run_on(cli_env, exit_b)
    exited = runner.invoke(
        app,
        ["program", "invite", seller_of["self_b"], "--store", stores["self_b"], "--message", "hi"],
    )
    assert exited.exit_code == 1 and "cannot join it again" in exited.output
    listed = runner.invoke(app, ["program", "invitations"])
    assert listed.exit_code == 0, listed.output
    assert "accepted (on behalf)" in listed.output  # the world's stores, opened directly
    assert "│ invited " not in listed.output  # no open invitation

    # a seller with no full-managed store is invited
    async def newcomer(db: Database) -> tuple[str, str]:
        from tests.builders.ledger import operator
        from tuoguan.stores import service
        from tuoguan.stores.models import StoreMode
        from tuoguan.stores.schemas import SellerCreate, StoreCreate

        async with db.write() as session:
            ctx = operator()
            seller = await service.create_seller(
                session, ctx=ctx, data=SellerCreate(name="Seller c", country="CN")
            )
            store = await service.create_store(
                session,
                ctx=ctx,
                data=StoreCreate(
                    seller_id=seller.id,
                    name="c self",
                    mode=StoreMode.self_run,
                    country="CN",
                    currency="USD",
                ),
            )
            await session.commit()
            return seller.id, store.id

    seller, store = run_on(cli_env, newcomer)
    sent = runner.invoke(
        app,
        ["program", "invite", seller, "--store", store, "--message", "诚邀加入", "--days", "7"],
    )
    assert sent.exit_code == 0, sent.output
    assert sent.output.startswith("invited: inv_") and "c self" in sent.output
    listed = runner.invoke(app, ["program", "invitations", "--seller", seller])
    assert "│ invited " in listed.output and "c self" in listed.output
    bad = runner.invoke(
        app, ["program", "invite", seller, "--store", store, "--message", "x", "--days", "99"]
    )
    assert bad.exit_code == 2  # a usage error: at most 60 days

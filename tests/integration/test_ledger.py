"""The money ledger on both engines: each kind posts its legs, refusals write nothing, the
database keeps the ledger append-only, corrections are reversals, a rule posts once, and
concurrent posts never overdraw an account (M3 S3 F6 G2 G3 G6)."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

import psycopg
import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from tests.builders.ledger import books, open_stores, operator, post, run_on
from tuoguan.db import Database, sync_url
from tuoguan.errors import Conflict
from tuoguan.ledger import check, reads, service
from tuoguan.ledger.accounts import ACCOUNTS, AccountKind
from tuoguan.ledger.kinds import KINDS, EntryKind
from tuoguan.ledger.records import Entry

K, A = EntryKind, AccountKind
OPERATOR = operator()


# A store's year in miniature: every kind once, in an order every floor allows.
SEQUENCE: list[tuple[EntryKind, dict[str, int]]] = [
    (K.deposit_funded, {"amount": 5000}),
    (K.sale_commissioned, {"net": 9000, "commission": 1000}),
    (K.sale_supplied, {"supply": 7000, "margin": 3000}),
    (K.penalty_charged, {"amount": 500}),
    (K.shipping_fee_charged, {"amount": 300}),
    (K.refund_charged_to_seller, {"amount": 200}),
    (K.deposit_applied_to_debt, {"amount": 400}),
    (K.debt_netted, {"amount": 600}),
    (K.delivery_compensation, {"amount": 250}),
    (K.delivery_compensation_platform, {"amount": 90}),
    (K.insurance_claim_paid, {"amount": 1200}),
    (K.insurance_recovered, {"amount": 1200}),
    (K.shipping_cost_incurred, {"amount": 800}),
    (K.refund_borne_by_platform, {"amount": 150}),
    (K.exit_fee_charged, {"management": 100, "refund_handling": 50}),
    (K.case_compensation, {"amount": 70}),
    (K.carrier_charged, {"amount": 70}),
    (K.debt_netted, {"amount": 150}),  # the exit fees, netted from what is due
    (K.payout_prepared, {"amount": 10000}),
    (K.payout_sent, {"amount": 10000}),
    (K.deposit_refunded, {"amount": 4600}),
    (K.payout_sent, {"amount": 4600}),  # the deposit refund's payout
    (K.sale_below_supply, {"paid": 1000, "shortfall": 200}),
    (K.compensation_recovered, {"amount": 250}),
    (K.debt_netted, {"amount": 250}),
]


def test_each_kind_posts_its_legs_and_moves_the_balances(db_url: str) -> None:
    # M3 S3 F6 G2 G3 G6: every money rule's kind posts the legs of the kinds table
    assert {kind for kind, _ in SEQUENCE} == {k for k, spec in KINDS.items() if not spec.free}

    async def scenario(db: Database) -> None:
        (store,) = await open_stores(db, 1)
        expected: dict[AccountKind, int] = defaultdict(int)
        for n, (kind, parts) in enumerate(SEQUENCE):
            entry = await post(
                db, kind, currency="cny", parts=parts, store_id=store, subject=("order", f"ord_{n}")
            )
            assert [(line.account_kind, line.amount_minor) for line in entry.lines] == KINDS[
                kind
            ].postings(parts)
            assert entry.currency == "CNY" and entry.store_id == store
            for account_kind, amount in KINDS[kind].postings(parts):
                expected[account_kind] += amount
            async with db.read() as session:
                for account_kind, total in expected.items():
                    owner = store if ACCOUNTS[account_kind].owner.value == "store" else None
                    shown = await reads.balance(
                        session, kind=account_kind, currency="CNY", store_id=owner
                    )
                    assert shown == ACCOUNTS[account_kind].shown(total), (kind, account_kind)
        # what the store is left with: sales and compensation due (a case's among them), less
        # debts (the exit fees among them) and the payout,
        # then a sale below its supply price (the supply price, 1 200, is due all the same),
        # then a compensation owed back and netted
        assert ACCOUNTS[A.receivable].shown(expected[A.receivable]) == 6850 - 150 + 70 + 1200 - 250
        assert expected[A.payable] == expected[A.deposit_held] == 0
        assert expected[A.payout_clearing] == expected[A.insurance_recoverable] == 0

        async with db.read() as session:
            (sale,) = await reads.entries_of(session, subject_type="order", subject_id="ord_1")
            assert sale.kind is K.sale_commissioned and sale.parts == SEQUENCE[1][1]
            receivable = sale.lines[1].account_id
            first, cursor = await reads.movements(session, account_id=receivable, limit=4)
            rest, end = await reads.movements(session, account_id=receivable, cursor=cursor)
            amounts = [p.amount_minor for p in first + rest]
            assert (
                amounts == [250, -1200, 10000, 150, -70, -1200, -250, 600, -7000, -9000]
                and end is None
            )
            report = await check.check(session)
        assert report.clean and report.postings == sum(
            len(KINDS[kind].postings(parts)) for kind, parts in SEQUENCE
        )
        held = await books(db)
        assert held.counts["journal_entries"] == len(SEQUENCE)
        async with db.read() as session:
            audited = await session.scalar(
                text("SELECT count(*) FROM events WHERE subject_type = 'journal_entry'")
            )
        assert audited == len(SEQUENCE)

    run_on(db_url, scenario)


def test_a_correction_is_one_reversal_and_a_rule_posts_once(db_url: str) -> None:
    # F6: a penalty waived on appeal is reversed, once; a rule retried returns its first entry
    async def scenario(db: Database) -> None:
        (store,) = await open_stores(db, 1)
        subject = ("penalty", "pen_1")
        first = await post(
            db,
            K.penalty_charged,
            currency="CNY",
            parts={"amount": 700},
            store_id=store,
            subject=subject,
            idem_key="penalty:pen_1",
        )
        again = await post(
            db,
            K.penalty_charged,
            currency="CNY",
            parts={"amount": 700},
            store_id=store,
            subject=subject,
            idem_key="penalty:pen_1",
        )
        assert again.id == first.id and again.lines == first.lines
        async with db.write() as session:
            mirror = await service.reverse(session, OPERATOR, first.id, "appeal won")
            await session.commit()
        assert mirror.reverses_id == first.id and mirror.kind is K.penalty_charged
        assert [line.amount_minor for line in mirror.lines] == [-700, 700]
        async with db.read() as session:
            assert await reads.balance(session, kind=A.payable, currency="CNY", store_id=store) == 0
            assert await reads.balance(session, kind=A.revenue, currency="CNY") == 0
            history = await reads.entries_of(session, subject_type="penalty", subject_id="pen_1")
            assert [e.id for e in history] == [first.id, mirror.id]
            assert (await check.check(session)).clean
        assert (await books(db)).counts["journal_entries"] == 2

    run_on(db_url, scenario)


def _refused_raw(url: str, statements: list[str]) -> list[str]:
    """Each statement's error, run in a transaction of its own on a plain connection."""
    engine = create_engine(sync_url(url))
    errors = []
    try:
        for statement in statements:
            with engine.connect() as conn:
                try:
                    conn.execute(text(statement))
                    conn.commit()
                except DBAPIError as refused:
                    errors.append(str(refused.orig))
                    continue
                errors.append(f"went through: {statement}")
    finally:
        engine.dispose()
    return errors


def test_the_database_keeps_the_ledger_append_only(db_url: str) -> None:
    # M3 S3: no posting or entry is updated or deleted, even by the tables' owner (triggers)
    async def scenario(db: Database) -> None:
        (store,) = await open_stores(db, 1)
        await post(db, K.deposit_funded, currency="CNY", parts={"amount": 100}, store_id=store)

    run_on(db_url, scenario)
    statements = [
        "UPDATE postings SET amount_minor = amount_minor * 2",
        "DELETE FROM postings",
        "UPDATE journal_entries SET memo = 'rewritten'",
        "DELETE FROM journal_entries",
    ]
    if db_url.startswith("postgresql"):
        statements += ["TRUNCATE postings CASCADE", "TRUNCATE journal_entries CASCADE"]
    errors = _refused_raw(db_url, statements)
    assert all("append-only" in error for error in errors), errors
    held = run_on(db_url, books)
    assert held.counts["postings"] == 2 and held.summed == {
        a: b for a, (_, _, b) in held.stored.items()
    }


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_application_role_may_not_rewrite_the_ledger(db_url: str) -> None:
    # M3 S3: production logs in as a member of tuoguan_app, which posts but never rewrites
    role = f"tg_ledger_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(db_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN IN ROLE tuoguan_app')
    try:
        (store,) = run_on(db_url, lambda db: open_stores(db, 1))
        as_app = make_url(db_url).set(username=role).render_as_string(hide_password=False)

        async def post_as_app(db: Database) -> Entry:
            return await post(
                db, K.deposit_funded, currency="CNY", parts={"amount": 100}, store_id=store
            )

        entry = run_on(as_app, post_as_app)
        assert len(entry.lines) == 2
        with psycopg.connect(as_app.replace("+psycopg", ""), autocommit=True) as conn:
            for statement in (
                "UPDATE postings SET amount_minor = 1",
                "DELETE FROM postings",
                "TRUNCATE postings",
                "UPDATE journal_entries SET memo = 'x'",
                "DELETE FROM journal_entries",
                "TRUNCATE journal_entries",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                    conn.execute(statement)
            # balances are derived: the role keeps them in step
            conn.execute("UPDATE ledger_accounts SET closed_at = NULL WHERE closed_at IS NULL")
    finally:
        with psycopg.connect(db_url, autocommit=True) as admin:
            admin.execute(f'DROP ROLE "{role}"')


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_posts_never_overdraw_an_account(db_url: str) -> None:
    # M3: eight payouts race for a receivable that covers three; the first posts race to open
    # a fresh store's accounts
    async def scenario(db: Database) -> None:
        store, fresh = await open_stores(db, 2)
        await post(
            db,
            K.sale_supplied,
            currency="CNY",
            parts={"supply": 1000, "margin": 0},
            store_id=store,
        )

        async def attempt(kind: EntryKind, store_id: str, amount: int) -> str:
            async with db.write() as session:
                try:
                    await service.post(
                        session,
                        OPERATOR,
                        kind,
                        currency="CNY",
                        parts={"amount": amount},
                        store_id=store_id,
                    )
                except Conflict as refused:
                    assert refused.extra["rule"] == "insufficient_balance"
                    return "refused"
                await session.commit()
                return "posted"

        payouts = await asyncio.gather(*(attempt(K.payout_prepared, store, 300) for _ in range(8)))
        assert sorted(payouts) == ["posted"] * 3 + ["refused"] * 5
        deposits = await asyncio.gather(*(attempt(K.deposit_funded, fresh, 50) for _ in range(6)))
        assert deposits == ["posted"] * 6
        async with db.read() as session:
            assert (
                await reads.balance(session, kind=A.receivable, currency="CNY", store_id=store)
                == 100
            )
            assert (
                await reads.balance(session, kind=A.deposit_held, currency="CNY", store_id=fresh)
                == 300
            )
            assert (await check.check(session)).clean
        held = await books(db)
        assert not held.negative_floors()
        assert held.summed == {a: b for a, (_, _, b) in held.stored.items() if a in held.summed}
        assert held.counts["ledger_accounts"] == 4  # cash, receivable, payout_clearing, deposit

    run_on(db_url, scenario)

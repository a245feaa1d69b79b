"""Refusals on the money ledger, on both engines: each names the field and the rule, and
nothing is posted, whatever the caller does next (M3 S3)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.ledger import books, open_stores, operator, post, run_on
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.errors import Conflict, DomainError, Forbidden, InvalidInput
from tuoguan.ledger import service
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.kinds import EntryKind
from tuoguan.principal import Principal, Role

K, A = EntryKind, AccountKind
OPERATOR = operator()


Attempt = Callable[[AsyncSession], Awaitable[Any]]


def test_refusals_name_the_field_and_the_rule_and_write_nothing(db_url: str) -> None:
    # M3 S3: bad amounts, currencies, kinds, closed accounts, overdrafts, reused keys, unbalanced
    # hand-made entries: each a problem naming the field and the rule; nothing is posted
    seller = Ctx(principal=Principal(role=Role.seller, actor_id="usr_s", seller_id="sel_x"))

    async def scenario(db: Database) -> None:
        store, other, fresh = await open_stores(db, 3)
        deposit = await post(
            db, K.deposit_funded, currency="CNY", parts={"amount": 1000}, store_id=store
        )
        await post(
            db,
            K.sale_supplied,
            currency="CNY",
            parts={"supply": 800, "margin": 0},
            store_id=store,
            idem_key="sale:ord_1",
        )
        penalty = await post(
            db, K.penalty_charged, currency="CNY", parts={"amount": 50}, store_id=store
        )
        async with db.write() as session:
            waived = await service.reverse(session, OPERATOR, penalty.id, "waived on appeal")
            await session.commit()
        funded = await post(
            db, K.deposit_funded, currency="USD", parts={"amount": 10}, store_id=other
        )
        await post(db, K.deposit_refunded, currency="USD", parts={"amount": 10}, store_id=other)
        closed = funded.lines[1].account_id
        cash_usd = funded.lines[0].account_id
        async with db.write() as session:
            await service.close_account(session, OPERATOR, closed, "the store left")
            await session.commit()
        held = next(line.account_id for line in penalty.lines if line.account_kind is A.payable)

        def posting(kind: Any, parts: dict[str, Any], **kw: Any) -> Attempt:
            kw.setdefault("currency", "CNY")
            kw.setdefault("store_id", store)
            return lambda s: service.post(s, OPERATOR, kind, parts=parts, **kw)

        def adjust(legs: list[tuple[str, Any, str]], ctx: Ctx = OPERATOR) -> Attempt:
            return lambda s: service.adjust(s, ctx, legs, "count correction")

        cases: list[tuple[str, Attempt, type[DomainError], str, str]] = [
            (
                "a fraction",
                posting(K.deposit_funded, {"amount": 12.5}),
                InvalidInput,
                "parts.amount",
                "no_fractions",
            ),
            (
                "a decimal fraction",
                posting(K.deposit_funded, {"amount": Decimal("10.01")}),
                InvalidInput,
                "parts.amount",
                "no_fractions",
            ),
            (
                "a bool",
                posting(K.deposit_funded, {"amount": True}),
                InvalidInput,
                "parts.amount",
                "integer_minor_units",
            ),
            (
                "negative",
                posting(K.deposit_funded, {"amount": -5}),
                InvalidInput,
                "parts.amount",
                "not_negative",
            ),
            (
                "all zero",
                posting(K.sale_commissioned, {"net": 0, "commission": 0}),
                InvalidInput,
                "parts",
                "not_empty",
            ),
            ("unknown kind", posting("gift", {"amount": 5}), InvalidInput, "kind", "known_kind"),
            (
                "a key too long",
                posting(K.deposit_funded, {"amount": 5}, idem_key="k" * 201),
                InvalidInput,
                "idem_key",
                "too_long",
            ),
            (
                "a missing part",
                posting(K.sale_commissioned, {"net": 5}),
                InvalidInput,
                "parts",
                "parts_match_kind",
            ),
            (
                "an extra part",
                posting(K.penalty_charged, {"amount": 5, "tip": 1}),
                InvalidInput,
                "parts",
                "parts_match_kind",
            ),
            (
                "not a currency",
                posting(K.deposit_funded, {"amount": 5}, currency="US"),
                InvalidInput,
                "currency",
                "iso_4217",
            ),
            (
                "no currency",
                posting(K.deposit_funded, {"amount": 5}, currency="XXX"),
                InvalidInput,
                "currency",
                "iso_4217",
            ),
            (
                "no store",
                posting(K.deposit_funded, {"amount": 5}, store_id=None),
                InvalidInput,
                "store_id",
                "store_required",
            ),
            (
                "unknown store",
                posting(K.deposit_funded, {"amount": 5}, store_id="sto_nope"),
                InvalidInput,
                "store_id",
                "known_store",
            ),
            (
                "overdrawn deposit",
                posting(K.deposit_refunded, {"amount": 1001}),
                Conflict,
                "parts",
                "insufficient_balance",
            ),
            (
                "overdrawn new account",
                posting(K.payout_sent, {"amount": 1}, store_id=fresh),
                Conflict,
                "parts",
                "insufficient_balance",
            ),
            (
                "a closed account",
                posting(K.deposit_funded, {"amount": 5}, currency="USD", store_id=other),
                Conflict,
                "parts",
                "account_open",
            ),
            (
                "a reused key",
                posting(K.sale_supplied, {"supply": 801, "margin": 0}, idem_key="sale:ord_1"),
                Conflict,
                "idem_key",
                "idem_key_reused",
            ),
            (
                "unbalanced",
                adjust([(held, 5, "CNY"), (closed, -4, "USD")]),
                InvalidInput,
                "postings",
                "balanced",
            ),
            (
                "another currency",
                adjust([(held, 5, "USD"), (cash_usd, -5, "USD")]),
                InvalidInput,
                "currency",
                "matches_account",
            ),
            (
                "a closed account by hand",
                adjust([(closed, -5, "USD"), (cash_usd, 5, "USD")]),
                Conflict,
                "postings",
                "account_open",
            ),
            (
                "a fraction by hand",
                adjust([(held, 0.5, "CNY"), (cash_usd, -0.5, "CNY")]),
                InvalidInput,
                "postings.0",
                "no_fractions",
            ),
            (
                "a seller by hand",
                adjust([(held, 5, "CNY"), (held, -5, "CNY")], seller),
                Forbidden,
                "",
                "",
            ),
            (
                "reversed twice",
                lambda s: service.reverse(s, OPERATOR, penalty.id, "again"),
                Conflict,
                "entry_id",
                "reversed_once",
            ),
            (
                "a reversal reversed",
                lambda s: service.reverse(s, OPERATOR, waived.id, "undo"),
                Conflict,
                "entry_id",
                "reversal_not_reversed",
            ),
            (
                "closing a balance",
                lambda s: service.close_account(s, OPERATOR, deposit.lines[1].account_id, "no"),
                Conflict,
                "account_id",
                "zero_balance",
            ),
        ]
        before = await books(db)
        for name, attempt, error, field, rule in cases:
            async with db.write() as session:
                with pytest.raises(error) as refused:
                    await attempt(session)
                await session.commit()  # whatever the caller does next, nothing was written
            if rule:
                assert (refused.value.field, refused.value.extra.get("rule")) == (field, rule), name
            assert await books(db) == before, name
            if rule == "insufficient_balance":
                assert refused.value.extra["account_kind"] in ("deposit_held", "payout_clearing")
                assert "insufficient" in refused.value.detail
            if rule == "no_fractions":
                assert "fractions of a minor unit" in refused.value.detail

    run_on(db_url, scenario)

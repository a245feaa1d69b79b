"""Stateful property test of the money ledger (M3 S3 F6 G2 G3 G6): random operations, then the
books must balance.

Random posts of every kind for random stores in two currencies, reversals, hand-made
adjustments (some unbalanced), account closings and pairs of posts run at once. A model
predicts each outcome (the rules a refusal may name, or the legs posted); a pair run at once
must end as one of its two serial orders would. After every step, on both engines: the
postings of each currency sum to zero, each stored balance is the sum of its postings and the
model's, and no account that must not go negative is.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from tests.builders.ledger import books, open_stores, operator
from tuoguan.db import Database
from tuoguan.errors import DomainError
from tuoguan.ledger import service
from tuoguan.ledger.accounts import ACCOUNTS, AccountKind, Owner
from tuoguan.ledger.kinds import KINDS, EntryKind
from tuoguan.ledger.models import LedgerAccount
from tuoguan.ledger.records import Entry

OPERATOR = operator()
CURRENCIES = ("CNY", "USD")
FIXED = [kind for kind, spec in KINDS.items() if not spec.free]
Key = tuple[str | None, AccountKind, str]  # (store or None, kind, currency)
Legs = list[tuple[Key, int]]


@dataclass
class Posted:
    """The model of an entry: its legs, what it reverses, whether it is reversed."""

    legs: Legs
    reverses: str | None = None
    reversed: bool = False


@dataclass(frozen=True)
class Request:
    """A post to make."""

    kind: EntryKind
    currency: str
    parts: dict[str, Any]
    store_id: str | None


Outcome = tuple[str, Any]  # ("ok", Entry) or ("refused", rule)


def _pick(data: st.DataObject, items: list[Any], label: str) -> Any:
    """One of ``items`` (None if there are none), drawn the same way whatever their number:
    what the ledger answered must not change what Hypothesis draws, only what it means."""
    index = data.draw(st.integers(0, 10**6), label=label)
    return items[index % len(items)] if items else None


class LedgerMachine(RuleBasedStateMachine):
    """Random posts, reversals, adjustments, closings and concurrent pairs of posts."""

    runner: asyncio.Runner
    db: Database

    def __init__(self) -> None:
        super().__init__()
        self.balances: dict[Key, int] = defaultdict(int)
        self.closed: set[Key] = set()
        self.ids: dict[Key, str] = {}
        self.entries: dict[str, Posted] = {}
        self.stores: list[str] = []

    def run(self, coro: Any) -> Any:
        return self.runner.run(coro)

    @initialize()
    def fresh_stores(self) -> None:
        self.stores = self.run(open_stores(self.db, 2))

        async def platform() -> list[Any]:  # the platform's accounts outlive each example
            async with self.db.read() as session:
                rows = await session.execute(
                    select(LedgerAccount).where(LedgerAccount.store_id.is_(None))
                )
                return list(rows.scalars())

        for account in self.run(platform()):
            key: Key = (None, AccountKind(account.kind), account.currency)
            self.balances[key] = account.balance_minor
            self.ids[key] = account.id
            if account.closed_at is not None:
                self.closed.add(key)

    # -- the model --------------------------------------------------------------------------

    def _refusals(self, legs: Legs, balances: dict[Key, int]) -> set[str]:
        """The rules a refusal of these legs may name (empty: they post)."""
        deltas: dict[Key, int] = defaultdict(int)
        for key, amount in legs:
            deltas[key] += amount
        rules = set()
        for key, delta in deltas.items():
            if key in self.closed:
                rules.add("account_open")
            elif ACCOUNTS[key[1]].breaks_floor(balances.get(key, 0) + delta):
                rules.add("insufficient_balance")
        return rules

    def _predict(self, request: Request, balances: dict[Key, int]) -> tuple[set[str], Legs]:
        if any(not isinstance(value, int) for value in request.parts.values()):
            return {"no_fractions"}, []
        postings = KINDS[request.kind].postings(request.parts)
        if not postings:
            return {"not_empty"}, []
        legs: Legs = [
            (
                (
                    request.store_id if ACCOUNTS[kind].owner is Owner.store else None,
                    kind,
                    request.currency,
                ),
                amount,
            )
            for kind, amount in postings
        ]
        return self._refusals(legs, balances), legs

    def _apply(self, legs: Legs, balances: dict[Key, int]) -> None:
        for key, amount in legs:
            balances[key] += amount

    def _learn(self, entry: Entry, legs: Legs, reverses: str | None = None) -> None:
        """Record a posted entry: its accounts' ids, the model entry; its legs as predicted."""
        got = [
            ((line.store_id, line.account_kind, line.currency), line.amount_minor)
            for line in entry.lines
        ]
        assert got == legs, (entry.kind, got, legs)
        for line in entry.lines:
            self.ids[(line.store_id, line.account_kind, line.currency)] = line.account_id
        self.entries[entry.id] = Posted(legs, reverses)

    def _check(self, outcome: Outcome, rules: set[str]) -> bool:
        """Whether an outcome is one the model allows."""
        status, detail = outcome
        return status == "ok" if not rules else status == "refused" and detail in rules

    # -- acting --------------------------------------------------------------------------------

    async def _attempt(self, call: Any) -> Outcome:
        async with self.db.write() as session:
            try:
                result = await call(session)
            except DomainError as refused:
                await session.rollback()
                return "refused", refused.extra.get("rule")
            await session.commit()
            return "ok", result

    def _post_call(self, request: Request) -> Any:
        return lambda session: service.post(
            session,
            OPERATOR,
            request.kind,
            currency=request.currency,
            parts=request.parts,
            store_id=request.store_id,
            subject=("order", "ord_property"),
        )

    def _draw_request(self, data: st.DataObject) -> Request:
        kind = data.draw(st.sampled_from(FIXED), label="kind")
        parts: dict[str, Any] = {
            name: data.draw(st.integers(1, 3000), label=name)
            * (data.draw(st.integers(0, 5), label=f"{name} is 0") < 5)
            for name in KINDS[kind].parts
        }
        if data.draw(st.integers(0, 12), label="fraction") == 12:
            parts[KINDS[kind].parts[0]] = 0.5
        store: str | None = data.draw(st.sampled_from(self.stores), label="store")
        if not KINDS[kind].needs_store and data.draw(st.booleans(), label="no store"):
            store = None
        currency = data.draw(st.sampled_from(CURRENCIES), label="currency")
        return Request(kind, currency, parts, store)

    @rule(data=st.data())
    def post(self, data: st.DataObject) -> None:
        request = self._draw_request(data)
        rules, legs = self._predict(request, self.balances)
        outcome = self.run(self._attempt(self._post_call(request)))
        assert self._check(outcome, rules), (request, outcome, rules)
        if outcome[0] == "ok":
            self._learn(outcome[1], legs)
            self._apply(legs, self.balances)

    @rule(data=st.data())
    def concurrent_pair(self, data: st.DataObject) -> None:
        first, second = self._draw_request(data), self._draw_request(data)

        async def both() -> list[Outcome]:
            return list(
                await asyncio.gather(
                    self._attempt(self._post_call(first)), self._attempt(self._post_call(second))
                )
            )

        outcomes = self.run(both())
        for order in ((0, 1), (1, 0)):
            balances = defaultdict(int, self.balances)
            predicted = {}
            for index in order:
                rules, legs = self._predict((first, second)[index], balances)
                predicted[index] = (rules, legs)
                if self._check(outcomes[index], rules) and not rules:
                    self._apply(legs, balances)
            if all(self._check(outcomes[i], predicted[i][0]) for i in order):
                break
        else:
            raise AssertionError(f"no serial order explains {outcomes} for {first}, {second}")
        for index in order:
            if outcomes[index][0] == "ok":
                self._learn(outcomes[index][1], predicted[index][1])
        self.balances = balances

    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        entry_id = _pick(data, sorted(self.entries), "entry")
        if entry_id is None:
            return
        posted = self.entries[entry_id]
        mirror = [(key, -amount) for key, amount in posted.legs]
        if posted.reverses is not None:
            rules = {"reversal_not_reversed"}
        elif posted.reversed:
            rules = {"reversed_once"}
        else:
            rules = self._refusals(mirror, self.balances)
        outcome = self.run(
            self._attempt(lambda s: service.reverse(s, OPERATOR, entry_id, "property test"))
        )
        assert self._check(outcome, rules), (entry_id, outcome, rules)
        if outcome[0] == "ok":
            self._learn(outcome[1], mirror, reverses=entry_id)
            posted.reversed = True
            self._apply(mirror, self.balances)

    @rule(data=st.data())
    def adjust(self, data: st.DataObject) -> None:
        currency = data.draw(st.sampled_from(CURRENCIES), label="currency")
        known = sorted((k for k in self.ids if k[2] == currency), key=str)
        start = data.draw(st.integers(0, 10**6), label="first account")
        count = data.draw(st.integers(2, 3), label="legs")
        amounts = [
            data.draw(st.integers(1, 800), label="amount") * data.draw(st.sampled_from((1, -1)))
            for _ in range(count - 1)
        ]
        unbalanced = data.draw(st.integers(0, 4), label="unbalanced") == 4
        count = min(count, len(known))
        if count < 2:
            return
        keys = [known[(start + n) % len(known)] for n in range(count)]
        amounts = amounts[: count - 1]
        amounts.insert(0, -sum(amounts) + (1 if unbalanced else 0))
        legs: Legs = list(zip(keys, amounts, strict=True))
        if any(amount == 0 for amount in amounts):
            rules = {"leg_not_zero"}
        elif unbalanced:
            rules = {"balanced"}
        else:
            rules = self._refusals(legs, self.balances)
        given = [(self.ids[key], amount, currency) for key, amount in legs]
        outcome = self.run(self._attempt(lambda s: service.adjust(s, OPERATOR, given, "count")))
        assert self._check(outcome, rules), (legs, outcome, rules)
        if outcome[0] == "ok":
            self._learn(outcome[1], legs)
            self._apply(legs, self.balances)

    @rule(data=st.data())
    def close(self, data: st.DataObject) -> None:
        # Only stores' accounts: the platform's outlive each example, and closed they would
        # refuse every later example's posts.
        mine = sorted((k for k in self.ids if k[0] is not None), key=str)
        empty = [k for k in mine if not self.balances[k] and k not in self.closed]
        any_account = data.draw(st.booleans(), label="any account")
        key = _pick(data, mine if any_account or not empty else empty, "account")
        if key is None:
            return
        if key in self.closed:
            rules = {"account_open"}
        elif self.balances[key] != 0:
            rules = {"zero_balance"}
        else:
            rules = set()
        account_id = self.ids[key]
        outcome = self.run(
            self._attempt(lambda s: service.close_account(s, OPERATOR, account_id, "property"))
        )
        assert self._check(outcome, rules), (key, outcome, rules)
        if outcome[0] == "ok":
            self.closed.add(key)

    # -- after every step ------------------------------------------------------------------------

    @invariant()
    def the_books_balance(self) -> None:
        held = self.run(books(self.db))
        assert all(total == 0 for total in held.totals.values()), held.totals
        for account_id, (_, _, balance) in held.stored.items():
            assert held.summed.get(account_id, 0) == balance, account_id
        assert not set(held.summed) - set(held.stored)
        assert not held.negative_floors()
        for key, account_id in self.ids.items():
            assert held.stored[account_id][2] == self.balances[key], key


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_the_books_always_balance(db_url: str) -> None:
    # M3 S3 F6 G2 G3 G6: double entry, derived balances, floors, reversals once, whatever happens
    with asyncio.Runner() as runner:
        LedgerMachine.runner = runner
        LedgerMachine.db = Database.from_url(db_url, pool_size=4)
        try:
            run_state_machine_as_test(
                LedgerMachine,
                settings=settings(
                    max_examples=15,
                    stateful_step_count=20,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    database=None,
                ),
            )
        finally:
            runner.run(LedgerMachine.db.dispose())

"""The ledger over the API, on both engines (M3 F6 S3): each role reads what it may, a seller
its own stores' accounts and of an entry only the lines on them (never the platform's margin,
commission or cash), other roles nothing (403); an operator's adjustment and reversal post, and
each refusal is a problem naming the field and the rule, with nothing posted; an
Idempotency-Key replays the first answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.ledger import START, Books, books, operator, post, run_on
from tests.builders.market import Market
from tests.integration.test_list_plans import Planner, captured
from tuoguan.db import Database
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger import repository, service
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.records import Account, Entry

K = EntryKind
T = TypeVar("T")
PROBLEM = "application/problem+json"


def _run(db_url: str, scenario: Callable[[Database], Awaitable[T]]) -> T:
    """A scenario on the database, on its own loop (the app's test client holds this thread's)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        result: T = pool.submit(run_on, db_url, scenario).result()
    return result


def _post(m: Market, kind: EntryKind, minutes: int = 0, **kwargs: Any) -> Entry:
    clock = FrozenClock(START + timedelta(minutes=minutes))

    async def scenario(db: Database) -> Entry:
        return await post(db, kind, operator(clock), **kwargs)

    return _run(m.db_url, scenario)


def _books(m: Market) -> Books:
    return _run(m.db_url, books)


class Ledger:
    """A market with money moved: seller a's self-run sale (with commission), its full-managed
    sale (the platform's margin) and deposit; seller b's sale and a penalty on it."""

    def __init__(self, m: Market) -> None:
        self.m = m
        self.a_order = m.place("a_self")["id"]
        self.b_order = m.place("b_self")["id"]
        self.a_sale = _post(
            m,
            K.sale_commissioned,
            1,
            currency="USD",
            parts={"net": 9000, "commission": 1000},
            store_id=m.stores["a_self"],
            subject=("order", self.a_order),
        )
        self.a_supplied = _post(
            m,
            K.sale_supplied,
            2,
            currency="USD",
            parts={"supply": 1200, "margin": 799},
            store_id=m.stores["a_full"],
            subject=("order", self.a_order),
        )
        self.a_deposit = _post(
            m,
            K.deposit_funded,
            3,
            currency="USD",
            parts={"amount": 50000},
            store_id=m.stores["a_full"],
        )
        self.b_sale = _post(
            m,
            K.sale_commissioned,
            4,
            currency="USD",
            parts={"net": 1800, "commission": 199},
            store_id=m.stores["b_self"],
            subject=("order", self.b_order),
        )
        self.b_penalty = _post(
            m,
            K.penalty_charged,
            5,
            currency="USD",
            parts={"amount": 300},
            store_id=m.stores["b_self"],
            subject=("order", self.b_order),
        )

    def account(self, store: str | None, kind: str) -> dict[str, Any]:
        """An account as the operator reads it (the platform's: store None)."""
        params = {"store_id": self.m.stores[store]} if store else {"owner": "platform"}
        found = self.m.ok(self.m.get("/ledger/accounts", self.m.operator, params=params))
        (one,) = [a for a in found if a["kind"] == kind]
        return dict(one)


@pytest.fixture
def ledger(market: Market) -> Ledger:
    return Ledger(market)


def _all_pages(m: Market, path: str, token: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    answer = m.get(path, token, params=params)
    while True:
        rows += m.ok(answer)
        link = answer.headers.get("Link")
        if not link:
            return rows
        answer = m.client.get(
            link[1 : link.index(">")], headers={"Authorization": f"Bearer {token}"}
        )


def test_an_operator_reads_every_account_with_its_balance_on_its_normal_side(
    ledger: Ledger,
) -> None:  # M3
    m = ledger.m
    everything = _all_pages(m, "/ledger/accounts", m.operator, {"limit": 3})
    a_self, a_full, b_self = (m.stores[k] for k in ("a_self", "a_full", "b_self"))
    assert len(everything) == len({a["id"] for a in everything})
    assert {(a["store_id"], a["kind"]): a["balance_minor"] for a in everything} == {
        (a_self, "receivable"): 9000,
        (a_full, "receivable"): 1200,
        (a_full, "deposit_held"): 50000,
        (b_self, "receivable"): 1800,
        (b_self, "payable"): 300,
        (None, "cash"): 10000 + 1999 + 50000 + 1999,
        (None, "commission"): 1000 + 199,
        (None, "revenue"): 799 + 300,
    }
    receivable = ledger.account("a_self", "receivable")
    assert (receivable["owner"], receivable["normal_side"], receivable["currency"]) == (
        "store",
        "credit",
        "USD",
    )
    platform = m.ok(m.get("/ledger/accounts", m.operator, params={"owner": "platform"}))
    assert {a["kind"] for a in platform} == {"cash", "commission", "revenue"}
    assert all(a["store_id"] is None for a in platform)
    stores = m.ok(m.get("/ledger/accounts", m.operator, params={"owner": "store"}))
    assert len(stores) == 5 and all(a["store_id"] for a in stores)
    assert m.ok(m.get("/ledger/accounts", m.operator, params={"currency": "EUR"})) == []
    one = m.ok(m.get(f"/ledger/accounts/{receivable['id']}", m.operator))
    assert one == receivable

    # the operator reads every line of an entry, the platform's commission included
    sale = m.ok(m.get(f"/ledger/entries/{ledger.a_sale.id}", m.operator))
    assert sale["parts"] == {"net": 9000, "commission": 1000}
    assert [(x["account_kind"], x["amount_minor"], x["change_minor"]) for x in sale["lines"]] == [
        ("cash", 10000, 10000),
        ("receivable", -9000, 9000),
        ("commission", -1000, 1000),
    ]
    on_order = m.ok(m.get(f"/orders/{ledger.a_order}/ledger", m.operator))
    assert [e["id"] for e in on_order] == [ledger.a_sale.id, ledger.a_supplied.id]
    assert m.get("/ledger/accounts", m.operator, params={"currency": "dollars"}).status_code == 422


def test_a_seller_reads_its_own_stores_accounts_and_lines_and_nothing_else(
    ledger: Ledger,
) -> None:  # M3 F6
    m = ledger.m
    a = m.seller_tokens["a"]
    mine = m.ok(m.get("/ledger/accounts", a))
    assert {(x["store_id"], x["kind"]) for x in mine} == {
        (m.stores["a_self"], "receivable"),
        (m.stores["a_full"], "receivable"),
        (m.stores["a_full"], "deposit_held"),
    }
    # another seller's store, or the platform's accounts: an empty page
    assert m.ok(m.get("/ledger/accounts", a, params={"store_id": m.stores["b_self"]})) == []
    assert m.ok(m.get("/ledger/accounts", a, params={"owner": "platform"})) == []
    assert m.get("/ledger/accounts", a, params={"cursor": "nonsense"}).status_code == 400
    own = m.ok(m.get("/ledger/accounts", a, params={"store_id": m.stores["a_full"]}))
    assert {x["kind"] for x in own} == {"receivable", "deposit_held"}

    # another seller's account, or the platform's: not found, nor their movements
    for store, kind in (("b_self", "payable"), (None, "cash"), (None, "commission")):
        other = ledger.account(store, kind)["id"]
        for path in (f"/ledger/accounts/{other}", f"/ledger/accounts/{other}/postings"):
            answer = m.get(path, a)
            assert answer.status_code == 404 and answer.headers["content-type"] == PROBLEM

    # its own sale: only the line on its receivable; no parts (the platform's commission)
    sale = m.ok(m.get(f"/ledger/entries/{ledger.a_sale.id}", a))
    assert "parts" not in sale and "idem_key" not in sale and "actor_id" not in sale
    assert [(x["account_kind"], x["change_minor"]) for x in sale["lines"]] == [("receivable", 9000)]
    supplied = m.ok(m.get(f"/ledger/entries/{ledger.a_supplied.id}", a))
    assert [(x["account_kind"], x["amount_minor"]) for x in supplied["lines"]] == [
        ("receivable", -1200)
    ]  # never the platform's margin (799) or the buyer's payment into cash
    assert "799" not in str(supplied) and "1999" not in str(supplied)
    # another seller's entries and orders: not found
    for entry in (ledger.b_sale, ledger.b_penalty):
        assert m.get(f"/ledger/entries/{entry.id}", a).status_code == 404
    assert m.get(f"/orders/{ledger.b_order}/ledger", a).status_code == 404
    on_order = m.ok(m.get(f"/orders/{ledger.a_order}/ledger", a))
    assert [e["id"] for e in on_order] == [ledger.a_sale.id, ledger.a_supplied.id]
    assert all(line["store_id"] for e in on_order for line in e["lines"])
    assert {line["account_kind"] for e in on_order for line in e["lines"]} == {"receivable"}

    # seller b reads its penalty: what it owes
    b = m.seller_tokens["b"]
    penalty = m.ok(m.get(f"/ledger/entries/{ledger.b_penalty.id}", b))
    assert [(x["account_kind"], x["change_minor"]) for x in penalty["lines"]] == [("payable", 300)]


def test_carriers_the_storefront_and_warehouse_staff_may_not_read_the_ledger(
    ledger: Ledger,
) -> None:  # M3
    m = ledger.m
    account = ledger.account("a_self", "receivable")["id"]
    paths = [
        "/ledger/accounts",
        f"/ledger/accounts/{account}",
        f"/ledger/accounts/{account}/postings",
        f"/ledger/entries/{ledger.a_sale.id}",
        f"/orders/{ledger.a_order}/ledger",
    ]
    for token in (m.carrier, m.channel):
        for path in paths:
            answer = m.get(path, token)
            assert answer.status_code == 403, (path, answer.text)
            assert answer.headers["content-type"] == PROBLEM
    for token in (m.carrier, m.channel, m.seller_tokens["a"]):
        refused = m.post(f"/ledger/entries/{ledger.a_sale.id}/reverse", token, {"reason": "no"})
        assert refused.status_code == 403


def test_an_accounts_movements_newest_first_by_kind_and_period_in_pages(
    ledger: Ledger,
) -> None:  # M3 F6
    m = ledger.m
    cash = ledger.account(None, "cash")["id"]
    moves = _all_pages(m, f"/ledger/accounts/{cash}/postings", m.operator, {"limit": 3})
    assert [x["entry_id"] for x in moves] == [
        ledger.b_sale.id,
        ledger.a_deposit.id,
        ledger.a_supplied.id,
        ledger.a_sale.id,
    ]
    assert moves[0]["subject_type"] == "order" and moves[0]["subject_id"] == ledger.b_order
    sales = m.ok(
        m.get(f"/ledger/accounts/{cash}/postings", m.operator, params={"kind": "sale_commissioned"})
    )
    assert [x["entry_id"] for x in sales] == [ledger.b_sale.id, ledger.a_sale.id]
    since = (START + timedelta(minutes=2)).isoformat()
    until = (START + timedelta(minutes=4)).isoformat()
    window = m.ok(
        m.get(
            f"/ledger/accounts/{cash}/postings",
            m.operator,
            params={"since": since, "until": until},
        )
    )
    assert [x["entry_id"] for x in window] == [ledger.a_deposit.id, ledger.a_supplied.id]
    backwards = m.get(
        f"/ledger/accounts/{cash}/postings", m.operator, params={"since": until, "until": since}
    )
    assert backwards.status_code == 422 and backwards.json()["rule"] == "after_since"

    # a seller reads its payable's movements; what a penalty did to it reads as +
    b = m.seller_tokens["b"]
    payable = ledger.account("b_self", "payable")["id"]
    (owed,) = m.ok(m.get(f"/ledger/accounts/{payable}/postings", b))
    assert (owed["kind"], owed["change_minor"], owed["amount_minor"]) == (
        "penalty_charged",
        300,
        300,
    )


def _refused(answer: Any, status: int, field: str, rule: str | None) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert (body["field"], body.get("rule")) == (field, rule), body


def test_an_operators_adjustment_posts_and_each_refusal_changes_nothing(
    ledger: Ledger,
) -> None:  # M3 S3
    m = ledger.m
    receivable = ledger.account("a_self", "receivable")
    payable_b = ledger.account("b_self", "payable")
    revenue = ledger.account(None, "revenue")
    cash = ledger.account(None, "cash")

    def leg(account: dict[str, Any], amount: Any, currency: str = "USD") -> dict[str, Any]:
        return {"account_id": account["id"], "amount_minor": amount, "currency": currency}

    before = _books(m)
    bad: list[tuple[dict[str, Any], int, str, str]] = [
        (
            {"postings": [leg(receivable, 100), leg(cash, -99)], "memo": "x"},
            422,
            "postings",
            "balanced",
        ),
        (
            {"postings": [leg(receivable, 12.5), leg(cash, -12.5)], "memo": "x"},
            422,
            "postings.0",
            "no_fractions",
        ),
        (
            {"postings": [leg(receivable, 100, "EUR"), leg(cash, -100, "EUR")], "memo": "x"},
            422,
            "currency",
            "matches_account",
        ),
        ({"postings": [leg(receivable, 100)], "memo": "x"}, 422, "postings", "two_legs"),
        (
            {"postings": [leg(receivable, 100), leg(cash, -100)], "memo": "  "},
            422,
            "memo",
            "memo_required",
        ),
        (
            {
                "postings": [
                    {"account_id": "lac_nothing", "amount_minor": 5, "currency": "USD"},
                    leg(cash, -5),
                ],
                "memo": "x",
            },
            422,
            "postings",
            "known_account",
        ),
        # a receivable of 90.00 does not give 90.01
        (
            {"postings": [leg(receivable, 9001), leg(cash, -9001)], "memo": "x"},
            409,
            "postings",
            "insufficient_balance",
        ),
    ]
    for body, status, field, rule in bad:
        _refused(m.post("/ledger/entries", m.operator, body), status, field, rule)
    assert _books(m) == before

    # a store's goodwill credit: the platform's revenue pays the seller's payable down
    body = {"postings": [leg(revenue, 200), leg(payable_b, -200)], "memo": "waive the fee"}
    made = m.ok(m.post("/ledger/entries", m.operator, body), 201)
    assert (made["kind"], made["memo"], made["store_id"]) == (
        "adjustment",
        "waive the fee",
        m.stores["b_self"],
    )
    assert ledger.account("b_self", "payable")["balance_minor"] == 100
    assert ledger.account(None, "revenue")["balance_minor"] == 1099 - 200
    b = m.seller_tokens["b"]
    seen = m.ok(m.get(f"/ledger/entries/{made['id']}", b))
    assert [(x["account_kind"], x["change_minor"]) for x in seen["lines"]] == [("payable", -200)]

    # a seller may not write the ledger
    assert m.post("/ledger/entries", b, body).status_code == 403

    # a closed account takes no more postings
    async def close_deposit(db: Database) -> None:
        await post(
            db, K.deposit_funded, currency="EUR", parts={"amount": 100}, store_id=m.stores["a_semi"]
        )
        await post(
            db,
            K.deposit_refunded,
            currency="EUR",
            parts={"amount": 100},
            store_id=m.stores["a_semi"],
        )
        async with db.write() as session:
            (held,) = [
                a
                for a in (await _accounts(session, m.stores["a_semi"]))
                if a.kind.value == "deposit_held"
            ]
            await service.close_account(session, operator(), held.id, "store left")
            await session.commit()

    _run(m.db_url, close_deposit)
    held = ledger.account("a_semi", "deposit_held")
    assert held["closed_at"] is not None
    cash_eur = m.ok(
        m.get("/ledger/accounts", m.operator, params={"owner": "platform", "currency": "EUR"})
    )[0]
    before = _books(m)
    closed = {"postings": [leg(cash_eur, 5, "EUR"), leg(held, -5, "EUR")], "memo": "x"}
    _refused(m.post("/ledger/entries", m.operator, closed), 409, "postings", "account_open")
    assert _books(m) == before


async def _accounts(session: AsyncSession, store_id: str) -> list[Account]:
    found, _ = await repository.list_accounts(
        session, store_ids=[store_id], platform=None, currency=None, cursor=None, limit=50
    )
    return found


def test_an_idempotency_key_replays_the_adjustment(ledger: Ledger) -> None:  # M3
    m = ledger.m
    revenue, payable = ledger.account(None, "revenue"), ledger.account("b_self", "payable")
    body = {
        "postings": [
            {"account_id": revenue["id"], "amount_minor": 50, "currency": "USD"},
            {"account_id": payable["id"], "amount_minor": -50, "currency": "USD"},
        ],
        "memo": "goodwill",
    }
    key = {"Idempotency-Key": m.new_key()}
    first = m.post("/ledger/entries", m.operator, body, headers=key)
    assert first.status_code == 201
    counted = _books(m).counts["journal_entries"]
    again = m.post("/ledger/entries", m.operator, body, headers=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert _books(m).counts["journal_entries"] == counted
    assert ledger.account("b_self", "payable")["balance_minor"] == 250
    other = m.post("/ledger/entries", m.operator, {**body, "memo": "other"}, headers=key)
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"


def test_a_reversal_mirrors_an_entry_once_and_each_refusal_changes_nothing(
    ledger: Ledger,
) -> None:  # M3 F6
    m = ledger.m
    path = f"/ledger/entries/{ledger.b_penalty.id}/reverse"
    before = _books(m)
    _refused(m.post(path, m.operator, {"reason": "   "}), 422, "reason", "reason_required")
    nothing = m.post("/ledger/entries/jen_nothing/reverse", m.operator, {"reason": "x"})
    _refused(nothing, 404, "entry_id", None)
    assert _books(m) == before

    key = {"Idempotency-Key": m.new_key()}
    mirror = m.ok(m.post(path, m.operator, {"reason": "appeal won"}, headers=key), 201)
    assert (mirror["reverses_id"], mirror["memo"], mirror["kind"]) == (
        ledger.b_penalty.id,
        "appeal won",
        "penalty_charged",
    )
    assert [(x["account_kind"], x["amount_minor"]) for x in mirror["lines"]] == [
        ("payable", -300),
        ("revenue", 300),
    ]
    replayed = m.post(path, m.operator, {"reason": "appeal won"}, headers=key)
    assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.json() == mirror
    assert ledger.account("b_self", "payable")["balance_minor"] == 0
    original = m.ok(m.get(f"/ledger/entries/{ledger.b_penalty.id}", m.operator))
    assert original["reversed_by_id"] == mirror["id"]
    b = m.seller_tokens["b"]
    assert (
        m.ok(m.get(f"/ledger/entries/{ledger.b_penalty.id}", b))["reversed_by_id"] == mirror["id"]
    )

    before = _books(m)
    _refused(m.post(path, m.operator, {"reason": "again"}), 409, "entry_id", "reversed_once")
    _refused(
        m.post(f"/ledger/entries/{mirror['id']}/reverse", m.operator, {"reason": "undo"}),
        409,
        "entry_id",
        "reversal_not_reversed",
    )
    # the sale was paid out meanwhile: its reversal would take the receivable below zero
    _post(
        m, K.payout_prepared, 9, currency="USD", parts={"amount": 9000}, store_id=m.stores["a_self"]
    )
    before = _books(m)
    _refused(
        m.post(f"/ledger/entries/{ledger.a_sale.id}/reverse", m.operator, {"reason": "refund"}),
        409,
        "entry_id",
        "insufficient_balance",
    )
    assert _books(m) == before


def test_movements_read_the_accounts_index_in_its_order_on_both_engines(
    ledger: Ledger, db_url: str
) -> None:  # M3
    m = ledger.m
    cash = ledger.account(None, "cash")["id"]
    receivable = ledger.account("a_self", "receivable")["id"]
    since, until = (
        (START + timedelta(minutes=2)).isoformat(),
        (START + timedelta(hours=1)).isoformat(),
    )
    queries: list[dict[str, Any]] = [{}, {"since": since}, {"since": since, "until": until}]
    planner = Planner(db_url)
    faults: list[str] = []
    try:
        for account in (cash, receivable):
            for query in queries + [{"kind": "sale_commissioned"}]:
                with captured() as statements:
                    _all_pages(
                        m, f"/ledger/accounts/{account}/postings", m.operator, {**query, "limit": 1}
                    )
                lists = [(s, p) for s, p in statements if "FROM postings" in s and "LIMIT" in s]
                assert lists, query
                for statement, parameters in lists:
                    found = planner.faults(statement, parameters)
                    if "kind" in query:
                        # the kind is the entry's: each posting read in the index's order
                        # looks its entry up by primary key (a page stops once full)
                        found = [f for f in found if "journal_entries" not in f]
                    faults += [f"{query}: {f}\n  {statement}" for f in found]
    finally:
        planner.close()
    assert not faults, "\n".join(faults)

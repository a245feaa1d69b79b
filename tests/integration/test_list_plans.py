"""Every list reads an index that matches its filter and its order, on both engines.

Each list endpoint is called through the API for every role that may call it and every
filter it takes, page after page along its cursor. The SELECT statements the request runs
are captured and explained on the same database:

- SQLite (``EXPLAIN QUERY PLAN``, after ``ANALYZE``): no table scanned without an index; a
  list query (one with a LIMIT) uses no temporary B-tree, and when it filters it searches
  an index on every column it matches exactly (a partial index's own condition excepted);
- PostgreSQL (``EXPLAIN`` with ``enable_seqscan`` and ``enable_sort`` off, so a tiny table
  still shows the path a big one takes; no ANALYZE, see ``Planner``): no ``Seq Scan``; a list
  query has no ``Sort`` or ``Incremental Sort`` and no index scan that filters without an
  index condition (on tables this small the planner picks freely among indexes of equal
  cost, so a condition on part of the filter is all it can be held to here; SQLite's
  check, with statistics, holds every exactly matched column).

A disabled path still appears in the plan when no index serves the query, which is exactly
the failure this test is for.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.builders.market import Market, as_system, auth, issue_token
from tests.builders.workers import sweep_once
from tests.conftest import START
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.kit.clock import FrozenClock
from tuoguan.ops import service as ops
from tuoguan.principal import Role

SEMI = {"name": "semi", "mode": "semi_managed", "country": "ES", "currency": "EUR"}
TIERS = [
    {"from_hours": 0, "to_hours": 24, "rate_bp": 500, "rating_points": 1},
    {"from_hours": 24, "to_hours": None, "rate_bp": 1000, "rating_points": 3},
]


@contextmanager
def captured() -> Iterator[list[tuple[str, Any]]]:
    """The SELECT statements run meanwhile, with their parameters, on any engine."""
    seen: list[tuple[str, Any]] = []

    def hook(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", hook)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", hook)


class Planner:
    """Explains statements on the test database, and says what is wrong with each plan."""

    def __init__(self, db_url: str) -> None:
        self.sqlite = db_url.startswith("sqlite")
        if self.sqlite:
            self.conn: Any = sqlite3.connect(db_url.split("///", 1)[1], cached_statements=0)
            self.conn.execute("ANALYZE")
            self.conn.commit()
            self.partial = {
                name
                for name, sql in self.conn.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                )
                if sql and " WHERE " in sql.upper()
            }
        else:
            # No ANALYZE: a few sellers' rows would tell the planner a seller holds a sixth
            # of the table, which no real marketplace does; the default estimates (few rows
            # per value) are the big table's.
            self.conn = psycopg.connect(db_url)
            # Nor what autovacuum learnt while earlier tests filled and emptied this database
            # (column statistics; a table's rows per page, from when it held one row): both
            # forgotten inside this transaction, which close() rolls back.
            self.conn.execute(
                "DELETE FROM pg_statistic WHERE starelid IN "
                "(SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)"
            )
            self.conn.execute(
                "UPDATE pg_class SET reltuples = -1, relpages = 0 "
                "WHERE relnamespace = 'public'::regnamespace"
            )
            self.conn.execute("SET enable_seqscan = off")
            self.conn.execute("SET enable_sort = off")

    def close(self) -> None:
        self.conn.rollback()
        self.conn.close()

    def plan(self, statement: str, parameters: Any) -> list[str]:
        if self.sqlite:
            rows = self.conn.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return [str(row[3]) for row in rows]
        return [str(row[0]) for row in self.conn.execute(f"EXPLAIN {statement}", parameters)]

    def faults(self, statement: str, parameters: Any) -> list[str]:
        """What in the statement's plan reads more than its page."""
        listing = re.search(r"\bLIMIT\b", statement) is not None
        filtered = re.search(r"\bWHERE\b", statement) is not None
        lines = self.plan(statement, parameters)
        if self.sqlite:
            equal = set(re.findall(r"(\w+\.\w+) = \?", statement))
            return [line for line in lines if self._sqlite_fault(line, listing, filtered, equal)]
        return self._postgresql_faults(lines, listing)

    def _sqlite_fault(self, line: str, listing: bool, filtered: bool, equal: set[str]) -> bool:
        if line.startswith("SCAN "):
            index = re.search(r"USING (?:COVERING )?INDEX (\w+)", line)
            if index is None:
                return "VIRTUAL TABLE" not in line and "CONSTANT ROW" not in line
            # A filtered list must search its index, unless the index holds just those rows.
            return listing and filtered and index.group(1) not in self.partial
        if listing and line.startswith("SEARCH "):
            # Every column the list matches exactly is a column of the index searched.
            table = line.split()[1]
            searched = set(re.findall(r"(\w+)=\?", line))
            wanted = {c.split(".")[1] for c in equal if c.split(".")[0] == table}
            return not wanted <= searched
        return listing and "TEMP B-TREE" in line

    @staticmethod
    def _postgresql_faults(lines: list[str], listing: bool) -> list[str]:
        faults: list[str] = []
        nodes: list[list[str]] = []
        for line in lines:
            if not nodes or "->" in line:
                nodes.append([line])
            else:
                nodes[-1].append(line)
        for node in nodes:
            head = node[0]
            details = " ".join(node[1:])
            if (
                "Seq Scan" in head
                or listing
                and re.search(r"(?:^|->)\s*(?:Incremental )?Sort\b", head)
            ):
                faults.append(head)
            elif (
                listing
                and "Index" in head
                and "Filter:" in details
                and "Index Cond:" not in details
            ):
                faults.append(f"{head} {details}")  # a whole index read, and rows dropped
        return faults


@dataclass
class Seeded:
    """A marketplace with rows of every list in varied states."""

    m: Market
    orders: dict[str, list[str]] = field(default_factory=dict)  # store key -> order ids
    breach_order: str = ""
    tracking: str = ""
    sku_code: str = ""
    webhook: str = ""
    penalty_status: str = "appealed"


def _seed(m: Market, client: TestClient, clock: FrozenClock, settings: Settings) -> Seeded:
    """Orders in every state of both sellers' stores, breaches, penalties, notifications and
    rows set aside, through the API and the worker (and ops.set_aside for the worker's rows)."""
    seeded = Seeded(m)
    for kind in ("confirm_late", "ship_late"):
        m.ok(m.post("/penalty-policies", m.operator, {"kind": kind, "tiers": TIERS}), 201)
    for name in "cdef":  # more sellers, so that no seller holds half the rows
        seller_id = m.ok(m.post("/sellers", m.operator, {"name": name, "country": "CN"}), 201)["id"]
        m.sellers[name] = seller_id
        m.seller_tokens[name] = issue_token(m.db_url, Role.seller, seller_id=seller_id)
        store = m.ok(m.post("/stores", m.operator, {**SEMI, "seller_id": seller_id}), 201)
        m.stores[f"{name}_semi"] = store["id"]
        m.products[f"{name}_semi"] = m.make_product(name, store, full=False)
    for key in m.stores:  # products of many names, as a catalog has (search by name, SKU)
        for n in range(3):
            body = {
                "store_id": m.stores[key],
                "name": f"Phone case {key} {n}",
                "category": "electronics/cases",
                "declared_value_minor": 500,
                "weight_g": 40,
                "length_mm": 150,
                "width_mm": 80,
                "height_mm": 10,
                "supply_price_minor" if key.endswith("full") else "price_minor": 500,
            }
            m.ok(m.post("/products", m.seller_tokens[key[0]], body), 201)
    serial = iter(range(10_000))
    for key in m.stores:
        # Per store: left open, waiting for shipment, shipped, delivered, cancelled. The
        # platform ships full-managed orders once its warehouse has their stock, which it has
        # not: their supply orders are left unconfirmed, confirmed (three) and cancelled.
        seller = m.seller_tokens[key[0]]
        ids = [m.place(key)["id"] for _ in range(5)]
        seeded.orders[key] = ids
        if key.endswith("full"):
            for oid in ids[1:4]:
                m.ok(m.post(f"/orders/{oid}/confirm", seller))
        else:
            for oid in ids[2:4]:
                body = {"carrier_code": "cainiao", "tracking_number": f"LP{next(serial):011d}CN"}
                m.ok(m.post(f"/orders/{oid}/ship", seller, body))
            m.ok(m.post(f"/orders/{ids[3]}/deliver", m.carrier))
        m.ok(m.post(f"/orders/{ids[4]}/cancel", m.channel, {"reason": "changed my mind"}))
        clock.advance(timedelta(minutes=7))
    # Seller a's webhook: every notification becomes a delivery (nobody listens on port 9).
    hook = m.ok(m.post("/webhooks", m.seller_tokens["a"], {"url": "http://127.0.0.1:9/h"}), 201)
    seeded.webhook = hook["id"]
    # Every deadline still running is missed: breaches, notifications, then settled penalties.
    clock.advance(timedelta(days=6))
    sweep_once(client, clock, settings)
    sweep_once(client, clock, settings)
    a = m.seller_tokens["a"]
    penalties = m.ok(m.get("/penalties", a))
    assert len(penalties) >= 2, penalties
    for p in penalties[:2]:
        m.ok(m.post(f"/penalties/{p['id']}/appeal", a, {"reason": "the carrier was late"}))
    m.ok(m.post(f"/penalties/{penalties[0]['id']}/waive", m.operator, {"reason": "agreed"}))
    note = m.ok(m.get("/notifications", a))[0]
    m.ok(m.post(f"/notifications/{note['id']}/read", a))
    seeded.breach_order = m.ok(m.get("/breaches", a))[0]["order_id"]
    seeded.tracking = m.ok(m.get(f"/orders/{seeded.orders['a_semi'][2]}", a))["tracking_number"]
    seeded.sku_code = m.ok(m.get(f"/products/{m.products['a_semi']}", a))["skus"][0]["code"]
    # Rows the worker set aside, then retried or dismissed by an operator.
    for key in ("a_self", "a_semi", "b_self", "b_semi"):
        for oid in seeded.orders[key][:2]:
            as_system(
                m.db_url,
                lambda s, ctx, oid=oid: ops.set_aside(
                    s,
                    ctx=Ctx(principal=ctx.principal, clock=clock),
                    sweep="record_breaches",
                    subject_type="order",
                    subject_id=oid,
                    error="RuntimeError: boom",
                ),
            )
            clock.advance(timedelta(minutes=1))
    rows = m.ok(m.get("/sweep-failures", m.operator))
    m.ok(m.post(f"/sweep-failures/{rows[0]['id']}/retry", m.operator, {"reason": "fixed"}))
    m.ok(m.post(f"/sweep-failures/{rows[1]['id']}/dismiss", m.operator, {"reason": "by hand"}))
    return seeded


def _cases(s: Seeded) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(rule, path, role, query) for every list × role allowed × filter it takes."""
    m = s.m
    own, foreign = m.stores["a_semi"], m.stores["b_semi"]
    two = ["awaiting_confirmation", "awaiting_shipment"]
    due = (START + timedelta(days=2)).isoformat()
    cases: list[tuple[str, str, str, dict[str, Any]]] = []
    order_filters: list[dict[str, Any]] = [
        {},
        {"status": "awaiting_shipment"},
        {"status": two},
        {"store_id": own},
        {"store_id": own, "status": "shipped"},
        {"store_id": own, "status": ["shipped", "delivered"]},
        {"store_id": foreign},
    ]
    # One seller's orders: an operator's filter, a seller's own (or another's: none).
    seller_filters: list[dict[str, Any]] = [
        {"seller_id": m.sellers["a"]},
        {"seller_id": m.sellers["a"], "status": "awaiting_shipment"},
        {"seller_id": m.sellers["a"], "status": two},
        {"seller_id": m.sellers["a"], "store_id": own},
        {"seller_id": m.sellers["a"], "store_id": own, "status": "shipped"},
        {"seller_id": m.sellers["b"]},
    ]
    for role in ("operator", "seller", "carrier", "channel"):
        for flt in order_filters + (seller_filters if role != "carrier" else []):
            cases.append(("O5", "/orders", role, {**flt, "sort": "newest"}))
            if role in ("operator", "seller"):
                cases.append(("O5", "/orders", role, {**flt, "sort": "deadline"}))
                cases.append(
                    ("O5", "/orders", role, {**flt, "sort": "deadline", "due_before": due})
                )
    # Search (G7): each form of the string, alone and within a store or a seller.
    first = s.orders["a_semi"][0]
    searches: list[dict[str, Any]] = [
        {"q": first},
        {"q": first.removeprefix("ord_").lower()},
        {"q": s.tracking},
        {"q": "Maria Lopez"},
        {"q": "+34 612 345 678"},
        {"q": "Earbuds 耳机"},  # every product's name
        {"q": s.sku_code},
        {"q": "Maria Lopez", "store_id": own},
        {"q": "Maria Lopez", "seller_id": m.sellers["a"]},
        {"q": "Earbuds 耳机", "store_id": own},
        {"q": "Earbuds 耳机", "seller_id": m.sellers["a"]},
        {"q": s.tracking, "seller_id": m.sellers["a"]},
        {"q": "Maria Lopez", "store_id": foreign},
        {"q": "Maria Lopez", "seller_id": m.sellers["b"]},
    ]
    for role in ("operator", "seller", "channel"):
        cases += [("G7", "/orders", role, {**flt, "sort": "newest"}) for flt in searches]
    for role in ("operator", "seller"):
        cases += [
            ("O2", "/breaches", role, {"seller_id": m.sellers["a"]}),
            ("O2", "/breaches", role, {"store_id": own}),
            ("O2", "/breaches", role, {"store_id": own, "seller_id": m.sellers["a"]}),
            ("O2", "/breaches", role, {"store_id": foreign}),
            ("O2", "/breaches", role, {"seller_id": m.sellers["b"]}),
            ("F6", "/penalties", role, {"store_id": own}),
            ("F6", "/penalties", role, {"store_id": own, "status": "assessed"}),
            ("F6", "/penalties", role, {"store_id": foreign}),
        ]
    for role in ("operator", "seller"):
        cases += [
            ("O2", "/breaches", role, {}),
            ("O2", "/breaches", role, {"order_id": s.breach_order}),
            ("F6", "/penalties", role, {}),
            ("F6", "/penalties", role, {"status": "assessed"}),
            ("F6", "/penalties", role, {"seller_id": m.sellers["a"]}),
            ("F6", "/penalties", role, {"seller_id": m.sellers["a"], "status": "assessed"}),
            ("G3", "/claims", role, {}),
            ("G3", "/claims", role, {"status": "filed"}),
            ("G3", "/claims", role, {"order_id": s.breach_order}),
            ("G3", "/claims", role, {"order_id": s.breach_order, "status": "approved"}),
            ("O2", "/notifications", role, {}),
            ("O2", "/notifications", role, {"unread": "true"}),
            ("M1", "/sellers", role, {}),
            ("M1", "/stores", role, {}),
        ]
        for flt in (
            {},
            {"status": "awaiting_confirmation"},
            {"status": ["confirmed", "cancelled"]},
            {"store_id": m.stores["a_full"]},
            {"store_id": m.stores["a_full"], "status": "confirmed"},
            {"store_id": foreign},
        ):
            cases.append(("O2", "/supply-orders", role, flt))
    cases += [
        ("F6", "/penalties", "operator", {"status": "waived"}),
        ("G5", "/sweep-failures", "operator", {}),
        ("G5", "/sweep-failures", "operator", {"status": "set_aside"}),
        ("G5", "/sweep-failures", "operator", {"status": "dismissed"}),
        ("G5", f"/webhooks/{s.webhook}/deliveries", "seller", {}),
    ]
    for role in ("operator", "seller", "channel"):
        for flt in ({}, {"store_id": own}, {"store_id": foreign}):
            cases.append(("C2", "/products", role, flt))
    return cases


def _token(m: Market, role: str) -> str:
    return {
        "operator": m.operator,
        "seller": m.seller_tokens["a"],
        "carrier": m.carrier,
        "channel": m.channel,
    }[role]


def _rows(path: str, response: Any) -> list[dict[str, Any]]:
    body = response.json()
    return list(body["items"] if path == "/orders" else body)


def _ids(path: str, response: Any) -> list[str]:
    return [row["id"] for row in _rows(path, response)]


def _pages(m: Market, path: str, token: str, query: dict[str, Any]) -> Iterator[Any]:
    """Each page of a list, following its cursor (the body's next_cursor or the Link)."""
    response = m.get(path, token, params={**query, "limit": 2})
    for _ in range(3):
        assert response.status_code == 200, response.text
        yield response
        cursor = response.json().get("next_cursor") if path == "/orders" else None
        link = re.match(r"<([^>]+)>; rel=\"next\"", response.headers.get("link", ""))
        if cursor:
            response = m.get(path, token, params={**query, "limit": 2, "cursor": cursor})
        elif link:
            response = m.client.get(link.group(1), headers=auth(token))
        else:
            return


def test_every_list_reads_an_index_matching_its_filter_and_order(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings, db_url: str
) -> None:  # O5, O2, F6, G3, G5, G7, C2, M1
    seeded = _seed(market, client, clock, settings)
    planner = Planner(db_url)
    faults: list[str] = []
    paged = 0
    try:
        for rule, path, role, query in _cases(seeded):
            with captured() as statements:
                pages = list(_pages(market, path, _token(market, role), query))
            paged += len(pages) > 1
            # The pages run on where the last one stopped: the first rows of one long page.
            walked = [i for page in pages for i in _ids(path, page)]
            whole = market.get(path, _token(market, role), params={**query, "limit": 200})
            assert walked == _ids(path, whole)[: len(walked)], (path, query)
            lists = [st for st, _ in statements if re.search(r"\bLIMIT\b", st)]
            foreign = role == "seller" and (
                query.get("store_id") == market.stores["b_semi"]
                or query.get("seller_id") == market.sellers["b"]
            )
            if foreign:  # another seller's store or id: an empty page, without a list query
                assert _rows(path, pages[0]) == [], (path, pages[0].json())
                assert not lists, (path, query, lists)
            elif "q" in query and len(walked) == 0:
                raise AssertionError(f"the search found nothing: {query} as {role}")
            elif not (path == "/sellers" and role == "seller"):  # a seller reads itself by id
                assert lists or "q" in query, (rule, path, role, query)
            for statement, parameters in statements:
                for fault in planner.faults(statement, parameters):
                    faults.append(f"{rule} {path} as {role} {query}: {fault}\n  {statement}")
    finally:
        planner.close()
    assert not faults, "\n".join(faults)
    assert paged >= 40  # the cursors were followed: most lists had a second page


def test_the_plan_check_catches_a_missing_index(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings, db_url: str
) -> None:  # O5
    """Without ``(status, id)`` the operator's status list sorts or filters a whole index."""
    market.place("a_semi")
    with captured() as seen:
        market.ok(market.get("/orders", market.operator, params={"status": "awaiting_shipment"}))
    statements = [(st, p) for st, p in seen if re.search(r"\bLIMIT\b", st)]
    planner = Planner(db_url)
    try:
        assert not [f for st, p in statements for f in planner.faults(st, p)]
        # Dropped in the planner's own transaction (rolled back on PostgreSQL; SQLite's
        # file is this test's copy).
        planner.conn.execute("DROP INDEX ix_orders_status_id")
        faults = [f for st, p in statements for f in planner.faults(st, p)]
    finally:
        planner.close()
    assert faults, statements

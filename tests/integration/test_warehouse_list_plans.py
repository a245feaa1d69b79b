"""The warehouse lists read an index that matches their filter and their order, on both engines.

The lists that came with the platform's warehouses (export jobs, warehouses, stock and its
ledger, inbound notices, the stale-inbound report, the pick list) are called through the API
for every role that may call them and every filter they take, page after page along their
cursors, and every SELECT they run is explained as ``test_list_plans.py`` explains the order
lists (``Planner``: no scan, no sort, every exactly matched column searched). Restock
suggestions are no page but an aggregate over a bounded window of sales: each of their reads
must also search an index, never read one whole, as must a seller's reads of the small
configuration lists (answered whole, unpaged: API tokens, carrier accounts, webhook endpoints,
route rules, logistics services).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import combinations
from typing import Any

from fastapi.testclient import TestClient

from tests.builders.inbound import add_sku, draft, sent, staff
from tests.builders.market import Market, auth, issue_token
from tests.builders.shipping import SANDBOX_API_KEY, SANDBOX_SECRET, install_catalog
from tests.builders.stock import adjust, make_warehouse, sku_of
from tests.integration.test_list_plans import Planner, captured
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role

Case = tuple[str, str, str, dict[str, Any]]  # (rule, path, role, query)
SEMI = {"name": "semi", "mode": "semi_managed", "country": "ES", "currency": "EUR"}
SELF = {"name": "own", "mode": "self_run", "country": "CN", "currency": "USD"}
FULL = {
    "name": "full",
    "mode": "full_managed",
    "country": "CN",
    "currency": "USD",
    "on_behalf_reason": "opened directly for the test (M2)",
}
# Lists that answer a report with its rows and ``next_cursor`` in the body, or no pages at all.
IN_BODY = {"/reports/stale-inbound"}
WHOLE = {
    "/restock-suggestions",
    "/tokens",
    "/carrier-accounts",
    "/webhooks",
    "/route-rules",
    "/logistics-services",
}
CARRIER = {
    "code": "sandbox",
    "name": "Sandbox carrier",
    "adapter": "sandbox",
    "base_url": "http://127.0.0.1:9",
    "api_key": SANDBOX_API_KEY,
    "webhook_secret": SANDBOX_SECRET,
}


@dataclass
class Seeded:
    """A marketplace with warehouses, stock, notices in every state, picked orders and jobs."""

    m: Market
    staff: str = ""  # works in the hub and w1
    places: dict[str, str] = field(default_factory=dict)  # hub, w1, w2, third, own_a, own_b
    skus: dict[str, str] = field(default_factory=dict)  # a1, a2, a3 (a_full); b1, b2 (b_full)


def _seed(m: Market, clock: FrozenClock) -> Seeded:
    """Through the API: warehouses of every owner, stock of six full-managed sellers, notices
    drafted, sent, arrived and left in transit for days, orders reserved and picked in the hub,
    export jobs of an operator and a seller, and the configuration lists' rows."""
    s = Seeded(m)
    a, b = m.seller_tokens["a"], m.seller_tokens["b"]
    s.places = {
        "hub": m.platform_warehouse,
        "w1": make_warehouse(m, name="Yiwu")["id"],
        "w2": make_warehouse(m, name="Shenzhen")["id"],
        "third": make_warehouse(m, owner="third_party", kind="overseas", country="ES")["id"],
        "own_a": make_warehouse(m, a, owner="seller", kind="seller_origin")["id"],
        "own_b": make_warehouse(m, b, owner="seller", kind="seller_origin")["id"],
    }
    s.skus = {
        "a1": sku_of(m, "a_full"),
        "a2": add_sku(m, "a_full", "A-RED"),
        "a3": add_sku(m, "a_full", "A-BLUE"),
        "b1": sku_of(m, "b_full"),
        "b2": add_sku(m, "b_full", "B-RED"),
    }
    hub, w1, w2 = s.places["hub"], s.places["w1"], s.places["w2"]
    # More sellers, so that no seller, store, SKU or warehouse holds half the rows (SQLite's
    # statistics then say what a real marketplace's would): semi-managed ones, and
    # full-managed ones with stock in the platform's warehouses.
    for n in range(12):
        seller_id = _seller(m, f"s{n}")
        store = m.ok(m.post("/stores", m.operator, {**SEMI, "seller_id": seller_id}), 201)
        m.make_product(f"s{n}", store, full=False)
    for name in "cdef":
        seller_id = _seller(m, name)
        base = m.ok(m.post("/stores", m.operator, {**SELF, "seller_id": seller_id}), 201)
        full = {**FULL, "seller_id": seller_id, "linked_store_id": base["id"]}
        store = m.ok(m.post("/stores", m.operator, full), 201)
        m.stores[f"{name}_full"] = store["id"]
        m.products[f"{name}_full"] = m.make_product(name, store, full=True)
        s.skus[f"{name}1"] = sku_of(m, f"{name}_full")
        for place in (hub, w1, w2):
            m.ok(adjust(m, place, s.skus[f"{name}1"], reason="opening stock", on_hand=3), 201)
    for place, sku, units in (
        (hub, "a1", 6),
        (w1, "a1", 3),
        (w2, "a1", 2),
        (hub, "a2", 4),
        (w1, "a2", 2),
        (hub, "a3", 1),
        (hub, "b1", 4),
        (w1, "b1", 2),
        (hub, "b2", 2),
    ):
        m.ok(adjust(m, place, s.skus[sku], reason="opening stock", on_hand=units), 201)
    s.staff = staff(m, hub, w1)
    # R1: drafts, notices in transit (some for days: R4) and one arrived, from both sellers.
    draft(m, hub, [(s.skus["a2"], 1)])
    draft(m, w1, [(s.skus["a3"], 1)])
    for place, sku in ((hub, "a2"), (w1, "a3"), (hub, "a3")):
        sent(m, place, [(s.skus[sku], 2)], carrier="Slow Freight")
        clock.advance(timedelta(hours=5))
    sent(m, hub, [(s.skus["b1"], 1)], store_key="b_full", token=b)
    for name, place in zip("cdef", (hub, w1, w2, hub), strict=True):
        token = m.seller_tokens[name]
        sent(m, place, [(s.skus[f"{name}1"], 1)], store_key=f"{name}_full", token=token)
        draft(m, place, [(s.skus[f"{name}1"], 1)], store_key=f"{name}_full", token=token)
    arrived = sent(m, hub, [(s.skus["a1"], 1)])
    m.ok(m.post(f"/inbound-notices/{arrived['id']}/arrive", s.staff))
    clock.advance(timedelta(days=8))
    sent(m, w1, [(s.skus["b2"], 1)], store_key="b_full", token=b)
    sent(m, w2, [(s.skus["a2"], 1)], carrier="SF Express")
    # F11: orders reserved in the hub (it holds the most, and its code sorts first), two picked.
    orders = [_bought(m, "a_full", s.skus["a1"]) for _ in range(5)]
    orders += [_bought(m, "b_full", s.skus["b1"]) for _ in range(3)]
    orders += [m.place(f"{name}_full")["id"] for name in "cdef"]
    for order_id in orders[:2]:
        (fo,) = m.ok(m.get(f"/orders/{order_id}/fulfilment-orders", m.operator))
        assert (fo["status"], fo["warehouse_id"]) == ("reserved", hub), fo
        m.ok(m.post(f"/fulfilment-orders/{fo['id']}/pick", s.staff))
    # O5: export jobs (left queued), three each.
    for token in (m.operator, a):
        for n in (1, 2, 3):
            m.ok(m.post("/exports", token, {"limit": n}), 202)
    # The small configuration lists: services, rate cards and route rules (F5), a carrier
    # account, webhook endpoints of two sellers.
    install_catalog(m)
    m.ok(m.post("/carrier-accounts", m.operator, CARRIER), 201)
    for name in ("a", "a", "b", "c"):
        m.ok(m.post("/webhooks", m.seller_tokens[name], {"url": "http://127.0.0.1:9/h"}), 201)
    return s


def _seller(m: Market, name: str) -> str:
    """Another seller, with a token; its id."""
    seller_id = str(
        m.ok(m.post("/sellers", m.operator, {"name": name, "country": "CN"}), 201)["id"]
    )
    m.sellers[name] = seller_id
    m.seller_tokens[name] = issue_token(m.db_url, Role.seller, seller_id=seller_id)
    return seller_id


def _bought(m: Market, store_key: str, sku_id: str) -> str:
    """The storefront buys one unit of a SKU of the store's product (C3: named, of several)."""
    line = {"product_id": m.products[store_key], "sku_id": sku_id, "quantity": 1}
    return str(m.place(store_key, lines=[line])["id"])


def _subsets(filters: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the filters, none of them included."""
    keys = list(filters)
    return [
        {k: filters[k] for k in chosen}
        for n in range(len(keys) + 1)
        for chosen in combinations(keys, n)
    ]


def _cases(s: Seeded) -> list[Case]:
    """(rule, path, role, query) for every list × role allowed × filter it takes."""
    m = s.m
    own, foreign = m.stores["a_full"], m.stores["b_full"]
    hub, w1 = s.places["hub"], s.places["w1"]
    cases: list[Case] = []
    for role in ("operator", "seller"):
        cases += [
            ("O5", "/exports", role, {}),
            ("M5", "/warehouses", role, {}),
            ("M5", "/stock", role, {"store_id": foreign}),
            ("M5", "/stock", role, {"sku_id": s.skus["b1"]}),
            ("M5", "/stock/moves", role, {"sku_id": s.skus["b1"]}),
            ("M5", "/stock/moves", role, {"warehouse_id": w1}),
        ]
        stock = {"warehouse_id": hub, "sku_id": s.skus["a1"], "store_id": own}
        cases += [("M5", "/stock", role, flt) for flt in _subsets(stock)]
        moves = {"warehouse_id": hub, "sku_id": s.skus["a1"]}
        cases += [("M5", "/stock/moves", role, flt) for flt in _subsets(moves)]
        restock: list[dict[str, Any]] = [
            {},
            {"store_id": own},
            {"warehouse_id": hub},
            {"store_id": own, "warehouse_id": hub},
            {"store_id": foreign},
            {"days": 7, "cover_days": 60},
            {"store_id": own, "days": 90},
        ]
        cases += [("M5", "/restock-suggestions", role, flt) for flt in restock]
    for role in ("operator", "seller", "warehouse"):
        notices = {"status": "in_transit", "warehouse_id": hub, "store_id": own}
        cases += [("R1", "/inbound-notices", role, flt) for flt in _subsets(notices)]
        cases += [
            ("R1", "/inbound-notices", role, {"status": ["draft", "in_transit", "arrived"]}),
            (
                "R1",
                "/inbound-notices",
                role,
                {"status": ["in_transit", "arrived"], "store_id": own},
            ),
            ("R1", "/inbound-notices", role, {"warehouse_id": w1}),
            ("R1", "/inbound-notices", role, {"store_id": foreign}),
            ("R1", "/inbound-notices", role, {"store_id": foreign, "warehouse_id": hub}),
        ]
    for role in ("operator", "warehouse"):
        for place in (hub, w1):
            for status in (None, "reserved", "picked", ["reserved", "picked"]):
                query = {} if status is None else {"status": status}
                cases.append(("F11", f"/warehouses/{place}/pick-list", role, query))
    cases += [("R4", "/reports/stale-inbound", "operator", {"days": n}) for n in (1, 7, 30)]
    # Configuration, answered whole: by primary key, a seller's endpoints by its index, the
    # rules in force in evaluation order.
    cases += [
        ("O5", "/tokens", "operator", {}),
        ("F8", "/carrier-accounts", "operator", {}),
        *[("G5", "/webhooks", role, {}) for role in ("operator", "seller")],
        *[("F5", "/route-rules", role, {}) for role in ("operator", "seller")],
        *[("F5", "/logistics-services", role, {}) for role in ("operator", "seller", "carrier")],
    ]
    return cases


def _token(s: Seeded, role: str) -> str:
    m = s.m
    tokens = {"operator": m.operator, "seller": m.seller_tokens["a"], "carrier": m.carrier}
    return tokens.get(role, s.staff)


def _rows(path: str, response: Any) -> list[dict[str, Any]]:
    body = response.json()
    return list(body["rows"] if path in IN_BODY else body)


def _keys(path: str, response: Any) -> list[Any]:
    """Each row's identity: its id, or a balance's (warehouse, SKU)."""
    return [r.get("id", (r.get("warehouse_id"), r.get("sku_id"))) for r in _rows(path, response)]


def _pages(m: Market, path: str, token: str, query: dict[str, Any]) -> Iterator[Any]:
    """Each page of a list (two rows a page), following its cursor."""
    if path in WHOLE:
        yield m.get(path, token, params=query)
        return
    response = m.get(path, token, params={**query, "limit": 2})
    for _ in range(4):
        assert response.status_code == 200, (path, query, response.text)
        yield response
        cursor = response.json().get("next_cursor") if path in IN_BODY else None
        link = re.match(r"<([^>]+)>; rel=\"next\"", response.headers.get("link", ""))
        if cursor:
            response = m.get(path, token, params={**query, "limit": 2, "cursor": cursor})
        elif link:
            response = m.client.get(link.group(1), headers=auth(token))
        else:
            return


class _Planner(Planner):
    """``Planner``, knowing two more reads of a page on SQLite: a subquery's rows scanned as they
    come (what the subquery reads is on lines of its own), and a page without a filter read in
    the order of an integer primary key (SQLite names no index for a table's own order; a sort
    would show as a temporary B-tree). On PostgreSQL it also faults an index condition that
    leaves out the index's first column: the whole index is read for it."""

    def __init__(self, db_url: str) -> None:
        super().__init__(db_url)
        self._leading: dict[str, str] = {}

    def faults(self, statement: str, parameters: Any) -> list[str]:
        found = super().faults(statement, parameters)
        lines = self.plan(statement, parameters)
        if not self.sqlite:
            return found + self._skipping(lines)
        fine = {
            m.group(1)
            for line in lines
            if (m := re.match(r"(?:CO-ROUTINE|MATERIALIZE) (\w+)", line))
        }
        if (
            re.search(r"\bLIMIT\b", statement)
            and not re.search(r"\bWHERE\b", statement)
            and not any("TEMP B-TREE" in line for line in lines)
        ):
            fine |= {line.split()[1] for line in lines if re.fullmatch(r"SCAN \w+", line)}
        return [f for f in found if not (f.startswith("SCAN ") and f.split()[1] in fine)]

    def whole_reads(self, statement: str, parameters: Any) -> list[str]:
        """A filtered statement's reads of a whole table or index (the aggregates' check)."""
        if re.search(r"\bWHERE\b", statement) is None:
            return []
        lines = self.plan(statement, parameters)
        if self.sqlite:
            return [line for line in lines if line.startswith("SCAN ") and " INDEX " in line]
        return [
            " ".join(node)
            for node in _nodes(lines)
            if "Index" in node[0] and not any("Index Cond:" in line for line in node[1:])
        ]

    def _skipping(self, lines: list[str]) -> list[str]:
        faults = []
        for node in _nodes(lines):
            used = re.search(r"Index (?:Only )?Scan (?:Backward )?(?:using|on) (\w+)", node[0])
            cond = " ".join(line for line in node[1:] if "Index Cond:" in line)
            if used and cond and not re.search(rf"\b{self._first(used.group(1))}\b", cond):
                faults.append(f"{node[0].strip()} {cond.strip()}")
        return faults

    def _first(self, index: str) -> str:
        """An index's first column (PostgreSQL)."""
        if index not in self._leading:
            row = self.conn.execute(
                "SELECT a.attname FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid"
                " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
                " WHERE c.relname = %s",
                (index,),
            ).fetchone()
            self._leading[index] = str(row[0])
        return self._leading[index]


def _nodes(lines: list[str]) -> list[list[str]]:
    """A PostgreSQL plan's nodes: each its head line and its detail lines."""
    nodes: list[list[str]] = []
    for line in lines:
        if not nodes or "->" in line:
            nodes.append([line])
        else:
            nodes[-1].append(line)
    return nodes


def test_every_warehouse_list_reads_an_index_matching_its_filter_and_order(
    client: TestClient, market: Market, clock: FrozenClock, db_url: str
) -> None:  # O5, G5, M5, R1, R4, F11, F5, F8
    seeded = _seed(market, clock)
    planner = _Planner(db_url)
    faults: list[str] = []
    paged = suggested = 0
    try:
        for rule, path, role, query in _cases(seeded):
            token = _token(seeded, role)
            with captured() as statements:
                pages = list(_pages(market, path, token, query))
            assert pages[0].status_code == 200, (path, role, query, pages[0].text)
            paged += len(pages) > 1
            walked = [k for page in pages for k in _keys(path, page)]
            if path == "/restock-suggestions":
                suggested += bool(walked)
            elif path in WHOLE:
                assert walked, (path, role)
            else:
                # The pages run on where the last one stopped: the first rows of one long page.
                whole = market.get(path, token, params={**query, "limit": 100})
                assert walked == _keys(path, whole)[: len(walked)], (path, role, query)
            lists = [st for st, _ in statements if re.search(r"\bLIMIT\b", st)]
            theirs = {market.stores["b_full"], seeded.skus["b1"]}
            foreign = role == "seller" and bool(theirs & set(map(str, query.values())))
            if foreign:  # another seller's store or SKU: an empty page, without a list query
                assert walked == [], (path, query, walked)
                if lists:
                    faults.append(f"{rule} {path} as {role} {query}: read another's list")
            elif path not in WHOLE:
                assert lists, (rule, path, role, query)
            for statement, parameters in statements:
                found = planner.faults(statement, parameters)
                # An aggregate, or a seller's own rows: never a whole read, even unpaged.
                if path in WHOLE and (path == "/restock-suggestions" or role != "operator"):
                    found += planner.whole_reads(statement, parameters)
                for fault in found:
                    faults.append(f"{rule} {path} as {role} {query}: {fault}\n  {statement}")
    finally:
        planner.close()
    assert not faults, "\n".join(faults)
    assert paged >= 40  # the cursors were followed: most lists had a second page
    assert suggested >= 6  # the restock reads ran on sales, not on an empty window


def _all_faults(planner: _Planner, statements: list[tuple[str, Any]]) -> list[str]:
    return [
        fault
        for statement, parameters in statements
        for fault in planner.faults(statement, parameters)
        + planner.whole_reads(statement, parameters)
    ]


def test_the_plan_check_catches_a_sales_window_read_whole(
    client: TestClient, market: Market, clock: FrozenClock, db_url: str
) -> None:  # M5
    """Without ``(shipper, created_at)`` an operator's restock suggestions read every
    fulfilment order there is, not the window's: those the sellers ship and those of months
    ago as well."""
    m = market
    sku = sku_of(m, "a_full")
    m.ok(adjust(m, m.platform_warehouse, sku, reason="opening stock", on_hand=5), 201)
    for key in ("a_full", "a_semi", "b_semi", "a_self", "b_self") * 2:
        m.place(key)
    clock.advance(timedelta(days=60))
    for _ in range(3):
        m.place("a_full")
    with captured() as seen:
        assert m.ok(m.get("/restock-suggestions", m.operator))
    sales = [(st, p) for st, p in seen if "FROM fulfilment_orders" in st]
    assert len(sales) == 1, seen
    planner = _Planner(db_url)
    try:
        assert not _all_faults(planner, sales)
        # Dropped in the planner's own transaction (rolled back on PostgreSQL; SQLite's file is
        # this test's copy).
        planner.conn.execute("DROP INDEX ix_fulfilment_orders_shipper_created")
        faults = _all_faults(planner, sales)
    finally:
        planner.close()
    assert faults, sales

"""Each role reads every GET endpoint through its own schema, and nothing of anyone else (issue 13).

The role models themselves (``x-role-views``: e.g. ``PublicProductRead`` for the storefront,
``ProductRead`` for sellers and operators) are walked by ``test_role_views.py``, which holds
each answer to the model the route declares. This file holds the declarations to a policy of
its own, written here and not read from the models, so that a route declaring the wrong model
fails too:

- ``NEVER``: field names a role may not be shown anywhere, at any depth of any answer it gets,
  free-form mappings (an event's ``data``) included: the storefront no supply price, customs
  value, review note, quote, charge, deadline of the seller's or penalty; a carrier no price;
  a seller not what the carrier charges the platform nor anyone's credentials; warehouse
  staff no product or order money.
- Foreign objects: a seller reads nothing of another seller's (its stores, products, SKUs,
  orders, tracking numbers, shipments, supply orders, breaches, penalties, claims, webhooks,
  inbound notices, route rules, ledger accounts and entries) nor the parcels the platform
  ships and pays for (F11) nor the platform's ledger accounts (M3); warehouse staff read
  nothing of another warehouse's.

The walk calls every GET of the document as every role, once with seller a's objects and
once with seller b's (and another warehouse's), list filters included, and checks every
answer, as well as every answer the seeding itself got (the writes each role makes).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.api.test_role_views import (
    API,
    REF,
    UNSEEDED,
    Operation,
    Strays,
    match,
    operations,
    seed,
)
from tests.builders import ledger
from tests.builders.inbound import JPEG, sent
from tests.builders.market import Market, auth, issue_token
from tests.builders.shipping import SandboxHandle
from tests.builders.stock import stocked
from tuoguan.api.app import create_app
from tuoguan.config import Settings
from tuoguan.db import Database
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.records import Entry
from tuoguan.principal import Role
from tuoguan.worker.exports import run_exports

_DEADLINES = {"confirm_by", "ship_by", "deadline_missed_at", "next_deadline", "deadlines"}
_SELLER_COSTS = {
    "supply_price_minor",
    "declared_value_minor",
    "review_note",
    "rate_card_id",
    "quote_lines",
    "quote_total_minor",
    "charged_lines",
    "charged_total_minor",
    "charge_difference",
}
_ORDER_MONEY = {
    "price_minor",
    "unit_price_minor",
    "line_total_minor",
    "subtotal_minor",
    "shipping_minor",
}
# What the carrier charges the platform, and anyone's credentials: operators only.
_PLATFORM_COSTS = {"carrier_lines", "carrier_minor", "difference_minor", "api_key", "base_url"}
# A journal entry's amount parts (the platform's margin and commission) and its posting key (M3).
_LEDGER_INTERNALS = {"parts", "idem_key"}

# ``/me`` describes the caller itself (its role and its scope: seller, carrier, warehouses), not
# anybody's data: the policy does not apply to it.
SELF = "/me"

NEVER: dict[str, frozenset[str]] = {
    "buyer_channel": frozenset(
        _SELLER_COSTS
        | _DEADLINES
        | _PLATFORM_COSTS
        | {
            "seller_id",
            "cancel_note",
            "actor_role",
            "request_id",
            "score",
            "amount_minor",
            "rating_points",
            "breach_id",
            "penalty_id",
            "supply_order_id",
            "warehouse_id",
            "created_by",
            "decided_by",
        }
    ),
    "carrier": frozenset(
        _SELLER_COSTS - {"declared_value_minor"}  # customs: the carrier declares it
        | _ORDER_MONEY
        | _PLATFORM_COSTS
        | {"total_minor", "card", "confirm_by", "ship_by", "actor_role", "request_id", "seller_id"}
    ),
    "seller": frozenset(_PLATFORM_COSTS | _LEDGER_INTERNALS),
    # Warehouse staff pick, pack and ship: the freight of the parcel they book is shown at the
    # packing bench (they choose the service), never what the goods cost or sell for.
    "warehouse": frozenset(
        _ORDER_MONEY
        | _PLATFORM_COSTS
        | {"supply_price_minor", "review_note", "rating_points", "score", "penalty_id"}
    ),
}


# -- the marketplace --------------------------------------------------------------------------


@dataclass
class World:
    market: Market
    tokens: dict[str, str]  # caller -> token: operator, seller_a, seller_b, ..., warehouse
    own: dict[str, str]  # path and query parameter -> seller a's object (the staff's warehouse)
    other: dict[str, str]  # the same parameters naming seller b's objects (another warehouse's)
    lookups: dict[str, dict[str, str]]  # template -> a scanner's code for its ``code`` query
    foreign: dict[str, set[str]] = field(default_factory=dict)  # caller -> what it may not read
    # parameters a caller reads its own object through instead of seller a's (the storefront's
    # webhook endpoint)
    by_caller: dict[str, dict[str, str]] = field(default_factory=dict)


def _role(caller: str) -> str:
    return "seller" if caller.startswith("seller_") else caller


def build(
    http: httpx.Client,
    db_url: str,
    sandbox: SandboxHandle,
    clock: FrozenClock,
    settings: Settings,
) -> World:
    """test_role_views' marketplace (seller a's objects of every kind), and then: seller b's
    own order, webhook and route rule, a rule binding both sellers, and a platform warehouse
    that holds seller a's stock, receives its inbound notice and ships its order (F11)."""
    seeded = seed(http, db_url, sandbox, clock, settings)
    m = seeded.market
    a, b = m.seller_tokens["a"], m.seller_tokens["b"]

    def rule(name: str, position: int, *stores: str) -> None:
        conditions = {"store_ids": [m.stores[s] for s in stores], "services": ["TG-EXPRESS"]}
        body = {"position": position, "name": name, "effect": "deny", "conditions": conditions}
        m.ok(m.post("/route-rules", m.operator, body), 201)

    rule("Seller a: no express from the self-run store", 900, "a_self")
    rule("Seller b: no express from the self-run store", 901, "b_self")
    rule("No express from either self-run store", 902, "a_self", "b_self")

    b_order = m.place("b_self")
    hand = {"carrier_code": "cainiao", "tracking_number": "LP00000000099CN"}
    m.ok(m.post(f"/orders/{b_order['id']}/ship", b, hand))
    b_hook = m.ok(m.post("/webhooks", b, {"url": "https://hooks.example.com/b"}), 201)
    export = m.ok(m.post("/exports", a, {}), 202)
    _written(db_url, clock, settings)
    # money (M3 F6): seller b's penalty (seller a's sale is the seeding's)
    b_penalty = _penalised(db_url, m.stores["b_self"], b_order["id"])

    # the platform ships seller a's full-managed order from its warehouse, paying the carrier
    warehouse, sku = stocked(m, "a_full", 5)
    staff = issue_token(db_url, Role.warehouse, warehouse_ids=[warehouse])
    full = m.place("a_full")
    (fo,) = m.ok(m.get(f"/orders/{full['id']}/fulfilment-orders", m.operator))
    m.ok(m.post(f"/fulfilment-orders/{fo['id']}/pick", staff))
    quoted = m.ok(m.post(f"/fulfilment-orders/{fo['id']}/quotes", staff))
    service = next(o["service_code"] for o in quoted["options"] if o["allowed"])
    shipped = m.ok(m.post(f"/fulfilment-orders/{fo['id']}/ship", staff, {"service_code": service}))
    parcel = shipped["shipment"]["id"]

    # inbound: one notice to the staff's warehouse (counted, one unit damaged, photographed),
    # one to the platform's hub, which the staff do not work in
    here = sent(m, warehouse, [(sku, 3)])
    m.ok(m.post(f"/inbound-notices/{here['id']}/arrive", staff))
    counted = {"sku_id": sku, "good": 2, "defective": 1}
    counts = m.ok(m.post(f"/inbound-notices/{here['id']}/counts", staff, {"counts": [counted]}))
    (damaged,) = counts["discrepancies"]
    photo = http.post(
        f"{API}/inbound-notices/{here['id']}/discrepancies/{damaged['id']}/photos",
        files={"file": ("box.jpg", JPEG, "image/jpeg")},
        headers=auth(staff),
    )
    assert photo.status_code == 201, photo.text
    # R2 (issue 16): the damaged unit's case, naming the sandbox carrier
    raised = {
        "notice_id": here["id"],
        "discrepancy_id": damaged["id"],
        "summary": "one unit damaged",
        "carrier_code": "sandbox",
    }
    here_case = m.ok(m.post("/cases/receiving", staff, raised), 201)
    there = sent(m, m.platform_warehouse, [(sku, 2)])

    own = {
        **seeded.params,
        "warehouse_id": warehouse,
        "notice_id": here["id"],
        "discrepancy_id": damaged["id"],
        "case_id": here_case["id"],
        "fulfilment_order_id": fo["id"],
        "export_id": export["id"],
        "sku_id": sku,
    }
    b_product = m.products["b_self"]
    (b_sku,) = m.ok(m.get(f"/products/{b_product}/skus", m.operator))
    other = {
        **own,
        "order_id": b_order["id"],
        "product_id": b_product,
        "store_id": m.stores["b_self"],
        "seller_id": m.sellers["b"],
        "webhook_id": b_hook["id"],
        "shipment_id": parcel,  # the platform's: no seller reads it
        "ids": parcel,
        "warehouse_id": m.platform_warehouse,
        "notice_id": there["id"],
        "case_id": seeded.params["case_id"],  # at another warehouse
        "sku_id": b_sku["id"],
        "account_id": _account_of(b_penalty, AccountKind.payable),
        "entry_id": b_penalty.id,
    }
    world = World(
        market=m,
        tokens={
            "operator": m.operator,
            "seller_a": a,
            "seller_b": b,
            "carrier": seeded.tokens["carrier"],
            "buyer_channel": m.channel,
            "warehouse": staff,
        },
        own=own,
        other=other,
        lookups={
            "/inbound-notices/lookup": {"code": here["id"]},
            "/inbound-notices/{notice_id}/lines/lookup": {"code": sku},
        },
    )
    world.foreign = _foreign(m, warehouse, parcel)
    world.by_caller = seeded.by_role
    return world


def _written(db_url: str, clock: FrozenClock, settings: Settings) -> None:
    """The worker writes the export files due (on its own connection: the server runs in a
    thread)."""

    async def run() -> None:
        async with Database.opened(db_url) as db:
            await run_exports(db, clock, settings)

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


def _penalised(db_url: str, store_id: str, order_id: str) -> Entry:
    """A penalty on the ledger: the store's payable, the platform's revenue."""

    async def scenario(db: Database) -> Entry:
        return await ledger.post(
            db,
            EntryKind.penalty_charged,
            currency="USD",
            parts={"amount": 100},
            store_id=store_id,
            subject=("order", order_id),
        )

    with ThreadPoolExecutor(max_workers=1) as pool:
        penalty: Entry = pool.submit(ledger.run_on, db_url, scenario).result()
    return penalty


def _account_of(entry: Entry, kind: AccountKind) -> str:
    return next(line.account_id for line in entry.lines if line.account_kind is kind)


def _pages(m: Market, path: str) -> Iterator[dict[str, Any]]:
    """Every row of an operator's list, page after page (``next_cursor`` or ``Link``)."""
    target: str | None = path
    query: dict[str, Any] = {"limit": 200}
    while target:
        answer = m.get(target, m.operator, params=query)
        body = m.ok(answer)
        if isinstance(body, dict):  # the order list: a page with its cursor
            yield from body["items"]
            cursor = body["next_cursor"]
            target, query = (path, {"limit": 200, "cursor": cursor}) if cursor else (None, {})
        else:
            yield from body
            link = answer.headers.get("Link")
            target, query = (
                (link[1 : link.index(">")].removeprefix(API), {}) if link else (None, {})
            )


def _foreign(m: Market, warehouse: str, parcel: str) -> dict[str, set[str]]:
    """Ids each caller may not read, from the operator's view: each seller's objects for the
    other seller (its orders' tracking numbers too), the platform's parcels for both, other
    warehouses' for the staff."""
    owner_of_store = {s["id"]: s["seller_id"] for s in _pages(m, "/stores")}
    owned: dict[str, set[str]] = {m.sellers["a"]: set(), m.sellers["b"]: set()}
    for seller, ids in owned.items():
        ids.add(seller)
        ids.update(s for s, owner in owner_of_store.items() if owner == seller)
    for product in _pages(m, "/products"):
        owned[owner_of_store[product["store_id"]]].update(
            {product["id"], *(sku["id"] for sku in product["skus"])}
        )
    platform = {parcel}
    not_here: set[str] = set()
    owner_of_order: dict[str, str] = {}
    for order in _pages(m, "/orders"):
        seller = owner_of_order[order["id"]] = owner_of_store[order["store_id"]]
        mine = owned[seller]
        mine.add(order["id"])
        if order["tracking_number"]:
            mine.add(order["tracking_number"])
        for shipment in m.ok(m.get(f"/orders/{order['id']}/shipments", m.operator)):
            (platform if shipment["payer"] == "platform" else mine).add(shipment["id"])
        fos = m.ok(m.get(f"/orders/{order['id']}/fulfilment-orders", m.operator))
        mine.update(fo["id"] for fo in fos)
        mine.update(e["id"] for e in m.ok(m.get(f"/orders/{order['id']}/ledger", m.operator)))
        if not any(fo["warehouse_id"] == warehouse for fo in fos):
            not_here.update({order["id"], *(fo["id"] for fo in fos)})
    for path in ("/supply-orders", "/breaches", "/penalties", "/claims", "/inbound-notices"):
        for row in _pages(m, path):
            seller = row.get("seller_id") or owner_of_order[row["order_id"]]
            owned[seller].add(row["id"])
            if row.get("warehouse_id") not in (None, warehouse):
                not_here.add(row["id"])
    for hook in m.ok(m.get("/webhooks", m.operator)):  # no seller's: the operators', the shop's
        (platform if hook["seller_id"] is None else owned[hook["seller_id"]]).add(hook["id"])
    not_here.update(w["id"] for w in _pages(m, "/warehouses") if w["id"] != warehouse)
    for account in _pages(m, "/ledger/accounts"):  # a store's, or the platform's (M3)
        store = account["store_id"]
        (platform if store is None else owned[owner_of_store[store]]).add(account["id"])
    return {
        "seller_a": owned[m.sellers["b"]] | platform,
        "seller_b": owned[m.sellers["a"]] | platform,
        "warehouse": not_here,
    }


# -- what an answer shows ---------------------------------------------------------------------


def keys(value: Any) -> set[str]:
    """Every key of a JSON value, at any depth (free-form mappings included)."""
    if isinstance(value, dict):
        return set(value).union(*(keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys(v) for v in value))
    return set()


def strings(value: Any) -> Iterator[str]:
    """Every string of a JSON value, keys and values, at any depth."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


@dataclass(frozen=True)
class Call:
    op: Operation
    params: dict[str, str]  # the parameter set it is filled from
    filtered: bool  # whether a list is also filtered by the objects of the set it can name

    def path(self) -> str:
        return re.sub(
            r"\{([^}]+)\}",
            lambda found: self.params.get(found.group(1), UNSEEDED),
            self.op.template,
        )

    def query(self, lookups: dict[str, dict[str, str]]) -> dict[str, str]:
        found = {
            p["name"]: self.params[p["name"]]
            for p in self.op.spec.get("parameters", ())
            if p["in"] == "query"
            and p["name"] in self.params
            and (p.get("required") or self.filtered)
        }
        return {**found, **lookups.get(self.op.template, {})}


def names_objects(op: Operation) -> bool:
    """Whether a call names objects: in its path, or in a query it requires (``ids``)."""
    required = [p for p in op.spec.get("parameters", ()) if p.get("required")]
    return "{" in op.template or any(p["in"] == "query" for p in required)


def role_schema(op: Operation, role: str) -> dict[str, Any] | None:
    model = op.declared.get(role)
    return {"$ref": REF + model} if model else op.documented()


@dataclass(frozen=True)
class Exchange:
    token: str
    method: str
    path: str
    status: int
    body: Any  # the JSON value, or the text of a CSV or ZPL body; None for binary bodies


@dataclass
class Recorder:
    """An httpx response hook that keeps every /api/v1 answer with the token that got it."""

    seen: list[Exchange] = field(default_factory=list)

    def __call__(self, response: httpx.Response) -> None:
        request = response.request
        if not request.url.path.startswith(API + "/"):
            return
        response.read()
        kind = response.headers.get("content-type", "")
        body: Any = None
        if kind.startswith("application/json") and response.content:
            body = response.json()
        elif kind.startswith("text/"):
            body = response.text
        self.seen.append(
            Exchange(
                token=request.headers.get("authorization", "").removeprefix("Bearer "),
                method=request.method,
                path=request.url.path.removeprefix(API),
                status=response.status_code,
                body=body,
            )
        )


@dataclass(frozen=True)
class Judge:
    """What is wrong with one answer a caller got: fields outside its role's schema for the
    operation, fields its role may never see, objects that are not the caller's."""

    world: World
    ops: list[Operation]
    strays: Strays

    def __call__(self, caller: str, seen: Exchange) -> list[str]:
        role = _role(caller)
        where = f"{caller} {seen.method} {seen.path}"
        op = match(self.ops, seen.method, seen.path)
        if op is None:
            return []
        if role not in op.declared:
            return [f"{where}: {seen.status} for a role the operation does not declare"]
        problems = []
        schema = role_schema(op, role)
        if schema is not None and seen.body is not None:
            # a role's model names one object; a list answer is a list of them
            listed = op.declared.get(role) and isinstance(seen.body, list)
            for one in seen.body if listed else [seen.body]:
                outside = self.strays(one, schema)
                if outside:
                    problems.append(f"{where}: {outside} outside its schema")
        shown = keys(seen.body) & NEVER.get(role, frozenset()) if op.template != SELF else set()
        if shown:
            problems.append(f"{where}: shows {sorted(shown)}")
        foreign = self.world.foreign.get(caller, set())
        leaked = {f for text in strings(seen.body) for f in foreign if f in text}
        if leaked:
            problems.append(f"{where}: shows {sorted(leaked)}, not its own")
        return problems


# -- the tests --------------------------------------------------------------------------------


def test_every_get_answers_each_role_with_its_own_fields_and_nothing_of_anyone_else(
    live_server: str,
    db_url: str,
    sandbox_carrier: SandboxHandle,
    clock: FrozenClock,
    settings: Settings,
) -> None:
    recorder = Recorder()
    with httpx.Client(
        base_url=live_server, timeout=60, event_hooks={"response": [recorder]}
    ) as http:
        world = build(http, db_url, sandbox_carrier, clock, settings)
        doc = http.get(f"{API}/openapi.json").json()
        ops = [op for op in operations(doc) if op.method == "get"]
        answered: dict[tuple[str, str], int] = {}
        for op in ops:
            for caller, token in world.tokens.items():
                # a's objects, plainly; then b's (and another warehouse's), lists filtered by them
                own = {**world.own, **world.by_caller.get(caller, {})}
                for params in (own, world.other):
                    call = Call(op, params, filtered=params is world.other)
                    answer = http.get(
                        API + call.path(), params=call.query(world.lookups), headers=auth(token)
                    )
                    if answer.is_success and params is own:
                        key = (op.template, caller)
                        answered[key] = answered.get(key, 0) + 1
                    if answer.status_code >= 500:
                        raise AssertionError(f"{caller} GET {op.template}: {answer.text[:300]}")

    by_token = {token: caller for caller, token in world.tokens.items()}
    judge = Judge(world, operations(doc), Strays(doc))
    problems = [
        problem
        for seen in recorder.seen
        if by_token.get(seen.token) not in (None, "operator")  # operators read everything
        and 200 <= seen.status < 300
        for problem in judge(by_token[seen.token], seen)
    ]
    assert not problems, "\n".join(dict.fromkeys(problems))

    # and the walk read something: each role (operators aside, who see everything) got an
    # answer from every operation it may call, but for an object of a kind the market lacks
    # (a sweep failure) and, for seller b, the objects it does not have (they are a's)
    unread = [
        f"{caller} GET {op.template}"
        for op in ops
        for caller in world.tokens
        if caller != "operator"
        and _role(caller) in op.declared
        and not answered.get((op.template, caller))
        and not (caller == "seller_b" and names_objects(op))
        and UNSEEDED not in Call(op, world.own, filtered=False).path()
    ]
    assert not unread, "\n".join(unread)


def test_the_storefront_never_reads_supply_prices_and_a_seller_never_another_sellers_rows(
    market: Market,
) -> None:
    # C1: the supply price is the seller's and the platform's, never the buyer's
    m = market
    a = m.seller_tokens["a"]
    listed = m.ok(m.get("/products", m.channel))
    assert {p["id"] for p in listed} >= {m.products["a_full"], m.products["b_full"]}
    one = m.ok(m.get(f"/products/{m.products['a_full']}", m.channel))
    skus = m.ok(m.get(f"/products/{m.products['a_full']}/skus", m.channel))
    for shown in (*listed, one, *skus):
        assert "supply_price_minor" not in keys(shown), shown
    assert m.ok(m.get(f"/products/{m.products['a_full']}", a))["supply_price_minor"] == 1200

    # a seller lists its own products only, and another seller's is not found
    mine = m.ok(m.get("/products", a))
    assert {p["store_id"] for p in mine} == {m.stores[k] for k in ("a_self", "a_semi", "a_full")}
    assert m.ok(m.get("/products", a, params={"store_id": m.stores["b_self"]})) == []
    assert m.get(f"/products/{m.products['b_self']}", a).status_code == 404
    assert m.get(f"/products/{m.products['b_self']}/skus", a).status_code == 404

    # F5: a route rule that binds another seller's store is not that seller's to read
    def rule(name: str, position: int, *keys_: str) -> None:
        stores = [m.stores[k] for k in keys_]
        conditions = {"store_ids": stores, "countries": ["FR"]}
        body = {"position": position, "name": name, "effect": "deny", "conditions": conditions}
        m.ok(m.post("/route-rules", m.operator, body), 201)

    rule("Seller b: no express", 1, "b_self")
    rule("No express from the self-run stores", 2, "a_self", "b_self")
    rule("Everyone", 3)
    seen = {r["name"]: r["conditions"]["store_ids"] for r in m.ok(m.get("/route-rules", a))}
    assert seen == {"No express from the self-run stores": [m.stores["a_self"]], "Everyone": []}
    everything = m.ok(m.get("/route-rules", m.operator))
    assert [r["name"] for r in everything] == [
        "Seller b: no express",
        "No express from the self-run stores",
        "Everyone",
    ]


def test_no_role_schema_names_a_field_its_policy_denies() -> None:
    doc = create_app(Settings(database_url="sqlite:///:memory:", environment="test")).openapi()
    names = Strays(doc)
    leaks = [
        f"{role} {op.method.upper()} {op.template}: {sorted(shown)}"
        for op in operations(doc)
        for role, never in NEVER.items()
        if role in op.declared
        and op.template != SELF
        and (schema := role_schema(op, role)) is not None
        and (shown := names.names(schema) & never)
    ]
    assert not leaks, "\n".join(leaks)

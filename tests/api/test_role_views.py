"""Each role sees only its own data and only the fields its model names (issue 10, finding 5).

Every /api/v1 operation declares in the OpenAPI document who may call it: ``x-role-views``
names the model each role reads it through (from the resource's role map, e.g. ORDER_VIEWS)
and ``x-roles`` the roles that get its documented response. The walking test seeds a
marketplace where every kind of object exists (shipments over the sandbox carrier, a cancelled
one, breaches, a penalty, a claim, notifications, webhook deliveries), recording every answer,
then calls every operation of the document as every role, and fails on:

- an operation that declares no roles (so a new endpoint is walked, and must say who may call it);
- a 2xx to a role the operation does not declare (it must answer 403);
- a declared role that gets no 2xx on a GET (else the walk proves nothing);
- any JSON field, at any depth, that the role's model does not name.

Allowed fields come from the document's schemas, so they follow the models. A free-form
mapping (``dict[str, Any]``, e.g. an event's ``data``) is a leaf: its keys are data, not fields.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.builders import ledger, payouts
from tests.builders.inbound import sent
from tests.builders.market import ADDRESS, Market, auth, issue_token
from tests.builders.shipping import SandboxHandle, add_product, connect_sandbox, place_with, ship
from tests.builders.stock import make_warehouse, sku_of, stocked
from tuoguan.api.app import create_app
from tuoguan.config import Settings
from tuoguan.db import Database
from tuoguan.kit.clock import Clock, FrozenClock
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.records import Entry
from tuoguan.principal import Role
from tuoguan.worker import exit_archives, loop

API = "/api/v1"
REF = "#/components/schemas/"
ROLES = ("operator", "seller", "carrier", "buyer_channel", "warehouse")
WRITES = ("post", "put", "patch", "delete")

# Cross-checks of the role models themselves: names that must never appear, at any depth, in
# what these roles may read (the storefront: the seller's costs and internals; the carrier:
# any price or charge).
NEVER = {
    "buyer_channel": {
        "supply_price_minor",
        "declared_value_minor",
        "review_note",
        "rate_card_id",
        "quote_lines",
        "quote_total_minor",
        "charged_lines",
        "charged_total_minor",
        "charge_difference",
        "confirm_by",
        "ship_by",
        "deadline_missed_at",
        "next_deadline",
        "deadlines",
        "actor_role",
        "request_id",
        "score",
        "amount_minor",
    },
    "carrier": {
        "supply_price_minor",
        "price_minor",
        "unit_price_minor",
        "line_total_minor",
        "subtotal_minor",
        "shipping_minor",
        "total_minor",
        "rate_card_id",
        "card",
        "quote_lines",
        "quote_total_minor",
        "charged_lines",
        "charged_total_minor",
        "charge_difference",
        "confirm_by",
        "ship_by",
        "actor_role",
        "request_id",
    },
}


# -- the document -------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    template: str  # under /api/v1
    spec: dict[str, Any]

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(self.template)) + "$")

    @property
    def declared(self) -> dict[str, str | None]:
        """Role -> the model it reads (None: the operation's documented response)."""
        views = self.spec.get("x-role-views")
        if views is not None:
            return dict(views)
        return dict.fromkeys(self.spec.get("x-roles", ()))

    @property
    def needs_token(self) -> bool:
        return bool(self.spec.get("security"))

    def documented(self) -> dict[str, Any] | None:
        for status, answer in self.spec.get("responses", {}).items():
            if status.startswith("2"):
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if schema:
                    return dict(schema)
        return None


def operations(doc: dict[str, Any]) -> list[Operation]:
    found = [
        Operation(method, path.removeprefix(API), spec)
        for path, ops in doc["paths"].items()
        for method, spec in ops.items()
        if method in ("get", *WRITES)
    ]
    # Literal segments before parameters: /orders/export.csv is not /orders/{order_id}.
    return sorted(found, key=lambda op: op.template.count("{"))


def match(ops: list[Operation], method: str, path: str) -> Operation | None:
    return next((op for op in ops if op.method == method.lower() and op.pattern.match(path)), None)


class Strays:
    """Fields of a JSON value that its schema does not name, found recursively."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.components = doc["components"]["schemas"]

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].removeprefix(REF)]
        return schema

    def names(self, schema: dict[str, Any], seen: frozenset[str] = frozenset()) -> set[str]:
        """Every property name a schema allows, at any depth."""
        ref = schema.get("$ref")
        if ref in seen:
            return set()
        seen = seen | {ref} if ref else seen
        schema = self.resolve(schema)
        found: set[str] = set()
        for key in ("anyOf", "oneOf", "allOf"):
            for option in schema.get(key, ()):
                found |= self.names(option, seen)
        for name, sub in schema.get("properties", {}).items():
            found |= {name} | self.names(sub, seen)
        for sub in (schema.get("items"), schema.get("additionalProperties")):
            if isinstance(sub, dict):
                found |= self.names(sub, seen)
        return found

    def __call__(self, value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
        schema = self.resolve(schema)
        if value is None:
            return []
        options = schema.get("anyOf") or schema.get("oneOf")
        if options:
            fits = [self(value, option, where) for option in options if self._fits(value, option)]
            return min(fits, key=len) if fits else []
        if isinstance(value, dict):
            named = schema.get("properties")
            more = schema.get("additionalProperties")
            if named is None and not isinstance(more, dict):
                return []  # a free-form mapping: its keys are data
            strays = []
            for key, item in value.items():
                if named is not None and key in named:
                    strays += self(item, named[key], f"{where}.{key}")
                elif isinstance(more, dict):
                    strays += self(item, more, f"{where}.{key}")
                elif more is not True:
                    strays.append(f"{where}.{key}")
            return strays
        if isinstance(value, list):
            items = schema.get("items", {})
            return [s for i, item in enumerate(value) for s in self(item, items, f"{where}[{i}]")]
        return []

    def _fits(self, value: Any, option: dict[str, Any]) -> bool:
        option = self.resolve(option)
        kind = option.get("type")
        if isinstance(value, dict):
            return kind == "object" or "properties" in option or "anyOf" in option
        if isinstance(value, list):
            return kind == "array" or "anyOf" in option
        return kind not in ("object", "array")


# -- recording every answer -------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    token: str
    method: str
    path: str
    status: int
    body: Any


@dataclass
class Recorder:
    """An httpx response hook that keeps every /api/v1 answer with the token that got it."""

    seen: list[Exchange] = field(default_factory=list)

    def __call__(self, response: httpx.Response) -> None:
        request = response.request
        if not request.url.path.startswith(API + "/"):
            return
        response.read()
        json_body = response.headers.get("content-type", "").startswith("application/json")
        self.seen.append(
            Exchange(
                token=request.headers.get("authorization", "").removeprefix("Bearer "),
                method=request.method,
                path=request.url.path.removeprefix(API),
                status=response.status_code,
                body=response.json() if json_body and response.content else None,
            )
        )


def _sweep(
    db_url: str, clock: Clock, settings: Settings, *sweeps: Callable[..., Awaitable[int]]
) -> None:
    """Drain some worker sweeps on their own connection (the live server runs in a thread)."""

    async def run() -> None:
        async with Database.opened(db_url) as db:
            for sweep in sweeps:
                while await sweep(db, clock, settings):
                    pass

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


async def _exit_archives(db: Database, clock: Clock, settings: Settings) -> int:
    return (await exit_archives.run_exit_archives(db, clock, settings)).handled


def _sold(db_url: str, store_id: str, order_id: str) -> Entry:
    """A sale on the ledger: the seller's receivable, the platform's cash and commission."""

    async def scenario(db: Database) -> Entry:
        return await ledger.post(
            db,
            EntryKind.sale_commissioned,
            currency="USD",
            parts={"net": 1800, "commission": 199},
            store_id=store_id,
            subject=("order", order_id),
        )

    with ThreadPoolExecutor(max_workers=1) as pool:
        sale: Entry = pool.submit(ledger.run_on, db_url, scenario).result()
    return sale


def _payout(db_url: str, store_id: str) -> str:
    """Part of the sale set aside for a payout to the store's bound account (M3)."""

    async def scenario(db: Database) -> str:
        await payouts.bind(db, store_id, currency="USD")
        return (await payouts.prepared(db, store_id, 1000, currency="USD")).id

    with ThreadPoolExecutor(max_workers=1) as pool:
        return str(pool.submit(ledger.run_on, db_url, scenario).result())


@dataclass
class Seeded:
    market: Market
    tokens: dict[str, str]  # role -> the token the walk uses
    roles: dict[str, str]  # token -> role
    params: dict[str, str]  # path parameter -> value every role's walk uses
    cainiao_order: str  # shipped by hand with cainiao after a cancelled sandbox shipment
    cancelled_shipment: str
    # path parameters a role reads its own object through instead (the storefront's webhook)
    by_role: dict[str, dict[str, str]] = field(default_factory=dict)


def seed(
    http: httpx.Client,
    db_url: str,
    sandbox: SandboxHandle,
    clock: FrozenClock,
    settings: Settings,
) -> Seeded:
    """A marketplace with every kind of object, each role acting as it would (all recorded)."""
    m = Market.build(http, db_url)
    sandbox_carrier = issue_token(db_url, Role.carrier, carrier_code="sandbox")
    seller = m.seller_tokens["a"]
    connect_sandbox(m, sandbox)
    tiers = [{"from_hours": 0, "to_hours": None, "rate_bp": 500, "rating_points": 1}]
    m.ok(m.post("/penalty-policies", m.operator, {"kind": "ship_late", "tiers": tiers}), 201)

    late = m.place("a_semi")  # misses its ship-by: a breach, then a penalty (F1, F6)
    m.ok(  # an operator places one too (O1)
        m.post(
            "/orders",
            m.operator,
            {
                "store_id": m.stores["a_self"],
                "currency": "USD",
                "address": ADDRESS,
                "lines": [{"product_id": m.products["a_self"], "quantity": 1}],
            },
        ),
        201,
    )
    m.place("a_full")  # left unconfirmed: at risk, then a confirm breach (O2)

    parcel = m.place("a_self")  # booked, labelled, picked up, tracked, delivered (F8, F9)
    shipment = ship(m, parcel["id"], seller)
    m.ok(m.post(f"/shipments/{shipment['id']}/submit", seller))
    start = clock.now() + timedelta(hours=20)
    window = {
        "window_from": start.isoformat(),
        "window_until": (start + timedelta(hours=4)).isoformat(),
        "place": "loading bay 2",
    }
    m.ok(m.post(f"/shipments/{shipment['id']}/pickup", seller, window))

    redo = m.place("a_self")  # its sandbox shipment is cancelled, then cainiao carries it (F10)
    first = ship(m, redo["id"], seller)
    m.ok(m.post(f"/shipments/{first['id']}/cancel", seller, {"reason": "wrong_product_info"}))

    camera = add_product(
        m,
        "a_self",
        name="Camera",
        category="electronics/camera",
        declared_value_minor=45_000,
        price_minor=45_000,
        weight_g=900,
    )
    lost = place_with(m, "a_self", camera)  # insured, lost, claimed (G3)
    insured = ship(m, lost["id"], seller, service="TG-EXPRESS", insure=True)
    sandbox.fate(m.client, insured["tracking_number"], "lost")
    m.ok(m.post(f"/shipments/{insured['id']}/submit", seller))
    m.ok(m.post(f"/shipments/{insured['id']}/self-drop", seller))

    for who in (m.channel, seller):  # O4: the buyer and the seller cancel before shipment
        doomed = m.place("a_self")
        m.ok(m.post(f"/orders/{doomed['id']}/cancel", who, {"reason": "changed my mind"}))

    clock.advance(timedelta(minutes=11))
    sandbox.tick(m.client)  # the carrier confirms the cancellation
    hand = {"carrier_code": "cainiao", "tracking_number": "LP00000000042CN"}
    m.ok(m.post(f"/orders/{redo['id']}/ship", seller, hand))
    m.ok(m.post(f"/orders/{redo['id']}/deliver", m.carrier))
    m.ok(m.post(f"/orders/{redo['id']}/complete", m.operator))

    clock.current = start + timedelta(minutes=5)
    sandbox.tick(m.client)  # picked up
    ship_by = datetime.fromisoformat(late["ship_by"])
    clock.current = ship_by + timedelta(seconds=1)
    _sweep(db_url, clock, settings, loop.record_breaches, loop.warn_at_risk)
    clock.current = ship_by + timedelta(hours=30)
    late_hand = {"carrier_code": "cainiao", "tracking_number": "LP00000000043CN"}
    m.ok(m.post(f"/orders/{late['id']}/ship", seller, late_hand))
    m.ok(m.post(f"/orders/{late['id']}/deliver", m.operator))
    _sweep(db_url, clock, settings, loop.assess_penalties)

    clock.advance(timedelta(days=12))
    sandbox.tick(m.client)  # delivered; the insured parcel is lost
    m.ok(m.post(f"/orders/{parcel['id']}/complete", m.channel))
    for who in (m.channel, m.operator):  # G6: the after-sales work refunds the buyer a little
        body = {"amount_minor": 100, "currency": "USD", "reason": "a scratch on the case"}
        m.ok(m.post(f"/orders/{parcel['id']}/refunds", who, body), 201)
    claim = m.ok(
        m.post(
            f"/shipments/{insured['id']}/claims",
            seller,
            {
                "kind": "loss",
                "amount_minor": 1000,
                "description": "lost in transit",
                "evidence": ["https://evidence.example/lost.png"],
            },
        ),
        201,
    )
    hook = m.ok(m.post("/webhooks", seller, {"url": "https://hooks.example.com/tuoguan"}), 201)
    # O6: the storefront's own endpoint, which no seller reads
    shop = m.ok(m.post("/webhooks", m.channel, {"url": "https://shop.example.com/tuoguan"}), 201)
    for owner in (seller, m.channel):  # each owner turns off a spare endpoint of its own
        spare = m.ok(m.post("/webhooks", owner, {"url": "https://spare.example.com/hook"}), 201)
        m.ok(m.post(f"/webhooks/{spare['id']}/disable", owner))
    _sweep(db_url, clock, settings, loop.warn_at_risk, loop.fan_out_webhooks)
    # S4: the full-managed store's exit archive, written by the worker (its download is walked)
    m.ok(m.post(f"/stores/{m.stores['a_full']}/exit-archive", seller), 202)
    _sweep(db_url, clock, settings, _exit_archives)
    sale = _sold(db_url, m.stores["a_self"], parcel["id"])  # money on the ledger (M3)
    payout = _payout(db_url, m.stores["a_self"])

    (penalty, *_) = m.ok(m.get("/penalties", seller))
    (note, *_) = m.ok(m.get("/notifications", seller))
    (card, *_) = m.ok(m.get("/logistics-services/TG-POST-REG/rate-cards", m.operator))
    (rule, *_) = m.ok(m.get("/route-rules", m.operator))
    (token, *_) = m.ok(m.get("/tokens", m.operator))
    (supply, *_) = m.ok(m.get("/supply-orders", m.operator))  # the unconfirmed order's (O2)
    # Warehouse staff, bound to the platform's warehouse: like every role, held to 403 on
    # every operation that does not declare them.
    warehouse = make_warehouse(m)
    staff = issue_token(db_url, Role.warehouse, warehouse_ids=[warehouse["id"]])
    # R2, R3 (issue 16): a receiving exception at the staff's warehouse naming the sandbox
    # carrier, each party adding to it in its own view; G4: the buyer's dispute on the parcel.
    case, dispute = _cases(m, http, warehouse["id"], staff, sandbox_carrier, parcel["id"])
    # G6: the buyer's return of the same parcel, authorized: its label booked with the sandbox
    asked = {"order_id": parcel["id"], "cause": "not_wanted", "summary": "too big"}
    returned = m.ok(m.post("/returns", m.channel, asked), 201)["id"]
    m.ok(m.post(f"/cases/{returned}/return/authorize", m.operator, {}))
    tokens = {
        "operator": m.operator,
        "seller": seller,
        "carrier": sandbox_carrier,
        "buyer_channel": m.channel,
        "warehouse": staff,
    }
    roles = {token: role for role, token in tokens.items()}
    roles[m.carrier] = "carrier"
    roles[m.seller_tokens["b"]] = "seller"
    return Seeded(
        market=m,
        tokens=tokens,
        roles=roles,
        params={
            "order_id": parcel["id"],
            "shipment_id": shipment["id"],
            "product_id": m.products["a_full"],
            "store_id": m.stores["a_full"],
            "seller_id": m.sellers["a"],
            "penalty_id": penalty["id"],
            "claim_id": claim["id"],
            "code": "TG-POST-REG",
            "card_id": card["id"],
            "rule_id": rule["id"],
            "webhook_id": hook["id"],
            "token_id": token["id"],
            "notification_id": note["id"],
            "warehouse_id": warehouse["id"],
            "supply_order_id": supply["id"],
            "entry_id": sale.id,
            "payout_id": payout,
            "account_id": next(
                x.account_id for x in sale.lines if x.account_kind.value == "receivable"
            ),
            "n": "1",  # a number in the path (a photo's index): the object decides 404
            "ids": shipment["id"],
            "case_id": case,
            "dispute_id": dispute,
            "return_id": returned,
        },
        cainiao_order=redo["id"],
        cancelled_shipment=first["id"],
        by_role={"buyer_channel": {"webhook_id": shop["id"]}},
    )


def _cases(
    m: Market, http: httpx.Client, warehouse: str, staff: str, carrier: str, order_id: str
) -> tuple[str, str]:
    """A receiving exception (a notice that never came) every party adds to, and a buyer's
    dispute."""
    sku = sku_of(m, "a_full")
    notice = sent(m, warehouse, [(sku, 3)])
    m.ok(m.post(f"/inbound-notices/{notice['id']}/arrive", staff))
    # nothing counted: the three never came (and the warehouse holds none the orders could take)
    (short,) = m.ok(m.post(f"/inbound-notices/{notice['id']}/close", staff))["discrepancies"]
    raised = {
        "notice_id": notice["id"],
        "discrepancy_id": short["id"],
        "summary": "the three units never came",
        "carrier_code": "sandbox",
    }
    case = m.ok(m.post("/cases/receiving", staff, raised), 201)["id"]
    for who in (m.seller_tokens["a"], carrier):
        m.ok(m.post(f"/cases/{case}/messages", who, {"text": "looking into it"}), 201)
        proof = http.post(f"{API}/cases/{case}/evidence", headers=auth(who), data={"text": "scan"})
        assert proof.status_code == 201, proof.text
    opened = {"order_id": order_id, "cause": "damaged", "summary": "a scratch on the case"}
    dispute = m.ok(m.post("/disputes", m.channel, opened), 201)["id"]
    m.ok(m.post(f"/disputes/{dispute}/messages", m.channel, {"text": "see the photo"}), 201)
    return case, dispute


UNSEEDED = "unseeded"  # an id of a kind the seeding does not make: nobody may read it


def _fill(template: str, params: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda found: params.get(found.group(1), UNSEEDED), template)


def _query(op: Operation, params: dict[str, str]) -> dict[str, str]:
    return {
        p["name"]: params.get(p["name"], UNSEEDED)
        for p in op.spec.get("parameters", ())
        if p["in"] == "query" and p.get("required")
    }


# -- the tests ----------------------------------------------------------------------------------


def test_every_role_sees_only_the_fields_of_its_model_on_every_endpoint(
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
        world = seed(http, db_url, sandbox_carrier, clock, settings)
        doc = http.get(f"{API}/openapi.json").json()
        ops = operations(doc)
        problems = [
            f"{op.method.upper()} {op.template} does not say which roles may call it "
            "(spread tuoguan.api.access.views/roles into its route)"
            for op in ops
            if not op.declared
        ]

        # when every role calls every read, and every write it may not use
        for op in ops:
            if not op.declared:
                continue
            for role in ROLES:
                path = _fill(op.template, {**world.params, **world.by_role.get(role, {})})
                # An object of a kind the seeding lacks: a role may be told it is not found.
                missing = UNSEEDED in path and op.method == "get"
                declared = role in op.declared
                if op.method in WRITES and declared:
                    continue  # the seeding exercised the writes each role makes
                answer = http.request(
                    op.method.upper(),
                    API + path,
                    params=_query(op, world.params),
                    headers=auth(world.tokens[role]),
                    json={} if op.method in WRITES else None,
                )
                where = f"{role} {op.method.upper()} {op.template}: {answer.status_code}"
                if declared and missing and answer.status_code == 404:
                    continue
                if declared and not answer.is_success:
                    problems.append(f"{where}, but the role may read it: {answer.text[:200]}")
                elif not declared and op.needs_token and answer.status_code != 403:
                    problems.append(f"{where}, not 403 for a role that may not use it")
                elif not declared and answer.is_success:
                    problems.append(f"{where}, a success for a role that may not use it")
        assert not problems, "\n".join(problems)

    # then no answer, seeded or walked, says more than the caller's role may know
    strays = Strays(doc)
    checked: dict[tuple[str, str, str], int] = {}
    for seen in recorder.seen:
        role = world.roles.get(seen.token)
        op = match(ops, seen.method, seen.path)
        if role is None or op is None or not 200 <= seen.status < 300:
            continue
        assert role in op.declared, f"{role} got {seen.status} from {seen.method} {seen.path}"
        model = op.declared[role]
        schema = {"$ref": REF + model} if model else op.documented()
        if schema is None or seen.body is None:
            continue
        # A role's model names one object; a list answer is a list of them.
        if model and isinstance(seen.body, list):
            found = [s for i, one in enumerate(seen.body) for s in strays(one, schema, f"$[{i}]")]
        else:
            found = strays(seen.body, schema)
        assert not found, f"{role} {seen.method} {seen.path} shows {found} outside {model}"
        key = (op.method, op.template, model or "")
        checked[key] = checked.get(key, 0) + 1

    # and every model of an operation that answers roles differently was actually seen
    for op in ops:
        views = op.spec.get("x-role-views", {})
        for model in set(views.values()):
            if len(set(views.values())) > 1:
                assert (op.method, op.template, model) in checked, (
                    f"no answer of {op.method.upper()} {op.template} was read as {model}"
                )


def test_the_storefront_and_carrier_models_name_no_seller_costs_or_prices() -> None:
    doc = create_app(Settings(database_url="sqlite:///:memory:", environment="test")).openapi()
    names = Strays(doc)
    ops = operations(doc)
    assert all(op.declared for op in ops), "every operation declares its roles"
    leaks = []
    for op in ops:
        for role, never in NEVER.items():
            if role not in op.declared:
                continue
            model = op.declared[role]
            schema = {"$ref": REF + model} if model else op.documented()
            shown = names.names(schema) & never if schema else set()
            if shown:
                leaks.append(f"{role} {op.method.upper()} {op.template}: {sorted(shown)}")
    assert not leaks, "\n".join(leaks)


def test_the_storefront_reads_orders_and_products_without_the_sellers_internals(
    market: Market,
) -> None:
    # C1, F9: the buyer sees what it bought, paid and where it goes, never the seller's side
    m = market
    stocked(m, "a_full", 1)  # the platform's warehouse holds it and ships it (F11)
    order = m.place("a_full")
    m.ok(
        m.post(
            f"/orders/{order['id']}/ship",
            m.operator,
            {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"},
        )
    )
    seen = m.ok(m.get(f"/orders/{order['id']}", m.channel))
    assert (seen["carrier_code"], seen["tracking_number"]) == ("cainiao", "LP00123456789CN")
    staff = m.ok(m.get(f"/orders/{order['id']}", m.operator))
    assert seen["deliver_by"] == staff["deliver_by"] and seen["total_minor"] == 1999
    hidden = {"confirm_by", "ship_by", "deadline_missed_at", "next_deadline", "deadlines"}
    assert not hidden & seen.keys()
    (listed,) = [o for o in m.ok(m.get("/orders", m.channel))["items"] if o["id"] == order["id"]]
    assert listed == seen
    products = m.ok(m.get("/products", m.channel))
    full = next(p for p in products if p["id"] == m.products["a_full"])
    assert full["price_minor"] == 1999
    for product in (*products, m.ok(m.get(f"/products/{m.products['a_full']}", m.channel))):
        assert not {"supply_price_minor", "declared_value_minor", "review_note"} & product.keys()
    # while the seller still reads its own supply price (C1)
    own = m.ok(m.get(f"/products/{m.products['a_full']}", m.seller_tokens["a"]))
    assert own["supply_price_minor"] == 1200


@pytest.mark.parametrize(
    "path",
    [
        "/orders/{id}/events",
        "/orders/{id}/risk",
        "/orders/{id}/shipping-options",
        "/orders/{id}/deadlines/explain",
    ],
)
def test_the_storefront_and_the_carrier_are_refused_the_orders_internals(
    market: Market, path: str
) -> None:
    m = market
    order = m.place("a_self")
    m.ok(
        m.post(
            f"/orders/{order['id']}/ship",
            m.seller_tokens["a"],
            {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"},
        )
    )
    for token in (m.channel, m.carrier):  # the carrier carries this very order
        refused = m.get(path.format(id=order["id"]), token)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert m.get(path.format(id=order["id"]), m.operator).status_code == 200


def test_the_carrier_reads_the_parcel_it_carries_without_prices(market: Market) -> None:
    m = market
    order = m.place("a_self", quantity=2)
    m.ok(
        m.post(
            f"/orders/{order['id']}/ship",
            m.seller_tokens["a"],
            {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"},
        )
    )
    seen = m.ok(m.get(f"/orders/{order['id']}", m.carrier))
    assert seen["lines"] == [{"name": "Earbuds 耳机", "quantity": 2}]
    assert "deliver" in seen["allowed_actions"]
    assert not {k for k in seen if k.endswith("_minor")}
    assert m.get("/orders/export.csv", m.carrier).status_code == 403
    assert m.get("/route-rules", m.carrier).status_code == 403


def test_shipments_read_the_same_through_the_order_and_by_id(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
) -> None:
    # F9, F10: the buyer tracks the parcel either way; a carrier sees only the parcels it carries
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    seller = m.seller_tokens["a"]
    order = m.place("a_self")
    first = ship(m, order["id"], seller)
    m.ok(m.post(f"/shipments/{first['id']}/cancel", seller, {"reason": "wrong_product_info"}))
    clock.advance(timedelta(minutes=11))
    sandbox_carrier.tick(m.client)
    second = ship(m, order["id"], seller, service="TG-STANDARD")
    m.ok(m.post(f"/shipments/{second['id']}/submit", seller))

    listed = m.ok(m.get(f"/orders/{order['id']}/shipments", m.channel))
    by_id = [m.ok(m.get(f"/shipments/{s['id']}", m.channel)) for s in (second, first)]
    assert listed == by_id
    assert [(s["status"], s["cancel_reason"]) for s in listed] == [
        ("submitted", None),
        ("cancelled", "wrong_product_info"),  # O6: the buyer is told why
    ]
    assert listed[0]["tracking_number"] == second["tracking_number"]
    assert not {"rate_card_id", "quote_lines", "quote_total_minor", "zone"} & listed[0].keys()
    events = m.get(f"/shipments/{second['id']}/events", m.channel)
    assert events.status_code == 200  # F9
    assert events.json() == m.ok(m.get(f"/shipments/{second['id']}/events", seller))
    # the storefront tracks; it does not print labels nor poll the carrier
    assert m.get(f"/shipments/{second['id']}/label.pdf", m.channel).status_code == 403
    assert m.post(f"/shipments/{second['id']}/refresh", m.channel).status_code == 403

    # cainiao does not carry this order: neither way shows it the sandbox's parcels
    assert m.get(f"/orders/{order['id']}/shipments", m.carrier).status_code == 404
    assert m.get(f"/shipments/{first['id']}", m.carrier).status_code == 404
    sandbox = issue_token(m.db_url, Role.carrier, carrier_code="sandbox")
    theirs = m.ok(m.get(f"/orders/{order['id']}/shipments", sandbox))
    assert [s["id"] for s in theirs] == [second["id"], first["id"]]
    assert theirs[0] == m.ok(m.get(f"/shipments/{second['id']}", sandbox))
    assert not {k for k in theirs[0] if k.endswith("_minor") and k != "declared_value_minor"}

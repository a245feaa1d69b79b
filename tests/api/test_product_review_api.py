"""Product review and listing through the API (C1, C2, S2, F7): a full-managed product submitted
with its SKUs and supply prices, approved at a retail price or rejected with reasons per field
and submitted again; changes to an approved product reviewed while it keeps selling; semi-managed
and self-run listing, through review only where the category asks; quality supervision; the
stuck-review sweep; each product's shipping period; the category rules. Every refusal is a
declared problem naming the field and the rule, and nothing changes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.builders.market import ADDRESS, Market, auth, issue_token
from tests.builders.shipping import install_catalog
from tests.builders.workers import sweep_once
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role

MUG = {
    "name": "Ceramic mug 陶瓷杯",
    "description": "350 ml",
    "images": ["https://img.example.com/mug.png"],
    "category": "home/kitchen",
    "declared_value_minor": 1250,
    "weight_g": 420,
    "length_mm": 120,
    "width_mm": 90,
    "height_mm": 100,
}


def _problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    return dict(answer.json())


def _declares(client: TestClient, method: str, path: str, *statuses: int) -> None:
    document = client.get("/api/v1/openapi.json").json()
    responses = document["paths"][f"/api/v1{path}"][method]["responses"]
    for status in statuses:
        assert str(status) in responses, f"{method.upper()} {path} does not declare {status}"


def _patch(m: Market, path: str, token: str, body: dict[str, Any]) -> Any:
    return m.client.patch(f"/api/v1{path}", json=body, headers=auth(token))


def _full_mug(m: Market, seller: str = "a", **extra: Any) -> dict[str, Any]:
    """A full-managed mug in two colours, each with its supply price: a draft."""
    body = {
        **MUG,
        "store_id": m.stores[f"{seller}_full"],
        "skus": [
            {"code": "MUG-W", "attributes": {"colour": "white"}, "supply_price_minor": 650},
            {"code": "MUG-B", "attributes": {"colour": "black"}, "supply_price_minor": 720},
        ],
        **extra,
    }
    return dict(m.ok(m.post("/products", m.seller_tokens[seller], body), 201))


def _decide(m: Market, product: dict[str, Any], token: str | None = None, **body: Any) -> Any:
    path = f"/products/{product['id']}/revisions/{product['pending_revision_id']}/decision"
    return m.post(path, token or m.operator, body)


def _order(m: Market, store_key: str, product_id: str, sku_id: str | None = None) -> Any:
    line: dict[str, Any] = {"product_id": product_id, "quantity": 1}
    if sku_id:
        line["sku_id"] = sku_id
    body = {
        "store_id": m.stores[store_key],
        "currency": "EUR" if store_key.endswith("semi") else "USD",
        "address": ADDRESS,
        "lines": [line],
    }
    return m.post("/orders", m.channel, body)


def _notes(m: Market, token: str, kind: str, about: str | None = None) -> list[dict[str, Any]]:
    """The notifications of a kind the token's holder got (about one product)."""
    found = [n for n in m.ok(m.get("/notifications", token)) if n["kind"] == kind]
    return [n for n in found if about is None or n["subject_id"] == about]


def test_a_full_managed_product_is_approved_at_a_retail_price_and_sells(
    market: Market,
) -> None:  # C1 C2
    m = market
    a = m.seller_tokens["a"]
    mug = _full_mug(m)
    assert mug["status"] == "draft" and mug["pending_revision_id"] is None
    # a draft sells nowhere; the seller submits it for review
    assert m.get(f"/products/{mug['id']}", m.channel).status_code == 404
    submitted = m.ok(m.post(f"/products/{mug['id']}/submit", a, {"note": "new colours"}))
    assert submitted["status"] == "under_review" and submitted["pending_revision_id"]
    assert _problem(_order(m, "a_full", mug["id"], mug["skus"][0]["id"]), 422)["field"] == (
        "lines.0.product_id"
    )
    (waiting,) = m.ok(m.get("/product-reviews", m.operator))
    assert (waiting["product_id"], waiting["first"], waiting["status"]) == (
        mug["id"],
        True,
        "submitted",
    )
    assert [s["supply_price_minor"] for s in waiting["proposed"]["skus"]] == [650, 720]
    assert waiting["note"] == "new colours" and waiting["base"] is None
    # the seller does not decide; an approval names the retail price buyers pay (C1)
    _problem(_decide(m, submitted, a, decision="approve", retail_price_minor=1999), 403)
    no_price = _problem(_decide(m, submitted, decision="approve"), 422)
    assert (no_price["field"], no_price["rule"]) == ("retail_price_minor", "retail_price_required")
    assert m.ok(m.get(f"/products/{mug['id']}", a))["status"] == "under_review"
    decided = m.ok(_decide(m, submitted, decision="approve", retail_price_minor=1999))
    assert (decided["status"], decided["retail_price_minor"]) == ("approved", 1999)
    # listed at that price: the storefront sees it and orders it
    shown = m.ok(m.get(f"/products/{mug['id']}", m.channel))
    assert shown["price_minor"] == 1999 and "supply_price_minor" not in shown
    own = m.ok(m.get(f"/products/{mug['id']}", a))
    assert own["status"] == "active" and own["approved_at"] and own["listed_at"]
    assert own["pending_revision_id"] is None
    m.ok(_order(m, "a_full", mug["id"], mug["skus"][0]["id"]), 201)
    assert m.ok(m.get("/product-reviews", m.operator)) == []
    # the seller is told, in its inbox and by webhook (every notification fans out)
    (note,) = _notes(m, a, "prd_review_approved", mug["id"])
    assert "$19.99" in note["message"]


def test_a_rejection_gives_reasons_by_field_and_the_seller_submits_again(
    market: Market,
) -> None:  # C2
    m = market
    a = m.seller_tokens["a"]
    mug = _full_mug(m)
    submitted = m.ok(m.post(f"/products/{mug['id']}/submit", a))
    empty = _problem(_decide(m, submitted, decision="reject"), 422)
    assert empty["rule"] == "reasons_required"
    stray = _problem(_decide(m, submitted, decision="reject", reasons={"colour": "no"}), 422)
    assert (stray["field"], stray["rule"]) == ("reasons.colour", "reason_field")
    reasons = {"images": "the photo is blurred", "supply_price_minor": "above the market"}
    rejected = m.ok(_decide(m, submitted, decision="reject", reasons=reasons))
    assert rejected["status"] == "rejected" and rejected["reasons"] == reasons
    product = m.ok(m.get(f"/products/{mug['id']}", a))
    assert product["status"] == "rejected" and product["review_reasons"] == reasons
    (note,) = _notes(m, a, "prd_review_rejected")
    assert "the photo is blurred" in note["message"] and "Images" in note["message"]

    # listing a rejected product is refused, and nothing changes
    refused = _problem(m.post(f"/products/{mug['id']}/list", a), 409)
    assert (refused["field"], refused["rule"]) == ("product_id", "product_rejected")
    assert m.ok(m.get(f"/products/{mug['id']}", a))["status"] == "rejected"
    # the seller fixes what was said and submits again: a second submission
    fixed = {"images": ["https://img.example.com/mug-sharp.png"], "supply_price_minor": 600}
    m.ok(_patch(m, f"/products/{mug['id']}", a, fixed))
    again = m.ok(m.post(f"/products/{mug['id']}/submit", a))
    assert again["status"] == "under_review" and again["review_reasons"] == {}
    numbers = [r["number"] for r in m.ok(m.get(f"/products/{mug['id']}/revisions", a))]
    assert numbers == [2, 1]
    m.ok(_decide(m, again, decision="approve", retail_price_minor=1899))
    assert m.ok(m.get(f"/products/{mug['id']}", m.channel))["price_minor"] == 1899


def test_an_approved_products_changes_are_reviewed_while_it_keeps_selling(
    market: Market,
) -> None:  # C1 C2
    m = market
    a = m.seller_tokens["a"]
    mug = _full_mug(m)
    m.list_product(mug["id"], a, retail_price_minor=1999)
    white, black = (s["id"] for s in mug["skus"])
    # what the buyer sees, and the supply prices, no longer change directly
    for path, body, field in (
        (f"/products/{mug['id']}", {"name": "Mug"}, "name"),
        (f"/products/{mug['id']}", {"supply_price_minor": 500}, "supply_price_minor"),
        (f"/products/{mug['id']}/skus/{white}", {"supply_price_minor": 600}, "supply_price_minor"),
    ):
        refused = _problem(_patch(m, path, a, body), 422)
        assert (refused["field"], refused["rule"]) == (field, "reviewed_fields")
    added = _problem(m.post(f"/products/{mug['id']}/skus", a, {"code": "MUG-G"}), 422)
    assert (added["field"], added["rule"]) == ("skus", "reviewed_fields")
    assert m.ok(m.get(f"/products/{mug['id']}", a))["name"] == MUG["name"]
    # a supply-price change is a new review; the approved version keeps selling meanwhile
    body = {
        "name": "Ceramic mug 350 ml",
        "skus": [{"id": white, "supply_price_minor": 600}],
        "new_skus": [
            {"code": "MUG-G", "attributes": {"colour": "green"}, "supply_price_minor": 700}
        ],
    }
    proposed = m.ok(m.post(f"/products/{mug['id']}/revisions", a, body), 201)
    assert proposed["first"] is False and proposed["changed"] == ["name", "skus"]
    assert proposed["base"]["skus"][0]["supply_price_minor"] == 650
    product = m.ok(m.get(f"/products/{mug['id']}", a))
    assert product["status"] == "active" and product["pending_revision_id"] == proposed["id"]
    assert m.ok(m.get(f"/products/{mug['id']}", m.channel))["name"] == MUG["name"]
    m.ok(_order(m, "a_full", mug["id"], black), 201)
    twice = _problem(m.post(f"/products/{mug['id']}/revisions", a, {"name": "Other"}), 409)
    assert twice["rule"] == "review_pending"
    # approval applies it whole, at once; the retail price stays the operator's
    m.ok(_decide(m, product, decision="approve"))
    after = m.ok(m.get(f"/products/{mug['id']}", a))
    assert after["name"] == "Ceramic mug 350 ml" and after["price_minor"] == 1999
    assert [(s["code"], s["supply_price_minor"]) for s in after["skus"]] == [
        ("MUG-W", 600),
        ("MUG-B", 720),
        ("MUG-G", 700),
    ]
    assert after["pending_revision_id"] is None and after["status"] == "active"
    same = {"name": "Ceramic mug 350 ml"}
    unchanged = _problem(m.post(f"/products/{mug['id']}/revisions", a, same), 422)
    assert unchanged["rule"] == "no_changes"
    # a rejected change leaves the product as it was, selling
    change = m.ok(m.post(f"/products/{mug['id']}/revisions", a, {"weight_g": 10}), 201)
    m.ok(
        m.post(
            f"/products/{mug['id']}/revisions/{change['id']}/decision",
            m.operator,
            {"decision": "reject", "reasons": {"weight_g": "a mug weighs more"}},
        )
    )
    kept = m.ok(m.get(f"/products/{mug['id']}", a))
    assert kept["weight_g"] == 420 and kept["status"] == "active"
    assert kept["review_reasons"] == {"weight_g": "a mug weighs more"}


def test_semi_and_self_run_sellers_list_at_once_unless_the_category_needs_review(
    market: Market,
) -> None:  # C1 C2
    m = market
    a = m.seller_tokens["a"]
    # set here, not taken from the seeds: the PostgreSQL tests start from empty tables
    rule = {"review_required": True, "brand_authorisation_required": False}
    m.ok(m.client.put("/api/v1/category-rules/battery", json=rule, headers=auth(m.operator)))
    body = {**MUG, "store_id": m.stores["a_semi"], "price_minor": 1500}
    mug = m.ok(m.post("/products", a, body), 201)
    listed = m.ok(m.post(f"/products/{mug['id']}/list", a))
    assert listed["status"] == "active" and listed["pending_revision_id"] is None
    # the seller sets and changes its prices; moving a listed product into a category that
    # needs review is refused
    assert (
        m.ok(_patch(m, f"/products/{mug['id']}", a, {"price_minor": 1400}))["price_minor"] == 1400
    )
    moved = _problem(_patch(m, f"/products/{mug['id']}", a, {"category": "battery/cell"}), 422)
    assert (moved["field"], moved["rule"]) == ("category", "category_needs_review")
    assert m.ok(m.post(f"/products/{mug['id']}/delist", a))["status"] == "delisted"
    assert m.ok(m.post(f"/products/{mug['id']}/list", a))["status"] == "active"
    # a battery waits for review, where the operator sets no price (the seller's, C1)
    cell = {**MUG, "name": "Power bank", "category": "battery/power-bank"}
    bank = m.ok(m.post("/products", a, {**cell, "store_id": m.stores["a_self"]}), 201)
    no_price = _problem(m.post(f"/products/{bank['id']}/list", a), 422)
    assert no_price["rule"] == "price_required"
    m.ok(_patch(m, f"/products/{bank['id']}", a, {"price_minor": 2599}))
    waiting = m.ok(m.post(f"/products/{bank['id']}/list", a))
    assert waiting["status"] == "under_review"
    priced = _problem(_decide(m, waiting, decision="approve", retail_price_minor=1), 422)
    assert (priced["field"], priced["rule"]) == ("retail_price_minor", "seller_sets_price")
    m.ok(_decide(m, waiting, decision="approve"))
    assert m.ok(m.get(f"/products/{bank['id']}", m.channel))["price_minor"] == 2599
    # once approved, its buyer-visible values change through review; its price directly
    renamed = _problem(_patch(m, f"/products/{bank['id']}", a, {"name": "Bank"}), 422)
    assert renamed["rule"] == "reviewed_fields"
    m.ok(_patch(m, f"/products/{bank['id']}", a, {"price_minor": 2499}))
    # a category that needs no review has nothing to submit
    plain = m.ok(m.post("/products", a, {**body, "name": "Plate"}), 201)
    idle = _problem(m.post(f"/products/{plain['id']}/submit", a), 409)
    assert idle["rule"] == "review_not_required"
    # nor a revision: it changes directly until a review approves it
    wrong = _problem(m.post(f"/products/{plain['id']}/revisions", a, {"name": "x"}), 409)
    assert wrong["rule"] == "not_approved"


def test_a_suspended_product_refuses_new_orders_and_keeps_its_open_ones(
    market: Market,
) -> None:  # C2
    m = market
    a, product = m.seller_tokens["a"], m.products["a_self"]
    open_order = m.place("a_self")
    # the reason is required; the seller cannot suspend
    blank = _problem(m.post(f"/products/{product}/suspend", m.operator, {"reason": " "}), 422)
    assert blank["field"] == "reason"
    _problem(m.post(f"/products/{product}/suspend", a, {"reason": "mine"}), 403)
    reason = {"reason": "buyers report a cracked casing"}
    suspended = m.ok(m.post(f"/products/{product}/suspend", m.operator, reason))
    assert suspended["status"] == "suspended"
    assert suspended["suspended_reason"] == reason["reason"]
    # new orders are refused; the storefront no longer lists it
    refused = _problem(_order(m, "a_self", product), 422)
    assert refused["field"] == "lines.0.product_id"
    assert m.get(f"/products/{product}", m.channel).status_code == 404
    # the open order goes on: it ships
    hand = {"carrier_code": "cainiao", "tracking_number": "LP00000000077CN"}
    assert m.ok(m.post(f"/orders/{open_order['id']}/ship", a, hand))["status"] == "shipped"
    # the seller cannot list it back; it is told why
    _problem(m.post(f"/products/{product}/list", a), 409)
    (note,) = _notes(m, a, "prd_suspended")
    assert "cracked casing" in note["message"]
    # the operator lifts it: on sale again, and the seller is told
    lifted = m.ok(m.post(f"/products/{product}/unsuspend", m.operator, {"note": "fixed"}))
    assert lifted["status"] == "active" and lifted["suspended_reason"] is None
    m.ok(_order(m, "a_self", product), 201)
    assert _notes(m, a, "prd_unsuspended")
    twice = _problem(m.post(f"/products/{product}/unsuspend", m.operator), 409)
    assert twice["type"].endswith(":illegal_transition")


def test_each_role_reaches_only_its_own_products_reviews(market: Market) -> None:  # C2
    m = market
    a, b = m.seller_tokens["a"], m.seller_tokens["b"]
    mug = _full_mug(m)
    submitted = m.ok(m.post(f"/products/{mug['id']}/submit", a))
    revision = submitted["pending_revision_id"]
    staff = issue_token(m.db_url, Role.warehouse, warehouse_ids=[m.platform_warehouse])
    # another seller's product reads as not found, whatever it asks
    for answer in (
        m.post(f"/products/{mug['id']}/submit", b),
        m.post(f"/products/{mug['id']}/list", b),
        m.post(f"/products/{mug['id']}/delist", b),
        m.post(f"/products/{mug['id']}/revisions", b, {"name": "mine"}),
        m.get(f"/products/{mug['id']}/revisions", b),
        m.get(f"/products/{mug['id']}/revisions/{revision}", b),
    ):
        assert _problem(answer, 404)["field"] == "product_id"
    # sellers neither decide nor supervise nor read the queue; operators do not submit
    for answer in (
        _decide(m, submitted, a, decision="approve", retail_price_minor=1),
        m.post(f"/products/{mug['id']}/suspend", a, {"reason": "x"}),
        m.post(f"/products/{mug['id']}/unsuspend", a),
        m.get("/product-reviews", a),
        m.post(f"/products/{mug['id']}/list", m.operator),
        m.client.put(
            "/api/v1/category-rules/battery",
            json={"review_required": False, "brand_authorisation_required": False},
            headers=auth(a),
        ),
    ):
        _problem(answer, 403)
    # the storefront, carriers and warehouse staff read no reviews
    for token in (m.channel, m.carrier, staff):
        _problem(m.get("/product-reviews", token), 403)
        _problem(m.get(f"/products/{mug['id']}/revisions", token), 403)
        _problem(m.get("/category-rules", token), 403)
        _problem(m.post(f"/products/{mug['id']}/list", token), 403)
    assert m.ok(m.get(f"/products/{mug['id']}", a))["status"] == "under_review"
    assert len(m.ok(m.get(f"/products/{mug['id']}/revisions", a))) == 1
    assert m.ok(m.get(f"/products/{mug['id']}/revisions/{revision}", m.operator))["id"] == revision


def test_refusals_are_declared_problems_naming_the_field_and_the_rule(
    client: TestClient, market: Market
) -> None:  # C2
    m = market
    a = m.seller_tokens["a"]
    for path in (
        "/products/{product_id}/submit",
        "/products/{product_id}/list",
        "/products/{product_id}/delist",
        "/products/{product_id}/suspend",
        "/products/{product_id}/revisions",
        "/products/{product_id}/revisions/{revision_id}/decision",
    ):
        _declares(client, "post", path, 401, 403, 404, 409, 422)
    _declares(client, "get", "/product-reviews", 400, 401, 403)
    _declares(client, "put", "/category-rules/{category}", 401, 403, 422)
    _declares(client, "get", "/products/{product_id}", 404, 422)
    # a full-managed product without a supply price for a SKU on sale is not submitted
    bare = _full_mug(m, skus=[{"code": "MUG-X", "attributes": {}}])
    refused = _problem(m.post(f"/products/{bare['id']}/submit", a), 422)
    assert (refused["field"], refused["rule"]) == (
        "skus.0.supply_price_minor",
        "supply_price_required",
    )
    assert m.ok(m.get(f"/products/{bare['id']}", a))["status"] == "draft"
    unknown = _problem(m.post(f"/products/{bare['id']}/revisions", a, {"colour": "red"}), 422)
    assert unknown["field"] == "colour"
    _problem(m.get("/product-reviews", m.operator, params={"cursor": "not-ours"}), 400)
    _problem(m.get(f"/products/{m.products['a_self']}", m.channel, params={"country": "XX"}), 422)


def test_a_retried_decision_is_answered_once(market: Market) -> None:  # C2
    m = market
    a = m.seller_tokens["a"]
    mug = _full_mug(m)
    submitted = m.ok(m.post(f"/products/{mug['id']}/submit", a))
    key = {"Idempotency-Key": m.new_key()}
    path = f"/products/{mug['id']}/revisions/{submitted['pending_revision_id']}/decision"
    body = {"decision": "approve", "retail_price_minor": 1999}
    first = m.post(path, m.operator, body, headers=key)
    again = m.post(path, m.operator, body, headers=key)
    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert len(_notes(m, a, "prd_review_approved", mug["id"])) == 1
    # without the key, a second decision is refused: decided once
    assert _problem(m.post(path, m.operator, body), 409)["type"].endswith(":illegal_transition")


def test_a_review_past_two_business_days_is_flagged_once_and_queued_first(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # S2 C2
    m = market
    a = m.seller_tokens["a"]
    # submitted Wednesday 09:00 in Shanghai: due by the end of Friday, Shanghai time
    early = m.ok(m.post(f"/products/{_full_mug(m)['id']}/submit", a))
    (row,) = m.ok(m.get("/product-reviews", m.operator))
    assert datetime.fromisoformat(row["review_due"]) == datetime.fromisoformat(
        "2026-11-20T23:59:59+08:00"
    )
    assert row["stuck"] is False
    clock.current = datetime.fromisoformat("2026-11-21T00:00:01+08:00")  # Saturday
    later = m.ok(m.post(f"/products/{_full_mug(m, 'b')['id']}/submit", m.seller_tokens["b"]))
    queue = m.ok(m.get("/product-reviews", m.operator))
    assert [(r["product_id"], r["stuck"]) for r in queue] == [
        (early["id"], True),
        (later["id"], False),
    ]
    assert sweep_once(client, clock, settings)["flag_stuck_product_reviews"] == 1
    assert sweep_once(client, clock, settings)["flag_stuck_product_reviews"] == 0
    (seller_note,) = _notes(m, a, "prd_review_stuck")
    assert seller_note["subject_id"] == early["id"]
    assert "Check the submitted information" in seller_note["message"]
    (ops_note,) = _notes(m, m.operator, "prd_review_stuck")
    assert ops_note["seller_id"] is None
    assert not _notes(m, m.seller_tokens["b"], "prd_review_stuck")
    flagged = m.ok(m.get("/product-reviews", m.operator))[0]
    assert flagged["flagged_at"] is not None
    # a page at a time, in the same order
    first = m.get("/product-reviews", m.operator, params={"limit": 1})
    assert [r["product_id"] for r in first.json()] == [early["id"]] and "next" in first.headers[
        "link"
    ]
    clock.advance(timedelta(days=10))
    assert sweep_once(client, clock, settings)["flag_stuck_product_reviews"] == 1  # the later


def test_each_product_says_its_shipping_period_to_the_buyers_country(
    market: Market,
) -> None:  # F7 F2
    m = market
    self_run, full = m.products["a_self"], m.products["a_full"]

    def period(product: str, **params: str) -> dict[str, Any]:
        return dict(
            m.ok(m.get(f"/products/{product}", m.channel, params=params))["shipping_period"]
        )

    # the store's promise (2 business days), or the platform warehouse's ship time (2)
    assert period(self_run)["ship_days"] == [1, 2]
    assert period(full)["ship_days"] == [1, 2] and period(full)["ships_from"] == "CN"
    semi = period(m.products["a_semi"])
    assert semi["ship_days"] == [1, 1] and semi["ships_from"] == "ES"
    # without zones: the lane's transit days (F2), or its whole range without a country
    assert period(self_run)["transit_days"] == [2, 5] and period(self_run)["country"] is None
    assert period(self_run, country="cn")["transit_days"] == [2, 2]
    assert period(self_run, country="ES")["transit_days"] == [2, 5]
    assert period(self_run, country="ES")["total_days"] == [3, 7]
    # with logistics services: the zones of the services that may carry it there
    install_catalog(m)
    assert period(self_run, country="ES")["transit_days"] == [2, 15]
    assert period(self_run, country="US")["transit_days"] == [3, 18]
    assert period(self_run, country="CN")["transit_days"] == [2, 2]  # no zone: the lane's
    listed = m.ok(m.get("/products", m.channel, params={"country": "ES"}))
    assert {p["id"]: p["shipping_period"]["transit_days"] for p in listed}[self_run] == [2, 15]
    # a bad country is refused
    bad = _problem(m.get(f"/products/{self_run}", m.channel, params={"country": "ZZ"}), 422)
    assert bad["field"] == "country"


def test_operators_set_category_rules_that_sellers_read(market: Market) -> None:  # C2 S1
    m = market
    a = m.seller_tokens["a"]
    body = {"review_required": True, "brand_authorisation_required": True}
    put = m.client.put("/api/v1/category-rules/liquid/perfume", json=body, headers=auth(m.operator))
    assert m.ok(put)["category"] == "liquid/perfume"
    found = m.ok(m.get("/category-rules/liquid/perfume/eau-de-toilette", a))
    assert found == {
        "category": "liquid/perfume/eau-de-toilette",
        "review_required": True,
        "brand_authorisation_required": True,
        "source": "liquid/perfume",
    }
    assert m.ok(m.get("/category-rules/home", a))["source"] in (None, "*")
    assert "liquid/perfume" in [r["category"] for r in m.ok(m.get("/category-rules", a))]
    strict = {"review_required": "yes", "brand_authorisation_required": False}
    refused = m.client.put("/api/v1/category-rules/toys", json=strict, headers=auth(m.operator))
    assert _problem(refused, 422)["field"] == "review_required"
    bad = m.client.put("/api/v1/category-rules/Not%20One", json=body, headers=auth(m.operator))
    _problem(bad, 422)
    assert "toys" not in [r["category"] for r in m.ok(m.get("/category-rules", a))]

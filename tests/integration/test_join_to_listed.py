"""Issue 15's first "done when", through the API on both engines: a seller goes from an
operator's invitation to an approved, listed full-managed product. On the way it accepts the
program agreement, has its business information reviewed stage by stage (one stage rejected and
corrected), pays its deposit, and only then does its store join and take orders."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.builders.market import Market, issue_token
from tests.builders.reviews import DOCUMENTS, FIELDS, PDF, perfume_rule, put, upload
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role

ADDRESS = {
    "name": "Ana García",
    "line1": "Calle Mayor 1",
    "city": "Madrid",
    "postcode": "28013",
    "country": "ES",
    "phone": "+34 600 000 000",
}


def _refused(answer: Any, status: int, rule: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    problem = dict(answer.json())
    assert rule in (problem.get("rule"), problem["type"].rpartition(":")[2]), problem
    return problem


def test_an_invited_seller_joins_and_lists_a_full_managed_product(
    client: TestClient, market: Market, clock: FrozenClock
) -> None:  # M2 M4 S1 S2 S3 C1 C2 F7
    m = market
    # A seller with a self-run store in good standing, not yet in the program.
    seller = m.ok(m.post("/sellers", m.operator, {"name": "悦声电子", "country": "CN"}), 201)["id"]
    token = issue_token(m.db_url, Role.seller, seller_id=seller)
    own = m.ok(
        m.post(
            "/stores",
            m.operator,
            {
                "seller_id": seller,
                "name": "悦声 self",
                "mode": "self_run",
                "country": "CN",
                "currency": "USD",
                "ship_promise_days": 2,
            },
        ),
        201,
    )["id"]

    # The deposit a store of this category must hold (S3), and the agreement in force (M4).
    m.ok(
        m.post(
            "/deposit-rates",
            m.operator,
            {"category": "*", "currency": "USD", "amount_minor": 150_000},
        ),
        201,
    )
    agreement = m.ok(
        m.post(
            "/agreements",
            m.operator,
            {
                "label": "2026",
                "title_zh": "全托管合作协议",
                "title_en": "Full-managed programme agreement",
                "body_zh": "双方约定……",
                "body_en": "The parties agree…",
            },
        ),
        201,
    )

    # M2: the operator invites; the seller accepts and its linked store opens, joining.
    invitation = m.ok(
        m.post(
            "/invitations",
            m.operator,
            {
                "seller_id": seller,
                "store_id": own,
                "message": "诚邀您加入全托管",
                "store_name": "b 全托管",
            },
        ),
        201,
    )
    assert invitation["status"] == "invited"
    seen = m.ok(m.get("/invitations", token))
    assert [i["id"] for i in seen] == [invitation["id"]]
    accepted = m.ok(m.post(f"/invitations/{invitation['id']}/accept", token))
    assert accepted["status"] == "accepted"
    store = accepted["full_managed_store_id"]
    joining = m.ok(m.get(f"/stores/{store}/joining", token))
    assert joining["joined_at"] is None, joining

    # A product can be prepared while joining, but nothing can be ordered yet.
    body = {
        "store_id": store,
        "name": "Noise-cancelling earbuds 降噪耳机",
        "category": "electronics/audio",
        "declared_value_minor": 2999,
        "weight_g": 90,
        "length_mm": 100,
        "width_mm": 80,
        "height_mm": 40,
        "supply_price_minor": 1500,
        "skus": [
            {"code": "NC-BLK", "attributes": {"colour": "black"}, "supply_price_minor": 1500},
            {"code": "NC-WHT", "attributes": {"colour": "white"}, "supply_price_minor": 1550},
        ],
    }
    product = m.ok(m.post("/products", token, body), 201)
    submitted = m.ok(m.post(f"/products/{product['id']}/submit", token))
    assert submitted["status"] == "under_review"

    # M4: the agreement, accepted with who, when and from where.
    m.ok(m.post(f"/agreements/{agreement['id']}/accept", token), 201)
    acceptances = m.ok(m.get("/agreement-acceptances", m.operator))
    assert [a["seller_id"] for a in acceptances] == [seller]

    # S1: the business information, reviewed stage by stage; the financial stage is rejected
    # on one field, corrected, and approved.
    perfume_rule(m.db_url)
    for purpose, data in DOCUMENTS.items():
        m.ok(upload(m, token, store, purpose, data, f"{purpose}.pdf"), 201)
    m.ok(put(m, token, store, FIELDS))
    m.ok(
        upload(m, token, store, "brand_authorisation", PDF, "brand.pdf", category="liquid/perfume"),
        201,
    )
    review = m.ok(m.post(f"/stores/{store}/business-review/submit", token))
    assert (review["status"], review["stage"]) == ("under_review", "background")
    queue = m.ok(m.get("/business-reviews", m.operator))
    assert review["id"] in [r["id"] for r in queue]

    def decide(stage: str, decision: str = "approve", **reasons: str) -> dict[str, Any]:
        body = {"stage": stage, "decision": decision, "reasons": reasons}
        return dict(m.ok(m.post(f"/business-reviews/{review['id']}/decisions", m.operator, body)))

    decide("background")
    returned = decide("financial", "reject", bank_name="开户行与开户证明不一致")
    assert returned["status"] != "under_review"
    # Only the rejected field may change; an approved stage's field is refused.
    _refused(put(m, token, store, {"company_name": "别的公司"}), 422, "stage_approved")
    m.ok(put(m, token, store, {"bank_name": "招商银行深圳南山支行"}))
    again = m.ok(m.post(f"/stores/{store}/business-review/submit", token))
    assert (again["status"], again["stage"]) == ("under_review", "financial")
    decide("financial")
    decide("categories")
    rounds = m.ok(m.get(f"/business-reviews/{review['id']}/rounds", token))
    assert len(rounds) == 2

    # C2: the operator approves the product with the retail price it sells at (C1).
    reviews = m.ok(m.get("/product-reviews", m.operator))
    pending = next(r for r in reviews if r["product_id"] == product["id"])
    decision = {"decision": "approve", "retail_price_minor": 3999}
    path = f"/products/{product['id']}/revisions/{pending['id']}/decision"
    m.ok(m.post(path, m.operator, decision))
    approved = m.ok(m.get(f"/products/{product['id']}", token))
    assert (approved["status"], approved["price_minor"]) == ("active", 3999)
    listed = m.ok(m.get(f"/products/{product['id']}", m.channel, params={"country": "ES"}))
    assert listed["price_minor"] == 3999
    # F7: the storefront reads the shipping period to the buyer's country.
    period = listed["shipping_period"]
    assert period["ship_days"][0] >= 1 and period["transit_days"][1] >= period["transit_days"][0]
    # What the buyer sees is no longer the seller's to change (C1).
    _refused(
        client.patch(
            f"/api/v1/products/{product['id']}",
            json={"name": "Something else"},
            headers={"Authorization": f"Bearer {token}"},
        ),
        422,
        "reviewed_fields",
    )

    # Still joining: the deposit is not paid, so the listed product cannot be ordered yet.
    assert m.ok(m.get(f"/stores/{store}/joining", token))["joined_at"] is None
    sku = listed["skus"][0]["id"]

    def order() -> Any:
        return client.post(
            "/api/v1/orders",
            json={
                "store_id": store,
                "currency": "USD",
                "address": ADDRESS,
                "lines": [{"product_id": product["id"], "sku_id": sku, "quantity": 1}],
            },
            headers={"Authorization": f"Bearer {m.channel}"},
        )

    _refused(order(), 409, "store_joining")

    # S3: the operator records the deposit received; the store joins.
    m.ok(
        m.post(
            f"/stores/{store}/deposit/fundings",
            m.operator,
            {"amount_minor": 150_000, "currency": "USD", "reference": "B-DEPOSIT-1"},
        ),
        201,
    )
    assert m.ok(m.get(f"/stores/{store}/joining", token))["joined_at"] is not None

    # The store joined: the storefront's order is taken (a supply order, as the warehouse holds
    # no stock yet), and the seller was told of every decision on the way.
    placed = order()
    assert placed.status_code == 201, placed.text
    kinds = {n["kind"] for n in m.ok(m.get("/notifications", token, params={"limit": 100}))}
    assert {"inv_invited", "brv_rejected", "brv_approved", "join_joined"} <= kinds, kinds

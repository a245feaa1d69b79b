"""The program agreement (签订合同, M4) through the API: operators publish versions in Chinese and
English, sellers read the version in force in their language and accept it (who, when, from
where), and a version that requires acceptance holds back the seller's new supply orders until
it is accepted, never what is already promised (O2 × M5)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.test_invitations_api import declares, problem
from tests.builders.market import ADDRESS, Market, as_system
from tests.builders.stock import adjust, sku_of
from tests.integration.test_supply_orders import supply_of
from tuoguan.context import Ctx
from tuoguan.fulfilment import service as fulfilment
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import SYSTEM

TEXT = {
    "label": "2026版",
    "title_zh": "全托管合作协议",
    "title_en": "Full-managed programme agreement",
    "body_zh": "第一条 平台负责运营。\n\n第二条 商家负责供货。",
    "body_en": "Article 1. The platform runs the store.\n\nArticle 2. The seller supplies.",
}


def publish(m: Market, **extra: Any) -> Any:
    return m.post("/agreements", m.operator, {**TEXT, **extra})


def orders_count(m: Market) -> int:
    return len(m.ok(m.get("/orders", m.operator, params={"limit": 200})))


def test_sellers_read_the_version_in_force_and_accept_it(
    client: TestClient, market: Market, clock: FrozenClock
) -> None:  # M4
    m = market
    a, b = m.seller_tokens["a"], m.seller_tokens["b"]
    assert m.ok(m.get("/agreements/current", a)) is None  # none published yet
    first = m.ok(publish(m), 201)
    assert (first["version"], first["standing"], first["requires_acceptance"]) == (
        1,
        "in_force",
        True,
    )
    # every seller in the program is told
    for token in (a, b):
        told = [n for n in m.ok(m.get("/notifications", token)) if n["kind"] == "agr_published"]
        assert told and told[0]["params"]["label"] == "2026版"
    # the seller reads it in its language, and must accept it
    zh = m.ok(m.get("/agreements/current", a, params={"lang": "zh-CN"}))
    assert (zh["title"], zh["pending"], zh["accepted_at"]) == ("全托管合作协议", True, None)
    en = m.ok(m.get("/agreements/current", a, params={"lang": "en"}))
    assert en["title"] == TEXT["title_en"] and en["body"].startswith("Article 1.")
    problem(m.get("/agreements/current", a, params={"lang": "fr"}), 422)

    accepted = m.ok(
        m.post(f"/agreements/{first['id']}/accept", a, headers={"User-Agent": "Mozilla/5.0 (X11)"}),
        201,
    )
    assert accepted["version_id"] == first["id"] and accepted["seller_id"] == m.sellers["a"]
    assert accepted["client_address"] == "testclient"
    assert accepted["user_agent"] == "Mozilla/5.0 (X11)"
    assert accepted["accepted_by"] and accepted["accepted_at"]
    again = m.ok(m.post(f"/agreements/{first['id']}/accept", a), 201)
    assert again["id"] == accepted["id"]  # accepting again answers the first acceptance
    now = m.ok(m.get("/agreements/current", a, params={"lang": "en"}))
    assert now["pending"] is False and now["accepted_at"] is not None
    assert m.ok(m.get("/agreements", a))[0]["accepted_at"] is not None
    assert m.ok(m.get("/agreements", b))[0]["accepted_at"] is None

    # operators see every acceptance, a seller only its own
    assert [x["id"] for x in m.ok(m.get("/agreement-acceptances", m.operator))] == [accepted["id"]]
    assert m.ok(m.get("/agreement-acceptances", b)) == []
    by_version = m.get("/agreement-acceptances", m.operator, params={"agreement_id": first["id"]})
    assert len(m.ok(by_version)) == 1

    # a correction that needs no acceptance: seller a's acceptance covers it
    clock.current = clock.now() + timedelta(days=1)
    fix = m.ok(publish(m, label="2026版 勘误", requires_acceptance=False), 201)
    current = m.ok(m.get("/agreements/current", a))
    assert current["id"] == fix["id"] and current["pending"] is False
    assert m.ok(m.get("/agreements/current", b))["pending"] is True  # b never accepted
    versions = m.ok(m.get("/agreements", m.operator))
    assert [v["standing"] for v in versions] == ["superseded", "in_force"]
    # the superseded version is no longer accepted
    problem(m.post(f"/agreements/{first['id']}/accept", b), 409, "agreement_superseded")


def test_bad_agreements_are_refused_naming_the_field_and_the_rule(
    client: TestClient, market: Market, clock: FrozenClock
) -> None:  # M4
    m = market
    a = m.seller_tokens["a"]
    problem(m.post("/agreements", a, TEXT), 403)
    past = (clock.now() - timedelta(hours=1)).isoformat()
    assert problem(publish(m, effective_from=past), 422, "not_past")["field"] == "effective_from"
    far = (clock.now() + timedelta(days=400)).isoformat()
    problem(publish(m, effective_from=far), 422, "within_horizon")
    assert problem(publish(m, body_en=" "), 422)["field"] == "body_en"
    assert problem(publish(m, requires_acceptance="yes"), 422)["field"] == "requires_acceptance"
    assert m.ok(m.get("/agreements", m.operator)) == []
    later = (clock.now() + timedelta(days=7)).isoformat()
    scheduled = m.ok(publish(m, effective_from=later), 201)
    assert scheduled["standing"] == "scheduled"
    problem(publish(m), 422, "after_previous")  # a version must start after the latest
    # nobody owes it before it starts; a seller may accept it ahead of time
    assert m.ok(m.get("/agreements/current", a)) is None
    m.ok(m.post(f"/agreements/{scheduled['id']}/accept", a), 201)
    # an operator does not accept for a seller; other roles reach nothing
    problem(m.post(f"/agreements/{scheduled['id']}/accept", m.operator), 403)
    for token in (m.channel, m.carrier):
        problem(m.get("/agreements", token), 403)
        problem(m.get("/agreement-acceptances", token), 403)
    problem(m.post("/agreements/agv_01KB0000000000000000000000/accept", a), 404)
    problem(m.get("/agreements/agv_01KB0000000000000000000000", a), 404)
    declares(client, "post", "/agreements", 401, 403, 409, 422)
    declares(client, "get", "/agreements/current", 401, 403, 422)
    declares(client, "post", "/agreements/{agreement_id}/accept", 401, 403, 404, 409, 422)
    declares(client, "get", "/stores/{store_id}/joining", 401, 403, 404, 409)


def test_a_pending_agreement_holds_back_new_supply_orders_but_not_what_is_promised(
    market: Market, clock: FrozenClock
) -> None:  # M4 O2 M5
    m = market
    a = m.seller_tokens["a"]
    promised = m.place("a_full")  # no stock: a supply order to seller a
    supply = supply_of(m, promised)
    agreement = m.ok(publish(m), 201)

    # a new order that needs a supply order is refused, naming the version; nothing is written
    before = orders_count(m)
    refused = problem(_order(m, "a_full"), 409, "agreement_pending")
    assert refused["agreement_version"] == 1 and refused["agreement_label"] == "2026版"
    assert refused["agreement_id"] == agreement["id"]
    assert orders_count(m) == before
    # seller b owes it as well
    problem(_order(m, "b_full"), 409, "agreement_pending")

    # what was promised still moves: the seller confirms the supply order and sends the goods
    m.ok(m.post(f"/supply-orders/{supply['id']}/confirm", a))

    def sent(session: AsyncSession, _: Ctx) -> Any:
        ctx = Ctx(principal=SYSTEM, clock=clock)
        return fulfilment.supply_sent(session, ctx=ctx, supply_order_id=supply["id"])

    as_system(m.db_url, sent)
    assert m.ok(m.get(f"/supply-orders/{supply['id']}", a))["status"] == "in_transit"
    # and an order the warehouse serves from its stock needs no supply order: it is placed
    m.ok(
        adjust(m, m.platform_warehouse, sku_of(m, "a_full"), reason="opening stock", on_hand=3), 201
    )
    served = m.ok(_order(m, "a_full"), 201)
    assert served["status"] != "cancelled"

    # accepted: new supply orders come again
    m.ok(m.post(f"/agreements/{agreement['id']}/accept", a), 201)
    after = m.ok(_order(m, "a_full", quantity=5), 201)  # more than the warehouse holds
    assert supply_of(m, after)["status"] == "awaiting_confirmation"


def _order(m: Market, key: str, quantity: int = 1) -> Any:
    body = {
        "store_id": m.stores[key],
        "currency": "USD",
        "address": ADDRESS,
        "lines": [{"product_id": m.products[key], "quantity": quantity}],
    }
    return m.post("/orders", m.channel, body)

"""Warehouses through the API: who registers, sees and changes which (M5, F1, F11, R1)."""

from __future__ import annotations

from typing import Any

from tests.builders.market import Market
from tests.builders.stock import make_warehouse, warehouse_body


def _patch(m: Market, warehouse_id: str, token: str, body: dict[str, Any], **headers: str) -> Any:
    return m.client.patch(
        f"/api/v1/warehouses/{warehouse_id}",
        json=body,
        headers={"Authorization": f"Bearer {token}", **headers},
    )


def _refused(answer: Any, status: int, field: str | None, rule: str | None = None) -> None:
    assert answer.status_code == status, answer.text
    problem = answer.json()
    assert problem.get("field") == field, problem
    if rule is not None:
        assert problem["rule"] == rule, problem


def test_an_operator_registers_the_platform_consolidation_warehouse(market: Market) -> None:
    # M5: the platform's domestic warehouse (优选仓), with its calendar and cut-off (F11)
    m = market
    made = make_warehouse(m, code="dg1", closed_days=["2026-12-24", "2026-12-24"], ship_days=3)
    assert made["code"] == "DG1" and made["owner"] == "platform" and made["seller_id"] is None
    assert made["kind"] == "consolidation" and made["timezone"] == "Asia/Shanghai"
    assert made["pickup_cutoff"] == "16:00" and made["ship_days"] == 3
    assert made["closed_days"] == ["2026-12-24"] and made["active"] is True
    assert made["address"]["city"] == "Dongguan" and made["version"] == 1
    assert m.ok(m.get(f"/warehouses/{made['id']}", m.operator)) == made
    assert made["id"] in {w["id"] for w in m.ok(m.get("/warehouses", m.operator))}


def test_a_seller_registers_only_its_own_origin_or_overseas_warehouse(market: Market) -> None:
    # F1: semi-managed sellers ship from their own overseas warehouse; M5: 优选仓 is the platform's
    m = market
    seller = m.seller_tokens["a"]
    own = make_warehouse(m, seller, owner="seller", kind="overseas", country="ES")
    assert own["seller_id"] == m.sellers["a"] and own["timezone"] == "Europe/Madrid"
    _refused(m.post("/warehouses", seller, warehouse_body()), 403, "owner", "seller_registers_own")
    consolidation = warehouse_body(owner="seller", kind="consolidation")
    _refused(m.post("/warehouses", seller, consolidation), 403, "kind", "seller_warehouse_kind")
    for_b = warehouse_body(owner="seller", kind="seller_origin", seller_id=m.sellers["b"])
    _refused(m.post("/warehouses", seller, for_b), 404, "seller_id")
    # the operator registers a seller's warehouse for it, naming the seller
    nameless = warehouse_body(owner="seller", kind="seller_origin")
    _refused(m.post("/warehouses", m.operator, nameless), 422, "seller_id")
    named = make_warehouse(m, owner="seller", kind="seller_origin", seller_id=m.sellers["b"])
    assert named["seller_id"] == m.sellers["b"]
    platform_named = warehouse_body(seller_id=m.sellers["b"])
    _refused(m.post("/warehouses", m.operator, platform_named), 422, "seller_id")


def test_bad_warehouse_input_names_the_field_and_changes_nothing(market: Market) -> None:
    m = market
    taken = make_warehouse(m)
    _refused(
        m.post("/warehouses", m.operator, warehouse_body(code=taken["code"])),
        409,
        "code",
        "code_unique",
    )
    _refused(m.post("/warehouses", m.operator, warehouse_body(timezone="Mars/Olympus")), 422, "timezone")
    _refused(m.post("/warehouses", m.operator, warehouse_body(country="XX")), 422, "country")
    _refused(m.post("/warehouses", m.operator, warehouse_body(ship_days=4)), 422, "ship_days")
    _refused(m.post("/warehouses", m.operator, warehouse_body(ship_days="2")), 422, "ship_days")
    offset = warehouse_body(pickup_cutoff="16:00+08:00")
    _refused(
        m.post("/warehouses", m.operator, offset), 422, "pickup_cutoff", "string_pattern_mismatch"
    )
    run = [f"2027-01-{day:02d}" for day in range(1, 32)] + ["2027-02-01"]
    _refused(m.post("/warehouses", m.operator, warehouse_body(closed_days=run)), 422, "closed_days")
    listed = [w["id"] for w in m.ok(m.get("/warehouses", m.operator))]
    assert listed == [m.platform_warehouse, taken["id"]]  # the seeded hub, and nothing new


def test_a_seller_sees_the_platforms_active_warehouses_and_its_own_only(market: Market) -> None:
    # M5: a seller sends stock to the platform's warehouses; another seller's is not found
    m = market
    a, b = m.seller_tokens["a"], m.seller_tokens["b"]
    platform = make_warehouse(m)
    third = make_warehouse(m, owner="third_party", kind="overseas", country="ES")
    shut = make_warehouse(m, active=False)
    own_a = make_warehouse(m, a, owner="seller", kind="seller_origin")
    own_b = make_warehouse(m, b, owner="seller", kind="seller_origin")
    listed = {w["id"] for w in m.ok(m.get("/warehouses", a))}
    hub = m.platform_warehouse  # the seeded market's
    assert listed == {hub, platform["id"], third["id"], own_a["id"]}
    everything = {w["id"] for w in m.ok(m.get("/warehouses", m.operator))}
    assert everything == {hub, platform["id"], third["id"], shut["id"], own_a["id"], own_b["id"]}
    assert m.get(f"/warehouses/{own_b['id']}", a).status_code == 404
    assert m.get(f"/warehouses/{platform['id']}", a).status_code == 200
    for token in (m.channel, m.carrier):
        assert m.get("/warehouses", token).status_code == 403
        assert m.post("/warehouses", token, warehouse_body()).status_code == 403


def test_the_warehouse_list_pages_by_id(market: Market) -> None:
    m = market
    made = [m.platform_warehouse] + [make_warehouse(m)["id"] for _ in range(2)]
    first = m.get("/warehouses", m.operator, params={"limit": 2})
    assert [w["id"] for w in first.json()] == made[:2]
    link = first.headers["link"].split(";")[0].strip("<>")
    second = m.client.get(link, headers={"Authorization": f"Bearer {m.operator}"})
    assert [w["id"] for w in second.json()] == made[2:] and "link" not in second.headers


def test_changing_a_warehouse(market: Market) -> None:
    # F11: closed days, cut-off and ship days are per warehouse; sellers change only their own
    m = market
    a, b = m.seller_tokens["a"], m.seller_tokens["b"]
    platform = make_warehouse(m)
    changed = _patch(
        m,
        platform["id"],
        m.operator,
        {"pickup_cutoff": "15:30", "ship_days": 1, "closed_days": ["2026-11-19"], "active": False},
    )
    body = m.ok(changed)
    assert (body["pickup_cutoff"], body["ship_days"], body["active"]) == ("15:30", 1, False)
    assert body["closed_days"] == ["2026-11-19"] and body["version"] == 2
    stale = _patch(m, platform["id"], m.operator, {"ship_days": 2}, **{"If-Match": "1"})
    _refused(stale, 409, "version")
    _refused(_patch(m, platform["id"], a, {"ship_days": 2}), 403, None)  # the platform's

    own = make_warehouse(m, a, owner="seller", kind="seller_origin")
    assert _patch(m, own["id"], b, {"ship_days": 1}).status_code == 404
    soon = _patch(m, own["id"], a, {"closed_days": ["2026-11-20"]})  # START is 2026-11-18
    _refused(soon, 422, "closed_days", "closed_day_notice")
    later = m.ok(_patch(m, own["id"], a, {"closed_days": ["2026-12-01"], "name": "Home"}))
    assert later["closed_days"] == ["2026-12-01"] and later["name"] == "Home"
    _refused(_patch(m, own["id"], a, {"ship_days": 0}), 422, "ship_days")
    _refused(_patch(m, own["id"], a, {"owner": "platform"}), 422, "owner")

"""Inbound notices (ASN, 入库单) through the API and the CLI, on both engines (R1, R4, M5, C3,
the Decision O2 x M5): drafts, sending, who sees what, the scanner's lookup, carton labels and
the stale-inbound report."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from tests.builders.inbound import add_sku, draft, notice_body, sent, staff, stock, tracking
from tests.builders.market import Market
from tests.builders.stock import make_warehouse, sku_of
from tuoguan.cli.main import app
from tuoguan.kit.clock import FrozenClock

runner = CliRunner()


def _refused(answer: Any, status: int, field: str, rule: str | None = None) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    problem = answer.json()
    assert problem["field"] == field, problem
    if rule is not None:
        assert problem["rule"] == rule, problem
    return dict(problem)


def _ids(m: Market, token: str, **params: Any) -> list[str]:
    return [n["id"] for n in m.ok(m.get("/inbound-notices", token, params=params))]


def _pages(m: Market, token: str, **params: Any) -> list[list[str]]:
    """Every page of the list, following the Link header."""
    pages = []
    answer = m.get("/inbound-notices", token, params=params)
    while True:
        pages.append([n["id"] for n in m.ok(answer)])
        link = answer.headers.get("Link")
        if not link:
            return pages
        answer = m.get(link.split(";")[0].strip("<>").removeprefix("/api/v1"), token)


def test_a_seller_drafts_edits_and_sends_a_notice(market: Market) -> None:
    # R1 (content: seller, warehouse, SKU lines, cartons, carrier, tracking), M5 (inbound stock)
    m = market
    seller = m.seller_tokens["a"]
    warehouse = make_warehouse(m)["id"]
    sku = sku_of(m, "a_full")
    red = add_sku(m, "a_full", "EAR-RED")

    # given a draft without carrier details
    notice = draft(m, warehouse, [(sku, 10)], cartons=2, carrier=None)
    assert (notice["status"], notice["cartons"], notice["units_expected"]) == ("draft", 2, 10)
    assert notice["allowed_actions"] == ["edit", "send", "cancel"]
    assert notice["store_name"] == "a full" and notice["warehouse_name"] == "Dongguan consolidation"
    (line,) = notice["lines"]
    assert (line["sku_id"], line["expected"], line["product_name"]) == (sku, 10, "Earbuds 耳机")

    # when it is sent before the carrier is named, it is refused and stays a draft
    _refused(
        m.post(f"/inbound-notices/{notice['id']}/send", seller),
        422,
        "carrier_name",
        "required_to_send",
    )
    assert stock(m, warehouse, sku)["inbound"] == 0

    # when the seller edits it (lines replaced, a SKU kept), then sends it
    body = {
        "lines": [{"sku_id": red, "quantity": 4}, {"sku_id": sku, "quantity": 6}],
        "cartons": 3,
        "carrier_name": "SF Express",
        "tracking_number": "sf0000000123",
    }
    stale_version = notice["version"]
    edited = m.ok(
        m.client.patch(
            f"/api/v1/inbound-notices/{notice['id']}",
            json=body,
            headers={"Authorization": f"Bearer {seller}", "If-Match": str(stale_version)},
        )
    )
    assert [(li["sku_id"], li["expected"]) for li in edited["lines"]] == [(red, 4), (sku, 6)]
    assert (edited["cartons"], edited["tracking_number"]) == (3, "SF0000000123")
    moved = m.client.post(
        f"/api/v1/inbound-notices/{notice['id']}/send",
        headers={"Authorization": f"Bearer {seller}", "If-Match": str(stale_version)},
    )
    assert moved.status_code == 409 and moved.json()["type"].endswith("concurrent_update")
    shipped = m.ok(m.post(f"/inbound-notices/{notice['id']}/send", seller))

    # then it is in transit and each line is announced in the warehouse's inbound stock
    assert shipped["status"] == "in_transit" and shipped["shipped_at"]
    assert shipped["allowed_actions"] == []
    assert stock(m, warehouse, red)["inbound"] == 4 and stock(m, warehouse, sku)["inbound"] == 6
    moves = m.ok(
        m.get("/stock/moves", m.operator, params={"warehouse_id": warehouse, "sku_id": red})
    )
    assert [(mv["kind"], mv["quantity"], mv["ref_type"], mv["ref_id"]) for mv in moves] == [
        ("inbound", 4, "inbound_notice", notice["id"])
    ]
    # and a sent notice is neither edited, sent again nor cancelled
    for path in ("send", "cancel"):
        problem = _refused(m.post(f"/inbound-notices/{notice['id']}/{path}", seller), 409, "status")
        assert problem["current_state"] == "in_transit"
    late_edit = m.client.patch(
        f"/api/v1/inbound-notices/{notice['id']}",
        json={"cartons": 1},
        headers={"Authorization": f"Bearer {seller}"},
    )
    _refused(late_edit, 409, "status", "state_allows_action")


def test_a_draft_is_cancelled_without_moving_stock(market: Market) -> None:
    # R1
    m = market
    warehouse = make_warehouse(m)["id"]
    sku = sku_of(m, "a_full")
    notice = draft(m, warehouse, [(sku, 5)])
    cancelled = m.ok(m.post(f"/inbound-notices/{notice['id']}/cancel", m.operator))
    assert cancelled["status"] == "cancelled" and cancelled["allowed_actions"] == []
    assert stock(m, warehouse, sku)["inbound"] == 0
    assert (
        m.get(f"/inbound-notices/{notice['id']}/labels.pdf", m.seller_tokens["a"]).status_code
        == 409
    )


def test_bad_notices_are_refused_and_change_nothing(market: Market) -> None:
    # issue 12 bad input: an inbound notice to another seller's warehouse; C3 (the store's SKUs)
    m = market
    seller = m.seller_tokens["a"]
    warehouse = make_warehouse(m)["id"]
    sku = sku_of(m, "a_full")
    others_sku = sku_of(m, "b_full")
    b_origin = make_warehouse(
        m, owner="seller", seller_id=m.sellers["b"], kind="seller_origin", name="b's own"
    )["id"]
    a_origin = make_warehouse(
        m, owner="seller", seller_id=m.sellers["a"], kind="seller_origin", name="a's own"
    )["id"]
    closed = make_warehouse(m, active=False)["id"]

    def create(token: str = seller, **fields: Any) -> Any:
        lines = fields.pop("lines", [(sku, 5)])
        return m.post(
            "/inbound-notices",
            token,
            notice_body(m, fields.pop("warehouse_id", warehouse), lines, **fields),
        )

    # another seller's warehouse: a seller cannot even see it, an operator is told whose it is
    _refused(create(warehouse_id=b_origin), 404, "warehouse_id")
    _refused(create(m.operator, warehouse_id=b_origin), 422, "warehouse_id", "not_your_warehouse")
    _refused(create(warehouse_id=closed), 409, "warehouse_id", "warehouse_active")
    _refused(create(lines=[(sku, 2), (sku, 3)]), 422, "lines.1.sku_id", "sku_once")
    _refused(create(lines=[(sku, 2), (others_sku, 3)]), 422, "lines.1.sku_id", "store_sku")
    _refused(create(lines=[(sku, 0)]), 422, "lines.0.quantity", "greater_than_equal")
    _refused(create(lines=[(sku, 100_001)]), 422, "lines.0.quantity", "less_than_equal")
    _refused(create(lines=[(sku, -4)]), 422, "lines.0.quantity", "greater_than_equal")
    _refused(create(cartons=0), 422, "cartons", "greater_than_equal")
    _refused(create(cartons=1000), 422, "cartons", "less_than_equal")
    _refused(create(store_key="b_full", lines=[(others_sku, 1)]), 404, "store_id")
    _refused(create(supply_order_id="sup_01JAAAAAAAAAAAAAAAAAAAAAAA"), 404, "supply_order_id")
    _refused(create(tracking_number="no spaces"), 422, "tracking_number", "string_pattern_mismatch")
    assert _ids(m, m.operator) == []

    # the seller's own warehouse and the platform's take its stock
    assert m.ok(create(warehouse_id=a_origin), 201)["warehouse_id"] == a_origin
    assert m.ok(create(), 201)["warehouse_id"] == warehouse
    # warehouse staff and the storefront write no notices
    assert create(staff(m, warehouse)).status_code == 403
    assert create(m.channel).status_code == 403


def test_each_role_sees_its_own_notices_newest_first_a_page_at_a_time(market: Market) -> None:
    # R1 (who sees what); lists are keyset pages with Link rel=next
    m = market
    seller_a, seller_b = m.seller_tokens["a"], m.seller_tokens["b"]
    dongguan, yiwu = make_warehouse(m)["id"], make_warehouse(m, name="Yiwu")["id"]
    sku_a, sku_b = sku_of(m, "a_full"), sku_of(m, "b_full")
    a_draft = draft(m, dongguan, [(sku_a, 1)])
    a_sent = [sent(m, dongguan, [(sku_a, n)]) for n in (1, 2, 3)]
    a_yiwu = sent(m, yiwu, [(sku_a, 4)])
    b_sent = sent(m, dongguan, [(sku_b, 5)], store_key="b_full", token=seller_b)
    dock = staff(m, dongguan)

    everything = [b_sent["id"], a_yiwu["id"], *[n["id"] for n in reversed(a_sent)], a_draft["id"]]
    assert _ids(m, m.operator) == everything
    assert _pages(m, m.operator, limit=2) == [everything[:2], everything[2:4], everything[4:]]
    assert _ids(m, seller_a) == everything[1:]
    assert _pages(m, seller_a, limit=3) == [everything[1:4], everything[4:]]
    assert _ids(m, seller_b) == [b_sent["id"]]
    # warehouse staff: what was sent to their warehouse, from any seller, never a draft
    assert _ids(m, dock) == [b_sent["id"], *[n["id"] for n in reversed(a_sent)]]
    assert _pages(m, dock, limit=2) == [
        [b_sent["id"], a_sent[2]["id"]],
        [a_sent[1]["id"], a_sent[0]["id"]],
    ]
    assert _ids(m, dock, warehouse_id=yiwu) == []
    # filters
    assert _ids(m, m.operator, status="draft") == [a_draft["id"]]
    assert _ids(m, m.operator, warehouse_id=yiwu) == [a_yiwu["id"]]
    assert _ids(m, seller_a, warehouse_id=dongguan, status="in_transit") == [
        n["id"] for n in reversed(a_sent)
    ]
    assert _ids(m, seller_b, store_id=m.stores["a_full"]) == []
    assert _ids(m, m.operator, store_id=m.stores["b_full"]) == [b_sent["id"]]
    # one notice: its seller, operators and the warehouse's staff; others get 404
    for token in (seller_a, m.operator, dock):
        assert m.ok(m.get(f"/inbound-notices/{a_sent[0]['id']}", token))["id"] == a_sent[0]["id"]
    for token in (seller_b, staff(m, yiwu), m.channel):
        assert m.get(f"/inbound-notices/{a_sent[0]['id']}", token).status_code in (403, 404)
    assert m.get("/inbound-notices", m.carrier).status_code == 403
    assert m.get("/inbound-notices", m.operator, params={"cursor": "nope"}).status_code == 400


def test_a_scanner_finds_a_notice_by_its_id_or_tracking_number(market: Market) -> None:
    # R1 (scan or type the ASN); R4 (info verified before submit: tracking numbers normalised)
    m = market
    warehouse = make_warehouse(m)["id"]
    sku = sku_of(m, "a_full")
    dock = staff(m, warehouse)
    number = tracking()
    first = sent(m, warehouse, [(sku, 1)], tracking_number=number)
    second = sent(m, warehouse, [(sku, 2)], tracking_number=number)  # one parcel, two notices
    m.ok(m.post(f"/inbound-notices/{first['id']}/arrive", dock))

    def found(code: str, token: str = dock) -> list[str]:
        return [
            n["id"] for n in m.ok(m.get("/inbound-notices/lookup", token, params={"code": code}))
        ]

    assert found(second["id"]) == [second["id"]]
    assert found(f"  {second['id'].upper()} ") == [second["id"]]
    assert found(second["id"].lower()) == [second["id"]]
    # by tracking number, any case; the notice being received first
    assert found(number.lower()) == [first["id"], second["id"]]
    assert found("SF-NOTHING") == []
    assert found(number, m.seller_tokens["b"]) == []
    assert m.get("/inbound-notices/lookup", dock, params={"code": ""}).status_code == 422


def test_carton_labels_have_a_page_per_carton(market: Market) -> None:
    # R1: printable carton labels, the ASN's barcode and "carton n of N" (第 n/N 箱)
    m = market
    warehouse = make_warehouse(m)["id"]
    sku = sku_of(m, "a_full")
    notice = draft(m, warehouse, [(sku, 12)], cartons=3)

    answer = m.get(f"/inbound-notices/{notice['id']}/labels.pdf", m.seller_tokens["a"])

    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(answer.content)).pages
    assert len(pages) == 3
    for n, page in enumerate(pages, start=1):
        text = page.extract_text()
        assert f"carton {n} of 3" in text and f"第 {n}/3 箱" in text
        assert notice["id"] in text and "Dongguan consolidation" in text and "a full" in text
        assert "× 12" in text
    assert pages[0].mediabox.width == pytest.approx(100 / 25.4 * 72, abs=0.5)
    # the warehouse's staff print them too once sent; another seller cannot
    sent_notice = m.ok(m.post(f"/inbound-notices/{notice['id']}/send", m.seller_tokens["a"]))
    assert (
        m.get(f"/inbound-notices/{sent_notice['id']}/labels.pdf", staff(m, warehouse)).status_code
        == 200
    )
    assert (
        m.get(f"/inbound-notices/{notice['id']}/labels.pdf", m.seller_tokens["b"]).status_code
        == 404
    )


def test_stale_inbound_is_reported_by_seller_and_by_carrier(
    market: Market, clock: FrozenClock
) -> None:
    # R4 (seed 001): stale inbound shipments and repeat offenders (carrier, seller)
    m = market
    warehouse = make_warehouse(m)["id"]
    dock = staff(m, warehouse)
    sku_a, sku_b = sku_of(m, "a_full"), sku_of(m, "b_full")
    start = clock.now()
    old_a = sent(m, warehouse, [(sku_a, 1)], carrier="Slow Freight")
    clock.advance(timedelta(days=1))
    old_b = sent(
        m,
        warehouse,
        [(sku_b, 1)],
        carrier="Slow Freight",
        store_key="b_full",
        token=m.seller_tokens["b"],
    )
    clock.advance(timedelta(days=1))
    later_a = sent(m, warehouse, [(sku_a, 2)], carrier="SF Express")
    arrived = sent(m, warehouse, [(sku_a, 3)], carrier="Slow Freight")
    m.ok(m.post(f"/inbound-notices/{arrived['id']}/arrive", dock))
    clock.advance(timedelta(days=6, hours=1))
    fresh = sent(m, warehouse, [(sku_a, 4)], carrier="Slow Freight")
    assert fresh["status"] == "in_transit"

    report = m.ok(m.get("/reports/stale-inbound", m.operator, params={"days": 6}))

    assert report["days"] == 6 and report["total"] == 3
    assert [(g["seller_id"], g["notices"]) for g in report["by_seller"]] == [
        (m.sellers["a"], 2),
        (m.sellers["b"], 1),
    ]
    assert report["by_seller"][0]["oldest_shipped_at"] == old_a["shipped_at"]
    assert [(g["carrier_name"], g["notices"]) for g in report["by_carrier"]] == [
        ("Slow Freight", 2),
        ("SF Express", 1),
    ]
    assert [r["id"] for r in report["rows"]] == [old_a["id"], old_b["id"], later_a["id"]]
    assert [r["days_in_transit"] for r in report["rows"]] == [8, 7, 6]
    # a page at a time, oldest first
    first = m.ok(m.get("/reports/stale-inbound", m.operator, params={"days": 6, "limit": 2}))
    rest = m.ok(
        m.get(
            "/reports/stale-inbound",
            m.operator,
            params={"days": 6, "limit": 2, "cursor": first["next_cursor"]},
        )
    )
    assert [r["id"] for r in first["rows"] + rest["rows"]] == [r["id"] for r in report["rows"]]
    assert rest["next_cursor"] is None and rest["total"] == 3
    # the default is 7 days; only operators read it
    assert m.ok(m.get("/reports/stale-inbound", m.operator))["total"] == 2
    assert clock.now() - start == timedelta(days=8, hours=1)
    for token in (m.seller_tokens["a"], dock):
        assert m.get("/reports/stale-inbound", token).status_code == 403
    assert m.get("/reports/stale-inbound", m.operator, params={"days": 0}).status_code == 422


def test_a_notice_answers_a_confirmed_supply_order_and_receiving_serves_the_order(
    market: Market,
) -> None:
    # the Decision (O2 x M5): no stock → supply order → confirmed → ASN → received → reserved
    m = market
    seller = m.seller_tokens["a"]
    sku = sku_of(m, "a_full")
    order = m.place("a_full", quantity=2)
    (supply,) = m.ok(m.get("/supply-orders", seller, params={"store_id": m.stores["a_full"]}))
    assert supply["status"] == "awaiting_confirmation"
    warehouse = supply["warehouse_id"]  # the platform's warehouse that will ship the order

    # an unconfirmed supply order, another SKU or another warehouse are refused
    early = m.post(
        "/inbound-notices",
        seller,
        notice_body(m, warehouse, [(sku, 2)], supply_order_id=supply["id"]),
    )
    _refused(early, 409, "supply_order_id", "supply_not_confirmed")
    m.ok(m.post(f"/supply-orders/{supply['id']}/confirm", seller))
    red = add_sku(m, "a_full", "EAR-RED")
    wrong_sku = m.post(
        "/inbound-notices",
        seller,
        notice_body(m, warehouse, [(red, 2)], supply_order_id=supply["id"]),
    )
    _refused(wrong_sku, 422, "lines.0.sku_id", "supply_order_sku")
    elsewhere = make_warehouse(m, name="Yiwu")["id"]
    wrong_place = m.post(
        "/inbound-notices",
        seller,
        notice_body(m, elsewhere, [(sku, 2)], supply_order_id=supply["id"]),
    )
    _refused(wrong_place, 422, "supply_order_id", "supply_order_warehouse")

    # when the notice for it is sent, the supply order is in transit
    notice = sent(m, warehouse, [(sku, 2)], supply_order_id=supply["id"])
    assert notice["supply_order_id"] == supply["id"]
    assert m.ok(m.get(f"/supply-orders/{supply['id']}", seller))["status"] == "in_transit"

    # and when the warehouse receives it, the waiting order's stock is held for it
    dock = staff(m, warehouse)
    m.ok(m.post(f"/inbound-notices/{notice['id']}/arrive", dock))
    counted = m.post(
        f"/inbound-notices/{notice['id']}/counts", dock, {"counts": [{"sku_id": sku, "good": 2}]}
    )
    assert m.ok(counted)["status"] == "receiving"
    assert m.ok(m.post(f"/inbound-notices/{notice['id']}/close", dock))["status"] == "received"
    (fo,) = m.ok(m.get(f"/orders/{order['id']}/fulfilment-orders", seller))
    assert fo["status"] == "reserved"
    assert stock(m, warehouse, sku) == {
        "on_hand": 2,
        "reserved": 2,
        "available": 0,
        "defective": 0,
        "inbound": 0,
    }


def test_the_cli_prints_carton_labels_and_the_stale_report(
    market: Market, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # R1 (carton labels), R4 (stale inbound), from the command line
    monkeypatch.setenv("TUOGUAN_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    m = market
    warehouse = make_warehouse(m)["id"]
    notice = sent(m, warehouse, [(sku_of(m, "a_full"), 3)], cartons=4, carrier="Slow Freight")
    target = tmp_path / "cartons.pdf"

    printed = runner.invoke(app, ["inbound", "labels", notice["id"], "--out", str(target)])

    assert printed.exit_code == 0, printed.output
    assert len(PdfReader(target).pages) == 4
    missing = runner.invoke(
        app, ["inbound", "labels", "asn_01JAAAAAAAAAAAAAAAAAAAAAAA", "--out", str(target)]
    )
    assert missing.exit_code == 1

    # the CLI reads the real clock: the notice was shipped at the test's frozen time, days ago
    shipped = datetime.fromisoformat(notice["shipped_at"])
    days = (datetime.now(UTC) - shipped).days - 1
    if days < 1:
        pytest.skip("the machine's clock is behind the test's frozen clock")
    report = runner.invoke(app, ["inbound", "stale", "--days", str(days)])
    assert report.exit_code == 0, report.output
    assert "Slow Freight" in report.output and notice["id"] in report.output
    assert "Seller a" in report.output

"""A store's statement over the API (issue 14), on both engines: JSON, CSV and PDF with their real
content types, declared in the OpenAPI document; a seller reads its own stores' (another's is
not found), operators any; each bad query is a problem naming the field and the rule."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.api.test_ledger_api import _post
from tests.builders.market import Market, auth, issue_token
from tuoguan.ledger.kinds import EntryKind as K
from tuoguan.principal import Role

PROBLEM = "application/problem+json"
PATH = "/stores/{store_id}/statement"


@pytest.fixture
def moved(market: Market) -> dict[str, Any]:
    """Seller a's self-run store: a sale, a fee and a penalty in November 2026 (Shanghai)."""
    m = market
    order = m.place("a_self")["id"]
    store = m.stores["a_self"]
    common = {"currency": "USD", "store_id": store}
    sale = _post(
        m,
        K.sale_commissioned,
        1,
        parts={"net": 9000, "commission": 1000},
        subject=("order", order),
        **common,
    )
    _post(m, K.shipping_fee_charged, 2, parts={"amount": 150}, subject=("order", order), **common)
    _post(
        m,
        K.penalty_charged,
        3,
        parts={"amount": 400},
        subject=("penalty", "pen_01KAPISTATEMENTPENALTY00001"),
        **common,
    )
    return {"store": store, "order": order, "sale": sale.id}


def _statement(m: Market, token: str, store: str, **params: Any) -> Any:
    return m.get(PATH.format(store_id=store), token, params=params)


def test_the_statement_comes_as_json_csv_and_pdf(market: Market, moved: dict[str, Any]) -> None:
    # issue 14: opening + lines = closing, each line linked to what it is about
    m, store = market, moved["store"]
    for token in (m.seller_tokens["a"], m.operator):
        answer = _statement(m, token, store, period="2026-11")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/json"
        body = answer.json()
        assert (body["store_id"], body["currency"], body["period"]) == (store, "USD", "2026-11")
        assert body["timezone"] == "Asia/Shanghai"
        assert body["start"].startswith("2026-10-31T16:00:00")
        assert body["end"].startswith("2026-11-30T16:00:00")
        assert [(x["kind"], x["amount_minor"], x["balance_minor"]) for x in body["lines"]] == [
            ("sale_commissioned", 9000, 9000),
            ("shipping_fee_charged", -150, 8850),
            ("penalty_charged", -400, 8450),
        ]
        assert (body["opening_minor"], body["closing_minor"]) == (0, 8450)
        assert (body["money_in_minor"], body["money_out_minor"]) == (9000, -550)
        first = body["lines"][0]
        assert (first["entry_id"], first["subject_type"], first["subject_id"]) == (
            moved["sale"],
            "order",
            moved["order"],
        )
        assert first["order_id"] == moved["order"] and first["reversal"] is False
        penalty = body["lines"][2]
        assert (penalty["subject_type"], penalty["order_id"]) == ("penalty", None)

    # the month after opens where this one closed; an instant range says no period
    december = _statement(m, m.operator, store, period="2026-12").json()
    assert (december["opening_minor"], december["closing_minor"], december["lines"]) == (
        8450,
        8450,
        [],
    )
    ranged = _statement(
        m, m.operator, store, start="2026-11-18T09:01:30+08:00", end="2026-11-19T00:00:00Z"
    ).json()
    assert ranged["period"] is None and ranged["opening_minor"] == 9000
    assert [x["kind"] for x in ranged["lines"]] == ["shipping_fee_charged", "penalty_charged"]
    # neither form: this month, on the app's clock, in the store's zone
    now = _statement(m, m.operator, store).json()
    assert (now["period"], now["closing_minor"]) == ("2026-11", 8450)
    euros = _statement(m, m.operator, store, period="2026-11", currency="eur").json()
    assert (euros["currency"], euros["closing_minor"], euros["lines"]) == ("EUR", 0, [])

    # CSV in the request's language, and a PDF
    answer = m.client.get(
        f"/api/v1/stores/{store}/statement",
        params={"period": "2026-11", "format": "csv"},
        headers={**auth(m.seller_tokens["a"]), "Accept-Language": "zh-CN"},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["对账单", "a self"]
    assert [row[5] for row in rows if row and row[0] == "期末余额"] == ["84.50"]
    answer = _statement(m, m.seller_tokens["a"], store, period="2026-11", format="pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")


def test_another_sellers_store_is_not_found_and_other_roles_are_refused(
    market: Market, moved: dict[str, Any]
) -> None:  # issue 14: each role sees only its own data
    m, store = market, moved["store"]
    for fmt in ("json", "csv", "pdf"):
        answer = _statement(m, m.seller_tokens["b"], store, period="2026-11", format=fmt)
        assert answer.status_code == 404, answer.text
        assert answer.headers["content-type"] == PROBLEM
        assert answer.json()["field"] == "store_id"
    assert _statement(m, m.operator, "sto_nothing", period="2026-11").status_code == 404
    warehouse = issue_token(m.db_url, Role.warehouse, warehouse_ids=[m.platform_warehouse])
    for token in (m.channel, m.carrier, warehouse):
        answer = _statement(m, token, store, period="2026-11")
        assert answer.status_code == 403 and answer.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({"period": "2026-13"}, "period", "year_month"),
        ({"period": "Nov-26"}, "period", "year_month"),
        (
            {"period": "2026-11", "start": "2026-11-01T00:00:00Z", "end": "2026-12-01T00:00:00Z"},
            "period",
            "period_or_range",
        ),
        ({"start": "2026-11-01T00:00:00Z"}, "end", "required_with_start"),
        ({"end": "2026-11-01T00:00:00Z"}, "start", "required_with_end"),
        ({"start": "2026-12-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"}, "end", "after_start"),
        ({"start": "2025-01-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"}, "end", "max_days"),
        ({"start": "2026-11-01T00:00:00", "end": "2026-12-01T00:00:00Z"}, "start", None),
        ({"start": "1200-01-01T00:00:00Z", "end": "1200-02-01T00:00:00Z"}, "start", "year_range"),
        ({"period": "2026-11", "currency": "XYZ"}, "currency", "iso_4217"),
        ({"period": "2026-11", "currency": "dollars"}, "currency", None),
        ({"period": "2026-11", "format": "docx"}, "format", None),
    ],
)
def test_bad_queries_are_problems_naming_the_field_and_the_rule(
    market: Market, params: dict[str, str], field: str, rule: str | None
) -> None:  # issue 14, bad input
    answer = _statement(market, market.operator, market.stores["a_self"], **params)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["field"] == field and problem["rule"]
    if rule is not None:
        assert problem["rule"] == rule


def test_the_openapi_document_declares_every_answer(market: Market) -> None:  # issue 14
    document = market.client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1" + PATH]["get"]
    responses = operation["responses"]
    assert set(responses["200"]["content"]) == {"application/json", "text/csv", "application/pdf"}
    assert responses["200"]["content"]["application/pdf"]["schema"]["format"] == "binary"
    assert {"401", "403", "404", "422", "429"} <= set(responses)
    assert operation["x-roles"] == ["operator", "seller"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"period", "start", "end", "currency", "format"} <= names

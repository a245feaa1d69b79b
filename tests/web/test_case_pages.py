"""Cases in the console (R2, R3, G4, G7): the list and a case's page read as words in both
languages; the dock raises a case from a discrepancy; a refused decision is explained beside
its field and changes nothing; another seller, another warehouse's staff and a seller posting
a decision are kept out."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders.inbound import count, draft, receiving_setup, sent, staff
from tests.builders.market import Market, create_console_user
from tests.builders.money import entry_count
from tests.web.test_console_http import _csrf, _login
from tests.web.test_list_pages import _clean, _page
from tuoguan.principal import Role

CASES = "/console/cases"


@pytest.fixture
def raised(client: TestClient, market: Market) -> dict[str, Any]:
    """A notice closed 3 units short at a warehouse whose dock has a console login; the dock
    raises its case from the receiving screen."""
    m = market
    warehouse, dock, sku = receiving_setup(m)
    notice = sent(m, warehouse, [(sku, 10)])
    m.ok(m.post(f"/inbound-notices/{notice['id']}/arrive", dock))
    m.ok(count(m, dock, notice["id"], {"sku_id": sku, "good": 7}))
    closed = m.ok(m.post(f"/inbound-notices/{notice['id']}/close", dock))
    (short,) = closed["discrepancies"]
    for email, role, seller in (
        ("op@example.com", Role.operator, None),
        ("a@example.com", Role.seller, m.sellers["a"]),
        ("b@example.com", Role.seller, m.sellers["b"]),
    ):
        create_console_user(m.db_url, email, role, seller)
    create_console_user(m.db_url, "dock@example.com", Role.warehouse, warehouse_ids=[warehouse])
    other = receiving_setup(m)[0]
    create_console_user(m.db_url, "far@example.com", Role.warehouse, warehouse_ids=[other])
    assert _login(client, "dock@example.com") == 303
    screen = _page(client, f"/console/warehouse/receiving/{notice['id']}")
    assert 'data-testid="raise-case-form"' in screen
    answer = client.post(
        CASES,
        data={
            "csrf": _csrf(screen),
            "notice_id": notice["id"],
            "discrepancy_id": short["id"],
            "summary": "carton 2 is 3 units short",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    case_url = answer.headers["location"].split("?")[0]
    # the screen now links the discrepancy to its case instead of offering another
    screen = _page(client, f"/console/warehouse/receiving/{notice['id']}")
    assert 'data-testid="case-link"' in screen and 'data-testid="raise-case-form"' not in screen
    client.post("/logout", data={"csrf": _csrf(screen)})
    return {"url": case_url, "notice": notice["id"], "dock": dock, "staff": staff}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_list_and_the_case_read_as_words(
    client: TestClient, raised: dict[str, Any], lang: str
) -> None:  # R3 G7
    assert _login(client, "op@example.com") == 303
    listed = _clean(_page(client, CASES, lang))
    shown = _clean(_page(client, raised["url"], lang))
    if lang == "en":
        assert "Receiving exception" in listed and "checking the information" in listed
        assert "carton 2 is 3 units short" in shown and "Warehouse" in shown
    else:
        assert "收货异常" in listed and "核对信息" in listed
        assert "仓库" in shown and "作出裁决" in shown


def test_a_refused_decision_is_explained_beside_its_field_and_posts_nothing(
    client: TestClient, market: Market, raised: dict[str, Any]
) -> None:  # R3
    assert _login(client, "op@example.com") == 303
    page = _page(client, raised["url"])
    before = entry_count(market.db_url)
    refused = client.post(
        raised["url"] + "/decision",
        data={
            "csrf": _csrf(page),
            "decision": "compensate",
            "bearer": "seller",
            "amount": "12.00",
            "reason": "x",
        },
    )
    assert refused.status_code == 422
    assert 'data-problem="bearer"' in refused.text
    assert entry_count(market.db_url) == before
    wrong_amount = client.post(
        raised["url"] + "/decision",
        data={
            "csrf": _csrf(page),
            "decision": "compensate",
            "bearer": "platform",
            "amount": "twelve",
            "reason": "x",
        },
    )
    assert wrong_amount.status_code == 422 and 'data-problem="amount"' in wrong_amount.text


def test_other_sellers_other_warehouses_and_sellers_deciding_are_kept_out(
    client: TestClient, raised: dict[str, Any]
) -> None:  # R3
    for email in ("b@example.com", "far@example.com"):
        assert _login(client, email) == 303
        assert client.get(raised["url"]).status_code == 404
        assert raised["url"].rsplit("/", 1)[1] not in client.get(CASES).text
        client.cookies.clear()
    assert _login(client, "a@example.com") == 303
    page = _page(client, raised["url"])
    assert 'data-testid="decision-form"' not in page and 'data-testid="evidence-form"' in page
    refused = client.post(
        raised["url"] + "/decision",
        data={"csrf": _csrf(page), "decision": "accept_counts", "reason": "mine"},
    )
    assert refused.status_code == 403


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_reports_draw_their_charts_for_operators_only(
    client: TestClient, raised: dict[str, Any], lang: str
) -> None:  # R4 G4
    assert _login(client, "op@example.com") == 303
    page = _page(client, "/console/cases/reports", lang)
    assert 'data-testid="receiving-chart"' in page and 'data-testid="dispute-chart"' in page
    text = _clean(page)
    assert ("Seller a" in text and "100%" in text) if lang == "en" else "收货异常率" in text
    client.cookies.clear()
    assert _login(client, "a@example.com") == 303
    assert client.get("/console/cases/reports").status_code == 403


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_seller_reads_what_to_check_before_sending_a_notice(
    client: TestClient, market: Market, raised: dict[str, Any], lang: str
) -> None:  # R4
    m = market
    warehouse, _dock, sku = receiving_setup(m)
    notice = draft(m, warehouse, [(sku, 2)], cartons=3)
    assert _login(client, "a@example.com") == 303
    page = _page(client, f"/console/inbound/{notice['id']}", lang)
    start = page.index('data-testid="pre-send-checks"')
    text = _clean(page[start : page.index("</div>", start)])
    if lang == "en":
        assert "3 cartons for 2 units" in text and "Count each carton" in text
    else:
        assert "箱数多于件数" in text and "逐箱清点" in text

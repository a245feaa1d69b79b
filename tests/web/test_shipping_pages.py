"""Console pages for logistics services, route rules and an order's shipping options (F5, F8)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.builders.karrio import FEDEX_ACCOUNT, Recorded, connect_fedex, fedex  # noqa: F401
from tests.builders.market import Market, create_console_user
from tests.builders.shipping import add_product, install_catalog, place_with
from tests.web.test_console_http import _csrf, _login
from tuoguan.principal import Role


def test_an_operator_adds_and_retires_a_route_rule_and_bad_rules_are_refused(
    client: TestClient, market: Market
) -> None:  # F5
    install_catalog(market, rules=False)
    create_console_user(market.db_url, "op@example.com", Role.operator)
    assert _login(client, "op@example.com") == 303
    page = client.get("/console/logistics")
    assert page.status_code == 200 and 'data-service="TG-EXPRESS"' in page.text
    assert "USD v1" in page.text and "EUR v1" in page.text
    form = {
        "csrf": _csrf(page.text),
        "position": "5",
        "name": "No perfume to Poland",
        "effect": "deny",
        "countries": "PL",
        "categories": "liquid",
    }
    added = client.post("/console/logistics/rules", data=form, follow_redirects=False)
    assert added.status_code == 303
    page = client.get("/console/logistics").text
    assert "No perfume to Poland" in page and "countries=PL" in page
    inverted = client.post(
        "/console/logistics/rules",
        data={**form, "min_weight_g": "500", "max_weight_g": "100"},
    )
    assert (
        inverted.status_code == 422 and "max_weight_g must be above min_weight_g" in inverted.text
    )
    rule_id = page.split('data-rule="')[1].split('"')[0]
    retired = client.post(
        f"/console/logistics/rules/{rule_id}/delete",
        data={"csrf": _csrf(page)},
        follow_redirects=False,
    )
    assert retired.status_code == 303
    assert "No perfume to Poland" not in client.get("/console/logistics").text


def test_a_seller_reads_rules_but_cannot_add_them(client: TestClient, market: Market) -> None:
    # F5
    install_catalog(market)
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"])
    assert _login(client, "a@example.com") == 303
    page = client.get("/console/logistics").text
    assert "No batteries in any other service" in page and 'data-testid="rule-form"' not in page
    form = {"csrf": _csrf(page), "position": "1", "name": "mine", "effect": "allow"}
    assert client.post("/console/logistics/rules", data=form).status_code == 403


def test_a_seller_compares_services_for_an_order_with_reasons_for_refusals(
    client: TestClient, market: Market
) -> None:  # F8 step 2, F5, G1
    install_catalog(market)
    battery = add_product(market, "a_self")
    order = place_with(market, "a_self", battery)
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"])
    create_console_user(market.db_url, "b@example.com", Role.seller, market.sellers["b"])
    assert _login(client, "a@example.com") == 303
    detail = client.get(f"/console/orders/{order['id']}").text
    assert f'href="/console/orders/{order["id"]}/ship"' in detail
    page = client.get(f"/console/orders/{order['id']}/ship").text
    assert 'data-option="TG-EXPRESS" data-allowed="yes"' in page
    assert 'data-option="TG-STANDARD" data-allowed="no"' in page
    assert "No batteries in any other service" in page and "Fuel surcharge" in page
    heavy = client.get(
        f"/console/orders/{order['id']}/ship",
        params={"weight_g": "80000", "length_mm": "100", "width_mm": "100", "height_mm": "100"},
    ).text
    assert 'data-option="TG-EXPRESS" data-allowed="no"' in heavy and "80000 g" in heavy
    partial = client.get(f"/console/orders/{order['id']}/ship", params={"weight_g": "100"})
    assert partial.status_code == 422 and "length_mm" in partial.text
    assert _login(client, "b@example.com") == 303
    assert client.get(f"/console/orders/{order['id']}/ship").status_code == 404


def test_operators_see_each_carrier_account_and_how_its_events_arrive(
    client: TestClient, market: Market
) -> None:  # F9
    market.ok(market.post("/carrier-accounts", market.operator, FEDEX_ACCOUNT), 201)
    create_console_user(market.db_url, "op@example.com", Role.operator)
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"])
    assert _login(client, "op@example.com") == 303
    page = client.get("/console/logistics").text
    row = page.split('data-carrier="fedex"')[1].split("</tr>")[0]
    assert "karrio · fedex" in row and "polled every 30 min" in row
    assert "recorded-secret-key" not in page
    client.post("/logout", data={"csrf": _csrf(page)})
    # a seller sees the services but not the carrier accounts
    assert _login(client, "a@example.com") == 303
    assert 'data-carrier="fedex"' not in client.get("/console/logistics").text


def test_an_operator_checks_the_carriers_prices_beside_the_quotes(
    client: TestClient,
    market: Market,
    fedex: Recorded,  # noqa: F811
) -> None:  # G1
    connect_fedex(market)
    fedex.answer("POST", "/rate/v1/rates/quotes", "rate_quoted.json")
    order = market.place("a_self")
    create_console_user(market.db_url, "op@example.com", Role.operator)
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"])
    assert _login(client, "op@example.com") == 303
    page = client.get(f"/console/orders/{order['id']}/ship").text
    assert 'data-testid="rate-check"' in page and 'data-testid="carrier-price"' not in page
    checked = client.get(f"/console/orders/{order['id']}/ship?check=1").text
    fedex_option = checked.split('data-option="TG-FEDEX-IP"')[1].split("</section>")[0]
    assert "$71.15" in fedex_option and "differs by" in fedex_option
    express = checked.split('data-option="TG-EXPRESS"')[1].split("</section>")[0]
    assert "no active carrier account sandbox" in express
    client.post("/logout", data={"csrf": _csrf(checked)})
    # a seller has no rate check, and asking for one asks no carrier
    assert _login(client, "a@example.com") == 303
    asked = len(fedex.sent)
    seller_page = client.get(f"/console/orders/{order['id']}/ship?check=1").text
    assert 'data-testid="rate-check"' not in seller_page
    assert 'data-testid="carrier-price"' not in seller_page and len(fedex.sent) == asked


def test_an_operator_types_a_value_band_in_money_not_minor_units(
    client: TestClient, market: Market
) -> None:  # F5
    install_catalog(market, rules=False)
    create_console_user(market.db_url, "op@example.com", Role.operator)
    assert _login(client, "op@example.com") == 303
    client.cookies.set("tg_lang", "en")
    page = client.get("/console/logistics").text
    assert "minor units" not in page
    form = {
        "csrf": _csrf(page),
        "position": "7",
        "name": "Valuable parcels travel tracked",
        "effect": "deny",
        "services": "TG-POST-SMALL",
        "min_value": "50",
    }
    no_currency = client.post("/console/logistics/rules", data=form)
    assert no_currency.status_code == 422 and "currency" in no_currency.text
    too_fine = client.post(
        "/console/logistics/rules", data={**form, "value_currency": "USD", "min_value": "0.001"}
    )
    assert too_fine.status_code == 422 and "at most 2 decimals" in too_fine.text
    added = client.post(
        "/console/logistics/rules",
        data={**form, "value_currency": "usd", "min_value": "49.99"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    (rule,) = market.ok(market.get("/route-rules", market.operator))
    assert rule["conditions"]["min_value_minor"] == 4999
    shown = client.get("/console/logistics").text
    assert "Declared value from $49.99" in shown and "4999" not in shown

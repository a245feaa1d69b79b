"""Console pages for logistics services, route rules and an order's shipping options (F5, F8)."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from tests.builders.karrio import FEDEX_ACCOUNT, Recorded, connect_fedex, fedex  # noqa: F401
from tests.builders.market import Market, create_console_user
from tests.builders.shipping import (
    SandboxHandle,
    add_product,
    connect_sandbox,
    install_catalog,
    place_with,
    set_senders,
)
from tests.web.test_console_http import _csrf, _login
from tuoguan.principal import Role


def _beside(page: str, field: str) -> str:
    """The error shown beside a form field."""
    return page.split(f'data-field="{field}">')[1].split("</p>")[0]


def test_an_operator_adds_and_retires_a_route_rule_and_bad_rules_are_refused(
    client: TestClient, market: Market
) -> None:  # F5
    install_catalog(market, rules=False)
    create_console_user(market.db_url, "op@example.com", Role.operator)
    assert _login(client, "op@example.com") == 303
    client.cookies.set("tg_lang", "en")
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
    added = client.post("/console/logistics/rules", data=form)
    # the page confirms, and says the rule's conditions in words
    assert added.status_code == 200 and "Rule “No perfume to Poland” added." in added.text
    page = added.text
    assert "To: Poland" in page and "Categories: liquid" in page
    inverted = client.post(
        "/console/logistics/rules",
        data={**form, "position": "6", "min_weight_g": "500", "max_weight_g": "100"},
    )
    assert inverted.status_code == 422
    assert _beside(inverted.text, "max_weight_g") == "“Weight under” must be above “weight from”."
    rule_id = page.split('data-rule="')[1].split('"')[0]
    retired = client.post(f"/console/logistics/rules/{rule_id}/delete", data={"csrf": _csrf(page)})
    assert retired.status_code == 200 and "Rule “No perfume to Poland” deleted." in retired.text
    assert f'data-rule="{rule_id}"' not in retired.text


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
    client.cookies.set("tg_lang", "en")
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
    assert "declared value from $49.99" in shown and "4999" not in shown


def _visible(page: str) -> str:
    """The page's text as a person reads it: no tags, no attribute values."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", text)


def test_ship_online_reads_in_chinese_with_names_money_and_no_ids(
    client: TestClient, market: Market
) -> None:  # F8, G1, G7
    install_catalog(market)
    battery = add_product(market, "a_self")
    order = place_with(market, "a_self", battery)
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"])
    assert _login(client, "a@example.com") == 303
    client.cookies.set("tg_lang", "zh-CN")
    page = client.get(f"/console/orders/{order['id']}/ship").text
    shown = _visible(page)
    # no rate-card ids, basis points or minor units; the order number is a copyable ref
    assert "rtc_" not in page and " bp" not in shown and "minor units" not in shown
    assert f'<code class="ref">{order["id"]}</code>' in page
    express = page.split('data-option="TG-EXPRESS"')[1].split("</section>")[0]
    assert "燃油附加费" in express and "的 20%" in express  # the fuel line: 20% of the freight
    assert "个工作日送达西班牙" in express
    standard = page.split('data-option="TG-STANDARD"')[1].split("</section>")[0]
    assert "物流线路规则第 20 条“No batteries in any other service”不允许" in standard
    # a parcel too heavy for every service says so per service, in Chinese
    heavy = client.get(
        f"/console/orders/{order['id']}/ship",
        params={"weight_g": "80000", "length_mm": "100", "width_mm": "100", "height_mm": "100"},
    ).text
    assert "包裹重 80000 g，此服务最多承运 70000 g。" in heavy
    assert 'data-testid="summary"' in heavy and "没有物流服务能承运此包裹" in heavy
    # a parcel half measured is refused beside the fields to fill, in the page's words
    partial = client.get(f"/console/orders/{order['id']}/ship", params={"weight_g": "100"})
    assert partial.status_code == 422
    assert (
        _beside(partial.text, "length_mm") == "请同时填写重量和长宽高，或者四项都留空，按商品估算。"
    )
    assert 'data-field="weight_g"' not in partial.text
    typo = client.get(
        f"/console/orders/{order['id']}/ship",
        params={"weight_g": "1.5kg", "length_mm": "1", "width_mm": "1", "height_mm": "1"},
    )
    assert typo.status_code == 422
    assert _beside(typo.text, "weight_g") == "重量须为 1 至 1000000 之间的整数（克）。"
    assert "Input should" not in typo.text and "Value error" not in typo.text
    # shipping refused says why in the page's words, above the options to choose again
    form = {"csrf": _csrf(page), "service_code": "TG-STANDARD"}
    no_sender = client.post(f"/console/ship/{order['id']}", data=form)
    assert no_sender.status_code == 422
    assert "店铺还没有发件地址，面单需要它" in no_sender.text and "data-option=" in no_sender.text
    set_senders(market)
    refused = client.post(f"/console/ship/{order['id']}", data=form)
    assert refused.status_code == 422
    error = refused.text.split('data-testid="error">')[1].split("</p>")[0]
    assert error.startswith("此服务不能承运该包裹：物流线路规则第 20 条“No batteries")


def test_insuring_a_cheap_parcel_says_why_and_offers_to_quote_without_insurance(
    client: TestClient, market: Market
) -> None:  # G3
    install_catalog(market)
    order = market.place("a_self")  # earbuds declared at $19.99
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"])
    assert _login(client, "a@example.com") == 303
    client.cookies.set("tg_lang", "zh-CN")
    measured = {"weight_g": "90", "length_mm": "100", "width_mm": "80", "height_mm": "40"}
    insured = client.get(
        f"/console/orders/{order['id']}/ship", params={**measured, "insure": "on"}
    ).text
    assert 'data-allowed="yes"' not in insured
    summary = insured.split('data-testid="summary"')[1].split("</div>")[0]
    assert "本包裹申报价值 US$19.99，物流险只承保申报价值高于 US$50.00 的包裹。" in summary
    assert (
        "物流险只承保申报价值高于 US$50.00 的包裹。" in insured.split('data-option="TG-EXPRESS"')[1]
    )
    # the way out: the same parcel quoted without insurance
    link = summary.split('data-testid="quote-uninsured"')[0].split('href="')[-1].split('"')[0]
    assert "insure" not in link and "weight_g=90" in link
    plain = client.get(link.replace("&amp;", "&")).text
    assert 'data-allowed="yes"' in plain and 'data-testid="summary"' not in plain


def test_route_rule_form_errors_are_said_beside_their_fields(
    client: TestClient, market: Market
) -> None:  # F5, G7
    install_catalog(market)
    create_console_user(market.db_url, "op@example.com", Role.operator)
    assert _login(client, "op@example.com") == 303
    client.cookies.set("tg_lang", "zh-CN")
    page = client.get("/console/logistics").text
    # services and stores are ticked by name: no store ids to type, no raw conditions
    assert "店铺 ID" not in page and "a self · " in page
    assert "sto_" not in _visible(page) and "{" not in _visible(page).split("物流线路规则")[1]
    assert "服务：国际快递 International express" in page  # rule 10's services, by name
    form = {"csrf": _csrf(page), "position": "20", "name": "Ask twice", "effect": "deny"}
    taken = client.post("/console/logistics/rules", data=form)
    assert taken.status_code == 409
    assert (
        _beside(taken.text, "position")
        == "第 20 条已有规则“No batteries in any other service”，请换一个未用的顺序号。"
    )
    assert 'value="Ask twice"' in taken.text  # what was typed stays
    unknown = client.post(
        "/console/logistics/rules",
        data={**form, "position": "21", "services": ["TG-EXPRESS", "TG-TELEPORT"]},
    )
    assert unknown.status_code == 422
    assert _beside(unknown.text, "services") == "没有这些物流服务：TG-TELEPORT。请从列表中勾选。"
    assert 'name="services" value="TG-EXPRESS" checked' in unknown.text
    for typed, field, said in (
        ({"position": "abc"}, "position", "顺序须为 0 至 1000000 的整数。"),
        (
            {"countries": "Spain"},
            "countries",
            "目的国请填写两位国家代码，用逗号分隔，例如 ES, FR。",
        ),
        ({"min_value": "50"}, "value_currency", "填写申报价值范围时，请填写币种，例如 USD。"),
        ({"value_currency": "USD", "min_value": "fifty"}, "min_value", "请输入金额，例如 49.99。"),
        (
            {"value_currency": "XYZ", "min_value": "5"},
            "value_currency",
            "币种须为三位货币代码，例如 USD。",
        ),
        (
            {"value_currency": "USD", "min_value": "50", "max_value": "10"},
            "max_value",
            "“申报价值低于”须大于“申报价值自”。",
        ),
    ):
        refused = client.post("/console/logistics/rules", data={**form, "position": "21", **typed})
        assert refused.status_code == 422, (typed, refused.status_code)
        assert _beside(refused.text, field) == said, typed
        assert "Value error" not in refused.text and "Input should" not in refused.text
    # every mistake is said at once, each beside its field
    both = client.post(
        "/console/logistics/rules",
        data={**form, "position": "21", "countries": "Spain", "min_value": "50"},
    )
    assert both.status_code == 422
    assert _beside(both.text, "countries").startswith("目的国请填写两位国家代码")
    assert _beside(both.text, "value_currency").startswith("填写申报价值范围时")
    # a rule for one store, by its name, reads back by name
    added = client.post(
        "/console/logistics/rules",
        data={**form, "position": "21", "store_ids": market.stores["b_self"], "countries": "es pl"},
    )
    assert added.status_code == 200 and "已添加规则“Ask twice”。" in added.text
    rule = added.text.split('class="new"')[1].split("</li>\n")[0]
    assert "店铺：b self" in rule and "目的国：西班牙、波兰" in rule
    assert market.stores["b_self"] not in _visible(added.text)


def test_a_live_parcel_stops_ship_online_and_the_409_is_in_the_readers_language(
    live_market: Market, sandbox_carrier: SandboxHandle, live_server: str
) -> None:  # F8, F10, G7
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    order = m.place("a_self")
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    with httpx.Client(base_url=live_server, timeout=30) as browser:
        assert _login(browser, "a@example.com") == 303
        browser.cookies.set("tg_lang", "zh-CN")
        ship_page = browser.get(f"/console/orders/{order['id']}/ship").text
        quote = ship_page.split('data-option="TG-POST-REG"')[1].split("</section>")[0]
        total = quote.split('name="expected_total_minor" value="')[1].split('"')[0]
        form = {"csrf": _csrf(ship_page), "service_code": "TG-POST-REG"}
        stale = browser.post(
            f"/console/ship/{order['id']}", data={**form, "expected_total_minor": "1"}
        )
        assert stale.status_code == 409
        assert "报价已变化（新的运费卡已生效），请查看下面的新报价后再发货。" in stale.text
        assert 'data-ship="TG-POST-REG"' in stale.text  # the new quotes, right there
        made = browser.post(
            f"/console/ship/{order['id']}",
            data={**form, "expected_total_minor": total},
            follow_redirects=False,
        )
        assert made.status_code == 303
        again = browser.get(f"/console/orders/{order['id']}/ship").text
        assert 'data-testid="live-parcel"' in again and "Sandbox carrier" in again
        assert "data-ship=" not in again  # nothing to ship twice
        twice = browser.post(
            f"/console/ship/{order['id']}", data={**form, "expected_total_minor": total}
        )
        assert twice.status_code == 409
        assert "此订单已有未取消的包裹" in twice.text and "already has" not in twice.text
        # a pickup window that is not a time is said in words, not Python's
        page = browser.get(f"/console/orders/{order['id']}").text
        shipment_id = page.split('data-shipment="')[1].split('"')[0]
        submitted = browser.post(
            f"/console/shipments/{shipment_id}/submit", data={"csrf": _csrf(page)}
        )
        assert submitted.status_code in (200, 303)
        bad = browser.post(
            f"/console/shipments/{shipment_id}/pickup",
            data={
                "csrf": _csrf(page),
                "window_from": "tomorrow",
                "window_until": "",
                "place": "门口",
            },
        )
        assert bad.status_code == 422
        assert "请填写揽收开始和结束的日期与时间。" in bad.text
        assert "isoformat" not in bad.text

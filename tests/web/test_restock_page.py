"""The seller's restock page (根据平台提示备货, M5) over plain HTTP: suggestions named by product
and warehouse (no ids), both languages, and the form that creates a draft inbound notice (R1)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.builders.market import Market
from tests.builders.stock import adjust, sku_of
from tests.web.test_fulfilment_pages import _problem, _reads_as_words, _seller


def _sold(m: Market) -> str:
    """10 units of seller a's full-managed SKU in the hub, 8 sold: 2 to send for 14 days."""
    sku = sku_of(m, "a_full")
    m.ok(adjust(m, m.platform_warehouse, sku, reason="opening stock", on_hand=10), 201)
    m.place("a_full", quantity=5)
    m.place("a_full", quantity=3)
    return sku


def _form(html: str) -> dict[str, str]:
    """The first suggestion group's form as the browser would post it, untouched."""
    form = html.split('data-testid="restock-group"', 1)[1].split("</form>", 1)[0]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    fields.update(re.findall(r'<input name="((?:line-\d+-qty|cartons))"[^>]*value="([^"]*)"', form))
    fields.update({name: "1" for name in re.findall(r'type="checkbox" name="([^"]+)"', form)})
    return fields


def test_a_seller_turns_suggestions_into_a_draft_notice(
    client: TestClient, market: Market
) -> None:  # M5, R1
    m = market
    sku = _sold(m)
    _seller(client, m)

    # when the seller opens the restock page (from the menu)
    assert 'href="/console/restock"' in client.get("/console/orders").text
    page = client.get("/console/restock")
    assert page.status_code == 200
    text = _reads_as_words(page.text, "en")
    # then the SKU is named by its product and its warehouse, with its sales and cover
    assert "Restock" in text and "Earbuds 耳机" in text and "优选仓 Dongguan hub" in text
    assert "0.27" in text and "7.5" in text and "Create inbound notice" in text
    # CSP strict: no inline script or style
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text) and " style=" not in page.text

    # a quantity of 0 is refused in words beside it, and nothing is created
    bad = {**_form(page.text), "line-0-qty": "0"}
    refused = client.post("/console/restock", data=bad)
    assert refused.status_code == 422 and "Earbuds" in refused.text
    assert _problem(refused.text, "line-0-qty") == "A quantity is a whole number of 1 or more."
    assert 'name="line-0-qty" type="number"' in refused.text and 'value="0"' in refused.text
    # so are cartons that are no number, beside the cartons
    boxes = client.post("/console/restock", data={**_form(page.text), "cartons": "a few"})
    assert boxes.status_code == 422 and _problem(boxes.text, "cartons") == "Cartons: 1 to 999."
    # and nothing ticked, above the group's table
    unticked = {k: v for k, v in _form(page.text).items() if not k.endswith("-pick")}
    none = client.post("/console/restock", data=unticked)
    assert none.status_code == 422 and _problem(none.text, "lines")
    assert m.ok(m.get("/inbound-notices", m.seller_tokens["a"])) == []
    # a forged form changes nothing
    assert client.post("/console/restock", data={**bad, "csrf": "x"}).status_code == 403

    # when the seller sends 6 instead of 2, in 2 cartons
    chosen = {**_form(page.text), "line-0-qty": "6", "cartons": "2"}
    done = client.post("/console/restock", data=chosen, follow_redirects=False)
    assert done.status_code == 303, done.text
    location = done.headers["location"]
    assert location.startswith("/console/inbound/")
    # then a draft notice holds that line, and its page opens
    (notice,) = m.ok(m.get("/inbound-notices", m.seller_tokens["a"]))
    assert location.split("?")[0] == f"/console/inbound/{notice['id']}"
    assert (notice["status"], notice["cartons"]) == ("draft", 2)
    assert [(li["sku_id"], li["expected"]) for li in notice["lines"]] == [(sku, 6)]
    assert client.get(location).status_code == 200

    # and in Chinese, with the refusal beside the field in Chinese too
    client.get("/lang/zh-CN")
    zh = _reads_as_words(client.get("/console/restock").text, "zh-CN")
    assert "备货建议" in zh and "生成入库单" in zh and "可售天数" in zh
    again = client.post("/console/restock", data={**_form(page.text), "line-0-qty": "-1"})
    assert _problem(again.text, "line-0-qty") == "数量须为 1 以上的整数。"
    _reads_as_words(again.text, "zh-CN")


def test_another_seller_sees_no_suggestions_of_others(
    client: TestClient, market: Market
) -> None:  # M5: scoping
    m = market
    _sold(m)
    _seller(client, m, "b")
    page = client.get("/console/restock")
    assert page.status_code == 200
    assert "Earbuds" not in page.text and "Nothing to restock" in _reads_as_words(page.text, "en")

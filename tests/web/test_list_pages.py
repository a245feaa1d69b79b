"""The console's lists say whose each row is and find what a person types (G7, O5, O2, F6, G5):
the orders, at-risk, breach and penalty pages show seller and store names and filter by them,
the order list searches, times read locally, money in its currency, words in the page's
language; a new policy version is confirmed and a bad one refused beside its field; operators do
not receive the notifications addressed to a seller."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html.parser import HTMLParser

from fastapi.testclient import TestClient

from tests.builders.market import ADDRESS, Market, create_console_user
from tests.builders.workers import sweep_once
from tests.web.test_console_http import _csrf, _login
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.kit.i18n import gettext
from tuoguan.principal import Role

TIERS = [
    {"from_hours": 0, "to_hours": 24, "rate_bp": 500, "rating_points": 1},
    {"from_hours": 24, "to_hours": None, "rate_bp": 1000, "rating_points": 3},
]
ID = re.compile(r"\b[a-z]{2,12}_[0-9A-HJKMNP-TV-Z]{26}\b")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
RAW_ENUM = re.compile(r"\b[a-z]+_[a-z]+(_[a-z]+)*\b")


class _Text(HTMLParser):
    """The text a person reads: no tags, attributes, scripts, nor the copyable refs."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self.skip or tag in ("script", "style", "option") or "ref" in classes:
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _rows(html: str, attribute: str = "data-order") -> list[str]:
    return re.findall(rf'<(?:tr|div)\b[^>]*\s{attribute}="([^"]+)"', html)


def _clean(html: str) -> str:
    """The page's words, checked for what a person must never read."""
    text = visible(html)
    assert not ID.search(text), ID.search(text)
    assert not ISO.search(text), ISO.search(text)
    assert "minor units" not in text
    return text


def _page(client: TestClient, url: str, lang: str = "en") -> str:
    client.cookies.set("tg_lang", lang)
    response = client.get(url)
    assert response.status_code == 200, response.text
    return response.text


def test_the_order_list_says_whose_each_order_is_filters_by_it_and_searches(
    client: TestClient, market: Market, clock: FrozenClock
) -> None:  # G7 O5
    m = market
    create_console_user(m.db_url, "op@example.com", Role.operator)
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    ana = m.place("a_semi", address={**ADDRESS, "name": "Ana Ruiz", "phone": "+34 600 111 222"})
    clock.advance(timedelta(minutes=5))
    bea = m.place("b_semi", address={**ADDRESS, "name": "Bea Gil", "phone": "+34 600 333 444"})
    clock.advance(timedelta(minutes=5))
    m.ok(
        m.post(
            f"/orders/{ana['id']}/ship",
            m.seller_tokens["a"],
            {"carrier_code": "cainiao", "tracking_number": "LP00777777777CN"},
        )
    )

    assert _login(client, "op@example.com") == 303
    page = _page(client, "/console/orders")
    text = _clean(page)
    assert set(_rows(page)) == {ana["id"], bea["id"]}
    assert "Seller / store" in text and "Seller a" in text and "a semi" in text
    assert "Seller b" in text and "b semi" in text
    assert f'<code class="ref">{ana["id"]}</code>' in page
    assert 'data-testid="seller-filter"' in page and 'data-testid="order-search"' in page
    # Narrowed to a seller, then to a store of it.
    only_b = _page(client, f"/console/orders?seller={m.sellers['b']}")
    assert _rows(only_b) == [bea["id"]] and f'value="{m.sellers["b"]}" selected' in only_b
    a_stores = _page(client, f"/console/orders?seller={m.sellers['a']}&store={m.stores['a_self']}")
    assert _rows(a_stores) == [] and "b semi" not in visible(a_stores)  # only a's stores offered
    # The search box: a tracking number as typed, a buyer's phone, an order number without
    # its prefix; what matches nothing says so.
    for typed in ("lp0077 7777 777cn", "+34 600 111 222", ana["id"].removeprefix("ord_")):
        found = _page(client, "/console/orders?" + f"q={typed}".replace("+", "%2B"))
        assert _rows(found) == [ana["id"]], typed
        assert "Results for" in visible(found) and "Clear search" in visible(found)
    nothing = _page(client, "/console/orders?q=Nobody", lang="zh-CN")
    assert _rows(nothing) == [] and "没有找到与「Nobody」完全一致的订单" in visible(nothing)
    chinese = _clean(_page(client, "/console/orders?q=Bea Gil", lang="zh-CN"))
    assert "「Bea Gil」的搜索结果" in chinese and "卖家 / 店铺" in chinese

    # A seller: its own orders, a store filter of its own stores, no seller filter, no names
    # of other sellers.
    assert _login(client, "a@example.com") == 303
    own = _page(client, "/console/orders")
    assert _rows(own) == [ana["id"]] and 'data-testid="seller-filter"' not in own
    assert 'data-testid="store-filter"' in own and "Seller b" not in own
    assert _rows(_page(client, f"/console/orders?store={m.stores['b_semi']}")) == [ana["id"]]
    assert _rows(_page(client, "/console/orders?q=Bea Gil")) == []


def _breached(
    client: TestClient, m: Market, clock: FrozenClock, settings: Settings
) -> dict[str, str]:
    """A policy, an order in each of three stores of two sellers, and their ship deadlines
    missed: breaches and penalties."""
    m.ok(m.post("/penalty-policies", m.operator, {"kind": "ship_late", "tiers": TIERS}), 201)
    placed = {key: m.place(key)["id"] for key in ("a_semi", "a_self", "b_semi")}
    clock.advance(timedelta(days=6))
    sweep_once(client, clock, settings)
    sweep_once(client, clock, settings)
    return placed


def test_breaches_and_penalties_show_names_money_and_local_times_and_filter_by_store(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # G7 O2 F6
    m = market
    create_console_user(m.db_url, "op@example.com", Role.operator)
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    placed = _breached(client, m, clock, settings)

    assert _login(client, "op@example.com") == 303
    for lang in ("en", "zh-CN"):
        page = _page(client, "/console/breaches", lang)
        text = _clean(page)
        assert len(_rows(page, "data-breach")) == 3
        assert "Seller a" in text and "a self" in text and "Seller b" in text
        assert not RAW_ENUM.search(text), RAW_ENUM.search(text)
        assert gettext(lang, "ship_late") in text  # the kind in words
        for order_id in placed.values():
            assert f'<code class="ref">{order_id}</code>' in page
    store = _page(client, f"/console/breaches?store={m.stores['a_self']}")
    assert placed["a_self"] in store and placed["a_semi"] not in store
    seller = _page(client, f"/console/breaches?seller={m.sellers['b']}")
    assert placed["b_semi"] in seller and placed["a_self"] not in seller

    penalties = _page(client, "/console/penalties")
    text = _clean(penalties)
    assert len(_rows(penalties, "data-penalty")) == 3
    assert "€" in text and "$" in text  # the EUR store's fine and the USD store's
    assert "Seller a" in text and "b semi" in text and "rules version 1, tier 2" in text
    assert not RAW_ENUM.search(text), RAW_ENUM.search(text)
    by_store = _page(client, f"/console/penalties?store={m.stores['b_semi']}&status=assessed")
    assert _rows(by_store, "data-penalty") and placed["b_semi"] in by_store
    assert placed["a_semi"] not in by_store
    chinese = _clean(_page(client, "/console/penalties", "zh-CN"))
    assert "第 1 版规则 · 第 2 档" in chinese and gettext("zh-CN", "ship_late") in chinese
    assert "定罚于" in chinese

    # A seller's own, narrowed to one of its stores; appeal refused without a reason, in words.
    assert _login(client, "a@example.com") == 303
    own = _page(client, "/console/penalties")
    assert placed["b_semi"] not in own and "Seller a" not in visible(own)  # its own name: no
    mine = _page(client, f"/console/penalties?store={m.stores['a_semi']}")
    assert placed["a_semi"] in mine and placed["a_self"] not in mine
    pid = _rows(mine, "data-penalty")[0]
    client.cookies.set("tg_lang", "zh-CN")
    empty = client.post(
        f"/console/penalties/{pid}/appeal", data={"csrf": _csrf(mine), "reason": "  "}
    )
    assert empty.status_code == 422 and "请填写原因。" in empty.text
    sent = client.post(
        f"/console/penalties/{pid}/appeal", data={"csrf": _csrf(mine), "reason": "typhoon"}
    )
    assert sent.status_code == 200 and "申诉已提交" in sent.text
    again = client.post(
        f"/console/penalties/{pid}/appeal", data={"csrf": _csrf(mine), "reason": "typhoon"}
    )
    assert again.status_code == 409 and "当前状态下不能进行此操作" in again.text


def test_the_at_risk_page_gives_reasons_and_time_left_in_the_readers_words(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # G7 G5
    m = market
    create_console_user(m.db_url, "op@example.com", Role.operator)
    order = m.place("a_semi")
    b_order = m.place("b_semi")
    placed, ship_by = (datetime.fromisoformat(order[k]) for k in ("placed_at", "ship_by"))
    clock.current = placed + (ship_by - placed) * 0.8
    sweep_once(client, clock, settings)

    assert _login(client, "op@example.com") == 303
    chinese = _page(client, "/console/at-risk", "zh-CN")
    text = _clean(chinese)
    assert order["id"] in chinese and "仍未完成" in text and "还剩" in text
    assert "发货截止" in text  # the deadline's name
    assert "Seller a" in text and "a semi" in text
    assert "window" not in text and "deadline" not in text  # no English reasons
    english = _page(client, "/console/at-risk")
    assert "is gone and the work is not done" in _clean(english) and "data-countdown" in english
    only_b = _page(client, f"/console/at-risk?seller={m.sellers['b']}")
    assert _rows(only_b) == [b_order["id"]]


def test_a_new_policy_version_is_confirmed_and_a_bad_one_refused_beside_its_field(
    client: TestClient, market: Market
) -> None:  # G7 F6
    create_console_user(market.db_url, "op@example.com", Role.operator)
    assert _login(client, "op@example.com") == 303
    page = _page(client, "/console/policies", "zh-CN")
    form = {"csrf": _csrf(page), "kind": "ship_late", "tiers": "0,24,5,1\n24,,12.5%,3"}
    added = client.post("/console/policies", data=form)  # followed to the page
    assert added.status_code == 200
    text = _clean(added.text)
    assert f"已添加{gettext('zh-CN', 'ship_late')}规则第 1 版" in text
    assert "12.5%" in text and "24 小时及以上" in text
    english = _clean(_page(client, "/console/policies"))
    assert "version 1" in english and "0–24 hours" in english and "in force" in english

    client.cookies.set("tg_lang", "zh-CN")
    overlap = client.post("/console/policies", data={**form, "tiers": "0,24,5,1\n12,,9,2"})
    assert overlap.status_code == 422
    beside = re.search(r'<p class="field-error" data-field="tiers">([^<]+)</p>', overlap.text)
    assert beside and "第 2 行：与上一档重叠" in beside.group(1)
    assert "overlap" not in visible(overlap.text)  # never the service's English
    past = client.post("/console/policies", data={**form, "effective_from": "2020-01-01T00:00"})
    assert past.status_code == 422
    assert 'data-field="effective_from">生效时间不能早于现在' in past.text
    junk = client.post("/console/policies", data={**form, "effective_from": "soon"})
    assert junk.status_code == 422 and 'data-field="effective_from">请选择日期和时间' in junk.text
    rate = client.post("/console/policies", data={**form, "tiers": "0,,150,1"})
    assert rate.status_code == 422 and "第 1 行：超出范围" in rate.text
    assert "Value error" not in rate.text and "less than or equal" not in rate.text
    assert _page(client, "/console/policies").count("data-policy=") == 1


def test_operators_do_not_receive_what_is_addressed_to_a_seller(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O2 G7
    m = market
    create_console_user(m.db_url, "op@example.com", Role.operator)
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    order = m.place("a_semi")
    clock.advance(timedelta(days=3))
    sweep_once(client, clock, settings)  # the ship deadline missed: seller a is told

    def subjects(token: str) -> list[str]:
        return [n["subject_id"] for n in m.ok(m.get("/notifications", token))]

    assert order["id"] in subjects(m.seller_tokens["a"])
    assert order["id"] not in subjects(m.operator)
    assert order["id"] not in subjects(m.seller_tokens["b"])
    assert all(n["seller_id"] is None for n in m.ok(m.get("/notifications", m.operator)))

    assert _login(client, "a@example.com") == 303
    assert order["id"] in _page(client, "/console/notifications")
    assert _login(client, "op@example.com") == 303
    assert order["id"] not in _page(client, "/console/notifications")

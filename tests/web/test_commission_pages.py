"""The commission rates page (M3, G7): operators see every version per category with its
standing and add the next one, its rate typed in percent; a refused form says why beside the
field in the page's language and changes nothing; sellers read the rates they sell at but
cannot add one. Reached from the penalty policies page."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from tests.builders.market import Market, create_console_user
from tests.web.test_console_http import _csrf, _login
from tests.web.test_list_pages import RAW_ENUM, _clean, _page, visible
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role
from tuoguan.web.commission_pages import rate_bp
from tuoguan.web.forms import FormProblem

PAGE = "/console/commission-rates"


def _local(clock: FrozenClock, hours: int) -> str:
    """A start ``hours`` from now as the form's datetime-local, in China time."""
    at = clock.now().astimezone(ZoneInfo("Asia/Shanghai")) + timedelta(hours=hours)
    return at.strftime("%Y-%m-%dT%H:%M")


def _beside(html: str, field: str) -> str:
    match = re.search(rf'data-problem="{field}">([^<]+)</p>', html)
    assert match, visible(html)
    return match.group(1)


def test_rates_are_typed_in_percent_with_up_to_two_decimals() -> None:  # M3
    assert rate_bp("8") == 800
    assert rate_bp("8.5") == 850
    assert rate_bp(" 12.25% ") == 1225
    assert rate_bp("100") == 10000
    for bad in ("8.125", "100.01", "-1", "", "eight", "NaN", "Infinity"):
        try:
            rate_bp(bad)
        except FormProblem as problem:
            assert problem.field == "rate"
        else:
            raise AssertionError(bad)


def test_an_operator_adds_a_version_and_sees_it_with_its_standing(
    client: TestClient, market: Market, clock: FrozenClock
) -> None:  # M3 G7
    create_console_user(market.db_url, "op@example.com", Role.operator)
    assert _login(client, "op@example.com") == 303
    policies = _page(client, "/console/policies", "zh-CN")
    assert f'href="{PAGE}"' in policies and "佣金费率" in visible(policies)

    page = _page(client, PAGE, "zh-CN")
    form = {"csrf": _csrf(page), "category": "electronics/audio", "rate": "8.5"}
    added = client.post(PAGE, data=form)  # now: followed to the page
    assert added.status_code == 200
    text = _clean(added.text)
    assert "已添加佣金费率第 1 版" in text and "8.5%" in text and "生效中" in text
    later = client.post(PAGE, data={**form, "rate": "6", "effective_from": _local(clock, 2)})
    assert later.status_code == 200
    assert "已添加佣金费率第 2 版" in visible(later.text)

    english = _clean(_page(client, PAGE))
    assert "Commission rates" in english
    assert "8.5%" in english and "6%" in english
    assert "in force" in english and "scheduled" in english
    assert not RAW_ENUM.search(english), RAW_ENUM.search(english)
    assert len(re.findall(r'<tr data-rate="', _page(client, PAGE))) >= 2

    clock.advance(timedelta(hours=3))  # the session lasts 12 hours
    english = _clean(_page(client, PAGE))
    assert "superseded" in english and "scheduled" not in english


def test_a_refused_form_says_why_beside_its_field_and_changes_nothing(
    client: TestClient, market: Market, clock: FrozenClock
) -> None:  # M3 G7
    create_console_user(market.db_url, "op@example.com", Role.operator)
    assert _login(client, "op@example.com") == 303
    page = _page(client, PAGE, "zh-CN")
    form = {
        "csrf": _csrf(page),
        "category": "toys",
        "rate": "5",
        "effective_from": _local(clock, 48),
    }
    assert client.post(PAGE, data=form).status_code == 200
    before = _page(client, PAGE).count("<tr data-rate=")

    for lang, words in (
        ("zh-CN", ("最多两位小数", "不能早于现在", "须晚于上一版", "小写字母")),
        (
            "en",
            ("at most two decimals", "cannot start in the past", "after the version", "lowercase"),
        ),
    ):
        client.cookies.set("tg_lang", lang)
        decimals = client.post(PAGE, data={**form, "rate": "8.125"})
        assert decimals.status_code == 422 and words[0] in _beside(decimals.text, "rate")
        assert 'value="8.125"' in decimals.text  # what was typed is kept
        too_high = client.post(PAGE, data={**form, "rate": "100.5"})
        assert too_high.status_code == 422 and words[0] in _beside(too_high.text, "rate")
        past = client.post(PAGE, data={**form, "effective_from": "2020-01-01T00:00"})
        assert past.status_code == 422 and words[1] in _beside(past.text, "effective_from")
        before_latest = client.post(PAGE, data={**form, "effective_from": _local(clock, 24)})
        assert before_latest.status_code == 422
        assert words[2] in _beside(before_latest.text, "effective_from")
        category = client.post(PAGE, data={**form, "category": "Toys & Games!"})
        assert category.status_code == 422 and words[3] in _beside(category.text, "category")
        for response in (decimals, past, before_latest, category):
            text = _clean(response.text)
            assert "Value error" not in text and "less than" not in text
        if lang == "zh-CN":
            assert "past" not in visible(past.text)  # never the service's English
    assert _page(client, PAGE).count("<tr data-rate=") == before


def test_a_seller_reads_the_rates_but_cannot_add_one(
    client: TestClient, market: Market
) -> None:  # M3
    create_console_user(market.db_url, "op@example.com", Role.operator)
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"])
    assert _login(client, "op@example.com") == 303
    page = _page(client, PAGE)
    added = client.post(PAGE, data={"csrf": _csrf(page), "category": "books", "rate": "3"})
    assert added.status_code == 200

    assert _login(client, "a@example.com") == 303
    seller = _page(client, PAGE, "zh-CN")
    assert "3%" in _clean(seller) and 'data-testid="rate-form"' not in seller
    assert f'href="{PAGE}"' in _page(client, "/console/policies")
    refused = client.post(
        PAGE, data={"csrf": _csrf(seller), "category": "books", "rate": "1"}, follow_redirects=False
    )
    assert refused.status_code in (303, 403)
    assert "1%" not in visible(_page(client, PAGE))
    assert _page(client, PAGE).count("<tr data-rate=") == seller.count("<tr data-rate=")

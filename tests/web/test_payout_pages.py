"""Payouts in the console (M3, S3): a seller binds its store's payout account from a form (a
refusal said beside the field, in the page's language), reads it masked with the accounts it
replaced, and reads its payouts; operators read every store's payouts by status. In Chinese
and English, as words a person reads: no internal ids, ISO times, minor units or raw names."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.builders.ledger import operator, run_on
from tests.builders.market import Market, create_console_user
from tests.builders.payouts import owe, prepared
from tests.web.test_console_http import _csrf, _login
from tests.web.test_list_pages import RAW_ENUM, _clean, _page
from tuoguan.db import Database
from tuoguan.kit.i18n import gettext
from tuoguan.principal import Role
from tuoguan.settlement import payouts
from tuoguan.settlement.rail import SANDBOX_REFUSAL, SandboxRail

LANGS = ("en", "zh-CN")
ACCOUNT = {
    "holder_name": "Seller A Trading Co.",
    "bank_name": "ICBC Shenzhen",
    "account_number": "6222 0212 3456 7890",
    "currency": "USD",
}


@pytest.fixture
def console(market: Market) -> Market:
    create_console_user(market.db_url, "op@example.com", Role.operator)
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"])
    return market


def _words(html: str) -> str:
    text = _clean(html)
    raw = {m.group(0) for m in RAW_ENUM.finditer(text)}
    assert not raw, raw
    return text


def _bind(client: TestClient, store_id: str, **fields: str) -> httpx.Response:
    path = f"/console/stores/{store_id}/payout-account"
    csrf = _csrf(client.get(path).text)
    return client.post(path, data={**ACCOUNT, **fields, "csrf": csrf}, follow_redirects=False)


def _pay(m: Market, store_key: str, amounts: list[int], *, fail: bool = False) -> list[str]:
    """Payouts of the store, prepared and sent on the sandbox rail (refused if ``fail``)."""
    store = m.stores[store_key]

    async def scenario(db: Database) -> list[str]:
        await owe(db, store, sum(amounts), currency="USD")
        made = [
            await prepared(db, store, amount, currency="USD", key=f"{store}:{fail}:{n}")
            for n, amount in enumerate(amounts)
        ]
        await payouts.send_due(db, operator(), SandboxRail(db, mode="fail" if fail else "ok"))
        return [p.id for p in made]

    with ThreadPoolExecutor(max_workers=1) as pool:
        ids: list[str] = pool.submit(run_on, m.db_url, scenario).result()
    return ids


def test_a_seller_binds_its_payout_account_and_reads_its_payouts(
    client: TestClient, console: Market
) -> None:  # S3, M3
    m = console
    store = m.stores["a_self"]
    assert _login(client, "a@example.com") == 303
    for lang in LANGS:
        money = _page(client, "/console/money", lang)
        assert 'href="/console/payouts"' in money
        home = _page(client, "/console/payouts", lang)
        text = _words(home)
        assert gettext(lang, "payout_not_bound") in text and gettext(lang, "payout_none") in text
        assert f'href="/console/stores/{store}/payout-account"' in home
        page = _page(client, f"/console/stores/{store}/payout-account", lang)
        assert gettext(lang, "payout_not_bound_help") in _words(page)

    # a refusal beside its field, in the page's language; nothing is bound
    client.cookies.set("tg_lang", "zh-CN")
    refused = _bind(client, store, account_number="12-34")
    assert refused.status_code == 422
    html = refused.text
    assert 'data-problem="account_number"' in html
    assert gettext("zh-CN", "payout_err_number") in html
    assert 'value="ICBC Shenzhen"' in html and "12-34" not in html  # the number is typed again
    assert gettext("zh-CN", "payout_not_bound") in _words(html)

    # bound, then rebound: masked, the first kept below
    answer = _bind(client, store)
    assert answer.status_code == 303
    assert _bind(client, store, account_number="6222 0299 0000 1111").status_code == 303
    for lang in LANGS:
        page = _page(client, f"/console/stores/{store}/payout-account?saved=1", lang)
        text = _words(page)
        assert "•••• 1111" in text and "•••• 7890" in text
        assert "62220299" not in page and "6222 0299" not in page and "62220212" not in page
        assert len(re.findall(r"data-replaced=", page)) == 1
        assert gettext(lang, "payout_saved") in text

    # its payouts: one paid, one the bank refused and put back on the balance
    _pay(m, "a_self", [12_345])
    _pay(m, "a_self", [500], fail=True)
    for lang in LANGS:
        page = _page(client, "/console/payouts", lang)
        text = _words(page)
        assert len(re.findall(r"data-payout=", page)) == 2
        assert gettext(lang, "payout_status_sent") in text
        assert gettext(lang, "payout_status_failed") in text
        assert gettext(lang, "payout_purpose_settlement") in text
        assert ("$123.45" if lang == "en" else "US$123.45") in text
        assert "•••• 1111" in text
    failed = _page(client, "/console/payouts?status=failed")
    assert re.findall(r'data-status="([a-z]+)"', failed) == ["failed"]


def test_another_sellers_store_account_is_not_found(client: TestClient, console: Market) -> None:
    # S3: a seller never reads nor binds another seller's payout account
    m = console
    other = m.stores["b_self"]
    assert _login(client, "a@example.com") == 303
    assert client.get(f"/console/stores/{other}/payout-account").status_code == 404
    own = client.get(f"/console/stores/{m.stores['a_self']}/payout-account")
    answer = client.post(
        f"/console/stores/{other}/payout-account",
        data={**ACCOUNT, "csrf": _csrf(own.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 404
    assert _login(client, "op@example.com") == 303
    page = _page(client, f"/console/stores/{other}/payout-account")
    assert gettext("en", "payout_not_bound") in _words(page)


def test_operators_read_every_stores_payouts_by_status(
    client: TestClient, console: Market
) -> None:  # M3
    m = console
    assert _login(client, "op@example.com") == 303
    assert _bind(client, m.stores["a_self"]).status_code == 303
    assert _bind(client, m.stores["b_self"]).status_code == 303
    _pay(m, "a_self", [1_000, 2_000])
    _pay(m, "b_self", [3_000], fail=True)
    for lang in LANGS:
        ledger = _page(client, "/console/ledger", lang)
        assert 'href="/console/payouts"' in ledger
        page = _page(client, "/console/payouts", lang)
        text = _words(page)
        assert len(re.findall(r"data-payout=", page)) == 3
        assert "Seller a" in text and "Seller b" in text
        said = gettext(lang, "payout_bank_said").format(reason=SANDBOX_REFUSAL)
        assert said in text  # the bank's own words, why it refused
    failed = _page(client, "/console/payouts?status=failed")
    assert re.findall(r'data-status="([a-z]+)"', failed) == ["failed"]
    only_a = _page(client, f"/console/payouts?seller={m.sellers['a']}")
    assert re.findall(r'data-status="([a-z]+)"', only_a) == ["sent", "sent"]
    # a cursor that is not ours starts again from the first page
    stale = client.get("/console/payouts?cursor=nonsense", follow_redirects=False)
    assert stale.headers["location"] == "/console/payouts"

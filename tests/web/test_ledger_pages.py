"""The ledger in the console (M3 F6 S3): a seller's money page (its stores' balances and its
movements by store, account, kind and month, each linked to its order) and the operator's
ledger (accounts, an account's movements, an entry's lines, an order's entries, a reversal with
a reason), in Chinese and English, as words a person reads: no internal ids, ISO times, minor
units or raw names; and a seller never reads the platform's accounts."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.api.test_ledger_api import Ledger, _post
from tests.builders.ledger import START
from tests.builders.market import Market, create_console_user
from tests.web.test_console_http import _csrf, _login
from tests.web.test_list_pages import RAW_ENUM, _clean, _page, visible
from tuoguan.ledger.kinds import EntryKind as K
from tuoguan.principal import Role

LANGS = ("en", "zh-CN")


@pytest.fixture
def ledger(market: Market) -> Ledger:
    create_console_user(market.db_url, "op@example.com", Role.operator)
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"])
    return Ledger(market)


def _rows(html: str, attribute: str) -> list[str]:
    return re.findall(rf'<tr\b[^>]*\s{attribute}="([^"]+)"', html)


def _words(html: str) -> str:
    """The page's words, held to what a person may read (see test_list_pages)."""
    text = _clean(html)
    raw = {m.group(0) for m in RAW_ENUM.finditer(text)}
    assert not raw, raw
    return text


def test_a_seller_reads_its_balances_and_movements_and_nothing_of_the_platform(
    client: TestClient, ledger: Ledger
) -> None:  # M3 F6 S3
    m = ledger.m
    # a rule's memo is for the records (ids, instants): the page does not show it
    memo = f"fee of order {ledger.a_order} at {START.isoformat()}"
    _post(
        m,
        K.shipping_fee_charged,
        6,
        currency="USD",
        parts={"amount": 150},
        store_id=m.stores["a_self"],
        subject=("order", ledger.a_order),
        memo=memo,
    )
    assert _login(client, "a@example.com") == 303
    for lang in LANGS:
        page = _page(client, "/console/money", lang)
        text = _words(page)
        # each store's balances: what it is due, what it owes, its deposit, a payout on its way
        assert re.search(
            rf'data-store="{m.stores["a_full"]}".*?data-account="deposit_held" data-minor="50000"',
            page,
            re.S,
        )
        assert re.search(
            rf'data-store="{m.stores["a_self"]}".*?data-account="receivable" data-minor="9000"',
            page,
            re.S,
        )
        assert len(_rows(page, "data-movement")) == 4  # two sales, a deposit, a fee
        assert memo not in page
        assert f'href="/console/orders/{ledger.a_order}"' in page
        if lang == "en":
            assert "Money" in text and "$90.00" in text and "+$500.00" in text
            assert "Deposit paid" in text and "Sale (supply price)" in text
            for platform in ("Commission", "Platform funds", "Platform revenue", "$7.99"):
                assert platform not in text, platform
        else:
            assert "资金" in text and "US$90.00" in text and "缴纳保证金" in text
            assert "佣金收入" not in text and "平台资金" not in text
        assert 'href="/console/ledger"' not in page and 'href="/console/money"' in page

    # filters: kind, account, store, month
    def moves(query: str) -> list[str]:
        return _rows(_page(client, f"/console/money?{query}"), "data-kind")

    assert moves("kind=deposit_funded") == ["deposit_funded"]
    assert moves("account=receivable") == ["sale_supplied", "sale_commissioned"]
    assert moves(f"store={m.stores['a_self']}") == ["shipping_fee_charged", "sale_commissioned"]
    assert len(moves("period=2026-11")) == 4 and moves("period=2026-10") == []
    # another seller's store reads as all of its own; the operator's pages send it here
    assert len(moves(f"store={m.stores['b_self']}")) == 4
    for path in ("/console/ledger", f"/console/ledger/entries/{ledger.a_sale.id}"):
        answer = client.get(path, follow_redirects=False)
        assert answer.headers["location"] == "/console/money", path
    assert "order-ledger" not in _page(client, f"/console/orders/{ledger.a_order}")


def test_the_operator_explores_the_ledger_and_reverses_an_entry_with_a_reason(
    client: TestClient, ledger: Ledger
) -> None:  # M3 F6
    m = ledger.m
    assert _login(client, "op@example.com") == 303
    assert client.get("/console/money", follow_redirects=False).headers["location"] == (
        "/console/ledger"
    )
    for lang in LANGS:
        home = _page(client, "/console/ledger", lang)
        text = _words(home)
        assert "Platform funds" in text if lang == "en" else "平台资金" in text
        assert len(_rows(home, "data-account")) == 3 + 5  # the platform's, then the stores'
    only_b = _page(client, f"/console/ledger?seller={m.sellers['b']}")
    assert sorted(_rows(only_b, "data-account")) == ["payable", "receivable"]
    found = client.get(f"/console/ledger?order={ledger.a_order}", follow_redirects=False)
    assert found.headers["location"] == f"/console/ledger/orders/{ledger.a_order}"

    # an account's movements, by kind
    cash = ledger.account(None, "cash")["id"]
    for lang in LANGS:
        page = _page(client, f"/console/ledger/accounts/{cash}", lang)
        _words(page)
        assert len(_rows(page, "data-movement")) == 4
    sales = _page(client, f"/console/ledger/accounts/{cash}?kind=sale_commissioned")
    assert _rows(sales, "data-kind") == ["sale_commissioned"] * 2

    # an order's entries, every line (the platform's too), linked from the order page
    assert f'href="/console/ledger/orders/{ledger.a_order}"' in _page(
        client, f"/console/orders/{ledger.a_order}"
    )
    for lang in LANGS:
        page = _page(client, f"/console/ledger/orders/{ledger.a_order}", lang)
        text = _words(page)
        assert _rows(page, "data-line") == ["cash", "receivable", "commission"] + [
            "cash",
            "receivable",
            "revenue",
        ]
        assert "$7.99" in text  # the platform's margin: the operator's business

    # a penalty reversed, with a reason, after the page asks to confirm
    entry = f"/console/ledger/entries/{ledger.b_penalty.id}"
    for lang in LANGS:
        page = _page(client, entry, lang)
        _words(page)
        assert 'data-confirm="' in page and 'data-action="reverse"' in page
    csrf = _csrf(_page(client, entry))
    no_reason = client.post(f"{entry}/reverse", data={"csrf": csrf, "reason": "  "})
    assert no_reason.status_code == 422 and "reason" in visible(no_reason.text).lower()
    done = client.post(
        f"{entry}/reverse", data={"csrf": csrf, "reason": "appeal won"}, follow_redirects=False
    )
    assert done.status_code == 303 and "done=reversed" in done.headers["location"]
    mirror = _page(client, done.headers["location"])
    text = _words(mirror)
    assert "Reversed: this is the reversing entry." in text and "appeal won" in text
    assert _rows(mirror, "data-line") == ["payable", "revenue"]
    assert 'data-action="reverse"' not in mirror  # a reversal is not reversed
    again = client.post(f"{entry}/reverse", data={"csrf": csrf, "reason": "twice"})
    assert again.status_code == 409
    assert "reversed once at most" in visible(again.text)
    assert 'data-action="reverse"' not in again.text
    assert ledger.account("b_self", "payable")["balance_minor"] == 0
    chinese = _words(_page(client, entry, "zh-CN"))
    assert "已冲销" in chinese and "冲销分录" in chinese

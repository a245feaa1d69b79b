"""Leaving full-managed in the console (S4, S5, G7): the seller's exit page (the terms and fees
before applying, what stands in the way linked to its pages, the money at unbinding, the
export with its download, the apply form refusing beside the field, each step), the
operators' queue with the terms form, and an application's page with the decision form; in
Chinese and English, without ids, raw names, ISO times or minor units."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders.exits import PDF, ready
from tests.builders.market import Market, create_console_user
from tests.builders.workers import sweep_once
from tests.web.test_console_http import _csrf, _login
from tests.web.test_list_pages import RAW_ENUM, _clean, _page, visible
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role

LANGS = ("en", "zh-CN")
EXITS = "/console/exits"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        environment="test",
        db_pool_size=5,
        outbound_allow="127.0.0.1",
        upload_dir=str(tmp_path / "uploads"),
        export_dir=str(tmp_path / "exports"),
    )


def _words(html: str) -> str:
    text = _clean(html)
    raw = {m.group(0) for m in RAW_ENUM.finditer(text)}
    assert not raw, raw
    return text


def _beside(html: str, field: str) -> str:
    match = re.search(rf'data-problem="{field}">([^<]+)</p>', html)
    assert match, visible(html)
    return match.group(1)


@pytest.fixture
def leaving(market: Market, clock: FrozenClock) -> dict[str, Any]:
    m = market
    create_console_user(m.db_url, "op@example.com", Role.operator)
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    return ready(m, clock)


def test_the_seller_reads_the_terms_exports_and_applies_with_refusals_beside_the_field(
    client: TestClient,
    market: Market,
    clock: FrozenClock,
    settings: Settings,
    leaving: dict[str, Any],
) -> None:  # S4 S5 G7
    m = market
    order = m.place("a_full")  # in the way until it is finished
    assert _login(client, "a@example.com") == 303
    assert f'href="{EXITS}"' in _page(client, "/console/orders")
    for lang in LANGS:
        page = _page(client, EXITS, lang)
        text = _words(page)
        assert 'data-figure="management_fee" data-minor="5000"' in page
        assert re.findall(r'data-rule="([^"]+)"', page) == ["no_unfinished_orders"]
        assert f'href="/console/orders/{order["id"]}"' in page
        form = page.split('data-testid="apply-form"')[1].split("</form>")[0]
        assert " disabled" in form
        if lang == "en":
            assert "$50.00" in text and "Store management fee" in text and "3 business days" in text
        else:
            assert "US$50.00" in text and "店铺管理费" in text and "3 个工作日" in text
    # refused on the server too, beside the form, and nothing written
    page = _page(client, EXITS, "zh-CN")
    csrf = _csrf(page)
    form = {"csrf": csrf, "store": leaving["store"], "reason": "退出", "fees_acknowledged": "yes"}
    refused = client.post(f"{EXITS}/apply", data=form)
    assert refused.status_code == 409 and "未处理的事项" in _beside(refused.text, "form")
    m.ok(m.post(f"/orders/{order['id']}/cancel", m.operator, {"reason": "buyer changed mind"}))

    # the export: started, followed, downloaded
    started = client.post(
        f"{EXITS}/archive", data={"csrf": csrf, "store": leaving["store"]}, follow_redirects=False
    )
    assert started.status_code == 303
    page = _page(client, started.headers["location"], "en")
    assert 'data-status="queued"' in page and 'http-equiv="refresh"' in page
    sweep_once(client, clock, settings)
    for lang in LANGS:
        page = _page(client, EXITS, lang)
        _words(page)
        assert 'data-testid="archive-download"' in page and "/download" in page
    download = client.get(f"{EXITS}/{leaving['store']}/archive/download")
    assert download.status_code == 200 and download.content[:2] == b"PK"

    # the form refuses beside the field, in the page's language
    client.cookies.set("tg_lang", "en")
    unticked = client.post(f"{EXITS}/apply", data={**form, "fees_acknowledged": ""})
    assert unticked.status_code == 422 and "Tick the box" in _beside(
        unticked.text, "fees_acknowledged"
    )
    wrong = client.post(
        f"{EXITS}/apply", data=form, files={"files": ("paper.txt", b"plain text", "text/plain")}
    )
    assert wrong.status_code == 422 and "PDF" in _beside(wrong.text, "files")
    done = client.post(
        f"{EXITS}/apply",
        data={**form, "reason": "leaving"},
        files={"files": ("paper.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert done.status_code == 303 and "done=applied" in done.headers["location"]
    for lang in LANGS:
        page = _page(client, done.headers["location"], lang)
        _words(page)
        assert 'data-testid="application" data-status="applied"' in page
        assert re.findall(r'data-step="([^"]+)" data-state="([^"]+)"', page)[:2] == [
            ("applied", "done"),
            ("reviewed", "current"),
        ]
        assert re.search(r'href="/files/doc_[^"]+\?exp=\d+&amp;sig=', page)
    # another seller's store reads as not found; the queue is not the seller's
    assert 'data-testid="exit-queue"' not in _page(client, EXITS)


def test_the_operator_reviews_the_queue_decides_and_sets_the_terms(
    client: TestClient, market: Market, leaving: dict[str, Any]
) -> None:  # S4 S5 G7
    m = market
    applied = m.ok(
        m.post(
            f"/stores/{leaving['store']}/exit",
            leaving["token"],
            {"reason": "leaving", "fees_acknowledged": True},
        ),
        201,
    )
    assert _login(client, "op@example.com") == 303
    application = f"{EXITS}/applications/{applied['id']}"
    for lang in LANGS:
        page = _page(client, EXITS, lang)
        text = _words(page)
        assert re.findall(r'data-exit="([^"]+)"', page) == ["applied"]
        assert f'href="{application}"' in page and "Seller a" in text
        assert 'data-terms="USD"' in page
        one = _page(client, application, lang)
        _words(one)
        assert 'data-testid="decision-form"' in one
    page = _page(client, application, "zh-CN")
    csrf = _csrf(page)
    client.cookies.set("tg_lang", "zh-CN")
    blank = client.post(f"{application}/decision", data={"csrf": csrf, "decision": "reject"})
    assert blank.status_code == 422 and _beside(blank.text, "reasons")
    done = client.post(
        f"{application}/decision",
        data={"csrf": csrf, "decision": "approve", "reasons": "订单已全部完成\n费用已确认"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = _page(client, done.headers["location"], "zh-CN")
    assert 'data-status="approved"' in page and "订单已全部完成" in _words(page)
    assert 'data-testid="decision-form"' not in page

    # the terms: a new version, refused beside the field when wrong
    terms = {
        "csrf": csrf,
        "currency": "USD",
        "management_fee": "80",
        "refund_fee": "0",
        "review_days": "5",
    }
    bad = client.post("/console/exit-terms", data={**terms, "review_days": "99"})
    assert bad.status_code == 422 and _beside(bad.text, "review_days")
    added = client.post("/console/exit-terms", data=terms, follow_redirects=False)
    assert added.status_code == 303
    page = _page(client, added.headers["location"], "en")
    assert "$80.00" in _words(page) and 'data-standing="in_force"' in page
    # the seller is not an operator here
    create_console_user(m.db_url, "a2@example.com", Role.seller, m.sellers["a"])
    assert _login(client, "a2@example.com") == 303
    refused = client.post(
        "/console/exit-terms", data={**terms, "csrf": _csrf(_page(client, EXITS))}
    )
    assert refused.status_code == 403

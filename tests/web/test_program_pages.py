"""The full-managed program in the console (M2, M4, S4, G7): an operator invites a seller from
/console/program, the seller reads the invitation and accepts it, follows its store's joining
checklist (agreement, business review, deposit, each linked to its page), reads the agreement an
operator published in its language and accepts it; refusals are said beside the field in the
page's language and change nothing; in Chinese and English, without ids, raw names, ISO times
or minor units, and on a 390 px phone."""

from __future__ import annotations

import os
import re
import shutil

import pytest
from fastapi.testclient import TestClient

from tests.api.test_invitations_api import counts, newcomer, set_status
from tests.builders.market import PASSWORD, Market, create_console_user
from tests.integration.test_deposits import rate
from tests.web.test_console_http import _csrf, _login
from tests.web.test_list_pages import RAW_ENUM, _clean, _page, visible
from tuoguan.principal import Role
from tuoguan.stores.models import StoreStatus

PROGRAM = "/console/program"
LANGS = ("en", "zh-CN")


def _words(html: str) -> str:
    text = _clean(html)
    raw = {m.group(0) for m in RAW_ENUM.finditer(text)}
    assert not raw, raw
    return text


def _beside(html: str, field: str) -> str:
    match = re.search(rf'data-problem="{field}">([^<]+)</p>', html)
    assert match, visible(html)
    return match.group(1)


def _logout(client: TestClient) -> None:
    client.post("/logout", data={"csrf": _csrf(client.get(PROGRAM).text)})
    client.cookies.clear()


def _publish(client: TestClient, **fields: str) -> object:
    page = _page(client, PROGRAM)
    form = {
        "csrf": _csrf(page),
        "label": "2026版",
        "title_zh": "全托管合作协议",
        "title_en": "Full-managed programme agreement",
        "body_zh": "第一条 平台负责运营。\n第二条 商家负责供货。\n\n第三条 保证金。",
        "body_en": "Article 1. The platform runs the store.\n\nArticle 2. Deposit.",
        "requires_acceptance": "yes",
        **fields,
    }
    return client.post(f"{PROGRAM}/agreements", data=form, follow_redirects=False)


def test_an_operator_invites_and_the_seller_accepts_and_follows_its_joining(
    client: TestClient, market: Market
) -> None:  # M2 M4 G7
    m = market
    rate(m, 150_000)
    seller, linked, _ = newcomer(m)
    create_console_user(m.db_url, "op@example.com", Role.operator)
    create_console_user(m.db_url, "c@example.com", Role.seller, seller, locale="zh-CN")

    # the operator: the invite form offers the newcomer's store, not sellers in the program
    assert _login(client, "op@example.com") == 303
    for lang in LANGS:
        page = _page(client, PROGRAM, lang)
        _words(page)
        assert f'<option value="{linked}"' in page
        assert f'<option value="{m.stores["a_self"]}"' not in page
        assert 'data-testid="publish-form"' in page
    page = _page(client, PROGRAM, "zh-CN")
    form = {"csrf": _csrf(page), "store": linked, "message": "诚邀您加入全托管。"}
    bad = client.post(f"{PROGRAM}/invitations", data={**form, "expires_in_days": "99"})
    assert bad.status_code == 422
    assert _beside(bad.text, "inv-expires_in_days") == "请输入 1 至 60 之间的整数天数。"
    before = counts(m.db_url)
    blank = client.post(
        f"{PROGRAM}/invitations", data={**form, "message": " ", "expires_in_days": "14"}
    )
    assert blank.status_code == 422 and _beside(blank.text, "inv-message")
    assert counts(m.db_url) == before
    sent = client.post(
        f"{PROGRAM}/invitations",
        data={**form, "expires_in_days": "10"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and "done=invited" in sent.headers["location"]
    again = client.post(f"{PROGRAM}/invitations", data={**form, "expires_in_days": "10"})
    assert again.status_code == 409
    assert _beside(again.text, "inv-store") == "该商家有一份待答复的邀请，请先撤回。"
    for lang in LANGS:
        listed = _page(client, PROGRAM, lang)
        _words(listed)
        assert re.findall(r'<tr data-invitation="([^"]+)"', listed)[0] == "invited"
        assert 'data-testid="withdraw-form"' in listed
    # and publishes the agreement; a bad start is refused beside its field
    late = _publish(client, effective_from="2020-01-01T09:00")
    assert late.status_code == 422 and "past" in _beside(late.text, "agr-effective_from")
    published = _publish(client)
    assert published.status_code == 303 and "done=published" in published.headers["location"]
    page = _page(client, PROGRAM, "zh-CN")
    assert 'data-standing="in_force"' in page and "第三条 保证金。" in visible(page)
    _logout(client)

    # the seller: its invitation, in both languages
    assert _login(client, "c@example.com") == 303
    for lang in LANGS:
        page = _page(client, PROGRAM, lang)
        text = _words(page)
        assert 'data-invitation="invited"' in page and "诚邀您加入全托管。" in text
        assert 'data-testid="accept-form"' in page and 'data-testid="decline-form"' in page
        assert ("Your invitation" if lang == "en" else "您收到的邀请") in text
    page = _page(client, PROGRAM, "zh-CN")
    accepted = client.post(
        re.search(r'action="(/console/program/invitations/[^"]+/accept)"', page).group(1),  # type: ignore[union-attr]
        data={"csrf": _csrf(page)},
        follow_redirects=False,
    )
    assert accepted.status_code == 303 and "done=accepted" in accepted.headers["location"]

    # the joining checklist, each step linked to its page
    for lang in LANGS:
        page = _page(client, f"{PROGRAM}?done=accepted", lang)
        text = _words(page)
        assert 'data-joined="no"' in page
        steps = dict(re.findall(r'data-step="(\w+)" data-done="(\w+)"', page))
        assert steps == {"agreement": "no", "review": "no", "deposit": "no"}
        assert 'href="/console/business-reviews"' in page
        store = re.search(r'data-testid="checklist" data-store="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        assert f'href="/console/deposit?store={store}"' in page
        assert 'data-pending="yes"' in page
        if lang == "en":
            assert "$0.00 paid of $1,500.00" in text and "Full-managed programme agreement" in text
        else:
            assert "已缴 US$0.00，应缴 US$1,500.00" in text and "全托管合作协议" in text

    # the agreement: the box must be ticked; then accepted, the step is done
    page = _page(client, PROGRAM, "en")
    action = re.search(r'action="(/console/program/agreements/[^"#]+/accept)', page).group(1)  # type: ignore[union-attr]
    unticked = client.post(action, data={"csrf": _csrf(page)})
    assert unticked.status_code == 422
    assert "Tick the box" in _beside(unticked.text, "agree-agree")
    agreed = client.post(action, data={"csrf": _csrf(page), "agree": "yes"}, follow_redirects=False)
    assert agreed.status_code == 303
    for lang in LANGS:
        page = _page(client, f"{PROGRAM}?done=agreed", lang)
        _words(page)
        assert 'data-testid="agreed"' in page and 'data-pending="no"' in page
        assert 'data-step="agreement" data-done="yes"' in page
    _logout(client)

    # the operator sees who accepted, when and from where
    assert _login(client, "op@example.com") == 303
    for lang in LANGS:
        page = _page(client, PROGRAM, lang)
        _words(page)
        assert re.findall(r'<tr data-invitation="([^"]+)"', page)[0] == "accepted"
        assert 'data-accepted="1"' in page and "testclient" in page


def test_refusals_are_said_beside_the_field_and_sellers_reach_only_their_own(
    client: TestClient, market: Market
) -> None:  # M2 S4 G7
    m = market
    seller, linked, _ = newcomer(m)
    create_console_user(m.db_url, "op@example.com", Role.operator)
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    create_console_user(m.db_url, "c@example.com", Role.seller, seller)
    set_status(m.db_url, m.stores["a_full"], StoreStatus.exited)

    assert _login(client, "op@example.com") == 303
    page = _page(client, PROGRAM, "zh-CN")
    # seller a left the program: not offered, and refused if asked for all the same
    assert f'<option value="{m.stores["a_self"]}"' not in page
    form = {"csrf": _csrf(page), "message": "再次邀请", "expires_in_days": "14"}
    before = counts(m.db_url)
    exited = client.post(f"{PROGRAM}/invitations", data={**form, "store": m.stores["a_self"]})
    assert exited.status_code == 409
    assert "不能再次邀请" in _beside(exited.text, "inv-store")
    assert counts(m.db_url) == before
    sent = client.post(
        f"{PROGRAM}/invitations", data={**form, "store": linked}, follow_redirects=False
    )
    assert sent.status_code == 303
    page = _page(client, PROGRAM, "en")
    withdraw = re.search(r'action="(/console/program/invitations/[^"]+/withdraw)"', page).group(1)  # type: ignore[union-attr]
    invitation = withdraw.split("/")[-2]
    _logout(client)

    # another seller: nothing of c's shows, and answering it is not found
    assert _login(client, "a@example.com") == 303
    page = _page(client, PROGRAM, "en")
    _words(page)
    assert invitation not in page and 'data-testid="invitation"' not in page
    refused = client.post(f"{PROGRAM}/invitations/{invitation}/accept", data={"csrf": _csrf(page)})
    assert refused.status_code == 404
    # a seller's post to an operator's form is sent back to its page, nothing done
    back = client.post(
        f"{PROGRAM}/invitations",
        data={**form, "csrf": _csrf(page), "store": linked},
        follow_redirects=False,
    )
    assert back.status_code == 303 and back.headers["location"] == PROGRAM
    assert counts(m.db_url)[1] == before[1] + 1
    _logout(client)

    # the invited seller declines with a reason; accepting afterwards is refused beside the form
    assert _login(client, "c@example.com") == 303
    page = _page(client, PROGRAM, "zh-CN")
    declined = client.post(
        f"{PROGRAM}/invitations/{invitation}/decline",
        data={"csrf": _csrf(page), "reason": "暂不考虑"},
        follow_redirects=False,
    )
    assert declined.status_code == 303
    page = _page(client, f"{PROGRAM}?done=declined", "zh-CN")
    text = _words(page)
    assert "您已谢绝邀请。" in text and "暂不考虑" in text
    assert 'data-testid="no-invitation"' in page
    late = client.post(f"{PROGRAM}/invitations/{invitation}/accept", data={"csrf": _csrf(page)})
    assert late.status_code == 409 and _beside(late.text, "accept-") == "该邀请已答复或已撤回。"


CHROMIUM = os.environ.get("TUOGUAN_CHROMIUM", "/usr/bin/chromium")


@pytest.mark.browser
def test_the_program_pages_fit_a_390px_phone(live_server: str, live_market: Market) -> None:  # G7
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    m = live_market
    rate(m, 150_000)
    seller, linked, token = newcomer(m)
    create_console_user(m.db_url, "op@example.com", Role.operator, locale="zh-CN")
    create_console_user(m.db_url, "c@example.com", Role.seller, seller, locale="en")
    body = {"seller_id": seller, "store_id": linked, "message": "Join us. " * 40}
    sent = m.ok(m.post("/invitations", m.operator, body), 201)
    text = {
        "label": "2026版",
        "title_zh": "全托管合作协议",
        "title_en": "Full-managed programme agreement",
        "body_zh": "第一条 " * 200,
        "body_en": "Article one says a great deal. " * 60,
    }
    m.ok(m.post("/agreements", m.operator, text), 201)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        for email, answer in (("c@example.com", True), ("op@example.com", False)):
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{live_server}/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/console/orders")
            page.goto(f"{live_server}{PROGRAM}")
            page.wait_for_load_state()
            for _ in range(2):
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{email}: {PROGRAM} scrolls sideways by {overflow}px"
                if not answer:
                    break
                m.ok(m.post(f"/invitations/{sent['id']}/accept", token))  # now the checklist
                answer = False
                page.reload()
                page.wait_for_load_state()
            page.close()
        browser.close()

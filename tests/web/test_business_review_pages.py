"""The business-info review in the console (S1, S2, G7): the seller fills each stage with its
documents and submits, refusals beside the field in the page's language; the operators' queue
(stuck first) and a review's page with the fields and documents side by side and a reason box
per field; a rejection shown beside the rejected fields, the rest read-only; the stuck flag with
what to check; in Chinese and English, without ids, raw names or ISO times."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders.market import Market, create_console_user
from tests.builders.reviews import FIELDS, PDF, PNG, fill, perfume_rule, submit
from tests.web.test_console_http import _csrf, _login
from tests.web.test_list_pages import RAW_ENUM, _clean, _page, visible
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role

LANGS = ("en", "zh-CN")
PAGE = "/console/business-reviews"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        environment="test",
        db_pool_size=5,
        outbound_allow="127.0.0.1",
        upload_dir=str(tmp_path / "uploads"),
    )


@pytest.fixture
def people(market: Market) -> Market:
    m = market
    create_console_user(m.db_url, "op@example.com", Role.operator)
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    create_console_user(m.db_url, "b@example.com", Role.seller, m.sellers["b"])
    perfume_rule(m.db_url)
    return m


def _words(html: str) -> str:
    text = _clean(html)
    raw = {w.group(0) for w in RAW_ENUM.finditer(text)}
    assert not raw, raw
    return text


def _beside(html: str, field: str) -> str:
    match = re.search(rf'data-problem="{field}">([^<]+)</p>', html)
    assert match, visible(html)
    return match.group(1)


def _save(
    client: TestClient,
    page: str,
    store: str,
    stage: str,
    fields: dict[str, Any],
    files: dict[str, Any] | None = None,
) -> Any:
    data = {"csrf": _csrf(page), "store": store, "stage": stage, **fields}
    return client.post(f"{PAGE}/save", data=data, files=files or {}, follow_redirects=False)


def test_the_seller_fills_each_stage_and_submits_with_refusals_beside_the_field(
    client: TestClient, people: Market
) -> None:  # S1 G7
    m = people
    store = m.stores["a_full"]
    assert _login(client, "a@example.com") == 303
    for lang in LANGS:
        page = _page(client, PAGE, lang)
        text = _words(page)
        assert 'data-status="draft"' in page and 'data-testid="stage-background"' in page
        assert ("Business background" if lang == "en" else "商业背景评估") in text
    page = _page(client, PAGE, "zh-CN")
    background = {
        k: FIELDS[k]
        for k in (
            "company_name",
            "registration_number",
            "legal_representative",
            "registered_address",
            "contact_phone",
            "contact_email",
        )
    }
    # a program named like a PDF is refused beside its field, in the page's language
    exe = {"file-licence": ("licence.pdf", b"MZ\x90\x00" + b"\x00" * 60, "application/pdf")}
    refused = _save(client, page, store, "background", background, exe)
    assert refused.status_code == 422
    assert "只接受" in _beside(refused.text, "licence")
    bad = _save(client, page, store, "background", {**background, "contact_email": "nope"})
    assert bad.status_code == 422 and _beside(bad.text, "contact_email") == "请填写有效的邮箱地址。"
    files = {
        "file-licence": ("营业执照.pdf", PDF, "application/pdf"),
        "file-legal_representative_id": ("身份证.png", PNG, "image/png"),
    }
    saved = _save(client, page, store, "background", background, files)
    assert saved.status_code == 303 and "done=saved" in saved.headers["location"]
    financial = {k: FIELDS[k] for k in ("account_holder", "bank_name", "account_number")}
    assert (
        _save(
            client,
            page,
            store,
            "financial",
            financial,
            {"file-bank_proof": ("开户许可证.pdf", PDF, "application/pdf")},
        ).status_code
        == 303
    )
    categories = {"categories": "electronics/audio\nliquid/perfume"}
    assert _save(client, page, store, "categories", categories).status_code == 303
    # perfume needs a brand authorisation: its field appears, and submitting without it says so
    page = _page(client, PAGE, "en")
    assert 'name="brand-liquid/perfume"' in page
    assert "•••• 7890" in page and "6222021234567890" not in page.replace(" ", "")
    early = client.post(f"{PAGE}/submit", data={"csrf": _csrf(page), "store": store})
    assert early.status_code == 422 and "Some fields are still empty" in _beside(early.text, "form")
    brand = {"brand-liquid/perfume": ("授权书.pdf", PDF, "application/pdf")}
    assert _save(client, page, store, "categories", categories, brand).status_code == 303
    done = client.post(
        f"{PAGE}/submit", data={"csrf": _csrf(page), "store": store}, follow_redirects=False
    )
    assert done.status_code == 303 and "done=submitted" in done.headers["location"]
    for lang in LANGS:
        page = _page(client, f"{PAGE}?store={store}&done=submitted", lang)
        text = _words(page)
        assert 'data-status="under_review"' in page and 'data-stage="background"' in page
        assert 'data-testid="stuck"' not in page
        # every input is read-only while under review
        assert 'data-editable="1"' not in page and 'data-testid="submit-form"' not in page
        if lang == "en":
            assert "up to 3 business days a stage" in text and "Round 1" in text
        else:
            assert "每个阶段 3 个工作日内" in text and "第 1 轮" in text
    # a form without its CSRF token is refused
    assert client.post(f"{PAGE}/submit", data={"store": store}).status_code == 403
    # another seller does not see it
    client.cookies.clear()
    assert _login(client, "b@example.com") == 303
    page = _page(client, PAGE, "en")
    assert FIELDS["company_name"] not in page


def test_an_operator_decides_through_the_form_and_the_seller_corrects_only_what_was_rejected(
    client: TestClient, people: Market
) -> None:  # S1 G7
    m = people
    store = m.stores["a_full"]
    fill(m)
    review_id = submit(m)["id"]
    assert _login(client, "op@example.com") == 303
    for lang in LANGS:
        page = _page(client, PAGE, lang)
        _words(page)
        assert re.findall(r'data-review="([^"]+)"', page) == ["under_review"]
        assert f'href="{PAGE}/{review_id}"' in page
        page = _page(client, f"{PAGE}/{review_id}", lang)
        _words(page)
        # the fields and the documents side by side, a reason box per field of the stage
        assert 'data-document="licence"' in page and 'href="/files/' in page
        assert re.findall(r'name="reason-([^"]+)"', page) == [
            "company_name",
            "registration_number",
            "licence",
            "legal_representative",
            "legal_representative_id",
            "registered_address",
            "contact_phone",
            "contact_email",
        ]
    page = _page(client, f"{PAGE}/{review_id}", "en")
    form = {"csrf": _csrf(page), "stage": "background"}
    approved = client.post(
        f"{PAGE}/{review_id}/decide", data={**form, "decision": "approve"}, follow_redirects=False
    )
    assert approved.status_code == 303 and "done=approve" in approved.headers["location"]
    page = _page(client, f"{PAGE}/{review_id}?done=approve", "zh-CN")
    assert re.findall(r'name="reason-([^"]+)"', page) == [
        "account_holder",
        "bank_name",
        "account_number",
        "bank_proof",
    ]
    form = {"csrf": _csrf(page), "stage": "financial"}
    # approving with a reason, or rejecting with none, is refused beside the form
    both = client.post(
        f"{PAGE}/{review_id}/decide",
        data={**form, "decision": "approve", "reason-bank_proof": "模糊"},
    )
    assert both.status_code == 422 and "通过时不填写原因" in _beside(both.text, "form")
    none = client.post(f"{PAGE}/{review_id}/decide", data={**form, "decision": "reject"})
    assert none.status_code == 422 and "至少为一项写明原因" in _beside(none.text, "form")
    rejected = client.post(
        f"{PAGE}/{review_id}/decide",
        data={
            **form,
            "decision": "reject",
            "reason-bank_proof": "开户许可证照片模糊",
            "reason-bank_name": "",
        },
        follow_redirects=False,
    )
    assert rejected.status_code == 303
    page = _page(client, f"{PAGE}/{review_id}", "en")
    assert 'data-status="returned"' in page and 'data-testid="decision-form"' not in page

    client.cookies.clear()
    assert _login(client, "a@example.com") == 303
    for lang in LANGS:
        page = _page(client, PAGE, lang)
        _words(page)
        assert 'data-reason="bank_proof"' in page and "开户许可证照片模糊" in page
        editable = re.findall(r'data-field="([^"]+)" data-editable="1"', page)
        assert editable == ["bank_proof"]
    page = _page(client, PAGE, "en")
    # a field of an approved stage, or one not rejected, cannot change (nothing is written)
    refused = _save(client, page, store, "background", {"company_name": "另一家公司"})
    assert refused.status_code == 422 and "This stage was approved" in _beside(
        refused.text, "company_name"
    )
    refused = _save(client, page, store, "financial", {"bank_name": "工商银行"})
    assert refused.status_code == 422 and "Only the rejected fields" in _beside(
        refused.text, "bank_name"
    )
    fixed = _save(
        client, page, store, "financial", {}, {"file-bank_proof": ("清晰.png", PNG, "image/png")}
    )
    assert fixed.status_code == 303
    assert (
        client.post(
            f"{PAGE}/submit", data={"csrf": _csrf(page), "store": store}, follow_redirects=False
        ).status_code
        == 303
    )
    page = _page(client, PAGE, "zh-CN")
    assert 'data-stage="financial"' in page and "第 2 轮" in page
    assert re.findall(r'data-round="(\d+)"', page) == ["2", "1"]
    # the seller does not decide, nor reach the operator's page of another seller's review
    assert (
        client.post(
            f"{PAGE}/{review_id}/decide",
            data={"csrf": _csrf(page), "stage": "financial", "decision": "approve"},
        ).status_code
        == 403
    )


def test_a_stuck_review_is_flagged_to_the_seller_with_what_to_check_and_tops_the_queue(
    client: TestClient, people: Market, clock: FrozenClock
) -> None:  # S2 G7
    m = people
    fill(m)
    review = submit(m)
    clock.current = datetime.fromisoformat(review["stuck_after"]) + timedelta(hours=1)
    assert _login(client, "a@example.com") == 303
    for lang in LANGS:
        page = _page(client, PAGE, lang)
        text = _words(page)
        assert 'data-testid="stuck"' in page
        assert re.findall(r'data-advice="([^"]+)"', page) == [
            "check_complete",
            "check_file_formats",
            "check_content_matches",
            "contact_support",
        ]
        if lang == "en":
            assert "taking longer than usual" in text and "support" in text
        else:
            assert "信息完整性" in text and "联系平台客服" in text and "已等待" in text
    client.cookies.clear()
    assert _login(client, "op@example.com") == 303
    for lang in LANGS:
        page = _page(client, PAGE, lang)
        _words(page)
        assert 'data-stuck="1"' in page and 'data-testid="stuck-badge"' in page

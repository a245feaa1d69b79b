"""A hostile seller against the program (issue 15; S1, S4, C1, M2, M4): another seller's
review, documents, file links, invitations, products and exits stay out of reach; files are
judged by their content; odd text (NUL, lone surrogates, superscript digits, control
characters, formulas) is refused with the field named or kept harmless, never a 500; and the
console keeps what was typed after a refusal. Each test names the hole it closes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import reviews as rv
from tests.builders.exits import apply, archive_tables, ready
from tests.builders.exits import upload as exit_upload
from tests.builders.market import Market, as_system, auth, create_console_user, issue_token
from tests.builders.workers import sweep_once
from tests.web.test_console_http import _csrf, _login
from tests.web.test_list_pages import _page
from tuoguan.api.deps import expected_version
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.errors import InvalidInput, Unauthorized
from tuoguan.kit.clock import FrozenClock
from tuoguan.kit.signing import verify
from tuoguan.onboarding import agreements
from tuoguan.onboarding.origin import LOCAL
from tuoguan.principal import Principal, Role

MAX_BYTES = 64 * 1024
HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Documents and archives in this test's own folders; documents at most 64 KB."""
    return Settings(
        database_url=db_url,
        environment="test",
        db_pool_size=5,
        outbound_allow="127.0.0.1",
        upload_dir=str(tmp_path / "uploads"),
        export_dir=str(tmp_path / "exports"),
        document_max_bytes=MAX_BYTES,
    )


def _problem(answer: Any, status: int, field: str | None = None, rule: str | None = None) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    if field is not None:
        assert problem.get("field") == field, problem
    if rule is not None:
        assert rule in (problem.get("rule"), problem["type"].rpartition(":")[2]), problem


def _raw(m: Market, method: str, path: str, token: str, body: dict[str, Any]) -> Any:
    """A JSON body sent as written: json.dumps escapes a lone surrogate httpx cannot encode."""
    return m.client.request(
        method,
        f"/api/v1{path}",
        content=json.dumps(body),
        headers={**auth(token), "content-type": "application/json"},
    )


def _stored(settings: Settings) -> list[Path]:
    root = Path(settings.upload_dir) / "documents"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_file_link_with_odd_digits_a_swapped_id_or_past_its_time_is_refused_not_a_500(
    market: Market, clock: FrozenClock
) -> None:  # S1
    m = market
    review = rv.fill(m, "a")
    first, second = review["documents"][0], review["documents"][1]
    assert m.client.get(first["url"]).status_code == 200
    base, query = first["url"].split("?")
    signature = query.split("sig=")[1]
    # the hole: "²" is a digit to str.isdigit() and not to int(): it was a 500
    for expiry in ("²", "¹²³⁴⁵⁶⁷⁸⁹⁰", "١٧٩٤٩٦٣٩٠٠", "", "1" * 13, "-1"):
        answer = m.client.get(base, params={"exp": expiry, "sig": signature})
        assert answer.status_code == 403, (expiry, answer.status_code)
    # a good signature names its document and its time: neither moves
    expires = int(query.split("exp=")[1].split("&")[0])
    swapped = f"/files/{second['id']}?{query}"
    assert m.client.get(swapped).status_code == 403
    later = m.client.get(base, params={"exp": str(expires + 3600), "sig": signature})
    assert later.status_code == 403
    assert m.client.get(base, params={"exp": str(expires), "sig": "0" * 64}).status_code == 403
    # replayed after its time: refused; a fresh page hands out a fresh link
    clock.advance(timedelta(seconds=301))
    assert m.client.get(first["url"]).status_code == 403
    fresh = m.ok(m.get(f"/stores/{m.stores['a_full']}/business-review", m.seller_tokens["a"]))
    assert m.client.get(fresh["documents"][0]["url"]).status_code == 200


def test_another_seller_reaches_nothing_of_a_review_its_documents_or_its_exit(
    market: Market, clock: FrozenClock
) -> None:  # S1 S4
    m = market
    a, b = m.seller_tokens["a"], m.seller_tokens["b"]
    ids = ready(m, clock)
    store = ids["store"]
    review = rv.fill(m, "a")
    licence = next(d for d in review["documents"] if d["purpose"] == "licence")
    paper = m.ok(exit_upload(m, store, a), 201)
    exit_id = m.ok(apply(m, store, a, document_ids=[paper["id"]]), 201)["id"]
    before = m.ok(m.get(f"/stores/{store}/business-review", a))

    for answer in (
        m.get(f"/stores/{store}/business-review", b),
        m.get(f"/stores/{store}/business-review/documents", b),
        rv.put(m, b, store, {"company_name": "taken over"}),
        rv.upload(m, b, store, "licence", rv.PDF),
        m.post(f"/stores/{store}/business-review/submit", b),
        m.get(f"/business-reviews/{before['id']}", b),
        m.get(f"/business-reviews/{before['id']}/rounds", b),
        m.get(f"/stores/{store}/exit", b),
        exit_upload(m, store, b),
        m.get(f"/exits/{exit_id}", b),
        m.post(f"/exits/{exit_id}/unbind", b, {"stock": "dispose"}),
        m.post(f"/stores/{store}/exit-archive", b),
        m.get(f"/stores/{store}/exit-archive/download", b),
        m.post(f"/stores/{store}/close", b, {"confirm": True}),
    ):
        _problem(answer, 404)
    # naming the other seller's documents in its own forms: unknown to it
    own = m.stores["b_full"]
    _problem(rv.put(m, b, own, {"licence": licence["id"]}), 422, "licence", "document_unknown")
    m.ok(exit_upload(m, own, b), 201)
    # a seller decides nothing: not its review, not its exit
    decision = {"stage": "background", "decision": "approve", "reasons": {}}
    _problem(m.post(f"/business-reviews/{before['id']}/decisions", a, decision), 403)
    _problem(m.post(f"/exits/{exit_id}/decision", a, {"decision": "approve"}), 403)
    assert m.ok(m.get(f"/stores/{store}/business-review", a)) == before
    assert m.ok(m.get(f"/exits/{exit_id}", a))["status"] == "applied"


def test_html_svg_or_a_program_named_pdf_an_empty_or_a_huge_file_are_refused_keeping_nothing(
    market: Market, clock: FrozenClock, settings: Settings
) -> None:  # S1 S4
    m = market
    a = m.seller_tokens["a"]
    ids = ready(m, clock)
    store = ids["store"]
    kept = _stored(settings)
    refusals = (
        (HTML, "document_type"),
        (SVG, "document_type"),
        (EXE, "document_type"),
        (b"", "document_not_empty"),
        (b"%PDF-1.4\n" + b"0" * MAX_BYTES, "document_max_bytes"),
    )
    for data, rule in refusals:
        _problem(rv.upload(m, a, store, "licence", data, "licence.pdf"), 422, "file", rule)
        _problem(exit_upload(m, store, a, data, "exit.pdf"), 422, "file", rule)
    # over every upload route's body limit: refused before it is read
    huge = rv.upload(m, a, store, "licence", b"%PDF-" + b"0" * (33 * 1024 * 1024))
    _problem(huge, 413, rule="max_body_bytes")
    assert _stored(settings) == kept
    assert m.ok(m.get(f"/stores/{store}/business-review/documents", a)) == []


def test_odd_text_in_the_new_fields_is_refused_naming_the_field(
    market: Market, clock: FrozenClock
) -> None:  # S1 S4 C1 M2
    m = market
    a = m.seller_tokens["a"]
    store = m.stores["a_full"]
    for field, value in (
        ("company_name", "深圳\u0000悦声"),
        ("company_name", "悦声\ud800"),
        ("company_name", "长" * 201),
        ("contact_phone", "+⁸⁶ ⁷⁵⁵ ⁸⁸⁸⁸ ⁰⁰⁰⁰"),
        ("account_number", "⁶²²²⁰²¹²³⁴⁵⁶⁷⁸⁹⁰"),
        ("account_number", "١٢٣٤٥٦٧٨٩٠"),
        ("categories", ["=cmd|' /C calc'!A0"]),
        ("categories", ["liquid/perfume²"]),
    ):
        answer = _raw(m, "PUT", f"/stores/{store}/business-review", a, {field: value})
        _problem(answer, 422)
        assert answer.json()["field"].split(".")[0] == field, answer.json()
    product = m.products["a_full"]
    for body, field in (
        ({"name": "耳机\u0000"}, "name"),
        ({"description": "\ud800"}, "description"),
        ({"name": "x", "note": "备注" * 600}, "note"),
        ({"supply_price_minor": "¹²"}, "supply_price_minor"),
        ({"images": ["javascript:alert(1)"]}, "images.0"),
    ):
        _problem(_raw(m, "POST", f"/products/{product}/revisions", a, body), 422, field)
    ids = ready(m, clock)
    for body in ({"reason": "再见\u0000"}, {"reason": "再见\ud800"}, {"reason": "走" * 1001}):
        payload = {**body, "fees_acknowledged": True}
        _problem(_raw(m, "POST", f"/stores/{ids['store']}/exit", a, payload), 422, "reason")
    _problem(apply(m, ids["store"], a, fees_acknowledged="true"), 422, "fees_acknowledged")
    assert m.ok(m.get(f"/stores/{ids['store']}/exit", a))["application"] is None


def test_the_exit_archive_drops_control_characters_and_keeps_formulas_as_text(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # S4
    m = market
    ids = ready(m, clock)
    store, a = ids["store"], ids["token"]
    # the hole: a control character a workbook cannot hold failed the whole archive
    renamed = m.client.patch(
        f"/api/v1/stores/{store}", json={"name": "\x07@SUM(1)"}, headers=auth(a)
    )
    assert renamed.status_code == 200, renamed.text
    paper = m.ok(exit_upload(m, store, a), 201)
    reason = '=HYPERLINK("http://evil.example","点击")\x01\x1b[31m'
    m.ok(apply(m, store, a, reason=reason, document_ids=[paper["id"]]), 201)
    m.ok(m.post(f"/stores/{store}/exit-archive", a), 202)
    sweep_once(client, clock, settings)
    archive = m.ok(m.get(f"/stores/{store}/exit-archive", a))
    assert archive["status"] == "done", archive
    tables = archive_tables(m.client.get(archive["download"], headers=auth(a)).content)
    sheet = dict((row[0], row[1]) for row in tables["sheets"]["store"][1:])
    assert sheet["store_name"] == "'@SUM(1)"
    assert sheet["exit.reason"] == '\'=HYPERLINK("http://evil.example","点击")[31m'
    assert "\x01" not in tables["store.csv"] and "\x07" not in tables["store.csv"]
    assert "store_name,'@SUM(1)" in tables["store.csv"]


def test_a_seller_cannot_change_what_buyers_see_after_approval_nor_list_a_rejected_product(
    market: Market,
) -> None:  # C1 C2
    m = market
    a, b = m.seller_tokens["a"], m.seller_tokens["b"]
    product, other = m.products["a_full"], m.products["b_full"]
    before = m.ok(m.get(f"/products/{product}", a))
    sku = m.ok(m.get(f"/products/{product}/skus", a))[0]
    for body in (
        {"name": "换个名字"},
        {"images": ["https://img.example/new.jpg"]},
        {"weight_g": 1},
    ):
        _problem(m.client.patch(f"/api/v1/products/{product}", json=body, headers=auth(a)), 422)
    _problem(
        m.client.patch(
            f"/api/v1/products/{product}/skus/{sku['id']}",
            json={"attributes": {"colour": "red"}},
            headers=auth(a),
        ),
        422,
        rule="reviewed_fields",
    )
    added = m.post(f"/products/{product}/skus", a, {"code": "NEW-1", "supply_price_minor": 1})
    _problem(added, 422, rule="reviewed_fields")
    _problem(
        m.client.patch(f"/api/v1/products/{product}", json={"price_minor": 1}, headers=auth(a)), 403
    )
    # a revision reaches only its own product's SKUs and revisions
    other_sku = m.ok(m.get(f"/products/{other}/skus", b))[0]["id"]
    foreign = m.post(
        f"/products/{product}/revisions", a, {"skus": [{"id": other_sku, "attributes": {"c": "d"}}]}
    )
    _problem(foreign, 422, "skus.0.id")
    theirs = m.ok(m.post(f"/products/{other}/revisions", b, {"name": "B 的新名字"}), 201)["id"]
    _problem(m.get(f"/products/{product}/revisions/{theirs}", a), 404)
    own = m.ok(m.post(f"/products/{product}/revisions", a, {"name": "新名字"}), 201)["id"]
    decision = {"decision": "approve", "retail_price_minor": 1}
    _problem(m.post(f"/products/{product}/revisions/{own}/decision", a, decision), 403)
    assert m.ok(m.get(f"/products/{product}", a))["name"] == before["name"]

    # a rejected product is not listed
    body = {
        "store_id": m.stores["a_full"],
        "name": "被驳回的商品",
        "category": "electronics/audio",
        "declared_value_minor": 100,
        "weight_g": 10,
        "length_mm": 10,
        "width_mm": 10,
        "height_mm": 10,
        "supply_price_minor": 100,
    }
    rejected = m.ok(m.post("/products", a, body), 201)["id"]
    waiting = m.ok(m.post(f"/products/{rejected}/submit", a))["pending_revision_id"]
    verdict = {"decision": "reject", "reasons": {"product": "图片模糊"}}
    m.ok(m.post(f"/products/{rejected}/revisions/{waiting}/decision", m.operator, verdict))
    _problem(m.post(f"/products/{rejected}/list", a), 409, rule="product_rejected")
    assert m.ok(m.get(f"/products/{rejected}", a))["status"] == "rejected"


def test_an_expired_or_another_sellers_invitation_cannot_be_accepted(
    market: Market, clock: FrozenClock
) -> None:  # M2
    m = market
    seller = m.ok(m.post("/sellers", m.operator, {"name": "Seller c", "country": "CN"}), 201)
    c = issue_token(m.db_url, Role.seller, seller_id=seller["id"])
    store = {
        "seller_id": seller["id"],
        "name": "c self",
        "mode": "self_run",
        "country": "CN",
        "currency": "USD",
        "ship_promise_days": 2,
    }
    base = m.ok(m.post("/stores", m.operator, store), 201)
    invite = {
        "seller_id": seller["id"],
        "store_id": base["id"],
        "message": "=1+1",
        "expires_in_days": 1,
    }
    invitation = m.ok(m.post("/invitations", m.operator, invite), 201)["id"]
    a = m.seller_tokens["a"]
    _problem(m.get(f"/invitations/{invitation}", a), 404)
    _problem(m.post(f"/invitations/{invitation}/accept", a), 404)
    _problem(m.post(f"/invitations/{invitation}/decline", a, {"reason": "不要"}), 404)
    clock.advance(timedelta(days=2))
    _problem(m.post(f"/invitations/{invitation}/accept", c), 409, rule="invitation_expired")
    assert m.ok(m.get(f"/invitations/{invitation}", c))["status"] == "expired"
    stores = m.ok(m.get("/stores", c))
    assert [s["mode"] for s in stores] == ["self_run"]


# -- the console -----------------------------------------------------------------------------------


def test_a_refused_exit_application_keeps_the_fees_ticked_and_the_reason(
    client: TestClient, market: Market, clock: FrozenClock
) -> None:  # S4
    m = market
    ids = ready(m, clock)
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    assert _login(client, "a@example.com") == 303
    page = _page(client, f"/console/exits?store={ids['store']}")
    answer = client.post(
        "/console/exits/apply",
        data={
            "csrf": _csrf(page),
            "store": ids["store"],
            "reason": "专注自营店铺",
            "fees_acknowledged": "yes",
        },
        files={"files": ("exit.pdf", HTML, "application/pdf")},
        follow_redirects=False,
    )
    assert answer.status_code == 422, answer.text
    form = answer.text.split('data-testid="apply-form"')[1].split("</form>")[0]
    assert "专注自营店铺" in form
    assert re.search(r'name="fees_acknowledged" value="yes" required checked', form), form


def test_the_new_product_form_gives_each_sku_code_its_own_line_on_a_phone(
    client: TestClient, market: Market
) -> None:  # C1
    m = market
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    assert _login(client, "a@example.com") == 303
    page = _page(client, f"/console/products/new?store={m.stores['a_full']}")
    rows = re.findall(r'<div data-new-row="\d+">(.*?)</div>\s*</div>', page, re.S)
    assert len(rows) == 2, page
    for row in rows:
        # three labels side by side squeezed the code to nothing at 390 px
        code, rest = row.split('<div class="line-row">')
        assert 'name="new-' in code and "-code" in code
        assert "-attrs" in rest and "-supply" in rest and "-code" not in rest


def test_an_acceptance_recorded_outside_a_request_reads_as_words_not_local(
    client: TestClient, market: Market
) -> None:  # M4
    m = market
    agreement = {
        "label": "2026版",
        "title_zh": "全托管合作协议",
        "title_en": "Full-managed agreement",
        "body_zh": "第一条",
        "body_en": "Article 1",
    }
    version = m.ok(m.post("/agreements", m.operator, agreement), 201)["id"]
    seller = Principal(role=Role.seller, actor_id="usr_demo", seller_id=m.sellers["a"])

    async def accept(session: AsyncSession, ctx: Ctx) -> None:
        as_seller = Ctx(principal=seller, clock=ctx.clock)
        await agreements.accept(session, ctx=as_seller, version_id=version, origin=LOCAL)

    as_system(m.db_url, accept)
    create_console_user(m.db_url, "op@example.com", Role.operator)
    assert _login(client, "op@example.com") == 303
    for lang, words in (("en", "this machine"), ("zh-CN", "本机")):
        page = _page(client, "/console/program", lang)
        assert words in page
        assert '<code class="ref">local</code>' not in page
        assert '<code class="ref">tuoguan</code>' not in page


@pytest.mark.parametrize("header", ["²", "١٢", 'W/"³"'])
def test_if_match_in_other_digits_is_refused_not_a_500(header: str) -> None:  # O2
    with pytest.raises(InvalidInput):
        expected_version(header)


def test_a_push_signature_stamped_in_other_digits_is_refused_not_a_500() -> None:  # F9
    with pytest.raises(Unauthorized):
        verify("secret", "t=²,v1=00", b"{}", datetime(2026, 11, 28, tzinfo=UTC))

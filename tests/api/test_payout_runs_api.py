"""Payout runs over the API (M3): operators preview a cycle's run, read it with each store's
statement linked, and execute it once; anyone else is refused, bad input is a problem naming
the field and the rule, and a refused execution posts nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.ledger import START
from tests.builders.market import Market, as_system, auth
from tests.builders.money import entry_count
from tuoguan.context import Ctx
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger import service as ledger
from tuoguan.ledger.kinds import EntryKind

MON_23 = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # Monday 23 Nov, 00:00 in Shanghai
ACCOUNT = {
    "holder_name": "Shenzhen A Trading",
    "bank_name": "ICBC",
    "account_number": "6222 0212 3456",
}


def _post(m: Market, kind: EntryKind, store: str, amount: int) -> None:
    async def work(session: AsyncSession, ctx: Ctx) -> None:
        await ledger.post(
            session,
            Ctx(principal=ctx.principal, clock=FrozenClock(START + timedelta(hours=1))),
            kind,
            currency="USD",
            parts={"amount": amount},
            store_id=m.stores[store],
        )

    as_system(m.db_url, work)


@pytest.fixture
def due(market: Market, clock: FrozenClock) -> Market:
    """a_full is due 100 and owes 30 with an account bound; b_full is due 40 without one; the
    clock on Monday 23 November after the cycle's end."""
    m = market
    m.ok(
        m.client.put(
            f"/api/v1/stores/{m.stores['a_full']}/payout-account",
            json=ACCOUNT,
            headers={"Authorization": f"Bearer {m.seller_tokens['a']}"},
        )
    )
    _post(m, EntryKind.insurance_claim_paid, "a_full", 10_000)
    _post(m, EntryKind.penalty_charged, "a_full", 3_000)
    _post(m, EntryKind.insurance_claim_paid, "b_full", 4_000)
    clock.current = MON_23 + timedelta(hours=2)
    return m


def _problem(answer: Any, status: int) -> tuple[str, str]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    return body["field"], body["rule"]


def test_an_operator_previews_reads_and_executes_a_run_once(due: Market) -> None:  # M3 F6
    m = due
    key = {"Idempotency-Key": m.new_key()}
    previewed = m.post("/payout-runs", m.operator, {"cycle": "full_managed"}, headers=key)
    assert previewed.status_code == 201, previewed.text
    run = previewed.json()
    assert (run["cycle"], run["status"], run["store_count"]) == ("full_managed", "previewed", 2)
    assert run["period_end"] == "2026-11-22T16:00:00Z"
    by_store = {s["store_id"]: s for s in run["statements"]}
    a, b = by_store[m.stores["a_full"]], by_store[m.stores["b_full"]]
    assert (a["closing_due_minor"], a["netted_minor"], a["payout_minor"], a["status"]) == (
        7_000,
        3_000,
        7_000,
        "paid",
    )
    assert (b["payout_minor"], b["carried_forward_minor"], b["status"]) == (
        0,
        4_000,
        "held_no_account",
    )
    # each statement links to the store's statement of the run's period
    link = urlsplit(a["statement_url"])
    assert link.path == f"/api/v1/stores/{m.stores['a_full']}/statement"
    assert parse_qs(link.query) == {
        "start": [datetime.fromisoformat(run["period_start"]).isoformat()],
        "end": ["2026-11-22T16:00:00+00:00"],
        "currency": ["USD"],
    }
    statement = m.ok(m.client.get(a["statement_url"], headers=auth(m.operator)))
    assert (statement["opening_minor"], statement["closing_minor"]) == (0, 7_000)
    assert run["totals"] == [
        {
            "currency": "USD",
            "paid": 1,
            "carried": 0,
            "held_no_account": 1,
            "nothing_due": 0,
            "netted_minor": 3_000,
            "payout_minor": 7_000,
            "carried_minor": 0,
            "held_minor": 4_000,
        }
    ]
    # the same request again replays the preview; a new one supersedes it
    replay = m.post("/payout-runs", m.operator, {"cycle": "full_managed"}, headers=key)
    assert replay.status_code == 201 and replay.json()["id"] == run["id"]
    newer = m.ok(m.post("/payout-runs", m.operator, {"cycle": "full_managed"}), 201)
    listed = m.ok(m.get("/payout-runs", m.operator))
    assert [(r["id"], r["status"]) for r in listed] == [
        (newer["id"], "previewed"),
        (run["id"], "superseded"),
    ]
    page = m.get("/payout-runs?limit=1", m.operator)
    assert [r["id"] for r in page.json()] == [newer["id"]] and 'rel="next"' in page.headers["Link"]
    assert m.ok(m.get("/payout-runs?cycle=semi_managed", m.operator)) == []

    # executing the superseded preview is refused; the newer one executes once
    posted = entry_count(m.db_url)
    stale = m.post(f"/payout-runs/{run['id']}/execute", m.operator)
    assert _problem(stale, 409) == ("run_id", "run_once")
    assert entry_count(m.db_url) == posted
    key = {"Idempotency-Key": m.new_key()}
    done = m.post(f"/payout-runs/{newer['id']}/execute", m.operator, headers=key)
    assert done.status_code == 200, done.text
    executed = done.json()
    assert executed["status"] == "executed" and executed["executed_at"]
    a = {s["store_id"]: s for s in executed["statements"]}[m.stores["a_full"]]
    assert a["status"] == "paid" and a["payout_id"]
    posted = entry_count(m.db_url)
    assert posted > 0
    # the same key replays the answer; another execution is refused and posts nothing
    replay = m.post(f"/payout-runs/{newer['id']}/execute", m.operator, headers=key)
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    again = m.post(f"/payout-runs/{newer['id']}/execute", m.operator)
    assert _problem(again, 409) == ("run_id", "run_once")
    assert entry_count(m.db_url) == posted
    shown = m.ok(m.get(f"/payout-runs/{newer['id']}", m.operator))
    assert shown["statements"] == executed["statements"]
    # the payout is the payouts API's to read
    payout = m.ok(m.get(f"/payouts/{a['payout_id']}", m.operator))
    assert payout["amount_minor"] == 7_000


def test_only_operators_run_settlements(due: Market) -> None:  # M3
    m = due
    run = m.ok(m.post("/payout-runs", m.operator, {"cycle": "full_managed"}), 201)
    posted = entry_count(m.db_url)
    for token in (m.seller_tokens["a"], m.channel, m.carrier):
        assert m.post("/payout-runs", token, {"cycle": "full_managed"}).status_code == 403
        assert m.get("/payout-runs", token).status_code == 403
        assert m.get(f"/payout-runs/{run['id']}", token).status_code == 403
        refused = m.post(f"/payout-runs/{run['id']}/execute", token)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
    assert m.client.get("/api/v1/payout-runs").status_code == 401
    assert entry_count(m.db_url) == posted
    assert m.ok(m.get(f"/payout-runs/{run['id']}", m.operator))["status"] == "previewed"


def test_bad_input_names_the_field_and_the_rule(due: Market, clock: FrozenClock) -> None:  # M3
    m = due
    for body, field, rule in (
        ({"cycle": "weekly"}, "cycle", "enum"),
        ({}, "cycle", "missing"),
        ({"cycle": "full_managed", "period": "2026-11"}, "period", "extra_forbidden"),
    ):
        assert _problem(m.post("/payout-runs", m.operator, body), 422) == (field, rule)
    assert _problem(m.get("/payout-runs?cycle=weekly", m.operator), 422)[0] == "cycle"
    assert _problem(m.get("/payout-runs?cursor=nonsense", m.operator), 400) == ("cursor", "cursor")
    assert m.get("/payout-runs/prn_nothing", m.operator).status_code == 404
    missing = m.post("/payout-runs/prn_nothing/execute", m.operator)
    assert missing.status_code == 404 and missing.json()["field"] == "run_id"
    # no boundary has passed since the stores opened on Wednesday the 18th
    clock.current = datetime(2026, 11, 20, tzinfo=UTC)
    not_due = m.post("/payout-runs", m.operator, {"cycle": "full_managed"})
    assert _problem(not_due, 409) == ("cycle", "cycle_not_due")
    assert not_due.json()["next_boundary"] == "2026-11-22T16:00:00+00:00"
    assert m.ok(m.get("/payout-runs", m.operator)) == []

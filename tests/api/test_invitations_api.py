"""Invitations to the full-managed program (M2, S4) and joining it (M4, S1, S3), through the API:
an operator invites, the seller accepts or declines, the full-managed store opens joining and
joins once its agreement, business review and deposit are done; each role reaches only its own,
every refusal is a declared problem naming the field and the rule, and nothing changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.market import ADDRESS, Market, as_system, issue_token
from tests.integration.test_deposits import rate
from tuoguan.audit.models import Event
from tuoguan.context import Ctx
from tuoguan.kit.clock import FrozenClock
from tuoguan.kit.ids import new_id
from tuoguan.onboarding.review_models import BusinessReview, ReviewStatus
from tuoguan.principal import Role
from tuoguan.stores.models import Store, StoreStatus

MESSAGE = "诚邀您加入全托管：平台负责运营、仓储与配送。"


def problem(answer: Any, status: int, rule: str | None = None) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = dict(answer.json())
    if rule is not None:
        assert body["rule"] == rule, body
    return body


def declares(client: TestClient, method: str, path: str, *statuses: int) -> None:
    document = client.get("/api/v1/openapi.json").json()
    responses = document["paths"][f"/api/v1{path}"][method]["responses"]
    for status in statuses:
        assert str(status) in responses, f"{method.upper()} {path} does not declare {status}"


def newcomer(m: Market, name: str = "c") -> tuple[str, str, str]:
    """A seller with one self-run store and no full-managed one: (seller, store, its token)."""
    seller = m.ok(m.post("/sellers", m.operator, {"name": f"Seller {name}", "country": "CN"}), 201)
    store = m.ok(
        m.post(
            "/stores",
            m.operator,
            {
                "seller_id": seller["id"],
                "name": f"{name} self",
                "mode": "self_run",
                "country": "CN",
                "currency": "USD",
            },
        ),
        201,
    )
    return seller["id"], store["id"], issue_token(m.db_url, Role.seller, seller_id=seller["id"])


def invite(m: Market, seller: str, store: str, **extra: Any) -> Any:
    body = {"seller_id": seller, "store_id": store, "message": MESSAGE, **extra}
    return m.post("/invitations", m.operator, body)


def counts(db_url: str) -> tuple[int, int]:
    """(stores, invitations) in the database."""

    async def count(session: AsyncSession, _: Ctx) -> tuple[int, int]:
        from tuoguan.onboarding.models import Invitation

        stores = await session.scalar(select(func.count()).select_from(Store))
        invitations = await session.scalar(select(func.count()).select_from(Invitation))
        return int(stores or 0), int(invitations or 0)

    return as_system(db_url, count)


def set_status(db_url: str, store_id: str, status: StoreStatus) -> None:
    """What an exit (S4) leaves behind: the store exited or closed."""

    async def change(session: AsyncSession, _: Ctx) -> None:
        await session.execute(update(Store).where(Store.id == store_id).values(status=status))

    as_system(db_url, change)


def approve_review(m: Market, store_id: str, clock: FrozenClock) -> None:
    """The store's business-info review, approved (S1: its own flow is tested on its own)."""

    async def approved(session: AsyncSession, _: Ctx) -> None:
        store = await session.get(Store, store_id)
        assert store is not None
        now = clock.now()
        session.add(
            BusinessReview(
                id=new_id("business_review"),
                store_id=store_id,
                seller_id=store.seller_id,
                status=ReviewStatus.approved,
                stage=None,
                fields={},
                rejected={},
                round_no=1,
                submitted_at=now,
                approved_at=now,
                created_at=now,
                created_by="usr_test",
                updated_at=now,
            )
        )

    as_system(m.db_url, approved)


def order_for(store_id: str) -> dict[str, Any]:
    return {
        "store_id": store_id,
        "currency": "USD",
        "address": ADDRESS,
        "lines": [{"product_id": "prd_01KB0000000000000000000000", "quantity": 1}],
    }


def kinds(m: Market, token: str) -> list[str]:
    return [n["kind"] for n in m.ok(m.get("/notifications", token))]


def test_an_invited_seller_accepts_and_its_store_joins_once_everything_is_done(
    market: Market, clock: FrozenClock
) -> None:  # M2 M4 S1 S3
    m = market
    rate(m, 150_000)  # 1,500.00 USD for every category (as seeded; a test database is emptied)
    seller, linked, token = newcomer(m)
    sent = m.ok(invite(m, seller, linked, expires_in_days=7), 201)
    assert sent["status"] == "invited" and sent["allowed_actions"] == ["withdraw"]
    assert sent["store_name"] == "c self" and sent["currency"] == "USD"
    assert sent["expires_at"].startswith((clock.now() + timedelta(days=7)).date().isoformat())
    # the seller sees it, told in its inbox, and may accept or decline it
    (mine,) = m.ok(m.get("/invitations", token))
    assert mine["id"] == sent["id"] and mine["allowed_actions"] == ["accept", "decline"]
    assert mine["message"] == MESSAGE
    assert "inv_invited" in kinds(m, token)

    accepted = m.ok(
        m.post(
            f"/invitations/{sent['id']}/accept",
            token,
            headers={"User-Agent": "Mozilla/5.0 test", "X-Forwarded-For": "203.0.113.9"},
        )
    )
    assert accepted["status"] == "accepted" and accepted["allowed_actions"] == []
    # who and from where: the peer, not what the client claims through X-Forwarded-For
    assert accepted["decided_by"] and accepted["decided_from"] == "testclient"
    assert accepted["decided_at"] is not None
    assert "inv_accepted" in kinds(m, m.operator)
    store_id = accepted["full_managed_store_id"]
    store = m.ok(m.get(f"/stores/{store_id}", token))
    assert store["mode"] == "full_managed" and store["linked_store_id"] == linked
    assert store["joined_at"] is None  # joining

    # joining: no orders yet (409 store_joining), the checklist says what is left
    problem(m.post("/orders", m.channel, order_for(store_id)), 409, "store_joining")
    checklist = m.ok(m.get(f"/stores/{store_id}/joining", token))
    assert checklist["agreement_accepted"] and checklist["agreement_id"] is None  # none published
    assert not checklist["review_approved"] and not checklist["deposit_funded"]
    assert checklist["deposit_required_minor"] == 150_000 and not checklist["done"]

    # an agreement published meanwhile must be accepted too
    body = {
        "label": "2026版",
        "title_zh": "全托管合作协议",
        "title_en": "Full-managed programme agreement",
        "body_zh": "第一条 ……",
        "body_en": "Article 1 ...",
    }
    agreement = m.ok(m.post("/agreements", m.operator, body), 201)
    assert not m.ok(m.get(f"/stores/{store_id}/joining", token))["agreement_accepted"]
    approve_review(m, store_id, clock)
    m.ok(m.post(f"/agreements/{agreement['id']}/accept", token), 201)
    assert m.ok(m.get(f"/stores/{store_id}", token))["joined_at"] is None  # no deposit yet
    fund = {"amount_minor": 150_000, "currency": "USD", "reference": "TT-JOIN"}
    m.ok(m.post(f"/stores/{store_id}/deposit/fundings", m.operator, fund), 201)

    # all three done: joined at the deposit's moment, told, and orders reach the catalog
    done = m.ok(m.get(f"/stores/{store_id}/joining", token))
    assert done["done"] and done["joined_at"] is not None
    assert "join_joined" in kinds(m, token)
    refused = problem(m.post("/orders", m.channel, order_for(store_id)), 422)
    assert refused.get("rule") != "store_joining"


def test_a_seller_who_exited_is_never_invited_again(
    client: TestClient, market: Market
) -> None:  # S4
    m = market
    set_status(m.db_url, m.stores["a_full"], StoreStatus.exited)
    before = counts(m.db_url)
    refused = problem(invite(m, m.sellers["a"], m.stores["a_self"]), 409, "seller_exited")
    assert refused["field"] == "seller_id" and "cannot join it again" in refused["detail"]
    # nor opened directly on its behalf
    direct = {
        "seller_id": m.sellers["a"],
        "name": "back again",
        "mode": "full_managed",
        "country": "CN",
        "currency": "USD",
        "linked_store_id": m.stores["a_self"],
        "on_behalf_reason": "the seller asked",
    }
    problem(m.post("/stores", m.operator, direct), 409, "seller_exited")
    # closed is the same
    set_status(m.db_url, m.stores["a_full"], StoreStatus.closed)
    problem(invite(m, m.sellers["a"], m.stores["a_semi"]), 409, "seller_exited")
    assert counts(m.db_url) == before
    declares(client, "post", "/invitations", 401, 403, 404, 409, 422)


def test_refusals_name_the_field_and_the_rule_and_change_nothing(
    client: TestClient, market: Market, clock: FrozenClock
) -> None:  # M2
    m = market
    seller, linked, token = newcomer(m)
    before = counts(m.db_url)
    # a seller does not invite; an unknown seller is not found
    problem(
        m.post("/invitations", token, {"seller_id": seller, "store_id": linked, "message": "x"}),
        403,
    )
    problem(invite(m, "sel_01KB0000000000000000000000", linked), 404)
    # a store not the seller's, or not in good standing
    assert (
        problem(invite(m, seller, m.stores["a_self"]), 422, "sellers_store")["field"] == "store_id"
    )
    assert problem(invite(m, m.sellers["b"], m.stores["b_self"]), 409, "already_in_program")
    for days in (0, 61, "14"):
        assert (
            problem(invite(m, seller, linked, expires_in_days=days), 422)["field"]
            == "expires_in_days"
        )
    assert problem(invite(m, seller, linked, message=" "), 422)["field"] == "message"
    assert counts(m.db_url) == before

    sent = m.ok(invite(m, seller, linked), 201)
    again = problem(invite(m, seller, linked), 409, "one_open_invitation")
    assert again["invitation_id"] == sent["id"]
    # another seller's invitation reads as not found, whatever it asks
    other = m.seller_tokens["a"]
    problem(m.get(f"/invitations/{sent['id']}", other), 404)
    problem(m.post(f"/invitations/{sent['id']}/accept", other), 404)
    problem(m.post(f"/invitations/{sent['id']}/decline", other), 404)
    assert sent["id"] not in [i["id"] for i in m.ok(m.get("/invitations", other))]
    # an operator does not answer for the seller here; a seller does not withdraw
    problem(m.post(f"/invitations/{sent['id']}/accept", m.operator), 403)
    problem(m.post(f"/invitations/{sent['id']}/withdraw", token, {"reason": "x"}), 403)
    # the other roles reach nothing
    for role_token in (m.channel, m.carrier):
        problem(m.get("/invitations", role_token), 403)
        problem(m.post(f"/invitations/{sent['id']}/accept", role_token), 403)

    # expired: shown so, refused, nothing opened
    clock.current = clock.now() + timedelta(days=14, seconds=1)
    assert m.ok(m.get(f"/invitations/{sent['id']}", token))["status"] == "expired"
    expired = m.ok(m.get("/invitations", m.operator, params={"status": "expired"}))
    assert [i["id"] for i in expired] == [sent["id"]]
    assert m.ok(m.get("/invitations", m.operator, params={"status": "invited"})) == []
    stores_before = counts(m.db_url)[0]
    problem(m.post(f"/invitations/{sent['id']}/accept", token), 409, "invitation_expired")
    problem(m.post(f"/invitations/{sent['id']}/decline", token), 409, "invitation_expired")
    assert counts(m.db_url)[0] == stores_before
    problem(m.post(f"/invitations/{sent['id']}/withdraw", m.operator, {"reason": "late"}), 409)
    # a new invitation replaces the expired one, which is written expired
    fresh = m.ok(invite(m, seller, linked), 201)
    assert m.ok(m.get(f"/invitations/{sent['id']}", m.operator))["status"] == "expired"
    # withdrawn: the seller is told, and it can no longer be accepted
    m.ok(m.post(f"/invitations/{fresh['id']}/withdraw", m.operator, {"reason": "wrong store"}))
    assert "inv_withdrawn" in kinds(m, token)
    problem(m.post(f"/invitations/{fresh['id']}/accept", token), 409, "state_allows_action")
    declares(client, "post", "/invitations/{invitation_id}/accept", 401, 403, 404, 409, 422)
    declares(client, "get", "/invitations", 400, 401, 403, 422)


def test_the_seller_declines_with_a_reason(market: Market) -> None:  # M2
    m = market
    seller, linked, token = newcomer(m)
    sent = m.ok(invite(m, seller, linked), 201)
    stores_before = counts(m.db_url)[0]
    declined = m.ok(m.post(f"/invitations/{sent['id']}/decline", token, {"reason": "先做好自运营"}))
    assert declined["status"] == "declined" and declined["decision_note"] == "先做好自运营"
    assert counts(m.db_url)[0] == stores_before  # no store opened
    operators = m.ok(m.get("/notifications", m.operator))
    told = [n for n in operators if n["kind"] == "inv_declined"]
    assert told and told[0]["params"]["reason"] == "先做好自运营"
    problem(m.post(f"/invitations/{sent['id']}/accept", token), 409, "state_allows_action")
    # declined, the seller may be invited again
    m.ok(invite(m, seller, linked), 201)


def test_an_operator_opening_a_full_managed_store_accepts_on_the_sellers_behalf(
    market: Market,
) -> None:  # M2
    m = market
    seller, linked, token = newcomer(m)
    body = {
        "seller_id": seller,
        "name": "c full",
        "mode": "full_managed",
        "country": "CN",
        "currency": "USD",
        "linked_store_id": linked,
    }
    refused = problem(m.post("/stores", m.operator, body), 422, "on_behalf_reason_required")
    assert refused["field"] == "on_behalf_reason"
    problem(m.post("/stores", token, {**body, "on_behalf_reason": "me"}), 403)
    wrong = {**body, "mode": "self_run", "linked_store_id": None, "on_behalf_reason": "x"}
    problem(m.post("/stores", m.operator, wrong), 422, "full_managed_only")
    pending = m.ok(invite(m, seller, linked), 201)  # answered by the direct opening
    store = m.ok(
        m.post("/stores", m.operator, {**body, "on_behalf_reason": "signed on paper 2026-11-01"}),
        201,
    )
    assert store["joined_at"] is not None  # joined at once
    rows = m.ok(m.get("/invitations", token))
    accepted = next(i for i in rows if i["full_managed_store_id"] == store["id"])
    assert accepted["status"] == "accepted" and accepted["on_behalf"]
    assert accepted["on_behalf_reason"] == "signed on paper 2026-11-01"
    assert m.ok(m.get(f"/invitations/{pending['id']}", token))["status"] == "withdrawn"

    async def events(session: AsyncSession, _: Ctx) -> list[Event]:
        return list(
            await session.scalars(
                select(Event).where(Event.subject_id == accepted["id"]).order_by(Event.seq)
            )
        )

    (event,) = as_system(m.db_url, events)
    assert event.action == "accept_on_behalf" and event.reason == "signed on paper 2026-11-01"
    assert event.data["joined_at"] and "at once" in event.data["joined"]


def test_a_retried_invitation_and_acceptance_are_answered_once(market: Market) -> None:  # M2
    m = market
    seller, linked, token = newcomer(m)
    key = {"Idempotency-Key": m.new_key()}
    body = {"seller_id": seller, "store_id": linked, "message": MESSAGE}
    first = m.post("/invitations", m.operator, body, headers=key)
    again = m.post("/invitations", m.operator, body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    key = {"Idempotency-Key": m.new_key()}
    path = f"/invitations/{first.json()['id']}/accept"
    accepted = m.ok(m.post(path, token, headers=key))
    stores_after = counts(m.db_url)[0]
    replay = m.post(path, token, headers=key)
    assert replay.status_code == 200
    assert replay.json()["full_managed_store_id"] == accepted["full_managed_store_id"]
    assert counts(m.db_url)[0] == stores_after

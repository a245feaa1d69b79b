"""Receiving inbound notices through the API (R1, R2, M5, C3), on both engines.

Warehouse staff scan the ASN, count each SKU good or defective, and close; what differs from
the notice is a discrepancy (收货异常) with who, when and what, and photos.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.builders.inbound import (
    JPEG,
    PNG,
    WEBP,
    add_sku,
    count,
    draft,
    receiving_setup,
    sent,
    staff,
    stock,
)
from tests.builders.market import Market, auth
from tests.builders.stock import make_warehouse
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.fulfilment import receiving
from tuoguan.fulfilment.inbound_schemas import CountsCreate
from tuoguan.inventory import check
from tuoguan.principal import Principal, Role


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """The test settings, with photos kept in this test's own folder."""
    return Settings(
        database_url=db_url,
        environment="test",
        db_pool_size=5,
        outbound_allow="127.0.0.1",
        upload_dir=str(tmp_path / "uploads"),
    )


def _refused(answer: Any, status: int, field: str, rule: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    problem = answer.json()
    assert (problem["field"], problem["rule"]) == (field, rule), problem
    return dict(problem)


def _notice(m: Market, token: str, notice_id: str) -> dict[str, Any]:
    return dict(m.ok(m.get(f"/inbound-notices/{notice_id}", token)))


def _moves(m: Market, warehouse_id: str, sku_id: str) -> list[tuple[str, int | None]]:
    rows = m.ok(
        m.get("/stock/moves", m.operator, params={"warehouse_id": warehouse_id, "sku_id": sku_id})
    )
    return [(r["kind"], r["quantity"]) for r in reversed(rows)]


def _arrived(m: Market, token: str, notice_id: str) -> dict[str, Any]:
    return dict(m.ok(m.post(f"/inbound-notices/{notice_id}/arrive", token)))


def test_the_warehouse_receives_a_notice_in_full_and_the_stock_is_available(market: Market) -> None:
    # R1 (count, inspect, put away), M5 (the ledger), C3 (SKUs scanned at receiving)
    m = market
    warehouse, dock, sku = receiving_setup(m)
    red = add_sku(m, "a_full", "EAR-RED", barcode="6901234567892")
    notice = sent(m, warehouse, [(sku, 3), (red, 2)], cartons=2)
    assert notice["status"] == "in_transit"
    assert stock(m, warehouse, red) == {
        "on_hand": 0,
        "reserved": 0,
        "available": 0,
        "defective": 0,
        "inbound": 2,
    }

    # given the cartons reached the warehouse and the staff started receiving
    found = m.ok(m.get("/inbound-notices/lookup", dock, params={"code": notice["id"].lower()}))
    assert [n["id"] for n in found] == [notice["id"]]
    arrived = _arrived(m, dock, notice["id"])
    assert arrived["status"] == "arrived" and arrived["arrived_at"]
    assert arrived["allowed_actions"] == ["start_receiving", "count", "close"]
    receiving = m.ok(m.post(f"/inbound-notices/{notice['id']}/start-receiving", dock))
    assert receiving["status"] == "receiving"

    # when a scanner counts one unit at a time, by barcode and by code, each scan with its key
    line = m.ok(
        m.get(
            f"/inbound-notices/{notice['id']}/lines/lookup", dock, params={"code": "6901234567892"}
        )
    )
    assert (line["sku_id"], line["expected"], line["outstanding"]) == (red, 2, 2)
    sku_code = next(li["sku_code"] for li in receiving["lines"] if li["sku_id"] == sku)
    for n in range(3):
        m.ok(count(m, dock, notice["id"], {"code": sku_code, "good": 1}, key=f"scan-{n}"))
    # a scan sent twice with its key is answered again, not counted again
    replay = count(m, dock, notice["id"], {"code": sku_code, "good": 1}, key="scan-2")
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    counted = m.ok(
        count(
            m, dock, notice["id"], {"code": "6901234567892", "good": 1}, {"sku_id": red, "good": 1}
        )
    )
    assert {li["sku_id"]: li["received_good"] for li in counted["lines"]} == {sku: 3, red: 2}
    assert counted["units_counted"] == counted["units_expected"] == 5

    # then each count was put away at once: on hand and available, the announcement settled
    assert stock(m, warehouse, red) == {
        "on_hand": 2,
        "reserved": 0,
        "available": 2,
        "defective": 0,
        "inbound": 0,
    }

    # and closing finds every line counted as announced: received, nothing to record
    closed = m.ok(m.post(f"/inbound-notices/{notice['id']}/close", dock))
    assert closed["status"] == "received" and closed["received_at"]
    assert closed["discrepancies"] == [] and closed["allowed_actions"] == []
    assert stock(m, warehouse, sku)["on_hand"] == 3 and stock(m, warehouse, sku)["inbound"] == 0
    assert _moves(m, warehouse, sku) == [
        ("inbound", 3),
        ("receipt", 1),
        ("inbound_cancel", 1),
        ("receipt", 1),
        ("inbound_cancel", 1),
        ("receipt", 1),
        ("inbound_cancel", 1),
    ]
    # the seller follows it too
    assert _notice(m, m.seller_tokens["a"], notice["id"])["status"] == "received"


def test_a_partial_receipt_closes_with_a_short_discrepancy(market: Market) -> None:
    # R1 (partial receipts allowed), R2 (short, 少货: who, when, expected, counted)
    m = market
    warehouse, dock, sku = receiving_setup(m)
    notice = sent(m, warehouse, [(sku, 10)])
    _arrived(m, dock, notice["id"])
    m.ok(count(m, dock, notice["id"], {"sku_id": sku, "good": 7}))

    closed = m.ok(m.post(f"/inbound-notices/{notice['id']}/close", dock))

    assert closed["status"] == "closed_with_discrepancies"
    (short,) = closed["discrepancies"]
    assert (short["kind"], short["sku_id"], short["expected"], short["counted"]) == (
        "short",
        sku,
        10,
        7,
    )
    assert short["recorded_by"] and short["recorded_at"]
    # the three that never came leave the inbound bucket; the seven are on hand
    assert stock(m, warehouse, sku) == {
        "on_hand": 7,
        "reserved": 0,
        "available": 7,
        "defective": 0,
        "inbound": 0,
    }
    assert _moves(m, warehouse, sku)[-1] == ("inbound_cancel", 3)


def test_over_receipt_needs_an_over_discrepancy(market: Market) -> None:
    # R2 (over, 多货); issue 12 bad input: more than the notice without an "over" discrepancy
    m = market
    warehouse, dock, sku = receiving_setup(m)
    notice = sent(m, warehouse, [(sku, 2)])
    _arrived(m, dock, notice["id"])
    m.ok(count(m, dock, notice["id"], {"sku_id": sku, "good": 2}))
    before = (stock(m, warehouse, sku), _notice(m, dock, notice["id"]))

    refused = count(m, dock, notice["id"], {"sku_id": sku, "good": 1})
    problem = _refused(refused, 422, "counts.0.good", "over_receipt_needs_discrepancy")
    assert (problem["expected"], problem["counted"]) == (2, 3)
    # a count that is not over cannot claim to be
    early = sent(m, warehouse, [(sku, 5)])
    _arrived(m, dock, early["id"])
    not_over = count(
        m, dock, early["id"], {"sku_id": sku, "good": 1, "discrepancy": {"kind": "over"}}
    )
    _refused(not_over, 422, "counts.0.discrepancy.kind", "not_over_expected")
    assert (stock(m, warehouse, sku)["on_hand"], _notice(m, dock, notice["id"])) == (
        before[0]["on_hand"],
        before[1],
    )

    # when the extra is recorded as over, it is received and put away; the next extra follows it
    over = {
        "sku_id": sku,
        "good": 1,
        "discrepancy": {"kind": "over", "note": "1 extra in carton 2"},
    }
    m.ok(count(m, dock, notice["id"], over))
    counted = m.ok(count(m, dock, notice["id"], {"sku_id": sku, "good": 1}))
    (recorded,) = counted["discrepancies"]
    assert (recorded["kind"], recorded["expected"], recorded["counted"]) == ("over", 2, 4)
    assert recorded["note"] == "1 extra in carton 2"
    # the inbound bucket settled only what was announced: early's 5 are still on their way
    assert stock(m, warehouse, sku)["on_hand"] == 4 and stock(m, warehouse, sku)["inbound"] == 5
    closed = m.ok(m.post(f"/inbound-notices/{notice['id']}/close", dock))
    assert closed["status"] == "closed_with_discrepancies"


def test_a_sku_not_on_the_notice_is_refused_or_recorded_as_a_wrong_sku(market: Market) -> None:
    # R2 (wrong item, 错货); issue 12 bad input: a SKU that is not on the notice
    m = market
    warehouse, dock, sku = receiving_setup(m)
    stray = add_sku(m, "a_full", "EAR-BLUE", barcode="6909999999999")
    notice = sent(m, warehouse, [(sku, 4)])
    _arrived(m, dock, notice["id"])

    refused = count(m, dock, notice["id"], {"code": "6909999999999", "good": 1})
    _refused(refused, 422, "counts.0.code", "sku_not_on_notice")
    _refused(
        count(m, dock, notice["id"], {"sku_id": stray, "good": 1}),
        422,
        "counts.0.sku_id",
        "sku_not_on_notice",
    )
    # one bad count refuses the whole request: the good count before it is not written either
    both = count(m, dock, notice["id"], {"sku_id": sku, "good": 1}, {"code": "nope", "good": 1})
    _refused(both, 422, "counts.1.code", "sku_not_on_notice")
    assert _notice(m, dock, notice["id"])["units_counted"] == 0
    on_notice = count(
        m, dock, notice["id"], {"sku_id": sku, "good": 1, "discrepancy": {"kind": "wrong_sku"}}
    )
    _refused(on_notice, 422, "counts.0.discrepancy.kind", "sku_on_notice")

    # when recorded as wrong SKUs: a SKU of the store and a barcode nobody knows
    wrong = {"kind": "wrong_sku", "note": "blue instead of black"}
    m.ok(count(m, dock, notice["id"], {"code": "6909999999999", "good": 2, "discrepancy": wrong}))
    m.ok(count(m, dock, notice["id"], {"code": "6909999999999", "good": 1, "discrepancy": wrong}))
    unknown = m.ok(
        count(
            m,
            dock,
            notice["id"],
            {"code": "X-UNKNOWN-42", "good": 1, "discrepancy": {"kind": "wrong_sku"}},
        )
    )

    # then each is kept once with what was scanned and how many, and nothing is stocked
    kept = {
        (d["kind"], d["sku_id"], d["scanned_code"], d["counted"]) for d in unknown["discrepancies"]
    }
    assert kept == {
        ("wrong_sku", stray, "6909999999999", 3),
        ("wrong_sku", None, "X-UNKNOWN-42", 1),
    }
    assert stock(m, warehouse, stray)["on_hand"] == 0
    assert unknown["units_counted"] == 0 and unknown["status"] == "receiving"


def test_negative_and_empty_counts_are_refused(market: Market) -> None:
    # issue 12 bad input: negative quantities
    m = market
    warehouse, dock, sku = receiving_setup(m)
    notice = sent(m, warehouse, [(sku, 4)])
    _arrived(m, dock, notice["id"])

    _refused(
        count(m, dock, notice["id"], {"sku_id": sku, "good": -1}),
        422,
        "counts.0.good",
        "greater_than_equal",
    )
    _refused(
        count(m, dock, notice["id"], {"sku_id": sku, "good": 2, "defective": -1}),
        422,
        "counts.0.defective",
        "greater_than_equal",
    )
    _refused(
        count(m, dock, notice["id"], {"sku_id": sku, "good": 0}),
        422,
        "counts.0.good",
        "count_positive",
    )
    _refused(count(m, dock, notice["id"], {"good": 1}), 422, "counts.0.code", "sku_named")
    _refused(
        count(m, dock, notice["id"], {"sku_id": sku, "good": True}),
        422,
        "counts.0.good",
        "int_type",
    )

    assert _notice(m, dock, notice["id"])["status"] == "arrived"
    assert stock(m, warehouse, sku)["on_hand"] == 0


def test_defective_units_are_kept_apart_as_a_damaged_discrepancy(market: Market) -> None:
    # R1 (inspect, 验货), R2 (damaged, 破损), M5 (defective stock)
    m = market
    warehouse, dock, sku = receiving_setup(m)
    notice = sent(m, warehouse, [(sku, 5)])
    _arrived(m, dock, notice["id"])

    counted = m.ok(
        count(
            m,
            dock,
            notice["id"],
            {
                "sku_id": sku,
                "good": 3,
                "defective": 2,
                "discrepancy": {"kind": "damaged", "note": "crushed"},
            },
        )
    )

    (damaged,) = counted["discrepancies"]
    assert (damaged["kind"], damaged["counted"], damaged["note"]) == ("damaged", 2, "crushed")
    assert stock(m, warehouse, sku) == {
        "on_hand": 3,
        "reserved": 0,
        "available": 3,
        "defective": 2,
        "inbound": 0,
    }
    # no ledger kind means "received defective": a receipt, then the move to defective
    assert _moves(m, warehouse, sku)[1:] == [
        ("receipt", 3),
        ("receipt", 2),
        ("defective", 2),
        ("inbound_cancel", 5),
    ]
    closed = m.ok(m.post(f"/inbound-notices/{notice['id']}/close", dock))
    assert closed["status"] == "closed_with_discrepancies"
    assert [d["kind"] for d in closed["discrepancies"]] == ["damaged"]


def test_only_the_warehouse_of_the_notice_receives_it(market: Market) -> None:
    # issue 12 bad input: a warehouse user acting on another warehouse (404, as for a seller)
    m = market
    warehouse, dock, sku = receiving_setup(m)
    elsewhere = staff(m, make_warehouse(m)["id"])
    waiting = draft(m, warehouse, [(sku, 2)])
    notice = sent(m, warehouse, [(sku, 2)])

    for path in ("arrive", "start-receiving", "close"):
        answer = m.post(f"/inbound-notices/{notice['id']}/{path}", elsewhere)
        assert answer.status_code == 404 and answer.json()["field"] == "notice_id", answer.text
    assert count(m, elsewhere, notice["id"], {"sku_id": sku, "good": 1}).status_code == 404
    assert m.get(f"/inbound-notices/{notice['id']}", elsewhere).status_code == 404
    assert m.ok(m.get("/inbound-notices", elsewhere)) == []
    assert (
        m.ok(
            m.get("/inbound-notices/lookup", elsewhere, params={"code": notice["tracking_number"]})
        )
        == []
    )
    # the warehouse's own staff do not see a draft (it has not left the seller)
    assert m.get(f"/inbound-notices/{waiting['id']}", dock).status_code == 404
    assert [n["id"] for n in m.ok(m.get("/inbound-notices", dock))] == [notice["id"]]
    # a seller does not receive, not even its own notice
    seller = m.seller_tokens["a"]
    assert m.post(f"/inbound-notices/{notice['id']}/arrive", seller).status_code == 403
    assert count(m, seller, notice["id"], {"sku_id": sku, "good": 1}).status_code == 403
    assert _notice(m, m.operator, notice["id"])["status"] == "in_transit"


def test_a_notice_is_counted_only_once_it_arrived_and_until_it_closes(market: Market) -> None:
    # R1: in transit → arrived → receiving → closed; each step in its state only
    m = market
    warehouse, dock, sku = receiving_setup(m)
    notice = sent(m, warehouse, [(sku, 2)])

    early = count(m, dock, notice["id"], {"sku_id": sku, "good": 1})
    problem = _refused(early, 409, "status", "state_allows_action")
    assert problem["current_state"] == "in_transit" and problem["allowed_actions"] == ["arrive"]
    _refused(
        m.post(f"/inbound-notices/{notice['id']}/close", dock), 409, "status", "state_allows_action"
    )
    _arrived(m, dock, notice["id"])
    _refused(
        m.post(f"/inbound-notices/{notice['id']}/arrive", dock),
        409,
        "status",
        "state_allows_action",
    )
    m.ok(m.post(f"/inbound-notices/{notice['id']}/close", dock))
    late = count(m, dock, notice["id"], {"sku_id": sku, "good": 1})
    assert _refused(late, 409, "status", "state_allows_action")["current_state"] == (
        "closed_with_discrepancies"
    )
    assert stock(m, warehouse, sku)["on_hand"] == 0


def _upload(m: Market, token: str, notice_id: str, dsc_id: str, name: str, data: bytes) -> Any:
    return m.client.post(
        f"/api/v1/inbound-notices/{notice_id}/discrepancies/{dsc_id}/photos",
        files={"file": (name, data, "image/jpeg")},
        headers=auth(token),
    )


def test_discrepancy_photos_are_checked_by_content_and_shown_to_those_concerned(
    market: Market, settings: Settings
) -> None:
    # R2, R3 (evidence: photos, with who and when)
    m = market
    warehouse, dock, sku = receiving_setup(m)
    notice = sent(m, warehouse, [(sku, 3)])
    _arrived(m, dock, notice["id"])
    counted = m.ok(count(m, dock, notice["id"], {"sku_id": sku, "good": 2, "defective": 1}))
    (damaged,) = counted["discrepancies"]

    # a .jpg that is really text, an empty file and one over 5 MB are refused
    _refused(
        _upload(m, dock, notice["id"], damaged["id"], "box.jpg", b"just some text"),
        422,
        "file",
        "photo_type",
    )
    _refused(
        _upload(m, dock, notice["id"], damaged["id"], "box.jpg", b""),
        422,
        "file",
        "photo_not_empty",
    )
    huge = JPEG + b"\x00" * (5 * 1024 * 1024)
    _refused(
        _upload(m, dock, notice["id"], damaged["id"], "huge.jpg", huge),
        422,
        "file",
        "photo_max_bytes",
    )
    # a photo named .txt is a photo all the same: its content decides
    shown = m.ok(_upload(m, dock, notice["id"], damaged["id"], "crushed.txt", PNG), 201)
    (photo,) = shown["photos"]
    assert (photo["n"], photo["content_type"], photo["name"]) == (1, "image/png", "crushed.txt")
    digest = hashlib.sha256(PNG).hexdigest()
    assert photo["sha256"] == digest
    stored = Path(settings.upload_dir) / "inbound" / digest[:2] / f"{digest}.png"
    assert stored.read_bytes() == PNG
    # the same photo again is kept once
    again = m.ok(_upload(m, dock, notice["id"], damaged["id"], "again.png", PNG), 201)
    assert len(again["photos"]) == 1

    # up to six per discrepancy
    for n in range(5):
        m.ok(
            _upload(m, m.operator, notice["id"], damaged["id"], f"{n}.jpg", JPEG + bytes([n])), 201
        )
    seventh = _upload(m, dock, notice["id"], damaged["id"], "7.webp", WEBP)
    _refused(seventh, 409, "file", "max_photos")

    # served to the seller, the operators and the warehouse's staff; nobody else sees it
    url = photo["url"].removeprefix("/api/v1")
    for token in (m.seller_tokens["a"], m.operator, dock):
        answer = m.get(url, token)
        assert answer.status_code == 200 and answer.content == PNG
        assert answer.headers["content-type"] == "image/png"
    elsewhere = staff(m, make_warehouse(m)["id"])
    for token in (m.seller_tokens["b"], elsewhere):
        assert m.get(url, token).status_code == 404
    assert m.get(url.replace("/photos/1", "/photos/9"), dock).status_code == 404
    # only the warehouse side attaches photos
    seller_upload = _upload(m, m.seller_tokens["a"], notice["id"], damaged["id"], "s.jpg", JPEG)
    assert seller_upload.status_code == 403


def _scanner(db_url: str, notice_id: str, principal: Principal, start: threading.Barrier) -> int:
    """One scanner's counts of one unit each, sent all at once once both scanners are ready."""

    async def main() -> int:
        async with Database.opened(db_url, pool_size=SCANS) as db:

            async def scan() -> None:
                async with db.write() as session:
                    await receiving.count(
                        session,
                        ctx=Ctx(principal=principal),
                        notice_id=notice_id,
                        data=CountsCreate.model_validate(
                            {"counts": [{"code": "EAR-RACE", "good": 1}]}
                        ),
                    )
                    await session.commit()

            async with db.read() as warm:
                await warm.connection()
            await asyncio.to_thread(start.wait)
            await asyncio.gather(*(scan() for _ in range(SCANS)))
            return SCANS

    return asyncio.run(main())


SCANS = 5


def test_two_scanners_counting_at_once_lose_no_unit(market: Market) -> None:
    # R1, M5: counts are additive under concurrency; the ledger and the balances agree
    m = market
    warehouse, _, _ = receiving_setup(m)
    sku = add_sku(m, "a_full", "EAR-RACE")
    notice = sent(m, warehouse, [(sku, 2 * SCANS)])
    dock = Principal(role=Role.warehouse, actor_id="dock", warehouse_ids=(warehouse,))
    _arrived(m, m.operator, notice["id"])
    start = threading.Barrier(2)

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(lambda _: _scanner(m.db_url, notice["id"], dock, start), range(2)))

    assert sum(done) == 2 * SCANS
    (line,) = _notice(m, m.operator, notice["id"])["lines"]
    assert line["received_good"] == 2 * SCANS and line["outstanding"] == 0
    assert stock(m, warehouse, sku) == {
        "on_hand": 2 * SCANS,
        "reserved": 0,
        "available": 2 * SCANS,
        "defective": 0,
        "inbound": 0,
    }

    async def rebuilt() -> check.CheckReport:
        async with Database.opened(m.db_url) as db, db.read() as session:
            return await check.check(session)

    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(asyncio.run, rebuilt()).result().differences == []

"""Order exports (O5): the inline CSV streams in chunks with flat memory; larger exports run as
jobs the worker writes to a file, with progress, a download link, a lease and an expiry."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.export_memory import stream_export
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from tests.builders.faults import refusing
from tests.builders.market import ADDRESS, PASSWORD, Market, auth, create_console_user
from tests.builders.workers import race_workers, sweep_once
from tuoguan.audit import service as audit
from tuoguan.cli.main import app as cli
from tuoguan.cli.main import upgrade_database
from tuoguan.config import Settings
from tuoguan.db import Database
from tuoguan.exports import tasks
from tuoguan.exports.models import ExportJob
from tuoguan.exports.service import KEEP, LEASE, MAX_ATTEMPTS
from tuoguan.kit.clock import Clock, FrozenClock
from tuoguan.orders import views
from tuoguan.principal import Role
from tuoguan.web import export_pages
from tuoguan.worker.exports import run_exports
from tuoguan.worker.isolation import system_ctx

SHIP = {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"}


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Test settings with the export files in this test's folder."""
    return Settings(
        database_url=db_url,
        environment="test",
        db_pool_size=5,
        outbound_allow="127.0.0.1",
        export_dir=str(tmp_path / "exports"),
    )


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    """Exports read two orders per chunk, so a handful of orders makes several chunks."""
    monkeypatch.setattr(views, "EXPORT_CHUNK", 2)
    return 2


def _db(client: TestClient) -> Database:
    db: Database = client.app.state.db  # type: ignore[attr-defined]
    return db


def _place(m: Market, n: int, store: str = "a_self") -> list[str]:
    return [m.place(store)["id"] for _ in range(n)]


def _inline(m: Market, token: str, **params: Any) -> str:
    response = m.get("/orders/export.csv", token, params=params)
    assert response.status_code == 200, response.text
    return str(response.text)


def _start(m: Market, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    job = m.ok(m.post("/exports", token, body or {}), 202)
    return dict(job)


def _file(m: Market, token: str, job: dict[str, Any]) -> Any:
    return m.get(f"/exports/{job['id']}/file", token)


# -- the inline export ----------------------------------------------------------------------


def test_the_inline_export_streams_chunk_by_chunk_without_a_length(
    client: TestClient, market: Market, small_chunks: int
) -> None:  # O5
    m = market
    ids = _place(m, 7)
    headers = auth(m.operator)
    assert client.portal is not None
    # when the export is read straight from the ASGI app, each body message as it is sent
    streamed = client.portal.call(
        stream_export, client.app, "/api/v1/orders/export.csv?limit=7", headers
    )
    # then every chunk of orders is a message of its own, and no length is announced up front
    assert streamed.status == 200
    assert streamed.chunks == 4  # 2 + 2 + 2 + 1 orders
    assert "content-length" not in streamed.headers
    assert streamed.headers["content-type"].startswith("text/csv")
    rows = _inline(m, m.operator).splitlines()
    assert len(rows) == 8 and rows[0].startswith("id,store_id")
    assert [row.split(",")[0] for row in rows[1:]] == sorted(ids, reverse=True)  # newest first


def test_an_inline_export_over_the_threshold_is_refused_naming_the_job(
    client: TestClient, market: Market, settings: Settings
) -> None:  # O5
    m = market
    over = m.get(
        "/orders/export.csv", m.operator, params={"limit": settings.export_inline_rows + 1}
    )
    assert over.status_code == 422
    problem = over.json()
    assert problem["field"] == "limit" and problem["rule"] == "export_inline_max"
    assert "/api/v1/exports" in problem["detail"]
    at = m.get("/orders/export.csv", m.operator, params={"limit": settings.export_inline_rows})
    assert at.status_code == 200


# -- export jobs ----------------------------------------------------------------------------


def test_an_export_job_runs_to_a_file_equal_to_the_inline_export(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O5
    m = market
    _place(m, 3)
    _place(m, 2, "b_semi")
    m.ok(m.post(f"/orders/{_place(m, 1)[0]}/ship", m.seller_tokens["a"], SHIP))
    # given an operator's export of the orders awaiting shipment
    body = {"status": ["awaiting_shipment"], "limit": 100}
    job = _start(m, m.operator, body)
    assert job["status"] == "queued" and job["rows_written"] == 0
    assert job["rows_expected"] == 5 and job["row_limit"] == 100 and job["download"] is None
    assert _file(m, m.operator, job).status_code == 409  # not done yet
    # when the worker runs
    report = sweep_once(client, clock, settings)
    assert report["run_exports"] == 1
    # then the job is done, with its file's size and hash, and the file is the inline export's
    done = m.ok(m.get(f"/exports/{job['id']}", m.operator))
    assert done["status"] == "done" and done["rows_written"] == 5
    assert done["download"] == f"/api/v1/exports/{job['id']}/file"
    assert done["finished_at"] and done["expires_at"]
    response = m.client.get(done["download"], headers=auth(m.operator))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content == _inline(m, m.operator, status="awaiting_shipment").encode()
    assert done["size_bytes"] == len(response.content)
    assert done["sha256"] == hashlib.sha256(response.content).hexdigest()
    # and nothing is left half-written in the export folder
    assert [p.suffix for p in Path(settings.export_dir).iterdir()] == [".csv"]
    assert sweep_once(client, clock, settings)["run_exports"] == 0


def test_progress_is_committed_after_every_chunk(
    client: TestClient,
    market: Market,
    clock: FrozenClock,
    settings: Settings,
    small_chunks: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # O5
    m = market
    _place(m, 5)
    job = _start(m, m.operator)
    db = _db(client)
    real = views.csv_pages
    seen: list[int] = []

    async def observed(*args: Any, **kwargs: Any) -> AsyncIterator[tuple[str, int]]:
        async for chunk in real(*args, **kwargs):
            yield chunk
            # the worker asks for the next chunk: what another reader sees of the job now
            async with db.read() as session:
                seen.append(
                    await session.scalar(
                        select(ExportJob.rows_written).where(ExportJob.id == job["id"])
                    )
                    or 0
                )

    monkeypatch.setattr(views, "csv_pages", observed)
    sweep_once(client, clock, settings)
    assert seen == [2, 4, 5]
    done = m.ok(m.get(f"/exports/{job['id']}", m.operator))
    assert done["status"] == "done" and done["rows_written"] == done["rows_expected"] == 5


def test_a_sellers_export_covers_its_own_orders_and_nobody_else_sees_it(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O5
    m = market
    seller_a, seller_b = m.seller_tokens["a"], m.seller_tokens["b"]
    mine = set(_place(m, 2, "a_self") + _place(m, 1, "a_semi"))
    _place(m, 2, "b_self")
    # a seller may not name another seller's store
    refused = m.post("/exports", seller_a, {"store_id": m.stores["b_self"]})
    assert refused.status_code == 404 and refused.json()["field"] == "store_id"
    # other roles may not export at all
    assert m.post("/exports", m.carrier, {}).status_code == 403
    assert m.post("/exports", m.channel, {}).status_code == 403
    job = _start(m, seller_a)
    assert job["rows_expected"] == 3
    sweep_once(client, clock, settings)
    content = m.client.get(f"/api/v1/exports/{job['id']}/file", headers=auth(seller_a)).text
    assert {line.split(",")[0] for line in content.splitlines()[1:]} == mine
    assert content == _inline(m, seller_a)
    # only its owner sees the job and its file
    for other in (seller_b, m.operator):
        assert m.get(f"/exports/{job['id']}", other).status_code == 404
        assert _file(m, other, job).status_code == 404
        assert job["id"] not in [j["id"] for j in m.ok(m.get("/exports", other))]
    assert m.get("/exports/exp_01JDZZZZZZZZZZZZZZZZZZZZZZ", seller_a).status_code == 404


def test_the_job_list_is_newest_first_with_a_link_to_the_next_page(
    client: TestClient, market: Market
) -> None:  # O5
    m = market
    ids = [_start(m, m.operator, {"limit": n})["id"] for n in (1, 2, 3)]
    first = m.get("/exports", m.operator, params={"limit": 2})
    assert [j["id"] for j in m.ok(first)] == ids[:0:-1]
    link = first.headers["link"]
    assert link.endswith('>; rel="next"')
    rest = m.client.get(link[1 : link.index(">")], headers=auth(m.operator))
    assert [j["id"] for j in m.ok(rest)] == ids[:1] and "link" not in rest.headers
    assert m.get("/exports", m.operator, params={"cursor": "nonsense"}).status_code == 400


def test_the_same_idempotency_key_starts_one_job(client: TestClient, market: Market) -> None:
    # O5
    m = market
    key = {"Idempotency-Key": m.new_key()}
    first = m.post("/exports", m.operator, {"limit": 10}, headers=key)
    again = m.post("/exports", m.operator, {"limit": 10}, headers=key)
    assert first.status_code == again.status_code == 202
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json()["id"] == first.json()["id"]
    assert len(m.ok(m.get("/exports", m.operator))) == 1
    other = m.post("/exports", m.operator, {"limit": 11}, headers=key)
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"


def test_a_job_whose_worker_died_is_taken_again_after_its_lease(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O5
    m = market
    _place(m, 3)
    job = _start(m, m.operator)
    db = _db(client)
    ctx = system_ctx(clock, settings)
    assert client.portal is not None
    # given a worker that took the job and died before writing anything
    dead = client.portal.call(tasks.take_next, db, ctx)
    assert dead is not None and dead.job_id == job["id"]
    assert m.ok(m.get(f"/exports/{job['id']}", m.operator))["status"] == "running"
    # while its lease holds, no other worker takes the job
    assert sweep_once(client, clock, settings)["run_exports"] == 0
    # once the lease runs out, the next one does, and finishes it
    clock.advance(LEASE + timedelta(seconds=1))
    assert sweep_once(client, clock, settings)["run_exports"] == 1
    done = m.ok(m.get(f"/exports/{job['id']}", m.operator))
    assert done["status"] == "done" and done["rows_written"] == 3
    # and the first worker, back from the dead, neither finishes the job nor touches its file
    assert client.portal.call(tasks.write, db, ctx, dead, settings.export_dir) is False
    assert m.ok(m.get(f"/exports/{job['id']}", m.operator)) == done
    assert _file(m, m.operator, job).content == _inline(m, m.operator).encode()
    assert len(list(Path(settings.export_dir).iterdir())) == 1


def test_two_workers_share_the_jobs_without_taking_one_twice(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O5
    m = market
    _place(m, 3)
    # Three of the operator's (the most one owner may have open) and one of a seller's.
    owners = [m.operator, m.operator, m.operator, m.seller_tokens["a"]]
    jobs = [_start(m, o, {"limit": n})["id"] for o, n in zip(owners, (1, 2, 3, 3), strict=True)]

    async def exports_sweep(db: Database, clock: Clock, settings: Settings) -> int:
        return (await run_exports(db, clock, settings)).handled

    assert client.portal is not None
    counts = race_workers(client, exports_sweep, clock, settings)
    assert sum(counts) == len(jobs)
    for job_id, owner, rows in zip(jobs, owners, (1, 2, 3, 3), strict=True):
        job = m.ok(m.get(f"/exports/{job_id}", owner))
        assert job["status"] == "done" and job["rows_written"] == rows

        async def started(session: AsyncSession, job_id: str = job_id) -> list[str]:
            events = await audit.timeline(session, subject_type="export", subject_id=job_id)
            return [e.action for e in events]

        actions = client.portal.call(_read, _db(client), started)
        assert actions == ["export_created", "export_started", "export_done"]  # taken once
    assert len(list(Path(settings.export_dir).iterdir())) == len(jobs)


async def _read(db: Database, work: Any) -> Any:
    async with db.read() as session:
        return await work(session)


def test_a_job_taken_too_often_is_given_up(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O5
    m = market
    job = _start(m, m.operator)
    ctx = system_ctx(clock, settings)
    assert client.portal is not None
    for _ in range(MAX_ATTEMPTS):  # every worker that takes it dies
        assert client.portal.call(tasks.take_next, _db(client), ctx) is not None
        clock.advance(LEASE + timedelta(seconds=1))
    sweep_once(client, clock, settings)
    failed = m.ok(m.get(f"/exports/{job['id']}", m.operator))
    assert failed["status"] == "failed" and "start a new export" in failed["error"]
    assert failed["download"] is None and _file(m, m.operator, job).status_code == 409


def test_files_expire_after_seven_days(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O5
    m = market
    _place(m, 1)
    job = _start(m, m.operator)
    sweep_once(client, clock, settings)
    assert _file(m, m.operator, job).status_code == 200
    clock.advance(KEEP - timedelta(seconds=1))
    assert sweep_once(client, clock, settings)["expire_exports"] == 0
    clock.advance(timedelta(seconds=1))
    assert sweep_once(client, clock, settings)["expire_exports"] == 1
    expired = m.ok(m.get(f"/exports/{job['id']}", m.operator))
    assert expired["status"] == "expired" and expired["download"] is None
    assert _file(m, m.operator, job).status_code == 409
    assert list(Path(settings.export_dir).iterdir()) == []


def test_a_failing_job_is_set_aside_while_the_other_sweeps_go_on(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings, db_url: str
) -> None:  # O5 O3
    m = market
    _place(m, 2)
    delivered = m.place("a_self")["id"]
    m.ok(m.post(f"/orders/{delivered}/ship", m.seller_tokens["a"], SHIP))
    m.ok(m.post(f"/orders/{delivered}/deliver", m.carrier))
    clock.advance(timedelta(days=settings.auto_confirm_days))
    job = _start(m, m.operator)
    # given a database that refuses to record the job as done
    with refusing(db_url, "events", "action", "export_done"):
        report = sweep_once(client, clock, settings)
    # then the job failed with a short reason and is set aside for the operators
    assert report.set_aside == {"run_exports": 1} and "run_exports" not in report.failed
    failed = m.ok(m.get(f"/exports/{job['id']}", m.operator))
    assert failed["status"] == "failed" and failed["download"] is None
    assert failed["error"].startswith("the export could not be written")
    assert "Traceback" not in failed["error"] and "refused" not in failed["error"]
    (row,) = m.ok(m.get("/sweep-failures", m.operator))
    assert row["sweep"] == "run_exports" and row["subject_id"] == job["id"]
    assert "refused by the database" in row["error"]
    assert list(Path(settings.export_dir).iterdir()) == []
    # and the other sweeps went on: the delivered order completed in the same run
    assert report["auto_complete"] == 1
    assert m.ok(m.get(f"/orders/{delivered}", m.operator))["status"] == "completed"
    # when an operator retries it, the next run writes the file
    m.ok(m.post(f"/sweep-failures/{row['id']}/retry", m.operator, {"reason": "fixed"}))
    sweep_once(client, clock, settings)
    assert m.ok(m.get(f"/exports/{job['id']}", m.operator))["status"] == "done"
    assert m.ok(m.get("/sweep-failures", m.operator)) == []


# -- the command line and SQLite's statistics -----------------------------------------------


def test_the_cli_export_writes_the_inline_export_to_a_file(
    client: TestClient, market: Market, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # O5
    m = market
    _place(m, 2)
    _place(m, 1, "b_semi")
    monkeypatch.setenv("TUOGUAN_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    target = tmp_path / "orders.csv"
    result = CliRunner().invoke(
        cli, ["export", "orders", "--status", "awaiting_shipment", "--out", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 3 orders" in result.output
    assert target.read_bytes() == _inline(m, m.operator, status="awaiting_shipment").encode()
    refused = CliRunner().invoke(cli, ["export", "orders", "--out", str(tmp_path)])
    assert refused.exit_code == 1 and "is a folder" in refused.output


def test_upgrade_fills_sqlites_statistics(
    client: TestClient, market: Market, db_url: str, settings: Settings
) -> None:  # O5
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's autovacuum keeps its own statistics")
    _place(market, 3)
    path = db_url.split(":///", 1)[1]
    upgrade_database(settings)
    with sqlite3.connect(path) as conn:
        stats = dict(conn.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'orders'"))
    assert stats, "ANALYZE left no statistics for orders"
    assert all(stat.split()[0] == "3" for stat in stats.values())  # three orders counted


def test_the_worker_refreshes_sqlites_statistics_hourly(
    client: TestClient, market: Market, db_url: str, clock: FrozenClock, settings: Settings
) -> None:  # O5
    _place(market, 2)
    sqlite = db_url.startswith("sqlite")
    assert sweep_once(client, clock, settings)["optimize_sqlite"] == int(sqlite)
    clock.advance(timedelta(minutes=59))
    assert sweep_once(client, clock, settings)["optimize_sqlite"] == 0
    clock.advance(timedelta(minutes=1))
    assert sweep_once(client, clock, settings)["optimize_sqlite"] == int(sqlite)


# -- the console ----------------------------------------------------------------------------


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def test_the_console_starts_a_large_export_and_shows_its_progress(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O5
    m = market
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    mine = set(_place(m, 2, "a_self"))
    _place(m, 1, "b_self")
    login = client.get("/login")
    data = {"email": "a@example.com", "password": PASSWORD, "csrf": _csrf(login.text)}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    # up to the inline limit, the export is the CSV at once
    direct = client.get("/console/orders.csv", params={"rows": settings.export_inline_rows})
    assert direct.status_code == 200 and direct.headers["content-type"].startswith("text/csv")
    # asked for more, the orders that are there still fit: the CSV at once too
    fits = client.get("/console/orders.csv", params={"rows": 100_000}, follow_redirects=False)
    assert fits.status_code == 200 and len(fits.text.splitlines()) == 3
    # the exports page's form starts a job
    page = client.get("/console/exports")
    assert "Exports" in page.text and "No exports yet." in page.text
    forged = {"csrf": "forged", "rows": "100000"}
    assert client.post("/console/exports", data=forged).status_code == 403
    form = {"csrf": _csrf(page.text), "rows": "100000", "status": ""}
    started = client.post("/console/exports", data=form)
    assert started.status_code == 200 and "The export has started." in started.text
    assert 'data-status="queued"' in started.text and "Queued" in started.text
    assert client.post("/console/exports", data={**form, "rows": "7"}).status_code == 422
    # when the worker has run, the page shows it done, in full, with a download link
    sweep_once(client, clock, settings)
    client.get("/lang/zh-CN")
    done = client.get("/console/exports").text
    assert 'data-status="done"' in done and "已完成" in done and "100%" in done
    assert "2 行，共 2" in done and re.search(r"\d+月\d+日 \d{2}:\d{2}", done) and "下载" in done
    # never a raw id, enum or ISO timestamp in what people read
    visible = re.sub(r"<[^>]+>", " ", done)
    assert not re.search(r"\b(exp|ord|sto)_[0-9A-Z]{26}\b", visible)
    assert "awaiting_shipment" not in visible and not re.search(r"\d{4}-\d\d-\d\dT", visible)
    link = re.search(r'href="(/console/exports/[^"]+/file)"', done)
    assert link is not None
    csv_file = client.get(link.group(1))
    assert csv_file.status_code == 200 and csv_file.headers["content-type"].startswith("text/csv")
    assert {line.split(",")[0] for line in csv_file.text.splitlines()[1:]} == mine


def test_an_owner_has_at_most_three_jobs_open_at_once(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O5
    m = market
    seller_a, seller_b = m.seller_tokens["a"], m.seller_tokens["b"]
    _place(m, 1)
    for _ in range(3):
        _start(m, seller_a, {"limit": 1_000_000})
    flood = m.post("/exports", seller_a, {"limit": 1_000_000})
    assert flood.status_code == 409
    assert flood.json()["rule"] == "export_jobs_open" and flood.json()["field"] == "limit"
    assert len(m.ok(m.get("/exports", seller_a))) == 3  # the refusal changed nothing
    _start(m, seller_b)  # another seller's export is not held back
    sweep_once(client, clock, settings)
    _start(m, seller_a)  # its jobs are done: it may start another


def test_exported_text_never_runs_as_a_spreadsheet_formula(market: Market) -> None:  # O5
    m = market
    name = '=HYPERLINK("http://x.example","a")'
    m.place("a_self", address={**ADDRESS, "name": name, "city": "+cmd|' /C calc'!A0"})
    rows = list(csv.reader(io.StringIO(_inline(m, m.seller_tokens["a"]))))
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["recipient_name"] == "'" + name
    assert record["city"] == "'+cmd|' /C calc'!A0"


def test_an_export_id_longer_than_any_id_is_refused_before_any_lookup(market: Market) -> None:
    # O5
    response = market.get("/exports/" + "x" * 5000, market.operator)
    assert response.status_code == 422 and response.json()["field"] == "export_id"


def _console_login(client: TestClient, m: Market, role: Role = Role.seller) -> None:
    email = f"{role.value}@example.com"
    seller = m.sellers["a"] if role is Role.seller else None
    create_console_user(m.db_url, email, role, seller)
    login = client.get("/login")
    data = {"email": email, "password": PASSWORD, "csrf": _csrf(login.text)}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


def _visible(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_the_order_lists_export_starts_a_job_when_the_orders_exceed_the_inline_limit(
    client: TestClient,
    market: Market,
    clock: FrozenClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # O5
    m = market
    monkeypatch.setattr(settings, "export_inline_rows", 2)
    _console_login(client, m)
    first = set(_place(m, 2, "a_self"))
    # given orders that fit the inline limit, the order list's export is the CSV at once
    fits = client.get("/console/orders.csv", follow_redirects=False)
    assert fits.status_code == 200 and fits.headers["content-type"].startswith("text/csv")
    assert {line.split(",")[0] for line in fits.text.splitlines()[1:]} == first
    # when one more order makes them exceed it, the same link starts a job for all of them
    everything = first | set(_place(m, 1, "a_self"))
    big = client.get("/console/orders.csv", follow_redirects=False)
    assert big.status_code == 303 and big.headers["location"] == "/console/exports?large=1"
    page = client.get(big.headers["location"]).text
    assert "so the export runs in the background" in page
    assert 'data-status="queued"' in page and "0 rows of 3" in page
    sweep_once(client, clock, settings)
    done = client.get("/console/exports").text
    link = re.search(r'href="/console/exports/([^"/]+)/file"', done)
    assert link is not None
    job_id = link.group(1)
    rows = client.get(f"/console/exports/{job_id}/file").text.splitlines()[1:]
    assert {line.split(",")[0] for line in rows} == everything

    async def actions(session: AsyncSession) -> list[str]:
        events = await audit.timeline(session, subject_type="export", subject_id=job_id)
        return [e.action for e in events]

    assert client.portal is not None
    assert client.portal.call(_read, _db(client), actions) == [
        "export_created",
        "export_started",
        "export_done",
    ]


def test_the_order_lists_export_says_so_when_too_many_jobs_are_open(
    client: TestClient, market: Market, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # O5
    m = market
    monkeypatch.setattr(settings, "export_inline_rows", 1)
    _console_login(client, m)
    _place(m, 2, "a_self")
    for _ in range(3):
        assert client.get("/console/orders.csv", follow_redirects=False).status_code == 303
    # the fourth is refused (409 export_jobs_open), and the exports page says why
    refused = client.get("/console/orders.csv")
    assert refused.status_code == 200
    assert "as many exports queued or running as allowed" in refused.text
    assert refused.text.count('class="card export-job"') == 3
    assert "export_jobs_open" not in _visible(refused.text)
    client.get("/lang/zh-CN")
    again = client.get("/console/orders.csv")
    assert "排队或生成中的导出任务已达上限" in again.text
    # the exports page's own form says the same, with the refusal's status
    form = {"csrf": _csrf(again.text), "rows": "1", "status": ""}
    posted = client.post("/console/exports", data=form)
    assert posted.status_code == 409 and "排队或生成中的导出任务已达上限" in posted.text
    assert 'value="1" selected' in posted.text


def test_the_exports_page_refreshes_itself_while_a_job_runs(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O5
    m = market
    _console_login(client, m)
    _place(m, 1, "a_self")
    page = client.get("/console/exports").text
    assert 'http-equiv="refresh"' not in page  # nothing to follow
    form = {"csrf": _csrf(page), "rows": "100000", "status": "awaiting_shipment"}
    started = client.post("/console/exports", data=form)
    assert started.status_code == 200 and "The export has started." in started.text
    # while it is queued, the page reloads itself, without the one-time "started" notice
    refresh = re.search(r'<meta http-equiv="refresh" content="3; url=([^"]+)">', started.text)
    assert refresh is not None
    again = client.get(refresh.group(1).replace("&amp;", "&"))
    assert "started" not in refresh.group(1) and "The export has started." not in again.text
    assert 'http-equiv="refresh"' in again.text
    # the filters chosen stay selected
    assert 'value="100000" selected' in again.text
    assert 'value="awaiting_shipment" selected' in again.text
    sweep_once(client, clock, settings)
    done = client.get(refresh.group(1).replace("&amp;", "&")).text
    assert 'data-status="done"' in done and 'http-equiv="refresh"' not in done


def test_the_exports_pages_form_always_starts_a_job(
    client: TestClient, market: Market, settings: Settings
) -> None:  # O5
    m = market
    _console_login(client, m)
    _place(m, 1, "a_self")
    page = client.get("/console/exports").text
    inline = str(settings.export_inline_rows)
    form = {"csrf": _csrf(page), "rows": inline, "status": ""}
    started = client.post("/console/exports", data=form, follow_redirects=False)
    assert started.status_code == 303 and "orders.csv" not in started.headers["location"]
    shown = client.get(started.headers["location"]).text
    assert 'data-status="queued"' in shown and f'value="{inline}" selected' in shown


def test_the_exports_page_goes_on_to_the_next_page(
    client: TestClient, market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:  # O5
    m = market
    monkeypatch.setattr(export_pages, "PAGE_SIZE", 2)
    _console_login(client, m, Role.operator)
    csrf = _csrf(client.get("/console/exports").text)
    for _ in range(3):
        client.post("/console/exports", data={"csrf": csrf, "rows": "100000", "status": ""})
    client.get("/lang/zh-CN")
    first = client.get("/console/exports").text
    assert first.count('class="card export-job"') == 2
    link = re.search(r'<a href="([^"]+)">下一页', first)
    assert link is not None
    second = client.get(link.group(1).replace("&amp;", "&")).text
    assert second.count('class="card export-job"') == 1 and "下一页" not in second
    bogus = client.get("/console/exports?cursor=not-ours", follow_redirects=False)
    assert (bogus.status_code, bogus.headers["location"]) == (303, "/console/exports")


def test_racing_starts_never_open_more_than_three_jobs(market: Market) -> None:  # O5
    m = market
    seller = m.seller_tokens["a"]

    async def go() -> list[int]:
        transport = httpx.ASGITransport(app=m.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as ac:
            responses = await asyncio.gather(
                *[
                    ac.post("/api/v1/exports", json={"limit": 100}, headers=auth(seller))
                    for _ in range(8)
                ]
            )
        return sorted(r.status_code for r in responses)

    assert m.client.portal is not None
    assert m.client.portal.call(go) == [202] * 3 + [409] * 5
    assert len(m.ok(m.get("/exports", seller))) == 3

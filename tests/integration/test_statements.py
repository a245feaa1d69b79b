"""A store's statement (issue 14, Settlements): what the platform owes the seller at the start of
a month of the store's own time zone, each entry that changed it with the balance after it, and
at the end; opening + lines = closing to the minor unit, month after month, in JSON's numbers,
CSV and PDF, on both engines."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pypdf
import pytest
from sqlalchemy import func, select

from tests.builders.ledger import run_on
from tests.builders.statements import ZONE, Mixed, local, mixed_store
from tests.integration.test_list_plans import Planner, captured
from tuoguan.db import Database
from tuoguan.errors import InvalidInput, NotFound
from tuoguan.kit.money import format_minor
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.kinds import EntryKind as K
from tuoguan.ledger.models import LedgerAccount, Posting
from tuoguan.settlement import statement_files, statements
from tuoguan.settlement.statements import Statement, period_bounds

DUE = [AccountKind.receivable, AccountKind.payout_clearing, AccountKind.payable]


async def _due_before(db: Database, store_id: str, at: datetime, kinds: list[AccountKind]) -> int:
    """What the postings on these accounts before ``at`` say, on the credit side (an
    independent sum, not the statement's)."""
    async with db.read() as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(Posting.amount_minor), 0))
            .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
            .where(
                LedgerAccount.store_id == store_id,
                LedgerAccount.currency == "USD",
                LedgerAccount.kind.in_(kinds),
                Posting.posted_at < at,
            )
        )
    return -int(total or 0)


def _months(db_url: str) -> tuple[Mixed, dict[str, Statement], dict[str, int]]:
    async def scenario(db: Database) -> tuple[Mixed, dict[str, Statement], dict[str, int]]:
        mixed = await mixed_store(db)
        found, sums = {}, {}
        async with db.read() as session:
            for period in ("2026-10", "2026-11", "2026-12"):
                found[period] = await statements.month_statement(
                    session, store_id=mixed.store_id, period=period
                )
        for period, st in found.items():
            for name, at in (("open", st.start), ("close", st.end)):
                sums[f"{period} {name}"] = await _due_before(db, mixed.store_id, at, DUE)
                deposit = [AccountKind.deposit_held]
                sums[f"{period} {name} deposit"] = await _due_before(
                    db, mixed.store_id, at, deposit
                )
        return mixed, found, sums

    result: tuple[Mixed, dict[str, Statement], dict[str, int]] = run_on(db_url, scenario)
    return result


def test_each_month_reconciles_line_by_line_and_follows_on(db_url: str) -> None:  # issue 14
    mixed, found, sums = _months(db_url)
    october, november, december = found["2026-10"], found["2026-11"], found["2026-12"]

    # opening + lines = closing, line by line, and the postings agree at both ends
    for period, st in found.items():
        balance = st.opening_minor
        for line in st.lines:
            balance += line.amount_minor
            assert line.balance_minor == balance
        assert (
            st.closing_minor
            == balance
            == st.opening_minor + sum(line.amount_minor for line in st.lines)
        )
        assert st.money_in_minor + st.money_out_minor == st.closing_minor - st.opening_minor
        assert (st.opening_minor, st.closing_minor) == (
            sums[f"{period} open"],
            sums[f"{period} close"],
        )
        assert (st.deposit_opening_minor, st.deposit_closing_minor) == (
            sums[f"{period} open deposit"],
            sums[f"{period} close deposit"],
        )
        # the lines in the order they were posted
        assert [line.posted_at for line in st.lines] == sorted(line.posted_at for line in st.lines)

    # a month's opening is the month before's closing
    assert november.opening_minor == october.closing_minor == 1000
    assert december.opening_minor == november.closing_minor == 11800
    assert december.closing_minor == 2200
    assert (november.deposit_opening_minor, november.deposit_closing_minor) == (0, 50000)
    assert (december.deposit_opening_minor, december.deposit_closing_minor) == (50000, 49000)

    # every entry that changed the balance is one line, with the change the builder meant;
    # payout_prepared and debt_netted move money inside the balance: no line
    def expected(start: datetime, end: datetime) -> list[tuple[K, int]]:
        return [
            (kind, due)
            for kind, due, entry in sorted(mixed.posted, key=lambda p: p[2].posted_at)
            if due is not None and entry.currency == "USD" and start <= entry.posted_at < end
        ]

    for st in found.values():
        assert [(line.kind, line.amount_minor) for line in st.lines] == expected(st.start, st.end)
    kinds = {line.kind for st in found.values() for line in st.lines}
    assert K.payout_prepared not in kinds and K.debt_netted not in kinds
    assert K.deposit_funded not in kinds  # the deposit is its own figure

    # the month is the store's: 23:30 local on its last day (next month in UTC) belongs to it,
    # and so does midnight on its first day (the deposit)
    assert [line.kind for line in october.lines] == [K.sale_commissioned]
    assert october.lines[0].posted_at.astimezone(UTC).day == 1  # November 1 in UTC
    last = november.lines[-1]
    assert last.kind is K.sale_commissioned and last.amount_minor == 5000
    assert last.posted_at == local(11, 30, 23, 30) and last.posted_at.month == 12

    # what each line is about: its subject, and the order a penalty or claim concerns if known
    waived = [line for line in november.lines if line.reverses_id]
    assert [(w.kind, w.amount_minor, w.memo) for w in waived] == [
        (K.penalty_charged, 1500, "appeal upheld")
    ]
    payout = next(line for line in november.lines if line.kind is K.payout_sent)
    assert (payout.subject_type, payout.reference) == ("payout", "pay_01KSTATEMENTPAYOUT00000001")
    sale = november.lines[0]
    assert (sale.subject_type, sale.order_id, sale.reference) == (
        "order",
        mixed.order_id,
        mixed.order_id,
    )


def test_one_statement_per_currency_the_stores_by_default(db_url: str) -> None:  # issue 14
    async def scenario(db: Database) -> tuple[Statement, Statement, Statement]:
        mixed = await mixed_store(db)
        async with db.read() as session:
            start, end = period_bounds("2026-11", ZONE)
            usd = await statements.month_statement(
                session, store_id=mixed.store_id, period="2026-11"
            )
            cny = await statements.statement(
                session, store_id=mixed.store_id, currency="cny", start=start, end=end
            )
            eur = await statements.statement(
                session, store_id=mixed.store_id, currency="EUR", start=start, end=end
            )
            assert await statements.currencies(session, mixed.store_id) == ["CNY", "USD"]
            with pytest.raises(InvalidInput) as bad:
                await statements.statement(
                    session, store_id=mixed.store_id, currency="XX1", start=start, end=end
                )
            assert (bad.value.field, bad.value.extra["rule"]) == ("currency", "iso_4217")
            with pytest.raises(NotFound):
                await statements.statement(
                    session, store_id="sto_nothing", currency="USD", start=start, end=end
                )
        return usd, cny, eur

    usd, cny, eur = run_on(db_url, scenario)
    assert usd.currency == "USD" and usd.period == "2026-11" and len(usd.lines) == 10
    assert cny.currency == "CNY" and [(line.kind, line.amount_minor) for line in cny.lines] == [
        (K.sale_commissioned, 777)
    ]
    assert (cny.opening_minor, cny.closing_minor) == (0, 777)
    assert (eur.opening_minor, eur.closing_minor, eur.lines) == (0, 0, [])


def test_a_month_is_counted_in_the_stores_time_zone() -> None:  # issue 14
    # New York leaves summer time on November 1, 2026: the month starts at UTC-4, ends at UTC-5
    assert period_bounds("2026-11", ZONE) == (
        datetime(2026, 11, 1, 4, tzinfo=UTC),
        datetime(2026, 12, 1, 5, tzinfo=UTC),
    )
    assert period_bounds("2026-12", "Asia/Shanghai") == (
        datetime(2026, 11, 30, 16, tzinfo=UTC),
        datetime(2026, 12, 31, 16, tzinfo=UTC),
    )
    for bad in ("2026-13", "2026-00", "2026-1", "26-11", "2026/11", "", "abcd-ef"):
        with pytest.raises(InvalidInput) as refused:
            period_bounds(bad, ZONE)
        assert (refused.value.field, refused.value.extra["rule"]) == ("period", "year_month")
    with pytest.raises(InvalidInput) as refused:
        period_bounds("1900-01", ZONE)
    assert refused.value.extra["rule"] == "year_range"


def test_a_period_is_a_month_or_two_instants_never_both() -> None:  # issue 14
    start = datetime(2026, 11, 1, tzinfo=UTC)

    def rule(**kw: object) -> tuple[str | None, str]:
        with pytest.raises(InvalidInput) as refused:
            statements.bounds(ZONE, **{"period": None, "start": None, "end": None, **kw})
        return refused.value.field, refused.value.extra["rule"]

    assert rule() == ("period", "period_or_range")
    assert rule(period="2026-11", start=start) == ("period", "period_or_range")
    assert rule(start=start) == ("end", "required_with_start")
    assert rule(end=start) == ("start", "required_with_end")
    assert rule(start=start, end=start) == ("end", "after_start")
    assert rule(start=start, end=start - timedelta(days=1)) == ("end", "after_start")
    assert rule(start=start, end=start + timedelta(days=367)) == ("end", "max_days")
    assert rule(start=start.replace(tzinfo=None), end=start + timedelta(days=1)) == (
        "start",
        "timezone_aware",
    )
    assert statements.bounds(ZONE, period=None, start=start, end=start + timedelta(days=366)) == (
        start,
        start + timedelta(days=366),
    )


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_the_csv_reconciles_and_the_pdf_shows_the_closing(db_url: str) -> None:  # issue 14
    async def scenario(db: Database) -> Statement:
        mixed = await mixed_store(db)
        async with db.read() as session:
            return await statements.month_statement(
                session, store_id=mixed.store_id, period="2026-11"
            )

    st: Statement = run_on(db_url, scenario)
    for lang, words in (("en", "Opening balance"), ("zh-CN", "期初余额")):
        rows = _csv_rows(statement_files.csv_bytes(st, lang).decode("utf-8-sig"))
        assert rows[0][:2] == [
            "Statement" if lang == "en" else "对账单",
            "Statement store",
        ]
        assert rows[1][1] == ("November 2026" if lang == "en" else "2026年11月")
        assert rows[3][1] == "USD"
        opening = next(i for i, row in enumerate(rows) if row[0] == words)
        body = rows[opening + 1 : opening + 1 + len(st.lines)]
        closing = rows[opening + 1 + len(st.lines)]
        assert rows[opening][5] == "10.00" and closing[5] == "118.00"
        amounts = [int(row[4].replace(".", "")) for row in body]
        assert sum(amounts) == st.closing_minor - st.opening_minor
        balance = st.opening_minor
        for row, line in zip(body, st.lines, strict=True):
            balance += int(row[4].replace(".", ""))
            assert int(row[5].replace(".", "")) == balance == line.balance_minor
            # the store's local time, as a spreadsheet reads it
            local_time = line.posted_at.astimezone(ZoneInfo(ZONE))
            assert row[0] == local_time.strftime("%Y-%m-%d %H:%M")
        assert body[-1][0] == "2026-11-30 23:30"
        if lang == "en":
            assert body[0][1:5] == [
                "Sale (supply price)",
                "Order",
                "ord_01KSTATEMENTORDER0000000001",
                "200.00",
            ]
            waived = next(row for row in body if "reversal" in row[1])
            assert waived[4] == "15.00" and waived[6] == "appeal upheld"
            assert rows[-1][0] == "Deposit held at closing" and rows[-1][5] == "500.00"

    for lang in ("en", "zh-CN"):
        pdf = statement_files.to_pdf(st, lang)
        assert pdf.startswith(b"%PDF")
        text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
        assert format_minor(st.closing_minor, "USD", lang) in text
        assert format_minor(st.opening_minor, "USD", lang) in text


def test_a_long_statement_runs_to_several_pages(db_url: str) -> None:  # issue 14
    async def scenario(db: Database) -> Statement:
        mixed = await mixed_store(db)
        async with db.read() as session:
            st = await statements.month_statement(
                session, store_id=mixed.store_id, period="2026-11"
            )
        return st

    st: Statement = run_on(db_url, scenario)
    many = [*st.lines] * 12
    running, lines = st.opening_minor, []
    for line in many:
        running += line.amount_minor
        lines.append(replace(line, balance_minor=running))
    long = replace(st, lines=lines, closing_minor=running)
    reader = pypdf.PdfReader(io.BytesIO(statement_files.to_pdf(long, "zh-CN")))
    assert len(reader.pages) >= 3
    assert "第 3 页" in reader.pages[2].extract_text()
    assert format_minor(running, "USD", "zh-CN") in reader.pages[-1].extract_text()


def test_the_statement_reads_the_postings_through_their_index(db_url: str) -> None:
    # issue 14: the sums and the lines read a range of ix_postings_account per account
    async def scenario(db: Database) -> str:
        mixed = await mixed_store(db)
        return mixed.store_id

    store_id: str = run_on(db_url, scenario)

    async def read(db: Database) -> None:
        async with db.read() as session:
            await statements.month_statement(session, store_id=store_id, period="2026-11")

    with captured() as seen:
        run_on(db_url, read)
    reads = [(s, p) for s, p in seen if "FROM postings" in s]
    assert len(reads) == 2
    planner = Planner(db_url)
    try:
        faults = [f for s, p in reads for f in planner.faults(s, p)]
        plans = [line for s, p in reads for line in planner.plan(s, p)]
    finally:
        planner.close()
    assert not faults, faults
    assert any("ix_postings_account" in line for line in plans), plans

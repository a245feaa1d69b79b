"""The worked examples of docs/deadlines.md: real calendars with holidays and 调休 (F1, F2, F4, O2)."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from tuoguan.cli.main import app
from tuoguan.timing import deadlines
from tuoguan.timing.calendar import BusinessCalendar, calendar_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
CN = calendar_for("CN")
runner = CliRunner()


def test_china_knows_spring_festival_and_its_make_up_saturday() -> None:
    assert CN.is_business_day(date(2026, 2, 14))  # Saturday, 调休 working day
    assert not any(CN.is_business_day(date(2026, 2, d)) for d in range(15, 24))
    assert CN.is_business_day(date(2026, 2, 24))


def test_confirm_by_ignores_holidays() -> None:  # O2
    placed = datetime(2026, 2, 13, 16, 0, tzinfo=SHANGHAI)
    assert deadlines.confirm_by(placed) == datetime(2026, 2, 14, 16, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("placed", "promise", "expected"),
    [
        (datetime(2026, 2, 13, 16, 0), 1, datetime(2026, 2, 14, 23, 59, 59)),
        (datetime(2026, 2, 13, 16, 0), 2, datetime(2026, 2, 24, 23, 59, 59)),
        (datetime(2026, 2, 14, 10, 0), 1, datetime(2026, 2, 24, 23, 59, 59)),
        (datetime(2026, 11, 20, 16, 0), 1, datetime(2026, 11, 23, 23, 59, 59)),
    ],
)
def test_ship_by_counts_chinese_business_days(
    placed: datetime, promise: int, expected: datetime
) -> None:  # F1
    result = deadlines.ship_by(placed.replace(tzinfo=SHANGHAI), promise, SHANGHAI, CN)
    assert result == expected.replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("scanned", "counts_for"),
    [
        (datetime(2026, 2, 13, 14, 59), date(2026, 2, 13)),
        (datetime(2026, 2, 13, 15, 0), date(2026, 2, 14)),
        (datetime(2026, 2, 15, 10, 0), date(2026, 2, 24)),
    ],
)
def test_pickup_before_15_counts_that_business_day(
    scanned: datetime, counts_for: date
) -> None:  # F4
    assert deadlines.pickup_day(scanned.replace(tzinfo=SHANGHAI), SHANGHAI, CN) == counts_for


def test_self_drop_is_48_natural_hours() -> None:  # F4
    created = datetime(2026, 2, 13, 16, 0, tzinfo=SHANGHAI)
    assert deadlines.self_drop_by(created) == datetime(2026, 2, 15, 16, 0, tzinfo=SHANGHAI)


def test_deliver_by_counts_the_destinations_business_days() -> None:  # F2
    result = deadlines.deliver_by(date(2026, 2, 24), 5, BERLIN, calendar_for("DE"))
    assert result == datetime(2026, 3, 3, 23, 59, 59, tzinfo=BERLIN)


def test_a_store_may_close_days_of_its_own() -> None:  # F1
    closed = BusinessCalendar.with_days(closed=[date(2026, 11, 23)], country="CN")
    placed = datetime(2026, 11, 20, 16, 0, tzinfo=SHANGHAI)
    assert deadlines.ship_by(placed, 1, SHANGHAI, closed).date() == date(2026, 11, 24)


def test_cli_answers_the_ship_deadline_question() -> None:  # F1
    args = [
        "sla",
        "deadline",
        "ship",
        "--placed-at",
        "2026-02-13T16:00+08:00",
        "--promise",
        "2",
        "--country",
        "CN",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and result.output.strip() == "2026-02-24T23:59:59+08:00"
    payload = json.loads(runner.invoke(app, [*args, "--json"]).output)
    assert payload["rule"] == "F1" and payload["timezone"] == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["ship", "--placed-at", "2026-02-13T16:00+08:00", "--promise", "3", "--country", "CN"],
            "1 or 2",
        ),
        (
            ["ship", "--placed-at", "2026-02-13T16:00", "--promise", "1", "--country", "CN"],
            "UTC offset",
        ),
        (
            ["ship", "--placed-at", "2026-02-13T16:00+08:00", "--promise", "1", "--country", "ZZ"],
            "ISO 3166",
        ),
        (["pickup-day", "--scanned-at", "yesterday", "--country", "CN"], "ISO 8601"),
    ],
)
def test_cli_refuses_bad_questions_in_one_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["sla", "deadline", *args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_cli_pickup_and_deliver_examples() -> None:  # F4 F2
    pickup = runner.invoke(
        app,
        [
            "sla",
            "deadline",
            "pickup-day",
            "--scanned-at",
            "2026-02-13T15:00+08:00",
            "--country",
            "CN",
        ],
    )
    assert pickup.output.strip() == "2026-02-14"
    deliver = runner.invoke(
        app,
        [
            "sla",
            "deadline",
            "deliver",
            "--ship-by",
            "2026-02-24",
            "--transit-days",
            "5",
            "--destination",
            "DE",
        ],
    )
    assert deliver.output.strip() == "2026-03-03T23:59:59+01:00"


def test_the_explanation_walks_the_spring_festival_day_by_day() -> None:  # F1
    from tuoguan.timing import explain

    placed = datetime.fromisoformat("2026-02-13T16:00+08:00")
    tz = ZoneInfo("Asia/Shanghai")
    cn = calendar_for("CN")
    shown = explain.ship_by(placed, 2, tz, cn, "CN")
    assert shown.at == deadlines.ship_by(placed, 2, tz, cn)
    text = "\n".join(shown.steps)
    assert "2026-02-14 Sat: business day 1 of 2 (make-up working day (调休))" in text
    assert "2026-02-17 Tue: skipped (public holiday: Chinese New Year (Spring Festival))" in text
    assert "2026-02-24 Tue: business day 2 of 2" in text


@pytest.mark.parametrize(
    ("stage", "stuck_after"),
    [
        ("listing", "2026-02-14T23:59:59+08:00"),
        ("review", "2026-02-24T23:59:59+08:00"),
        ("onboarding", "2026-02-25T23:59:59+08:00"),
    ],
)
def test_audit_stages_are_flagged_after_their_typical_business_days(
    stage: str, stuck_after: str
) -> None:  # S2
    entered = datetime.fromisoformat("2026-02-13T16:00+08:00")
    got = deadlines.audit_stuck_after(entered, stage, SHANGHAI, calendar_for("CN"))
    assert got.isoformat() == stuck_after


def test_a_dispute_is_due_in_three_natural_days() -> None:  # G4
    opened = datetime.fromisoformat("2026-02-13T16:00+08:00")
    assert deadlines.dispute_resolve_by(opened).isoformat() == "2026-02-16T16:00:00+08:00"


def test_a_refund_arrives_within_3_to_5_business_days_around_national_day() -> None:  # S3
    sent = datetime.fromisoformat("2026-09-30T10:00+08:00")
    earliest, latest = deadlines.refund_arrival(sent, SHANGHAI, calendar_for("CN"))
    assert (earliest.isoformat(), latest.isoformat()) == (
        "2026-10-10T23:59:59+08:00",
        "2026-10-13T23:59:59+08:00",
    )
    result = runner.invoke(
        app,
        ["sla", "deadline", "refund", "--sent-at", sent.isoformat(), "--country", "CN", "--json"],
    )
    assert json.loads(result.output)["earliest"] == "2026-10-10T23:59:59+08:00"
    bad = runner.invoke(
        app, ["sla", "deadline", "audit-stage", "--entered-at", sent.isoformat(), "--stage", "x"]
    )
    assert bad.exit_code == 2 and len(bad.output.strip().splitlines()) == 1

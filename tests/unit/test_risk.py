"""Early-warning scores (G5): reasons from the order's clock and the seller's or lane's record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuoguan.timing import risk
from tuoguan.timing.evaluate import simulate

START = datetime(2026, 11, 18, 1, tzinfo=UTC)
DEADLINE = START + timedelta(hours=40)


def _at(share: float, seller: risk.History = risk.History(), **kw: object) -> risk.Risk:
    return risk.assess(
        deadline_kind=str(kw.get("kind", "ship_by")),
        window_start=START,
        deadline_at=DEADLINE,
        now=START + (DEADLINE - START) * share,
        seller=seller,
        lane=kw.get("lane"),  # type: ignore[arg-type]
    )


def test_without_a_record_the_window_gone_is_the_signal() -> None:  # G5
    assert _at(0.4).score == 0 and not _at(0.4).warn
    half = _at(0.5)
    assert (half.score, [r.code for r in half.reasons]) == (35, ["window_elapsed"])
    assert _at(0.75).warn and _at(0.75).level == "medium"
    passed = _at(1.01)
    assert passed.score == 100 and passed.reasons[0].code == "deadline_passed"


def test_a_slow_sellers_record_warns_early_and_a_quick_one_stays_quiet() -> None:  # G5
    slow = risk.History.of(timedelta(hours=h) for h in (45, 50, 60, 42, 70, 55))
    early = _at(0.5, slow)
    assert early.warn and early.reasons[0].code == "pace" and early.level == "high"
    quick = risk.History.of(timedelta(hours=h) for h in (25, 22, 30, 26, 24, 28, 60))
    # Most quick work is done by 25 h; of what was still open then, 1 in 6 ran past 40 h.
    assert not _at(0.6, quick).warn


def test_a_lane_running_late_this_week_warns_about_delivery() -> None:  # G5
    late_lane = risk.History.of((timedelta(hours=h) for h in (50, 60, 45, 70, 30, 80)), late=4)
    verdict = _at(0.5, kind="deliver_by", lane=late_lane)
    assert verdict.warn
    assert {r.code for r in verdict.reasons} == {"pace", "lane_running_late"}


def test_checkpoints_walk_the_window_then_stop() -> None:  # G5
    first = risk.next_checkpoint(START, DEADLINE, START)
    assert first == START + timedelta(hours=20)
    assert risk.next_checkpoint(START, DEADLINE, first) == START + timedelta(hours=30)
    # The last look is at the deadline itself (the stored score becomes 100), then none.
    assert risk.next_checkpoint(START, DEADLINE, START + timedelta(hours=36)) == DEADLINE
    assert risk.next_checkpoint(START, DEADLINE, DEADLINE) is None


def test_the_evaluation_is_deterministic_and_warns_before_most_misses() -> None:  # G5
    one, two = simulate(orders=2000, seed=3), simulate(orders=2000, seed=3)
    assert [s.as_dict() for s in one.scores] == [s.as_dict() for s in two.scores]
    model = one.scores[0]
    assert model.hits + model.misses == one.late
    assert model.recall > 0.9 and model.median_lead_hours > 0


def test_the_histogram_buckets_are_fine_where_windows_are_decided() -> None:  # G5
    widths = {risk.EDGES[i + 1] - risk.EDGES[i] for i in range(len(risk.EDGES) - 1)}
    assert widths == {600, 1800, 7200, 43200}
    assert risk.bucket_of(timedelta(minutes=9)) == 0 and risk.bucket_of(-timedelta(hours=1)) == 0
    assert risk.bucket_of(timedelta(hours=2)) == 12  # 12 ten-minute buckets, then half hours
    assert risk.bucket_of(timedelta(days=90)) == len(risk.EDGES) - 1  # the open last bucket
    history = risk.History.of([timedelta(hours=1)] * 8 + [timedelta(days=40)], late=3)
    assert (history.total, history.late, history.late_rate) == (9, 3, 1 / 3)
    # 1 h opens its bucket [60, 70 min): half of those 8 count as still open at 65 min;
    # 40 days is longer than anything asked about.
    assert history.chance_late(timedelta(minutes=65), timedelta(days=35)) == pytest.approx(
        (1 + 1) / (4 + 1 + 2)
    )
    assert history.chance_late(timedelta(minutes=75), timedelta(days=35)) is None


_SECONDS = st.integers(min_value=0, max_value=40 * 86400)


@given(st.lists(_SECONDS, max_size=60), _SECONDS, _SECONDS)
def test_the_histogram_agrees_with_exact_counting_within_a_bucket(
    durations: list[int], spent: int, extra: int
) -> None:  # G5
    history = risk.History.of(timedelta(seconds=d) for d in durations)
    window = spent + extra

    def sharing_a_bucket_with(x: int) -> int:
        bucket = risk.bucket_of(timedelta(seconds=x))
        return sum(risk.bucket_of(timedelta(seconds=d)) == bucket for d in durations)

    still_open = sum(d > spent for d in durations)
    over = sum(d > window for d in durations)
    got = history.chance_late(timedelta(seconds=spent), timedelta(seconds=window))
    if sharing_a_bucket_with(spent) == 0 and sharing_a_bucket_with(window) == 0:
        expected = (over + 1) / (still_open + 2) if still_open >= risk.MIN_HISTORY else None
        assert got == pytest.approx(expected)
    if len(durations) >= risk.MIN_HISTORY:
        for share in (0.5, 0.75, 0.9):
            exact = sorted(durations)[int(share * len(durations))]
            typical = history.typical(share)
            assert typical is not None
            assert risk.bucket_of(typical) == risk.bucket_of(timedelta(seconds=exact))
    else:
        assert history.typical() is None

"""Early-warning scores (G5): reasons from the order's clock and the seller's or lane's record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tuoguan.sla import risk
from tuoguan.sla.evaluate import simulate

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
    slow = risk.History(durations=[timedelta(hours=h) for h in (45, 50, 60, 42, 70, 55)])
    early = _at(0.5, slow)
    assert early.warn and early.reasons[0].code == "pace" and early.level == "high"
    quick = risk.History(durations=[timedelta(hours=h) for h in (25, 22, 30, 26, 24, 28, 60)])
    # Most quick work is done by 25 h; of what was still open then, 1 in 6 ran past 40 h.
    assert not _at(0.6, quick).warn


def test_a_lane_running_late_this_week_warns_about_delivery() -> None:  # G5
    late_lane = risk.History(
        durations=[timedelta(hours=h) for h in (50, 60, 45, 70, 30, 80)], total=6, late=4
    )
    verdict = _at(0.5, kind="deliver_by", lane=late_lane)
    assert verdict.warn
    assert {r.code for r in verdict.reasons} == {"pace", "lane_running_late"}


def test_checkpoints_walk_the_window_then_stop() -> None:  # G5
    first = risk.next_checkpoint(START, DEADLINE, START)
    assert first == START + timedelta(hours=20)
    assert risk.next_checkpoint(START, DEADLINE, first) == START + timedelta(hours=30)
    assert risk.next_checkpoint(START, DEADLINE, START + timedelta(hours=36)) is None


def test_the_evaluation_is_deterministic_and_warns_before_most_misses() -> None:  # G5
    one, two = simulate(orders=2000, seed=3), simulate(orders=2000, seed=3)
    assert [s.as_dict() for s in one.scores] == [s.as_dict() for s in two.scores]
    model = one.scores[0]
    assert model.hits + model.misses == one.late
    assert model.recall > 0.9 and model.median_lead_hours > 0

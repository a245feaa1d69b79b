"""Penalty policy arithmetic: tiers by lateness cover every lateness once (F6, O2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuoguan.errors import Forbidden, IllegalTransition, InvalidInput
from tuoguan.finance.policy import Tier, check_tiers, final_after, fine, tier_for
from tuoguan.finance.states import PenaltyAction, PenaltyStatus, next_status
from tuoguan.principal import Role

STANDARD = [
    Tier(0, 24, 500, 1),
    Tier(24, 72, 1000, 3),
    Tier(72, None, 3000, 6),
]


def test_a_checked_policy_prices_by_how_late() -> None:  # F6
    check_tiers(STANDARD)
    assert tier_for(STANDARD, timedelta(0)) == (0, STANDARD[0])
    assert tier_for(STANDARD, timedelta(hours=23, minutes=59))[0] == 0
    assert tier_for(STANDARD, timedelta(hours=24))[0] == 1  # a tier starts where the last ends
    assert tier_for(STANDARD, timedelta(days=400))[0] == 2
    assert final_after(STANDARD) == timedelta(hours=72)


@pytest.mark.parametrize(
    ("tiers", "field", "rule"),
    [
        ([], "tiers", "min_items"),
        ([Tier(1, None, 0, 0)], "tiers[0].from_hours", "from_zero"),
        ([Tier(0, 24, 0, 0), Tier(12, None, 0, 0)], "tiers[1].from_hours", "no_overlap"),
        ([Tier(0, 24, 0, 0), Tier(48, None, 0, 0)], "tiers[1].from_hours", "no_gap"),
        ([Tier(0, 24, 0, 0)], "tiers[0].to_hours", "open_last"),
        ([Tier(0, None, 0, 0), Tier(24, None, 0, 0)], "tiers[0].to_hours", "open_last"),
        (
            [Tier(0, 24, 0, 0), Tier(24, 24, 0, 0), Tier(24, None, 0, 0)],
            "tiers[1].to_hours",
            "order",
        ),
    ],
)
def test_tiers_with_a_gap_or_an_overlap_are_refused_naming_the_tier(
    tiers: list[Tier], field: str, rule: str
) -> None:  # F6
    with pytest.raises(InvalidInput) as caught:
        check_tiers(tiers)
    assert (caught.value.field, caught.value.extra["rule"]) == (field, rule)


@given(
    bounds=st.lists(st.integers(1, 2000), min_size=0, max_size=6, unique=True).map(sorted),
    minutes=st.integers(0, 200_000),
)
def test_every_lateness_falls_in_exactly_one_tier(bounds: list[int], minutes: int) -> None:  # F6
    starts = [0, *bounds]
    tiers = [
        Tier(start, starts[i + 1] if i + 1 < len(starts) else None, 100 * i, i)
        for i, start in enumerate(starts)
    ]
    check_tiers(tiers)
    lateness = timedelta(minutes=minutes)
    assert sum(t.covers(lateness) for t in tiers) == 1
    index, tier = tier_for(tiers, lateness)
    assert tiers[index] is tier


def test_fines_are_integer_minor_units_rounded_half_up() -> None:  # F6
    assert fine(1999, 1000) == 200  # 199.9
    assert fine(1999, 500) == 100  # 99.95
    assert fine(10, 500) == 1  # 0.5 rounds up
    assert fine(9, 500) == 0  # 0.45 rounds down
    assert fine(123_456_789_012, 10_000) == 123_456_789_012


def test_penalties_move_assessed_appealed_then_upheld_or_waived() -> None:  # F6
    S, A = PenaltyStatus, PenaltyAction
    assert next_status(S.assessed, A.appeal, Role.seller) is S.appealed
    assert next_status(S.appealed, A.uphold, Role.operator) is S.upheld
    assert next_status(S.appealed, A.waive, Role.operator) is S.waived
    with pytest.raises(Forbidden):
        next_status(S.appealed, A.waive, Role.seller)
    with pytest.raises(Forbidden):
        next_status(S.assessed, A.appeal, Role.operator)
    with pytest.raises(IllegalTransition) as caught:
        next_status(S.waived, A.appeal, Role.seller)
    assert caught.value.extra["allowed_actions"] == []
    assert "a penalty that is waived" in caught.value.detail

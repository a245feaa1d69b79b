"""Penalty policy arithmetic, pure: tiers by lateness, the tier a breach falls in, the fine.

A policy is data an operator writes (F6, O2): for one kind of breach, a list
of tiers that together cover every lateness from zero up, with no gap and no
overlap, the last one open-ended. Each tier fines a share of the order total
(basis points, so the fine is in the order's own currency) and deducts rating
points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from tuoguan.errors import InvalidInput

MAX_RATE_BP = 10_000  # a fine never exceeds the order total
MAX_HOURS = 24 * 365


@dataclass(frozen=True)
class Tier:
    """Lateness in [from_hours, to_hours) costs rate_bp of the order total and rating points."""

    from_hours: int
    to_hours: int | None
    rate_bp: int
    rating_points: int

    def covers(self, lateness: timedelta) -> bool:
        """Whether a breach this late falls in this tier."""
        hours = lateness / timedelta(hours=1)
        return hours >= self.from_hours and (self.to_hours is None or hours < self.to_hours)


def check_tiers(tiers: Sequence[Tier]) -> None:
    """Refuse tiers that leave a gap, overlap, or do not start at zero and end open.

    The error names the tier and the rule, e.g. ``tiers[1].from_hours`` /
    ``contiguous``.
    """
    if not tiers:
        raise InvalidInput("a policy needs at least one tier", field="tiers", rule="min_items")
    if tiers[0].from_hours != 0:
        raise InvalidInput(
            "the first tier must start at 0 hours late",
            field="tiers[0].from_hours",
            rule="from_zero",
        )
    for index, tier in enumerate(tiers):
        where = f"tiers[{index}]"
        last = index == len(tiers) - 1
        if tier.to_hours is None and not last:
            raise InvalidInput(
                "only the last tier may be open-ended", field=f"{where}.to_hours", rule="open_last"
            )
        if last and tier.to_hours is not None:
            raise InvalidInput(
                "the last tier must be open-ended (to_hours null) so every lateness is covered",
                field=f"{where}.to_hours",
                rule="open_last",
            )
        if tier.to_hours is not None and tier.to_hours <= tier.from_hours:
            raise InvalidInput(
                f"tier {index} ends at or before it starts", field=f"{where}.to_hours", rule="order"
            )
        if index:
            before = tiers[index - 1]
            if before.to_hours is not None and tier.from_hours < before.to_hours:
                raise InvalidInput(
                    f"tier {index} starts at {tier.from_hours} h, inside tier {index - 1} "
                    f"(which ends at {before.to_hours} h): tiers overlap",
                    field=f"{where}.from_hours",
                    rule="no_overlap",
                )
            if before.to_hours is not None and tier.from_hours > before.to_hours:
                raise InvalidInput(
                    f"tier {index} starts at {tier.from_hours} h but tier {index - 1} ends at "
                    f"{before.to_hours} h: lateness in between would be unpriced",
                    field=f"{where}.from_hours",
                    rule="no_gap",
                )


def tier_for(tiers: Sequence[Tier], lateness: timedelta) -> tuple[int, Tier]:
    """The index and tier a lateness falls in; checked tiers always have one."""
    for index, tier in enumerate(tiers):
        if tier.covers(lateness):
            return index, tier
    raise ValueError(f"no tier covers {lateness}; the tiers were not checked")


def final_after(tiers: Sequence[Tier]) -> timedelta:
    """Lateness from which the fine can no longer grow: the open-ended tier's start."""
    return timedelta(hours=tiers[-1].from_hours)


def fine(total_minor: int, rate_bp: int) -> int:
    """rate_bp basis points of an amount in minor units, rounded half up; integers only."""
    return (total_minor * rate_bp + MAX_RATE_BP // 2) // MAX_RATE_BP

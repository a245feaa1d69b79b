"""How well the early warnings (G5) predict missed ship deadlines, on a simulated history.

Sellers differ: some ship in a few hours, some take most of their promise,
some are erratic. Orders arrive over weeks; each is scored by ``risk.assess``
at the worker's checkpoints with the history the seller had built by then,
exactly as the worker does. A warning that came before a missed deadline is a
hit; one for an order shipped in time is a false alarm. The naive rule
"warn when 75% of the window is gone" is measured on the same orders.
"""

from __future__ import annotations

import bisect
import random
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tuoguan.timing import deadlines, risk
from tuoguan.timing.calendar import calendar_for

HISTORY_DAYS = 30
TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class Score:
    """Confusion counts and lead times of one warning rule."""

    name: str
    hits: int = 0
    false_alarms: int = 0
    misses: int = 0
    lead_hours: list[float] = field(default_factory=list)

    @property
    def precision(self) -> float:
        """Share of warnings followed by a missed deadline."""
        warned = self.hits + self.false_alarms
        return self.hits / warned if warned else 0.0

    @property
    def recall(self) -> float:
        """Share of missed deadlines that were warned about beforehand."""
        late = self.hits + self.misses
        return self.hits / late if late else 0.0

    @property
    def median_lead_hours(self) -> float:
        """Median time from the first warning to the deadline, for hits."""
        return statistics.median(self.lead_hours) if self.lead_hours else 0.0

    def as_dict(self) -> dict[str, float | int | str]:
        """For --json."""
        return {
            "rule": self.name,
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "median_lead_hours": round(self.median_lead_hours, 1),
            "warnings": self.hits + self.false_alarms,
            "hits": self.hits,
            "false_alarms": self.false_alarms,
            "misses": self.misses,
        }


@dataclass
class Evaluation:
    """The result: how many orders, how many were late, and each rule's score."""

    orders: int
    late: int
    scores: list[Score]


@dataclass
class _Seller:
    median_hours: float
    spread: float
    promise: int
    # (shipped_at, placed_at, handling, late) of shipped orders, by shipped_at
    done: list[tuple[datetime, datetime, timedelta, bool]] = field(default_factory=list)

    def history(self, at: datetime) -> risk.History:
        """What the seller had shown by ``at``: 30 days of shipments, as the live histogram."""
        end = bisect.bisect_left(self.done, (at,))
        recent = [d for d in self.done[:end] if d[1] >= at - timedelta(days=HISTORY_DAYS)]
        return risk.History.of((d[2] for d in recent), late=sum(d[3] for d in recent))


def simulate(orders: int = 20_000, sellers: int = 40, seed: int = 7) -> Evaluation:
    """Run the simulation; deterministic for a seed."""
    rng = random.Random(seed)
    calendar = calendar_for("CN")
    start = datetime(2026, 3, 2, tzinfo=UTC)
    span = timedelta(days=60)
    people = [
        _Seller(
            median_hours=rng.choice([3, 6, 12, 20, 30, 40]) * rng.uniform(0.8, 1.2),
            spread=rng.uniform(0.3, 1.0),
            promise=rng.choice([1, 2]),
        )
        for _ in range(sellers)
    ]
    placed_list = sorted(
        (start + span * rng.random(), rng.randrange(sellers)) for _ in range(orders)
    )
    model, naive = Score("risk score ≥ 50"), Score("75% of the window gone")
    late_count = 0
    for placed, who in placed_list:
        seller = people[who]
        handling = timedelta(hours=rng.lognormvariate(0, seller.spread) * seller.median_hours)
        shipped = placed + handling
        ship_by = deadlines.ship_by(placed, seller.promise, TZ, calendar)
        late = shipped > ship_by
        late_count += late
        history = seller.history(placed)
        first_warning = None
        for share in risk.CHECKPOINTS:
            at = placed + (ship_by - placed) * share
            if at >= shipped:
                break
            verdict = risk.assess(
                deadline_kind="ship_by",
                window_start=placed,
                deadline_at=ship_by,
                now=at,
                seller=history,
            )
            if verdict.warn:
                first_warning = at
                break
        naive_at = placed + (ship_by - placed) * 0.75
        _count(model, first_warning, late, ship_by)
        _count(naive, naive_at if naive_at < shipped else None, late, ship_by)
        bisect.insort(seller.done, (shipped, placed, handling, late))
    return Evaluation(orders=orders, late=late_count, scores=[model, naive])


def _count(score: Score, warned_at: datetime | None, late: bool, deadline: datetime) -> None:
    if warned_at is not None and late:
        score.hits += 1
        score.lead_hours.append((deadline - warned_at) / timedelta(hours=1))
    elif warned_at is not None:
        score.false_alarms += 1
    elif late:
        score.misses += 1

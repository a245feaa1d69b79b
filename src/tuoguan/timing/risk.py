"""Early warnings (G5): how likely an open order is to miss its running deadline, and why.

Pure: the score is a sum of reasons, each worth points, read from the order's
own clock and from what the seller and the lane did recently. The same
function scores live orders, decides the worker's warnings and is measured by
``tuoguan sla evaluate`` on a simulated history, so the figures it reports
are the figures of this code.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

WARN_SCORE = 50  # a warning goes out at this score or above
HIGH, MEDIUM = 70, 40
# Where in a deadline's window the worker looks again (share of the window gone).
CHECKPOINTS = (0.5, 0.75, 0.9)
MIN_HISTORY = 5  # fewer past orders than this say nothing about a seller or a lane


@dataclass(frozen=True)
class Reason:
    """One cause of risk, worth ``points`` of the score."""

    code: str
    points: int
    message: str
    # The message's figures, for words in the reader's language (the catalog's ``risk_<code>``).
    params: dict[str, Any] = field(default_factory=dict)


def _steps(start_h: float, stop_h: float, step_min: int) -> list[int]:
    return list(range(int(start_h * 3600), int(stop_h * 3600), step_min * 60))


# Lower edges (seconds) of the duration histogram, fine where windows are decided: 10 min
# steps to 2 h, 30 min to 48 h, 2 h to 7 days, 12 h to 30 days; the last bucket is open.
EDGES: tuple[int, ...] = (
    *_steps(0, 2, 10),
    *_steps(2, 48, 30),
    *_steps(48, 168, 120),
    *_steps(168, 720, 720),
    720 * 3600,
)


def bucket_of(duration: timedelta) -> int:
    """The histogram bucket a duration falls in (negative durations count as zero)."""
    return max(0, bisect.bisect_right(EDGES, duration.total_seconds()) - 1)


@dataclass(frozen=True)
class History:
    """What a seller (or a lane) did recently: a histogram of how long the same work took.

    ``counts`` maps a bucket of ``EDGES`` to how many pieces of work took that long;
    ``total`` and ``late`` count the work and how much of it missed its deadline.
    Within a bucket durations are taken as spread evenly (the open last bucket as
    longer than anything asked about).
    """

    counts: Mapping[int, int] = field(default_factory=dict)
    total: int = 0
    late: int = 0

    @classmethod
    def of(cls, durations: Iterable[timedelta], late: int = 0) -> History:
        """The histogram of these durations, ``late`` of them done late."""
        counts: dict[int, int] = {}
        for duration in durations:
            bucket = bucket_of(duration)
            counts[bucket] = counts.get(bucket, 0) + 1
        return cls(counts=counts, total=sum(counts.values()), late=late)

    def _longer_than(self, at: timedelta) -> float:
        """How many durations exceed ``at`` (interpolated within its bucket)."""
        seconds = at.total_seconds()
        found = 0.0
        for bucket, n in self.counts.items():
            low = EDGES[bucket]
            high = EDGES[bucket + 1] if bucket + 1 < len(EDGES) else None
            if high is None or low >= seconds:
                found += n
            elif high > seconds:
                found += n * (high - seconds) / (high - low)
        return found

    def typical(self, share: float = 0.75) -> timedelta | None:
        """The duration this share of the work was done within (None with too little history)."""
        n = sum(self.counts.values())
        if n < MIN_HISTORY:
            return None
        rank, seen = share * n, 0
        for bucket in sorted(self.counts):
            count = self.counts[bucket]
            if seen + count > rank:
                if bucket + 1 == len(EDGES):
                    return timedelta(seconds=EDGES[bucket])
                low, high = EDGES[bucket], EDGES[bucket + 1]
                return timedelta(seconds=low + (high - low) * (rank - seen) / count)
            seen += count
        return timedelta(seconds=EDGES[max(self.counts)])

    def chance_late(self, spent: timedelta, window: timedelta) -> float | None:
        """Of past work still undone after ``spent``, the share that took longer than ``window``.

        Laplace-smoothed; None when fewer than MIN_HISTORY past items lasted that long.
        """
        still_open = self._longer_than(spent)
        if still_open < MIN_HISTORY:
            return None
        over = self._longer_than(max(spent, window))
        return (over + 1) / (still_open + 2)

    @property
    def late_rate(self) -> float | None:
        """Share of the work done late (None with too little history)."""
        return self.late / self.total if self.total >= MIN_HISTORY else None


@dataclass(frozen=True)
class Risk:
    """An open order's risk of missing its running deadline."""

    deadline_kind: str
    deadline_at: datetime
    seconds_left: int
    score: int
    reasons: list[Reason] = field(default_factory=list)

    @property
    def level(self) -> str:
        """high, medium or low."""
        return "high" if self.score >= HIGH else "medium" if self.score >= MEDIUM else "low"

    @property
    def warn(self) -> bool:
        """Whether the seller should be warned."""
        return self.score >= WARN_SCORE


_WORK = {"confirm_by": "confirm", "ship_by": "ship", "deliver_by": "delivery"}


def assess(
    *,
    deadline_kind: str,
    window_start: datetime,
    deadline_at: datetime,
    now: datetime,
    seller: History,
    lane: History | None = None,
) -> Risk:
    """Score the running deadline of an open order; 100 once it has passed."""
    left = deadline_at - now
    work = _WORK.get(deadline_kind, deadline_kind)
    reasons: list[Reason] = []
    if left <= timedelta(0):
        reasons.append(
            Reason(
                "deadline_passed",
                100,
                f"the {work} deadline has passed",
                {"deadline": {"label": f"deadline_name_{deadline_kind}"}},
            )
        )
        return Risk(deadline_kind, deadline_at, int(left.total_seconds()), 100, reasons)
    window = max(deadline_at - window_start, timedelta(seconds=1))
    spent = now - window_start
    gone = min(1.0, max(0.0, spent / window))
    # Whose record says how long this work takes: the seller's, or the lane's for a parcel.
    record, whose = (
        (lane, "this week's parcels on the lane")
        if deadline_kind == "deliver_by"
        else (
            seller,
            "this seller's recent orders",
        )
    )
    pace = record.chance_late(spent, window) if record is not None else None
    if pace is not None:
        # Of the recent work still undone this far in, how much ran past a window this long.
        if pace >= 0.2:
            reasons.append(
                Reason(
                    "pace",
                    round(100 * pace),
                    f"{round(100 * pace)}% of {whose} still open {_hours(spent)} in "
                    f"took longer than {_hours(window)}",
                    {
                        "percent": round(100 * pace),
                        "whose": {"label": f"risk_whose_{deadline_kind}"},
                        "spent": {"seconds": int(spent.total_seconds())},
                        "window": {"seconds": int(window.total_seconds())},
                    },
                )
            )
    elif gone >= 0.5:
        # No record to go by: the share of the window gone is the only signal.
        reasons.append(
            Reason(
                "window_elapsed",
                round(70 * gone),
                f"{round(100 * gone)}% of the {work} window is gone and the work is not done",
                {
                    "percent": round(100 * gone),
                    "deadline": {"label": f"deadline_name_{deadline_kind}"},
                },
            )
        )
    lane_rate = lane.late_rate if lane is not None else None
    if lane_rate is not None and lane_rate >= 0.2:
        reasons.append(
            Reason(
                "lane_running_late",
                min(40, round(50 * lane_rate)),
                f"{round(100 * lane_rate)}% of this week's parcels on the lane arrived late",
                {"percent": round(100 * lane_rate)},
            )
        )
    score = min(99, sum(reason.points for reason in reasons))
    return Risk(deadline_kind, deadline_at, int(left.total_seconds()), score, reasons)


def next_checkpoint(
    window_start: datetime, deadline_at: datetime, after: datetime
) -> datetime | None:
    """The first checkpoint of the window later than ``after``: then the deadline, then None.

    The window's start is its first checkpoint (set when the state is entered); the
    deadline its last, where the stored score becomes 100.
    """
    window = deadline_at - window_start
    for share in (*CHECKPOINTS, 1.0):
        at = window_start + window * share
        if at > after:
            return at
    return None


def _hours(delta: timedelta) -> str:
    hours = delta / timedelta(hours=1)
    return f"{hours:.0f} h" if hours >= 2 else f"{hours * 60:.0f} min"

"""The injectable clock: every "now" in tuoguan comes from one of these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Protocol

from pydantic import AfterValidator, AwareDatetime


class Clock(Protocol):
    """Tells the time, timezone-aware."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock, optionally shifted (demo time travel)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        """The current UTC time plus the offset."""
        return datetime.now(UTC) + self.offset


@dataclass
class FrozenClock:
    """A clock that moves only when told to; for tests and demos."""

    current: datetime

    def __post_init__(self) -> None:
        if self.current.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")

    def now(self) -> datetime:
        """The frozen instant."""
        return self.current

    def advance(self, delta: timedelta) -> datetime:
        """Move time forward and return the new instant."""
        self.current = self.current + delta
        return self.current


def as_utc(value: datetime) -> datetime:
    """Normalise a datetime to UTC; naive values (SQLite) are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the instant lies outside the years 1-9999 in UTC") from exc


# An input instant: must carry its offset, is normalised to UTC, and cannot overflow later.
UTCInstant = Annotated[AwareDatetime, AfterValidator(_to_utc)]

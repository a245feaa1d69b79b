"""Time travel for demos and development: a persisted shift of the application clock.

``tuoguan clock advance 25h`` moves every process's clock (server, worker,
CLI) forward so a person can watch deadlines fire. The shift lives in the
database so each process picks it up; production refuses it and never reads it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.audit import service as audit
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import Base, Database, UTCDateTime
from tuoguan.errors import Forbidden, InvalidInput
from tuoguan.kit.clock import Clock, SystemClock
from tuoguan.principal import Role

_ROW = 1
_PART = re.compile(r"(\d+)([dhms])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
MAX_SHIFT = timedelta(days=3660)


class ClockShift(Base):
    """The one row holding how far the application clock is shifted from the wall clock."""

    __tablename__ = "clock_shift"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offset_seconds: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(40))


def parse_duration(text: str) -> timedelta:
    """'25h', '1d2h30m', '90s' as a timedelta; anything else is refused."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned or _PART.sub("", cleaned):
        raise InvalidInput(
            f"{text!r} is not a duration such as 25h, 1d2h or 90m", field="duration", rule="format"
        )
    total = timedelta()
    for amount, unit in _PART.findall(cleaned):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    if total > MAX_SHIFT:
        raise InvalidInput("a shift longer than ten years", field="duration", rule="max")
    return total


def _refuse_in_production(settings: Settings) -> None:
    if settings.environment == "production":
        raise Forbidden("time travel is refused in production", field="environment")


async def stored_offset(session: AsyncSession) -> timedelta:
    """The persisted shift (zero if nobody ever moved time)."""
    offset = await session.scalar(select(ClockShift.offset_seconds).where(ClockShift.id == _ROW))
    return timedelta(seconds=offset or 0)


async def shift(session: AsyncSession, *, ctx: Ctx, by: timedelta | None) -> timedelta:
    """Move the clock forward by ``by`` (None: back to the wall clock); the new stored shift.

    Time only moves forward: deadlines already recorded as missed stay missed.
    """
    _refuse_in_production(ctx.settings)
    if ctx.principal.role not in (Role.operator, Role.system):
        raise Forbidden("only an operator may move the clock")
    row = await session.get(ClockShift, _ROW, with_for_update=True)
    before = timedelta(seconds=row.offset_seconds if row else 0)
    after = before + by if by is not None else timedelta(0)
    if row is None:
        row = ClockShift(id=_ROW, offset_seconds=0, updated_at=ctx.clock.now(), updated_by="")
        session.add(row)
    row.offset_seconds = int(after.total_seconds())
    row.updated_at = ctx.clock.now()
    row.updated_by = ctx.principal.actor_id
    audit.record(
        session,
        ctx=ctx,
        subject_type="clock",
        subject_id="clock",
        action="advance" if by is not None else "reset",
        data={"before_seconds": int(before.total_seconds()), "after_seconds": row.offset_seconds},
    )
    return after


async def sync(db: Database, clock: Clock, settings: Settings) -> None:
    """Bring a wall clock's shift up to the stored one (outside production)."""
    if settings.environment == "production" or not isinstance(clock, SystemClock):
        return
    async with db.read() as session:
        stored = await stored_offset(session)
    clock.offset = timedelta(seconds=settings.clock_offset_seconds) + stored


def default_clock(settings: Settings) -> SystemClock:
    """The wall clock, shifted by the configured offset outside production."""
    offset = 0 if settings.environment == "production" else settings.clock_offset_seconds
    return SystemClock(timedelta(seconds=offset))


async def synced_clock(db: Database, settings: Settings) -> SystemClock:
    """The wall clock with the configured and the stored shift (CLI commands, workers)."""
    clock = default_clock(settings)
    await sync(db, clock, settings)
    return clock

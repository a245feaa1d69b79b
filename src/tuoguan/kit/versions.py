"""Effective-dated versions: a rule set changes by adding a version that starts later."""

from __future__ import annotations

from datetime import datetime, timedelta

from tuoguan.errors import InvalidInput
from tuoguan.kit.clock import as_utc

# How far ahead a version may be set to start: a typo of years would lock the rule, since every
# later version must start after it.
HORIZON = timedelta(days=366)


def next_start(
    requested: datetime | None,
    now: datetime,
    latest: tuple[int, datetime] | None,
    *,
    what: str,
) -> datetime:
    """When a new version starts: now or later (at most ``HORIZON`` ahead), and after the
    latest version's start.

    ``latest`` is that version's number and start. Past starts are refused
    because whatever was already decided under the old rules keeps them.
    """
    start = as_utc(requested) if requested else now
    if start > now + HORIZON:
        raise InvalidInput(
            f"a {what} may be set at most {HORIZON.days} days ahead: a later start would hold "
            "back every correction, which must start after it",
            field="effective_from",
            rule="within_horizon",
        )
    if start < now:
        raise InvalidInput(
            f"a {what} cannot take effect in the past: what was decided under the old "
            "version keeps it",
            field="effective_from",
            rule="not_past",
        )
    if latest is not None and start <= as_utc(latest[1]):
        raise InvalidInput(
            f"version {latest[0]} takes effect at {as_utc(latest[1]).isoformat()}; "
            "a new version must start after it",
            field="effective_from",
            rule="after_previous",
        )
    return start

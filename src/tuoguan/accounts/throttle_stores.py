"""Where the sign-in throttle keeps its states: the database, or Redis when configured.

Each method is one atomic step over ``throttle_rules``: rows locked in key order
on PostgreSQL (the write lock on SQLite), or a WATCH/MULTI transaction in Redis.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts.models import LoginThrottleEntry
from tuoguan.accounts.throttle_rules import (
    AttemptKeys,
    KeyState,
    Policies,
    ThrottleUnavailable,
    Verdict,
    decide,
    refunded,
)

log = logging.getLogger("tuoguan.accounts.throttle")
_PRUNE_BATCH = 100


class ThrottleStore(Protocol):
    """Where the states live; each method is one atomic step."""

    async def charge(self, session: AsyncSession, keys: AttemptKeys, now: datetime) -> Verdict: ...

    async def succeeded(self, session: AsyncSession, keys: AttemptKeys, now: datetime) -> None: ...

    async def close(self) -> None: ...


@dataclass
class DatabaseStore:
    """States in ``login_throttle``, changed in the caller's write transaction."""

    policy: Policies

    async def _lock_rows(
        self, session: AsyncSession, keys: Sequence[str], now: datetime
    ) -> dict[str, LoginThrottleEntry]:
        fresh = [{"key": key, "failures": 0, "last_attempt_at": now} for key in keys]
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(
                pg_insert(LoginThrottleEntry).values(fresh).on_conflict_do_nothing()
            )
        else:
            await session.execute(
                sqlite_insert(LoginThrottleEntry).values(fresh).on_conflict_do_nothing()
            )
        # Rows are locked in key order, so two attempts sharing a key never deadlock.
        rows = await session.scalars(
            select(LoginThrottleEntry)
            .where(LoginThrottleEntry.key.in_(keys))
            .order_by(LoginThrottleEntry.key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return {row.key: row for row in rows}

    async def charge(self, session: AsyncSession, keys: AttemptKeys, now: datetime) -> Verdict:
        """Refuse the attempt, or count it against both keys."""
        rows = await self._lock_rows(session, keys.both, now)
        verdict, after = decide({k: _state(r) for k, r in rows.items()}, now, self.policy)
        if after is None:
            return verdict
        for key, state in after.items():
            _store(rows[key], state)
        await self._prune(session, keys.both, now)
        return verdict

    async def succeeded(self, session: AsyncSession, keys: AttemptKeys, now: datetime) -> None:
        """Reset the account, refund the address."""
        rows = await self._lock_rows(session, keys.both, now)
        await session.delete(rows[keys.account])
        _store(rows[keys.address], refunded(_state(rows[keys.address]), self.policy.address))

    async def _prune(self, session: AsyncSession, keep: Sequence[str], now: datetime) -> None:
        """Forget a batch of keys with nothing left to remember (rows others hold are skipped)."""
        stale = (
            select(LoginThrottleEntry.key)
            .where(
                LoginThrottleEntry.last_attempt_at <= now - self.policy.window,
                (LoginThrottleEntry.locked_until.is_(None))
                | (LoginThrottleEntry.locked_until <= now),
                LoginThrottleEntry.key.not_in(keep),
            )
            .limit(_PRUNE_BATCH)
        )
        if session.get_bind().dialect.name == "postgresql":
            stale = stale.with_for_update(skip_locked=True)
        await session.execute(delete(LoginThrottleEntry).where(LoginThrottleEntry.key.in_(stale)))

    async def close(self) -> None:
        """Nothing to close: the database belongs to the app."""


def _state(row: LoginThrottleEntry) -> KeyState:
    return KeyState(
        failures=row.failures,
        last_attempt_at=row.last_attempt_at,
        next_attempt_at=row.next_attempt_at,
        locked_until=row.locked_until,
    )


def _store(row: LoginThrottleEntry, state: KeyState) -> None:
    row.failures = state.failures
    row.last_attempt_at = state.last_attempt_at or row.last_attempt_at
    row.next_attempt_at = state.next_attempt_at
    row.locked_until = state.locked_until


@dataclass
class RedisStore:
    """States in Redis hashes, changed under WATCH so concurrent processes agree."""

    client: Any  # redis.asyncio.Redis; the package is an optional extra
    policy: Policies
    prefix: str = "tuoguan:login-throttle:"
    retries: int = 50

    @classmethod
    def from_url(cls, url: str, policy: Policies) -> RedisStore:
        """A store on the Redis server at ``url``."""
        try:
            import redis.asyncio as aioredis
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "TUOGUAN_REDIS_URL is set but redis is not installed: pip install 'tuoguan[redis]'"
            ) from exc
        return cls(client=aioredis.from_url(url, decode_responses=True), policy=policy)

    async def charge(self, session: AsyncSession, keys: AttemptKeys, now: datetime) -> Verdict:
        """Refuse the attempt, or count it against both keys."""
        verdict: Verdict | None = None

        def step(states: dict[str, KeyState]) -> dict[str, KeyState] | None:
            nonlocal verdict
            verdict, after = decide(states, now, self.policy)
            return after

        await self._transact(keys.both, now, step)
        assert verdict is not None
        return verdict

    async def succeeded(self, session: AsyncSession, keys: AttemptKeys, now: datetime) -> None:
        """Reset the account, refund the address."""

        def step(states: dict[str, KeyState]) -> dict[str, KeyState]:
            return {
                keys.account: KeyState(),
                keys.address: refunded(states[keys.address], self.policy.address),
            }

        await self._transact(keys.both, now, step)

    async def _transact(self, keys: Sequence[str], now: datetime, step: Any) -> None:
        from redis.exceptions import RedisError, WatchError

        names = {key: self.prefix + key for key in keys}
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                for _ in range(self.retries):
                    try:
                        await pipe.watch(*names.values())
                        states = {k: _decode(await pipe.hgetall(n)) for k, n in names.items()}
                        after = step(states)
                        if after is None:
                            await pipe.unwatch()
                            return
                        pipe.multi()
                        for key, state in after.items():
                            pipe.delete(names[key])
                            if state.failures:
                                pipe.hset(names[key], mapping=_encode(state))
                                pipe.pexpire(names[key], self._ttl_ms(state, now))
                        await pipe.execute()
                        return
                    except WatchError:
                        continue
        except RedisError as exc:
            log.warning("the sign-in throttle cannot reach Redis", exc_info=True)
            raise ThrottleUnavailable(str(exc)) from exc
        # Fifty lost races in a row: the key is under a flood; refuse rather than let it in.
        raise ThrottleUnavailable("the throttle state kept changing under this attempt")

    def _ttl_ms(self, state: KeyState, now: datetime) -> int:
        """Keep a key while any of its times can still matter, measured from now."""
        ends = [t for t in (state.locked_until, state.next_attempt_at) if t is not None]
        ends.append((state.last_attempt_at or now) + self.policy.window)
        return max(1000, math.ceil((max(ends) - now).total_seconds() * 1000) + 1000)

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()


def _encode(state: KeyState) -> dict[str, str]:
    fields = {"failures": str(state.failures)}
    for name in ("last_attempt_at", "next_attempt_at", "locked_until"):
        value = getattr(state, name)
        if value is not None:
            fields[name] = value.isoformat()
    return fields


def _decode(fields: dict[str, str]) -> KeyState:
    if not fields:
        return KeyState()

    def when(name: str) -> datetime | None:
        return datetime.fromisoformat(fields[name]) if name in fields else None

    return KeyState(
        failures=int(fields.get("failures", 0)),
        last_attempt_at=when("last_attempt_at"),
        next_attempt_at=when("next_attempt_at"),
        locked_until=when("locked_until"),
    )

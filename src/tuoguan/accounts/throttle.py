"""The console sign-in throttle: growing delays, then a lock, per account and per client address.

Every attempt is charged to two keys before the password is checked: the account
(the normalised e-mail, whether or not it is registered, so a refusal tells nothing
about which accounts exist) and the client address. The first ``free_failures``
attempts of a key go through at once; after that each attempt must wait a delay
that doubles from one second up to ``max_delay``; at ``lock_after`` the key is
locked for ``lock_for``. A key forgets its count once ``window`` passes without
an attempt, or once its lock has been served. While either key must wait, the
attempt is refused (429 with Retry-After) without looking at the password, so a
guess learns nothing and the right password is refused too.

The attempt is charged *before* the password is checked, in one atomic step, so
a burst of parallel guesses cannot all slip through a check made before any of
them is counted. A success then resets the account and refunds the address's
charge (so an office behind one address is not throttled by its own sign-ins,
and one valid account does not wipe an address's record of guesses at others).

The state lives in the database (``login_throttle``; rows locked in key order on
PostgreSQL, the write lock on SQLite), or in Redis when ``TUOGUAN_REDIS_URL`` is set
(a WATCH/MULTI transaction over the same pure rules). A lock writes one audit event
per key (``login_locked``); single failures write none, so guessing cannot fill the
events table, and no password is ever stored.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts.models import LoginThrottleEntry, User
from tuoguan.accounts.principal import Principal, Role
from tuoguan.audit import service as audit
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.kit.clock import Clock

log = logging.getLogger("tuoguan.accounts.throttle")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
THROTTLE = Principal(role=Role.system, actor_id="login-throttle", name="sign-in throttle")
_PRUNE_BATCH = 100


class ThrottleUnavailable(Exception):
    """The throttle's store cannot be reached; sign-in is refused rather than left open."""


@dataclass(frozen=True)
class Policy:
    """How many attempts a key gets, how long it then waits, and for how long it is locked."""

    free_failures: int = 5
    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(seconds=60)
    lock_after: int = 20
    lock_for: timedelta = timedelta(minutes=15)
    window: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings, *, free: int, lock_after: int) -> Policy:
        """The policy the settings describe, for one kind of key."""
        return cls(
            free_failures=free,
            max_delay=timedelta(seconds=settings.login_max_delay_seconds),
            lock_after=max(lock_after, free + 1),
            lock_for=timedelta(minutes=settings.login_lock_minutes),
            window=timedelta(minutes=settings.login_window_minutes),
        )

    def delay(self, failures: int) -> timedelta | None:
        """How long the next attempt waits after this many failures (None: not at all)."""
        if failures < self.free_failures:
            return None
        doublings = min(failures - self.free_failures, 32)
        return min(self.first_delay * 2**doublings, self.max_delay)


@dataclass(frozen=True)
class Policies:
    """The account's policy and the address's: an address stands for a whole office behind one
    router, so it gets more attempts than one account before it is slowed down or locked."""

    account: Policy = field(default_factory=Policy)
    address: Policy = field(default_factory=lambda: Policy(free_failures=20, lock_after=100))

    @classmethod
    def from_settings(cls, settings: Settings) -> Policies:
        """The policies the settings describe."""
        return cls(
            account=Policy.from_settings(
                settings, free=settings.login_free_failures, lock_after=settings.login_lock_after
            ),
            address=Policy.from_settings(
                settings,
                free=settings.login_address_free_failures,
                lock_after=settings.login_address_lock_after,
            ),
        )

    def of(self, key: str) -> Policy:
        """The policy of a key, by its kind."""
        return self.address if key.startswith("address:") else self.account

    @property
    def window(self) -> timedelta:
        """The longest a count is kept without an attempt."""
        return max(self.account.window, self.address.window)


@dataclass(frozen=True)
class KeyState:
    """What one key has been charged."""

    failures: int = 0
    last_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True)
class Locked:
    """A key that the attempt locks, should its password turn out wrong."""

    key: str
    failures: int
    until: datetime


@dataclass(frozen=True)
class Verdict:
    """Whether an attempt may check its password; if not, how long it must wait."""

    retry_after: int = 0  # whole seconds; 0 means go ahead
    locked: tuple[Locked, ...] = ()


@dataclass(frozen=True)
class AttemptKeys:
    """The two keys one attempt is charged to."""

    account: str
    address: str

    @property
    def both(self) -> tuple[str, ...]:
        """Both keys, in the order rows are locked."""
        return tuple(sorted((self.account, self.address)))


def normalise_email(email: str) -> str:
    """The form an e-mail is stored and compared in."""
    return email.strip().lower()


def account_key(email: str) -> str:
    """The throttle key of an e-mail, registered or not (a hash: the table holds no e-mails)."""
    return "account:" + hashlib.sha256(normalise_email(email).encode()).hexdigest()


def address_key(address: str) -> str:
    """The throttle key of a client address; IPv6 counts per /64, which one host usually owns."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "address:" + address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"address:{ip.ipv4_mapped}"
        return "address:" + str(ipaddress.IPv6Network((ip, 64), strict=False))
    return f"address:{ip}"


def parse_proxies(text: str) -> tuple[IPNetwork, ...]:
    """Trusted proxies from a comma-separated list of addresses or CIDRs."""
    try:
        return tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in text.split(",")
            if part.strip()
        )
    except ValueError as exc:
        raise ValueError(f"TUOGUAN_TRUSTED_PROXIES: {exc}") from exc


def client_address(
    peer: str | None, forwarded_for: str | None, proxies: Sequence[IPNetwork]
) -> str:
    """Where a request comes from: the peer, or what trusted proxies say in X-Forwarded-For.

    The header is read from the right, one hop per trusted proxy, so a client cannot
    pick its own address by sending the header itself.
    """
    hop = peer or "unknown"
    hops = [part.strip() for part in (forwarded_for or "").split(",") if part.strip()]
    while hops and _trusted(hop, proxies):
        candidate = hops.pop()
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            break
        hop = candidate
    return hop


def _trusted(address: str, proxies: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


# The rules, pure: a store only loads states, applies these and saves the result atomically.


def _live(state: KeyState, now: datetime, policy: Policy) -> KeyState:
    """The state with whatever has lapsed forgotten (a served lock, a quiet window)."""
    if state.locked_until is not None:
        return state if state.locked_until > now else KeyState()
    if state.last_attempt_at is not None and now - state.last_attempt_at >= policy.window:
        return KeyState()
    return state


def _wait(state: KeyState, now: datetime) -> timedelta | None:
    for until in (state.locked_until, state.next_attempt_at):
        if until is not None and until > now:
            return until - now
    return None


def _charged(state: KeyState, now: datetime, policy: Policy) -> KeyState:
    failures = state.failures + 1
    delay = policy.delay(failures)
    return KeyState(
        failures=failures,
        last_attempt_at=now,
        next_attempt_at=now + delay if delay else None,
        locked_until=now + policy.lock_for if failures >= policy.lock_after else None,
    )


def _refunded(state: KeyState, policy: Policy) -> KeyState:
    """A success gives back its charge and clears the wait it set: someone who knew a password
    signed in, and the next person at the same address need not wait for it."""
    failures = max(state.failures - 1, 0)
    return KeyState(
        failures=failures,
        last_attempt_at=state.last_attempt_at,
        next_attempt_at=None,
        locked_until=state.locked_until if failures >= policy.lock_after else None,
    )


def decide(
    states: dict[str, KeyState], now: datetime, policies: Policies
) -> tuple[Verdict, dict[str, KeyState] | None]:
    """The verdict on one attempt and, if it may go ahead, every key's state after the charge."""
    live = {key: _live(state, now, policies.of(key)) for key, state in states.items()}
    waits = [w for w in (_wait(s, now) for s in live.values()) if w is not None]
    if waits:
        return Verdict(retry_after=max(1, math.ceil(max(waits).total_seconds()))), None
    after = {key: _charged(state, now, policies.of(key)) for key, state in live.items()}
    locked = tuple(
        Locked(key=key, failures=state.failures, until=state.locked_until)
        for key, state in after.items()
        if state.locked_until is not None
    )
    return Verdict(locked=locked), after


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
        refunded = _refunded(_state(rows[keys.address]), self.policy.address)
        _store(rows[keys.address], refunded)

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
                keys.address: _refunded(states[keys.address], self.policy.address),
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


@dataclass
class LoginThrottle:
    """The throttle an app uses: its store and the proxies whose word on addresses it takes."""

    store: ThrottleStore
    proxies: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        """Redis when ``redis_url`` is set, else the database."""
        policy = Policies.from_settings(settings)
        store: ThrottleStore = (
            RedisStore.from_url(settings.redis_url, policy)
            if settings.redis_url
            else DatabaseStore(policy)
        )
        return cls(store=store, proxies=parse_proxies(settings.trusted_proxies))

    def keys(self, *, email: str, peer: str | None, forwarded_for: str | None) -> AttemptKeys:
        """The keys of an attempt at ``email`` from this peer."""
        address = client_address(peer, forwarded_for, self.proxies)
        return AttemptKeys(account=account_key(email), address=address_key(address))


async def record_locks(
    session: AsyncSession,
    *,
    verdict: Verdict,
    keys: AttemptKeys,
    email: str,
    clock: Clock,
    settings: Settings,
    request_id: str | None,
) -> None:
    """One ``login_locked`` event per key a failed attempt locked (nothing about the password)."""
    ctx = Ctx(principal=THROTTLE, clock=clock, request_id=request_id, settings=settings)
    address = keys.address.removeprefix("address:")
    for lock in verdict.locked:
        data: dict[str, Any] = {
            "failures": lock.failures,
            "locked_until": lock.until.isoformat(),
            "address": address,
        }
        if lock.key == keys.account:
            user_id = await session.scalar(
                select(User.id).where(User.email == normalise_email(email))
            )
            subject_type, subject_id = ("user", user_id) if user_id else ("login", lock.key[:40])
            data["scope"] = "account"
        else:
            subject_type, subject_id = "login", lock.key[:40]
            data["scope"] = "address"
        audit.record(
            session,
            ctx=ctx,
            subject_type=subject_type,
            subject_id=subject_id,
            action="login_locked",
            data=data,
        )
        log.warning("sign-in locked for %s until %s", subject_id, lock.until.isoformat())

"""The sign-in throttle's rules, pure: keys, policies and the verdict on one attempt.

A store (``throttle_stores``) only loads the keys' states, applies ``decide`` and
saves the result atomically; the rules themselves touch no database.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tuoguan.config import Settings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


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


def refunded(state: KeyState, policy: Policy) -> KeyState:
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

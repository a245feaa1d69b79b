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

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts.models import User
from tuoguan.accounts.throttle_rules import (
    AttemptKeys,
    IPNetwork,
    Policies,
    ThrottleUnavailable,
    Verdict,
    account_key,
    address_key,
    client_address,
    normalise_email,
    parse_proxies,
)
from tuoguan.accounts.throttle_stores import DatabaseStore, RedisStore, ThrottleStore
from tuoguan.audit import service as audit
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.kit.clock import Clock
from tuoguan.principal import Principal, Role

__all__ = ["LoginThrottle", "ThrottleUnavailable", "Verdict", "normalise_email", "record_locks"]

log = logging.getLogger("tuoguan.accounts.throttle")
THROTTLE = Principal(role=Role.system, actor_id="login-throttle", name="sign-in throttle")


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

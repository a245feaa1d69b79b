"""Where a seller's answer came from (M2, M4): the client address and user agent recorded with an
invitation's answer and an agreement's acceptance."""

from __future__ import annotations

from dataclasses import dataclass

from tuoguan.accounts.throttle_rules import client_address, parse_proxies
from tuoguan.config import Settings


@dataclass(frozen=True)
class Origin:
    """A request's client address (through trusted proxies only) and user agent."""

    address: str
    user_agent: str = ""


# What a use case run outside a request (the CLI, the demo, the worker) records.
LOCAL = Origin("local", "tuoguan")


def origin_of(
    settings: Settings, *, peer: str | None, forwarded_for: str | None, user_agent: str | None
) -> Origin:
    """The origin of a request: the peer, or what trusted proxies say (TUOGUAN_TRUSTED_PROXIES),
    never what the client claims for itself."""
    address = client_address(peer, forwarded_for, parse_proxies(settings.trusted_proxies))
    return Origin(address[:64], (user_agent or "")[:500])

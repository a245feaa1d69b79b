"""Carrier adapters behind one interface (``base.Carrier``), chosen per carrier account."""

from __future__ import annotations

from tuoguan.config import Settings, get_settings
from tuoguan.errors import InvalidInput
from tuoguan.kit.outbound import OutboundPolicy
from tuoguan.shipping.carriers.base import Carrier
from tuoguan.shipping.carriers.sandbox import SandboxCarrier
from tuoguan.shipping.models import CarrierAccount

ADAPTERS = ("sandbox", "karrio")
# Adapters whose carriers push their events; the others are polled by the worker.
PUSHING = ("sandbox",)


def carrier_for(account: CarrierAccount, settings: Settings | None = None) -> Carrier:
    """The adapter that speaks to this carrier account, calling out as ``settings`` allow
    (the process's settings when none are given)."""
    if account.adapter == "sandbox":
        policy = OutboundPolicy.of(settings or get_settings())
        return SandboxCarrier(
            account.code, account.base_url, account.api_key, account.webhook_secret, policy
        )
    if account.adapter == "karrio":
        from tuoguan.shipping.carriers.karrio_carrier import KarrioCarrier

        return KarrioCarrier(account.code, dict(account.options or {}))
    raise InvalidInput(f"no adapter named {account.adapter!r}", field="adapter")

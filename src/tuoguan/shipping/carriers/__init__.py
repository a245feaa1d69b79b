"""Carrier adapters behind one interface (``base.Carrier``), chosen per carrier account."""

from __future__ import annotations

from tuoguan.errors import InvalidInput
from tuoguan.shipping.carriers.base import Carrier
from tuoguan.shipping.carriers.sandbox import SandboxCarrier
from tuoguan.shipping.models import CarrierAccount

ADAPTERS = ("sandbox", "karrio")
# Adapters whose carriers push their events; the others are polled by the worker.
PUSHING = ("sandbox",)


def carrier_for(account: CarrierAccount) -> Carrier:
    """The adapter that speaks to this carrier account."""
    if account.adapter == "sandbox":
        return SandboxCarrier(
            account.code, account.base_url, account.api_key, account.webhook_secret
        )
    if account.adapter == "karrio":
        from tuoguan.shipping.carriers.karrio_carrier import KarrioCarrier

        return KarrioCarrier(account.code, dict(account.options or {}))
    raise InvalidInput(f"no adapter named {account.adapter!r}", field="adapter")

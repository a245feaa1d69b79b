"""Who hears that the carrier would not stop a parcel already shipped (O4 with F10).

After shipment the buyer's cancel asks the carrier to stop the parcel; when the carrier refuses
(or scans the parcel onwards), the order stays shipped and the buyer's cancel becomes a return.
Returns belong to a higher layer (cases), which shipping may not import, so that layer
registers a listener here when it is imported, as the domains above orders register their
guards (``orders.service.guard``). Every listener runs in the transaction that applies the
carrier's answer: one that raises refuses the whole answer, and the carrier's push or poll is
retried. This registry lives apart from ``cancellation.py`` because ``tracking.py`` calls it and
``cancellation.py`` imports ``tracking.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.orders.models import Order

# (session, the platform's context, the order, now shipped again, the carrier's reason). The
# buyer's own reason for cancelling is the order's ``cancel_reason``.
AfterShipmentRefused = Callable[[AsyncSession, Ctx, Order, str], Awaitable[None]]

AFTER_SHIPMENT_REFUSED: list[AfterShipmentRefused] = []


def register(listener: AfterShipmentRefused) -> AfterShipmentRefused:
    """Call ``listener`` each time the carrier refuses to stop a shipped order's parcel (once,
    however often it is registered); usable as a decorator."""
    if listener not in AFTER_SHIPMENT_REFUSED:
        AFTER_SHIPMENT_REFUSED.append(listener)
    return listener


def unregister(listener: AfterShipmentRefused) -> None:
    """Stop calling ``listener`` (nothing happens if it was not registered)."""
    if listener in AFTER_SHIPMENT_REFUSED:
        AFTER_SHIPMENT_REFUSED.remove(listener)


async def after_shipment_refused(
    session: AsyncSession, ctx: Ctx, order: Order, reason: str
) -> None:
    """Tell every listener, in the order they registered, in the caller's transaction."""
    for listener in list(AFTER_SHIPMENT_REFUSED):
        await listener(session, ctx, order, reason)

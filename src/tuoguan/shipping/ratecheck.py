"""G1: ask each carrier its own price for an order and set it beside tuoguan's quote.

The quotes sellers see come from tuoguan's versioned rate cards, so they are
reproducible; a carrier's tariff changes on its own. The rate check lets an
operator see where a card has drifted from what the carrier would charge,
service by service, before the difference shows up on an invoice.
Read-only: nothing is booked or stored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.errors import DomainError, Forbidden
from tuoguan.orders import service as orders
from tuoguan.shipping import quotes
from tuoguan.shipping.carriers import carrier_for
from tuoguan.shipping.carriers.base import BookingRequest, Item
from tuoguan.shipping.models import CarrierAccount
from tuoguan.shipping.shipments import contents_of, receiver_of, sender_of


@dataclass(frozen=True)
class Check:
    """One service: tuoguan's quote, the carrier's price, and how far apart they are."""

    service_code: str
    carrier_code: str
    quote_minor: int
    currency: str
    transit_max_days: int
    carrier_minor: int | None = None
    carrier_currency: str | None = None
    carrier_transit_days: int | None = None
    carrier_lines: tuple[tuple[str, int], ...] = ()
    error: str | None = None

    @property
    def difference_minor(self) -> int | None:
        """Carrier minus quote, when both are in the same currency."""
        if self.carrier_minor is None or self.carrier_currency != self.currency:
            return None
        return self.carrier_minor - self.quote_minor


async def rate_check(session: AsyncSession, *, ctx: Ctx, order_id: str) -> list[Check]:
    """Each service that may carry the order: our quote beside the carrier's own (operators)."""
    if not ctx.principal.is_operator:
        raise Forbidden("only operators run a rate check")
    order = await orders.get_order(session, principal=ctx.principal, order_id=order_id)
    sender = await sender_of(session, ctx.principal, order)
    parcel, _ = await quotes.parcel_for(session, order, None)
    found = await quotes.choices(
        session, order=order, parcel=parcel, insure=False, now=ctx.clock.now()
    )
    items = tuple(Item(**x) for x in await contents_of(session, order))
    checks = []
    for choice in found:
        if choice.priced is None:
            continue
        service, priced = choice.service, choice.priced
        base = Check(
            service_code=service.code,
            carrier_code=service.carrier_code,
            quote_minor=priced.total_minor,
            currency=parcel.currency,
            transit_max_days=priced.zone.transit_max_days,
        )
        account = await session.get(CarrierAccount, service.carrier_code)
        if account is None or not account.active:
            checks.append(replace(base, error=f"no active carrier account {service.carrier_code}"))
            continue
        request = BookingRequest(
            reference=f"rate-check-{order.id}",
            service_code=service.code,
            sender=sender,
            receiver=receiver_of(order),
            weight_g=parcel.weight_g,
            length_mm=parcel.length_mm,
            width_mm=parcel.width_mm,
            height_mm=parcel.height_mm,
            declared_value_minor=parcel.declared_value_minor,
            currency=parcel.currency,
            insured=False,
            items=items,
        )
        try:
            rate = await carrier_for(account, ctx.settings).quote(request)
        except DomainError as exc:  # one carrier's refusal or outage does not hide the others
            checks.append(replace(base, error=exc.detail))
            continue
        checks.append(
            replace(
                base,
                carrier_minor=rate.total_minor,
                carrier_currency=rate.currency,
                carrier_transit_days=rate.transit_days,
                carrier_lines=rate.lines,
            )
        )
    return checks

"""Parcels a carrier tracks that are not shipments: a return's parcel, booked by a higher layer
(cases) under its own reference. A carrier's events arrive for every parcel it carries, in one
batch; a number no shipment has is offered to the owners registered here before the batch is
refused as ``unknown_parcel``. Shipping may not import the layers above it, so they register.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.shipping.carriers.base import Scan

# (session, the carrier's context, carrier code, tracking number, that parcel's scans) ->
# (accepted, duplicates) when the owner has the parcel, else None.
ParcelOwner = Callable[[AsyncSession, Ctx, str, str, list[Scan]], Awaitable[tuple[int, int] | None]]

OWNERS: list[ParcelOwner] = []


def register(owner: ParcelOwner) -> ParcelOwner:
    """Offer unknown tracking numbers to ``owner`` (once, however often it is registered)."""
    if owner not in OWNERS:
        OWNERS.append(owner)
    return owner


async def claim(
    session: AsyncSession, ctx: Ctx, carrier_code: str, number: str, scans: list[Scan]
) -> tuple[int, int] | None:
    """The first owner's answer for a number no shipment has, or None: nobody's."""
    for owner in OWNERS:
        taken = await owner(session, ctx, carrier_code, number, scans)
        if taken is not None:
            return taken
    return None

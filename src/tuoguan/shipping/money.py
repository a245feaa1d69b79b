"""What parcels post to the ledger: their shipping fees (F5, F8, G1) and insurance payouts (G3).
Never commits: each posting is made in the transaction of the event that causes it.

- **Shipping fee.** Booking a parcel under a quote charges the quoted total to whoever ships
  it: the seller (``shipping_fee_charged`` on the store's payable, about the order), or the
  platform when its warehouse ships (``shipping_cost_incurred``, about the shipment, with no
  store: the seller never sees the platform's freight, F11). Idempotency key
  ``shipping:<shipment id>``. A booking the carrier voids before pickup (F10) is reversed in
  the transaction that records the carrier's confirmation; a parcel stopped after pickup (the
  buyer's cancel after shipment, O4) was carried, so its fee stands.
- **Insurance.** An approved claim pays the seller the approved amount and records what the
  insurer owes the platform (``insurance_claim_paid``, key ``claim:<claim id>``).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.ledger import reads as ledger_reads
from tuoguan.ledger import service as ledger
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.records import Entry
from tuoguan.shipping.models import InsuranceClaim, Shipment
from tuoguan.stores.modes import Party


def fee_key(shipment_id: str) -> str:
    """The idempotency key of a parcel's shipping fee."""
    return f"shipping:{shipment_id}"


def _fee_subject(shipment: Shipment) -> tuple[str, str]:
    """The seller's fee is about its order (its statement links it); the platform's freight is
    about the shipment, which only operators and the warehouse see (F11)."""
    if shipment.payer is Party.platform:
        return ("shipment", shipment.id)
    return ("order", shipment.order_id)


async def charge_fee(session: AsyncSession, ctx: Ctx, shipment: Shipment) -> Entry | None:
    """Post the parcel's quoted price to whoever ships it (None for a free quote)."""
    if shipment.quote_total_minor <= 0:
        return None
    platform = shipment.payer is Party.platform
    return await ledger.post(
        session,
        ctx,
        EntryKind.shipping_cost_incurred if platform else EntryKind.shipping_fee_charged,
        currency=shipment.currency,
        parts={"amount": shipment.quote_total_minor},
        store_id=None if platform else shipment.store_id,
        subject=_fee_subject(shipment),
        idem_key=fee_key(shipment.id),
        memo=f"shipment {shipment.id} ({shipment.service_code} {shipment.tracking_number})",
    )


async def void_fee(session: AsyncSession, ctx: Ctx, shipment: Shipment) -> Entry | None:
    """Reverse the parcel's fee: the carrier voided the booking before pickup (F10). None when
    there is nothing left to reverse (no fee, reversed already, or picked up)."""
    if shipment.picked_up_at is not None:
        # O4 with F10: a parcel the carrier stopped after its pickup scan was carried (and is
        # carried back): the carrier charges it, so the seller's fee is not given back as if the
        # booking had been voided before pickup.
        return None
    subject_type, subject_id = _fee_subject(shipment)
    entries = await ledger_reads.entries_of(
        session, subject_type=subject_type, subject_id=subject_id
    )
    charged = next((e for e in entries if e.idem_key == fee_key(shipment.id)), None)
    if charged is None or any(e.reverses_id == charged.id for e in entries):
        return None
    return await ledger.reverse(
        session,
        ctx,
        charged.id,
        f"shipment {shipment.id} cancelled by the carrier before pickup (F10)",
    )


async def pay_claim(
    session: AsyncSession, ctx: Ctx, claim: InsuranceClaim, shipment: Shipment
) -> Entry:
    """G3: the approved amount is due to the seller of the parcel's store, and the insurer owes
    it to the platform."""
    assert claim.approved_minor is not None
    return await ledger.post(
        session,
        ctx,
        EntryKind.insurance_claim_paid,
        currency=claim.currency,
        parts={"amount": claim.approved_minor},
        store_id=shipment.store_id,
        subject=("claim", claim.id),
        idem_key=f"claim:{claim.id}",
        memo=f"{claim.kind.value} claim on shipment {shipment.id}",
    )

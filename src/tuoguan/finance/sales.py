"""What a completed sale posts to the ledger, by mode (M3, O3); the caller commits.

The buyer paid the order's total: its lines and the shipping it was charged. Where that money
goes is read from the mode table (``stores.modes``):

- **the seller reports a supply price** (full-managed, ``supply_price``): the seller is due the
  supply price of what it supplied (Σ quantity x the SKU's supply price recorded at
  placement), with no commission; the platform keeps the rest, shipping included (it ships):
  ``sale_supplied(supply, margin = total - supply)``. When the retail price is below the
  supply price the margin would be negative: the seller is still due the whole supply price
  and the platform bears the difference (see ``plan``);
- **otherwise** (self-run, semi-managed): the seller is due the total less commission, and the
  platform keeps the commission: ``sale_commissioned(net, commission)``. Commission is taken
  on each line's total at the rate its order line recorded (``finance.commission``), rounded
  half to even per line in minor units, and summed; none on the shipping the buyer paid (the
  seller ships and pays the carrier). A mode without ``commission`` posts commission 0.

Each entry is about the order (subject ``("order", id)``), for its store, in its currency,
under the idempotency key ``sale:<order id>``, so a sale posts once however often it is asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.finance.commission import commission
from tuoguan.ledger import service as ledger
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.records import Entry

SUBJECT = "order"


@dataclass(frozen=True)
class SoldLine:
    """One order line as the sale needs it."""

    quantity: int
    line_total_minor: int
    commission_bp: int = 0  # the rate recorded at placement; 0 where no commission is taken
    supply_price_minor: int = 0  # per unit, recorded at placement (full-managed)


@dataclass(frozen=True)
class Planned:
    """One entry a sale posts."""

    kind: EntryKind
    parts: dict[str, int]
    idem_key: str
    memo: str


def sale_key(order_id: str) -> str:
    """The idempotency key of an order's sale."""
    return f"sale:{order_id}"


def plan(
    *, order_id: str, supplied: bool, total_minor: int, lines: Sequence[SoldLine]
) -> list[Planned]:
    """The entries a completed order posts (pure): one, or two when the platform sold below
    the supply price, or none for a sale of nothing (every part 0).

    Below the supply price, the seller is due the supply price all the same (M3): one
    ``sale_below_supply(paid, shortfall)`` entry credits the seller the supply price, debits
    cash with what the buyer paid and the platform's revenue with the shortfall.
    """
    key = sale_key(order_id)
    if supplied:
        supply = sum(line.quantity * line.supply_price_minor for line in lines)
        margin = total_minor - supply
        if margin >= 0:
            entries = [
                Planned(
                    EntryKind.sale_supplied,
                    {"supply": supply, "margin": margin},
                    key,
                    f"order {order_id} completed: supply price {supply}, margin {margin}",
                )
            ]
        else:
            entries = [
                Planned(
                    EntryKind.sale_below_supply,
                    {"paid": total_minor, "shortfall": -margin},
                    key,
                    f"order {order_id} completed {-margin} below its supply price {supply}: "
                    "the platform bears the difference (M3)",
                )
            ]
    else:
        taken = sum(commission(line.line_total_minor, line.commission_bp) for line in lines)
        rates = sorted({line.commission_bp for line in lines})
        shown = ", ".join(f"{bp / 100:g}%" for bp in rates) or "none"
        entries = [
            Planned(
                EntryKind.sale_commissioned,
                {"net": total_minor - taken, "commission": taken},
                key,
                f"order {order_id} completed: commission {taken} at {shown}",
            )
        ]
    return [entry for entry in entries if any(entry.parts.values())]


async def post_sale(
    session: AsyncSession,
    ctx: Ctx,
    *,
    order_id: str,
    store_id: str,
    currency: str,
    supplied: bool,
    total_minor: int,
    lines: Sequence[SoldLine],
) -> list[Entry]:
    """Post a completed order's sale in the caller's transaction (once: idempotency keys)."""
    planned = plan(order_id=order_id, supplied=supplied, total_minor=total_minor, lines=lines)
    return [
        await ledger.post(
            session,
            ctx,
            entry.kind,
            currency=currency,
            parts=entry.parts,
            store_id=store_id,
            subject=(SUBJECT, order_id),
            idem_key=entry.idem_key,
            memo=entry.memo,
        )
        for entry in planned
    ]

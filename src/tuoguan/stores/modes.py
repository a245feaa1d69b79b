"""M1, M3, F1, F3: what differs between the three modes, in one table the code reads.

Every place that behaves differently by mode asks this table, never ``mode is …``: who sets the
price the buyer pays, whether the seller reports a supply price, who ships and from where, who
confirms the order, who handles after-sales, and whether commission applies. docs/architecture.md
shows it (``render_markdown``), and a test keeps the two the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tuoguan.stores.models import StoreMode


class Party(StrEnum):
    """Who does a part of the work."""

    seller = "seller"
    platform = "platform"


class ShipFrom(StrEnum):
    """The kind of place a buyer's parcel leaves from (the warehouse kinds of ``inventory``)."""

    seller_origin = "seller_origin"  # the seller's own premises or warehouse
    overseas = "overseas"  # a warehouse in or near the buyer's market (海外仓)
    consolidation = "consolidation"  # the platform's domestic warehouse (优选仓)


@dataclass(frozen=True)
class ModeRules:
    """One mode's answers."""

    retail_price_by: Party  # C1: who sets the price the buyer pays
    supply_price: bool  # C1, M1: the seller reports a supply price (上报价格)
    stock_held_by: Party  # M5: whose warehouse holds the stock that is sold
    ships: Party  # F1, F3: who ships to the buyer
    ships_from: tuple[ShipFrom, ...]  # F1, F3: from which kinds of place
    just_in_time: bool  # F3: the seller ships each order as it comes (即时发货)
    supply_orders: bool  # O2 x M5: an order the warehouse cannot serve is a supply order (备货单)
    seller_confirms: bool  # O2: the seller confirms each order or supply order within 24 h
    after_sales: Party  # M1, M3: who answers the buyer after delivery
    commission: bool  # M3: the platform takes a commission on the sale
    invitation_only: bool  # M2: opened only by accepting an operator's invitation


MODES: dict[StoreMode, ModeRules] = {
    StoreMode.self_run: ModeRules(
        retail_price_by=Party.seller,
        supply_price=False,
        stock_held_by=Party.seller,
        ships=Party.seller,
        ships_from=(ShipFrom.seller_origin, ShipFrom.overseas),
        just_in_time=False,
        supply_orders=False,
        seller_confirms=False,
        after_sales=Party.seller,
        commission=True,
        invitation_only=False,
    ),
    StoreMode.semi_managed: ModeRules(
        retail_price_by=Party.seller,
        supply_price=False,
        stock_held_by=Party.seller,
        ships=Party.seller,
        ships_from=(ShipFrom.overseas, ShipFrom.seller_origin),
        just_in_time=True,
        supply_orders=False,
        seller_confirms=False,
        after_sales=Party.seller,
        commission=True,
        invitation_only=False,
    ),
    StoreMode.full_managed: ModeRules(
        retail_price_by=Party.platform,
        supply_price=True,
        stock_held_by=Party.platform,
        ships=Party.platform,
        ships_from=(ShipFrom.consolidation,),
        just_in_time=False,
        supply_orders=True,
        seller_confirms=True,
        after_sales=Party.platform,
        commission=False,
        invitation_only=True,
    ),
}


def rules(mode: StoreMode) -> ModeRules:
    """The table's row for a mode."""
    return MODES[mode]


_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("retail_price_by", "sets the retail price (C1)"),
    ("supply_price", "seller reports a supply price (C1)"),
    ("stock_held_by", "holds the stock (M5)"),
    ("ships", "ships to the buyer (F1, F3)"),
    ("ships_from", "ships from (F1, F3)"),
    ("just_in_time", "seller ships each order as it comes, JIT (F3)"),
    ("supply_orders", "out of stock: a supply order to the seller (O2 × M5)"),
    ("seller_confirms", "seller confirms within 24 h (O2)"),
    ("after_sales", "handles after-sales (M1, M3)"),
    ("commission", "commission on the sale (M3)"),
    ("invitation_only", "by invitation only (M2)"),
)


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return ", ".join(f"`{v}`" for v in value)
    return f"`{value}`"


def render_markdown() -> str:
    """The table as docs/architecture.md shows it."""
    modes = list(MODES)
    head = "| | " + " | ".join(f"`{m.value}`" for m in modes) + " |"
    rule = "|---|" + "---|" * len(modes)
    rows = [
        f"| {label} | " + " | ".join(_cell(getattr(MODES[m], name)) for m in modes) + " |"
        for name, label in _QUESTIONS
    ]
    return "\n".join([head, rule, *rows])

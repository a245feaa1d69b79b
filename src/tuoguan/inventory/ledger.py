"""The stock ledger's arithmetic, as data: which buckets each kind of move changes (M5, R1).

A (warehouse, SKU) has four buckets: ``on_hand`` (good units on the shelves), ``reserved``
(the part of on hand held for orders), ``defective`` (damaged units, kept apart, never sold)
and ``inbound`` (announced by an inbound notice, not yet received). ``available`` is
``on_hand - reserved``. No bucket is ever negative and ``reserved <= on_hand``.

How units leave (the model chosen for pick and ship): a reservation holds units that stay on
the shelf, counted in on hand. Picking moves no bucket: the picker takes reserved units to
the packing bench and the ledger records who did it and for what; if the pack is called off,
a release makes them available again and they go back on the shelf. Shipping is the moment
the units leave the building: on hand and reserved go down together. So a unit is sold once:
reserving needs ``available``, shipping needs ``reserved``.

Receiving against a notice writes two rows: ``receipt`` (on hand up) for what was counted
good, and ``inbound_cancel`` (inbound down) for the announced units the count settles; a
notice closed short cancels the rest. Units found damaged move from on hand to defective
(counted damaged on arrival: a receipt, then a defective move); an operator's count correction (``adjust``) may move on hand, defective and
inbound either way, never reserved (only reservations move it), and never below zero.

This table is the only place that says so: the service applies it, the check rebuilds
balances from the rows it produced, and the tests drive random moves through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum

from tuoguan.errors import InvalidInput
from tuoguan.inventory.models import MoveKind


class Bucket(StrEnum):
    """A count kept per warehouse and SKU."""

    on_hand = "on_hand"  # 在库
    reserved = "reserved"  # 占用
    defective = "defective"  # 次品
    inbound = "inbound"  # 在途 (announced, not yet received)


@dataclass(frozen=True)
class Deltas:
    """How much each bucket changes in one move."""

    on_hand: int = 0
    reserved: int = 0
    defective: int = 0
    inbound: int = 0

    def items(self) -> list[tuple[Bucket, int]]:
        """(bucket, delta) for every bucket, zero or not."""
        return [(Bucket(f.name), getattr(self, f.name)) for f in fields(self)]

    def changed(self) -> list[tuple[Bucket, int]]:
        """(bucket, delta) of the buckets that move."""
        return [(bucket, delta) for bucket, delta in self.items() if delta]

    @property
    def is_zero(self) -> bool:
        """Whether nothing moves."""
        return not self.changed()


@dataclass(frozen=True)
class Effect:
    """What a kind of move does: each bucket's sign times the quantity, or free (adjust)."""

    kind: MoveKind
    signs: dict[Bucket, int] = field(default_factory=dict)
    free: frozenset[Bucket] = frozenset()
    meaning: str = ""


B = Bucket
K = MoveKind
EFFECTS: dict[MoveKind, Effect] = {
    effect.kind: effect
    for effect in (
        Effect(K.inbound, {B.inbound: +1}, meaning="an inbound notice announced units"),
        Effect(
            K.inbound_cancel,
            {B.inbound: -1},
            meaning="announced units settled: received, or will not arrive",
        ),
        Effect(K.receipt, {B.on_hand: +1}, meaning="counted good and put away (入库)"),
        Effect(K.reserve, {B.reserved: +1}, meaning="held for an order; needs available units"),
        Effect(K.release, {B.reserved: -1}, meaning="the hold dropped; units available again"),
        Effect(K.pick, {}, meaning="reserved units taken to packing; nothing moves until ship"),
        Effect(
            K.ship,
            {B.on_hand: -1, B.reserved: -1},
            meaning="reserved units left the warehouse in a parcel (出库)",
        ),
        Effect(
            K.defective,
            {B.on_hand: -1, B.defective: +1},
            meaning="good units found damaged, kept apart (次品)",
        ),
        Effect(
            K.adjust,
            free=frozenset({B.on_hand, B.defective, B.inbound}),
            meaning="an operator's count correction, with a reason (盘点调整)",
        ),
    )
}


def deltas_for(kind: MoveKind, quantity: int) -> Deltas:
    """The deltas of a move of ``quantity`` units of this kind (not ``adjust``)."""
    effect = EFFECTS[kind]
    if effect.free:
        raise ValueError(f"a {kind.value} move takes its deltas bucket by bucket")
    if quantity < 1:
        raise InvalidInput(
            f"a {kind.value} moves a whole number of units, at least 1",
            field="quantity",
            rule="quantity_positive",
        )
    return Deltas(**{bucket.value: sign * quantity for bucket, sign in effect.signs.items()})


def adjustment(deltas: Deltas) -> Deltas:
    """An operator's correction, refused when it moves a bucket adjust may not, or nothing."""
    allowed = EFFECTS[MoveKind.adjust].free
    for bucket, _ in deltas.changed():
        if bucket not in allowed:
            raise InvalidInput(
                f"{bucket.value} moves only through reservations, never by adjustment",
                field=bucket.value,
                rule="not_adjustable",
            )
    if deltas.is_zero:
        raise InvalidInput(
            "an adjustment moves at least one bucket",
            field="on_hand",
            rule="adjustment_not_empty",
        )
    return deltas


@dataclass(frozen=True)
class Levels:
    """A balance's four buckets at one moment."""

    on_hand: int = 0
    reserved: int = 0
    defective: int = 0
    inbound: int = 0

    @property
    def available(self) -> int:
        """What can still be reserved."""
        return self.on_hand - self.reserved

    def plus(self, deltas: Deltas) -> Levels:
        """The levels after a move."""
        return Levels(
            self.on_hand + deltas.on_hand,
            self.reserved + deltas.reserved,
            self.defective + deltas.defective,
            self.inbound + deltas.inbound,
        )

    def broken(self) -> tuple[str, str] | None:
        """(bucket, rule) of the first rule these levels break, or None if they hold."""
        for bucket in Bucket:
            if getattr(self, bucket.value) < 0:
                return bucket.value, f"{bucket.value}_not_negative"
        if self.reserved > self.on_hand:
            return "reserved", "reserved_within_on_hand"
        return None


def effects_markdown() -> str:
    """The table above as Markdown (for the docs): each kind, its deltas, its meaning."""
    lines = ["| kind | on_hand | reserved | defective | inbound | meaning |", "|---|---|---|---|---|---|"]
    for kind, effect in EFFECTS.items():
        cells = []
        for bucket in Bucket:
            if bucket in effect.free:
                cells.append("±n")
            else:
                sign = effect.signs.get(bucket, 0)
                cells.append({1: "+n", -1: "-n", 0: ""}[sign])
        lines.append(f"| `{kind.value}` | {' | '.join(cells)} | {effect.meaning} |")
    return "\n".join(lines)

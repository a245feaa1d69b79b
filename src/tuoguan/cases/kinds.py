"""The kinds of case, as data: each kind's causes, its steps (who owns each and how long it has),
the moves between them and the decisions it may end in (R2, R3, G4).

A case starts at its kind's first step for the store's mode and moves only along ``next``; the
owner of a step is the party expected to act, and its time is counted from when the case
entered it (``due_in``). ``decided`` leaves room for one appeal (``APPEAL_DAYS`` natural days),
and ``closed`` is final. The service applies this table, the console reads its labels from it,
and the tests walk every kind to every decision through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from tuoguan.kit.clock import as_utc
from tuoguan.stores.models import StoreMode
from tuoguan.timing.calendar import calendar_for
from tuoguan.timing.deadlines import DISPUTE_TARGET, end_of_day

PLATFORM_ZONE = ZoneInfo("Asia/Shanghai")
APPEAL_DAYS = 7  # natural days after the decision in which a party may appeal, once


class CaseKind(StrEnum):
    receiving_exception = "receiving_exception"  # 收货异常 (R2, R3)
    dispute = "dispute"  # 纠纷 (G4)
    after_sale = "after_sale"  # 售后 退货退款: a return and its refund after delivery (G6, M3, O4)


class CaseParty(StrEnum):
    """Who takes part in a case (and owns its steps)."""

    seller = "seller"
    buyer = "buyer"  # through the storefront (the buyer channel)
    carrier = "carrier"
    warehouse = "warehouse"
    platform = "platform"  # the operators: customer service and the deciders


class CaseState(StrEnum):
    checking = "checking"  # 检查订单信息: the notice and the count checked
    awaiting_carrier = "awaiting_carrier"  # 联系物流公司: the carrier's proof asked for
    awaiting_seller = "awaiting_seller"  # 联系卖家: the seller's proof (or answer) asked for
    escalated = "escalated"  # 联系平台客服: with customer service, to decide
    investigating = "investigating"  # the platform investigates a dispute
    return_requested = "return_requested"  # 退货申请: the platform (or the seller) authorizes it
    return_shipping = "return_shipping"  # 退货中: the buyer sends the parcel back on its label
    return_received = "return_received"  # 已收到退货: received and inspected; the refund next
    decided = "decided"  # decided; one appeal may follow
    appealed = "appealed"  # 申诉: a second operator decides, finally
    closed = "closed"


class Bearer(StrEnum):
    """Who bears the cost a decision names."""

    seller = "seller"
    carrier = "carrier"
    platform = "platform"


@dataclass(frozen=True)
class Step:
    owner: CaseParty | None
    # Business days on the platform's calendar (to the end of that day), or natural days.
    business_days: int | None = None
    natural: timedelta | None = None
    next: tuple[CaseState, ...] = ()
    # Counted from the case's opening, not from entering the step (a dispute's 3 days, G4).
    from_opening: bool = False

    def due(self, entered_at: datetime, opened_at: datetime) -> datetime | None:
        if self.natural is not None:
            return as_utc(opened_at if self.from_opening else entered_at) + self.natural
        if self.business_days is None:
            return None
        local = as_utc(entered_at).astimezone(PLATFORM_ZONE).date()
        day = calendar_for("CN").add_business_days(local, self.business_days)
        return as_utc(end_of_day(day, PLATFORM_ZONE))


@dataclass(frozen=True)
class Decision:
    """A way a case may end: whether it names a bearer (and which may bear it), and whether it
    moves money, with an amount (``amount``: required, ``optional`` or none)."""

    bearers: tuple[Bearer, ...] = ()
    amount: str | None = None  # "required", "optional" or None (none may be given)
    units: bool = False  # it changes the units on hand by ``units`` (R3: adjust the quantities)


@dataclass(frozen=True)
class KindSpec:
    kind: CaseKind
    causes: tuple[str, ...]
    parties: tuple[CaseParty, ...]
    steps: dict[CaseState, Step]
    decisions: dict[str, Decision]
    # Where a case of each store mode starts (a full-managed dispute is the platform's alone).
    first: dict[StoreMode, CaseState]
    # Who may make the one appeal: the parties a decision can cost (not a return's carrier or
    # the warehouse that received it, whose appeal would spend the buyer's and the seller's).
    appellants: tuple[CaseParty, ...] = ()

    def step(self, state: CaseState) -> Step:
        return self.steps[state]


_DECIDE = CaseState.decided
_AFTER_DECISION = {
    CaseState.decided: Step(
        owner=None, natural=timedelta(days=APPEAL_DAYS), next=(CaseState.appealed,)
    ),
    CaseState.appealed: Step(owner=CaseParty.platform, business_days=2, next=(CaseState.closed,)),
    CaseState.closed: Step(owner=None),
}
_ANY_MODE = dict.fromkeys(StoreMode, CaseState.checking)

RECEIVING = KindSpec(
    kind=CaseKind.receiving_exception,
    # R2: what went wrong at receiving (the warehouse's discrepancy kinds map onto the first four)
    causes=(
        "short",
        "over",
        "damaged",
        "wrong_item",
        "label_or_address",
        "info_mismatch",
        "system_fault",
    ),
    parties=(CaseParty.seller, CaseParty.warehouse, CaseParty.carrier, CaseParty.platform),
    steps={
        CaseState.checking: Step(
            owner=CaseParty.platform,
            business_days=1,
            next=(
                CaseState.awaiting_carrier,
                CaseState.awaiting_seller,
                CaseState.escalated,
                _DECIDE,
            ),
        ),
        CaseState.awaiting_carrier: Step(
            owner=CaseParty.carrier,
            business_days=2,
            next=(CaseState.awaiting_seller, CaseState.escalated, _DECIDE),
        ),
        CaseState.awaiting_seller: Step(
            owner=CaseParty.seller,
            business_days=2,
            next=(CaseState.awaiting_carrier, CaseState.escalated, _DECIDE),
        ),
        CaseState.escalated: Step(owner=CaseParty.platform, business_days=1, next=(_DECIDE,)),
        **_AFTER_DECISION,
    },
    decisions={
        "accept_counts": Decision(),  # the count stands as received
        "return_to_seller": Decision(
            bearers=(Bearer.seller, Bearer.carrier, Bearer.platform), amount="optional"
        ),
        "reship": Decision(),  # the seller sends what was missing or wrong again
        # the count is corrected: units put on hand (found later) or taken off
        "adjust_quantities": Decision(units=True),
        "compensate": Decision(bearers=(Bearer.carrier, Bearer.platform), amount="required"),
    },
    first=_ANY_MODE,
    appellants=(CaseParty.seller, CaseParty.warehouse, CaseParty.carrier),
)

DISPUTE = KindSpec(
    kind=CaseKind.dispute,
    causes=("not_received", "not_as_described", "damaged", "wrong_item"),
    parties=(CaseParty.buyer, CaseParty.seller, CaseParty.platform),
    steps={
        # The seller answers within the platform's 3 natural days (G4); the platform decides.
        CaseState.awaiting_seller: Step(
            owner=CaseParty.seller,
            natural=timedelta(days=2),
            from_opening=True,
            next=(CaseState.investigating, _DECIDE),
        ),
        CaseState.investigating: Step(
            owner=CaseParty.platform, natural=DISPUTE_TARGET, from_opening=True, next=(_DECIDE,)
        ),
        **_AFTER_DECISION,
    },
    decisions={
        "refund_full": Decision(),
        "refund_partial": Decision(amount="required"),
        # The buyer sends the goods back first: a return opens, linked, and refunds on receipt.
        "return_and_refund": Decision(),
        "reject": Decision(),
    },
    first={
        StoreMode.self_run: CaseState.awaiting_seller,
        StoreMode.semi_managed: CaseState.awaiting_seller,
        StoreMode.full_managed: CaseState.investigating,  # the platform handles it alone
    },
    appellants=(CaseParty.buyer, CaseParty.seller),
)

RETURN_WINDOW_DAYS = 15  # G6: after-sales within 7-15 days of delivery; a return asked after it

AFTER_SALE = KindSpec(
    kind=CaseKind.after_sale,
    causes=("not_as_described", "damaged", "wrong_item", "not_wanted", "cancelled_in_transit"),
    parties=(
        CaseParty.buyer,
        CaseParty.seller,
        CaseParty.warehouse,
        CaseParty.carrier,
        CaseParty.platform,
    ),
    steps={
        # Authorized (a return label booked) or refused, within a business day.
        CaseState.return_requested: Step(
            owner=CaseParty.platform,
            business_days=1,
            next=(CaseState.return_shipping, _DECIDE),
        ),
        # The buyer sends the parcel back on the label; the receiver confirms its arrival.
        CaseState.return_shipping: Step(
            owner=CaseParty.buyer,
            natural=timedelta(days=RETURN_WINDOW_DAYS),
            next=(CaseState.return_received, _DECIDE),
        ),
        # Received and inspected: the platform refunds (or refuses) within a business day.
        CaseState.return_received: Step(owner=CaseParty.platform, business_days=1, next=(_DECIDE,)),
        **_AFTER_DECISION,
    },
    decisions={
        "refund_full": Decision(),
        "refund_partial": Decision(amount="required"),
        "reject": Decision(),
    },
    first=dict.fromkeys(StoreMode, CaseState.return_requested),
    appellants=(CaseParty.buyer, CaseParty.seller),
)

KINDS: dict[CaseKind, KindSpec] = {spec.kind: spec for spec in (RECEIVING, DISPUTE, AFTER_SALE)}
# Steps reached only by their own action (a label booked, a parcel received), never by a move.
ACTION_STATES = frozenset({CaseState.return_shipping, CaseState.return_received})
OPEN_STATES = frozenset(CaseState) - {CaseState.closed}
# States in which a party's step is running (not decided, appealed or closed).
WORKING = frozenset(
    {
        CaseState.checking,
        CaseState.awaiting_carrier,
        CaseState.awaiting_seller,
        CaseState.escalated,
        CaseState.investigating,
        CaseState.return_requested,
        CaseState.return_shipping,
        CaseState.return_received,
    }
)

"""The order state machine: one transition table per store mode, as data.

The console, the docs (``docs/architecture.md``) and the tests all read these
tables; nothing else decides which action is allowed in which state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tuoguan.errors import Forbidden, IllegalTransition
from tuoguan.principal import Role
from tuoguan.stores.models import StoreMode
from tuoguan.stores.modes import rules


class OrderStatus(StrEnum):
    """Where an order stands."""

    awaiting_confirmation = "awaiting_confirmation"  # 待确认接单 (full-managed, O2)
    awaiting_shipment = "awaiting_shipment"  # 待发货
    shipped = "shipped"  # 已发货
    delivered = "delivered"  # 已妥投
    completed = "completed"  # 交易完成
    cancelled = "cancelled"  # 已取消
    # 取消中: the cancel was asked while the parcel is booked; the carrier must void it (F10, O4).
    cancel_requested = "cancel_requested"


class OrderAction(StrEnum):
    """What can be done to an order."""

    confirm = "confirm"  # 确认接单
    ship = "ship"  # 发货
    deliver = "deliver"  # 妥投
    complete = "complete"  # 确认收货
    cancel = "cancel"  # 取消
    unship = "unship"  # 撤回发货: the carrier confirmed the shipment's cancellation (F10)
    # O4 with F10: cancelling an order whose parcel is booked asks the carrier first.
    request_cancel = "request_cancel"
    resume = "resume"  # the carrier refused to void the parcel: the order goes on
    # The carrier refused to stop a parcel already on its way: the order stays shipped, and the
    # buyer's cancel becomes a return (O4 with F10).
    keep_shipping = "keep_shipping"


@dataclass(frozen=True)
class Transition:
    """One allowed move: in ``source``, ``action`` by one of ``roles`` leads to ``target``."""

    source: OrderStatus
    action: OrderAction
    target: OrderStatus
    roles: frozenset[Role]


S = OrderStatus
A = OrderAction
_SHIPPERS = frozenset({Role.seller, Role.operator})
_CANCELLERS = frozenset({Role.buyer_channel, Role.seller, Role.operator})
# O4: after shipment the cancel is the buyer's (or an operator's for it): a seller that wants its
# parcel back cancels the shipment instead (F10), which undoes the shipment, not the order.
_BUYER_SIDE = frozenset({Role.buyer_channel, Role.operator})
_DELIVERERS = frozenset({Role.carrier, Role.operator})
_COMPLETERS = frozenset({Role.buyer_channel, Role.operator, Role.system})
# F10: only the carrier's confirmed cancellation takes a shipped order back.
_CARRIER = frozenset({Role.carrier})
# The carrier's answer about voiding the parcel, applied to the order by the platform.
_CARRIER_ANSWER = frozenset({Role.system})

_FULFILMENT = (
    Transition(S.awaiting_shipment, A.ship, S.shipped, _SHIPPERS),
    Transition(S.awaiting_shipment, A.cancel, S.cancelled, _CANCELLERS),
    # A booked parcel (label printed) must be voided by the carrier before the order is cancelled.
    Transition(S.awaiting_shipment, A.request_cancel, S.cancel_requested, _CANCELLERS),
    Transition(S.cancel_requested, A.cancel, S.cancelled, _CARRIER_ANSWER),
    Transition(S.cancel_requested, A.resume, S.awaiting_shipment, _CARRIER_ANSWER),
    Transition(S.cancel_requested, A.keep_shipping, S.shipped, _CARRIER_ANSWER),
    Transition(S.shipped, A.deliver, S.delivered, _DELIVERERS),
    Transition(S.shipped, A.unship, S.awaiting_shipment, _CARRIER),
    # O4 with F10: a cancel after shipment asks the carrier to stop (intercept) the parcel.
    Transition(S.shipped, A.request_cancel, S.cancel_requested, _BUYER_SIDE),
    Transition(S.delivered, A.complete, S.completed, _COMPLETERS),
)

TRANSITIONS: dict[StoreMode, tuple[Transition, ...]] = {
    # O2: a full-managed order waits for the seller to confirm (确认接单) within 24 h.
    # The system confirms at once when the platform's warehouse holds the stock (O2 x M5): the
    # seller then has nothing to confirm.
    StoreMode.full_managed: (
        Transition(
            S.awaiting_confirmation, A.confirm, S.awaiting_shipment, _SHIPPERS | {Role.system}
        ),
        Transition(S.awaiting_confirmation, A.cancel, S.cancelled, _CANCELLERS),
        *_FULFILMENT,
    ),
    # O3: semi-managed orders go straight to shipment (JIT, F3).
    StoreMode.semi_managed: _FULFILMENT,
    StoreMode.self_run: _FULFILMENT,
}

# An order waits for the seller's confirmation where the mode table says the seller confirms (O2).
INITIAL: dict[StoreMode, OrderStatus] = {
    mode: S.awaiting_confirmation if rules(mode).seller_confirms else S.awaiting_shipment
    for mode in StoreMode
}

# The deadline that runs while an order sits in a state (O5: "next deadline").
DEADLINE_OF: dict[OrderStatus, str] = {
    S.awaiting_confirmation: "confirm_by",
    S.awaiting_shipment: "ship_by",
    # While the carrier is asked to void the parcel, ship_by still runs: if it refuses, the
    # order must ship by then (no breach is recorded in this state).
    S.cancel_requested: "ship_by",
    S.shipped: "deliver_by",
    S.delivered: "auto_complete_at",
}

TERMINAL = frozenset({S.completed, S.cancelled})


# Actions a caller reaches through another one's endpoint: asking to cancel an order whose
# parcel is booked, or has shipped, is what ``cancel`` does then (O4 with F10).
REACHED_BY: dict[OrderAction, OrderAction] = {A.request_cancel: A.cancel}


def allowed(mode: StoreMode, status: OrderStatus, role: Role | None = None) -> list[OrderAction]:
    """Actions possible from a state (as the caller names them), optionally only a role's."""
    found = [
        REACHED_BY.get(t.action, t.action)
        for t in TRANSITIONS[mode]
        if t.source is status and (role is None or role in t.roles)
    ]
    return list(dict.fromkeys(found))


def next_state(
    mode: StoreMode, status: OrderStatus, action: OrderAction, role: Role
) -> OrderStatus:
    """The state an action leads to, or the error that says why it may not happen."""
    for transition in TRANSITIONS[mode]:
        if transition.source is status and transition.action is action:
            if role not in transition.roles:
                raise Forbidden(f"a {role.value} cannot {action.value} an order", field="action")
            return transition.target
    raise IllegalTransition(
        current=status.value, action=action.value, allowed=[a.value for a in allowed(mode, status)]
    )


def render_markdown() -> str:
    """The transition tables as Markdown, for docs/architecture.md (kept in sync by a test)."""
    parts = []
    for mode, table in TRANSITIONS.items():
        parts.append(f"#### `{mode.value}` (starts in `{INITIAL[mode].value}`)\n")
        parts.append("| from | action | to | who may |")
        parts.append("|---|---|---|---|")
        for t in table:
            roles = ", ".join(sorted(r.value for r in t.roles))
            parts.append(
                f"| `{t.source.value}` | `{t.action.value}` | `{t.target.value}` | {roles} |"
            )
        parts.append("")
    parts.append(
        "Deadline running in each state: "
        + ", ".join(f"`{state.value}` → `{field}`" for state, field in DEADLINE_OF.items())
        + "."
    )
    return "\n".join(parts) + "\n"

"""The shipment state machine, as data (F8, F10).

Sellers and operators move a shipment through the steps they own: submit the
shipping info, arrange the handover, ask to cancel. The carrier moves it
through the rest by tracking events and by answering a cancellation. Tracking
events may arrive twice or out of order, so a scan only moves a shipment
forward in ``PROGRESS``; a late, older scan is kept in the history and changes
nothing. The service applies a scan only if it is newer than the last one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tuoguan.errors import Forbidden, IllegalTransition
from tuoguan.principal import Role
from tuoguan.shipping.models import ShipmentStatus


class ShipmentAction(StrEnum):
    """What a person can do to a shipment."""

    submit = "submit"  # 提交发货信息 (F8 step 4)
    schedule_pickup = "schedule_pickup"  # 预约揽收 (F8 step 5)
    self_drop = "self_drop"  # 自寄 (F4)
    cancel = "cancel"  # 取消发货 (F10)


S = ShipmentStatus
A = ShipmentAction
_SELLERS = frozenset({Role.seller, Role.operator})
_CANCELLERS = _SELLERS | {Role.system}
_PLATFORM = frozenset({Role.system})


@dataclass(frozen=True)
class Transition:
    source: ShipmentStatus
    action: ShipmentAction
    target: ShipmentStatus
    roles: frozenset[Role]


TRANSITIONS = (
    Transition(S.created, A.submit, S.submitted, _SELLERS),
    Transition(S.submitted, A.schedule_pickup, S.pickup_scheduled, _SELLERS),
    Transition(S.submitted, A.self_drop, S.submitted, _SELLERS),
    # The platform voids a booked parcel, or stops (intercepts) one already on its way, when the
    # order's own cancel asks for it (O4). The seller cancels only before pickup: after it, the
    # parcel is stopped for the buyer's cancel alone, and what comes back is a return.
    Transition(S.created, A.cancel, S.cancel_requested, _CANCELLERS),
    Transition(S.submitted, A.cancel, S.cancel_requested, _CANCELLERS),
    Transition(S.pickup_scheduled, A.cancel, S.cancel_requested, _CANCELLERS),
    Transition(S.picked_up, A.cancel, S.cancel_requested, _PLATFORM),
    Transition(S.in_transit, A.cancel, S.cancel_requested, _PLATFORM),
    Transition(S.exception, A.cancel, S.cancel_requested, _PLATFORM),
)

# Where the carrier can still stop a parcel for the order's cancel (O4 with F10): out for
# delivery, or final, it cannot; the buyer asks for a return once it is delivered.
STOPPABLE = frozenset(
    t.source for t in TRANSITIONS if t.action is A.cancel and Role.system in t.roles
)

# How far a parcel has come: a scan moves the shipment only to a later rank.
# ``cancel_requested`` ranks with a pickup not yet made, whatever status it was asked from: any
# carrier scan after the request (a pickup, or for a parcel stopped on its way the next transit
# or exception scan) ranks at least as high, so it is read as the carrier going on with the
# parcel, i.e. refusing the cancellation (``tracking._apply``). Only the carrier's explicit
# ``cancelled`` answer stops it. Ranking the request higher would make such scans vanish.
PROGRESS: dict[ShipmentStatus, int] = {
    S.created: 0,
    S.submitted: 1,
    S.pickup_scheduled: 2,
    S.cancel_requested: 2,
    S.picked_up: 3,
    S.in_transit: 4,
    S.exception: 4,
    S.out_for_delivery: 5,
    S.delivered: 6,
    S.lost: 6,
    S.returned: 6,
    S.cancelled: 7,
}
FINAL = frozenset({S.delivered, S.lost, S.returned, S.cancelled})


class TrackingCode(StrEnum):
    """Normalized tracking events (F9); every carrier's codes map onto these."""

    label_created = "label_created"
    picked_up = "picked_up"
    in_transit = "in_transit"
    out_for_delivery = "out_for_delivery"
    delivered = "delivered"
    delayed = "delayed"
    exception = "exception"
    lost = "lost"
    returned = "returned"
    # G2: the delivery failed because of the buyer (refused, absent, a wrong address): a delay
    # the carrier proves is the buyer's is not compensated.
    buyer_caused = "buyer_caused"
    info = "info"  # an event the carrier did not classify: kept, moves nothing


# The status a tracking event points to; None: history only (a delay does not move the parcel).
STATUS_OF: dict[TrackingCode, ShipmentStatus | None] = {
    TrackingCode.label_created: None,
    TrackingCode.picked_up: S.picked_up,
    TrackingCode.in_transit: S.in_transit,
    TrackingCode.out_for_delivery: S.out_for_delivery,
    TrackingCode.delivered: S.delivered,
    TrackingCode.delayed: None,
    TrackingCode.exception: S.exception,
    TrackingCode.lost: S.lost,
    TrackingCode.returned: S.returned,
    TrackingCode.buyer_caused: S.exception,
    TrackingCode.info: None,
}


def allowed_actions(status: ShipmentStatus, role: Role) -> list[ShipmentAction]:
    """The actions this role may take in this status."""
    return [t.action for t in TRANSITIONS if t.source is status and role in t.roles]


def next_status(status: ShipmentStatus, action: ShipmentAction, role: Role) -> ShipmentStatus:
    """Where an action leads, or the refusal that says what is allowed."""
    for t in TRANSITIONS:
        if t.source is status and t.action is action:
            if role not in t.roles:
                raise Forbidden(
                    f"a {role.value} cannot {action.value} a shipment that is {status.value}"
                )
            return t.target
    allowed = [t.action.value for t in TRANSITIONS if t.source is status]
    raise IllegalTransition(
        current=status.value, action=action.value, allowed=allowed, subject="shipment"
    )


def after_scan(status: ShipmentStatus, code: TrackingCode) -> ShipmentStatus:
    """The status after a newer tracking event: never backwards, never out of a final status.

    In transit and exception share a rank, so the newer of the two wins.
    A pickup scan while a cancellation waits means the carrier has the parcel:
    the shipment moves on, and the cancellation is refused with it.
    """
    target = STATUS_OF[code]
    if target is None or status in FINAL:
        return status
    return target if PROGRESS[target] >= PROGRESS[status] else status

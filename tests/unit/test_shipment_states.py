"""The shipment state machine and tracking order, pure (F8, F9, F10)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuoguan.errors import Forbidden, IllegalTransition
from tuoguan.principal import Role
from tuoguan.shipping.models import ShipmentStatus as S
from tuoguan.shipping.states import (
    FINAL,
    PROGRESS,
    STOPPABLE,
    ShipmentAction,
    TrackingCode,
    after_scan,
    allowed_actions,
    next_status,
)


def test_people_move_a_shipment_only_through_their_own_steps() -> None:
    # F8 steps 4-5, F10
    assert allowed_actions(S.created, Role.seller) == [ShipmentAction.submit, ShipmentAction.cancel]
    assert (
        next_status(S.submitted, ShipmentAction.schedule_pickup, Role.seller) is S.pickup_scheduled
    )
    assert allowed_actions(S.created, Role.carrier) == []
    with pytest.raises(Forbidden):
        next_status(S.created, ShipmentAction.submit, Role.buyer_channel)
    # O4 with F10: after pickup only the platform asks the carrier to stop a parcel, for the
    # order's own cancel; the seller's cancel is for a parcel not yet picked up
    with pytest.raises(Forbidden, match="picked_up"):
        next_status(S.picked_up, ShipmentAction.cancel, Role.seller)
    assert ShipmentAction.cancel not in allowed_actions(S.in_transit, Role.seller)
    for status in (S.picked_up, S.in_transit, S.exception):
        assert next_status(status, ShipmentAction.cancel, Role.system) is S.cancel_requested
    assert {
        S.created,
        S.submitted,
        S.pickup_scheduled,
        S.picked_up,
        S.in_transit,
        S.exception,
    } == STOPPABLE
    with pytest.raises(IllegalTransition) as refused:
        next_status(S.out_for_delivery, ShipmentAction.cancel, Role.system)
    assert refused.value.extra["current_state"] == "out_for_delivery"
    with pytest.raises(IllegalTransition):
        next_status(S.cancel_requested, ShipmentAction.cancel, Role.seller)  # asked already


def test_a_pickup_scan_overtakes_a_waiting_cancellation() -> None:
    # F10: the carrier has the parcel, so the cancellation cannot succeed
    assert after_scan(S.cancel_requested, TrackingCode.picked_up) is S.picked_up
    assert after_scan(S.cancel_requested, TrackingCode.label_created) is S.cancel_requested
    # O4: a parcel asked to stop on its way that is scanned onwards goes on, whatever it was
    assert after_scan(S.cancel_requested, TrackingCode.in_transit) is S.in_transit
    assert after_scan(S.cancel_requested, TrackingCode.delayed) is S.cancel_requested


def test_delays_move_nothing_and_exceptions_resolve_by_the_newer_scan() -> None:
    # F9
    assert after_scan(S.in_transit, TrackingCode.delayed) is S.in_transit
    assert after_scan(S.in_transit, TrackingCode.exception) is S.exception
    assert after_scan(S.exception, TrackingCode.in_transit) is S.in_transit


@given(
    start=st.sampled_from(list(S)),
    codes=st.lists(st.sampled_from(list(TrackingCode)), max_size=12),
)
def test_scans_never_move_a_shipment_backwards_or_out_of_a_final_status(
    start: S, codes: list[TrackingCode]
) -> None:
    # F9: whatever order scans arrive in, progress never falls and final stays final
    status = start
    for code in codes:
        after = after_scan(status, code)
        assert PROGRESS[after] >= PROGRESS[status]
        if status in FINAL:
            assert after is status
        status = after

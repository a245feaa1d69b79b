"""The order transition tables (O2, O3, O4) as pure data."""

from __future__ import annotations

import pytest

from tuoguan.errors import Forbidden, IllegalTransition
from tuoguan.orders.states import (
    INITIAL,
    TRANSITIONS,
    OrderAction,
    OrderStatus,
    allowed,
    next_state,
)
from tuoguan.principal import Role
from tuoguan.stores.models import StoreMode

S, A = OrderStatus, OrderAction


def test_full_managed_orders_start_awaiting_confirmation_and_others_do_not() -> None:  # M1 O2 O3
    assert INITIAL[StoreMode.full_managed] is S.awaiting_confirmation
    assert INITIAL[StoreMode.semi_managed] is S.awaiting_shipment
    assert INITIAL[StoreMode.self_run] is S.awaiting_shipment


@pytest.mark.parametrize("mode", list(StoreMode))
def test_happy_path_reaches_completed(mode: StoreMode) -> None:  # O3
    state = INITIAL[mode]
    steps = [(A.confirm, Role.seller)] if mode is StoreMode.full_managed else []
    steps += [(A.ship, Role.seller), (A.deliver, Role.carrier), (A.complete, Role.buyer_channel)]
    for action, role in steps:
        state = next_state(mode, state, action, role)
    assert state is S.completed


@pytest.mark.parametrize("mode", list(StoreMode))
def test_cancel_only_before_shipment(mode: StoreMode) -> None:  # O4
    by_people = {
        t.source for t in TRANSITIONS[mode] if t.action is A.cancel and Role.system not in t.roles
    }
    assert by_people <= {S.awaiting_confirmation, S.awaiting_shipment}
    # F10: the order that waits on the carrier to void its parcel is cancelled by the platform
    # when the carrier confirms, never by a person; refused, it goes on where it was.
    waiting = [t for t in TRANSITIONS[mode] if t.source is S.cancel_requested]
    assert {(t.action, t.target) for t in waiting} == {
        (A.cancel, S.cancelled),
        (A.resume, S.awaiting_shipment),
        (A.keep_shipping, S.shipped),
    }
    assert all(t.roles == {Role.system} for t in waiting)
    # O4: after shipment a cancel only asks the carrier to stop the parcel, on the buyer's side
    with pytest.raises(IllegalTransition) as info:
        next_state(mode, S.shipped, A.cancel, Role.buyer_channel)
    assert info.value.extra["current_state"] == "shipped"
    assert info.value.extra["allowed_actions"] == ["deliver", "unship", "cancel"]
    assert next_state(mode, S.shipped, A.request_cancel, Role.buyer_channel) is S.cancel_requested
    with pytest.raises(Forbidden):
        next_state(mode, S.shipped, A.request_cancel, Role.seller)
    assert "cancel" not in allowed(mode, S.shipped, Role.seller)


def test_confirm_is_not_an_action_of_semi_managed_orders() -> None:  # O3
    assert A.confirm not in allowed(StoreMode.semi_managed, S.awaiting_shipment)
    with pytest.raises(IllegalTransition):
        next_state(StoreMode.semi_managed, S.awaiting_shipment, A.confirm, Role.seller)


def test_roles_guard_each_move() -> None:
    with pytest.raises(Forbidden):
        next_state(StoreMode.self_run, S.awaiting_shipment, A.ship, Role.buyer_channel)
    with pytest.raises(Forbidden):
        next_state(StoreMode.self_run, S.shipped, A.deliver, Role.seller)
    assert allowed(StoreMode.full_managed, S.awaiting_confirmation, Role.carrier) == []


def test_terminal_states_allow_nothing() -> None:
    for mode in StoreMode:
        assert allowed(mode, S.completed) == []
        assert allowed(mode, S.cancelled) == []

"""The exit's pure rules (S4, S5): who may take which step, what unbinding does with the money,
which months an archive covers, and what closing clears from an audit event's data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tuoguan.errors import Forbidden, IllegalTransition
from tuoguan.exits.archive_tasks import months
from tuoguan.exits.blockers import Money, outlook
from tuoguan.exits.close import scrub
from tuoguan.exits.models import ExitStatus
from tuoguan.exits.states import ExitAction, check
from tuoguan.principal import Role

S, A = ExitStatus, ExitAction


def test_each_step_is_taken_by_its_roles_from_its_status_only() -> None:  # S4
    assert check(S.applied, A.approve, Role.operator) is S.approved
    assert check(S.approved, A.unbind, Role.seller) is S.unbound
    assert check(S.unbound, A.close, Role.operator) is S.closed
    with pytest.raises(Forbidden):
        check(S.applied, A.approve, Role.seller)  # a seller never decides
    with pytest.raises(IllegalTransition) as refused:
        check(S.applied, A.unbind, Role.seller)  # not before approval
    assert refused.value.extra["allowed_actions"] == ["approve", "reject"]
    with pytest.raises(IllegalTransition):
        check(S.rejected, A.close, Role.seller)


@pytest.mark.parametrize(
    ("held", "receivable", "payable", "fees", "expected"),
    [
        # the fees and debts come out of what is due first, the deposit comes back whole
        (150_000, 20_000, 0, 6_000, (6_000, 14_000, 0, 150_000, 0)),
        # more owed than is due: the rest is taken from the deposit
        (150_000, 1_000, 2_000, 6_000, (1_000, 0, 7_000, 143_000, 0)),
        # paid ahead: the credit pays the fees first
        (10_000, 500, -4_000, 6_000, (500, 0, 1_500, 8_500, 0)),
        # neither covers it: what is short blocks unbinding
        (1_000, 0, 0, 6_000, (0, 0, 1_000, 0, 5_000)),
    ],
)
def test_unbinding_nets_the_fees_then_takes_the_deposit(
    held: int, receivable: int, payable: int, fees: int, expected: tuple[int, ...]
) -> None:  # S4 S5
    found = outlook(Money(held=held, receivable=receivable, payable=payable, debts=[]), fees)
    assert (
        found.netted,
        found.settlement_payout,
        found.deducted_from_deposit,
        found.deposit_refund,
        found.short,
    ) == expected


def test_an_archive_covers_every_month_since_the_store_opened() -> None:  # S4
    opened = datetime(2025, 11, 30, 17, 0, tzinfo=UTC)  # 1 December in Shanghai
    now = datetime(2026, 2, 3, tzinfo=UTC)
    assert months(opened, now, "Asia/Shanghai") == ["2025-12", "2026-01", "2026-02"]
    assert months(opened, now, "UTC") == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_closing_clears_every_personal_value_and_keeps_the_rest() -> None:  # S5
    data = {
        "sender_address": {"name": "张三", "phone": "+86 138 0013 8000", "city": "深圳"},
        "holder_name": "Seller a Ltd",
        "account_number_last4": "2233",
        "currency": "USD",
        "changes": [{"contact_email": "a@example.com", "status": "active"}],
        "amount_minor": 100,
        "note": None,
    }
    cleaned, changed = scrub(data)
    assert changed
    assert cleaned == {
        "sender_address": None,
        "holder_name": None,
        "account_number_last4": None,
        "currency": "USD",
        "changes": [{"contact_email": None, "status": "active"}],
        "amount_minor": 100,
        "note": None,
    }
    assert scrub({"mode": "full_managed"}) == ({"mode": "full_managed"}, False)

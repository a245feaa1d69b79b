"""The penalty state machine, as data: assessed → appealed → upheld | waived."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tuoguan.errors import Forbidden, IllegalTransition
from tuoguan.principal import Role


class PenaltyStatus(StrEnum):
    """Where a penalty stands."""

    assessed = "assessed"  # 已处罚: owed unless appealed
    appealed = "appealed"  # 申诉中: the seller contests it; an operator decides
    upheld = "upheld"  # 申诉驳回: the penalty stands
    waived = "waived"  # 申诉成功: the penalty is cancelled and no longer counts


class PenaltyAction(StrEnum):
    """What can be done to a penalty."""

    appeal = "appeal"  # 申诉
    uphold = "uphold"
    waive = "waive"


@dataclass(frozen=True)
class PenaltyTransition:
    """In ``source``, ``action`` by ``role`` leads to ``target``."""

    source: PenaltyStatus
    action: PenaltyAction
    target: PenaltyStatus
    role: Role


TRANSITIONS = (
    PenaltyTransition(
        PenaltyStatus.assessed, PenaltyAction.appeal, PenaltyStatus.appealed, Role.seller
    ),
    PenaltyTransition(
        PenaltyStatus.appealed, PenaltyAction.uphold, PenaltyStatus.upheld, Role.operator
    ),
    PenaltyTransition(
        PenaltyStatus.appealed, PenaltyAction.waive, PenaltyStatus.waived, Role.operator
    ),
)
# A waived penalty costs nothing and no rating points; every other status counts.
COUNTING = frozenset({PenaltyStatus.assessed, PenaltyStatus.appealed, PenaltyStatus.upheld})


def allowed(status: PenaltyStatus, role: Role | None = None) -> list[PenaltyAction]:
    """Actions possible from a state, optionally only a role's."""
    return [
        t.action for t in TRANSITIONS if t.source is status and (role is None or role is t.role)
    ]


def next_status(status: PenaltyStatus, action: PenaltyAction, role: Role) -> PenaltyStatus:
    """The status an action leads to, or the error that says why not."""
    for transition in TRANSITIONS:
        if transition.source is status and transition.action is action:
            if role is not transition.role:
                raise Forbidden(
                    f"only a {transition.role.value} may {action.value} a penalty", field="action"
                )
            return transition.target
    raise IllegalTransition(
        current=status.value,
        action=action.value,
        allowed=[a.value for a in allowed(status)],
        subject="penalty",
    )

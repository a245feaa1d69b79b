"""The inbound notice's state machine (R1), as one table of data.

    draft --send--> in_transit --arrive--> arrived --start_receiving/count--> receiving
      |                                        \\--close--> received | closed_with_discrepancies
      \\--cancel--> cancelled

``close`` from ``arrived`` or ``receiving`` ends in ``received`` when every line was counted
exactly as announced and nothing else differed, else in ``closed_with_discrepancies``. The API's
``allowed_actions``, the services and the tests all read ``TRANSITIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tuoguan.errors import Forbidden, IllegalTransition
from tuoguan.fulfilment.models import InboundNotice, InboundStatus
from tuoguan.principal import Principal, Role


class InboundAction(StrEnum):
    """What can be done to an inbound notice."""

    edit = "edit"
    send = "send"  # 发货: the cartons left the seller
    cancel = "cancel"
    arrive = "arrive"  # 到仓: the cartons reached the warehouse
    start_receiving = "start_receiving"  # 开始收货
    count_units = "count"  # 清点: count units good or defective (验货)
    close = "close"  # 收货完成


@dataclass(frozen=True)
class Transition:
    """In ``source``, ``action`` by one of ``roles`` leads to one of ``targets``."""

    source: InboundStatus
    action: InboundAction
    targets: tuple[InboundStatus, ...]
    roles: frozenset[Role]


S = InboundStatus
A = InboundAction
SENDERS = frozenset({Role.seller, Role.operator})
RECEIVERS = frozenset({Role.warehouse, Role.operator})
# Closing ends in ``received`` when every line was counted as announced, else with discrepancies.
CLOSED = (S.received, S.closed_with_discrepancies)
TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.draft, A.edit, (S.draft,), SENDERS),
    Transition(S.draft, A.send, (S.in_transit,), SENDERS),
    Transition(S.draft, A.cancel, (S.cancelled,), SENDERS),
    Transition(S.in_transit, A.arrive, (S.arrived,), RECEIVERS),
    Transition(S.arrived, A.start_receiving, (S.receiving,), RECEIVERS),
    Transition(S.arrived, A.count_units, (S.receiving,), RECEIVERS),
    Transition(S.receiving, A.count_units, (S.receiving,), RECEIVERS),
    Transition(S.arrived, A.close, CLOSED, RECEIVERS),
    Transition(S.receiving, A.close, CLOSED, RECEIVERS),
)
# Statuses warehouse staff see: from the moment the cartons leave the seller.
SENT = tuple(s for s in InboundStatus if s not in (S.draft, S.cancelled))


def allowed_actions(status: InboundStatus, role: Role) -> list[str]:
    """The actions a role may take on a notice in this status, in table order."""
    return list(
        dict.fromkeys(t.action.value for t in TRANSITIONS if t.source is status and role in t.roles)
    )


def transition(notice: InboundNotice, action: InboundAction, principal: Principal) -> Transition:
    """The table's row for this action now; 409 naming the state and what is allowed."""
    for t in TRANSITIONS:
        if t.source is notice.status and t.action is action:
            if principal.role not in t.roles and principal.role is not Role.system:
                raise Forbidden(
                    f"a {principal.role.value} may not {action.value} an inbound notice",
                    field="status",
                    rule="role_allows_action",
                )
            return t
    error = IllegalTransition(
        current=notice.status.value,
        action=action.value,
        allowed=allowed_actions(notice.status, principal.role),
        subject="inbound notice",
    )
    error.field = "status"
    error.extra["rule"] = "state_allows_action"
    raise error

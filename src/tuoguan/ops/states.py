"""What an operator may do to a set-aside row, as data; the worker's own moves are in service.py.

The worker sets a failing row aside (whatever its status, it becomes
``set_aside``), takes a ``retrying`` row alone at the start of its next sweep
and marks it ``resolved`` or sets it aside again. Operators retry or dismiss.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tuoguan.errors import IllegalTransition
from tuoguan.ops.models import FailureStatus


class FailureAction(StrEnum):
    """An operator's decision on a set-aside row."""

    retry = "retry"  # the cause is fixed (or was passing): let the sweep try it once more
    dismiss = "dismiss"  # handled by hand: stop showing it; the sweep keeps skipping it


@dataclass(frozen=True)
class Transition:
    source: FailureStatus
    action: FailureAction
    target: FailureStatus


S = FailureStatus
A = FailureAction
TRANSITIONS = (
    Transition(S.set_aside, A.retry, S.retrying),
    Transition(S.set_aside, A.dismiss, S.dismissed),
    Transition(S.retrying, A.dismiss, S.dismissed),
    Transition(S.dismissed, A.retry, S.retrying),
)
# Rows the sweep leaves alone in its normal batches (a retrying row is taken alone, first).
SKIPPED = frozenset({S.set_aside, S.retrying, S.dismissed})
# Rows that want an operator's attention: counted in the worker's log line and the console.
OPEN = frozenset({S.set_aside, S.retrying})


def allowed_actions(status: FailureStatus) -> list[FailureAction]:
    """What an operator may do in this status."""
    return [t.action for t in TRANSITIONS if t.source is status]


def next_status(status: FailureStatus, action: FailureAction) -> FailureStatus:
    """Where a decision leads, or the refusal that names what is allowed."""
    for t in TRANSITIONS:
        if t.source is status and t.action is action:
            return t.target
    raise IllegalTransition(
        current=status.value,
        action=action.value,
        allowed=[a.value for a in allowed_actions(status)],
        subject="sweep failure",
    )

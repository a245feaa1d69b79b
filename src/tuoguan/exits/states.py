"""The exit application's steps as data (S4): which action moves which status, and who may.

The seller applies (``applied``); an operator approves or rejects; the store's seller (or an
operator, for it) unbinds an approved exit, which takes the store out of full-managed; then
either of them may close the store. The console's buttons, the API's refusals and the docs read
this one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tuoguan.errors import Forbidden, IllegalTransition
from tuoguan.exits.models import ExitStatus
from tuoguan.principal import Role


class ExitAction(StrEnum):
    """What can be done to an exit application."""

    approve = "approve"
    reject = "reject"
    unbind = "unbind"
    close = "close"


@dataclass(frozen=True)
class Move:
    """One step: from a status, an action, to a status, by these roles."""

    source: ExitStatus
    action: ExitAction
    target: ExitStatus
    who: frozenset[Role]


S, A = ExitStatus, ExitAction
_OPERATOR = frozenset({Role.operator})
_SELLER_OR_OPERATOR = frozenset({Role.seller, Role.operator})
MOVES: tuple[Move, ...] = (
    Move(S.applied, A.approve, S.approved, _OPERATOR),
    Move(S.applied, A.reject, S.rejected, _OPERATOR),
    Move(S.approved, A.unbind, S.unbound, _SELLER_OR_OPERATOR),
    Move(S.unbound, A.close, S.closed, _SELLER_OR_OPERATOR),
)


def allowed(status: ExitStatus) -> list[ExitAction]:
    """The actions the table allows from a status."""
    return [move.action for move in MOVES if move.source is status]


def check(status: ExitStatus, action: ExitAction, role: Role) -> ExitStatus:
    """The status an action leads to; 403 for a role that may not take it, 409 naming the
    current status and what is allowed when the status does not allow it."""
    moves = [move for move in MOVES if move.action is action]
    if not any(role in move.who for move in moves):
        raise Forbidden(f"a {role.value} may not {action.value} an exit", field="role")
    for move in moves:
        if move.source is status:
            return move.target
    raise IllegalTransition(
        current=status.value,
        action=action.value,
        allowed=[a.value for a in allowed(status)],
        subject="exit",
    )


def markdown() -> str:
    """The table as Markdown (for the docs)."""
    lines = ["| from | action | to | who may |", "|---|---|---|---|"]
    for move in MOVES:
        who = ", ".join(sorted(role.value for role in move.who))
        lines.append(
            f"| `{move.source.value}` | `{move.action.value}` | `{move.target.value}` | {who} |"
        )
    return "\n".join(lines)

"""The invitation's state machine (M2) as one table: who may do what to an open invitation.

Only an open invitation moves: the seller accepts or declines it, an operator withdraws it, or
its time runs out (``expire``, by whoever first finds it past its expiry). Every other move is
refused with the state it is in and what it allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tuoguan.errors import Forbidden, IllegalTransition
from tuoguan.kit.clock import as_utc
from tuoguan.onboarding.models import Invitation, InvitationStatus
from tuoguan.principal import Principal, Role


class InvitationAction(StrEnum):
    """What can be done to an invitation."""

    accept = "accept"  # 接受邀请
    decline = "decline"  # 谢绝
    withdraw = "withdraw"  # 撤回 (operators)
    expire = "expire"  # its time ran out


@dataclass(frozen=True)
class Transition:
    """In ``source``, ``action`` by one of ``roles`` leads to ``target``."""

    source: InvitationStatus
    action: InvitationAction
    target: InvitationStatus
    roles: frozenset[Role]


S = InvitationStatus
A = InvitationAction
SELLER = frozenset({Role.seller})
OPERATOR = frozenset({Role.operator})
ANYONE = frozenset(Role)
TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.invited, A.accept, S.accepted, SELLER),
    Transition(S.invited, A.decline, S.declined, SELLER),
    Transition(S.invited, A.withdraw, S.withdrawn, OPERATOR),
    Transition(S.invited, A.expire, S.expired, ANYONE),
)


def shown_status(invitation: Invitation, now: datetime) -> InvitationStatus:
    """The status people see: an open invitation past its expiry reads as expired."""
    if invitation.status is S.invited and as_utc(invitation.expires_at) <= now:
        return S.expired
    return invitation.status


def allowed_actions(invitation: Invitation, role: Role, now: datetime) -> list[str]:
    """What a role may do to the invitation now (expiry is no one's action)."""
    status = shown_status(invitation, now)
    return [
        t.action.value
        for t in TRANSITIONS
        if t.source is status and role in t.roles and t.action is not A.expire
    ]


def transition(
    invitation: Invitation, action: InvitationAction, principal: Principal, now: datetime
) -> InvitationStatus:
    """The status the action leads to; 403 for a role the table leaves out, 409 naming the
    state and what it allows otherwise."""
    status = shown_status(invitation, now)
    for t in TRANSITIONS:
        if t.source is status and t.action is action:
            if principal.role not in t.roles:
                raise Forbidden(
                    f"a {principal.role.value} may not {action.value} an invitation",
                    field="invitation_id",
                    rule="role_allows_action",
                )
            return t.target
    error = IllegalTransition(
        current=status.value,
        action=action.value,
        allowed=allowed_actions(invitation, principal.role, now),
        subject="invitation",
    )
    error.field = "status"
    error.extra["rule"] = "state_allows_action"
    raise error

"""A product's review and listing states as one table of data (C1, C2).

The console, the docs and the tests read this table; nothing else decides which action is
allowed in which state. A change to an approved product is reviewed as a revision while the
product keeps its state (``review.py``): only a first review moves the product.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tuoguan.catalog.models import ProductStatus
from tuoguan.errors import Forbidden, IllegalTransition
from tuoguan.principal import Role


class ProductAction(StrEnum):
    """What can be done to a product."""

    submit = "submit"  # 提交审核: the seller asks for the first review (again after a rejection)
    approve = "approve"  # 审核通过: an operator lists it (full-managed: at its retail price)
    reject = "reject"  # 审核驳回: an operator sends it back with reasons by field
    list = "list"  # 上架: on sale (through review where it needs one)
    delist = "delist"  # 下架: off sale, by its seller
    suspend = "suspend"  # 暂停销售: an operator stops its sale (quality supervision)
    unsuspend = "unsuspend"  # 恢复销售: an operator lifts the suspension


@dataclass(frozen=True)
class Transition:
    """In ``source``, ``action`` by one of ``roles`` leads to ``target``."""

    source: ProductStatus
    action: ProductAction
    target: ProductStatus
    roles: frozenset[Role]


S = ProductStatus
A = ProductAction
_SELLER = frozenset({Role.seller})
_OPERATOR = frozenset({Role.operator})

TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.draft, A.submit, S.under_review, _SELLER),
    Transition(S.rejected, A.submit, S.under_review, _SELLER),
    # A product never approved that was on sale without review (its category needed none then).
    Transition(S.delisted, A.submit, S.under_review, _SELLER),
    Transition(S.under_review, A.approve, S.active, _OPERATOR),
    Transition(S.under_review, A.reject, S.rejected, _OPERATOR),
    # Listing without review: semi-managed and self-run in a category that needs none, or a
    # product approved before. Where review is needed first, listing submits it instead.
    Transition(S.draft, A.list, S.active, _SELLER),
    Transition(S.delisted, A.list, S.active, _SELLER),
    Transition(S.active, A.delist, S.delisted, _SELLER),
    Transition(S.active, A.suspend, S.suspended, _OPERATOR),
    Transition(S.suspended, A.unsuspend, S.active, _OPERATOR),
)

# C2: what the buyer can order (orders refuse every other state; open orders go on).
ON_SALE = frozenset({S.active})


def allowed(status: ProductStatus, role: Role | None = None) -> list[ProductAction]:
    """Actions possible from a state, optionally only a role's."""
    found = [
        t.action for t in TRANSITIONS if t.source is status and (role is None or role in t.roles)
    ]
    return list(dict.fromkeys(found))


def next_state(status: ProductStatus, action: ProductAction, role: Role) -> ProductStatus:
    """The state an action leads to, or the error that says why it may not happen."""
    for transition in TRANSITIONS:
        if transition.source is status and transition.action is action:
            if role not in transition.roles:
                raise Forbidden(f"a {role.value} cannot {action.value} a product", field="action")
            return transition.target
    if not any(t.action is action and role in t.roles for t in TRANSITIONS):
        raise Forbidden(f"a {role.value} cannot {action.value} a product", field="action")
    raise IllegalTransition(
        current=status.value,
        action=action.value,
        allowed=[a.value for a in allowed(status)],
        subject="product",
    )


def render_markdown() -> str:
    """The table as the docs show it."""
    rows = [
        f"| `{t.source}` | `{t.action}` | `{t.target}` | {', '.join(sorted(r.value for r in t.roles))} |"
        for t in TRANSITIONS
    ]
    return "\n".join(["| from | action | to | by |", "|---|---|---|---|", *rows])

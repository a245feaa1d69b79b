"""Who is acting: a role and, for sellers, the seller they act for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The roles tuoguan knows (SPEC actors)."""

    operator = "operator"
    seller = "seller"
    carrier = "carrier"
    buyer_channel = "buyer_channel"
    system = "system"


@dataclass(frozen=True)
class Principal:
    """The authenticated actor behind a request or a job."""

    role: Role
    actor_id: str
    seller_id: str | None = None
    carrier_code: str | None = None
    name: str = ""

    @property
    def is_operator(self) -> bool:
        """Operators see every store."""
        return self.role is Role.operator


SYSTEM = Principal(role=Role.system, actor_id="system", name="tuoguan worker")

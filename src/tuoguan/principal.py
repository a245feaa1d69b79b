"""Who is acting: a role and its scope (the seller, the carrier or the warehouses it acts for)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The roles tuoguan knows (SPEC actors)."""

    operator = "operator"
    seller = "seller"
    carrier = "carrier"
    buyer_channel = "buyer_channel"
    warehouse = "warehouse"  # warehouse staff (仓库人员), scoped to the warehouses they work in
    system = "system"


@dataclass(frozen=True)
class Principal:
    """The authenticated actor behind a request or a job."""

    role: Role
    actor_id: str
    seller_id: str | None = None
    carrier_code: str | None = None
    name: str = ""
    # The warehouses warehouse staff work in (one or more); empty for every other role.
    warehouse_ids: tuple[str, ...] = ()

    @property
    def is_operator(self) -> bool:
        """Operators see every store."""
        return self.role is Role.operator


SYSTEM = Principal(role=Role.system, actor_id="system", name="tuoguan worker")

"""The kinds of broken promise (breaches) that the rules name and penalties are priced for."""

from __future__ import annotations

from enum import StrEnum


class BreachKind(StrEnum):
    """Which promise was broken."""

    confirm_late = "confirm_late"  # O2: not confirmed within 24 h (超时未接单)
    ship_late = "ship_late"  # F1/F6: not shipped by the promise (发货超时)

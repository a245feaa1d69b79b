"""Public identifiers: a type prefix and a ULID, so ids sort by creation time."""

from __future__ import annotations

from ulid import ULID

PREFIXES = {
    "seller": "sel",
    "user": "usr",
    "store": "sto",
    "product": "prd",
    "order": "ord",
    "line": "oln",
    "event": "evt",
    "token": "tok",
    "breach": "brc",
    "notification": "ntf",
    "policy": "pol",
    "penalty": "pen",
    "warning": "wrn",
    "webhook": "whk",
    "delivery": "dlv",
}


def new_id(kind: str) -> str:
    """A new id such as ``ord_01J...``."""
    return f"{PREFIXES[kind]}_{ULID()}"

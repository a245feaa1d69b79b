"""Opaque cursors for keyset pagination."""

from __future__ import annotations

import base64
import json
from typing import Any

from tuoguan.errors import InvalidInput


def encode_cursor(values: list[Any]) -> str:
    """Pack the sort key of the last row into an opaque cursor."""
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, length: int) -> list[Any]:
    """Unpack a cursor, refusing anything this server did not make."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor is not one this server issued", field="cursor") from exc
    if not isinstance(values, list) or len(values) != length:
        raise InvalidInput("cursor is not one this server issued", field="cursor")
    return values

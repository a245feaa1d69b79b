"""Opaque cursors for keyset pagination.

A cursor carries the sort key of the last row of a page. The server reads it
back as typed values (an instant, an id), so a cursor it did not make, or one
tampered with, is refused as a 400 before it reaches a query.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime
from typing import Any, Literal

from tuoguan.errors import BadRequest

Part = Literal["instant", "id", "int"]
_ID = re.compile(r"^[a-z]{2,12}_[0-9A-Z]{26}$")
_MAX_LENGTH = 500


def encode_cursor(values: list[Any]) -> str:
    """Pack the sort key of the last row into an opaque cursor."""
    raw = json.dumps(
        [v.isoformat() if isinstance(v, datetime) else v for v in values], separators=(",", ":")
    ).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _refuse(why: str) -> BadRequest:
    return BadRequest(
        f"cursor is not one this server issued ({why}); start again from the first page",
        field="cursor",
        rule="cursor",
    )


def _instant(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise _refuse("bad instant")
    try:
        at = datetime.fromisoformat(value)
        if at.tzinfo is None:
            raise ValueError("naive")
        return at.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise _refuse("bad instant") from exc


def _id(value: Any) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise _refuse("bad id")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not -(2**31) <= value < 2**31:
        raise _refuse("bad integer")
    return value


_READERS = {"instant": _instant, "id": _id, "int": _int}


def decode_cursor(cursor: str, parts: tuple[Part, ...]) -> list[Any]:
    """Unpack a cursor into typed values, one per part, or refuse it with a 400."""
    if len(cursor) > _MAX_LENGTH:
        raise _refuse("too long")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.b64decode(padded.encode(), altchars=b"-_", validate=True))
    except (ValueError, UnicodeError, binascii.Error, RecursionError) as exc:
        raise _refuse("not decodable") from exc
    if not isinstance(values, list) or len(values) != len(parts):
        raise _refuse("wrong shape")
    return [_READERS[part](value) for part, value in zip(parts, values, strict=True)]

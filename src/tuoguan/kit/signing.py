"""HMAC-SHA256 signatures over a timestamp and a body, as webhooks carry them.

The header reads ``t=<unix seconds>,v1=<hex>`` where v1 is
HMAC-SHA256(secret, "<t>.<body>"). A receiver refuses a bad signature and a
timestamp outside its replay window, so a captured request cannot be replayed
later.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from tuoguan.errors import Unauthorized

REPLAY_WINDOW = timedelta(minutes=5)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for a body sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, header: str | None, body: bytes, now: datetime, window: timedelta = REPLAY_WINDOW
) -> None:
    """Refuse a body whose signature is missing, wrong, or older (or newer) than the window."""
    if not header:
        raise Unauthorized("the request is not signed", field="signature")
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12 or not given:
        raise Unauthorized("the signature header reads t=<unix>,v1=<hex>", field="signature")
    expected = sign(secret, int(stamp), body).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, given):
        raise Unauthorized("the signature does not match the body", field="signature")
    try:
        sent = datetime.fromtimestamp(int(stamp), tz=now.tzinfo)
    except (OverflowError, OSError, ValueError):
        sent = None
    if sent is None or abs(now - sent) > window:
        away = f"{abs(now - sent)}" if sent else "too far"
        raise Unauthorized(
            f"the signature is {away} away from now; the replay window is {window}",
            field="signature",
            rule="replay_window",
        )

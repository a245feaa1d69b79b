"""Tables: deposit rates and deposit refund applications (filled in by the deposit work)."""

from __future__ import annotations

"""Tables: payout runs and their per-store statements (filled in by the runs work)."""

from __future__ import annotations

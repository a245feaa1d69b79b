"""Tables: payout accounts, payout runs, run statements, payouts (filled in by the settlement work)."""

from __future__ import annotations

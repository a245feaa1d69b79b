"""Tables: payout accounts, payouts, the sandbox rail's instructions (filled in by the payouts work)."""

from __future__ import annotations

"""Products: what sellers list, with prices, review and status (C1, C2)."""

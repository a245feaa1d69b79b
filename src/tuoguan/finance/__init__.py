"""Money the marketplace and its sellers owe each other: for now, penalties (F6, O2)."""

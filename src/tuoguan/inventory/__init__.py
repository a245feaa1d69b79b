"""Warehouses and the stock in them: an append-only ledger, balances derived from it (M5, C3)."""

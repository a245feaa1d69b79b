"""Logistics services, route rules, quotes, labels, shipments and tracking (F5, F8-F10, G1-G3)."""

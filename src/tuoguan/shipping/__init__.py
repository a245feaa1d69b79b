"""Logistics services, route rules, quotes, labels, shipments and tracking (F5, F8-F10, G1-G3).

Importing the package registers its guard on order actions (one live shipment per order).
"""

from tuoguan.shipping import shipments as _shipments  # noqa: F401  (registers the guard)

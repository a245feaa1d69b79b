"""SLA enforcement: breaches, penalties assessed from them, early warnings (O2, F1, F6, G5).

It sits above the domains it watches (orders, shipping, finance) and reads the pure time rules
in `tuoguan.timing`. Importing the package registers its guard on order actions.
"""

from tuoguan.sla import breaches as _breaches  # noqa: F401  (registers the guard)

"""Who fulfils a buyer's order, from where: fulfilment orders, supply orders, inbound notices,
receiving (M1, M5, O2, R1, F11, and the Decision O2 × M5).

Above `inventory` (it reserves and receives stock) and `orders` (it places and moves them), below
`shipping` (which ships what a fulfilment order holds). Importing the package registers its guard
on order actions (the supply order follows the order's confirmation and cancellation; the
platform's orders ship only with their stock held).
"""

from tuoguan.fulfilment import guards as _guards  # noqa: F401  (registers the guard)

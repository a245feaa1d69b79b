"""Pure time rules: business calendars, deadline arithmetic, explanations, risk arithmetic.

Nothing here reads the database or imports a domain; `orders`, `stores`, `shipping` and the
SLA enforcement in `sla` build on it.
"""

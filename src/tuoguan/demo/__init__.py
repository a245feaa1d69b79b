"""A demo marketplace: an operator, sellers with stores in all three modes, orders in every state,
and deadlines missed and nearly due (breaches, penalties, at-risk orders from the start)."""

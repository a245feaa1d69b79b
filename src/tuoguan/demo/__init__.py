"""A demo marketplace: an operator, sellers with stores in all three modes, orders in every state."""

"""Orders, their lines, the order state machine and its deadlines (O1-O5, F9)."""

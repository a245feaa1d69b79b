"""The append-only audit log: every state change writes one event in its transaction."""

"""Joining the full-managed program: invitations, the agreement, the business-info review (M2, M4, S1, S2)."""

"""Leaving the full-managed program: exit terms, the archive, the application, unbind and close (S4, S5)."""

"""Business calendars and deadline arithmetic (pure code)."""

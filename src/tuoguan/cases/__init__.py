"""Cases (R2-R4, G4): receiving exceptions and buyer disputes on one engine (kinds.py)."""

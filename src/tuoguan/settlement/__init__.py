"""Settlement: payout accounts, settlement runs and their statements, payouts sent at most once
on the payment rail, and the deposit (S3) with its refund (M3, S3, F6, O2, G2, G3)."""

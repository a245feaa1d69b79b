"""The double-entry money ledger every money rule posts to: accounts, entries, postings (M3, S3).

Append-only in the database (triggers, and on PostgreSQL the application role's privileges);
balances are derived from the postings and ``tuoguan finance check`` rebuilds them
(docs/finance.md).
"""

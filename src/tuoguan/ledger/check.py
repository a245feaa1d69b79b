"""``tuoguan finance check``: rebuild every balance from the postings and prove the books balance.

Three things must hold, and the check reads each from the postings:

- each account's stored ``balance_minor`` is the sum of its postings (one streaming GROUP BY
  over the postings per account and currency, compared with the stored balances), and each
  posting is in its account's currency;
- each journal entry's postings sum to zero in each currency (a second GROUP BY, keeping only
  the entries that do not);
- the postings of each currency sum to zero over the whole ledger (from the first GROUP BY).

Both reads run in one snapshot (REPEATABLE READ on PostgreSQL, one read transaction on SQLite),
so entries committed meanwhile never show as differences (a session already in a transaction
keeps its own).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.ledger import repository
from tuoguan.ledger.accounts import AccountKind


@dataclass(frozen=True)
class Difference:
    """An account whose stored balance is not the sum of its postings (both + debit)."""

    account_id: str
    kind: AccountKind | None
    store_id: str | None
    currency: str
    stored: int | None  # None: postings name an account that does not exist
    ledger: int


@dataclass(frozen=True)
class Unbalanced:
    """An entry whose postings do not sum to zero in a currency."""

    entry_id: str
    currency: str
    total: int


@dataclass(frozen=True)
class ForeignPosting:
    """Postings in another currency than their account's."""

    account_id: str
    account_currency: str
    currency: str
    rows: int


@dataclass
class CheckReport:
    """What a check read and what it found."""

    accounts: int = 0
    postings: int = 0
    differences: list[Difference] = field(default_factory=list)
    unbalanced: list[Unbalanced] = field(default_factory=list)
    foreign: list[ForeignPosting] = field(default_factory=list)
    # The ledger's sum per currency, kept only where it is not zero.
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """Whether every balance, every entry and every currency adds up."""
        return not (self.differences or self.unbalanced or self.foreign or self.totals)


async def check(session: AsyncSession) -> CheckReport:
    """Compare every stored balance with its postings; find unbalanced entries and currencies."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    report = CheckReport()
    stored = await repository.stored_balances(session)
    report.accounts = len(stored)
    sums: dict[str, int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    async for account_id, code, rows, total in repository.sums_per_account(session):
        report.postings += rows
        sums[account_id] += total
        totals[code] += total
        account = stored.get(account_id)
        if account is not None and account.currency != code:
            report.foreign.append(ForeignPosting(account_id, account.currency, code, rows))
    for account_id in sorted(stored.keys() | sums.keys()):
        account = stored.get(account_id)
        ledger = sums.get(account_id, 0)
        if account is not None and account.balance_minor == ledger:
            continue
        report.differences.append(
            Difference(
                account_id=account_id,
                kind=account.kind if account else None,
                store_id=account.store_id if account else None,
                currency=account.currency if account else "",
                stored=account.balance_minor if account else None,
                ledger=ledger,
            )
        )
    report.totals = {code: total for code, total in sorted(totals.items()) if total}
    report.unbalanced = [
        Unbalanced(entry_id, code, total)
        for entry_id, code, total in await repository.unbalanced_entries(session)
    ]
    return report

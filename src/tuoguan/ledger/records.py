"""What the ledger hands back: entries with their lines, accounts with their balances, as values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tuoguan.ledger.accounts import ACCOUNTS, AccountKind, Owner
from tuoguan.ledger.kinds import EntryKind


@dataclass(frozen=True)
class Account:
    """An account and its stored balance (the plain sum of its postings, + debit)."""

    id: str
    kind: AccountKind
    store_id: str | None
    currency: str
    balance_minor: int
    closed_at: datetime | None = None

    @property
    def owner(self) -> Owner:
        """Whose account it is."""
        return ACCOUNTS[self.kind].owner

    @property
    def shown_minor(self) -> int:
        """The balance as people read it, on the account's normal side."""
        return ACCOUNTS[self.kind].shown(self.balance_minor)

    @property
    def closed(self) -> bool:
        """Whether the account takes no more postings."""
        return self.closed_at is not None


@dataclass(frozen=True)
class Line:
    """One posting of an entry: the account it moves and the signed amount (+ debit)."""

    account_id: str
    account_kind: AccountKind
    store_id: str | None
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class Entry:
    """A journal entry and its lines."""

    id: str
    kind: EntryKind
    store_id: str | None
    currency: str | None
    subject_type: str | None
    subject_id: str | None
    parts: dict[str, Any]
    reverses_id: str | None
    idem_key: str | None
    memo: str | None
    actor_id: str
    posted_at: datetime
    lines: list[Line] = field(default_factory=list)

    def amount_on(self, kind: AccountKind) -> int:
        """The signed sum this entry posts to accounts of ``kind``."""
        return sum(line.amount_minor for line in self.lines if line.account_kind is kind)


@dataclass(frozen=True)
class Movement:
    """One posting on an account, with what its entry records (an account's statement line)."""

    id: int
    entry_id: str
    account_id: str
    account_kind: AccountKind
    store_id: str | None
    kind: EntryKind
    amount_minor: int  # signed: + debit, - credit
    currency: str
    posted_at: datetime
    subject_type: str | None
    subject_id: str | None
    reverses_id: str | None
    memo: str | None

    @property
    def change_minor(self) -> int:
        """What the posting did to the balance as people read it (+ raised it)."""
        return ACCOUNTS[self.account_kind].shown(self.amount_minor)

"""The ledger as the API shows it: accounts with their balance on the normal side, movements,
entries per role (``ENTRY_VIEWS``: a seller reads only the lines on its own stores' accounts,
without the platform's amount parts), and what an operator sends to adjust or reverse.

Amounts are integer minor units with their currency. A line or a movement carries both the
signed ``amount_minor`` the ledger stores (+ debit, - credit) and ``change_minor``, what it did
to the balance as people read it (+ raised it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, StrictFloat, StrictInt

from tuoguan.ledger.accounts import ACCOUNTS, AccountKind, Owner, Side
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.records import Account, Entry, Line, Movement
from tuoguan.principal import Role

_SIGNED = "Signed minor units as the ledger stores them: + a debit, - a credit."
_CHANGE = "What it did to the account's balance as people read it, in minor units: + raised it."


class AccountRead(BaseModel):
    """A ledger account and its balance on its normal side."""

    id: str
    kind: AccountKind
    owner: Owner = Field(description="A store's account, or the platform's.")
    store_id: str | None = Field(description="The store whose account it is; null: the platform's.")
    currency: str
    balance_minor: int = Field(
        description="The balance as people read it, on the account's normal side, in minor "
        "units: what the platform owes the store for a credit-normal account (receivable), "
        "what the store owes for a debit-normal one (payable)."
    )
    normal_side: Side
    may_go_negative: bool
    closed_at: datetime | None = None


class MovementRead(BaseModel):
    """One posting on an account, newest first, with what its entry records."""

    id: int = Field(description="The posting's number.")
    entry_id: str
    account_id: str
    kind: EntryKind = Field(description="What the entry records.")
    amount_minor: int = Field(description=_SIGNED)
    change_minor: int = Field(description=_CHANGE)
    currency: str
    posted_at: datetime
    subject_type: str | None = Field(description="What the entry is about: order, penalty, claim…")
    subject_id: str | None
    reverses_id: str | None = Field(description="The entry this one reverses, if it is a reversal.")
    memo: str | None = Field(description="Why (a reversal's reason, an adjustment's memo).")


class LineRead(BaseModel):
    """One posting of an entry (operators: every line, the platform's included)."""

    account_id: str
    account_kind: AccountKind
    owner: Owner
    store_id: str | None
    amount_minor: int = Field(description=_SIGNED)
    change_minor: int = Field(description=_CHANGE)
    currency: str


class StoreLineRead(BaseModel):
    """One posting of an entry on one of the seller's own stores' accounts."""

    account_id: str
    account_kind: AccountKind
    store_id: str
    amount_minor: int = Field(description=_SIGNED)
    change_minor: int = Field(description=_CHANGE)
    currency: str


class EntryRead(BaseModel):
    """A journal entry and every line of it (operators)."""

    id: str
    kind: EntryKind
    store_id: str | None
    currency: str | None = Field(description="Null for an adjustment across currencies.")
    subject_type: str | None
    subject_id: str | None
    parts: dict[str, Any] = Field(description="The kind's amount parts, in minor units.")
    reverses_id: str | None
    reversed_by_id: str | None = Field(description="The entry that reverses this one, if any.")
    idem_key: str | None
    memo: str | None
    actor_id: str
    posted_at: datetime
    lines: list[LineRead]


class StoreEntryRead(BaseModel):
    """A journal entry as a seller reads it: only its lines on the seller's own stores'
    accounts, without the kind's amount parts (the platform's margin and commission)."""

    id: str
    kind: EntryKind
    store_id: str | None
    currency: str | None
    subject_type: str | None
    subject_id: str | None
    reverses_id: str | None
    reversed_by_id: str | None
    memo: str | None
    posted_at: datetime
    lines: list[StoreLineRead]


EntryView = EntryRead | StoreEntryRead

ENTRY_VIEWS: dict[Role, type[EntryView]] = {
    Role.operator: EntryRead,
    Role.seller: StoreEntryRead,
}
"""Each role's view of a journal entry: operators every line; a seller the entries that move
its own stores' accounts, and only those lines."""


class PostingIn(BaseModel):
    """One leg of a hand-made entry."""

    account_id: str = Field(max_length=40)
    amount_minor: StrictInt | StrictFloat = Field(
        description="Signed integer minor units: + a debit, - a credit; a fraction of a minor "
        "unit is refused (422 no_fractions)."
    )
    currency: str = Field(max_length=8, description="ISO 4217; the account's own currency.")


class AdjustmentCreate(BaseModel):
    """An operator's correction that no entry kind describes: legs that balance per currency."""

    postings: list[PostingIn] = Field(
        max_length=50,
        description="At least two legs, each on an existing open account, summing to zero in "
        "each currency (422 two_legs, balanced, matches_account, known_account; 409 "
        "account_open, insufficient_balance).",
    )
    memo: str = Field(max_length=500, description="Why the entry is made (422 memo_required).")


class ReverseBody(BaseModel):
    """Why an entry is reversed."""

    reason: str = Field(max_length=500, description="Why (422 reason_required).")


def present_account(account: Account) -> AccountRead:
    """An account as the API shows it."""
    spec = ACCOUNTS[account.kind]
    return AccountRead(
        id=account.id,
        kind=account.kind,
        owner=spec.owner,
        store_id=account.store_id,
        currency=account.currency,
        balance_minor=account.shown_minor,
        normal_side=spec.normal,
        may_go_negative=spec.may_go_negative,
        closed_at=account.closed_at,
    )


def present_movement(movement: Movement) -> MovementRead:
    """A movement as the API shows it."""
    return MovementRead(
        id=movement.id,
        entry_id=movement.entry_id,
        account_id=movement.account_id,
        kind=movement.kind,
        amount_minor=movement.amount_minor,
        change_minor=movement.change_minor,
        currency=movement.currency,
        posted_at=movement.posted_at,
        subject_type=movement.subject_type,
        subject_id=movement.subject_id,
        reverses_id=movement.reverses_id,
        memo=movement.memo,
    )


def _line(line: Line) -> dict[str, Any]:
    return {
        "account_id": line.account_id,
        "account_kind": line.account_kind,
        "owner": ACCOUNTS[line.account_kind].owner,
        "store_id": line.store_id,
        "amount_minor": line.amount_minor,
        "change_minor": ACCOUNTS[line.account_kind].shown(line.amount_minor),
        "currency": line.currency,
    }


def present_entry(entry: Entry, reversed_by: str | None, role: Role) -> EntryView:
    """An entry (already narrowed to what the caller may read) through its role's model."""
    fields = {
        "id": entry.id,
        "kind": entry.kind,
        "store_id": entry.store_id,
        "currency": entry.currency,
        "subject_type": entry.subject_type,
        "subject_id": entry.subject_id,
        "parts": entry.parts,
        "reverses_id": entry.reverses_id,
        "reversed_by_id": reversed_by,
        "idem_key": entry.idem_key,
        "memo": entry.memo,
        "actor_id": entry.actor_id,
        "posted_at": entry.posted_at,
        "lines": [_line(line) for line in entry.lines],
    }
    model = ENTRY_VIEWS.get(role, EntryRead)
    return model.model_validate({name: fields[name] for name in model.model_fields})

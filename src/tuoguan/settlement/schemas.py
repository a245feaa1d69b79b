"""API shapes of payout accounts and payouts. An account number is never read back whole: reads
show its last four characters (``account_number_masked``); only the rail is given all of it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from tuoguan.principal import Role
from tuoguan.settlement.models import PayoutPurpose, PayoutStatus
from tuoguan.stores.schemas import CurrencyCode, Strict, Text200

# What is typed (spaces and dashes between groups allowed); the service checks the rest.
AccountNumberText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
]


class PayoutAccountBind(Strict):
    """Bind the account a store is paid to (收款账户); it replaces the one in force."""

    holder_name: Text200 = Field(description="The account holder, as the bank knows it.")
    bank_name: Text200
    account_number: AccountNumberText = Field(
        description="6 to 34 letters and digits (an IBAN, a card or account number); spaces "
        "and dashes between groups are dropped. 422 ``account_number_format`` otherwise."
    )
    currency: CurrencyCode | None = Field(
        default=None,
        description="The currency the account keeps (ISO 4217); the store's own if left out. "
        "Payouts in another currency are refused (409 ``payout_account_currency``).",
    )


def mask(number: str) -> str:
    """An account number as people read it: its last four characters only."""
    return "•••• " + number[-4:]


class PayoutAccountRead(BaseModel):
    """A payout account as its store's seller and operators read it, the number masked."""

    id: str
    store_id: str
    holder_name: str
    bank_name: str
    account_number_masked: str = Field(description="The last four characters: •••• 1234.")
    currency: str
    bound_at: datetime
    bound_by: str
    replaced_at: datetime | None = Field(
        description="When a new account replaced it; null: in force."
    )


class PayoutAccountBook(BaseModel):
    """A store's payout account in force (null when none is bound) and the ones it replaced."""

    current: PayoutAccountRead | None
    history: list[PayoutAccountRead] = Field(description="Replaced accounts, newest first.")


class PayoutRead(BaseModel):
    """A payout as the store's seller reads it."""

    id: str
    store_id: str
    currency: str
    amount_minor: int
    purpose: PayoutPurpose
    status: PayoutStatus = Field(
        description="prepared: set aside, not sent yet; sending: on the rail, no answer recorded "
        "yet; sent: the rail accepted it; failed: the rail refused it and the money went back."
    )
    subject_type: str | None = Field(description="What it pays: a payout run, a deposit refund.")
    subject_id: str | None
    payout_account_id: str
    account: PayoutAccountRead | None = Field(description="The account it goes to, masked.")
    rail_reference: str | None = Field(description="The rail's reference, once it answered.")
    failure_reason: str | None = Field(description="Why the rail refused it.")
    attempts: int = Field(description="How many times it was handed to the rail.")
    created_at: datetime
    sending_at: datetime | None
    sent_at: datetime | None = Field(description="When the rail accepted it.")
    failed_at: datetime | None


class PayoutStaffRead(PayoutRead):
    """A payout as operators read it: with its journal entries."""

    prepare_entry_id: str
    sent_entry_id: str | None
    reversal_entry_id: str | None = Field(description="The prepare entry's reversal, if it failed.")
    created_by: str


PAYOUT_VIEWS: dict[Role, type[PayoutRead]] = {
    Role.operator: PayoutStaffRead,
    Role.system: PayoutStaffRead,
    Role.seller: PayoutRead,
}
"""Each role's view of a payout; the other roles read none."""

"""Deposits received (S3): an operator records the bank transfer a seller paid its deposit by,
once per transfer reference; posted to the store's deposit held."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput
from tuoguan.kit import i18n
from tuoguan.ledger import amounts
from tuoguan.ledger import repository as ledger_repository
from tuoguan.ledger import service as ledger
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.records import Entry
from tuoguan.notify import service as notify
from tuoguan.settlement import deposits
from tuoguan.stores import service as stores
from tuoguan.stores.models import StoreMode


@dataclass(frozen=True)
class Funding:
    """A deposit received: its journal entry and the deposit held after it."""

    store_id: str
    entry: Entry
    reference: str
    held_minor: int


def funding_key(store_id: str, reference: str) -> str:
    """The idempotency key of a deposit received under a bank transfer's reference."""
    return f"deposit:{store_id}:{reference}"


async def fund(
    session: AsyncSession,
    ctx: Ctx,
    *,
    store_id: str,
    amount_minor: int,
    currency: str,
    reference: str,
) -> Funding:
    """S3: an operator records a deposit the seller paid (by bank transfer), once per reference.

    Refused, with nothing posted: a store that is not full-managed (409 ``full_managed_only``),
    another currency than the store's (422 ``store_currency``), an amount that is not a whole
    positive number of minor units (422), a reference recorded before with another amount
    (409 ``reference_used``). The same reference and amount again answer the first recording."""
    if ctx.principal.role not in deposits.BOOKKEEPERS:
        raise Forbidden("only an operator records a deposit received")
    store = await stores.get_store(session, principal=ctx.principal, store_id=store_id)
    if store.mode is not StoreMode.full_managed:
        raise deposits.full_managed_only(store)
    code = amounts.currency(currency)
    if code != store.currency:
        raise InvalidInput(
            f"store {store.id}'s deposit is held in {store.currency}, not {code}",
            field="currency",
            rule="store_currency",
            store_currency=store.currency,
        )
    value = amounts.minor_units(amount_minor, field="amount_minor")
    if value <= 0:
        raise InvalidInput(
            "a deposit received is above zero", field="amount_minor", rule="positive"
        )
    reference = reference.strip()
    if not 1 <= len(reference) <= 100:
        raise InvalidInput("a transfer reference has 1 to 100 characters", field="reference")
    key = funding_key(store.id, reference)
    before = await ledger_repository.entry_by_idem(session, key)
    if before is not None and (before.currency, dict(before.parts)) != (code, {"amount": value}):
        raise Conflict(
            f"reference {reference!r} was recorded already, for {before.parts.get('amount')} "
            f"{before.currency} (minor units)",
            field="reference",
            rule="reference_used",
            entry_id=before.id,
        )
    entry = await ledger.post(
        session,
        ctx,
        EntryKind.deposit_funded,
        currency=code,
        parts={"amount": value},
        store_id=store.id,
        subject=("store", store.id),
        idem_key=key,
        memo=f"deposit received, bank transfer {reference}"[:500],
    )
    held, _ = await deposits.balances(session, store)
    if before is None:
        audit.record(
            session,
            ctx=ctx,
            subject_type="store",
            subject_id=store.id,
            store_id=store.id,
            action="deposit_funded",
            data={
                "amount_minor": value,
                "currency": code,
                "reference": reference,
                "entry_id": entry.id,
            },
        )
        notify.notify(
            session,
            ctx=ctx,
            seller_id=store.seller_id,
            kind="deposit_received",
            subject_type="store",
            subject_id=store.id,
            key=i18n.N_("note_deposit_received"),
            params={
                "store": store.name,
                "amount": i18n.money(value, code),
                "held": i18n.money(held, code),
            },
        )
    return Funding(store.id, entry, reference, held)

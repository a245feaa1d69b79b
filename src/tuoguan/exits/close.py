"""Closing a store that left full-managed (关闭店铺, S4, S5; seed 003: 清理店铺信息，如联系方式、
地址等). Never commits.

The store's seller, or an operator, closes an exited store once nothing of its money is left
with the platform (its payouts sent; nothing held, due or on its way). In one transaction:

- the store is ``closed`` for good (it can never be invited to full-managed again: the
  invitations refuse a seller whose full-managed store closed);
- its contact details and addresses are cleared: the sender address, the return address its
  exit gave, the payout accounts' holder names (the account numbers keep their last four
  characters, which the payouts' history shows), the business-info review's personal fields
  (everything but the company's name, registration number and categories) and every document
  of the store (the rows, and the files once committed, unless another of the seller's stores
  keeps the same file);
- its archive files are deleted after commit (download the archive before closing);
- its audit events keep what happened, when and by whom, but their data lose every personal
  value (addresses, names of people, phone numbers, e-mail addresses, account holders and
  numbers); the close itself is recorded, naming who closed it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.audit.models import Event
from tuoguan.cases.models import CaseEntry
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput
from tuoguan.exits.models import ExitApplication, ExitArchive, ExitStatus
from tuoguan.exits.service import SUBJECT, latest_of, record
from tuoguan.exits.states import ExitAction, check
from tuoguan.exports.states import ExportStatus
from tuoguan.kit import i18n
from tuoguan.ledger import reads
from tuoguan.ledger.accounts import AccountKind
from tuoguan.notify import service as notify
from tuoguan.onboarding import documents
from tuoguan.onboarding.review_models import BusinessReview, Document, ReviewRound
from tuoguan.principal import Role
from tuoguan.settlement.models import Payout, PayoutAccount, PayoutStatus
from tuoguan.stores import service as stores
from tuoguan.stores.models import Store, StoreStatus

_CLOSERS = (Role.seller, Role.operator)
SCRUB_BATCH = 1_000  # events read at a time when their personal data are cleared
# A key of an event's data whose value is personal: an address, a person's name or contact.
PERSONAL = re.compile(
    r"address|holder|phone|e_?mail|contact|account_number|legal_representative|recipient"
    r"|line1|line2|postcode|person",
    re.IGNORECASE,
)
# What a closed store's business-info review keeps: who the business was, what it sold.
REVIEW_KEPT = ("company_name", "registration_number", "categories")
# The accounts that must be empty before a store closes: the platform holds nothing of it.
_EMPTY = (AccountKind.deposit_held, AccountKind.receivable, AccountKind.payout_clearing)


def scrub(value: Any) -> tuple[Any, bool]:
    """Pure: ``value`` with every personal entry's value cleared (None), at any depth, and
    whether anything was cleared."""
    if isinstance(value, Mapping):
        cleaned: dict[str, Any] = {}
        changed = False
        for key, item in value.items():
            if PERSONAL.search(str(key)) and item not in (None, "", [], {}):
                cleaned[key], changed = None, True
                continue
            cleaned[key], inner = scrub(item)
            changed = changed or inner
        return cleaned, changed
    if isinstance(value, list):
        items = [scrub(item) for item in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    return value, False


@dataclass
class Closed:
    """A closed exit, and the files to delete once the transaction is committed."""

    exit: ExitApplication
    storage_keys: list[str] = field(default_factory=list)
    archive_files: list[str] = field(default_factory=list)
    events_scrubbed: int = 0


async def _money_left(session: AsyncSession, store: Store) -> None:
    pending = await session.scalar(
        select(func.count())
        .select_from(Payout)
        .where(
            Payout.store_id == store.id,
            Payout.status.in_([PayoutStatus.prepared, PayoutStatus.sending]),
        )
    )
    if pending:
        raise Conflict(
            f"{pending} payout(s) of store {store.id} are still on their way: close it once "
            "they are sent",
            field="store_id",
            rule="payouts_pending",
            count=int(pending),
        )
    for kind in _EMPTY:
        left = await reads.balance(session, kind=kind, currency=store.currency, store_id=store.id)
        if left:
            raise Conflict(
                f"store {store.id} still has {left} ({store.currency} minor units) on its "
                f"{kind.value}: the platform pays it out before the store closes",
                field="store_id",
                rule="money_left",
                account=kind.value,
            )


async def _scrub_events(session: AsyncSession, store_id: str) -> int:
    """Clear the personal values of the store's events; how many changed."""
    changed, after = 0, 0
    while True:  # a batch of the store's events at a time, by their sequence
        rows = (
            await session.execute(
                select(Event.seq, Event.data)
                .where(Event.store_id == store_id, Event.seq > after)
                .order_by(Event.seq)
                .limit(SCRUB_BATCH)
            )
        ).all()
        for seq, data in rows:
            cleaned, touched = scrub(data or {})
            if touched:
                cleaned["scrubbed"] = True
                await session.execute(update(Event).where(Event.seq == seq).values(data=cleaned))
                changed += 1
        if len(rows) < SCRUB_BATCH:
            return changed
        after = rows[-1][0]


async def _clear_review(session: AsyncSession, store_id: str) -> None:
    """The business-info review keeps who the business was and what it sold, nothing else."""
    review = await session.scalar(select(BusinessReview).where(BusinessReview.store_id == store_id))
    if review is None:
        return
    review.fields = {k: v for k, v in (review.fields or {}).items() if k in REVIEW_KEPT}
    review.rejected = {k: v for k, v in (review.rejected or {}).items() if k in REVIEW_KEPT}
    rounds = await session.scalars(select(ReviewRound).where(ReviewRound.review_id == review.id))
    for one in rounds:
        one.fields = {k: v for k, v in (one.fields or {}).items() if k in REVIEW_KEPT}


async def _forget_documents(session: AsyncSession, store: Store) -> list[str]:
    """Delete the store's document rows; the storage keys no other store's row keeps."""
    rows = list(await session.scalars(select(Document).where(Document.store_id == store.id)))
    keys = sorted({row.storage_key for row in rows})
    shared = set()
    if keys:
        shared = set(
            await session.scalars(
                select(Document.storage_key).where(
                    Document.storage_key.in_(keys), Document.store_id != store.id
                )
            )
        )
    if rows:
        # A case's evidence entry keeps who, when and the file's SHA-256; the file goes.
        await session.execute(
            update(CaseEntry)
            .where(CaseEntry.document_id.in_([row.id for row in rows]))
            .values(document_id=None)
        )
    for row in rows:
        await session.delete(row)
    return [key for key in keys if key not in shared]


async def close_store(session: AsyncSession, ctx: Ctx, *, store_id: str, confirm: bool) -> Closed:
    """S4, S5: close an exited store (see the module). Refused, with nothing changed: another
    role (403), another seller's store (404), no confirmation (422 ``confirm_required``), a
    store that has not left full-managed (409 ``store_exited``), money still with the platform
    (409 ``payouts_pending``, ``money_left``)."""
    if ctx.principal.role not in _CLOSERS:
        raise Forbidden(f"a {ctx.principal.role.value} does not close stores")
    store = await stores.get_store(session, principal=ctx.principal, store_id=store_id)
    if not confirm:
        raise InvalidInput(
            "closing cannot be undone: confirm it (confirm: true)",
            field="confirm",
            rule="confirm_required",
        )
    await session.execute(select(Store.id).where(Store.id == store.id).with_for_update())
    row = await latest_of(session, store.id)
    if store.status is not StoreStatus.exited or row is None:
        raise Conflict(
            f"store {store.id} is {store.status.value}: a store closes after it left "
            "full-managed (an approved exit, unbound)",
            field="store_id",
            rule="store_exited",
            store_status=store.status.value,
        )
    row = await session.get(ExitApplication, row.id, with_for_update=True, populate_existing=True)
    assert row is not None
    target = check(row.status, ExitAction.close, ctx.principal.role)
    await _money_left(session, store)
    now = ctx.clock.now()

    store.status = StoreStatus.closed
    store.sender_address = None
    row.return_address = None
    for account in await session.scalars(
        select(PayoutAccount).where(PayoutAccount.store_id == store.id)
    ):
        account.holder_name = ""
        account.account_number = account.account_number[-4:]
    await _clear_review(session, store.id)
    keys = await _forget_documents(session, store)
    archives = list(
        await session.scalars(select(ExitArchive).where(ExitArchive.store_id == store.id))
    )
    files = [a.file_name for a in archives if a.file_name]
    for archive in archives:
        if archive.status is ExportStatus.done:
            archive.status = ExportStatus.expired
        archive.file_name = None
    scrubbed = await _scrub_events(session, store.id)
    before = row.status
    row.status, row.closed_at, row.closed_by, row.updated_at = (
        target,
        now,
        ctx.principal.actor_id,
        now,
    )
    record(session, ctx, row, "close", before, None)
    audit.record(
        session,
        ctx=ctx,
        subject_type="store",
        subject_id=store.id,
        store_id=store.id,
        action="close",
        from_state=StoreStatus.exited.value,
        to_state=StoreStatus.closed.value,
        data={"exit_id": row.id, "events_scrubbed": scrubbed, "documents_deleted": len(keys)},
    )
    notify.notify(
        session,
        ctx=ctx,
        seller_id=store.seller_id,
        kind="exit_closed",
        subject_type=SUBJECT,
        subject_id=row.id,
        key=i18n.N_("exit_note_closed"),
        params={"store": store.name},
        data={"store_id": store.id},
    )
    await session.flush()
    assert row.status is ExitStatus.closed
    return Closed(exit=row, storage_keys=keys, archive_files=files, events_scrubbed=scrubbed)


async def forget_files(settings: Settings, closed: Closed) -> None:
    """After commit: delete the closed store's document files and archives (best effort: a
    file already gone is fine)."""
    storage = documents.storage_for(settings)
    for key in closed.storage_keys:
        await asyncio.to_thread(storage.delete, key)
    folder = Path(settings.export_dir)
    for name in closed.archive_files:
        await asyncio.to_thread((folder / name).unlink, missing_ok=True)

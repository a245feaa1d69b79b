"""The exit's API shapes built from its rows: an application with its documents' links, the
exit page, the archive, the terms."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.config import Settings
from tuoguan.exits import archive as archives
from tuoguan.exits import terms as exit_terms
from tuoguan.exits.blockers import Blocker
from tuoguan.exits.models import ExitApplication, ExitArchive, ExitTerms
from tuoguan.exits.schemas import (
    ArchiveRead,
    BlockerItem,
    BlockerRead,
    ExitPageRead,
    ExitRead,
    ExitTermsRead,
)
from tuoguan.exits.service import Page, stores_of
from tuoguan.exits.states import allowed
from tuoguan.exports.states import ExportStatus
from tuoguan.onboarding.review_models import Document
from tuoguan.onboarding.review_reads import present_document


def present_terms(row: ExitTerms, versions: list[ExitTerms], now: datetime) -> ExitTermsRead:
    return ExitTermsRead(
        id=row.id,
        currency=row.currency,
        version=row.version,
        management_fee_minor=row.management_fee_minor,
        refund_fee_minor=row.refund_fee_minor,
        review_days=row.review_days,
        effective_from=row.effective_from,
        note=row.note,
        created_at=row.created_at,
        standing=exit_terms.standing(row, versions, now),
    )


def present_archive(row: ExitArchive) -> ArchiveRead:
    """An archive with its progress and, once done, where to download it."""
    read = ArchiveRead(
        id=row.id,
        store_id=row.store_id,
        status=row.status,
        steps_done=row.steps_done,
        steps_total=row.steps_total,
        percent=archives.percent(row),
        created_at=row.created_at,
        finished_at=row.finished_at,
        expires_at=row.expires_at,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        error=row.error,
    )
    if row.status is ExportStatus.done:
        read.download = f"/api/v1/stores/{row.store_id}/exit-archive/download"
    return read


def present_blockers(found: Sequence[Blocker]) -> list[BlockerRead]:
    return [
        BlockerRead(
            rule=b.rule,
            count=b.count,
            what=b.what,
            items=[
                BlockerItem(kind=i.kind, id=i.id, link=i.link, amount_minor=i.amount_minor)
                for i in b.items
            ],
        )
        for b in found
    ]


async def documents_of(
    session: AsyncSession, rows: Sequence[ExitApplication]
) -> dict[str, Document]:
    """The applications' documents still kept, by id (a closed store's are deleted)."""
    ids = sorted({d for row in rows for d in row.document_ids})
    if not ids:
        return {}
    found = await session.scalars(select(Document).where(Document.id.in_(ids)))
    return {d.id: d for d in found}


async def present_exits(
    session: AsyncSession, settings: Settings, rows: Sequence[ExitApplication], now: datetime
) -> list[ExitRead]:
    """Applications as their readers see them, their documents with short-lived links."""
    names = {s.id: s.name for s in (await stores_of(session, {r.store_id for r in rows})).values()}
    papers = await documents_of(session, rows)
    return [
        ExitRead(
            id=row.id,
            store_id=row.store_id,
            store_name=names.get(row.store_id, ""),
            seller_id=row.seller_id,
            status=row.status,
            allowed_actions=[a.value for a in allowed(row.status)],
            reason=row.reason,
            documents=[
                present_document(settings, papers[d], now) for d in row.document_ids if d in papers
            ],
            currency=row.currency,
            management_fee_minor=row.management_fee_minor,
            refund_fee_minor=row.refund_fee_minor,
            review_days=row.review_days,
            review_by=row.review_by,
            fees_acknowledged_at=row.fees_acknowledged_at,
            created_at=row.created_at,
            created_by=row.created_by,
            decided_at=row.decided_at,
            decided_by=row.decided_by,
            decision_reasons=list(row.decision_reasons or []),
            stock_choice=row.stock_choice,
            stock_moved=list(row.stock_moved or []),
            fee_entry_id=row.fee_entry_id,
            settled_netted_minor=row.settled_netted_minor,
            settled_payout_minor=row.settled_payout_minor,
            settlement_payout_id=row.settlement_payout_id,
            deposit_refund_id=row.deposit_refund_id,
            deposit_deducted_minor=row.deposit_deducted_minor,
            unbound_at=row.unbound_at,
            closed_at=row.closed_at,
            closed_by=row.closed_by,
        )
        for row in rows
    ]


async def present_page(
    session: AsyncSession, settings: Settings, found: Page, now: datetime
) -> ExitPageRead:
    """The exit page as the API answers it."""
    application = (
        (await present_exits(session, settings, [found.application], now))[0]
        if found.application
        else None
    )
    terms = None
    if found.terms is not None:
        versions = [found.terms]
        terms = present_terms(found.terms, versions, now)
    return ExitPageRead(
        store_id=found.store.id,
        store_status=found.store.status.value,
        currency=found.store.currency,
        terms=terms,
        management_fee_minor=found.terms.management_fee_minor if found.terms else None,
        refund_fee_minor=found.terms.refund_fee_minor if found.terms else None,
        review_days=found.terms.review_days if found.terms else None,
        blockers=present_blockers(found.blockers),
        can_apply=found.can_apply,
        application=application,
        archive=present_archive(found.archive) if found.archive else None,
    )

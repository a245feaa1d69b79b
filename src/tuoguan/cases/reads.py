"""Cases as their parties read them: the list (a queue per kind, the most at risk first) and one
case with its timeline, files behind short-lived signed links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.cases import reports, return_parcel, service
from tuoguan.cases.kinds import WORKING, CaseKind, CaseState
from tuoguan.cases.models import Case, CaseEntry, CaseReturn
from tuoguan.cases.schemas import (
    CaseEntryRead,
    CaseRead,
    CauseCount,
    DisputeWeekRead,
    PartyCaseRead,
    PartyEntryRead,
    RateRead,
    ReceivingReportRead,
)
from tuoguan.config import Settings
from tuoguan.kit.keyset import Keyset
from tuoguan.onboarding import documents
from tuoguan.onboarding.review_models import Document
from tuoguan.principal import Principal, Role

# Each role's view of a case and of a timeline entry: the storefront and carriers read no seller,
# warehouse or operator internals.
CASE_VIEWS: dict[Role, type[CaseRead] | type[PartyCaseRead]] = {
    Role.operator: CaseRead,
    Role.seller: CaseRead,
    Role.warehouse: CaseRead,
    Role.system: CaseRead,
    Role.carrier: PartyCaseRead,
    Role.buyer_channel: PartyCaseRead,
}
ENTRY_VIEWS: dict[Role, type[CaseEntryRead] | type[PartyEntryRead]] = {
    Role.operator: CaseEntryRead,
    Role.seller: CaseEntryRead,
    Role.warehouse: CaseEntryRead,
    Role.system: CaseEntryRead,
    Role.carrier: PartyEntryRead,
    Role.buyer_channel: PartyEntryRead,
}
_PARTY_ROLES = (Role.carrier, Role.buyer_channel)


def for_reader(principal: Principal, full: CaseRead) -> CaseRead | PartyCaseRead:
    """The case through the reader's view: operators see who did what; a seller and warehouse
    staff see the platform's steps as the platform's (no operator's id); the storefront and
    carriers their own view."""
    if principal.role in (Role.operator, Role.system):
        return full
    if principal.role not in _PARTY_ROLES:
        return full.model_copy(
            update={
                "decided_by": None,
                "entries": [entry_for(principal, e) for e in full.entries]
                if full.entries is not None
                else None,
            }
        )
    return PartyCaseRead(
        **full.model_dump(include=set(PartyCaseRead.model_fields) - {"entries", "decided_minor"}),
        decided_minor=full.amount_minor,
        entries=[entry_for(principal, e) for e in full.entries]  # type: ignore[misc]
        if full.entries is not None
        else None,
    )


def entry_for(principal: Principal, entry: CaseEntryRead) -> CaseEntryRead | PartyEntryRead:
    if principal.role in (Role.operator, Role.system):
        return entry
    if principal.role not in _PARTY_ROLES:
        if entry.actor_role in (Role.operator.value, Role.system.value):
            return entry.model_copy(update={"actor_id": "platform"})
        return entry
    return PartyEntryRead(**entry.model_dump(include=set(PartyEntryRead.model_fields)))


QUEUE = Keyset((Case.queue_rank, Case.queue_due_at, Case.id), ("int", "instant", "id"))


def present(
    case: Case, principal: Principal, now: datetime, entries: list[CaseEntryRead] | None = None
) -> CaseRead:
    spec = service.spec_of(case)
    nexts = list(spec.step(case.state).next) if case.state in WORKING else []
    return CaseRead(
        id=case.id,
        kind=case.kind,
        cause=case.cause,
        state=case.state,
        store_id=case.store_id,
        seller_id=case.seller_id,
        notice_id=case.notice_id,
        discrepancy_id=case.discrepancy_id,
        order_id=case.order_id,
        warehouse_id=case.warehouse_id,
        carrier_code=case.carrier_code,
        currency=case.currency,
        summary=case.summary,
        opened_at=case.opened_at,
        opened_role=case.opened_role.value,
        step_owner=case.step_owner,
        step_due_at=case.step_due_at,
        overdue=bool(case.step_due_at and case.step_due_at < now and case.state in WORKING),
        next_steps=nexts,
        decisions=list(spec.decisions),
        decision=case.decision,
        bearer=case.bearer,
        amount_minor=case.amount_minor,
        units=case.units,
        decision_reason=case.decision_reason,
        decided_by=case.decided_by,
        decided_at=case.decided_at,
        appeal_by=service.appeal_by(case) if case.appealed_at is None else None,
        appealed_party=case.appealed_party,
        appealed_at=case.appealed_at,
        appeal_reason=case.appeal_reason,
        appeal_outcome=case.appeal_outcome,
        appeal_decided_at=case.appeal_decided_at,
        closed_at=case.closed_at,
        your_party=service.party_of(principal, case),
        origin_case_id=case.origin_case_id,
        entries=entries,
    )


async def timeline(
    session: AsyncSession, settings: Settings, case: Case, now: datetime
) -> list[CaseEntryRead]:
    """Every entry of the case, oldest first; a file's link signed for the reader."""
    rows = list(
        await session.scalars(
            select(CaseEntry).where(CaseEntry.case_id == case.id).order_by(CaseEntry.position)
        )
    )
    ids = [r.document_id for r in rows if r.document_id]
    files = (
        {d.id: d for d in await session.scalars(select(Document).where(Document.id.in_(ids)))}
        if ids
        else {}
    )
    return [present_entry(settings, row, files.get(row.document_id or ""), now) for row in rows]


def present_entry(
    settings: Settings, row: CaseEntry, document: Document | None, now: datetime
) -> CaseEntryRead:
    """One entry of a timeline; its file's link signed for the reader."""
    return CaseEntryRead(
        position=row.position,
        type=row.type,
        party=row.party,
        actor_id=row.actor_id,
        actor_role=row.actor_role.value,
        at=row.at,
        text=row.text,
        file_name=document.file_name if document else None,
        content_type=document.content_type if document else None,
        link=documents.signed_link(settings, document, now=now) if document else None,
        sha256=row.sha256,
        data=dict(row.data or {}),
    )


async def one(
    session: AsyncSession, settings: Settings, principal: Principal, case: Case, now: datetime
) -> CaseRead:
    shown = present(case, principal, now, await timeline(session, settings, case, now))
    parcel = await session.get(CaseReturn, case.id) if case.kind is CaseKind.after_sale else None
    if parcel is not None:
        shown.return_parcel = return_parcel.present(parcel, label_url(principal, case.id))
    return shown


def label_url(principal: Principal, case_id: str) -> str | None:
    """Where the reader fetches a return's label (the storefront through its own routes)."""
    if principal.role is Role.warehouse:
        return None
    if principal.role is Role.buyer_channel:
        return f"/api/v1/returns/{case_id}/label"
    return f"/api/v1/cases/{case_id}/return/label"


async def queue(
    session: AsyncSession,
    *,
    principal: Principal,
    kind: CaseKind | None,
    state: CaseState | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Case], str | None]:
    """The cases the reader may see, working ones first and the nearest deadline first, then
    decided, then closed; by kind and state when asked. A page and the next page's cursor."""
    query = service.visible(principal)
    if kind is not None:
        query = query.where(Case.kind == kind)
    if state is not None:
        query = query.where(Case.state == state)
    return await QUEUE.page(session, [query], cursor=cursor, limit=limit)


async def by_discrepancy(session: AsyncSession, notice_id: str) -> dict[str, str]:
    """The cases raised from a notice's discrepancies: discrepancy id -> case id."""
    rows = await session.execute(
        select(Case.discrepancy_id, Case.id).where(
            Case.notice_id == notice_id, Case.discrepancy_id.is_not(None)
        )
    )
    return {str(d): str(c) for d, c in rows}


def present_receiving(report: reports.ReceivingReport) -> ReceivingReportRead:
    def rate(row: reports.Rate) -> RateRead:
        return RateRead(
            key=row.key,
            label=row.label,
            notices=row.notices,
            exceptions=row.exceptions,
            rate=row.rate,
            recent=row.recent,
            repeat=row.repeat,
        )

    return ReceivingReportRead(
        weeks=[rate(r) for r in report.weeks],
        sellers=[rate(r) for r in report.sellers],
        carriers=[rate(r) for r in report.carriers],
        causes=[CauseCount(cause=c, exceptions=n) for c, n in report.causes],
    )


def present_disputes(weeks: list[reports.DisputeWeek]) -> list[DisputeWeekRead]:
    return [
        DisputeWeekRead(
            week=w.week.isoformat(),
            opened=w.opened,
            decided=w.decided,
            p50_hours=w.p50_hours,
            p95_hours=w.p95_hours,
            within_target=w.within,
            late=w.late,
            share_within=w.share_within,
        )
        for w in weeks
    ]

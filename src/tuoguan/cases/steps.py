"""A case moved along its kind's steps, and the messages and evidence its parties add (R3, G4).
Never commits: each call is one transaction of the caller's, with the case locked, its timeline
entry and its audit event."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.cases import service
from tuoguan.cases.kinds import ACTION_STATES, WORKING, CaseKind, CaseParty
from tuoguan.cases.models import Case, CaseEntry
from tuoguan.cases.schemas import CaseMove
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput
from tuoguan.kit import i18n
from tuoguan.kit.storage import Storage
from tuoguan.onboarding import documents
from tuoguan.onboarding.review_models import Document
from tuoguan.principal import Role
from tuoguan.stores.models import Store


async def move(session: AsyncSession, ctx: Ctx, *, case_id: str, data: CaseMove) -> Case:
    """R3: an operator takes the case to one of its step's next steps (not to a decision:
    that is ``decide``). 409 ``illegal_transition`` naming the steps allowed."""
    if ctx.principal.role is not Role.operator:
        raise Forbidden("operators move a case along its steps")
    case = await service.lock_case(session, principal=ctx.principal, case_id=case_id)
    allowed = [
        s
        for s in service.spec_of(case).step(case.state).next
        if s in WORKING and s not in ACTION_STATES
    ]
    if data.to not in allowed or case.state not in WORKING:
        raise Conflict(
            f"case {case.id} is {case.state.value}: it may move to "
            f"{', '.join(s.value for s in allowed) or 'no other step'}",
            field="to",
            rule="illegal_transition",
            current_state=case.state.value,
            allowed=[s.value for s in allowed],
        )
    if data.carrier_code is not None:
        if case.kind is not CaseKind.receiving_exception:
            raise InvalidInput(
                "a dispute or a return names no carrier by hand (a return's is its label's)",
                field="carrier_code",
                rule="carrier_on_receiving",
            )
        case.carrier_code = data.carrier_code
    before = case.state
    service.enter(case, data.to, ctx.clock.now())
    service.append(
        session,
        ctx,
        case,
        "moved",
        party=CaseParty.platform,
        text=data.note,
        data={"from": before.value, "to": data.to.value},
    )
    service.audit_case(session, ctx, case, "move", before, reason=data.note)
    if case.step_owner is CaseParty.seller:
        service.tell_seller(
            session,
            ctx,
            case,
            "case_your_step",
            i18n.N_("case_note_your_step"),
            due=i18n.when(case.step_due_at) if case.step_due_at else "",
        )
    await session.flush()
    return case


async def add_message(session: AsyncSession, ctx: Ctx, *, case_id: str, text: str) -> CaseEntry:
    """A message from a party, threaded on the case."""
    case = await service.lock_case(session, principal=ctx.principal, case_id=case_id)
    party = service.party_on(ctx, case)
    service.not_closed(case)
    entry = service.append(session, ctx, case, "message", party=party, text=text)
    service.audit_case(session, ctx, case, "message", case.state, data={"party": party.value})
    if party is not CaseParty.seller:
        service.tell_seller(session, ctx, case, "case_message", i18n.N_("case_note_message"))
    if party is not CaseParty.buyer:  # the storefront hears the other side, for its buyer
        await service.tell_buyer(
            session,
            ctx,
            case,
            "case_message",
            i18n.N_("buyer_case_message"),
            party=i18n.label(f"case_party_{party.value}"),
            text=text,
        )
    await session.flush()
    return entry


@dataclass(frozen=True)
class Evidence:
    text: str | None
    data: bytes | None
    file_name: str | None


async def add_evidence(
    session: AsyncSession,
    ctx: Ctx,
    *,
    case_id: str,
    evidence: Evidence,
    storage: Storage,
    settings: Settings,
) -> CaseEntry:
    """R3: proof from a party on the case (a file checked by content, kept through the same
    storage as review documents, and/or a text), with who, when and its SHA-256. A party that
    is not on the case: 403 ``not_a_party``; a closed case: 409 ``case_open``."""
    case = await service.lock_case(session, principal=ctx.principal, case_id=case_id)
    party = service.party_on(ctx, case)
    service.not_closed(case)
    if evidence.data is None and not evidence.text:
        raise InvalidInput("send a file, a text or both", field="file", rule="required")
    document: Document | None = None
    if evidence.data is not None:
        store = await session.get(Store, case.store_id)
        assert store is not None
        document = await documents.keep(
            session,
            ctx=ctx,
            storage=storage,
            settings=settings,
            store=store,
            purpose=service.EVIDENCE,
            data=evidence.data,
            file_name=evidence.file_name,
        )
    digest = None
    if document is None and evidence.text:
        digest = await asyncio.to_thread(
            lambda: hashlib.sha256(evidence.text.encode()).hexdigest() if evidence.text else None
        )
    entry = service.append(
        session,
        ctx,
        case,
        "evidence",
        party=party,
        text=evidence.text,
        document=document,
        sha256=digest,
    )
    service.audit_case(
        session,
        ctx,
        case,
        "evidence",
        case.state,
        data={"party": party.value, "sha256": entry.sha256, "document_id": entry.document_id},
    )
    if party is not CaseParty.seller:
        service.tell_seller(session, ctx, case, "case_evidence", i18n.N_("case_note_evidence"))
    await session.flush()
    return entry

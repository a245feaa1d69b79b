"""The program agreement (签订合同, M4): operators publish versions, sellers accept them. Never
commits.

- **Publish.** An operator publishes the next version, in Chinese and English, in force now or
  later (never in the past, at most a year ahead, after the latest version's start), and says
  whether sellers must accept it. Every seller in the full-managed program is told.
- **Accept.** A seller accepts the version in force (or one scheduled, ahead of time); the
  acceptance records who, when and from where (client address, user agent). Accepting again
  answers the first acceptance. A superseded version is not accepted (409
  ``agreement_superseded``). Each of the seller's stores still joining is then tried
  (``joining.try_join``).

The version in force, what a seller owes and the supply-order gate are ``stores.agreements``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, NotFound
from tuoguan.kit import i18n
from tuoguan.kit.ids import new_id
from tuoguan.kit.keyset import Keyset
from tuoguan.kit.versions import next_start
from tuoguan.notify import service as notify
from tuoguan.onboarding import joining
from tuoguan.onboarding.origin import Origin
from tuoguan.onboarding.schemas import AgreementCreate
from tuoguan.principal import Principal, Role
from tuoguan.stores import agreements
from tuoguan.stores import service as stores
from tuoguan.stores.agreement_models import AgreementAcceptance, AgreementVersion
from tuoguan.stores.models import Store, StoreMode

SUBJECT = "agreement"
# The platform's zone: when a version takes effect, as the notification says it.
PLATFORM_ZONE = "Asia/Shanghai"
ACCEPTANCES = Keyset((AgreementAcceptance.id,), ("id",), descending=True)


async def program_sellers(session: AsyncSession) -> list[str]:
    """Sellers with a full-managed store in the program (not exited or closed)."""
    rows = await session.scalars(
        select(Store.seller_id)
        .where(
            Store.mode == StoreMode.full_managed,
            Store.status.not_in(stores.LEFT_PROGRAM),
        )
        .distinct()
    )
    return sorted(rows)


async def publish(session: AsyncSession, *, ctx: Ctx, data: AgreementCreate) -> AgreementVersion:
    """M4: an operator publishes the next version (see the module). 403 for another role; 422
    ``not_past``, ``within_horizon``, ``after_previous`` on its start."""
    if ctx.principal.role is not Role.operator:
        raise Forbidden("only an operator publishes the program agreement")
    now = ctx.clock.now()
    latest = await session.scalar(
        select(AgreementVersion).order_by(AgreementVersion.version.desc()).limit(1)
    )
    effective_from = next_start(
        data.effective_from,
        now,
        (latest.version, latest.effective_from) if latest else None,
        what="program agreement version",
    )
    row = AgreementVersion(
        id=new_id("agreement"),
        version=(latest.version + 1) if latest else 1,
        label=data.label,
        title_zh=data.title_zh,
        title_en=data.title_en,
        body_zh=data.body_zh,
        body_en=data.body_en,
        effective_from=effective_from,
        requires_acceptance=data.requires_acceptance,
        published_by=ctx.principal.actor_id,
        created_at=now,
    )
    session.add(row)
    audit.record(
        session,
        ctx=ctx,
        subject_type=SUBJECT,
        subject_id=row.id,
        action="publish",
        data={
            "version": row.version,
            "label": row.label,
            "effective_from": effective_from.isoformat(),
            "requires_acceptance": row.requires_acceptance,
        },
    )
    key = (
        i18n.N_("agr_note_published_accept")
        if row.requires_acceptance
        else i18n.N_("agr_note_published")
    )
    params = {"label": row.label, "from": i18n.when(effective_from, PLATFORM_ZONE)}
    await notify.notify_many(
        session,
        [
            notify.notification_row(
                ctx=ctx,
                seller_id=seller_id,
                kind="agr_published",
                subject_type=SUBJECT,
                subject_id=row.id,
                key=key,
                params=params,
                data={"version": row.version, "requires_acceptance": row.requires_acceptance},
            )
            for seller_id in await program_sellers(session)
        ],
    )
    await session.flush()
    return row


async def get_version(
    session: AsyncSession, *, principal: Principal, version_id: str
) -> AgreementVersion:
    """One version (operators and sellers read every version)."""
    _readers(principal)
    row = await session.get(AgreementVersion, version_id)
    if row is None:
        raise NotFound(f"agreement version {version_id} not found", field="agreement_id")
    return row


def _readers(principal: Principal) -> None:
    if principal.role not in (Role.operator, Role.seller, Role.system):
        raise Forbidden(f"a {principal.role.value} does not read the program agreement")


async def accept(
    session: AsyncSession, *, ctx: Ctx, version_id: str, origin: Origin
) -> AgreementAcceptance:
    """M4: the seller accepts a version (see the module). 403 for another role, 404 for an
    unknown version, 409 ``agreement_superseded``."""
    if ctx.principal.role is not Role.seller or not ctx.principal.seller_id:
        raise Forbidden("only a seller accepts the program agreement", field="agreement_id")
    seller_id = ctx.principal.seller_id
    row = await get_version(session, principal=ctx.principal, version_id=version_id)
    now = ctx.clock.now()
    if agreements.standing(row, await agreements.versions(session), now) == agreements.SUPERSEDED:
        raise Conflict(
            f"version {row.version} ({row.label}) is superseded: accept the version in force",
            field="agreement_id",
            rule="agreement_superseded",
        )
    found = await session.scalar(
        select(AgreementAcceptance).where(
            AgreementAcceptance.version_id == row.id, AgreementAcceptance.seller_id == seller_id
        )
    )
    if found is not None:
        return found
    made = AgreementAcceptance(
        id=new_id("acceptance"),
        version_id=row.id,
        seller_id=seller_id,
        accepted_by=ctx.principal.actor_id,
        accepted_at=now,
        client_address=origin.address,
        user_agent=origin.user_agent,
    )
    session.add(made)
    audit.record(
        session,
        ctx=ctx,
        subject_type=SUBJECT,
        subject_id=row.id,
        action="accept",
        data={
            "acceptance_id": made.id,
            "seller_id": seller_id,
            "version": row.version,
            "client_address": origin.address,
            "user_agent": origin.user_agent,
        },
    )
    notify.notify(
        session,
        ctx=ctx,
        seller_id=seller_id,
        kind="agr_accepted",
        subject_type=SUBJECT,
        subject_id=row.id,
        key=i18n.N_("agr_note_accepted"),
        params={"label": row.label},
    )
    await session.flush()
    await joining.try_join_seller(session, ctx=ctx, seller_id=seller_id)
    return made


async def acceptances(
    session: AsyncSession,
    *,
    principal: Principal,
    version_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[AgreementAcceptance], str | None]:
    """Acceptances, newest first: operators every seller's (of one version if named), a
    seller its own."""
    _readers(principal)
    query = select(AgreementAcceptance)
    if principal.role is Role.seller:
        query = query.where(AgreementAcceptance.seller_id == principal.seller_id)
    if version_id:
        query = query.where(AgreementAcceptance.version_id == version_id)
    return await ACCEPTANCES.page(session, [query], cursor=cursor, limit=limit)

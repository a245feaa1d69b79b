"""The program agreement (全托管合作协议, M4): which version is in force, what a seller has
accepted, and the gate new supply orders pass.

A version is in force from its ``effective_from`` until the next one starts. A seller owes an
acceptance when a version requiring one has started and the seller has accepted neither it nor a
version after it: the version in force is then *pending* for that seller. A pending agreement
refuses the seller's new supply orders (备货单, ``require_accepted``), never what is already
promised. No version published: no gate.

Publishing and accepting (with their notifications) live in ``onboarding.agreements``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.errors import Conflict
from tuoguan.kit.clock import as_utc
from tuoguan.stores.agreement_models import AgreementAcceptance, AgreementVersion

SCHEDULED, IN_FORCE, SUPERSEDED = "scheduled", "in_force", "superseded"


async def versions(session: AsyncSession) -> list[AgreementVersion]:
    """Every version, oldest first (there are few)."""
    return list(await session.scalars(select(AgreementVersion).order_by(AgreementVersion.version)))


def current_of(rows: Sequence[AgreementVersion], at: datetime) -> AgreementVersion | None:
    """Of ``rows``, the version in force at ``at``: the latest to have started."""
    started = [v for v in rows if as_utc(v.effective_from) <= at]
    return max(started, key=lambda v: (as_utc(v.effective_from), v.version), default=None)


def standing(version: AgreementVersion, rows: Sequence[AgreementVersion], now: datetime) -> str:
    """scheduled, in_force or superseded, as of ``now``."""
    if as_utc(version.effective_from) > now:
        return SCHEDULED
    current = current_of(rows, now)
    return IN_FORCE if current is not None and current.id == version.id else SUPERSEDED


def pending_of(
    rows: Sequence[AgreementVersion], accepted: set[str], at: datetime
) -> AgreementVersion | None:
    """The version a seller who accepted the versions ``accepted`` must accept at ``at``: the
    one in force, when a version requiring acceptance has started and none from it on is
    accepted; else None."""
    started = [v for v in rows if as_utc(v.effective_from) <= at]
    binding = max(
        (v for v in started if v.requires_acceptance),
        key=lambda v: (as_utc(v.effective_from), v.version),
        default=None,
    )
    if binding is None:
        return None
    since = as_utc(binding.effective_from)
    if any(v.id in accepted for v in started if as_utc(v.effective_from) >= since):
        return None
    return current_of(rows, at)


async def in_force(session: AsyncSession, at: datetime) -> AgreementVersion | None:
    """The version in force at ``at`` (None: none published yet)."""
    return await session.scalar(
        select(AgreementVersion)
        .where(AgreementVersion.effective_from <= at)
        .order_by(AgreementVersion.effective_from.desc(), AgreementVersion.version.desc())
        .limit(1)
    )


async def accepted_by(session: AsyncSession, seller_id: str) -> dict[str, AgreementAcceptance]:
    """The seller's acceptances, by version id."""
    rows = await session.scalars(
        select(AgreementAcceptance).where(AgreementAcceptance.seller_id == seller_id)
    )
    return {row.version_id: row for row in rows}


async def pending_agreement(
    session: AsyncSession, seller_id: str, at: datetime
) -> AgreementVersion | None:
    """M4: the version in force the seller must still accept at ``at`` (None: nothing owed)."""
    started = list(
        await session.scalars(select(AgreementVersion).where(AgreementVersion.effective_from <= at))
    )
    if not any(v.requires_acceptance for v in started):
        return None
    accepted = set(
        await session.scalars(
            select(AgreementAcceptance.version_id).where(AgreementAcceptance.seller_id == seller_id)
        )
    )
    return pending_of(started, accepted, at)


async def require_accepted(session: AsyncSession, *, seller_id: str, at: datetime) -> None:
    """M4: refuse a new supply order while the seller owes an acceptance (409
    ``agreement_pending``, naming the version); what is already promised is never asked."""
    owed = await pending_agreement(session, seller_id, at)
    if owed is not None:
        raise Conflict(
            f"the seller has not accepted the program agreement in force ({owed.label}, version "
            f"{owed.version}): no new supply orders until it is accepted",
            field="store_id",
            rule="agreement_pending",
            agreement_id=owed.id,
            agreement_version=owed.version,
            agreement_label=owed.label,
        )

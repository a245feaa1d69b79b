"""Receiving discrepancies (收货异常, R2): recorded one per (kind, SKU) on a notice with who and
when, and their photos (the evidence a case needs, R3).

Photos are kept by ``fulfilment.uploads`` (checked by content, stored by their SHA-256);
whoever sees the notice sees its photos: its seller, operators, the warehouse's staff. Staff of
the warehouse and operators add them, from the first count until long after the close.
"""

from __future__ import annotations

from pathlib import Path

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, NotFound
from tuoguan.fulfilment import uploads
from tuoguan.fulfilment.inbound import REF_TYPE, get_notice, lock
from tuoguan.fulfilment.inbound_states import RECEIVERS
from tuoguan.fulfilment.models import (
    DiscrepancyKind,
    InboundDiscrepancy,
    InboundNotice,
    InboundStatus,
)
from tuoguan.kit.ids import new_id
from tuoguan.principal import Principal, Role

MAX_PHOTOS = 6  # per discrepancy
MAX_NOTE = 1000
PHOTO_STATES = frozenset(
    {
        InboundStatus.arrived,
        InboundStatus.receiving,
        InboundStatus.received,
        InboundStatus.closed_with_discrepancies,
    }
)


def _note(before: str | None, added: str | None) -> str | None:
    if not added:
        return before
    if not before:
        return added[:MAX_NOTE]
    if added in before:
        return before
    return f"{before} / {added}"[:MAX_NOTE]


class Discrepancies:
    """A notice's discrepancies, one per (kind, SKU or scanned code), added to as counts come."""

    def __init__(
        self, session: AsyncSession, ctx: Ctx, notice: InboundNotice, rows: list[InboundDiscrepancy]
    ) -> None:
        self.session, self.ctx, self.notice = session, ctx, notice
        self.rows = rows

    def record(
        self,
        kind: DiscrepancyKind,
        *,
        sku_id: str | None,
        scanned_code: str | None,
        expected: int,
        counted: int,
        note: str | None,
        add: bool,
    ) -> InboundDiscrepancy:
        """Add to the matching discrepancy (``add``: its count grows, else it is replaced), or
        record a new one with who and when."""
        for row in self.rows:
            same = row.sku_id == sku_id if sku_id else row.scanned_code == scanned_code
            if row.kind is kind and same:
                row.counted = row.counted + counted if add else counted
                row.expected = expected
                row.note = _note(row.note, note)
                return row
        row = InboundDiscrepancy(
            id=new_id("discrepancy"),
            notice_id=self.notice.id,
            warehouse_id=self.notice.warehouse_id,
            seller_id=self.notice.seller_id,
            kind=kind,
            sku_id=sku_id,
            scanned_code=scanned_code,
            expected=expected,
            counted=counted,
            note=_note(None, note),
            photos=[],
            recorded_by=self.ctx.principal.actor_id,
            recorded_at=self.ctx.clock.now(),
        )
        self.session.add(row)
        self.rows.append(row)
        return row


async def recorded_for(session: AsyncSession, notice_id: str) -> list[InboundDiscrepancy]:
    return list(
        await session.scalars(
            select(InboundDiscrepancy)
            .where(InboundDiscrepancy.notice_id == notice_id)
            .order_by(InboundDiscrepancy.id)
        )
    )


# -- photos -----------------------------------------------------------------------------------


async def _discrepancy(
    session: AsyncSession, notice: InboundNotice, discrepancy_id: str
) -> InboundDiscrepancy:
    found = await session.scalar(
        select(InboundDiscrepancy).where(
            InboundDiscrepancy.id == discrepancy_id, InboundDiscrepancy.notice_id == notice.id
        )
    )
    if found is None:
        raise NotFound(
            f"discrepancy {discrepancy_id} of inbound notice {notice.id} not found",
            field="discrepancy_id",
        )
    return found


def _file_name(name: str | None, n: int, content_type: str) -> str:
    """The client's file name, for people to read only (never a path): its last part, printable."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()[:200]
    return base or f"photo-{n}.{uploads.EXTENSIONS[content_type]}"


async def add_photo(
    session: AsyncSession,
    *,
    ctx: Ctx,
    notice_id: str,
    discrepancy_id: str,
    content: bytes,
    name: str | None = None,
) -> InboundDiscrepancy:
    """Attach a photo to a discrepancy (JPEG, PNG or WebP by content; 5 MB; 6 per
    discrepancy). The same photo sent again is kept once."""
    if ctx.principal.role not in RECEIVERS and ctx.principal.role is not Role.system:
        raise Forbidden("only the warehouse's staff or an operator add photos")
    notice = await lock(session, principal=ctx.principal, notice_id=notice_id)
    found = await _discrepancy(session, notice, discrepancy_id)
    if notice.status not in PHOTO_STATES:
        raise Conflict(
            f"the inbound notice is {notice.status.value}: photos follow its receipt",
            field="status",
            rule="state_allows_photos",
        )
    content_type = uploads.check(content)
    photos = list(found.photos or [])
    if any(p.get("sha256") == uploads.digest(content) for p in photos):
        return found
    if len(photos) >= MAX_PHOTOS:
        raise Conflict(
            f"a discrepancy keeps at most {MAX_PHOTOS} photos",
            field="file",
            rule="max_photos",
        )
    stored = await anyio.to_thread.run_sync(
        uploads.store, ctx.settings.upload_dir, content, content_type
    )
    photos.append(
        {
            "name": _file_name(name, len(photos) + 1, content_type),
            "content_type": content_type,
            "size": stored.size,
            "sha256": stored.sha256,
            "path": stored.path,
        }
    )
    found.photos = photos  # a new list, so the JSON column is written
    audit.record(
        session,
        ctx=ctx,
        subject_type=REF_TYPE,
        subject_id=notice.id,
        store_id=notice.store_id,
        action="add_photo",
        data={"discrepancy_id": found.id, "sha256": stored.sha256, "size": stored.size},
    )
    await session.flush()
    return found


async def photo_file(
    session: AsyncSession,
    *,
    principal: Principal,
    upload_dir: str | Path,
    notice_id: str,
    discrepancy_id: str,
    n: int,
) -> tuple[Path, str]:
    """The file and type of photo ``n`` (from 1) of a discrepancy, for whoever sees the notice:
    its seller, operators, the warehouse's staff."""
    notice = await get_notice(session, principal=principal, notice_id=notice_id)
    found = await _discrepancy(session, notice, discrepancy_id)
    photos = found.photos or []
    if not 1 <= n <= len(photos):
        raise NotFound(f"discrepancy {found.id} has no photo {n}", field="n")
    photo = photos[n - 1]
    content_type = str(photo["content_type"])
    return uploads.locate(upload_dir, str(photo["sha256"]), content_type), content_type

"""Stored responses of mutating requests, keyed by who sent them and their Idempotency-Key."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Integer, String, Text, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime

MAX_KEY_LENGTH = 255


class IdempotencyRecord(Base):
    """The first response to a (principal, key) pair, stored in the same transaction."""

    __tablename__ = "idempotency_records"

    principal_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


def request_fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """A hash of what was asked, so a reused key with another request is caught."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


async def find(session: AsyncSession, principal_id: str, key: str) -> IdempotencyRecord | None:
    """The stored response for a key, if any."""
    return await session.get(IdempotencyRecord, (principal_id, key))


async def prune(session: AsyncSession, *, before: datetime, limit: int) -> int:
    """Forget up to ``limit`` stored responses older than ``before``; returns how many."""
    old = (
        select(IdempotencyRecord.principal_id, IdempotencyRecord.key)
        .where(IdempotencyRecord.created_at < before)
        .order_by(IdempotencyRecord.created_at)
        .limit(limit)
    )
    rows = list((await session.execute(old)).all())
    for principal_id, key in rows:
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.principal_id == principal_id, IdempotencyRecord.key == key
            )
        )
    return len(rows)

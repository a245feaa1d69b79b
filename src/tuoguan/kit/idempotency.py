"""Stored responses of mutating requests, keyed by who sent them and their Idempotency-Key."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Integer, String, Text
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

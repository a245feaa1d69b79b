"""Export jobs: what to export, for whom, how far the worker got, and the file it wrote."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime
from tuoguan.exports.states import ExportStatus
from tuoguan.principal import Role

ERROR_LENGTH = 300


class ExportJob(Base):
    """One export of orders to a CSV file, run by the worker (O5)."""

    __tablename__ = "export_jobs"
    __table_args__ = (
        # The owner's jobs, newest first (GET /exports, keyset on id).
        Index("ix_export_jobs_owner", "owner_id", "id"),
        # The worker's look-ups: queued jobs, running ones whose lease ran out.
        Index("ix_export_jobs_status_lease", "status", "lease_until"),
        # Done jobs whose file is due for deletion.
        Index("ix_export_jobs_status_expires", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    # Who asked (token or console user): only they see the job and its file.
    owner_id: Mapped[str] = mapped_column(String(40))
    owner_role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    # A seller's export covers its own orders only (the worker reads as this seller).
    seller_id: Mapped[str | None] = mapped_column(String(40))
    # The filters, as the order list takes them.
    statuses: Mapped[list[Any]] = mapped_column(JSON)
    store_id: Mapped[str | None] = mapped_column(String(40))
    row_limit: Mapped[int] = mapped_column(Integer)
    status: Mapped[ExportStatus] = mapped_column(Enum(ExportStatus, native_enum=False, length=20))
    rows_expected: Mapped[int] = mapped_column(Integer)
    rows_written: Mapped[int] = mapped_column(Integer)
    # Each take by a worker counts; a write by an older take (lease lost) is refused.
    attempts: Mapped[int] = mapped_column(Integer)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The file's name inside TUOGUAN_EXPORT_DIR, its size and SHA-256, once done.
    file_name: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    # Why it failed, in a line (never a stack trace).
    error: Mapped[str | None] = mapped_column(String(ERROR_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

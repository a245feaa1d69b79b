"""API shapes for export jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tuoguan.exports.states import ExportStatus
from tuoguan.orders.states import OrderStatus
from tuoguan.stores.schemas import Strict

MAX_ROWS = 1_000_000


class ExportCreate(Strict):
    """What to export: the order list's filters, newest first, up to ``limit`` orders (O5)."""

    kind: Literal["orders"] = "orders"
    status: list[OrderStatus] = Field(
        default_factory=list, max_length=len(OrderStatus), description="Only these statuses."
    )
    store_id: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    limit: int = Field(default=MAX_ROWS, ge=1, le=MAX_ROWS, strict=True)


class ExportRead(BaseModel):
    """An export job and its progress; ``download`` is set once the file is ready."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    status: ExportStatus
    statuses: list[OrderStatus] = Field(description="The status filter (empty: every status).")
    store_id: str | None
    row_limit: int = Field(description="At most this many orders, newest first.")
    rows_expected: int = Field(description="Orders matching the filters, up to the limit.")
    rows_written: int = Field(description="Rows in the file so far.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None = Field(description="When the file is deleted.")
    size_bytes: int | None
    sha256: str | None = Field(description="SHA-256 of the file, hex.")
    error: str | None = Field(description="Why the job failed, in a line.")
    download: str | None = Field(default=None, description="Where to fetch the file when done.")

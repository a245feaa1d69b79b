"""scrub_webhook_bodies

Deliveries recorded before the SSRF fix kept up to 200 characters of the
receiver's response body (or the connection error's text) in ``last_error``,
which a seller could read back. They keep only the status code and a short
reason now, as new deliveries do.

Revision ID: 8c6d4e5fa004
Revises: 7b5c3d4e9f03
Create Date: 2026-11-27 13:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8c6d4e5fa004"
down_revision: str | None = "7b5c3d4e9f03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE webhook_deliveries SET last_error = 'HTTP ' || CAST(last_status_code AS VARCHAR(3)) "
        "WHERE last_error IS NOT NULL AND last_status_code IS NOT NULL"
    )
    op.execute(
        "UPDATE webhook_deliveries SET last_error = 'could not connect' "
        "WHERE last_error IS NOT NULL AND last_status_code IS NULL"
    )


def downgrade() -> None:
    # What was scrubbed is gone on purpose.
    pass

"""programme: category rules, invitations, the agreement (M2, M4)

Revision ID: e7f8091a2b3c
Revises: d6e7f809a1bd
Create Date: 2026-11-28 18:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "e7f8091a2b3c"
down_revision: str | None = "d6e7f809a1bd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_SEEDED = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)


def upgrade() -> None:
    rules = op.create_table(
        "category_rules",
        sa.Column("category", sa.String(60), primary_key=True),
        sa.Column("review_required", sa.Boolean(), nullable=False),
        sa.Column("brand_authorisation_required", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(40), nullable=False),
    )
    # Batteries and liquids are checked before they list (air-freight rules); perfume is a
    # branded good, sold only with the brand owner's authorisation.
    op.bulk_insert(
        rules,
        [
            {"category": "battery", "review_required": True,
             "brand_authorisation_required": False, "updated_at": _SEEDED, "updated_by": "system"},
            {"category": "liquid", "review_required": True,
             "brand_authorisation_required": False, "updated_at": _SEEDED, "updated_by": "system"},
            {"category": "liquid/perfume", "review_required": True,
             "brand_authorisation_required": True, "updated_at": _SEEDED, "updated_by": "system"},
        ],
    )
    _programme()


_OPEN = "status = 'invited'"
INVITATION_STATUS = sa.Enum(
    "invited",
    "accepted",
    "declined",
    "expired",
    "withdrawn",
    name="invitationstatus",
    native_enum=False,
    length=20,
)


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _programme() -> None:
    """M2, M4: invitations, the agreement's versions and acceptances; when a store joined."""
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("joined_at", _ts(), nullable=True))
    # Every store open before invitations existed joined the day it opened.
    op.execute("UPDATE stores SET joined_at = created_at")
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("store_name", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("message", sa.String(length=2000), nullable=False),
        sa.Column("expires_at", _ts(), nullable=False),
        sa.Column("status", INVITATION_STATUS, nullable=False),
        sa.Column("invited_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", _ts(), nullable=True),
        sa.Column("decided_from", sa.String(length=64), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column("full_managed_store_id", sa.String(length=40), nullable=True),
        sa.Column("on_behalf", sa.Boolean(), nullable=False),
        sa.Column("on_behalf_reason", sa.String(length=500), nullable=True),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_invitations_seller_id_sellers")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_invitations_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["full_managed_store_id"],
            ["stores.id"],
            name=op.f("fk_invitations_full_managed_store_id_stores"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
    )
    op.create_index(
        "uq_invitations_open",
        "invitations",
        ["seller_id"],
        unique=True,
        postgresql_where=sa.text(_OPEN),
        sqlite_where=sa.text(_OPEN),
    )
    op.create_index("ix_invitations_seller", "invitations", ["seller_id", "id"], unique=False)
    op.create_index("ix_invitations_status", "invitations", ["status", "id"], unique=False)
    op.create_table(
        "agreement_versions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("body_zh", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("effective_from", _ts(), nullable=False),
        sa.Column("requires_acceptance", sa.Boolean(), nullable=False),
        sa.Column("published_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_versions")),
        sa.UniqueConstraint("version", name="uq_agreement_versions_version"),
    )
    op.create_index(
        "ix_agreement_versions_effective", "agreement_versions", ["effective_from"], unique=False
    )
    op.create_table(
        "agreement_acceptances",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("version_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("accepted_by", sa.String(length=40), nullable=False),
        sa.Column("accepted_at", _ts(), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["agreement_versions.id"],
            name=op.f("fk_agreement_acceptances_version_id_agreement_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_agreement_acceptances_seller_id_sellers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_acceptances")),
        sa.UniqueConstraint("version_id", "seller_id", name="uq_agreement_acceptances_seller"),
    )
    op.create_index(
        "ix_agreement_acceptances_seller",
        "agreement_acceptances",
        ["seller_id", "version_id"],
        unique=False,
    )
    op.create_index(
        "ix_agreement_acceptances_version",
        "agreement_acceptances",
        ["version_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_agreement_acceptances_version", table_name="agreement_acceptances")
    op.drop_index("ix_agreement_acceptances_seller", table_name="agreement_acceptances")
    op.drop_table("agreement_acceptances")
    op.drop_index("ix_agreement_versions_effective", table_name="agreement_versions")
    op.drop_table("agreement_versions")
    op.drop_index("ix_invitations_status", table_name="invitations")
    op.drop_index("ix_invitations_seller", table_name="invitations")
    op.drop_index("uq_invitations_open", table_name="invitations")
    op.drop_table("invitations")
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.drop_column("joined_at")
    op.drop_table("category_rules")

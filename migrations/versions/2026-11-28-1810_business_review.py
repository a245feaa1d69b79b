"""business review: documents and the staged review (S1, S2)

Revision ID: e7f8091a2b4d
Revises: e7f8091a2b3c
Create Date: 2026-11-28 18:10:00

- ``documents``: uploaded files (licences, identity documents, bank proofs, brand
  authorisations, exit papers): what and whose each is, and the key its bytes are kept under
  in the storage (the file system or an S3 bucket), never the bytes.
- ``business_reviews``: one full-managed store's business-info review (经营信息审核): the
  fields, the stage and since when, the fields returned for correction with why.
- ``review_rounds``: each submission, what it submitted, and each stage's decision.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e7f8091a2b4d"
down_revision: str | None = "e7f8091a2b3c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _stage(name: str = "reviewstage") -> sa.Enum:
    return sa.Enum("background", "financial", "categories", name=name, native_enum=False, length=20)


STATUS = sa.Enum(
    "draft",
    "under_review",
    "returned",
    "approved",
    name="reviewstatus",
    native_enum=False,
    length=20,
)


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=60), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=400), nullable=False),
        sa.Column("uploaded_by", sa.String(length=40), nullable=False),
        sa.Column("uploaded_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_documents_seller_id_sellers")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_documents_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index("ix_documents_store", "documents", ["store_id", "id"], unique=False)
    op.create_index("ix_documents_key", "documents", ["storage_key"], unique=False)
    op.create_table(
        "business_reviews",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("stage", _stage(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("rejected", sa.JSON(), nullable=False),
        sa.Column("round_no", sa.Integer(), nullable=False),
        sa.Column("stage_entered_at", _ts(), nullable=True),
        sa.Column("stuck_after", _ts(), nullable=True),
        sa.Column("flagged_at", _ts(), nullable=True),
        sa.Column("submitted_at", _ts(), nullable=True),
        sa.Column("approved_at", _ts(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_business_reviews_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_business_reviews_seller_id_sellers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_reviews")),
        sa.UniqueConstraint("store_id", name="uq_business_reviews_store"),
    )
    op.create_index(
        "ix_business_reviews_queue",
        "business_reviews",
        ["status", "stage_entered_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_business_reviews_stuck", "business_reviews", ["status", "stuck_after"], unique=False
    )
    op.create_index(
        "ix_business_reviews_seller", "business_reviews", ["seller_id", "id"], unique=False
    )
    op.create_table(
        "review_rounds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("review_id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_stage", _stage(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("submitted_at", _ts(), nullable=False),
        sa.Column("submitted_by", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["business_reviews.id"],
            name=op.f("fk_review_rounds_review_id_business_reviews"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_rounds")),
        sa.UniqueConstraint("review_id", "number", name="uq_review_rounds_number"),
    )


def downgrade() -> None:
    op.drop_table("review_rounds")
    op.drop_index("ix_business_reviews_seller", table_name="business_reviews")
    op.drop_index("ix_business_reviews_stuck", table_name="business_reviews")
    op.drop_index("ix_business_reviews_queue", table_name="business_reviews")
    op.drop_table("business_reviews")
    op.drop_index("ix_documents_key", table_name="documents")
    op.drop_index("ix_documents_store", table_name="documents")
    op.drop_table("documents")

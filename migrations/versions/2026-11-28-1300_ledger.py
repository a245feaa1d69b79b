"""ledger: accounts, journal entries and postings, append-only in the database

Triggers on both engines refuse an UPDATE or a DELETE of a posting or a journal entry (and a
TRUNCATE on PostgreSQL). On PostgreSQL the application's role, ``tuoguan_app`` (created here
if missing and if the migrating user may create roles), may read and write every table but
never update, delete or truncate those two. The downgrade drops the triggers and the tables,
not the role.

Revision ID: f2a3b4c5d609
Revises: e1f2a3b4c508
Create Date: 2026-11-28 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f2a3b4c5d609"
down_revision: str | None = "e1f2a3b4c508"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "tuoguan_app"
APPEND_ONLY = ("postings", "journal_entries")
ACCOUNT_KINDS = (
    "deposit_held",
    "receivable",
    "payable",
    "payout_clearing",
    "cash",
    "revenue",
    "commission",
    "shipping_income",
    "shipping_cost",
    "compensation_expense",
    "insurance_recoverable",
    "refunds_borne",
)
ENTRY_KINDS = (
    "deposit_funded",
    "deposit_refunded",
    "deposit_applied_to_debt",
    "sale_commissioned",
    "sale_supplied",
    "penalty_charged",
    "delivery_compensation",
    "insurance_claim_paid",
    "insurance_recovered",
    "shipping_fee_charged",
    "shipping_cost_incurred",
    "refund_charged_to_seller",
    "refund_borne_by_platform",
    "debt_netted",
    "payout_prepared",
    "payout_sent",
    "adjustment",
)


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column(
            "owner_type",
            sa.Enum("store", "platform", name="owner", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("store_id", sa.String(length=40), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(*ACCOUNT_KINDS, name="accountkind", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(owner_type = 'store' AND store_id IS NOT NULL)"
            " OR (owner_type = 'platform' AND store_id IS NULL)",
            name=op.f("ck_ledger_accounts_owner_store"),
        ),
        sa.CheckConstraint(
            "kind NOT IN ('deposit_held', 'receivable', 'payout_clearing') OR balance_minor <= 0",
            name=op.f("ck_ledger_accounts_credit_floor"),
        ),
        sa.CheckConstraint(
            "kind NOT IN ('insurance_recoverable') OR balance_minor >= 0",
            name=op.f("ck_ledger_accounts_debit_floor"),
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_ledger_accounts_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint(
            "store_id", "kind", "currency", name=op.f("uq_ledger_accounts_store_kind")
        ),
    )
    op.create_index(
        "uq_ledger_accounts_platform_kind",
        "ledger_accounts",
        ["kind", "currency"],
        unique=True,
        postgresql_where=sa.text("store_id IS NULL"),
        sqlite_where=sa.text("store_id IS NULL"),
    )

    op.create_table(
        "journal_entries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*ENTRY_KINDS, name="entrykind", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("store_id", sa.String(length=40), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("subject_type", sa.String(length=30), nullable=True),
        sa.Column("subject_id", sa.String(length=40), nullable=True),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("reverses_id", sa.String(length=40), nullable=True),
        sa.Column("idem_key", sa.String(length=200), nullable=True),
        sa.Column("memo", sa.String(length=500), nullable=True),
        sa.Column("actor_id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["journal_entries.id"],
            name=op.f("fk_journal_entries_reverses_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_journal_entries_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint("idem_key", name=op.f("uq_journal_entries_idem_key")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_journal_entries_reverses")),
    )
    op.create_index(
        "ix_journal_entries_store", "journal_entries", ["store_id", "posted_at", "id"], unique=False
    )
    op.create_index(
        "ix_journal_entries_subject",
        "journal_entries",
        ["subject_type", "subject_id"],
        unique=False,
    )

    op.create_table(
        "postings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("entry_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor <> 0", name=op.f("ck_postings_moves_money")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_postings_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_postings_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
    )
    op.create_index(
        "ix_postings_account", "postings", ["account_id", "posted_at", "id"], unique=False
    )
    op.create_index("ix_postings_entry", "postings", ["entry_id"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        _postgresql_append_only()
        _postgresql_app_role()
    else:
        _sqlite_append_only()


def _sqlite_append_only() -> None:
    for table in APPEND_ONLY:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"
            )


def _postgresql_append_only() -> None:
    op.execute(
        """
        CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% are append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'restrict_violation',
                      HINT = 'correct a journal entry with a reversing entry';
        END
        $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()"
        )


def _postgresql_app_role() -> None:
    """The application's role: everything on every table but rewriting the ledger."""
    bind = op.get_bind()
    exists = bind.execute(
        sa.text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": APP_ROLE}
    ).scalar()
    if not exists:
        may_create = bind.execute(
            sa.text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
        ).scalar()
        if not may_create:
            return  # the operator creates the role and reruns the grants (docs/finance.md)
        # Roles are cluster-wide: another database's migration may create it at the same time.
        op.execute(
            f"""
            DO $$
            BEGIN
                CREATE ROLE {APP_ROLE} NOLOGIN;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END
            $$
            """
        )
    schema = bind.execute(sa.text("SELECT current_schema()")).scalar()
    quoted = bind.dialect.identifier_preparer.quote_schema(str(schema))
    op.execute(f"GRANT USAGE ON SCHEMA {quoted} TO {APP_ROLE}")
    op.execute(
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {quoted} TO {APP_ROLE}"
    )
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {quoted} TO {APP_ROLE}")
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {quoted} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {quoted} GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}"
    )
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {', '.join(APPEND_ONLY)} FROM {APP_ROLE}")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {', '.join(APPEND_ONLY)} FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ledger_append_only()")
    else:
        for table in APPEND_ONLY:
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
    op.drop_index("ix_postings_entry", table_name="postings")
    op.drop_index("ix_postings_account", table_name="postings")
    op.drop_table("postings")
    op.drop_index("ix_journal_entries_subject", table_name="journal_entries")
    op.drop_index("ix_journal_entries_store", table_name="journal_entries")
    op.drop_table("journal_entries")
    op.drop_index(
        "uq_ledger_accounts_platform_kind",
        table_name="ledger_accounts",
        postgresql_where=sa.text("store_id IS NULL"),
        sqlite_where=sa.text("store_id IS NULL"),
    )
    op.drop_table("ledger_accounts")

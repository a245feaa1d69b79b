"""The migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from tuoguan.db import sync_url
from tuoguan.tables import metadata


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = create_engine(sync_url(db_url))
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_old_webhook_deliveries_lose_the_response_bodies_they_kept(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Before the SSRF fix a delivery kept the receiver's body, which its seller could read back.
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from tuoguan.cli.main import MIGRATIONS

    url = f"sqlite+pysqlite:///{tmp_path / 'old.db'}"
    config = Config(str(MIGRATIONS.parent / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = url
    config.attributes["skip_logging"] = True
    command.upgrade(config, "7b5c3d4e9f03")
    engine = create_engine(url)
    rows = [
        ("dlv_1", 500, "<html>internal admin: secret=hunter2</html>"),
        ("dlv_2", None, "ConnectError: [Errno 111] Connection refused to 10.0.0.7:6379"),
        ("dlv_3", 200, None),
    ]
    with engine.begin() as conn:
        # (a plain sqlite3 connection does not enforce the foreign keys)
        for delivery_id, code, error in rows:
            conn.execute(
                text(
                    "INSERT INTO webhook_deliveries (id, endpoint_id, notification_id, status, "
                    "attempts, next_attempt_at, last_status_code, last_error, created_at) VALUES "
                    "(:id, 'whk_1', :id, 'failed', 6, '2026-01-01', :code, :error, '2026-01-01')"
                ),
                {"id": delivery_id, "code": code, "error": error},
            )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        kept = dict(conn.execute(text("SELECT id, last_error FROM webhook_deliveries")).all())
    engine.dispose()
    assert kept == {"dlv_1": "HTTP 500", "dlv_2": "could not connect", "dlv_3": None}

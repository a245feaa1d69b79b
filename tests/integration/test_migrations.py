"""The migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine

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


BEFORE_SKUS, SKUS = "c0a18293e408", "d1b2c3a4e501"


def _alembic(url: str) -> Config:
    from tuoguan.cli.main import MIGRATIONS

    config = Config(str(MIGRATIONS.parent / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = url
    config.attributes["skip_logging"] = True
    return config


def _insert(conn: Connection, table: str, **values: object) -> None:
    """A row with the given values; every other required column gets a harmless filler."""
    from sqlalchemy import MetaData, Table, insert, types

    reflected = Table(table, MetaData(), autoload_with=conn)
    row = dict(values)
    for column in reflected.columns:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        kind = column.type
        if isinstance(kind, types.JSON):
            row[column.name] = {}
        elif isinstance(kind, types.Boolean):
            row[column.name] = True
        elif isinstance(kind, types.DateTime):
            row[column.name] = datetime(2026, 11, 1, tzinfo=UTC)
        elif isinstance(kind, types.Integer | types.Numeric):
            row[column.name] = 1
        else:
            row[column.name] = "x"
    conn.execute(insert(reflected), row)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_old_products_and_order_lines_get_their_one_sku(engine: str, tmp_path: Path) -> None:
    # C3, M5: products listed before SKUs sell as one SKU each, and each old order line names
    # the SKU of its product; the downgrade takes the SKUs away again and keeps the lines
    import json

    import psycopg
    from alembic import command
    from sqlalchemy import inspect, text

    from tests.conftest import PG_URL

    if engine == "sqlite":
        url = f"sqlite+pysqlite:///{tmp_path / 'old.db'}"
    elif PG_URL is None:
        pytest.skip("PostgreSQL is opt-in locally: set TUOGUAN_TEST_PG_URL")
    else:
        with psycopg.connect(PG_URL, autocommit=True) as admin:  # a schema of its own
            admin.execute("DROP SCHEMA IF EXISTS old_skus CASCADE")
            admin.execute("CREATE SCHEMA old_skus")
        url = sync_url(PG_URL) + "?options=-csearch_path%3Dold_skus"
    config = _alembic(url)
    command.upgrade(config, BEFORE_SKUS)
    engine_ = create_engine(url)
    made = {
        "prd_1": datetime(2026, 10, 1, 8, 30, tzinfo=UTC),
        "prd_2": datetime(2026, 10, 2, 9, 45, 12, tzinfo=UTC),
    }
    try:
        with engine_.begin() as conn:
            _insert(conn, "sellers", id="sel_1")
            _insert(conn, "stores", id="sto_1", seller_id="sel_1", linked_store_id=None)
            for product_id, at in made.items():
                _insert(
                    conn,
                    "products",
                    id=product_id,
                    store_id="sto_1",
                    weight_g=80,
                    created_at=at,
                    updated_at=at + timedelta(days=1),
                )
            _insert(conn, "orders", id="ord_1", store_id="sto_1", seller_id="sel_1")
            for line_id, product_id in (("oln_1", "prd_1"), ("oln_2", "prd_2"), ("oln_3", "prd_1")):
                _insert(conn, "order_lines", id=line_id, order_id="ord_1", product_id=product_id)

        command.upgrade(config, SKUS)
        with engine_.connect() as conn:
            skus = conn.execute(
                text(
                    "SELECT s.product_id, s.id, s.store_id, s.code, s.attributes, s.position, "
                    "s.active, s.version, s.created_at = p.created_at, "
                    "s.updated_at = p.updated_at FROM skus s JOIN products p ON p.id = s.product_id"
                )
            ).all()
            lines: dict[str, str] = {
                line_id: sku_id
                for line_id, sku_id in conn.execute(text("SELECT id, sku_id FROM order_lines"))
            }
        by_product = {row[0]: row for row in skus}
        assert len(skus) == len(by_product) == 2  # one each
        for product_id, sku_id, store_id, code, attributes, *rest in skus:
            assert sku_id.startswith("sku_") and len(sku_id) == 30
            assert (store_id, code) == ("sto_1", product_id)
            assert (json.loads(attributes) if isinstance(attributes, str) else attributes) == {}
            assert [int(value) for value in rest] == [0, 1, 1, 1, 1]  # position, active, ...
        assert lines == {
            "oln_1": by_product["prd_1"][1],
            "oln_2": by_product["prd_2"][1],
            "oln_3": by_product["prd_1"][1],
        }

        command.downgrade(config, BEFORE_SKUS)
        with engine_.connect() as conn:
            assert "skus" not in inspect(conn).get_table_names()
            columns = {c["name"] for c in inspect(conn).get_columns("order_lines")}
            kept = conn.execute(text("SELECT id FROM order_lines ORDER BY id")).scalars().all()
        assert "sku_id" not in columns and kept == ["oln_1", "oln_2", "oln_3"]
    finally:
        engine_.dispose()
        if PG_URL is not None and engine == "postgresql":
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                admin.execute("DROP SCHEMA old_skus CASCADE")

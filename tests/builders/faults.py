"""Faults injected at the lowest level there is: the database itself refusing a row."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

from tuoguan.db import sync_url


@contextmanager
def refusing(db_url: str, table: str, column: str, value: str) -> Iterator[None]:
    """The database itself refuses rows of ``table`` whose ``column`` is ``value`` (a trigger),
    until the block ends: a row no code path can write, on either engine."""
    engine = create_engine(sync_url(db_url))
    name = f"refuse_{table}"
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.execute(
                    text(
                        f"CREATE TRIGGER {name} BEFORE INSERT ON {table} "
                        f"WHEN NEW.{column} = '{value}' "
                        "BEGIN SELECT RAISE(ABORT, 'refused by the database'); END"
                    )
                )
            else:
                conn.execute(
                    text(
                        f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
                        f"IF NEW.{column} = '{value}' THEN "
                        "RAISE EXCEPTION 'refused by the database'; END IF; "
                        "RETURN NEW; END $$ LANGUAGE plpgsql"
                    )
                )
                conn.execute(
                    text(
                        f"CREATE TRIGGER {name} BEFORE INSERT ON {table} "
                        f"FOR EACH ROW EXECUTE FUNCTION {name}()"
                    )
                )
        yield
    finally:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
            else:
                conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
                conn.execute(text(f"DROP FUNCTION IF EXISTS {name}()"))
        engine.dispose()

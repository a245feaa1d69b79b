"""Keyset pages read straight off an index: seek past the cursor, never sort in SQL.

A list whose filter takes several values (statuses, a seller's stores) runs one
index-ordered query per value, each limited to the page plus one, and merges the
runs here: the database never sorts the union.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from tuoguan.kit.clock import as_utc
from tuoguan.kit.pagination import Part, decode_cursor, encode_cursor

T = TypeVar("T")


@dataclass(frozen=True)
class Keyset:
    """A sort key (the trailing columns of an index) and how it runs."""

    columns: tuple[InstrumentedAttribute[Any], ...]
    parts: tuple[Part, ...]
    descending: bool = False

    def order_by(self) -> list[ColumnElement[Any]]:
        """ORDER BY the key, every column the same way, so one index scan serves it."""
        return [c.desc() if self.descending else c.asc() for c in self.columns]

    def seek(self, cursor: str | None) -> ColumnElement[bool] | None:
        """Rows after the cursor, as one row-value comparison both engines seek with."""
        if not cursor:
            return None
        values = decode_cursor(cursor, self.parts)
        bound = tuple_(
            *(bindparam(None, v, type_=c.type) for c, v in zip(self.columns, values, strict=True))
        )
        key = tuple_(*self.columns)
        return key < bound if self.descending else key > bound

    def key(self, row: Any) -> tuple[Any, ...]:
        """The sort key of a loaded row."""
        values = (getattr(row, c.key) for c in self.columns)
        return tuple(as_utc(v) if isinstance(v, datetime) else v for v in values)

    def query(self, query: Select[T], cursor: str | None, limit: int) -> Select[T]:
        """One index range: the cursor's seek, the key's order, the page plus one."""
        after = self.seek(cursor)
        if after is not None:
            query = query.where(after)
        return query.order_by(*self.order_by()).limit(limit + 1)

    async def page(
        self,
        session: AsyncSession,
        queries: Sequence[Select[T]],
        *,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[T], str | None]:
        """A page merged from one or more index ranges, and the cursor of the next."""
        runs = [list(await session.scalars(self.query(q, cursor, limit))) for q in queries]
        merged = heapq.merge(*runs, key=self.key, reverse=self.descending)
        rows = list(islice(merged, limit + 1))
        if len(rows) <= limit:
            return rows, None
        rows = rows[:limit]
        return rows, encode_cursor(list(self.key(rows[-1])))

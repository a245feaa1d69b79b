"""Category rules looked up through a category's lineage (C2, S1)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.catalog.category_models import CategoryRule

EVERY_CATEGORY = "*"


def lineage(category: str) -> list[str]:
    """Where a category's rule is looked for, nearest first: itself, its parents, then ``*``."""
    parts = category.split("/")
    return ["/".join(parts[:n]) for n in range(len(parts), 0, -1)] + [EVERY_CATEGORY]


@dataclass(frozen=True)
class Requirements:
    """What a category requires, and the rule's category that said so (None: no rule)."""

    review_required: bool
    brand_authorisation_required: bool
    source: str | None


async def requirements(session: AsyncSession, categories: Iterable[str]) -> dict[str, Requirements]:
    """Each category's requirements from the nearest rule of its lineage."""
    wanted = {c: lineage(c) for c in set(categories)}
    names = {name for chain in wanted.values() for name in chain}
    rows = {
        r.category: r
        for r in await session.scalars(select(CategoryRule).where(CategoryRule.category.in_(names)))
    }
    found: dict[str, Requirements] = {}
    for category, chain in wanted.items():
        rule = next((rows[name] for name in chain if name in rows), None)
        found[category] = Requirements(
            review_required=bool(rule and rule.review_required),
            brand_authorisation_required=bool(rule and rule.brand_authorisation_required),
            source=rule.category if rule else None,
        )
    return found

"""Operators keep the category rules: which categories' listings wait for review (C2) and which
need a brand authorisation (S1); the caller commits. Sellers read them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.catalog.categories import Requirements, requirements
from tuoguan.catalog.category_models import CategoryRule
from tuoguan.catalog.review_schemas import CategoryRuleSet
from tuoguan.context import Ctx
from tuoguan.errors import Forbidden
from tuoguan.principal import Principal, Role

SUBJECT = "category_rule"


def _readers(principal: Principal) -> None:
    if principal.role not in (Role.operator, Role.seller):
        raise Forbidden("category rules are sellers' and operators'")


async def list_rules(session: AsyncSession, *, principal: Principal) -> list[CategoryRule]:
    """Every rule, by category (``*`` first)."""
    _readers(principal)
    return list(await session.scalars(select(CategoryRule).order_by(CategoryRule.category)))


async def rule_of(session: AsyncSession, *, principal: Principal, category: str) -> Requirements:
    """What a category requires, from the nearest rule of its lineage."""
    _readers(principal)
    return (await requirements(session, [category]))[category]


async def set_rule(
    session: AsyncSession, *, ctx: Ctx, category: str, data: CategoryRuleSet
) -> CategoryRule:
    """An operator sets a category's rule (created or changed); listings already on sale stay
    on sale, the rule applies to the next listing and submission."""
    if not ctx.principal.is_operator:
        raise Forbidden("only an operator sets category rules")
    now = ctx.clock.now()
    rule = await session.get(CategoryRule, category)
    before = None
    if rule is None:
        rule = CategoryRule(category=category)
        session.add(rule)
    else:
        before = {
            "review_required": rule.review_required,
            "brand_authorisation_required": rule.brand_authorisation_required,
        }
    rule.review_required = data.review_required
    rule.brand_authorisation_required = data.brand_authorisation_required
    rule.updated_at, rule.updated_by = now, ctx.principal.actor_id
    audit.record(
        session,
        ctx=ctx,
        subject_type=SUBJECT,
        subject_id=category[:40],  # the column's width; the data has it whole
        action="set" if before else "create",
        data={"category": category, "before": before, "after": data.model_dump()},
    )
    await session.flush()
    return rule

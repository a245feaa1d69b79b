"""Category rules (C2, S1): which categories' listings wait for review, which need a brand
authorisation. Operators set them; sellers read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, PrincipalDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.catalog import category_admin
from tuoguan.catalog.category_models import CategoryRule
from tuoguan.catalog.review_schemas import (
    CategoryRequirementsRead,
    CategoryRuleRead,
    CategoryRuleSet,
)
from tuoguan.principal import Role

router = APIRouter(tags=["category-rules"])

READERS = access.roles(Role.operator, Role.seller)
CategoryPath = Annotated[
    str,
    Path(
        pattern=r"^(\*|[a-z0-9][a-z0-9_\-/]{0,59})$",
        description="A category (``battery/power-bank``) or ``*`` (every category).",
    ),
]


@router.get("/category-rules", response_model=list[CategoryRuleRead], **READERS)
async def list_category_rules(
    principal: PrincipalDep, session: ReadSession
) -> list[CategoryRuleRead]:
    """Every category rule, by category. A category without one takes its nearest parent's
    (``a/b`` → ``a`` → ``*``)."""
    rows = await category_admin.list_rules(session, principal=principal)
    return [CategoryRuleRead.model_validate(row) for row in rows]


@router.get("/category-rules/{category:path}", response_model=CategoryRequirementsRead, **READERS)
async def get_category_rule(
    category: CategoryPath, principal: PrincipalDep, session: ReadSession
) -> CategoryRequirementsRead:
    """What a category requires, from the nearest rule of its lineage, and which rule said so."""
    found = await category_admin.rule_of(session, principal=principal, category=category)
    return CategoryRequirementsRead(
        category=category,
        review_required=found.review_required,
        brand_authorisation_required=found.brand_authorisation_required,
        source=found.source,
    )


@router.put(
    "/category-rules/{category:path}",
    response_model=CategoryRuleRead,
    **access.roles(Role.operator),
)
async def set_category_rule(
    category: CategoryPath, request: Request, ctx: CtxDep, body: CategoryRuleSet
) -> Response:
    """Set a category's rule (operators): review before listing (semi-managed and self-run;
    full-managed products are always reviewed), brand authorisation. Listings on sale stay;
    the rule applies to the next listing or submission."""

    async def render(_: AsyncSession, rule: CategoryRule) -> CategoryRuleRead:
        return CategoryRuleRead.model_validate(rule)

    return await run_mutation(
        request,
        ctx,
        lambda s: category_admin.set_rule(s, ctx=ctx, category=category, data=body),
        render,
    )

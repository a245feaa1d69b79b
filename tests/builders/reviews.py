"""Business-info review builders (S1): documents to upload, a seller's complete business info,
and an operator's decisions, all through the public API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.market import Market, as_system, auth
from tests.builders.money import read
from tuoguan.audit.models import Event
from tuoguan.catalog.category_models import CategoryRule
from tuoguan.context import Ctx
from tuoguan.demo.reviews import sample_pdf, sample_png

PDF = sample_pdf("Business licence")
PNG = sample_png()
ACCOUNT = "6222 0212 3456 7890"
FIELDS: dict[str, Any] = {
    "company_name": "深圳市悦声电子有限公司",
    "registration_number": "91440300MA5FXXXX1K",
    "legal_representative": "王小明",
    "registered_address": "深圳市南山区科技园南区 1 号",
    "contact_phone": "+86 755 8888 0000",
    "contact_email": "licence@example.com",
    "account_holder": "深圳市悦声电子有限公司",
    "bank_name": "招商银行深圳分行",
    "account_number": ACCOUNT,
    "categories": ["electronics/audio", "liquid/perfume"],
}
DOCUMENTS = {"licence": PDF, "legal_representative_id": PNG, "bank_proof": PDF}


def upload(
    m: Market,
    token: str,
    store_id: str,
    purpose: str,
    data: bytes,
    name: str = "document.pdf",
    *,
    category: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    form = {"purpose": purpose, **({"category": category} if category else {})}
    return m.client.post(
        f"/api/v1/stores/{store_id}/business-review/documents",
        data=form,
        files={"file": (name, data, "application/pdf")},
        headers={**auth(token), **(headers or {})},
    )


def put(m: Market, token: str, store_id: str, body: dict[str, Any]) -> Any:
    return m.client.put(
        f"/api/v1/stores/{store_id}/business-review", json=body, headers=auth(token)
    )


def perfume_rule(db_url: str) -> None:
    """The seeded rule that perfume needs a brand authorisation (the PostgreSQL tests empty
    every table, the migration's seeds too)."""

    async def work(session: AsyncSession, ctx: Ctx) -> None:
        await session.merge(
            CategoryRule(
                category="liquid/perfume",
                review_required=True,
                brand_authorisation_required=True,
                updated_at=datetime(2026, 11, 28, 18, tzinfo=UTC),
                updated_by="system",
            )
        )

    as_system(db_url, work)


def fill(m: Market, seller: str = "a", store_key: str | None = None) -> dict[str, Any]:
    """A seller's full-managed store with every field and document filled (not submitted)."""
    perfume_rule(m.db_url)
    token, store = m.seller_tokens[seller], m.stores[store_key or f"{seller}_full"]
    for purpose, data in DOCUMENTS.items():
        m.ok(upload(m, token, store, purpose, data, f"{purpose}.pdf"), 201)
    m.ok(put(m, token, store, FIELDS))
    m.ok(
        upload(m, token, store, "brand_authorisation", PDF, "brand.pdf", category="liquid/perfume"),
        201,
    )
    return dict(m.ok(m.get(f"/stores/{store}/business-review", token)))


def submit(m: Market, seller: str = "a") -> dict[str, Any]:
    token, store = m.seller_tokens[seller], m.stores[f"{seller}_full"]
    return dict(m.ok(m.post(f"/stores/{store}/business-review/submit", token)))


def decide(m: Market, review_id: str, stage: str, decision: str = "approve", **reasons: str) -> Any:
    body = {"stage": stage, "decision": decision, "reasons": reasons}
    return m.post(f"/business-reviews/{review_id}/decisions", m.operator, body)


def events(db_url: str, subject_id: str) -> list[tuple[str, str | None, dict[str, Any]]]:
    """The audit trail of an object: (action, actor role, data), oldest first."""

    async def work(session: AsyncSession) -> list[tuple[str, str | None, dict[str, Any]]]:
        rows = await session.scalars(
            select(Event).where(Event.subject_id == subject_id).order_by(Event.seq)
        )
        return [(e.action, e.actor_role, dict(e.data or {})) for e in rows]

    return read(db_url, work)

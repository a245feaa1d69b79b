"""The demo's business-info reviews (S1, S2): one full-managed store's review approved stage by
stage (its background and financial stages after a rejection and a correction), and, when a
store is still joining, its review waiting at the background stage for longer than the usual
three business days (the worker's sweep flags it). Documents are small generated PDFs and PNGs,
kept through the storage like any upload."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.kit.clock import Clock, FrozenClock
from tuoguan.onboarding import documents, review_decisions, review_reads, reviews
from tuoguan.onboarding.review_models import ReviewDecision, ReviewStage

FIELDS = {
    "company_name": "深圳市悦声电子有限公司",
    "registration_number": "91440300MA5F8K2X1K",
    "legal_representative": "王小明",
    "registered_address": "广东省深圳市南山区科技园南区高新南一道 8 号",
    "contact_phone": "+86 755 2660 8800",
    "contact_email": "zhaoshang@yuesheng.example",
    "account_holder": "深圳市悦声电子有限公司",
    "bank_name": "招商银行深圳科技园支行",
    "account_number": "755912345610801",
    "categories": ["electronics/audio", "liquid/perfume"],
}


def sample_pdf(title: str) -> bytes:
    """A one-page PDF with a title, as a scanned certificate would be sent."""
    from reportlab.lib.pagesizes import A6
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A6, invariant=True)
    page.setTitle(title)
    page.setFont("Helvetica-Bold", 12)
    page.drawString(24, 360, title)
    page.setFont("Helvetica", 8)
    page.drawString(24, 340, "tuoguan demo document - not a real certificate")
    page.rect(20, 20, 258, 300)
    page.showPage()
    page.save()
    return out.getvalue()


def sample_png(
    width: int = 48, height: int = 30, colour: tuple[int, int, int] = (192, 32, 48)
) -> bytes:
    """A small plain PNG (an identity card's photo, say)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    row = b"\x00" + bytes(colour) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def _at(ctx: Ctx, clock: Clock, ago: timedelta) -> Ctx:
    return replace(ctx, clock=FrozenClock(clock.now() - ago))


async def _fill(session: AsyncSession, seller: Ctx, store_id: str) -> None:
    storage = documents.storage_for(seller.settings)
    papers = {
        "licence": (sample_pdf("Business licence"), "营业执照.pdf"),
        "legal_representative_id": (sample_png(), "法定代表人身份证.png"),
        "bank_proof": (sample_pdf("Bank account proof"), "开户许可证.pdf"),
    }
    for purpose, (data, name) in papers.items():
        await reviews.attach(
            session,
            seller,
            storage=storage,
            settings=seller.settings,
            store_id=store_id,
            purpose=purpose,
            data=data,
            file_name=name,
        )
    await reviews.update(session, seller, store_id=store_id, changes=FIELDS)
    await reviews.attach(
        session,
        seller,
        storage=storage,
        settings=seller.settings,
        store_id=store_id,
        purpose="brand_authorisation",
        data=sample_pdf("Brand authorisation"),
        file_name="品牌授权书.pdf",
        category="liquid/perfume",
    )


async def business_reviews(
    session: AsyncSession,
    *,
    clock: Clock,
    operator: Ctx,
    approved: tuple[Ctx, str],
    joining: tuple[Ctx, str] | None = None,
) -> None:
    """``approved``: (the seller's ctx, its full-managed store) whose review is approved;
    ``joining``: (ctx, store) of a store still joining, whose review waits, stuck, at the
    background stage (submitted twelve days ago). Call before the worker's sweeps run."""
    seller, store_id = approved
    await _fill(session, _at(seller, clock, timedelta(days=12)), store_id)
    await reviews.submit(session, _at(seller, clock, timedelta(days=11)), store_id=store_id)
    review = await review_reads.of_store(session, store_id)
    assert review is not None
    review_id = review.id

    async def decide(days: float, stage: ReviewStage, decision: ReviewDecision, **why: str) -> None:
        await review_decisions.decide(
            session,
            _at(operator, clock, timedelta(days=days)),
            review_id=review_id,
            stage=stage,
            decision=decision,
            reasons=why,
        )

    await decide(10, ReviewStage.background, ReviewDecision.approve)
    await decide(
        9,
        ReviewStage.financial,
        ReviewDecision.reject,
        bank_proof="开户许可证照片模糊，请上传清晰的扫描件。",
    )
    later = _at(seller, clock, timedelta(days=8))
    await reviews.attach(
        session,
        later,
        storage=documents.storage_for(later.settings),
        settings=later.settings,
        store_id=store_id,
        purpose="bank_proof",
        data=sample_pdf("Bank account proof (rescanned)"),
        file_name="开户许可证-清晰.pdf",
    )
    await reviews.submit(session, later, store_id=store_id)
    await decide(7, ReviewStage.financial, ReviewDecision.approve)
    await decide(6, ReviewStage.categories, ReviewDecision.approve)
    if joining is not None:
        waiting, waiting_store = joining
        # Twelve days: past three business days whatever holidays the platform's calendar has.
        await _fill(session, _at(waiting, clock, timedelta(days=13)), waiting_store)
        await reviews.submit(
            session, _at(waiting, clock, timedelta(days=12)), store_id=waiting_store
        )

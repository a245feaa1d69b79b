"""The demo's exit (S4, S5): exit terms with fees, and a full-managed store whose application to
leave waits for the operators' review, with its paper, so the exit pages, the queue and the
application's page have something to show."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.demo.reviews import sample_pdf
from tuoguan.exits import service as exits
from tuoguan.exits import terms as exit_terms
from tuoguan.exits.schemas import ExitApply, ExitTermsCreate
from tuoguan.onboarding import documents

# The fees per currency (minor units): store management fee, refund handling fee (S5).
FEES = {"CNY": (50_000, 10_000), "USD": (8_000, 1_500)}
REASON = "专注经营自有店铺，退出全托管 / focusing on our own store: leaving full-managed"


async def exit_terms_with_fees(session: AsyncSession, operator: Ctx) -> None:
    """A version of the exit terms in force now for CNY and USD, with fees (the migration's
    seeds charge nothing), reviewed within 3 business days."""
    for currency, (management, refund) in FEES.items():
        await exit_terms.create_terms(
            session,
            ctx=operator,
            data=ExitTermsCreate(
                currency=currency,
                management_fee_minor=management,
                refund_fee_minor=refund,
                review_days=3,
                note="演示：店铺管理费与退款手续费 / demo: store management and refund fees",
            ),
        )


async def exit_waiting(session: AsyncSession, *, seller: Ctx, store_id: str) -> str:
    """The seller of ``store_id`` (a full-managed store with nothing in the way: no unfinished
    order, no open case, its debts covered by its deposit) applies to leave with one paper,
    having acknowledged the fees in force; the application waits for the operators' review.
    Returns the exit's id. A store with something in the way is refused by the service (409
    naming the rule): pick another, or finish its orders first."""
    paper = await documents.upload(
        session,
        ctx=seller,
        storage=documents.storage_for(seller.settings),
        settings=seller.settings,
        store_id=store_id,
        purpose=exits.PURPOSE,
        data=sample_pdf("Exit application / 退出全托管申请"),
        file_name="退出全托管申请.pdf",
    )
    row = await exits.apply(
        session,
        seller,
        store_id=store_id,
        data=ExitApply(reason=REASON, document_ids=[paper.id], fees_acknowledged=True),
    )
    await session.flush()
    return row.id

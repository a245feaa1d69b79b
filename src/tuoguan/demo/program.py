"""The demo's full-managed program (M2, M4): the agreement published a month ago, the demo's two
full-managed stores opened then on their sellers' behalf (joined at once) with their sellers'
acceptances, and a third seller invited lately, which accepted: its full-managed store is
joining, the agreement accepted and the deposit paid, its business information still to be
reviewed (the checklist on /console/program shows what is left)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.kit.clock import FrozenClock
from tuoguan.onboarding import agreements, invitations, joining
from tuoguan.onboarding.origin import LOCAL
from tuoguan.onboarding.schemas import AgreementCreate, InvitationCreate
from tuoguan.settlement import deposit_funding, deposit_rates
from tuoguan.stores.models import Store
from tuoguan.stores.schemas import StoreCreate

# Why the demo's first full-managed stores were opened directly: they joined before invitations.
ON_BEHALF = "首批全托管商家，线下签约后由平台代为开通"
AGREEMENT = AgreementCreate(
    label="2026版",
    title_zh="全托管合作协议",
    title_en="Full-managed programme agreement",
    body_zh=(
        "第一条 合作模式\n平台负责店铺运营、定价、仓储与配送；商家负责供货并保证商品质量。\n\n"
        "第二条 备货\n商家在 24 小时内确认备货单，并按入库单将货品送至平台优选仓。\n\n"
        "第三条 保证金\n商家入驻时缴纳保证金，退出时按规则退还。\n\n"
        "第四条 售后\n入驻后三个月内，买家退款由平台承担。"
    ),
    body_en=(
        "Article 1. How we work together\nThe platform runs the store, sets the prices, keeps "
        "the stock and ships; the seller supplies the goods and answers for their quality.\n\n"
        "Article 2. Supply orders\nThe seller confirms a supply order within 24 hours and "
        "sends the goods to the platform's warehouse under an inbound notice.\n\n"
        "Article 3. Deposit\nThe seller pays a deposit when joining; it is refunded on exit "
        "under the refund rules.\n\n"
        "Article 4. After-sales\nFor three months after joining, buyer refunds are the "
        "platform's."
    ),
)


def _at(ctx: Ctx, ago: timedelta) -> Ctx:
    """The same principal, ``ago`` before ``ctx``'s now."""
    return replace(ctx, clock=FrozenClock(ctx.clock.now() - ago))


async def publish_agreement(session: AsyncSession, operator: Ctx) -> str:
    """The agreement, published a month ago (before the demo's oldest order); its id."""
    version = await agreements.publish(
        session, ctx=_at(operator, timedelta(days=30, minutes=5)), data=AGREEMENT
    )
    return version.id


async def open_full_managed(
    session: AsyncSession, operator: Ctx, seller: Ctx, data: StoreCreate, agreement_id: str
) -> Store:
    """A full-managed store opened a month ago on the seller's behalf, joined at once, and the
    seller's acceptance of the agreement."""
    store = await invitations.open_store(
        session,
        ctx=operator,
        data=data.model_copy(update={"on_behalf_reason": ON_BEHALF}),
        origin=LOCAL,
    )
    await agreements.accept(
        session, ctx=replace(seller, clock=operator.clock), version_id=agreement_id, origin=LOCAL
    )
    return store


async def invited_and_joining(
    session: AsyncSession, operator: Ctx, seller: Ctx, linked: Store, agreement_id: str
) -> Store:
    """The seller invited five days ago, accepted four days ago, accepted the agreement and paid
    its deposit: its full-managed store waits for its business-info review."""
    invitation = await invitations.invite(
        session,
        ctx=_at(operator, timedelta(days=5)),
        data=InvitationCreate(
            seller_id=linked.seller_id,
            store_id=linked.id,
            message=(
                "诚邀贵司加入全托管：平台负责运营、仓储与配送，您只需供货。"
                "We invite you to the full-managed programme: we run the store, you supply."
            ),
            store_name=f"{linked.name} · 全托管",
            currency="USD",
            country="CN",
        ),
    )
    accepted = await invitations.accept(
        session, ctx=_at(seller, timedelta(days=4)), invitation_id=invitation.id, origin=LOCAL
    )
    assert accepted.full_managed_store_id is not None
    await agreements.accept(
        session, ctx=_at(seller, timedelta(days=4)), version_id=agreement_id, origin=LOCAL
    )
    store = await session.get(Store, accepted.full_managed_store_id)
    assert store is not None
    paid = _at(operator, timedelta(days=2))
    required = await deposit_rates.required(session, store, paid.clock.now())
    if required.amount_minor:
        await deposit_funding.fund(
            session,
            paid,
            store_id=store.id,
            amount_minor=required.amount_minor,
            currency=store.currency,
            reference="DEMO-DEPOSIT-IBERIA",
        )
        await joining.try_join(session, ctx=paid, store_id=store.id)
    return store

"""An operator's decision on a business-info review's stage (S1): approve moves it to the next
stage (after the categories, the review is approved and the store may join), reject returns it
to the seller with a reason per field or document. Never commits; the audit event and the
seller's notification are written in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, IllegalTransition, InvalidInput
from tuoguan.kit import i18n
from tuoguan.notify import service as notify
from tuoguan.onboarding import joining, review_reads, reviews
from tuoguan.onboarding import review_fields as spec
from tuoguan.onboarding.review_models import (
    BusinessReview,
    ReviewDecision,
    ReviewStage,
    ReviewStatus,
)
from tuoguan.stores.models import Store

S = ReviewStatus


def _reasons(
    stage: ReviewStage,
    decision: ReviewDecision,
    given: Mapping[str, str],
    allowed: list[str],
) -> dict[str, str]:
    """The reasons of a decision, blank boxes dropped, in the stage's field order; refused as
    the decision says (see ``decide``)."""
    reasons = {name: text.strip() for name, text in given.items() if text and text.strip()}
    if decision is ReviewDecision.approve:
        if reasons:
            raise InvalidInput(
                "an approval carries no reasons: clear them, or reject",
                field="reasons",
                rule="reasons_on_approval",
            )
        return {}
    if not reasons:
        raise InvalidInput(
            "a rejection says, per field or document, what the seller must correct",
            field="reasons",
            rule="reasons_required",
        )
    for name, text in reasons.items():
        if name not in allowed:
            raise InvalidInput(
                f"{name} is not a field of the {stage.value} stage ({', '.join(allowed)})",
                field=f"reasons.{name}",
                rule="reason_field",
                allowed=allowed,
            )
        if len(text) > 500:
            raise InvalidInput(
                "a reason is at most 500 characters", field=f"reasons.{name}", rule="max_length"
            )
    return {name: reasons[name] for name in allowed if name in reasons}


def reason_lines(reasons: Mapping[str, str]) -> dict[str, Any]:
    """The reasons as one message parameter: "field: reason; ..." in the reader's language."""
    lines: list[tuple[str, Mapping[str, Any]]] = []
    for name, text in reasons.items():
        field = i18n.label(spec.field_key(name))
        if name.startswith(spec.BRAND + "."):
            category = name.split(".", 1)[1]
            lines.append(
                ("brv_reason_line_brand", {"field": field, "category": category, "reason": text})
            )
        else:
            lines.append(("brv_reason_line", {"field": field, "reason": text}))
    return i18n.listing(lines)


async def decide(
    session: AsyncSession,
    ctx: Ctx,
    *,
    review_id: str,
    stage: ReviewStage,
    decision: ReviewDecision,
    reasons: Mapping[str, str] | None = None,
) -> BusinessReview:
    """S1: an operator decides the stage under review. Refused, with nothing written: another
    role (403), a review not under review (409 ``illegal_transition``), another stage than the
    one under review (409 ``stage_not_current``), a rejection without reasons (422
    ``reasons_required``), a reason for a field of another stage (422 ``reason_field``), an
    approval with reasons (422 ``reasons_on_approval``)."""
    if ctx.principal.role not in reviews.DECIDERS:
        raise Forbidden("only an operator decides a business review")
    review = await review_reads.get_review(session, principal=ctx.principal, review_id=review_id)
    await session.refresh(review, with_for_update=True)
    if review.status is not S.under_review:
        raise IllegalTransition(
            current=review.status.value,
            action=decision.value,
            allowed=[],
            subject="business review",
        )
    assert review.stage is not None
    if stage is not review.stage:
        raise Conflict(
            f"the review is at the {review.stage.value} stage, not {stage.value}",
            field="stage",
            rule="stage_not_current",
            current_stage=review.stage.value,
        )
    categories = list(review.fields.get("categories") or [])
    needed = await review_reads.brand_needed(session, categories)
    allowed = spec.stage_field_names(stage, categories, needed)
    kept = _reasons(stage, decision, reasons or {}, allowed)
    now = ctx.clock.now()
    entered = review.stage_entered_at or now
    record = {
        "stage": stage.value,
        "decision": decision.value,
        "reasons": kept,
        "decided_by": ctx.principal.actor_id,
        "decided_at": now.isoformat(),
        "waited_seconds": int((now - entered).total_seconds()),
    }
    current = await reviews.current_round(session, review)
    assert current is not None
    current.decisions = [*current.decisions, record]
    store = await session.get(Store, review.store_id)
    assert store is not None
    before = review.status
    following = spec.next_stage(stage) if decision is ReviewDecision.approve else None
    params: dict[str, Any] = {"store": store.name, "stage": i18n.label(spec.stage_key(stage))}
    if decision is ReviewDecision.reject:
        review.status, review.rejected = S.returned, kept
        review.stage_entered_at, review.stuck_after, review.flagged_at = now, None, None
        kind, key, action = "brv_rejected", i18n.N_("brv_note_rejected"), "reject_stage"
        params["reasons"] = reason_lines(kept)
    elif following is not None:
        review.stage = following
        reviews.enter_stage(review, now, ctx.settings)
        kind, key, action = (
            "brv_stage_approved",
            i18n.N_("brv_note_stage_approved"),
            "approve_stage",
        )
        params["next"] = i18n.label(spec.stage_key(following))
    else:
        review.status, review.stage, review.approved_at = S.approved, None, now
        review.stuck_after, review.flagged_at = None, None
        kind, key, action = "brv_approved", i18n.N_("brv_note_approved"), "approve"
    review.updated_at = now
    audit.record(
        session,
        ctx=ctx,
        subject_type=reviews.SUBJECT,
        subject_id=review.id,
        store_id=store.id,
        action=action,
        from_state=before.value,
        to_state=review.status.value,
        reason="; ".join(f"{k}: {v}" for k, v in kept.items()) or None,
        data={"stage": stage.value, "round": review.round_no, "reasons": kept},
    )
    notify.notify(
        session,
        ctx=ctx,
        seller_id=review.seller_id,
        kind=kind,
        subject_type=reviews.SUBJECT,
        subject_id=review.id,
        key=key,
        params=params,
        data={
            "stage": stage.value,
            "decision": decision.value,
            "reasons": kept,
            "status": review.status.value,
            "store_id": store.id,
        },
    )
    await session.flush()
    if review.status is S.approved:
        await joining.try_join(session, ctx=ctx, store_id=store.id)
    return review

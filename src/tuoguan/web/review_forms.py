"""What the business-review pages share (S1, S2): who may read them, the words beside a refused
field, and each stage's fields as rows (their value or document, whether they may change now,
why they were rejected)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from tuoguan.accounts.models import User, WebSession
from tuoguan.errors import DomainError, Forbidden
from tuoguan.kit.i18n import N_, file_size
from tuoguan.onboarding import review_fields as spec
from tuoguan.onboarding.review_models import ReviewStage, ReviewStatus
from tuoguan.onboarding.review_schemas import BusinessReviewRead, DocumentRead
from tuoguan.principal import Role
from tuoguan.web.console import _current, _to_login, request_language
from tuoguan.web.forms import FORM, Errors, Refused, errors_of
from tuoguan.web.stock_pages import error_page, say

# What the service refuses, by rule, as the words beside the field.
_REFUSALS = {
    "document_type": N_("brv_err_document_type"),
    "document_max_bytes": N_("brv_err_document_max_bytes"),
    "document_not_empty": N_("brv_err_document_not_empty"),
    "document_unknown": N_("brv_err_document_unknown"),
    "document_purpose": N_("brv_err_document_unknown"),
    "stage_approved": N_("brv_err_stage_approved"),
    "field_not_rejected": N_("brv_err_field_not_rejected"),
    "incomplete": N_("brv_err_incomplete"),
    "email_format": N_("brv_err_email_format"),
    "phone_format": N_("brv_err_phone_format"),
    "account_number_format": N_("brv_err_account_number_format"),
    "category_format": N_("brv_err_category_format"),
    "max_categories": N_("brv_err_max_categories"),
    "category_not_listed": N_("brv_err_category_not_listed"),
    "required": N_("brv_err_required"),
    "max_length": N_("brv_err_max_length"),
    "illegal_transition": N_("brv_err_not_editable"),
    "full_managed_only": N_("brv_err_full_managed_only"),
    "reasons_required": N_("brv_err_reasons_required"),
    "reason_field": N_("brv_err_reason_field"),
    "reasons_on_approval": N_("brv_err_reasons_on_approval"),
    "stage_not_current": N_("brv_err_stage_not_current"),
}


def seconds(count: int | None) -> timedelta:
    return timedelta(seconds=int(count or 0))


def megabytes(request: Request, size: int) -> str:
    return file_size(size, request_language(request))


def refusal_errors(request: Request, exc: Refused, *, decided: bool = False) -> Errors:
    """A refusal's words beside its field (reason boxes are ``reason-<field>``)."""
    if isinstance(exc, DomainError):
        rule = str(exc.extra.get("rule") or exc.code)
        key = _REFUSALS.get(rule)
        if rule == "illegal_transition" and decided:
            key = N_("brv_err_decided")
        if key is not None:
            field = exc.field or FORM
            if field.startswith("reasons."):
                field = "reason-" + field.removeprefix("reasons.")
            elif field in ("reasons", "stage", "store_id") or rule == "incomplete":
                field = FORM
            size = int(exc.extra.get("max_bytes") or request.app.state.settings.document_max_bytes)
            return {
                field: say(request, key, max=megabytes(request, size), count=spec.MAX_CATEGORIES)
            }
    return errors_of(request, exc)


async def whoami(request: Request) -> tuple[User, WebSession] | Response:
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    if user.role not in (Role.seller, Role.operator):
        refused = Forbidden("business reviews are sellers' and operators'")
        return error_page(request, user, web_session.csrf_token, refused)
    return current


@dataclass(frozen=True)
class Row:
    """One field as a page shows it: its words, value or document, whether it may change now,
    and why it was rejected."""

    name: str
    label: str
    kind: str
    value: Any
    document: DocumentRead | None
    editable: bool
    reason: str | None
    category: str | None = None


def _editable(view: BusinessReviewRead, name: str) -> bool:
    status = view.status
    if status not in (ReviewStatus.draft, ReviewStatus.returned):
        return False
    try:
        spec.may_change(name, status=status, stage=view.stage, rejected=view.rejected)
    except DomainError:
        return False
    return True


def stage_rows(
    view: BusinessReviewRead, fields: Mapping[str, Any]
) -> list[tuple[ReviewStage, list[Row]]]:
    """Each stage's fields as rows, in the form's order."""
    docs = {d.id: d for d in view.documents}
    flat = spec.flat(fields)
    categories = list(fields.get("categories") or [])
    found = []
    for stage in spec.STAGES:
        rows = []
        for name in spec.stage_field_names(stage, categories, view.brand_authorisation_required):
            kind = (spec.spec(name) or spec.BY_NAME["company_name"]).kind
            value = flat.get(name)
            rows.append(
                Row(
                    name=name,
                    label=spec.field_key(name),
                    kind=kind,
                    value=spec.shown(name, value),
                    document=docs.get(str(value)) if kind == spec.DOCUMENT and value else None,
                    editable=_editable(view, name),
                    reason=view.rejected.get(name),
                    category=name.split(".", 1)[1] if name.startswith(spec.BRAND + ".") else None,
                )
            )
        found.append((stage, rows))
    return found

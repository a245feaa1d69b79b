"""What the exit pages (``exit_pages``, ``exit_review_pages``) share: who may see them, the
words of what stands in the way, and a refusal said beside the field it concerns."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from tuoguan.accounts.models import User, WebSession
from tuoguan.errors import DomainError, Forbidden
from tuoguan.kit.i18n import N_
from tuoguan.principal import Role
from tuoguan.settlement import deposit_checks
from tuoguan.web.console import _current, _to_login
from tuoguan.web.forms import FORM, Errors, Refused, errors_of
from tuoguan.web.stock_pages import error_page, say

# Words of a rule that stands in the way, by rule ({count}).
RULE_WORDS = {
    deposit_checks.NO_UNFINISHED_ORDERS: N_("exit_rule_no_unfinished_orders"),
    deposit_checks.NO_OPEN_CASES: N_("exit_rule_no_open_cases"),
    deposit_checks.NO_UNPAID_DEBT: N_("exit_rule_no_unpaid_debt"),
}
# What a blocker's item is, by its kind (a debt's kind is its ledger entry's: entry_kind_*).
ITEM_WORDS = {
    "order": N_("exit_item_order"),
    "penalty": N_("exit_item_penalty"),
    "insurance_claim": N_("exit_item_claim"),
    "receiving_exception": N_("exit_item_receiving_exception"),
    "dispute": N_("exit_item_dispute"),
    "after_sale": N_("exit_item_after_sale"),
}
# What the service refuses, by rule: (the form field it concerns, the words beside it).
REFUSALS = {
    deposit_checks.NO_UNFINISHED_ORDERS: (FORM, N_("exit_err_blocked")),
    deposit_checks.NO_OPEN_CASES: (FORM, N_("exit_err_blocked")),
    deposit_checks.NO_UNPAID_DEBT: (FORM, N_("exit_err_unpaid")),
    "one_open_application": (FORM, N_("exit_err_one_open")),
    "store_active": (FORM, N_("exit_err_store_active")),
    "full_managed_only": (FORM, N_("exit_err_store_active")),
    "exit_terms_in_force": (FORM, N_("exit_err_no_terms")),
    "fees_acknowledged": ("fees_acknowledged", N_("exit_err_acknowledge")),
    "exit_document": ("files", N_("exit_err_document")),
    "known_document": ("files", N_("exit_err_document")),
    "document_type": ("files", N_("exit_err_document_type")),
    "document_max_bytes": ("files", N_("exit_err_document_size")),
    "document_not_empty": ("files", N_("exit_err_document_empty")),
    "return_address_required": ("address", N_("exit_err_return_address")),
    "payout_account_bound": (FORM, N_("exit_err_payout_account")),
    "payout_account_currency": (FORM, N_("exit_err_payout_account")),
    "confirm_required": ("confirm", N_("exit_err_confirm")),
    "store_exited": (FORM, N_("exit_err_state")),
    "payouts_pending": (FORM, N_("exit_err_payouts_pending")),
    "money_left": (FORM, N_("exit_err_money_left")),
    "store_closed": (FORM, N_("exit_err_store_closed")),
    "illegal_transition": (FORM, N_("exit_err_state")),
    "reason_required": ("reasons", N_("err_reason_required")),
    "not_past": ("effective_from", N_("err_effective_not_past")),
    "after_previous": ("effective_from", N_("err_effective_after_previous")),
    "within_horizon": ("effective_from", N_("err_effective_format")),
    "money": ("fees", N_("exit_err_fee")),
    "decimals": ("fees", N_("exit_err_fee")),
}
# What a form's schema refuses, by field.
KEYS = {
    "reason": N_("exit_err_reason"),
    "fees_acknowledged": N_("exit_err_acknowledge"),
    "stock": N_("exit_err_stock"),
    "return_address": N_("exit_err_return_address"),
    "reasons": N_("err_reason_required"),
    "currency": N_("err_deposit_currency"),
    "management_fee_minor": N_("exit_err_fee"),
    "refund_fee_minor": N_("exit_err_fee"),
    "review_days": N_("exit_err_review_days"),
    "effective_from": N_("err_effective_format"),
    "note": N_("err_note_long"),
}


def _place(path: str) -> str:
    """The form field a schema's or a service's field is shown beside."""
    name = path.split(".")[0]
    if name == "return_address":
        return "address"
    if name in ("management_fee_minor", "refund_fee_minor"):
        return "fees"
    return name if name in KEYS else FORM


def refusal_errors(request: Request, exc: Refused) -> Errors:
    """A refusal's words beside its field: the service's by rule, the schema's by field."""
    if isinstance(exc, DomainError):
        rule = str(exc.extra.get("rule") or exc.code)
        if rule in REFUSALS:
            field, key = REFUSALS[rule]
            return {field: say(request, key)}
    if isinstance(exc, DomainError) and exc.field and exc.field.startswith("return_address"):
        return {"address": say(request, KEYS["return_address"])}
    return errors_of(request, exc, place=_place, keys=KEYS)


async def whoami(request: Request) -> tuple[User, WebSession] | Response:
    """The signed-in seller or operator; anyone else gets the error page, no one the login."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    if user.role not in (Role.seller, Role.operator):
        refused = Forbidden("exits are sellers' and operators'")
        return error_page(request, user, web_session.csrf_token, refused)
    return current

"""What a console form refused, said beside the field it concerns, in the reader's language.

A page's handler tries its work; whatever refuses it (the page's own check, the schema, the
service) becomes ``Errors``: words by form field, ``FORM`` for the form as a whole. Templates
show them with the macros of ``_form.html``. Never the exception's English text nor Pydantic's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from pydantic import ValidationError

from tuoguan.errors import DomainError
from tuoguan.kit.i18n import N_
from tuoguan.web.stock_pages import refusal, say

FORM = ""  # the form as a whole, not one of its fields
Errors = dict[str, str]


class FormProblem(ValueError):
    """A form the page refuses before any service sees it: the message key that says why and
    the field it concerns."""

    def __init__(self, key: str, field: str = FORM, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.field = field
        self.params = params


# What refuses a form: the page's own check, the schema, the service.
REFUSED = (ValidationError, FormProblem, DomainError)
Refused = ValidationError | FormProblem | DomainError


def whole(text: str | None, key: str, field: str) -> int:
    """A whole number typed into ``field``; else the problem ``key`` beside it."""
    try:
        return int((text or "").strip())
    except ValueError:
        raise FormProblem(key, field) from None


def local_start(text: str | None, zone: str) -> datetime | None:
    """A version's start typed into ``effective_from``: blank for now; a date and time without
    a zone is read in ``zone``; else the problem beside the field."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise FormProblem(N_("err_effective_format"), "effective_from") from None
    return at if at.tzinfo else at.replace(tzinfo=ZoneInfo(zone))


def status_of(exc: Refused) -> int:
    """The HTTP status of a refused form: the service's, else 422."""
    return exc.http_status if isinstance(exc, DomainError) else 422


def _anywhere(path: str) -> str:
    return FORM


def errors_of(
    request: Request,
    exc: Refused,
    *,
    place: Callable[[str], str] = _anywhere,
    keys: Mapping[str, str] | None = None,
    **params: Any,
) -> Errors:
    """The words of a refusal by the form field they concern.

    ``place`` turns a field of the schema or the service ("lines.0.quantity") into the form's
    ("line-3-qty"); ``keys`` says a schema field's problem ("quantity" -> "err_quantity");
    ``params`` fill the message's placeholders ({code}).
    """
    if isinstance(exc, FormProblem):
        return {exc.field: say(request, exc.key, **{**params, **exc.params})}
    if isinstance(exc, ValidationError):
        for error in exc.errors():
            parts = [str(p) for p in error["loc"]]
            key = next((keys[p] for p in reversed(parts) if keys and p in keys), None)
            if key is not None:
                return {place(".".join(parts)): say(request, key, **params)}
        return {FORM: say(request, "err_form")}
    return {place(exc.field or ""): refusal(request, exc, **params)}


def line_rows(
    form: Mapping[str, str], *, rows: int, ticked: bool = False
) -> list[tuple[int, str, int]]:
    """The SKU lines of a form as (row, SKU, quantity): rows ``line-{i}-sku`` and
    ``line-{i}-qty``, only those ticked (``line-{i}-pick``) when the form has boxes. A SKU
    without a whole quantity is a problem beside that row's quantity."""
    lines = []
    for i in range(rows):
        sku = form.get(f"line-{i}-sku", "").strip()
        if not sku or (ticked and not form.get(f"line-{i}-pick")):
            continue
        lines.append((i, sku, whole(form.get(f"line-{i}-qty"), "err_quantity", f"line-{i}-qty")))
    if not lines:
        raise FormProblem("err_no_lines", "lines")
    return lines


# A notice's field (schema or service) that was refused, as the words that explain it.
NOTICE_KEYS = {
    "lines": "err_no_lines",
    "quantity": "err_quantity",
    "sku_id": "err_store_sku",
    "cartons": "err_cartons",
    "tracking_number": "err_tracking",
    "carrier_name": "err_carrier_required",
    "warehouse_id": "err_pick_warehouse",
}
_LINE_PARTS = {"quantity": "qty", "sku_id": "sku"}


def notice_errors(request: Request, exc: Refused, rows: list[int]) -> Errors:
    """The problems of a form that makes an inbound notice (a new notice, accepted restock
    suggestions), beside the form's fields: a line's by its row (``rows[i]`` is the form row of
    the notice's line ``i``)."""

    def place(path: str) -> str:
        parts = path.split(".")
        if parts[0] == "lines" and len(parts) >= 3 and parts[1].isdigit():
            i = int(parts[1])
            row = rows[i] if i < len(rows) else i
            return f"line-{row}-{_LINE_PARTS.get(parts[2], 'qty')}"
        return parts[0] if parts[0] in NOTICE_KEYS else FORM

    return errors_of(request, exc, place=place, keys=NOTICE_KEYS)

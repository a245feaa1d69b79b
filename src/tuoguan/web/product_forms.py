"""The product forms of the console (C1, C2): what a person typed read into the service's
shapes (money as people type it, attributes as ``colour=red; size=M``, one image address a
line), and every refusal said beside the field it concerns, in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request

from tuoguan.catalog.models import Product
from tuoguan.errors import DomainError
from tuoguan.kit.i18n import N_
from tuoguan.kit.money import major_text, minor_digits, parse_major
from tuoguan.web.forms import FORM, Errors, FormProblem, Refused, errors_of, whole
from tuoguan.web.stock_pages import say

# How many blank SKU rows a form offers (a product has more through the API).
NEW_ROWS = 2
# Product values a form shows, in order (the SKUs follow).
FIELDS = (
    "name",
    "description",
    "images",
    "category",
    "declared_value_minor",
    "weight_g",
    "length_mm",
    "width_mm",
    "height_mm",
)
# A form field for each service or schema field.
_FORM_FIELD = {
    "price_minor": "price",
    "supply_price_minor": "supply_price",
    "declared_value_minor": "declared_value",
    "retail_price_minor": "approve-price",
}
# What the service refuses, by rule: (the form field, the words beside it).
REFUSALS = {
    "reviewed_fields": (FORM, N_("prd_err_reviewed_fields")),
    "review_pending": (FORM, N_("prd_err_review_pending")),
    "product_rejected": (FORM, N_("prd_err_rejected")),
    "price_required": ("price", N_("prd_err_price_required")),
    "supply_price_required": ("supply_price", N_("prd_err_supply_required")),
    "retail_price_required": ("approve-price", N_("prd_err_retail_required")),
    "reasons_required": ("reject-", N_("prd_err_reasons_required")),
    "already_approved": (FORM, N_("prd_err_already_approved")),
    "review_not_required": (FORM, N_("prd_err_review_not_required")),
    "not_approved": (FORM, N_("prd_err_not_approved")),
    "no_changes": (FORM, N_("prd_err_no_changes")),
    "category_needs_review": ("category", N_("prd_err_category_needs_review")),
    "code_unique": ("skus", N_("prd_err_code_taken")),
    "barcode_unique": ("skus", N_("prd_err_barcode_taken")),
    "attributes_distinct": ("skus", N_("prd_err_attributes_distinct")),
    "on_sale_keeps_price": (FORM, N_("prd_err_keeps_price")),
    "one_active_sku": ("skus", N_("prd_err_one_active_sku")),
    "illegal_transition": (FORM, N_("prd_err_state")),
    "money": (FORM, N_("prd_err_money")),
    "decimals": (FORM, N_("prd_err_money")),
}
# What a form's schema refuses, by field, as the words beside it.
KEYS = {
    "name": N_("prd_err_name"),
    "description": N_("prd_err_description"),
    "images": N_("prd_err_images"),
    "category": N_("prd_err_category_code"),
    "declared_value_minor": N_("prd_err_money"),
    "price_minor": N_("prd_err_money"),
    "supply_price_minor": N_("prd_err_money"),
    "weight_g": N_("prd_err_grams"),
    "length_mm": N_("prd_err_mm"),
    "width_mm": N_("prd_err_mm"),
    "height_mm": N_("prd_err_mm"),
    "code": N_("prd_err_sku_code"),
    "attributes": N_("prd_err_attributes"),
    "barcode": N_("prd_err_barcode"),
    "skus": N_("prd_err_sku_code"),
    "new_skus": N_("prd_err_sku_code"),
    "reason": N_("prd_err_reason"),
    "reasons": N_("prd_err_reason"),
    "note": N_("prd_err_note"),
    "review_required": N_("err_form"),
}


def place(path: str) -> str:
    """The form field a service or schema field is shown beside."""
    name = path.split(".")[0]
    if name in ("skus", "new_skus"):
        return "skus"
    if name in _FORM_FIELD:
        return _FORM_FIELD[name]
    return name if name in (*FIELDS, "reason", "note", "category") else FORM


def refusal_errors(request: Request, exc: Refused, *, prefix: str = "") -> Errors:
    """A refusal's words beside its field: the service's by rule, the schema's by field."""
    if isinstance(exc, DomainError):
        rule = str(exc.extra.get("rule") or exc.code)
        if rule in REFUSALS:
            field, key = REFUSALS[rule]
            if rule in ("money", "decimals") and exc.field:
                field = place(exc.field)
            return {prefix + field if field else prefix: say(request, key)}
    found = errors_of(request, exc, place=place, keys=KEYS)
    return {prefix + name: text for name, text in found.items()}


def money_in(text: str | None, currency: str, field: str, *, required: bool = False) -> int | None:
    """An amount typed as people type it ("19.99"); blank is none unless required."""
    if not (text or "").strip():
        if required:
            raise FormProblem(N_("prd_err_money"), field)
        return None
    try:
        return parse_major(text or "", currency, field=field)
    except DomainError as exc:
        if exc.extra.get("rule") == "decimals":
            raise FormProblem(
                N_("err_rule_decimals"), field, currency=currency, digits=minor_digits(currency)
            ) from None
        raise FormProblem(N_("prd_err_money"), field) from None


def money_out(minor: int | None, currency: str) -> str:
    """An amount as the form shows it to edit ("19.99"); blank for none."""
    return "" if minor is None else major_text(minor, currency)


def attributes_in(text: str | None, field: str) -> dict[str, str]:
    """``colour=red; size=M`` (or with ：，；) as the attribute pairs."""
    pairs: dict[str, str] = {}
    for part in (text or "").replace("；", ";").replace("，", ";").replace(",", ";").split(";"):
        if not part.strip():
            continue
        name, sep, value = part.replace("：", "=").replace(":", "=").partition("=")
        if not sep or not name.strip() or not value.strip():
            raise FormProblem(N_("prd_err_attributes"), field)
        pairs[name.strip()] = value.strip()
    return pairs


def attributes_out(attributes: Mapping[str, str] | None) -> str:
    """The attribute pairs as the form shows them."""
    return "; ".join(f"{k}={v}" for k, v in (attributes or {}).items())


def number_in(text: str | None, field: str) -> int:
    """A whole number typed into a field (grams, millimetres)."""
    return whole(text, N_("prd_err_grams") if field == "weight_g" else N_("prd_err_mm"), field)


def values_in(form: Mapping[str, str], currency: str) -> dict[str, Any]:
    """The product values typed into the form, as the service's fields."""
    return {
        "name": form.get("name", ""),
        "description": form.get("description", ""),
        "images": [line.strip() for line in form.get("images", "").splitlines() if line.strip()],
        "category": form.get("category", "").strip().lower(),
        "declared_value_minor": money_in(
            form.get("declared_value"), currency, "declared_value", required=True
        ),
        "weight_g": number_in(form.get("weight_g"), "weight_g"),
        "length_mm": number_in(form.get("length_mm"), "length_mm"),
        "width_mm": number_in(form.get("width_mm"), "width_mm"),
        "height_mm": number_in(form.get("height_mm"), "height_mm"),
    }


def form_of(product: Product) -> dict[str, str]:
    """The product's values as the edit form shows them."""
    shown = {
        "name": product.name,
        "description": product.description,
        "images": "\n".join(product.images),
        "category": product.category,
        "declared_value": money_out(product.declared_value_minor, product.currency),
        "weight_g": str(product.weight_g),
        "length_mm": str(product.length_mm),
        "width_mm": str(product.width_mm),
        "height_mm": str(product.height_mm),
        "price": money_out(product.price_minor, product.currency),
        "supply_price": money_out(product.supply_price_minor, product.currency),
    }
    for index, sku in enumerate(product.skus):
        shown[f"sku-{index}-attrs"] = attributes_out(sku.attributes)
        shown[f"sku-{index}-supply"] = money_out(sku.supply_price_minor, product.currency)
    return shown


def new_rows(form: Mapping[str, str], currency: str, *, supply: bool) -> list[dict[str, Any]]:
    """The blank SKU rows filled in: code, attributes, supply price (full-managed)."""
    rows = []
    for index in range(NEW_ROWS):
        code = form.get(f"new-{index}-code", "").strip()
        if not code:
            continue
        row: dict[str, Any] = {
            "code": code,
            "attributes": attributes_in(form.get(f"new-{index}-attrs"), "skus"),
        }
        if supply:
            row["supply_price_minor"] = money_in(form.get(f"new-{index}-supply"), currency, "skus")
        rows.append(row)
    return rows


def sku_changes(product: Product, form: Mapping[str, str], *, supply: bool) -> list[dict[str, Any]]:
    """The SKUs the form changes: their id and the changed attributes and supply price."""
    found = []
    for index, sku in enumerate(product.skus):
        change: dict[str, Any] = {}
        if f"sku-{index}-attrs" in form:
            attributes = attributes_in(form.get(f"sku-{index}-attrs"), "skus")
            if attributes != sku.attributes:
                change["attributes"] = attributes
        if supply and f"sku-{index}-supply" in form:
            price = money_in(form.get(f"sku-{index}-supply"), product.currency, "skus")
            if price != sku.supply_price_minor:
                change["supply_price_minor"] = price
        if change:
            found.append({"id": sku.id, **change})
    return found

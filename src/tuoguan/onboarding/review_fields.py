"""What a seller fills in for the business-info review, stage by stage (S1), as pure data.

The fields are kept as one JSON object on the review (``BusinessReview.fields``); documents by
their id, the categories as a list, and the brand authorisations as {category: document id}.
Reasons, changes and refusals name fields flat: ``company_name``, ``licence`` ...,
``brand_authorisations.liquid/perfume`` for one category's brand authorisation.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from tuoguan.errors import InvalidInput
from tuoguan.onboarding.review_models import ReviewStage, ReviewStatus
from tuoguan.settlement.payout_accounts import account_number
from tuoguan.settlement.schemas import mask

STAGES = tuple(ReviewStage)
TEXT, EMAIL, PHONE, ACCOUNT, DOCUMENT, CATEGORIES = (
    "text",
    "email",
    "phone",
    "account_number",
    "document",
    "categories",
)
BRAND = "brand_authorisations"
BRAND_PURPOSE = "brand_authorisation"
MAX_CATEGORIES = 30
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,200}\.[^@\s.]{2,}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")
_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9_\-/]{0,59}$")


@dataclass(frozen=True)
class FieldSpec:
    """One field: its stage, what it holds, its longest text, the purpose of its document."""

    name: str
    stage: ReviewStage
    kind: str = TEXT
    max_length: int = 200

    @property
    def purpose(self) -> str:
        """The purpose a document must have been uploaded with to fill this field."""
        return BRAND_PURPOSE if self.name.startswith(BRAND + ".") else self.name


B, F, C = ReviewStage.background, ReviewStage.financial, ReviewStage.categories
SPECS = (
    FieldSpec("company_name", B),  # 公司名称
    FieldSpec("registration_number", B, max_length=60),  # 统一社会信用代码 / 注册号
    FieldSpec("licence", B, DOCUMENT),  # 营业执照
    FieldSpec("legal_representative", B, max_length=100),  # 法定代表人
    FieldSpec("legal_representative_id", B, DOCUMENT),  # 法定代表人身份证件
    FieldSpec("registered_address", B, max_length=300),  # 注册地址
    FieldSpec("contact_phone", B, PHONE, max_length=20),
    FieldSpec("contact_email", B, EMAIL, max_length=254),
    FieldSpec("account_holder", F),  # 开户名
    FieldSpec("bank_name", F),  # 开户银行
    FieldSpec("account_number", F, ACCOUNT, max_length=64),  # 银行账号 (shown masked)
    FieldSpec("bank_proof", F, DOCUMENT),  # 开户证明
    FieldSpec("categories", C, CATEGORIES),  # 经营类目
)
BY_NAME = {spec.name: spec for spec in SPECS}
DOCUMENT_PURPOSES = (*(s.name for s in SPECS if s.kind == DOCUMENT), BRAND_PURPOSE)


def brand_field(category: str) -> str:
    """The flat name of a category's brand authorisation."""
    return f"{BRAND}.{category}"


def spec(name: str) -> FieldSpec | None:
    """The field a flat name names (a brand authorisation's for any category), or None."""
    if name.startswith(BRAND + "."):
        category = name[len(BRAND) + 1 :]
        return FieldSpec(name, C, DOCUMENT) if _CATEGORY.fullmatch(category) else None
    return BY_NAME.get(name)


def stage_index(stage: ReviewStage) -> int:
    return STAGES.index(stage)


def next_stage(stage: ReviewStage) -> ReviewStage | None:
    """The stage after ``stage``, or None after the last."""
    i = stage_index(stage) + 1
    return STAGES[i] if i < len(STAGES) else None


def flat(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields by flat name (brand authorisations one per category), only those filled."""
    found = {spec.name: fields[spec.name] for spec in SPECS if fields.get(spec.name)}
    for category, document_id in sorted((fields.get(BRAND) or {}).items()):
        if document_id:
            found[brand_field(category)] = document_id
    return found


def stage_field_names(
    stage: ReviewStage, categories: Collection[str], needs_brand: Collection[str]
) -> list[str]:
    """The fields an operator decides at ``stage``: the stage's own, and at the categories stage
    a brand authorisation for each listed category that requires one."""
    names = [spec.name for spec in SPECS if spec.stage is stage]
    if stage is C:
        names += [brand_field(c) for c in categories if c in needs_brand]
    return names


def missing(fields: Mapping[str, Any], needs_brand: Collection[str]) -> list[str]:
    """The fields a submission still lacks, in the form's order."""
    have = flat(fields)
    categories = list(fields.get("categories") or [])
    wanted = [
        name for stage in STAGES for name in stage_field_names(stage, categories, needs_brand)
    ]
    return [name for name in wanted if not have.get(name)]


def _text(name: str, value: Any, longest: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} is text, not empty", field=name, rule="required")
    text = value.strip()
    if len(text) > longest:
        raise InvalidInput(f"{name} is at most {longest} characters", field=name, rule="max_length")
    if "\x00" in text:
        raise InvalidInput(f"{name} may not contain NUL characters", field=name, rule="text")
    return text


def normalise(name: str, value: Any) -> Any:
    """A field's value as it is kept (trimmed, checked); 422 naming the field otherwise.
    Documents are checked against the database by the caller (``reviews.py``)."""
    found = spec(name)
    if found is None:
        raise InvalidInput(f"the business info has no field {name!r}", field=name, rule="unknown")
    if found.kind == CATEGORIES:
        items = value if isinstance(value, list) else None
        if not items:
            raise InvalidInput("list at least one category", field=name, rule="required")
        chosen: list[str] = []
        for item in items:
            category = item.strip().lower() if isinstance(item, str) else ""
            if not _CATEGORY.fullmatch(category):
                raise InvalidInput(
                    f"{item!r} is not a category (e.g. liquid/perfume)",
                    field=name,
                    rule="category_format",
                )
            if category not in chosen:
                chosen.append(category)
        if len(chosen) > MAX_CATEGORIES:
            raise InvalidInput(
                f"at most {MAX_CATEGORIES} categories", field=name, rule="max_categories"
            )
        return chosen
    text = _text(name, value, found.max_length)
    if found.kind == EMAIL and not _EMAIL.fullmatch(text):
        raise InvalidInput("this is not an e-mail address", field=name, rule="email_format")
    if found.kind == PHONE and not _PHONE.fullmatch(text):
        raise InvalidInput(
            "a phone number is digits, spaces and dashes, + first for a country code",
            field=name,
            rule="phone_format",
        )
    if found.kind == ACCOUNT:
        return account_number(text)
    return text


def may_change(
    name: str,
    *,
    status: ReviewStatus,
    stage: ReviewStage | None,
    rejected: Mapping[str, str],
) -> None:
    """Whether the seller may change field ``name`` now; 422 ``stage_approved`` (its stage was
    approved) or ``field_not_rejected`` (a returned review changes only its rejected fields)."""
    if status is ReviewStatus.draft:
        return
    found = spec(name)
    if found is None or stage is None:
        raise InvalidInput(f"{name} cannot change now", field=name, rule="field_not_rejected")
    if stage_index(found.stage) < stage_index(stage):
        raise InvalidInput(
            f"{name} belongs to the {found.stage.value} stage, which was approved: it cannot "
            "change",
            field=name,
            rule="stage_approved",
            stage=found.stage.value,
        )
    # A new list of categories brings its own brand authorisations with it.
    dragged = name.startswith(BRAND + ".") and "categories" in rejected
    if name not in rejected and not dragged:
        raise InvalidInput(
            f"{name} was not rejected: a returned review changes only the fields the "
            f"operator rejected ({', '.join(sorted(rejected)) or 'none'})",
            field=name,
            rule="field_not_rejected",
            rejected=sorted(rejected),
        )


def shown(name: str, value: Any) -> Any:
    """A value as people (and the API) read it: the account number masked."""
    if name == "account_number" and isinstance(value, str):
        return mask(value)
    return value


def stage_key(stage: ReviewStage) -> str:
    """The catalog key of a stage's name."""
    return f"brv_stage_{stage.value}"


def field_key(name: str) -> str:
    """The catalog key of a field's name (every brand authorisation reads alike)."""
    return "brv_field_brand_authorisation" if name.startswith(BRAND + ".") else f"brv_field_{name}"

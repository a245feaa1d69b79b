"""Every number and boolean in a request body is strict (issue 10).

JSON ``true``, ``"1"`` and ``1.0`` are not the whole number 1, nor ``1`` or
``"yes"`` a boolean. This walks the validation schema of every input model (the
``Strict`` models and what they nest), so a field added later without
``strict=True`` fails here; tests/api/test_bad_input.py shows the refusals
through the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pydantic

import tuoguan.api.app
import tuoguan.cli.main
import tuoguan.web.console  # noqa: F401 - imports every model the entry points take
import tuoguan.web.export_pages  # noqa: F401
import tuoguan.web.order_pages  # noqa: F401
from tuoguan.stores.schemas import Strict


def _input_models() -> list[type[Strict]]:
    found: list[type[Strict]] = []
    pending = list(Strict.__subclasses__())
    while pending:
        model = pending.pop()
        found.append(model)
        pending.extend(model.__subclasses__())
    return sorted(found, key=lambda m: (m.__module__, m.__qualname__))


def _lax(node: Any, path: str) -> Iterator[str]:
    """Paths (model.field...) of number and boolean schemas that are not strict."""
    if isinstance(node, list):
        for item in node:
            yield from _lax(item, path)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind in ("int", "float", "bool") and not node.get("strict"):
        yield f"{path}: {kind}"
    if kind == "literal" and any(
        isinstance(value, int | float) for value in node.get("expected", ())
    ):
        yield f"{path}: a Literal of numbers cannot be strict; use a bounded int"
    if kind == "model-fields":
        for name, field in node["fields"].items():
            yield from _lax(field, f"{path}.{name}")
        return
    for key, value in node.items():
        if key not in ("metadata", "serialization", "ref"):
            yield from _lax(value, path)


def test_there_are_input_models_to_check() -> None:
    names = {m.__name__ for m in _input_models()}
    assert {"OrderCreate", "LineCreate", "ParcelIn", "WebhookCreate", "ClaimCreate"} <= names


def test_every_number_and_boolean_in_a_request_body_is_strict() -> None:
    lax = [
        hit
        for model in _input_models()
        for hit in _lax(model.__pydantic_core_schema__, model.__qualname__)
    ]
    assert lax == [], "\n".join(dict.fromkeys(lax))


def test_a_strict_number_refuses_true_text_and_fractions() -> None:
    from tuoguan.orders.schemas import LineCreate

    for bad in (True, "1", 1.0, 1.5):
        try:
            LineCreate.model_validate({"product_id": "prd_1", "quantity": bad})
        except pydantic.ValidationError as exc:
            assert exc.errors()[0]["loc"] == ("quantity",)
        else:
            raise AssertionError(f"quantity {bad!r} was accepted")
    assert LineCreate.model_validate({"product_id": "prd_1", "quantity": 2}).quantity == 2

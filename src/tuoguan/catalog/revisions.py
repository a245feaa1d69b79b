"""A product's reviewed values as data: the snapshot a revision holds, a proposal laid over it,
what it changes, and applying it to the product (C2). No database here."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tuoguan.catalog.locks import REVIEWED_FIELDS, SKU_REVIEWED_FIELDS, SUPPLY
from tuoguan.catalog.models import Product, Sku
from tuoguan.kit.ids import new_id

Values = dict[str, Any]
# The reviewed values of a SKU, beside its id and code (``active`` is shown, never applied: a
# seller takes a variant off sale without review).
SKU_VALUES = (*SKU_REVIEWED_FIELDS, SUPPLY)
PRODUCT_VALUES = (*REVIEWED_FIELDS, SUPPLY)


def sku_snapshot(sku: Sku) -> Values:
    """One SKU's reviewed values."""
    values: Values = {"id": sku.id, "code": sku.code}
    values.update({name: copy.deepcopy(getattr(sku, name)) for name in SKU_VALUES})
    values["active"] = sku.active
    return values


def snapshot(product: Product) -> Values:
    """The product's reviewed values now, its SKUs in order."""
    values: Values = {name: copy.deepcopy(getattr(product, name)) for name in PRODUCT_VALUES}
    values["skus"] = [sku_snapshot(sku) for sku in product.skus]
    return values


def overlay(
    base: Values,
    changes: Mapping[str, Any],
    sku_changes: Sequence[Mapping[str, Any]],
    new_skus: Sequence[Mapping[str, Any]],
) -> Values:
    """``base`` with the proposed changes: product fields, SKUs by id, new SKUs appended (id
    None until approval gives them one)."""
    proposed = copy.deepcopy(base)
    proposed.update({name: copy.deepcopy(value) for name, value in changes.items()})
    by_id = {sku["id"]: sku for sku in proposed["skus"]}
    for change in sku_changes:
        target = by_id[change["id"]]
        target.update({k: copy.deepcopy(v) for k, v in change.items() if k != "id"})
    for spec in new_skus:
        values: Values = {"id": None, "code": spec["code"], "active": True}
        values.update({name: copy.deepcopy(spec.get(name)) for name in SKU_VALUES})
        if values["attributes"] is None:
            values["attributes"] = {}
        proposed["skus"].append(values)
    return proposed


def _sku_key(sku: Mapping[str, Any]) -> Values:
    return {name: sku.get(name) for name in ("id", "code", *SKU_VALUES)}


def changed(base: Values | None, proposed: Values) -> list[str]:
    """The fields whose proposed value differs from the base ("skus" for any SKU's); every
    field with a value when nothing was approved before."""
    if base is None:
        return [name for name in PRODUCT_VALUES if proposed.get(name) not in (None, "", [])] + [
            "skus"
        ]
    found = [name for name in PRODUCT_VALUES if base.get(name) != proposed.get(name)]
    if [_sku_key(s) for s in base["skus"]] != [_sku_key(s) for s in proposed["skus"]]:
        found.append("skus")
    return found


def supply_missing(proposed: Values) -> int | None:
    """Full-managed: the index of the first SKU on sale with no supply price of its own nor the
    product's (None: every one has one)."""
    if proposed.get(SUPPLY) is not None:
        return None
    for index, sku in enumerate(proposed["skus"]):
        if sku.get("active", True) and sku.get(SUPPLY) is None:
            return index
    return None


def apply(product: Product, proposed: Values, now: datetime) -> list[Sku]:
    """Set the product's reviewed values to the proposed ones; the new SKUs added (returned).

    A SKU the proposal names that the product no longer has is skipped (none is ever deleted).
    """
    for name in PRODUCT_VALUES:
        if getattr(product, name) != proposed[name]:
            setattr(product, name, copy.deepcopy(proposed[name]))
    by_id = {sku.id: sku for sku in product.skus}
    position = max((sku.position for sku in product.skus), default=-1)
    added: list[Sku] = []
    for spec in proposed["skus"]:
        sku = by_id.get(spec["id"]) if spec["id"] else None
        if spec["id"] and sku is None:
            continue
        if sku is None:
            position += 1
            sku = Sku(
                id=new_id("sku"),
                product_id=product.id,
                store_id=product.store_id,
                position=position,
                code=spec["code"],
                active=True,
                created_at=now,
                updated_at=now,
                version=1,
            )
            for name in SKU_VALUES:
                setattr(sku, name, copy.deepcopy(spec.get(name)))
            product.skus.append(sku)
            added.append(sku)
            continue
        touched = False
        for name in SKU_VALUES:
            if getattr(sku, name) != spec.get(name):
                setattr(sku, name, copy.deepcopy(spec.get(name)))
                touched = True
        if touched:
            sku.updated_at = now
    product.updated_at = now
    return added

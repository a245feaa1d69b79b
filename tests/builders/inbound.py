"""Builders for inbound notices (ASN) and receiving: made through the API, as each role would."""

from __future__ import annotations

import itertools
from typing import Any

from tests.builders.market import Market, auth, issue_token
from tests.builders.stock import make_warehouse, sku_of
from tuoguan.principal import Role

_numbers = itertools.count(1)
# The smallest files each image type is recognised by (its first bytes), and one that is not.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64


def tracking() -> str:
    return f"SF{next(_numbers):010d}"


def add_sku(
    m: Market, store_key: str, code: str, barcode: str | None = None, **attributes: str
) -> str:
    """Another SKU of the store's seeded product (C3), by its seller; its id."""
    body: dict[str, Any] = {"code": code, "attributes": attributes or {"colour": code.lower()}}
    if barcode is not None:
        body["barcode"] = barcode
    seller = "a" if store_key.startswith("a_") else "b"
    product = m.products[store_key]
    token = m.seller_tokens[seller]
    if not store_key.endswith("_full"):
        return str(m.ok(m.post(f"/products/{product}/skus", token, body), 201)["id"])
    # C1, C2: an approved full-managed product gains a SKU through a reviewed revision.
    revision = m.ok(m.post(f"/products/{product}/revisions", token, {"new_skus": [body]}), 201)
    decision = f"/products/{product}/revisions/{revision['id']}/decision"
    m.ok(m.post(decision, m.operator, {"decision": "approve"}))
    skus = m.ok(m.get(f"/products/{product}/skus", token))
    return str(next(sku["id"] for sku in skus if sku["code"] == code))


def edit_sku(m: Market, store_key: str, sku_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """A change to one SKU of the store's seeded product by its seller, through a reviewed
    revision for an approved full-managed product (C1, C2); the SKU as its seller reads it."""
    seller = "a" if store_key.startswith("a_") else "b"
    product = m.products[store_key]
    token = m.seller_tokens[seller]
    if not store_key.endswith("_full"):
        return dict(
            m.ok(
                m.client.patch(
                    f"/api/v1/products/{product}/skus/{sku_id}", json=changes, headers=auth(token)
                )
            )
        )
    body = {"skus": [{"id": sku_id, **changes}]}
    revision = m.ok(m.post(f"/products/{product}/revisions", token, body), 201)
    decision = f"/products/{product}/revisions/{revision['id']}/decision"
    m.ok(m.post(decision, m.operator, {"decision": "approve"}))
    skus = m.ok(m.get(f"/products/{product}/skus", token))
    return dict(next(sku for sku in skus if sku["id"] == sku_id))


def notice_body(
    m: Market,
    warehouse_id: str,
    lines: list[tuple[str, int]],
    *,
    store_key: str = "a_full",
    cartons: int = 2,
    carrier: str | None = "SF Express",
    tracking_number: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "store_id": m.stores[store_key],
        "warehouse_id": warehouse_id,
        "lines": [{"sku_id": sku, "quantity": n} for sku, n in lines],
        "cartons": cartons,
        **extra,
    }
    if carrier is not None:
        body["carrier_name"] = carrier
        body["tracking_number"] = tracking_number or tracking()
    return body


def draft(
    m: Market, warehouse_id: str, lines: list[tuple[str, int]], **fields: Any
) -> dict[str, Any]:
    """A draft notice of seller a's full-managed store (unless told otherwise)."""
    seller = fields.pop("token", m.seller_tokens["a"])
    return dict(
        m.ok(m.post("/inbound-notices", seller, notice_body(m, warehouse_id, lines, **fields)), 201)
    )


def sent(
    m: Market, warehouse_id: str, lines: list[tuple[str, int]], **fields: Any
) -> dict[str, Any]:
    """A notice sent: in transit, its units announced in the warehouse's inbound stock."""
    seller = fields.get("token", m.seller_tokens["a"])
    notice = draft(m, warehouse_id, lines, **fields)
    return dict(m.ok(m.post(f"/inbound-notices/{notice['id']}/send", seller)))


def staff(m: Market, *warehouse_ids: str) -> str:
    """A warehouse staff token for these warehouses."""
    return issue_token(m.db_url, Role.warehouse, warehouse_ids=list(warehouse_ids))


def receiving_setup(m: Market, quantity: int = 10) -> tuple[str, str, str]:
    """A platform warehouse, its staff and seller a's full-managed SKU: (warehouse, staff, SKU)."""
    warehouse = make_warehouse(m)
    return warehouse["id"], staff(m, warehouse["id"]), sku_of(m, "a_full")


def count(
    m: Market, token: str, notice_id: str, *counts: dict[str, Any], key: str | None = None
) -> Any:
    """POST counts; the raw response."""
    headers = {"Idempotency-Key": key} if key else {}
    return m.post(
        f"/inbound-notices/{notice_id}/counts", token, {"counts": list(counts)}, headers=headers
    )


def stock(m: Market, warehouse_id: str, sku_id: str) -> dict[str, int]:
    """The (warehouse, SKU) balance as an operator reads it; zeros when there is none."""
    rows = m.ok(
        m.get("/stock", m.operator, params={"warehouse_id": warehouse_id, "sku_id": sku_id})
    )
    if not rows:
        return {"on_hand": 0, "reserved": 0, "available": 0, "defective": 0, "inbound": 0}
    (row,) = rows
    return {k: row[k] for k in ("on_hand", "reserved", "available", "defective", "inbound")}

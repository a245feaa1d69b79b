"""SKUs (规格) through the HTTP API: a product's variants, and order lines that name them."""

from __future__ import annotations

from typing import Any

from tests.builders.market import ADDRESS, Market
from tests.builders.shipping import add_product

RED_M = {"code": "TEE-RED-M", "attributes": {"colour": "red", "size": "M"}, "barcode": "6901"}
BLUE_L = {
    "code": "TEE-BLUE-L",
    "attributes": {"colour": "blue", "size": "L"},
    "barcode": "6902",
    "weight_g": 95,
}


def _order(m: Market, store_key: str, *lines: dict[str, Any]) -> Any:
    body = {
        "store_id": m.stores[store_key],
        "currency": "EUR" if store_key.endswith("semi") else "USD",
        "address": ADDRESS,
        "lines": list(lines),
    }
    return m.post("/orders", m.channel, body)


def _refused(response: Any, status: int, field: str, rule: str) -> None:
    assert response.status_code == status, response.text
    problem = response.json()
    assert (problem["field"], problem["rule"]) == (field, rule), problem


def test_a_product_listed_without_skus_sells_as_its_one_default_sku(market: Market) -> None:
    # C3: given a product listed without SKUs (as every product before SKUs)
    m = market
    product_id = m.products["a_self"]
    seller = m.seller_tokens["a"]

    # then it has one SKU, coded by the product's id, without attributes
    (sku,) = m.ok(m.get(f"/products/{product_id}/skus", seller))
    assert (sku["code"], sku["attributes"], sku["position"], sku["active"]) == (
        product_id,
        {},
        0,
        True,
    )
    assert sku["barcode"] is None and sku["weight_g"] is None  # the product's apply
    assert m.ok(m.get(f"/products/{product_id}", seller))["skus"] == [sku]

    # and an order may leave the SKU out: the line names it
    order = m.place("a_self")
    (line,) = order["lines"]
    assert (line["sku_id"], line["attributes"]) == (sku["id"], {})
    explicit = m.ok(
        _order(m, "a_self", {"product_id": product_id, "sku_id": sku["id"], "quantity": 1}), 201
    )
    assert explicit["lines"][0]["sku_id"] == sku["id"]


def test_a_product_with_several_skus_sells_the_one_each_line_names(market: Market) -> None:
    # C3: given a T-shirt in two variants
    m = market
    seller = m.seller_tokens["a"]
    tee = add_product(m, "a_self", name="T-shirt", category="apparel/tee", skus=[RED_M, BLUE_L])
    red, blue = m.ok(m.get(f"/products/{tee}/skus", seller))
    assert [red["code"], blue["code"]] == ["TEE-RED-M", "TEE-BLUE-L"]
    assert [red["position"], blue["position"]] == [0, 1]
    assert (blue["weight_g"], blue["barcode"], red["weight_g"]) == (95, "6902", None)

    # when an order leaves the SKU out, it is refused: the buyer must choose
    _refused(
        _order(
            m,
            "a_self",
            {"product_id": m.products["a_self"], "quantity": 1},
            {"product_id": tee, "quantity": 1},
        ),
        422,
        "lines.1.sku_id",
        "sku_required",
    )
    # a SKU of another product, or one that does not exist, is refused too
    (other,) = m.ok(m.get(f"/products/{m.products['a_self']}/skus", seller))
    for wrong in (other["id"], "sku_nope"):
        _refused(
            _order(m, "a_self", {"product_id": tee, "sku_id": wrong, "quantity": 1}),
            422,
            "lines.0.sku_id",
            "sku_of_product",
        )

    # then a line that names its SKU keeps it, shown with its attributes to staff and buyer
    placed = m.ok(
        _order(m, "a_self", {"product_id": tee, "sku_id": blue["id"], "quantity": 2}), 201
    )
    for token in (m.operator, seller, m.channel):
        (line,) = m.ok(m.get(f"/orders/{placed['id']}", token))["lines"]
        assert (line["sku_id"], line["attributes"]) == (blue["id"], {"colour": "blue", "size": "L"})
        assert line["quantity"] == 2
    listed = m.ok(m.get("/orders", m.operator, params={"store_id": m.stores["a_self"]}))["items"]
    assert next(o for o in listed if o["id"] == placed["id"])["lines"][0]["sku_id"] == blue["id"]

    # when the blue one is taken off sale it cannot be bought; the red one is then the only
    # one on sale, so a line may leave it out again
    off = m.client.patch(
        f"/api/v1/products/{tee}/skus/{blue['id']}",
        json={"active": False},
        headers={"Authorization": f"Bearer {seller}"},
    )
    assert m.ok(off)["active"] is False
    _refused(
        _order(m, "a_self", {"product_id": tee, "sku_id": blue["id"], "quantity": 1}),
        422,
        "lines.0.sku_id",
        "sku_active",
    )
    again = m.ok(_order(m, "a_self", {"product_id": tee, "quantity": 1}), 201)
    assert again["lines"][0]["sku_id"] == red["id"]
    # and the last SKU on sale stays on sale: the product is delisted instead
    last = m.client.patch(
        f"/api/v1/products/{tee}/skus/{red['id']}",
        json={"active": False},
        headers={"Authorization": f"Bearer {seller}"},
    )
    _refused(last, 422, "active", "one_active_sku")


def test_a_seller_adds_and_changes_skus_of_its_own_products(market: Market) -> None:
    # C3: the seller adds a variant and changes it; each change is the SKU's next version
    m = market
    seller = m.seller_tokens["a"]
    product_id = m.products["a_semi"]
    added = m.ok(m.post(f"/products/{product_id}/skus", seller, {**RED_M, "length_mm": 120}), 201)
    assert (added["position"], added["length_mm"], added["version"]) == (1, 120, 1)
    changed = m.ok(
        m.client.patch(
            f"/api/v1/products/{product_id}/skus/{added['id']}",
            json={"attributes": {"colour": "crimson"}, "barcode": None, "length_mm": None},
            headers={"Authorization": f"Bearer {seller}"},
        )
    )
    assert (changed["attributes"], changed["barcode"], changed["length_mm"]) == (
        {"colour": "crimson"},
        None,
        None,
    )
    assert changed["version"] == 2 and changed["code"] == "TEE-RED-M"
    assert [s["id"] for s in m.ok(m.get(f"/products/{product_id}/skus", m.operator))][1] == (
        added["id"]
    )
    # an operator may add one too
    m.ok(
        m.post(
            f"/products/{product_id}/skus",
            m.operator,
            {"code": "OP-1", "attributes": {"size": "XL"}},
        ),
        201,
    )
    # C1: a supply price only in full-managed stores
    _refused(
        m.post(f"/products/{product_id}/skus", seller, {"code": "S-2", "supply_price_minor": 5}),
        422,
        "supply_price_minor",
        "full_managed_only",
    )


def test_codes_and_barcodes_are_unique_in_the_store_and_a_refusal_writes_nothing(
    market: Market,
) -> None:
    # C3: a code or barcode is one SKU's in a store
    m = market
    seller = m.seller_tokens["a"]
    tee = add_product(m, "a_self", name="T-shirt", category="apparel/tee", skus=[RED_M, BLUE_L])
    before = m.ok(m.get("/products", seller, params={"store_id": m.stores["a_self"]}))
    body = {
        "store_id": m.stores["a_self"],
        "name": "Hoodie",
        "category": "apparel/hoodie",
        "declared_value_minor": 3000,
        "price_minor": 3000,
        "weight_g": 400,
        "length_mm": 300,
        "width_mm": 250,
        "height_mm": 50,
    }

    # repeated in one request: 422; held by another SKU of the store: 409
    twice = [{"code": "H-1"}, {"code": "H-1", "attributes": {"size": "L"}}]
    _refused(
        m.post("/products", seller, {**body, "skus": twice}), 422, "skus.1.code", "code_unique"
    )
    same_barcode = [{"code": "H-1", "barcode": "77"}, {"code": "H-2", "barcode": "77"}]
    _refused(
        m.post("/products", seller, {**body, "skus": same_barcode}),
        422,
        "skus.1.barcode",
        "barcode_unique",
    )
    taken_code = [{"code": "H-1"}, {"code": "TEE-BLUE-L", "attributes": {"size": "L"}}]
    _refused(
        m.post("/products", seller, {**body, "skus": taken_code}), 409, "skus.1.code", "code_unique"
    )
    taken_barcode = [{"code": "H-1", "barcode": "6901"}]
    _refused(
        m.post("/products", seller, {**body, "skus": taken_barcode}),
        409,
        "skus.0.barcode",
        "barcode_unique",
    )
    same_attributes = [{"code": "H-1"}, {"code": "H-2"}]
    _refused(
        m.post("/products", seller, {**body, "skus": same_attributes}),
        422,
        "skus.1.attributes",
        "attributes_distinct",
    )
    _refused(
        m.post(f"/products/{tee}/skus", seller, {"code": "NEW", "barcode": "6901"}),
        409,
        "barcode",
        "barcode_unique",
    )
    _refused(
        m.post(f"/products/{tee}/skus", seller, {"code": "TEE-RED-M", "attributes": {"a": "b"}}),
        409,
        "code",
        "code_unique",
    )
    red, blue = m.ok(m.get(f"/products/{tee}/skus", seller))
    clash = m.client.patch(
        f"/api/v1/products/{tee}/skus/{blue['id']}",
        json={"barcode": "6901"},
        headers={"Authorization": f"Bearer {seller}"},
    )
    _refused(clash, 409, "barcode", "barcode_unique")
    # attributes: at most 10 pairs of short, non-empty names and values
    for attributes in ({str(n): "x" for n in range(11)}, {"": "red"}, {"colour": " "}):
        bad = m.post(f"/products/{tee}/skus", seller, {"code": "NEW", "attributes": attributes})
        assert bad.status_code == 422, bad.text

    # then nothing was written
    assert m.ok(m.get("/products", seller, params={"store_id": m.stores["a_self"]})) == before
    assert m.ok(m.get(f"/products/{tee}/skus", seller)) == [red, blue]
    # while another store may use the same code and barcode
    m.ok(
        m.post(
            "/products",
            seller,
            {**body, "store_id": m.stores["a_semi"], "price_minor": 10, "skus": [RED_M]},
        ),
        201,
    )


def test_a_seller_can_neither_see_nor_change_another_sellers_skus(market: Market) -> None:
    # C3, M1: another seller's product is not found; the storefront and carriers do not write
    m = market
    theirs = m.products["b_self"]
    (sku,) = m.ok(m.get(f"/products/{theirs}/skus", m.seller_tokens["b"]))
    seller_a = m.seller_tokens["a"]
    assert m.get(f"/products/{theirs}/skus", seller_a).status_code == 404
    assert m.post(f"/products/{theirs}/skus", seller_a, {"code": "MINE"}).status_code == 404
    patched = m.client.patch(
        f"/api/v1/products/{theirs}/skus/{sku['id']}",
        json={"barcode": "123"},
        headers={"Authorization": f"Bearer {seller_a}"},
    )
    assert patched.status_code == 404
    assert m.post(f"/products/{theirs}/skus", m.channel, {"code": "X"}).status_code == 403
    assert m.get(f"/products/{theirs}/skus", m.carrier).status_code == 403
    assert m.ok(m.get(f"/products/{theirs}/skus", m.seller_tokens["b"])) == [sku]


def test_the_storefront_sees_the_skus_on_sale_without_supply_prices(market: Market) -> None:
    # C1, C3: a full-managed product in two variants, each with its own supply price
    m = market
    seller = m.seller_tokens["a"]
    body = {
        "store_id": m.stores["a_full"],
        "name": "Mug",
        "category": "home/kitchen",
        "declared_value_minor": 1250,
        "supply_price_minor": 700,
        "weight_g": 420,
        "length_mm": 120,
        "width_mm": 90,
        "height_mm": 100,
        "skus": [
            {"code": "MUG-W", "attributes": {"colour": "white"}, "supply_price_minor": 650},
            {"code": "MUG-B", "attributes": {"colour": "black"}, "supply_price_minor": 720},
            {"code": "MUG-G", "attributes": {"colour": "green"}},
        ],
    }
    mug = m.ok(m.post("/products", seller, body), 201)
    assert [s["supply_price_minor"] for s in mug["skus"]] == [650, 720, None]
    white, black, green = mug["skus"]
    # a draft is nobody's business but the seller's and the operators'
    assert m.get(f"/products/{mug['id']}/skus", m.channel).status_code == 404
    m.list_product(mug["id"], seller, retail_price_minor=1250)  # reviewed, approved (C2)
    m.ok(
        m.client.patch(
            f"/api/v1/products/{mug['id']}/skus/{green['id']}",
            json={"active": False},
            headers={"Authorization": f"Bearer {seller}"},
        )
    )

    shown = m.ok(m.get(f"/products/{mug['id']}/skus", m.channel))
    assert [s["id"] for s in shown] == [white["id"], black["id"]]  # green is off sale
    assert [s["attributes"] for s in shown] == [{"colour": "white"}, {"colour": "black"}]
    product = m.ok(m.get(f"/products/{mug['id']}", m.channel))
    for sku in (*shown, *product["skus"]):
        assert not {"supply_price_minor", "code", "active"} & sku.keys()
    assert [s["id"] for s in product["skus"]] == [white["id"], black["id"]]
    # while the seller and the operators read every SKU with its supply price
    for token in (seller, m.operator):
        seen = m.ok(m.get(f"/products/{mug['id']}/skus", token))
        assert [s["supply_price_minor"] for s in seen] == [650, 720, None]

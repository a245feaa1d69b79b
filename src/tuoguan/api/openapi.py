"""The OpenAPI document as the API really behaves: its refusals, content types and links.

FastAPI documents each route's success response and a 422 of its own shape. This module
rewrites the generated document once, so that generated clients and schemathesis see the
truth:

- every refusal is an RFC 9457 `Problem` under `application/problem+json` (problems.py);
- each operation lists the statuses it can return: 401 behind a bearer token, 403 where a
  role or ownership is refused, 404 on paths naming an object, 409 on writes (a state or
  version that does not allow the change, or a concurrent one), 422 on any input, 400 where
  a cursor is read; routes add their own (503 where a carrier is called) with `responses=`;
- every write reads an optional `Idempotency-Key` header (api/mutation.py);
- every list that answers an array and reads a `cursor` declares its `Link` rel=next
  header (api/paging.py);
- OpenAPI links say which response's ids feed which paths (stateful testing, clients).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from tuoguan.api.problems import MEDIA_TYPE, Problem
from tuoguan.kit import idempotency

REF = "#/components/schemas/"
WRITES = {"post", "put", "patch", "delete"}

DESCRIPTIONS = {
    400: "The request cannot be read: a body that is not UTF-8 JSON, a cursor never issued.",
    401: "No valid API token was sent.",
    403: "The caller's role, or whose object it is, does not allow this.",
    404: "No such object, or none the caller may see.",
    409: "The object's state or version does not allow this now, or it changed meanwhile.",
    413: "The request body is over the server's limit (TUOGUAN_MAX_BODY_BYTES).",
    422: "Invalid input: `field` and `rule` name what to fix; nothing was changed.",
    429: "Too many requests: wait for the Retry-After seconds.",
    503: "The carrier could not be reached or failed: nothing was changed; try again later.",
}


def refusal(status: int, description: str | None = None) -> dict[int | str, dict[str, Any]]:
    """A route's `responses=` entry for a refusal the generic rules cannot see."""
    return {status: {"description": description or DESCRIPTIONS[status]}}


# Route-level additions (`responses=` in api/routes/*.py).
CARRIER_CALL = refusal(503)

# Which path parameters the objects of a collection fill in: a POST that creates in the
# collection (201) or a GET that lists it links, through these fields of its answer, to every
# operation whose path has the segment. The collection is the last segment of the path.
FEEDS: dict[str, list[tuple[str, str]]] = {
    "orders": [("id", "/orders/{order_id}")],
    "shipments": [("id", "/shipments/{shipment_id}"), ("order_id", "/orders/{order_id}")],
    "claims": [("id", "/claims/{claim_id}"), ("shipment_id", "/shipments/{shipment_id}")],
    "products": [("id", "/products/{product_id}")],
    "stores": [("id", "/stores/{store_id}")],
    "warehouses": [("id", "/warehouses/{warehouse_id}")],
    "supply-orders": [("id", "/supply-orders/{supply_order_id}"), ("order_id", "/orders/{order_id}")],
    "inbound-notices": [("id", "/inbound-notices/{notice_id}")],
    "sellers": [("id", "/sellers/{seller_id}")],
    "logistics-services": [("code", "/logistics-services/{code}")],
    "rate-cards": [("id", "/rate-cards/{card_id}")],
    "route-rules": [("id", "/route-rules/{rule_id}")],
    "tokens": [("id", "/tokens/{token_id}")],
    "webhooks": [("id", "/webhooks/{webhook_id}")],
    "penalties": [("id", "/penalties/{penalty_id}")],
    "notifications": [("id", "/notifications/{notification_id}")],
    "carrier-accounts": [("code", "/carriers/{code}")],
    "breaches": [("order_id", "/orders/{order_id}")],
    "at-risk": [("order_id", "/orders/{order_id}")],
}


def install(app: FastAPI) -> None:
    """Serve the refined document as the app's OpenAPI document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = refine(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def refine(document: dict[str, Any]) -> dict[str, Any]:
    """Declare refusals, content types, the Idempotency-Key header and links."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template=REF + "{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    operations = [
        (path, method, operation)
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]
    _name_operations(operations)
    for path, method, operation in operations:
        _declare_refusals(path, method, operation, schemas)
        if method in WRITES and operation.get("security"):
            _declare_idempotency_key(operation)
        _declare_next_link(operation, schemas)
    _link(document, operations)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def _name_operations(operations: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Name each operation after its route function, e.g. `place_order`, not FastAPI's
    `place_order_api_v1_orders_post`; a name two routers use gets its tag, `cancel_shipment`."""
    names = {}
    for path, method, operation in operations:
        generated = operation.get("operationId", "")
        suffix = re.sub(r"\W", "_", path) + "_" + method
        if generated.endswith(suffix) and len(generated) > len(suffix):
            names[id(operation)] = generated.removesuffix(suffix)
    counts = Counter(names.values())
    for _, _, operation in operations:
        name = names.get(id(operation))
        if name is None:
            continue
        if counts[name] > 1:
            tags = operation.get("tags") or ["api"]
            name = f"{name}_{tags[0].removesuffix('s')}"
        operation["operationId"] = name


def _names_objects(operation: dict[str, Any], schemas: dict[str, Any]) -> bool:
    """Whether the body or the query names other objects by id (404 when one does not exist)."""
    if any(
        p.get("in") == "query" and p.get("name") == "ids" for p in operation.get("parameters", [])
    ):
        return True
    content = operation.get("requestBody", {}).get("content", {})
    body = _resolve(content.get("application/json", {}).get("schema", {}), schemas)
    return any(name.endswith("_id") for name in body.get("properties", {}))


def _statuses(
    path: str, method: str, operation: dict[str, Any], schemas: dict[str, Any]
) -> set[int]:
    parameters = operation.get("parameters", [])
    found: set[int] = set()
    if operation.get("security"):
        found |= {401, 403}
        if path.endswith("/me"):
            found.discard(403)  # every valid token may ask who it is
    if "{" in path or _names_objects(operation, schemas):
        found.add(404)
    if method in WRITES:
        found |= {409, 422}  # a concurrent write conflicts; Idempotency-Key is checked
    if parameters or "requestBody" in operation:
        found.add(422)
    if "requestBody" in operation or any(
        p.get("in") == "query" and p.get("name") == "cursor" for p in parameters
    ):
        found.add(400)  # a body that is not UTF-8 JSON; a cursor the server never issued
    if "requestBody" in operation:
        found.add(413)  # over TUOGUAN_MAX_BODY_BYTES
    return found


def _declare_refusals(
    path: str, method: str, operation: dict[str, Any], schemas: dict[str, Any]
) -> None:
    responses: dict[str, Any] = operation["responses"]
    for status in _statuses(path, method, operation, schemas):
        responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
    for key, response in responses.items():
        if not key.isdigit() or int(key) < 400:
            continue
        status = int(key)
        if status == 422 or response.get("description") in (None, "", "Validation Error"):
            response["description"] = DESCRIPTIONS.get(status, response.get("description", ""))
        response["content"] = {MEDIA_TYPE: {"schema": {"$ref": REF + "Problem"}}}
        if status == 401:
            response["headers"] = {
                "WWW-Authenticate": {
                    "description": "The scheme to authenticate with: Bearer.",
                    "schema": {"type": "string"},
                }
            }
    for response in responses.values():
        for media_type, content in response.get("content", {}).items():
            if "schema" not in content:  # a file: CSV, ZPL text, PDF
                binary = not media_type.startswith("text/")
                content["schema"] = {"type": "string", **({"format": "binary"} if binary else {})}
    operation["responses"] = dict(sorted(responses.items()))


def _declare_idempotency_key(operation: dict[str, Any]) -> None:
    parameters = operation.setdefault("parameters", [])
    if any(p.get("name", "").lower() == "idempotency-key" for p in parameters):
        return
    parameters.append(
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "Send the same key again to get the first answer back instead of "
            "repeating the change; a key reused for another request is refused (422).",
            "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH},
        }
    )
    operation["responses"].setdefault("422", {"description": DESCRIPTIONS[422]})


def _declare_next_link(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """A list answering an array with a ``cursor`` parameter points to its next page."""
    if not any(
        p.get("in") == "query" and p.get("name") == "cursor"
        for p in operation.get("parameters", [])
    ):
        return
    ok = operation["responses"].get("200", {})
    schema = ok.get("content", {}).get("application/json", {}).get("schema")
    if schema is None or _resolve(schema, schemas).get("type") != "array":
        return
    ok.setdefault("headers", {})["Link"] = {
        "description": 'The next page, when there is one: `<path?…&cursor=…>; rel="next"` '
        "(RFC 8288), relative to this server.",
        "schema": {"type": "string"},
    }


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The schema itself: references followed, the first non-null variant of a union."""
    for _ in range(8):
        if "$ref" in schema:
            schema = schemas.get(schema["$ref"].removeprefix(REF), {})
            continue
        variants = [
            v for v in schema.get("anyOf", schema.get("oneOf", [])) if v.get("type") != "null"
        ]
        if not variants:
            return schema
        schema = variants[0]
    return schema


def _pointer(operation: dict[str, Any], schemas: dict[str, Any]) -> tuple[str, str] | None:
    """(status, JSON pointer of the first object) of an operation's JSON answer."""
    for status, response in operation["responses"].items():
        if not status.startswith("2"):
            continue
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return None
        shape = _resolve(schema, schemas)
        if shape.get("type") == "array":
            return status, "/0"
        if _resolve(shape.get("properties", {}).get("items", {}), schemas).get("type") == "array":
            return status, "/items/0"  # a page
        return status, ""
    return None


def _link(document: dict[str, Any], operations: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Link each creation or listing to the operations its objects' fields address."""
    schemas = document["components"]["schemas"]
    for source_path, method, source in operations:
        feeds = FEEDS.get(source_path.rstrip("/").rsplit("/", 1)[-1])
        found = _pointer(source, schemas)
        if feeds is None or found is None:
            continue
        status, prefix = found
        if not (method == "post" and status == "201") and not (method == "get" and prefix):
            continue
        links: dict[str, Any] = {}
        for field, segment in feeds:
            parameter = segment.rsplit("{", 1)[1].rstrip("}")
            for path, _, target in operations:
                if segment in path and target is not source:
                    links[target["operationId"]] = {
                        "operationId": target["operationId"],
                        "parameters": {parameter: f"$response.body#{prefix}/{field}"},
                    }
        if links:
            source["responses"][status]["links"] = links

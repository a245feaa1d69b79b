"""The OpenAPI document declares the refusals the API really sends, as problem+json (issue 10)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.builders.market import Market, auth
from tuoguan.api.problems import Problem


def _declared(client: TestClient, method: str, path: str, status: int) -> dict[str, Any]:
    document = client.get("/api/v1/openapi.json").json()
    responses = document["paths"][f"/api/v1{path}"][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} does not declare {status}"
    declared: dict[str, Any] = responses[str(status)]
    return declared


def _is_problem(answer: Any, declared: dict[str, Any]) -> Problem:
    assert answer.headers["content-type"] == "application/problem+json"
    assert declared["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    return Problem.model_validate(answer.json())


def test_refusals_are_declared_problems(client: TestClient, market: Market) -> None:
    # No token: 401 with its challenge.
    answer = client.get("/api/v1/orders")
    assert answer.status_code == 401
    declared = _declared(client, "get", "/orders", 401)
    assert "WWW-Authenticate" in declared["headers"]
    _is_problem(answer, declared)

    # Invalid input: FastAPI's own HTTPValidationError is gone, the body is a Problem.
    answer = client.post("/api/v1/sellers", json={"name": ""}, headers=auth(market.operator))
    assert answer.status_code == 422
    problem = _is_problem(answer, _declared(client, "post", "/sellers", 422))
    assert problem.field and problem.rule and problem.errors
    document = client.get("/api/v1/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]

    # An id that names nothing: 404.
    answer = client.get("/api/v1/orders/ord_nothing", headers=auth(market.operator))
    assert answer.status_code == 404
    _is_problem(answer, _declared(client, "get", "/orders/{order_id}", 404))


def test_an_unreadable_body_is_a_declared_400_naming_the_body(
    client: TestClient, market: Market
) -> None:
    answer = client.post(
        "/api/v1/sellers",
        content=b"\xa7O",
        headers={**auth(market.operator), "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    problem = _is_problem(answer, _declared(client, "post", "/sellers", 400))
    assert (problem.field, problem.rule) == ("body", "json_unreadable")

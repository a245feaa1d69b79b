"""Schemathesis over our own OpenAPI document: no generated request may produce a 500."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.builders.market import Market, auth


def test_no_input_produces_a_server_error(live_server: str, live_market: Market) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server}/api/v1/openapi.json")
    tokens = (live_market.operator, live_market.seller_tokens["a"], live_market.channel)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def exercise(case: schemathesis.Case) -> None:
            for token in tokens:
                case.call_and_validate(
                    base_url=live_server, headers=auth(token), checks=[not_a_server_error]
                )

        exercise()

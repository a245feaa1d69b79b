"""Schemathesis over the write operations of our OpenAPI document (POST, PUT, PATCH, DELETE),
on both engines, as each role (issue 10): every generated request, valid and invalid, gets an
answer the document declares. The read operations and the workflows are fuzzed in
test_schema_fuzz.py; the two files run on two workers.
"""

from __future__ import annotations

import pytest

from tests.builders.fuzz import WRITES, World, fuzz_operations, make_world
from tests.builders.market import Market
from tests.builders.shipping import SandboxHandle


@pytest.fixture
def world(live_server: str, live_market: Market, sandbox_carrier: SandboxHandle) -> World:
    """The seeded market with carriers, orders in every store and one shipment."""
    return make_world(live_server, live_market, sandbox_carrier)


def test_every_write_operation_answers_as_documented(world: World) -> None:
    fuzz_operations(world, WRITES)

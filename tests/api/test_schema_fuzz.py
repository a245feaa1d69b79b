"""Schemathesis over our own OpenAPI document, on both engines, as each role (issue 10).

Every generated request (valid and invalid, with random ids and with ids of the seeded
market's objects) and every stateful workflow that follows the document's links must get
an answer the document declares: no 5xx, no undocumented status code, no undocumented
content type, and a body that matches the declared schema (a Problem for refusals).

This file fuzzes the read operations and the workflows; test_schema_fuzz_writes.py the write
operations (two files, so two workers share the fuzzing; tests/builders/fuzz.py holds the rest).
The run is bounded (few examples per operation, a few short workflows per role), so each file
stays within a few minutes on both engines; TUOGUAN_FUZZ_SCALE runs more.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import settings

from tests.builders.fuzz import (
    DOCUMENT_TIMEOUT,
    READS,
    ROLES,
    SETTINGS,
    STEPS,
    WORKFLOWS,
    Findings,
    World,
    document_url,
    fuzz_operations,
    make_world,
    validate,
)
from tests.builders.market import Market, auth
from tests.builders.shipping import SandboxHandle


@pytest.fixture
def world(live_server: str, live_market: Market, sandbox_carrier: SandboxHandle) -> World:
    """The seeded market with carriers, orders in every store and one shipment."""
    return make_world(live_server, live_market, sandbox_carrier)


def test_every_read_operation_answers_as_documented(world: World) -> None:
    fuzz_operations(world, READS)


def _as(base: Any, role: str, world: World, findings: Findings) -> Any:
    """The state machine calling as one role and recording, not raising, what it finds."""
    headers = auth(world.tokens[role])

    class Workflow(base):
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"base_url": world.url, "headers": headers}

        def validate_response(
            self, response: Any, case: schemathesis.Case, *args: Any, **kwargs: Any
        ) -> None:
            kwargs.pop("additional_checks", None)
            validate(findings, role, case, response, **kwargs)

    return Workflow


def test_workflows_along_the_links_answer_as_documented(world: World) -> None:
    findings = Findings()
    document = httpx.get(document_url(world), timeout=DOCUMENT_TIMEOUT).json()
    links = [
        link
        for item in document["paths"].values()
        for operation in item.values()
        for response in operation["responses"].values()
        for link in response.get("links", {})
    ]
    assert len(links) >= 50, "the document links too few operations for workflows"
    schema = schemathesis.openapi.from_url(document_url(world), timeout=DOCUMENT_TIMEOUT)
    base = schema.as_state_machine()

    for role in ROLES:
        workflow = _as(base, role, world, findings)
        workflow.run(
            settings=settings(max_examples=WORKFLOWS, stateful_step_count=STEPS, **SETTINGS)
        )

    print(findings.report())
    assert findings.requests > 0
    assert not findings.seen, findings.report()

"""Schemathesis over our own OpenAPI document (issue 10): what the fuzz tests share.

The read operations and the write operations are fuzzed in two files
(tests/api/test_schema_fuzz.py and test_schema_fuzz_writes.py), so two workers share them.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.builders.market import Market, auth, issue_token
from tests.builders.shipping import SandboxHandle, connect_sandbox, ship
from tests.builders.stock import make_warehouse
from tuoguan.principal import Role

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ROLES = ("operator", "seller", "buyer_channel", "warehouse")
# CI's bound; TUOGUAN_FUZZ_SCALE=20 explores 20 times as much, with fresh random data.
SCALE = max(1, int(os.environ.get("TUOGUAN_FUZZ_SCALE", "1")))
EXAMPLES = {GenerationMode.POSITIVE: 4 * SCALE, GenerationMode.NEGATIVE: 3 * SCALE}
WORKFLOWS = 6 * SCALE  # per role
STEPS = 8  # per workflow
SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
    "derandomize": SCALE == 1,
    "database": None,
}


@dataclass
class Findings:
    """Every failed check, counted by kind, operation, role and status (not only the first)."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    seen: Counter[tuple[str, str, str, int]] = field(default_factory=Counter)
    examples: dict[tuple[str, str, str, int], str] = field(default_factory=dict)

    def record(
        self, role: str, case: schemathesis.Case, response: Any, failures: list[Failure]
    ) -> None:
        for failure in failures:
            key = (failure.title, case.operation.label, role, response.status_code)
            self.seen[key] += 1
            self.examples.setdefault(
                key,
                f"{failure.message}\n{case.as_curl_command()}\n-> {response.text[:400]}",
            )

    def count(self, title: str) -> int:
        return sum(n for (kind, *_), n in self.seen.items() if kind == title)

    def report(self) -> str:
        lines = [
            f"schemathesis: {self.requests} requests, "
            f"{self.count('Server error')} server errors, "
            f"{self.count('Undocumented status code')} undocumented status codes, "
            f"{sum(self.seen.values())} failed checks; "
            + ", ".join(f"{n} x {code}" for code, n in sorted(self.statuses.items()))
        ]
        for key, n in sorted(self.seen.items()):
            kind, operation, role, status = key
            lines.append(f"- {kind}: {operation} as {role} -> {status} (x{n})")
            lines.append("    " + self.examples[key].replace("\n", "\n    "))
        return "\n".join(lines)


def validate(
    findings: Findings, role: str, case: schemathesis.Case, response: Any, **kwargs: Any
) -> None:
    findings.requests += 1
    findings.statuses[response.status_code] += 1
    try:
        case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)
    except FailureGroup as group:
        findings.record(role, case, response, list(group.exceptions))
    except Failure as failure:
        findings.record(role, case, response, [failure])


@dataclass
class World:
    """The live server, a token per role, and ids of real objects to aim requests at."""

    url: str
    tokens: dict[str, str]
    ids: dict[str, str]


def _first(http: httpx.Client, token: str, path: str, key: str = "id") -> str:
    answer = http.get(f"/api/v1{path}", headers=auth(token))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    rows = body["items"] if isinstance(body, dict) else body
    assert rows, f"nothing at {path}"
    return str(rows[0][key])


def make_world(live_server: str, live_market: Market, sandbox_carrier: SandboxHandle) -> World:
    """The seeded market with carriers, orders in every store and one shipment."""
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    orders = {key: m.place(key) for key in ("a_self", "a_semi", "a_full", "b_self")}
    shipment = ship(m, orders["a_self"]["id"], m.seller_tokens["a"])
    spare = m.ok(m.post("/tokens", m.operator, {"name": "spare", "role": Role.operator.value}), 201)
    warehouse = make_warehouse(m)
    http = m.client
    ids = {
        "order_id": orders["a_semi"]["id"],
        "shipment_id": shipment["id"],
        "store_id": m.stores["a_self"],
        "seller_id": m.sellers["a"],
        "product_id": m.products["a_self"],
        "/logistics-services/{code}": "TG-POST-REG",
        "/carriers/{code}": "sandbox",
        "card_id": _first(http, m.operator, "/logistics-services/TG-POST-REG/rate-cards"),
        "rule_id": _first(http, m.operator, "/route-rules"),
        "token_id": spare["id"],  # a revoke may hit it; the role tokens stay valid
        "warehouse_id": warehouse["id"],
    }
    tokens = {
        "operator": m.operator,
        "seller": m.seller_tokens["a"],
        "buyer_channel": m.channel,
        "warehouse": issue_token(m.db_url, Role.warehouse, warehouse_ids=[warehouse["id"]]),
    }
    return World(url=live_server, tokens=tokens, ids=ids)


def known(world: World, operation: Any) -> dict[str, str]:
    """Real ids for the operation's path parameters (by name; `code` by the path it is in)."""
    found = {}
    for parameter in operation.path_parameters:
        name = parameter.name
        if name == "code":
            value = next((v for k, v in world.ids.items() if k in operation.path), None)
        else:
            value = world.ids.get(name)
        if value is not None:
            found[name] = value
    return found


# A new app builds its OpenAPI document on the first request for it: seconds on a busy machine.
DOCUMENT_TIMEOUT = 60


def document_url(world: World) -> str:
    return f"{world.url}/api/v1/openapi.json"


def operations(world: World) -> Iterator[Any]:
    schema = schemathesis.openapi.from_url(document_url(world), timeout=DOCUMENT_TIMEOUT)
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        yield result.ok()


# Every operation is one or the other: a method in neither would be fuzzed by neither file.
READS = frozenset({"get"})
WRITES = frozenset({"post", "put", "patch", "delete"})


def fuzz_operations(world: World, methods: frozenset[str]) -> None:
    """Every generated request to each operation of these methods, as every role, gets an
    answer the document declares (all failures are collected, then reported together)."""
    findings = Findings()
    everything = list(operations(world))
    assert len(everything) >= 60
    assert {op.method.lower() for op in everything} <= READS | WRITES
    chosen = [op for op in everything if op.method.lower() in methods]
    assert len(chosen) >= 30

    for operation in chosen:
        aimed_at = known(world, operation)
        for mode, examples in EXAMPLES.items():
            strategy = operation.as_strategy(generation_mode=mode)
            if aimed_at:
                aimed = operation.as_strategy(generation_mode=mode, path_parameters=aimed_at)
                strategy = st.one_of(strategy, aimed)

            @given(case=strategy)
            @settings(max_examples=examples, **SETTINGS)
            def exercise(case: schemathesis.Case) -> None:
                for role in ROLES:
                    headers = auth(world.tokens[role])
                    response = case.call(base_url=world.url, headers=headers)
                    validate(findings, role, case, response, headers=headers)

            try:
                exercise()
            except Unsatisfiable:  # nothing to get wrong (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE

    print(findings.report())
    assert not findings.seen, findings.report()

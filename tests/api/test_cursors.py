"""Cursors: a page's cursor leads to the next page; anything else is a 400, never a 500 (O5)."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders.market import Market

_FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _pack(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _refused(response: Any) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["field"] == "cursor" and body["rule"] == "cursor"
    assert response.headers["content-type"].startswith("application/problem+json")


def test_crafted_cursors_are_a_400(market: Market) -> None:  # O5
    m = market
    crafted = [
        # The issue's cursor: an instant at the end of year 9999 in UTC-14 overflows in UTC.
        "WyI5OTk5LTEyLTMxVDIzOjU5OjU5LTE0OjAwIiwgIngiXQ",
        _pack(["0001-01-01T00:00:00+14:00", "ord_01KAAAAAAAAAAAAAAAAAAAAAAA"]),
        _pack(["2026-11-18T00:00:00", "ord_01KAAAAAAAAAAAAAAAAAAAAAAA"]),  # naive
        _pack(["not a date", "ord_x"]),
        _pack(["2026-11-18T00:00:00+00:00", 5]),
        _pack([1, 2, 3]),
        _pack({"a": 1}),
        _pack([[[[[]]]]]),
        "!!!",
        "",
        "=" * 8,
        "x" * 501,
    ]
    for cursor in crafted:
        for sort in ("deadline", "newest"):
            r = m.get("/orders", m.operator, params={"sort": sort, "cursor": cursor})
            if cursor == "":
                assert r.status_code == 200  # no cursor: the first page
            else:
                _refused(r)


def test_every_cursor_the_server_issues_is_read_back(market: Market) -> None:  # O5
    m = market
    for _ in range(5):
        m.place("a_semi")
        m.place("b_full")
    for sort in ("deadline", "newest"):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"sort": sort, "limit": 3}
            if cursor:
                params["cursor"] = cursor
            page = m.ok(m.get("/orders", m.operator, params=params))
            seen += [o["id"] for o in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == 10


@_FUZZ
@given(
    values=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
        lambda inner: st.lists(inner, max_size=3),
        max_leaves=6,
    )
)
def test_fuzzed_cursor_values_never_fail_the_server(market: Market, values: Any) -> None:  # O5
    m = market
    for token, sorts in (
        (m.operator, ("deadline", "newest")),
        (m.seller_tokens["a"], ("deadline", "newest")),
        (m.channel, ("newest",)),
    ):
        for sort in sorts:
            r = m.get("/orders", token, params={"sort": sort, "cursor": _pack(values)})
            assert r.status_code in (200, 400), r.text


def test_roles_that_see_no_deadlines_cannot_sort_or_filter_by_them(market: Market) -> None:
    # The storefront's and the carrier's order views leave the seller's deadlines out; a
    # deadline-sorted page (and its cursor, which carries the last deadline) would tell them.
    m = market
    m.place("a_full")
    for token in (m.channel, m.carrier):
        r = m.get("/orders", token, params={"sort": "deadline"})
        assert r.status_code == 403 and r.json()["rule"] == "role_view", r.text
        r = m.get("/orders", token, params={"due_before": "2026-12-01T00:00:00Z"})
        assert r.status_code == 403 and r.json()["field"] == "due_before"
        assert m.get("/orders", token, params={"sort": "newest"}).status_code == 200


@_FUZZ
@given(cursor=st.text(min_size=1, max_size=80))
def test_fuzzed_cursor_text_never_fails_the_server(market: Market, cursor: str) -> None:  # O5
    m = market
    for sort in ("deadline", "newest"):
        r = m.get("/orders", m.operator, params={"sort": sort, "cursor": cursor})
        assert r.status_code in (200, 400), r.text

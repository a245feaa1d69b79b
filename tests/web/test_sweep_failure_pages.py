"""Operators see what the worker set aside in the console and on the command line, and decide
on it; sellers do not see it at all (issue 10, finding 1)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.builders.faults import refusing
from tests.builders.market import Market, create_console_user
from tests.builders.workers import sweep_once
from tests.web.test_console_http import _csrf, _login
from tests.web.test_fulfilment_pages import _problem, _reads_as_words
from tuoguan.cli.main import app
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role


def _visible(html: str) -> str:
    """The page's text as a reader sees it: no tags, attributes or URLs."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _set_aside(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> dict[str, str]:
    """An order whose breach the database refuses, set aside by one worker run."""
    order = market.place("a_self")
    clock.advance(timedelta(days=3))
    with refusing(market.db_url, "breaches", "order_id", order["id"]):
        assert sweep_once(client, clock, settings).set_aside == {"record_breaches": 1}
    return order


def test_an_operator_sees_the_set_aside_row_in_words_and_retries_it(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F1
    order = _set_aside(client, market, clock, settings)
    create_console_user(market.db_url, "op@example.com", Role.operator)
    assert _login(client, "op@example.com") == 303
    page = client.get("/console/sweep-failures")
    assert page.status_code == 200 and 'href="/console/sweep-failures"' in page.text
    shown = _visible(page.text)
    # the sweep's name and the status in words, the order it concerns, local times
    assert "Recording missed deadlines" in shown and "Set aside" in shown
    assert f'href="/console/orders/{order["id"]}"' in page.text
    assert f'<code class="ref">{order["id"]}</code>' in page.text  # the order number, to copy
    # the database's own words, for engineers, as a ref to copy
    assert re.search(r'<code class="ref">[^<]*refused by the database', page.text)
    # times in China's zone (the operators'), the instant for machines only
    assert "Nov 21, 09:00" in shown and '<time datetime="2026-11-21T01:00:00+00:00">' in page.text
    for raw in ("record_breaches", "set_aside", "swf_", "+00:00", " UTC "):
        assert raw not in shown, raw
    _reads_as_words(page.text, "en")
    # a retry with no reason is refused in words and changes nothing
    (failure_id,) = re.findall(r'data-failure="(swf_[^"]+)"', page.text)
    refused = client.post(
        f"/console/sweep-failures/{failure_id}/retry",
        data={"csrf": _csrf(page.text), "reason": " "},
    )
    assert refused.status_code == 422
    assert _problem(refused.text, f"{failure_id}.retry") == "Give a reason (1 to 500 characters)."
    forged = client.post(
        f"/console/sweep-failures/{failure_id}/retry",
        data={"csrf": "forged", "reason": "fixed"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    # a retry with a reason goes through
    done = client.post(
        f"/console/sweep-failures/{failure_id}/retry",
        data={"csrf": _csrf(page.text), "reason": "the trigger is gone"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = _visible(client.get("/console/sweep-failures").text)
    assert "Retry pending" in after and "the trigger is gone" in after
    # and the next run records the breach and empties the list
    assert sweep_once(client, clock, settings)["record_breaches"] == 1
    assert "Nothing is set aside." in _visible(client.get("/console/sweep-failures").text)


def test_the_page_speaks_chinese_and_is_closed_to_sellers(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:
    _set_aside(client, market, clock, settings)
    create_console_user(market.db_url, "zh@example.com", Role.operator, locale="zh-CN")
    assert _login(client, "zh@example.com") == 303
    page = client.get("/console/sweep-failures").text
    shown = _reads_as_words(page, "zh-CN")
    assert "记录超时违规" in shown and "已搁置" in shown and "重试" in shown
    assert "11月21日 09:00" in shown
    # a retry without a reason is refused in Chinese, beside the reason, what was typed kept
    (failure_id,) = re.findall(r'data-failure="(swf_[^"]+)"', page)
    refused = client.post(
        f"/console/sweep-failures/{failure_id}/dismiss", data={"csrf": _csrf(page), "reason": ""}
    )
    assert refused.status_code == 422
    assert _problem(refused.text, f"{failure_id}.dismiss") == "请填写原因（1 至 500 字）。"
    _reads_as_words(refused.text, "zh-CN")
    client.cookies.clear()
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"])
    assert _login(client, "a@example.com") == 303
    assert "/console/sweep-failures" not in client.get("/console/orders").text
    denied = client.get("/console/sweep-failures")
    assert denied.status_code == 403 and "refused by the database" not in denied.text
    # in the reader's words, not the service's
    assert "Your account cannot open this page." in _visible(denied.text)
    assert "only operators" not in denied.text


runner = CliRunner()


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TUOGUAN_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "250")
    return db_url


def test_the_command_line_lists_and_dismisses_set_aside_rows(
    cli_env: str, client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:
    order = _set_aside(client, market, clock, settings)
    listed = runner.invoke(app, ["worker", "failures"])
    assert listed.exit_code == 0, listed.output
    assert "record_breaches" in listed.output and order["id"] in listed.output
    (failure_id,) = re.findall(r"swf_\w+", listed.output)
    dismissed = runner.invoke(app, ["worker", "dismiss", failure_id, "--reason", "by hand"])
    assert dismissed.exit_code == 0 and "dismissed" in dismissed.output
    assert failure_id not in runner.invoke(app, ["worker", "failures"]).output
    kept = runner.invoke(app, ["worker", "failures", "--status", "dismissed"]).output
    assert failure_id in kept
    again = runner.invoke(app, ["worker", "dismiss", failure_id, "--reason", "again"])
    assert again.exit_code == 1 and "allowed actions: retry" in again.output
    missing = runner.invoke(app, ["worker", "retry", "swf_nope"])
    assert missing.exit_code == 1 and "not found" in missing.output

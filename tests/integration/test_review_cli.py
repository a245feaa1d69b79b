"""`tuoguan reviews queue`: the operators' business-info review queue in a terminal (S1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.builders.market import Market
from tests.builders.reviews import fill, submit
from tuoguan.cli.main import app
from tuoguan.config import Settings

runner = CliRunner()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Documents kept in this test's own folder."""
    return Settings(database_url=db_url, environment="test", upload_dir=str(tmp_path / "up"))


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TUOGUAN_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    return db_url


def test_the_queue_lists_the_reviews_waiting_with_their_ids(
    cli_env: str, client: TestClient, market: Market
) -> None:  # S1
    empty = runner.invoke(app, ["reviews", "queue"])
    assert empty.exit_code == 0, empty.output
    assert "nothing waits for a decision" in empty.output
    fill(market)
    review = submit(market)
    found = runner.invoke(app, ["reviews", "queue"])
    assert found.exit_code == 0, found.output
    assert "a full" in found.output and review["id"] in found.output
    assert "business background" in found.output
    approved = runner.invoke(app, ["reviews", "queue", "--status", "approved"])
    assert approved.exit_code == 0 and review["id"] not in approved.output
    bad = runner.invoke(app, ["reviews", "queue", "--status", "nope"])
    assert bad.exit_code != 0

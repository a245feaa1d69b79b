"""The tables in docs/architecture.md are the ones the code enforces."""

from __future__ import annotations

from pathlib import Path

from tuoguan.inventory.ledger import effects_markdown
from tuoguan.orders.states import render_markdown
from tuoguan.stores import modes

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def test_architecture_doc_shows_the_live_transition_tables() -> None:  # O2 O3 O4
    text = DOC.read_text()
    between = text.split("<!-- states:begin -->\n", 1)[1].split("<!-- states:end -->", 1)[0]
    assert between.strip() == render_markdown().strip(), (
        "docs/architecture.md is stale: paste tuoguan.orders.states.render_markdown()"
    )


def test_architecture_doc_shows_the_mode_table_the_code_reads() -> None:  # M1 M3 F1 F3
    text = DOC.read_text()
    between = text.split("<!-- modes:begin -->\n", 1)[1].split("<!-- modes:end -->", 1)[0]
    assert between.strip() == modes.render_markdown().strip(), (
        "docs/architecture.md is stale: paste tuoguan.stores.modes.render_markdown()"
    )


def test_architecture_doc_shows_the_stock_moves_the_ledger_applies() -> None:  # M5 R1
    text = DOC.read_text()
    between = text.split("<!-- moves:begin -->\n", 1)[1].split("<!-- moves:end -->", 1)[0]
    assert between.strip() == effects_markdown().strip(), (
        "docs/architecture.md is stale: paste tuoguan.inventory.ledger.effects_markdown()"
    )

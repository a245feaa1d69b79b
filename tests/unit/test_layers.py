"""The layers are one-way, named in one place, and drawn as they are enforced.

`lint-imports` (in `make test`) checks the contracts in pyproject.toml; these tests check that the
contracts cover every top-level module, that docs/architecture.md draws exactly those layers, and
that the guards the layers above register on order actions are in place in every entry point.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "tuoguan"


def _layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["id"] == "layers"]
    return list(contract["layers"])


def render_layers() -> str:
    """The drawing: one line per layer, top first, siblings side by side, arrows downwards."""
    lines = []
    for layer in _layers():
        names = [n.strip().replace("tuoguan.", "") for n in layer.replace(":", "|").split("|")]
        lines.append(" | ".join(names))
    return "\n   ↓\n".join(lines)


def test_every_top_level_module_is_in_a_layer() -> None:
    named = {
        n.strip().strip("()").removeprefix("tuoguan.")
        for layer in _layers()
        for n in layer.replace(":", "|").split("|")
    }
    present = {
        p.stem if p.is_file() else p.name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    }
    assert present - named == set(), "add these to [tool.importlinter] layers in pyproject.toml"


def test_the_architecture_doc_draws_the_enforced_layers() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    drawn = text.split("<!-- layers:begin -->\n```text\n", 1)[1].split("```\n<!-- layers:end -->")[0]
    assert drawn.strip() == render_layers(), (
        "docs/architecture.md is stale: paste tests/unit/test_layers.py::render_layers()"
    )


@pytest.mark.parametrize("entry", ["tuoguan.api.app", "tuoguan.worker.loop", "tuoguan.cli.main"])
def test_each_entry_point_installs_the_guards_on_order_actions(entry: str) -> None:  # O2 F1 F10
    # Orders asks the layers above through guards they register on import; an entry point that
    # forgot one would let a late action go unrecorded or a second parcel ship.
    code = f"import {entry}; from tuoguan.orders import service; print(sorted(service.guards()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (
        "['fulfilment.order_actions', 'shipping.one_live_shipment', 'sla.breaches']"
    )

"""A client generated from the OpenAPI document keeps every operation and response (issue 10).

openapi-python-client warns about each piece of the document it cannot use and leaves it
out of the client: a schema named by its module dropped QuoteRead, ShipmentRead and the
nine shipment endpoints. The only warnings tolerated are for binary bodies (the PDF
labels), which it cannot type.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tuoguan.api.app import create_app
from tuoguan.config import Settings

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
BINARY = re.compile(r"Unsupported content_type (application/(pdf|octet-stream|zip)|image/\w+)\b")


def _warnings(output: str) -> list[str]:
    """The generator's warnings and errors, one block of text each."""
    blocks = re.split(r"\n(?=(?:WARNING|ERROR)\b)", output)
    return [b.strip() for b in blocks if re.match(r"(WARNING|ERROR)\b", b.strip())]


def test_generated_client_keeps_every_operation(tmp_path: Path) -> None:
    document = create_app(Settings(database_url="sqlite:///:memory:", environment="test")).openapi()
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    (tmp_path / "config.yaml").write_text("post_hooks: []\n")  # no formatter run needed
    run = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(tmp_path / "openapi.json"),
            "--output-path",
            str(tmp_path / "client"),
            "--meta",
            "none",
            "--config",
            str(tmp_path / "config.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    unexpected = [w for w in _warnings(output) if not BINARY.search(w)]
    assert not unexpected, "\n\n".join(unexpected)

    client = tmp_path / "client"
    models = {p.stem for p in (client / "models").glob("*.py")}
    assert {"quote_read", "shipment_read", "quote_line_read", "problem"} <= models
    generated = {p.stem for p in (client / "api").rglob("*.py")} - {"__init__"}
    operations = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    assert generated == operations
    # The shipment endpoints answer with ShipmentRead, refusals with a Problem.
    create = (client / "api" / "shipments" / "create_shipment.py").read_text()
    assert "ShipmentRead.from_dict" in create
    assert "Problem.from_dict" in create

"""Every schema in the OpenAPI document has its own plain name (issue 10).

When two Pydantic models share a class name, FastAPI qualifies them with their module
(`tuoguan__shipping__schemas__LineRead`) and client generators drop them and every
operation that returns them.
"""

from __future__ import annotations

from tuoguan.api.app import create_app
from tuoguan.config import Settings


def test_no_two_schemas_share_a_name() -> None:
    app = create_app(Settings(database_url="sqlite:///:memory:", environment="test"))
    names = list(app.openapi()["components"]["schemas"])
    qualified = [name for name in names if "__" in name]
    assert not qualified, f"schemas whose class name is not unique: {qualified}"

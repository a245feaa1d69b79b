"""Who may call each endpoint, and which response model each role gets, declared on its route.

Every /api/v1 operation spreads one of these into its decorator:

- ``views(MAP)``: the response depends on the caller's role. ``MAP`` (role -> model) is the
  resource's own map (e.g. ``ORDER_VIEWS``), the one its present function builds from; the
  operation documents the union of its models, names each role's model in ``x-role-views``
  and answers 403 to a role the map leaves out.
- ``roles(*roles)``: every listed role gets the documented response (``x-roles``); others 403.
- ``anyone()``: no token needed (``x-roles`` lists every role).

``tests/api/test_role_views.py`` reads these extensions from the OpenAPI document, walks
every operation as every role and fails on a field outside the role's model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Union

from fastapi import Depends
from pydantic import BaseModel

from tuoguan.api.deps import get_principal
from tuoguan.errors import Forbidden
from tuoguan.principal import Principal, Role

ROLE_VIEWS = "x-role-views"
ROLES = "x-roles"
CALLERS = tuple(role for role in Role if role is not Role.system)
"""The roles that hold API tokens (the system acts inside the worker, never over HTTP)."""


def _require(allowed: frozenset[Role]) -> Any:
    names = ", ".join(sorted(role.value for role in allowed))

    async def require_role(principal: Annotated[Principal, Depends(get_principal)]) -> None:
        if principal.role not in allowed:
            raise Forbidden(f"a {principal.role.value} may not use this endpoint (only {names})")

    return Depends(require_role)


def views(
    by_role: Mapping[Role, type[BaseModel]],
    *,
    only: Iterable[Role] | None = None,
    array: bool = False,
    nullable: bool = False,
) -> dict[str, Any]:
    """Route arguments for a response that depends on the caller's role (see the module).

    ``only`` narrows the callers to the roles that may take the action (e.g. place an order),
    each still answered through its own view.
    """
    callers = frozenset(CALLERS).intersection(CALLERS if only is None else only)
    shown = {role: model for role, model in by_role.items() if role in callers}
    distinct = tuple(dict.fromkeys(shown.values()))
    model: Any = distinct[0] if len(distinct) == 1 else Union[distinct]  # noqa: UP007
    if array:
        model = list[model]
    if nullable:
        model = model | None
    return {
        "response_model": model,
        "dependencies": [_require(frozenset(shown))],
        "openapi_extra": {ROLE_VIEWS: {role.value: m.__name__ for role, m in shown.items()}},
    }


def roles(*allowed: Role, token: bool = True) -> dict[str, Any]:
    """Route arguments for an endpoint the listed roles use with the same response.

    ``token=False`` for a caller that proves itself otherwise (a carrier's signed push).
    """
    extra: dict[str, Any] = {"openapi_extra": {ROLES: [role.value for role in allowed]}}
    if token:
        extra["dependencies"] = [_require(frozenset(allowed))]
    return extra


def anyone() -> dict[str, Any]:
    """Route arguments for an endpoint anyone may call, without a token."""
    return {"openapi_extra": {ROLES: [role.value for role in CALLERS]}}

"""Which response model each role reads a resource through (each role sees only its own fields).

A resource that several roles read declares one map, role -> model, next to its
models. The map is the only place that decides what a role sees: the domain's
present function builds the caller's model from it, the API route documents the
union of its models and refuses (403) any role the map leaves out, and the
role-walking test (tests/api/test_role_views.py) holds every response to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel

from tuoguan.errors import Forbidden
from tuoguan.principal import Principal, Role

M = TypeVar("M", bound=BaseModel)

RoleViews = Mapping[Role, type[M]]


def model_for(views: Mapping[Role, type[M]], principal: Principal, what: str) -> type[M]:
    """The model the principal's role reads ``what`` through; 403 for a role with none."""
    model = views.get(principal.role)
    if model is None:
        raise Forbidden(f"a {principal.role.value} cannot read {what}")
    return model


def same_for(model: type[M], *roles: Role) -> dict[Role, type[M]]:
    """One model for every listed role."""
    return dict.fromkeys(roles, model)

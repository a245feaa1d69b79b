"""RFC 9457 problem+json responses for every refusal."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tuoguan.errors import DomainError

MEDIA_TYPE = "application/problem+json"
# PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back whole.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
# FastAPI's answer to a body it cannot decode (not UTF-8, not JSON at all).
UNREADABLE_BODY = "There was an error parsing the body"
log = logging.getLogger("tuoguan.api")
# The console's own page for a refusal (request, status, headers), or None where the API
# answers: web/error_pages.py's ``page``, handed in by api/app.py.
ErrorPage = Callable[[Request, int, dict[str, str] | None], Awaitable[Response | None]]


class ProblemFieldError(BaseModel):
    """One invalid value of a request that failed validation."""

    model_config = ConfigDict(populate_by_name=True)

    in_: str = Field(alias="in", description="Where the value was: body, query, path or header.")
    field: str = Field(
        description="The value's dotted path inside that part, e.g. lines.0.quantity."
    )
    rule: str | None = Field(description="The rule it broke, e.g. missing, string_too_long.")
    detail: str


class Problem(BaseModel):
    """An RFC 9457 problem: why the request was refused. Nothing was changed.

    Refusals of one kind may carry more members, e.g. an illegal transition's
    `current_state` and `allowed_actions`.
    """

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        description="A URN naming the kind of problem, e.g. urn:tuoguan:problem:not_found."
    )
    title: str
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong, for a person to read.")
    instance: str = Field(description="The request path.")
    field: str | None = Field(default=None, description="The input that is wrong, if one is.")
    rule: str | None = Field(default=None, description="The rule that input broke, if named.")
    request_id: str | None = Field(default=None, description="Quote it when reporting a problem.")
    errors: list[ProblemFieldError] | None = Field(
        default=None, description="Every invalid value, when the request failed validation (422)."
    )


def problem(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    field: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build one problem response."""
    body: dict[str, Any] = {
        "type": f"urn:tuoguan:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if field is not None:
        body["field"] = field
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> tuple[str, str]:
    where = str(loc[0]) if loc else "body"
    rest = [str(part) for part in loc[1:]]
    return where, ".".join(rest) if rest else where


def _headers(exc: DomainError) -> dict[str, str] | None:
    if exc.http_status == 401:
        return {"WWW-Authenticate": "Bearer"}
    if exc.http_status == 429:
        return {"Retry-After": str(getattr(exc, "retry_after", 5))}
    return None


def install(app: FastAPI, *, pages: ErrorPage | None = None) -> None:
    """Register the handlers that turn errors into problem+json, or into one of ``pages``
    for a request the console serves (its pages are HTML, in the reader's language)."""

    async def answer(request: Request, **fields: Any) -> Response:
        if pages is not None:
            try:
                page = await pages(request, fields["status"], fields.get("headers"))
            except Exception:  # noqa: BLE001 - the refusal still answers, as problem+json
                log.exception("the error page failed on %s %s", request.method, request.url.path)
                page = None
            if page is not None:
                return page
        return problem(request, **fields)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return await answer(
            request,
            status=exc.http_status,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            field=exc.field,
            extra=exc.extra,
            headers=_headers(exc),
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for error in exc.errors():
            where, field = _field_path(tuple(error.get("loc", ())))
            errors.append(
                {"in": where, "field": field, "rule": error.get("type"), "detail": error.get("msg")}
            )
        first = errors[0] if errors else {"field": None, "detail": "invalid request", "rule": None}
        return await answer(
            request,
            status=422,
            code="invalid_input",
            title="Invalid input",
            detail=f"{first['field']}: {first['detail']}",
            field=first["field"],
            extra={"rule": first["rule"], "errors": errors},
        )

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> Response:
        return await answer(
            request,
            status=409,
            code="concurrent_update",
            title="The object changed while you were changing it",
            detail="another request changed this object first; reload and try again",
        )

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError) -> Response:
        # Two transactions that waited on each other: PostgreSQL rolled one back whole.
        if getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
            return await answer(
                request,
                status=409,
                code="concurrent_update",
                title="The object changed while you were changing it",
                detail="another request was changing the same objects; nothing was changed, "
                "reload and try again",
            )
        return await _unexpected(request, exc)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> Response:
        return await answer(
            request,
            status=409,
            code="conflict",
            title="Conflict",
            detail="the change conflicts with data stored meanwhile; reload and try again",
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> Response:
        # e.g. a NUL byte in a path or query value, which PostgreSQL text cannot hold
        return await answer(
            request,
            status=422,
            code="invalid_input",
            title="Invalid input",
            detail="a value in the request cannot be stored or searched (invalid characters)",
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return await answer(
            request,
            status=500,
            code="internal",
            title="Internal error",
            detail="the server failed; nothing was changed. Quote the request_id when reporting it",
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == UNREADABLE_BODY:
            return await answer(
                request,
                status=400,
                code="unreadable_body",
                title="Bad request",
                detail="the body cannot be read as UTF-8 JSON",
                field="body",
                extra={"rule": "json_unreadable"},
            )
        return await answer(
            request,
            status=exc.status_code,
            code=f"http_{exc.status_code}",
            title=str(exc.detail),
            detail=str(exc.detail),
            headers=getattr(exc, "headers", None),
        )

"""One write transaction per mutating request, with its Idempotency-Key."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.errors import InvalidInput
from tuoguan.kit import idempotency
from tuoguan.kit.idempotency import IdempotencyRecord

T = TypeVar("T")
HEADER = "Idempotency-Key"


def _replay(record: IdempotencyRecord) -> Response:
    return Response(
        content=record.body,
        status_code=record.status_code,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )


def _check_same_request(record: IdempotencyRecord, fingerprint: str) -> None:
    if record.request_hash != fingerprint:
        raise InvalidInput(
            "this Idempotency-Key was used for a different request; use a new key",
            field=HEADER,
        )


async def run_mutation(
    request: Request,
    ctx: Ctx,
    action: Callable[[AsyncSession], Awaitable[T]],
    render: Callable[[AsyncSession, T], Awaitable[BaseModel | list[Any] | dict[str, Any]]],
    *,
    status_code: int = 200,
) -> Response:
    """Run ``action`` in one transaction, render its result, store it under the key, commit.

    The same key and request replay the first response and change nothing; the
    same key with another request is refused. Errors roll everything back and
    are not stored, so a corrected retry may reuse the key.
    """
    db: Database = request.app.state.db
    key = request.headers.get(HEADER)
    if key is not None and not 1 <= len(key) <= idempotency.MAX_KEY_LENGTH:
        raise InvalidInput(
            f"an Idempotency-Key has 1 to {idempotency.MAX_KEY_LENGTH} characters", field=HEADER
        )
    fingerprint = idempotency.request_fingerprint(
        request.method, request.url.path, request.url.query, await request.body()
    )
    principal_id = ctx.principal.actor_id
    async with db.write() as session:
        if key is not None:
            stored = await idempotency.find(session, principal_id, key)
            if stored is not None:
                _check_same_request(stored, fingerprint)
                return _replay(stored)
        result = await action(session)
        await session.flush()
        rendered = await render(session, result)
        payload = rendered.model_dump(mode="json") if isinstance(rendered, BaseModel) else rendered
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        if key is not None:
            session.add(
                IdempotencyRecord(
                    principal_id=principal_id,
                    key=key,
                    request_hash=fingerprint,
                    status_code=status_code,
                    body=body,
                    created_at=ctx.clock.now(),
                )
            )
        try:
            await session.commit()
        except IntegrityError:
            # A concurrent request with the same key committed first: answer as it did.
            await session.rollback()
            if key is None:
                raise
            stored = await idempotency.find(session, principal_id, key)
            if stored is None:
                raise
            _check_same_request(stored, fingerprint)
            return _replay(stored)
    return Response(content=body, status_code=status_code, media_type="application/json")

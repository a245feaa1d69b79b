"""Pure-ASGI middlewares: a request id (X-Request-ID), the security headers of every response,
and a limit on request bodies. They sit outside Starlette's error middleware, so a 500 has
them too (``api/app.py``)."""

from __future__ import annotations

import json
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_SAFE = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


class RequestId:
    """Take a well-formed X-Request-ID from the caller or make one; echo it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if _SAFE.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)


# The console's pages: scripts and styles only from /static, nothing inline, never framed.
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Chrome shows a PDF through a built-in viewer that object-src and style-src would block
# (crbug.com/271452), so labels keep only the part of the policy that forbids framing.
PDF_CSP = "frame-ancestors 'none'"


class SecurityHeaders:
    """Add CSP, X-Frame-Options, Referrer-Policy and nosniff to every response, and
    ``Cache-Control: no-store`` to everything but static files.

    A response that sets its own Content-Security-Policy keeps it: the API's documentation
    pages (``api/docs.py``) allow the hash of their one inline script or style block.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Pages and API answers carry one person's data: no cache keeps them, and Back after
        # signing out does not show them again. Static files may be cached.
        private = not scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                content_type = next(
                    (value for name, value in headers if name.lower() == b"content-type"), b""
                )
                policy = PDF_CSP if content_type.startswith(b"application/pdf") else CONSOLE_CSP
                for name, value in (
                    (b"content-security-policy", policy.encode()),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-content-type-options", b"nosniff"),
                    *([(b"cache-control", b"no-store")] if private else []),
                ):
                    if name not in present:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse a request body over ``max_bytes`` with 413, before anything parses it.

    FastAPI reads and parses a JSON body before the route's dependencies run (the
    token is checked after), so without this anyone could make the server parse
    a hundred megabytes. A declared Content-Length over the limit is refused at
    once; a chunked body is read up to the limit and refused when it passes it.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        larger: tuple[tuple[re.Pattern[str], int], ...] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger  # (path pattern, limit): uploads that need more, e.g. photos

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = next((n for p, n in self.larger if p.match(path)), self.max_bytes)
        if limit != self.max_bytes:
            await BodyLimit(self.app, max_bytes=limit)(scope, receive, send)
            return
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        request_id = scope.get("state", {}).get("request_id")
        body = {
            "type": "urn:tuoguan:problem:body_too_large",
            "title": "Request body too large",
            "status": 413,
            "detail": f"the request body is over {self.max_bytes} bytes",
            "instance": scope.get("path", ""),
            "field": "body",
            "rule": "max_body_bytes",
            **({"request_id": request_id} if request_id else {}),
        }
        raw = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(raw)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": raw})


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive that gives back what was already read, then goes on reading."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed

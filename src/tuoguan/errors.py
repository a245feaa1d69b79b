"""Domain errors: each carries a code, an HTTP status and, where it applies, a field."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal the user can act on; entry points turn it into a 4xx or a CLI message."""

    code = "domain_error"
    http_status = 400
    title = "Request refused"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    title = "Not found"


class Forbidden(DomainError):
    code = "forbidden"
    http_status = 403
    title = "Forbidden"


class Unauthorized(DomainError):
    code = "unauthorized"
    http_status = 401
    title = "Authentication required"


class InvalidInput(DomainError):
    code = "invalid_input"
    http_status = 422
    title = "Invalid input"


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
    title = "Conflict"


class IllegalTransition(Conflict):
    """An action the object's current state does not allow."""

    code = "illegal_transition"
    title = "Action not allowed in this state"

    def __init__(
        self, *, current: str, action: str, allowed: list[str], subject: str = "order"
    ) -> None:
        allowed_text = ", ".join(allowed) if allowed else "none"
        article = "an" if subject[0] in "aeiou" else "a"
        super().__init__(
            f"cannot {action} {article} {subject} that is {current}; "
            f"allowed actions: {allowed_text}",
            current_state=current,
            action=action,
            allowed_actions=allowed,
        )


class ConcurrentUpdate(Conflict):
    code = "concurrent_update"
    title = "The object changed while you were changing it"


def check_version(kind: str, object_id: str, current: int, expected: int | None) -> None:
    """Refuse a change made against a version the client no longer sees (If-Match)."""
    if expected is not None and current != expected:
        raise ConcurrentUpdate(
            f"{kind} {object_id} is at version {current}, not {expected}", field="version"
        )


class BadRequest(DomainError):
    """A request the server cannot read at all (e.g. a cursor it never issued)."""

    code = "bad_request"
    http_status = 400
    title = "Bad request"


class Busy(DomainError):
    """The server is doing as much of this as it takes at once; try again shortly."""

    code = "busy"
    http_status = 429
    title = "Busy"
    retry_after = 5

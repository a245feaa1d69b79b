"""The console's own pages for requests that no console page answered: an address nothing
answers (404), a form's address opened as a page (GET on a POST-only address: sent on to the
page the form is on), a request a page cannot read (422), a server failure (500).

``api/problems.py`` asks ``page`` first for every refusal; it answers, in the reader's language,
for every address outside ``/api/`` and ``/static/``, so the API keeps problem+json.
"""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.routing import Match, Mount

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User
from tuoguan.web import console

log = logging.getLogger("tuoguan.web")
_NOT_CONSOLE = ("/api/", "/static/")


def serves(path: str) -> bool:
    """Whether a refusal at ``path`` is shown as a console page (not problem+json)."""
    return path != "/api" and not path.startswith(_NOT_CONSOLE)


async def page(
    request: Request, status: int, headers: dict[str, str] | None = None
) -> Response | None:
    """The console's answer for a refusal, or None where the API answers (problem+json).

    The page says what happened by its status, in the reader's language; the API's detail
    (English, and it may name ids) is not shown.
    """
    if status < 400 or not serves(request.url.path):
        return None  # redirects (e.g. warehouse staff sent home) and the API stay as they are
    if status == 405 and request.method in ("GET", "HEAD"):
        # A form's address opened as a page (reloaded after a refused POST, or typed in).
        return RedirectResponse(form_page(request), status_code=303)
    # A server failure may be the database itself: show the page without asking it who is in.
    user, csrf = (None, None) if status >= 500 else await _viewer(request)
    context = {
        "user": user,
        "csrf": csrf,
        "status_code": status,
        "reference": getattr(request.state, "request_id", None) if status >= 500 else None,
    }
    response = console._render(request, "error.html", context, status)
    for name, value in (headers or {}).items():
        if name.lower() == "allow":
            response.headers[name] = value
    return response


def form_page(request: Request) -> str:
    """The nearest page above a POST-only address: where its form is, or the console's start.

    ``/console/orders/{id}/confirm`` gives ``/console/orders/{id}``; ``/console/logistics/
    rules/{id}/delete`` gives ``/console/logistics``.
    """
    parts = request.url.path.rstrip("/").split("/")
    while len(parts) > 1:
        parts.pop()
        candidate = "/".join(parts) or "/"
        if serves(candidate) and _shows(request, candidate):
            return candidate
    return "/"


def _shows(request: Request, path: str) -> bool:
    scope = {"type": "http", "path": path, "root_path": "", "method": "GET"}
    return any(
        not isinstance(route, Mount) and route.matches(scope)[0] is Match.FULL
        for route in request.app.router.routes
    )


async def _viewer(request: Request) -> tuple[User | None, str | None]:
    """Who is signed in and their session's CSRF token, for the page's menu (sign-out)."""
    secret = request.cookies.get(console.SESSION_COOKIE)
    if not secret:
        return None, None
    try:
        async with request.app.state.db.read() as session:
            current = await accounts.session_user(session, secret, request.app.state.clock)
    except Exception:  # noqa: BLE001 - the error page shows without the menu
        log.warning("could not read the session for an error page", exc_info=True)
        return None, None
    return (None, None) if current is None else (current[0], current[1].csrf_token)

"""The next page of a list that answers a plain JSON array: a ``Link: <…>; rel="next"`` header.

Lists that answer an array (breaches, penalties, claims, notifications, set-aside rows,
at-risk orders…) take a ``cursor`` query parameter and, when there is more, point to the
next page with an RFC 8288 ``Link`` header whose target is this request with ``cursor``
replaced. The link is relative (path and query), so it holds behind any proxy. The order
list keeps its ``next_cursor`` field in the body, as it always had.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

CURSOR_HELP = "The cursor from the previous page's Link rel=next; anything else is a 400."
CursorQuery = Annotated[str | None, Query(max_length=500, description=CURSOR_HELP)]


def next_link(request: Request, response: Response, cursor: str | None) -> None:
    """Point the response at the next page, when there is one."""
    if cursor is None:
        return
    url = request.url.include_query_params(cursor=cursor)
    target = url.path + (f"?{url.query}" if url.query else "")
    response.headers["Link"] = f'<{target}>; rel="next"'

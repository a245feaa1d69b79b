"""Documents served through short-lived signed links (S1): ``/files/<id>?exp=..&sig=..``.

Outside ``/api/v1`` so that a console page's ``<a href>`` opens it without a token: the link is
the permission, handed out only to the document's seller and operators (pages, API answers),
and good for ``TUOGUAN_FILE_LINK_SECONDS``. A bad or expired link is refused (403); the bytes
go out with the type their content showed at upload, as an attachment, never sniffed or cached.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from tuoguan.onboarding import documents

router = APIRouter(include_in_schema=False)


def disposition(file_name: str) -> str:
    """``attachment`` with the name in ASCII and in UTF-8 (RFC 6266, RFC 5987)."""
    plain = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in file_name
    )
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(file_name, safe='')}"


@router.get(documents.FILES + "/{document_id}", response_model=None)
async def serve_file(
    document_id: str,
    request: Request,
    exp: Annotated[str | None, Query(max_length=20)] = None,
    sig: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    """A document's bytes, for whoever holds a link that is still good."""
    app = request.app
    async with app.state.db.read() as session:
        row, data = await documents.served(
            session,
            settings=app.state.settings,
            document_id=document_id[:40],
            expires=exp,
            signature=sig,
            now=app.state.clock.now(),
        )
    return Response(
        content=data,
        media_type=row.content_type,
        headers={
            "Content-Disposition": disposition(row.file_name),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )

"""Documents a seller uploads (licences, identity documents, bank proofs, brand authorisations,
an exit's papers) and the short-lived links that serve them (S1). Never commits.

- **Upload.** The store's seller (or an operator) uploads bytes with a purpose. The file is
  checked by its content (PDF, JPEG, PNG, WebP) and size (``TUOGUAN_DOCUMENT_MAX_BYTES``), put
  in the storage (``kit/storage.py``) under a key made from its SHA-256 in the seller's folder,
  and a ``Document`` row says what and where it is. The name it came with is kept for people
  only, cleaned of paths and control characters.
- **Who sees it.** Its seller and operators (``visible``); anyone else reads "not found".
- **Links.** ``signed_link`` gives ``/files/<id>?exp=<unix>&sig=<hmac>``, good for
  ``TUOGUAN_FILE_LINK_SECONDS``; pages and API answers hand one out only to those who may see
  the document, and ``/files/`` serves the bytes to whoever holds a link that is still good.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import re
import secrets
import tempfile
import unicodedata
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.errors import Forbidden, InvalidInput, NotFound
from tuoguan.kit.filetypes import EXTENSIONS, check_document
from tuoguan.kit.ids import new_id
from tuoguan.kit.storage import Storage, open_storage
from tuoguan.onboarding.review_models import Document
from tuoguan.principal import Principal, Role
from tuoguan.stores import service as stores
from tuoguan.stores.models import Store

SUBJECT = "document"
# A case's evidence (tuoguan.cases) is kept as a document too, but is the case's, not one of
# the store's papers: the store's document list leaves it out.
CASE_EVIDENCE = "case_evidence"
FILES = "/files"
KEY_FILE = ".signing-key"
_UPLOADERS = (Role.seller, Role.operator, Role.system)
_PURPOSE = re.compile(r"^[a-z][a-z_]{0,39}$")


@lru_cache(maxsize=8)
def _storage(url: str, root: str) -> Storage:
    return open_storage(url, default_root=root)


def storage_for(settings: Settings) -> Storage:
    """The storage the settings name (one per URL and folder in a process)."""
    return _storage(settings.storage_url, settings.upload_dir)


def clean_name(name: str | None, content_type: str) -> str:
    """The name a file came with, as people may read it: no folders, no control characters,
    at most 200 characters; ``document.<ext>`` when nothing is left."""
    base = re.split(r"[\\/]", name or "")[-1]
    text = "".join(
        " " if unicodedata.category(c).startswith(("C", "Z")) else c for c in base
    ).strip(" .")
    text = " ".join(text.split())[:200]
    return text or f"document.{EXTENSIONS.get(content_type, 'bin')}"


async def upload(
    session: AsyncSession,
    *,
    ctx: Ctx,
    storage: Storage,
    settings: Settings,
    store_id: str,
    purpose: str,
    data: bytes,
    file_name: str | None,
) -> Document:
    """S1: keep a document of a store. Refused, with nothing kept: another role (403), another
    seller's store (404), a purpose that is not a word (422 ``purpose_format``), a file empty,
    too big or of another type by its content (422 ``document_not_empty``,
    ``document_max_bytes``, ``document_type``, field ``file``)."""
    if ctx.principal.role not in _UPLOADERS:
        raise Forbidden(f"a {ctx.principal.role.value} does not upload documents")
    store = await stores.get_store(session, principal=ctx.principal, store_id=store_id)
    return await keep(
        session,
        ctx=ctx,
        storage=storage,
        settings=settings,
        store=store,
        purpose=purpose,
        data=data,
        file_name=file_name,
    )


async def keep(
    session: AsyncSession,
    *,
    ctx: Ctx,
    storage: Storage,
    settings: Settings,
    store: Store,
    purpose: str,
    data: bytes,
    file_name: str | None,
) -> Document:
    """Keep a file of a store for a caller that has checked who may add it (``upload``, a
    case's evidence): checked by content and size, stored, recorded and audited."""
    if not _PURPOSE.fullmatch(purpose):
        raise InvalidInput(
            "a purpose is a lower-case word (e.g. licence)", field="purpose", rule="purpose_format"
        )
    content_type = check_document(data, field="file", max_bytes=settings.document_max_bytes)
    stored = await asyncio.to_thread(
        storage.put, f"documents/{store.seller_id}", data, content_type
    )
    row = Document(
        id=new_id("document"),
        seller_id=store.seller_id,
        store_id=store.id,
        purpose=purpose,
        file_name=clean_name(file_name, content_type),
        content_type=content_type,
        size=stored.size,
        sha256=stored.sha256,
        storage_key=stored.key,
        uploaded_by=ctx.principal.actor_id,
        uploaded_at=ctx.clock.now(),
    )
    session.add(row)
    audit.record(
        session,
        ctx=ctx,
        subject_type=SUBJECT,
        subject_id=row.id,
        store_id=store.id,
        action="upload",
        data={
            "purpose": purpose,
            "content_type": content_type,
            "size": stored.size,
            "sha256": stored.sha256,
        },
    )
    await session.flush()
    return row


def may_see(principal: Principal, document: Document) -> bool:
    """Operators (and the system's jobs) see every document, a seller its own."""
    if principal.role in (Role.operator, Role.system):
        return True
    return principal.role is Role.seller and principal.seller_id == document.seller_id


async def visible(session: AsyncSession, *, principal: Principal, document_id: str) -> Document:
    """A document its seller or an operator asks for; anyone else's reads as not found."""
    row = await session.get(Document, document_id)
    if row is None or not may_see(principal, row):
        raise NotFound(f"document {document_id} not found", field="document_id")
    return row


# -- signed links --------------------------------------------------------------------------------


def _key_file(folder: Path) -> bytes:
    """The machine's signing key, made once: written aside, then linked into place, so two
    processes starting together keep the one that got there first."""
    path = folder / KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".part-")  # mode 0600
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(secrets.token_hex(32).encode())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return path.read_bytes().strip()


@lru_cache(maxsize=8)
def _machine_key(folder: str) -> bytes:
    return _key_file(Path(folder))


def signing_key(settings: Settings) -> bytes:
    """The key file links are signed with: ``TUOGUAN_SIGNING_KEY``, else the machine's."""
    if settings.signing_key:
        return settings.signing_key.encode()
    return _machine_key(str(Path(settings.upload_dir).resolve()))


def _signature(key: bytes, document_id: str, expires: int) -> str:
    return hmac.new(key, f"{document_id}.{expires}".encode(), hashlib.sha256).hexdigest()


def link_expires(settings: Settings, now: datetime) -> int:
    """When a link made now stops working (unix seconds)."""
    return int(now.timestamp()) + settings.file_link_seconds


def signed_link(settings: Settings, document: Document, *, now: datetime) -> str:
    """A link that serves the document's bytes until ``file_link_seconds`` from ``now``."""
    expires = link_expires(settings, now)
    signature = _signature(signing_key(settings), document.id, expires)
    return f"{FILES}/{document.id}?exp={expires}&sig={signature}"


def check_link(
    settings: Settings,
    document_id: str,
    expires: str | None,
    signature: str | None,
    *,
    now: datetime,
) -> None:
    """Refuse a link that was not signed here for this document (403 ``link_signature``) or
    whose time is up (403 ``link_expired``)."""
    # ASCII digits only: "²" is a digit to isdigit() and not to int()
    if not (expires and expires.isascii() and expires.isdigit() and len(expires) <= 12):
        raise Forbidden("this file link is incomplete", field="sig", rule="link_signature")
    if not signature:
        raise Forbidden("this file link is incomplete", field="sig", rule="link_signature")
    wanted = _signature(signing_key(settings), document_id, int(expires))
    if not hmac.compare_digest(wanted, signature):
        raise Forbidden("this file link was not signed here", field="sig", rule="link_signature")
    if int(expires) < now.timestamp():
        raise Forbidden(
            "this file link has expired: open the page again for a new one",
            field="exp",
            rule="link_expired",
        )


async def served(
    session: AsyncSession,
    *,
    settings: Settings,
    document_id: str,
    expires: str | None,
    signature: str | None,
    now: datetime,
) -> tuple[Document, bytes]:
    """The document a good link names and its bytes (403 for a bad link, 404 when gone)."""
    check_link(settings, document_id, expires, signature, now=now)
    row = await session.get(Document, document_id)
    if row is None:
        raise NotFound(f"document {document_id} not found", field="document_id")
    data = await asyncio.to_thread(storage_for(settings).read, row.storage_key)
    return row, data

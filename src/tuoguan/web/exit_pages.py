"""Console pages of leaving full-managed (退出全托管, S4, S5), the seller's side.

``/console/exits`` is one page per full-managed store of the seller (operators reach any
store's with ``?store=``; without one they get their queue, ``exit_review_pages``): the terms
and what they cost (the fees, the timing), what stands in the way (each thing linked to its
page), what unbinding would do with the money, the one-click export with its progress and its
download, the application form with its documents, each step's status, the unbind choice and
closing the store, which asks for a confirmation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.errors import DomainError
from tuoguan.exits import archive, close, service, unbind
from tuoguan.exits.models import ExitStatus, StockChoice
from tuoguan.exits.reads import documents_of
from tuoguan.exits.schemas import ExitApply, ExitUnbind
from tuoguan.exports.states import ExportStatus
from tuoguan.kit.i18n import N_
from tuoguan.onboarding import documents
from tuoguan.principal import Role
from tuoguan.stores import service as stores
from tuoguan.stores.models import Store, StoreMode
from tuoguan.web import exit_review_pages
from tuoguan.web.console import _db, _render, checked_form, request_ctx, request_language
from tuoguan.web.exit_forms import ITEM_WORDS, RULE_WORDS, refusal_errors, whoami
from tuoguan.web.forms import REFUSED, Errors, FormProblem, status_of
from tuoguan.web.stock_pages import error_page, say, viewer_zone

router = APIRouter(include_in_schema=False)
EXITS = "/console/exits"
# How many papers one application form carries (each at most TUOGUAN_DOCUMENT_MAX_BYTES).
FORM_FILES = 3
DOCUMENT_BODY_BYTES = 32 * 1_048_576 + 64 * 1024
LARGER_BODIES = ((re.compile(rf"^{EXITS}/apply$"), FORM_FILES * DOCUMENT_BODY_BYTES),)
REFRESH_SECONDS = 3  # how often a page with an archive being written reloads itself

DONE = {
    "archive": N_("exit_done_archive"),
    "applied": N_("exit_done_applied"),
    "unbound": N_("exit_done_unbound"),
    "closed": N_("exit_done_closed"),
}
STEPS = ("applied", "reviewed", "notice", "unbound", "closed")


def steps(row: Any) -> list[tuple[str, str, Any]]:
    """Each step of an application: (step, done | current | rejected | waiting, when)."""
    if row is None:
        return [(step, "waiting", None) for step in STEPS]
    status = row.status
    reviewed = status is not ExitStatus.applied
    approved = reviewed and status is not ExitStatus.rejected

    def then(at: Any, now_due: bool) -> tuple[str, Any]:
        return ("done", at) if at else ("current", None) if now_due else ("waiting", None)

    state = {
        "applied": ("done", row.created_at),
        "reviewed": (
            ("rejected" if status is ExitStatus.rejected else "done", row.decided_at)
            if reviewed
            else ("current", None)
        ),
        "notice": ("done", row.decided_at) if approved else ("waiting", None),
        "unbound": then(row.unbound_at, status is ExitStatus.approved),
        "closed": then(row.closed_at, status is ExitStatus.unbound),
    }
    return [(step, *state[step]) for step in STEPS]


async def _page(
    request: Request,
    user: User,
    web_session: WebSession,
    store_id: str | None,
    *,
    errors: Errors | None = None,
    form: Mapping[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            if principal.is_operator and store_id:
                store: Store | None = await stores.get_store(
                    session, principal=principal, store_id=store_id
                )
                choices = [store] if store else []
            else:
                own, _ = await stores.list_stores(session, principal=principal, limit=200)
                choices = [s for s in own if s.mode is StoreMode.full_managed]
                store = next((s for s in choices if s.id == store_id), None) or (
                    choices[0] if choices else None
                )
            found = await service.page_of(session, store, now) if store else None
            application = found.application if found else None
            papers = await documents_of(session, [application] if application else [])
            links = {
                d.id: documents.signed_link(request.app.state.settings, d, now=now)
                for d in papers.values()
            }
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    archived = found.archive if found else None
    running = archived is not None and archived.status in (
        ExportStatus.queued,
        ExportStatus.running,
    )
    return _render(
        request,
        "exit.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "stores": [(s.id, s.name) for s in choices],
            "store": store,
            "found": found,
            "application": application,
            "papers": [
                (papers[d], links[d])
                for d in (application.document_ids if application else [])
                if d in papers
            ],
            "steps": steps(application),
            "archive": found.archive if found else None,
            "percent": archive.percent(found.archive) if found and found.archive else 0,
            "rule_words": RULE_WORDS,
            "item_words": ITEM_WORDS,
            "is_seller": user.role is Role.seller,
            "zone": viewer_zone(user) or (store.timezone if store else None),
            "refresh_url": f"{EXITS}?store={store.id}" if running and store else None,
            "refresh_seconds": REFRESH_SECONDS,
            "errors": errors or {},
            "form": form or {},
            "message": message,
            "form_files": FORM_FILES,
            "choices": [c.value for c in StockChoice],
        },
        status_code,
    )


@router.get(EXITS, response_model=None)
async def exits_page(
    request: Request,
    store: Annotated[str | None, Query(max_length=40)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """S4: a store's exit page (a seller's full-managed stores; an operator's any, with
    ``?store=``); operators without a store get their queue."""
    checked = await whoami(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    if user.role is Role.operator and not store:
        return await exit_review_pages.queue_page(request, user, web_session, cursor=cursor)
    message = say(request, DONE[done]) if done in DONE else None
    return await _page(request, user, web_session, store, message=message)


def _back(store_id: str, done: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"{EXITS}?store={store_id}&done={done}{anchor}", status_code=303)


@router.post(EXITS + "/archive", response_model=None)
async def start_archive(request: Request) -> Response:
    """The one-click export: queue the store's archive."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    store_id = form.get("store", "")[:40]
    try:
        async with _db(request).write() as session:
            ctx = request_ctx(request, user)
            await archive.start(
                session, ctx=ctx, store_id=store_id, language=request_language(request)
            )
            await session.commit()
    except DomainError as exc:
        errors = {f"archive-{k}": v for k, v in refusal_errors(request, exc).items()}
        return await _page(
            request, user, web_session, store_id, errors=errors, status_code=status_of(exc)
        )
    return _back(store_id, "archive", "#archive")


@router.get(EXITS + "/{store_id}/archive/download", response_model=None)
async def download_archive(request: Request, store_id: str) -> Response:
    """The store's finished archive (its seller and operators only)."""
    checked = await whoami(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    try:
        async with _db(request).read() as session:
            found, path = await archive.archive_file(
                session,
                principal=accounts.principal_for_user(user),
                store_id=store_id[:40],
                export_dir=request.app.state.settings.export_dir,
            )
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"exit-archive-{found.created_at:%Y%m%d}.zip",
        headers={"Cache-Control": "private, no-store"},
    )


async def _files(request: Request) -> list[tuple[bytes, str | None]]:
    """The papers chosen in the apply form (at most ``FORM_FILES``)."""
    form = await request.form(max_files=FORM_FILES + 1, max_fields=20)
    limit = request.app.state.settings.document_max_bytes + 1
    found = []
    for upload in form.getlist("files"):
        if isinstance(upload, UploadFile) and upload.filename:
            found.append((await upload.read(limit), upload.filename))
    if len(found) > FORM_FILES:
        raise FormProblem(N_("exit_err_too_many_files"), "files", most=FORM_FILES)
    return found


@router.post(EXITS + "/apply", response_model=None)
async def apply(request: Request) -> Response:
    """The seller applies: reason, papers, the fees acknowledged."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    store_id = form.get("store", "")[:40]
    try:
        papers = await _files(request)
        async with _db(request).write() as session:
            ctx = request_ctx(request, user)
            settings = request.app.state.settings
            ids = []
            for content, name in papers:
                row = await documents.upload(
                    session,
                    ctx=ctx,
                    storage=documents.storage_for(settings),
                    settings=settings,
                    store_id=store_id,
                    purpose=service.PURPOSE,
                    data=content,
                    file_name=name,
                )
                ids.append(row.id)
            data = ExitApply.model_validate(
                {
                    "reason": form.get("reason", ""),
                    "document_ids": ids,
                    "fees_acknowledged": form.get("fees_acknowledged") == "yes",
                },
                strict=False,
            )
            await service.apply(session, ctx, store_id=store_id, data=data)
            await session.commit()
    except REFUSED as exc:
        return await _page(
            request,
            user,
            web_session,
            store_id,
            errors=refusal_errors(request, exc),
            form=form,
            status_code=status_of(exc),
        )
    return _back(store_id, "applied")


def _address(form: Mapping[str, str]) -> dict[str, Any] | None:
    fields = ("name", "phone", "line1", "line2", "city", "region", "postcode", "country")
    found = {k: form.get(f"address_{k}", "").strip() for k in fields}
    if not any(found.values()):
        return None
    found["country"] = found["country"].upper()
    return {k: v for k, v in found.items() if v or k in ("name", "phone", "line1", "city")}


@router.post(EXITS + "/{exit_id}/unbind", response_model=None)
async def unbind_exit(request: Request, exit_id: str) -> Response:
    """Unbind an approved exit with the seller's choice for its stock."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    store_id = form.get("store", "")[:40]
    try:
        choice = form.get("stock", "")
        data = ExitUnbind.model_validate(
            {
                "stock": choice,
                "return_address": _address(form) if choice == StockChoice.return_.value else None,
            },
            strict=False,
        )
        async with _db(request).write() as session:
            row = await unbind.unbind(
                session, request_ctx(request, user), exit_id=exit_id[:40], data=data
            )
            store_id = row.store_id
            await session.commit()
    except REFUSED as exc:
        errors = {f"unbind-{k}": v for k, v in refusal_errors(request, exc).items()}
        return await _page(
            request,
            user,
            web_session,
            store_id,
            errors=errors,
            form=form,
            status_code=status_of(exc),
        )
    return _back(store_id, "unbound")


@router.post(EXITS + "/close", response_model=None)
async def close_store(request: Request) -> Response:
    """Close an exited store, confirmed."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    store_id = form.get("store", "")[:40]
    try:
        async with _db(request).write() as session:
            closed = await close.close_store(
                session,
                request_ctx(request, user),
                store_id=store_id,
                confirm=form.get("confirm") == "yes",
            )
            await session.commit()
        await close.forget_files(request.app.state.settings, closed)
    except REFUSED as exc:
        errors = {f"close-{k}": v for k, v in refusal_errors(request, exc).items()}
        return await _page(
            request, user, web_session, store_id, errors=errors, status_code=status_of(exc)
        )
    return _back(store_id, "closed")


router.include_router(exit_review_pages.router)

"""Warehouse staff's receiving screen (收货, R1-R2), made for a phone and a barcode scanner that
types and presses Enter: one input takes the ASN number or the carrier's tracking number, then
each SKU scanned counts one good unit. Defective units, discrepancies with photos and the
finish are buttons and forms: the page works without JavaScript. The discrepancy forms and the
photos are in ``discrepancy_pages.py``; the pick list (拣货单, F11) in ``picking_pages.py``.

Staff act only on the notices of their warehouses (the services scope them); operators may use
the screen too. Everyone else is sent home.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.cases import reads as case_reads
from tuoguan.context import Ctx
from tuoguan.errors import DomainError
from tuoguan.fulfilment import inbound, inbound_reads, receiving
from tuoguan.fulfilment.inbound_schemas import CountsCreate, InboundNoticeRead
from tuoguan.fulfilment.inbound_states import RECEIVERS
from tuoguan.fulfilment.models import DiscrepancyKind, InboundStatus
from tuoguan.web.console import (
    WAREHOUSE_HOME,
    _current,
    _db,
    _render,
    _to_login,
    checked_form,
    home_for,
    request_ctx,
)
from tuoguan.web.forms import (
    REFUSED,
    Errors,
    FormProblem,
    Refused,
    errors_of,
    status_of,
    whole,
)
from tuoguan.web.inbound_pages import notice_shown
from tuoguan.web.stock_pages import (
    OPERATOR_ZONE,
    error_page,
    say,
    warehouses_by_id,
)

router = APIRouter(include_in_schema=False)
RECEIVING = f"{WAREHOUSE_HOME}/receiving"
# Notices waiting at the dock or being counted: the landing list.
TO_RECEIVE = (InboundStatus.in_transit, InboundStatus.arrived, InboundStatus.receiving)
COUNTABLE = frozenset(TO_RECEIVE)
# What staff record by hand; a short count is recorded by Finish receiving.
KINDS = (DiscrepancyKind.damaged, DiscrepancyKind.over, DiscrepancyKind.wrong_sku)
MAX_UNITS_AT_ONCE = 10_000


# A receiving form's field that the schema or the service refused (its last part), as the
# form's own field; and the words for a schema's refusal of it.
FIELDS = {
    "code": "code",
    "sku_id": "code",
    "good": "quantity",
    "defective": "quantity",
    "kind": "kind",
    "note": "note",
    "file": "photo",
}
COUNT_KEYS = {
    "good": "err_quantity",
    "defective": "err_quantity",
    "code": "err_scan_code",
    "kind": "err_pick_kind",
    "note": "err_note",
}

T = TypeVar("T")


def _receiver(user: User) -> bool:
    return user.role in RECEIVERS


def photo_url(notice_id: str, discrepancy_id: str, n: int) -> str:
    """Where staff's screen serves a discrepancy's photo."""
    return f"{RECEIVING}/{notice_id}/photos/{discrepancy_id}/{n}"


def _page_url(notice_id: str, **notes: str) -> str:
    return f"{RECEIVING}/{notice_id}" + (f"?{urlencode(notes)}" if notes else "")


async def _zones(
    session: AsyncSession, user: User, notices: list[InboundNoticeRead]
) -> dict[str, str]:
    """The zone each notice's times read in: its warehouse's for staff, China's for operators."""
    found = await warehouses_by_id(session, [n.warehouse_id for n in notices])
    return {
        n.id: OPERATOR_ZONE
        if user.role.value == "operator" or n.warehouse_id not in found
        else found[n.warehouse_id].timezone
        for n in notices
    }


def _errors(request: Request, exc: Refused, form_name: str, code: str = "") -> Errors:
    """A refusal beside the field of the form ``form_name`` it concerns ("count.quantity"), or
    on that form as a whole."""

    def place(path: str) -> str:
        field = FIELDS.get(path.split(".")[-1])
        return f"{form_name}.{field}" if field else form_name

    return errors_of(request, exc, place=place, keys=COUNT_KEYS, code=code)


# -- finding the notice -----------------------------------------------------------------------


@router.get(RECEIVING, response_model=None)
async def receiving_home(
    request: Request, code: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    """The scanner's first input: an ASN number or a tracking number opens its notice; without
    one, the notices on their way to or being received at the user's warehouses."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    if not _receiver(user):
        return RedirectResponse(home_for(user), status_code=303)
    principal = accounts.principal_for_user(user)
    scanned = (code or "").strip()
    try:
        async with _db(request).read() as session:
            if scanned:
                found = await inbound_reads.lookup(session, principal=principal, code=scanned)
                if len(found) == 1:
                    return RedirectResponse(_page_url(found[0].id), status_code=303)
            else:
                found, _ = await inbound_reads.list_notices(
                    session, principal=principal, statuses=TO_RECEIVE, limit=50
                )
            shown = await inbound_reads.present(
                session, principal=principal, notices=found, photo_url=photo_url
            )
            zones = await _zones(session, user, shown)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    return _render(
        request,
        "receiving_home.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "code": scanned,
            "notices": shown,
            "zones": zones,
            "error": say(request, "recv_not_found", code=scanned)
            if scanned and not shown
            else None,
        },
        404 if scanned and not shown else 200,
    )


# -- one notice -------------------------------------------------------------------------------


async def _notice_page(
    request: Request,
    user: User,
    web_session: WebSession,
    notice_id: str,
    *,
    message: str | None = None,
    errors: Errors | None = None,
    form: dict[str, str] | None = None,
    counted: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    shown = await notice_shown(
        request, user, web_session, notice_id, photo_url=photo_url, zones=_zones
    )
    if isinstance(shown, Response):
        return shown
    notice, names, zone = shown
    message = _counted_message(request, notice, counted or {}) or message
    countable = notice.status in COUNTABLE
    closable = "close" in notice.allowed_actions
    # The forms this page shows, which show their own problems; the others' go on top.
    forms = {
        *(("count", "discrepancy") if countable else ()),
        *(("arrive",) if notice.status is InboundStatus.in_transit else ()),
        *(("close",) if closable else ()),
    }
    async with _db(request).read() as session:
        cases = await case_reads.by_discrepancy(session, notice.id)
    return _render(
        request,
        "receiving.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "notice": notice,
            "cases": cases,
            "names": names,
            "countable": countable,
            "closable": closable,
            "stray": [
                text for field, text in (errors or {}).items() if field.split(".")[0] not in forms
            ],
            "kinds": KINDS,
            "zone": zone,
            "message": message,
            "errors": errors or {},
            "form": form or {},
        },
        status_code,
    )


def _counted_message(
    request: Request, notice: InboundNoticeRead, params: dict[str, str]
) -> str | None:
    """What the last scan counted, named from the notice's own line (never text from the URL)."""
    line = next((li for li in notice.lines if li.sku_id == params.get("counted")), None)
    if line is None:
        return None
    attributes = " / ".join(line.attributes.values())
    name = f"{line.product_name} · {attributes}" if attributes else line.product_name
    units = params.get("n", "1")
    key = "recv_counted_defective" if params.get("defective") else "recv_counted"
    return say(request, key, name=name, n=units if units.isdigit() else "1")


@router.get(RECEIVING + "/{notice_id}", response_model=None)
async def receiving_notice(request: Request, notice_id: str) -> Response:
    """A notice's lines, expected against counted, and the scanner's input for its SKUs."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    if not _receiver(user):
        return RedirectResponse(home_for(user), status_code=303)
    params = {k: v[:200] for k, v in request.query_params.items()}
    notes = {
        "closed": "recv_closed",
        "recorded": "recv_discrepancy_recorded",
        "photo": "recv_photo_added",
        "arrived": "recv_arrived",
    }
    message = next((say(request, key) for flag, key in notes.items() if flag in params), None)
    return await _notice_page(
        request, user, web_session, notice_id, message=message, counted=params
    )


async def _arrived(session: AsyncSession, ctx: Ctx, notice_id: str) -> None:
    """Cartons being counted are at the dock: a notice still in transit arrives first."""
    found = await inbound.get_notice(session, principal=ctx.principal, notice_id=notice_id)
    if found.status is InboundStatus.in_transit:
        await receiving.arrive(session, ctx=ctx, notice_id=notice_id)


def _units(form: dict[str, str], form_name: str) -> int:
    """How many units the form counts (one unless told), 1 to ``MAX_UNITS_AT_ONCE``."""
    units = whole(form.get("quantity", "").strip() or "1", "err_quantity", f"{form_name}.quantity")
    if not 1 <= units <= MAX_UNITS_AT_ONCE:
        raise FormProblem("err_quantity", f"{form_name}.quantity")
    return units


def _scanned(form: dict[str, str], form_name: str) -> str:
    code = form.get("code", "").strip()
    if not code:
        raise FormProblem("err_scan_code", f"{form_name}.code")
    return code


async def _checked_receiver(request: Request) -> tuple[User, WebSession, dict[str, str]] | Response:
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    if not _receiver(checked[0]):
        return RedirectResponse(home_for(checked[0]), status_code=303)
    return checked


Work = Callable[[AsyncSession, Ctx], Awaitable[dict[str, str]]]


async def _act(
    request: Request, notice_id: str, form_name: str, work: Callable[[dict[str, str]], Work]
) -> Response:
    """One step on a notice from the form ``form_name`` (count, discrepancy, arrive, close...):
    ``work(form)`` runs in one transaction as the signed-in receiver and says what to note on
    the notice's page, where it goes next; a refusal shows the page again, its problem on that
    form and what was typed kept."""
    checked = await _checked_receiver(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    try:
        async with _db(request).write() as session:
            notes = await work(form)(session, request_ctx(request, user))
            await session.commit()
    except REFUSED as exc:
        code = form.get("code", "").strip()
        return await _notice_page(
            request,
            user,
            web_session,
            notice_id,
            errors=_errors(request, exc, form_name, code),
            form=form,
            status_code=status_of(exc),
        )
    return RedirectResponse(_page_url(notice_id, **notes), status_code=303)


@router.post(RECEIVING + "/{notice_id}/count", response_model=None)
async def count(request: Request, notice_id: str) -> Response:
    """Count units of the SKU scanned or typed (one good unit unless told otherwise); a notice
    still in transit arrives first. Refused whole when the SKU or the number does not fit."""

    def counting(form: dict[str, str]) -> Work:
        code, units = _scanned(form, "count"), _units(form, "count")
        defective = form.get("defective") == "1"
        body = CountsCreate.model_validate(
            {
                "counts": [
                    {
                        "code": code,
                        "good": 0 if defective else units,
                        "defective": units if defective else 0,
                    }
                ]
            }
        )

        async def work(session: AsyncSession, ctx: Ctx) -> dict[str, str]:
            await _arrived(session, ctx, notice_id)
            await receiving.count(session, ctx=ctx, notice_id=notice_id, data=body)
            line = await receiving.find_line(
                session, principal=ctx.principal, notice_id=notice_id, code=code
            )
            return {
                "counted": line.sku_id,
                "n": str(units),
                **({"defective": "1"} if defective else {}),
            }

        return work

    return await _act(request, notice_id, "count", counting)


def _step(
    step: Callable[..., Awaitable[object]], notice_id: str, **done: str
) -> Callable[[dict[str, str]], Work]:
    """A receiving step on a notice (arrive, finish) that needs nothing from its form."""

    def stepping(_: dict[str, str]) -> Work:
        async def work(session: AsyncSession, ctx: Ctx) -> dict[str, str]:
            await step(session, ctx=ctx, notice_id=notice_id)
            return done

        return work

    return stepping


@router.post(RECEIVING + "/{notice_id}/arrive", response_model=None)
async def arrive(request: Request, notice_id: str) -> Response:
    """The cartons reached the dock (到仓)."""
    return await _act(request, notice_id, "arrive", _step(receiving.arrive, notice_id, arrived="1"))


@router.post(RECEIVING + "/{notice_id}/close", response_model=None)
async def finish(request: Request, notice_id: str) -> Response:
    """Finish receiving (收货完成): what was not counted is recorded short."""
    return await _act(request, notice_id, "close", _step(receiving.close, notice_id, closed="1"))

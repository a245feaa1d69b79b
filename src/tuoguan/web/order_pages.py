"""Console pages of orders: the list with its deadlines (O5), one order with its timeline,
shipments and claims, and the actions its state allows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.cases import service as case_service
from tuoguan.cases.models import Case
from tuoguan.errors import DomainError, NotFound
from tuoguan.fulfilment import service as fulfilment
from tuoguan.inventory import repository as inventory
from tuoguan.kit.i18n import N_
from tuoguan.orders import service as orders
from tuoguan.orders import views
from tuoguan.orders.repository import OrderFilter
from tuoguan.orders.schemas import ActionBody, CancelBody, OrderRead, ShipBody
from tuoguan.orders.states import DEADLINE_OF, OrderAction, OrderStatus
from tuoguan.principal import Role
from tuoguan.shipping import cancellation, claims, printing, shipments, tracking
from tuoguan.shipping.shipment_schemas import CancelReason, ShipmentRead
from tuoguan.stores import service as stores
from tuoguan.stores.modes import Party
from tuoguan.web import order_view, owners
from tuoguan.web.console import (
    _current,
    _db,
    _render,
    _to_login,
    checked_form,
    request_ctx,
    request_language,
)
from tuoguan.web.order_view import Words

router = APIRouter(include_in_schema=False)


@router.get("/console/orders", response_model=None)
async def order_list(
    request: Request,
    status_param: Annotated[str | None, Query(alias="status", max_length=40)] = None,
    sort_param: Annotated[str | None, Query(alias="sort", max_length=20)] = None,
    q: str | None = None,
    seller: Annotated[str | None, Query(max_length=40)] = None,
    store: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """O5: each order with its next deadline and the time left, and whose it is (store and
    seller); narrowed by state, seller and store, or found by a search (G7): an order number,
    a tracking number, the buyer's name or phone, a product's name or SKU code."""
    current = await _current(request)
    if current is None:
        return _to_login()
    # The filter form sends "" for "all"; anything unknown falls back to the default view.
    status = OrderStatus(status_param) if status_param in set(OrderStatus) else None
    sort = sort_param if sort_param in ("newest", "deadline") else "deadline"
    # Finished orders have no deadline running, so the deadline order would list none.
    if status is not None and status not in DEADLINE_OF:
        sort = "newest"
    search = " ".join((q or "")[:200].split()) or None
    if search:  # a search looks in every state, newest first (the API's rule)
        status, sort = None, "newest"
    user, web_session = current
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            chosen = await owners.filters(session, principal, seller, store)
            flt = OrderFilter(
                statuses=(status,) if status else (),
                seller_id=chosen.seller_id,
                store_id=chosen.store_id,
                q=search,
                sort=sort,
                cursor=cursor,
                limit=50,
            )
            rows, next_cursor = await orders.list_orders(session, principal=principal, flt=flt)
            items = await views.present_many(session, rows, principal=principal, now=now)
            labelled = await printing.printable(
                session, principal=principal, order_ids=[r.id for r in rows]
            )
            whose = await owners.owners(session, {r.store_id for r in rows})
    except DomainError:
        return RedirectResponse("/console/orders", status_code=303)
    kept = {
        "sort": sort,
        **({"status": status.value} if status else {}),
        **({"q": search} if search else {}),
        **chosen.query(),
    }
    next_url = next_cursor and "/console/orders?" + urlencode({**kept, "cursor": next_cursor})
    return _render(
        request,
        "orders.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "orders": items,
            "labelled": labelled,
            "owners": whose,
            "filters": chosen,
            "q": search,
            "status": status,
            "statuses": list(OrderStatus),
            "sort": sort,
            "next_url": next_url,
            "now": now,
        },
    )


# -- one order ---------------------------------------------------------------------------------

# What the page says after an action, by the ``done`` the action's redirect names.
_DONE = {
    "confirm": N_("done_confirm"),
    "ship": N_("done_ship"),
    "deliver": N_("done_deliver"),
    "complete": N_("done_complete"),
    "cancel": N_("done_cancel"),
    "shipment_created": N_("done_shipment_created"),
    "shipment_submit": N_("done_shipment_submit"),
    "shipment_pickup": N_("done_shipment_pickup"),
    "shipment_self-drop": N_("done_shipment_self_drop"),
    "shipment_cancel": N_("done_shipment_cancel"),
    "shipment_refresh": N_("done_tracking"),
    "claim": N_("done_claim"),
}
# A refusal of an order action, by its rule or code, as words that say what to do.
_REFUSALS = {
    "one_live_shipment": N_("err_one_live_shipment"),
    "parcel_unstoppable": N_("err_parcel_unstoppable"),  # O4: a return once delivered
    "illegal_transition": N_("err_order_state"),
    "concurrent_update": N_("err_concurrent"),
    "busy": N_("err_busy"),
    "not_found": N_("err_not_found"),
    "forbidden": N_("err_forbidden"),
}
# A form field the action's body refused, as words beside that field.
_FIELD_ERRORS = {
    "carrier_code": N_("err_carrier_code"),
    "tracking_number": N_("err_tracking_number"),
    "reason": N_("err_reason"),
}


@dataclass(frozen=True)
class Problem:
    """Why an action did not happen, in the reader's words, and the field to fix if any."""

    text: str
    field: str | None = None
    action: str | None = None


def say(request: Request, key: str, **parts: Any) -> str:
    """A message in the reader's language, its {placeholders} filled."""
    return Words(request_language(request), request.app.state.clock.now())(key, **parts)


def _problem(request: Request, exc: Exception, action: str | None = None) -> Problem:
    if isinstance(exc, ValidationError):
        for error in exc.errors():
            field_name = str(error["loc"][-1]) if error["loc"] else ""
            if field_name in _FIELD_ERRORS:
                return Problem(say(request, _FIELD_ERRORS[field_name]), field_name, action)
        return Problem(say(request, N_("err_form")), None, action)
    if isinstance(exc, DomainError):
        key = _REFUSALS.get(str(exc.extra.get("rule") or exc.code))
        text = say(request, key) if key else say(request, N_("err_order_refused"))
        named = exc.field if exc.field in _FIELD_ERRORS else None
        return Problem(text, named, action)
    return Problem(say(request, N_("err_form")), None, action)


async def _detail(
    request: Request,
    session: AsyncSession,
    user: User,
    web_session: WebSession,
    order_id: str,
    *,
    message: str | None = None,
    error: str | Problem | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    words = Words(request_language(request), now)
    order = await orders.get_order(session, principal=principal, order_id=order_id)
    (view,) = await views.present_many(session, [order], principal=principal, now=now)
    assert isinstance(view, OrderRead)  # sellers and operators read the whole order
    store = await stores.get_store(session, principal=principal, store_id=order.store_id)
    seller = (
        await stores.get_seller(session, principal=principal, seller_id=order.seller_id)
        if principal.is_operator
        else None
    )
    events = await orders.events(session, principal=principal, order_id=order_id)
    rows = await shipments.for_order(session, principal=principal, order_id=order_id)
    history = {row.id: await tracking.events(session, row.id) for row in rows}
    carriers = await order_view.carrier_names(
        session, [r.carrier_code for r in rows] + [order.carrier_code]
    )
    order_claims, _ = await claims.list_claims(session, principal=principal, order_id=order_id)
    # G4, G6: the buyer's disputes and returns on this order, linked to their pages.
    order_cases = list(
        await session.scalars(
            case_service.visible(principal).where(Case.order_id == order_id).order_by(Case.id)
        )
    )
    # F11: the platform ships from its warehouse; its progress is shown, not the seller's steps.
    flow = await fulfilment.fulfilment_orders(session, principal=principal, order_id=order_id)
    platform = next((fo for fo in flow if fo.shipper is Party.platform), None)
    warehouse = (
        await inventory.get_warehouse(session, platform.warehouse_id)
        if platform and platform.warehouse_id
        else None
    )
    presented = [shipments.present(r, principal) for r in rows]
    parcels = order_view.parcels(
        [p for p in presented if isinstance(p, ShipmentRead)],
        history,
        carriers=carriers,
        services=await order_view.service_names(session, [r.service_code for r in rows]),
        places={r.id: (r.sender.get("country"), r.receiver.get("country")) for r in rows},
        store_zone=store.timezone,
        words=words,
    )
    problem = error if isinstance(error, Problem) else Problem(error) if error else None
    # F10: while a parcel is live the order ships under its tracking number, by its steps:
    # neither another online shipment nor a hand-typed tracking number is offered.
    live = next((p for p in parcels if p.live), None)
    platform_ships = platform is not None and principal.role is Role.seller
    hold_ship = platform_ships or live is not None
    actions = [a for a in view.allowed_actions if not (a is OrderAction.ship and hold_ship)]
    ship_online = (
        view.status is OrderStatus.awaiting_shipment
        and OrderAction.ship in view.allowed_actions
        and not hold_ship
    )
    if problem and problem.field and problem.action not in {a.value for a in actions}:
        problem = Problem(problem.text)  # its form is not shown: said at the top instead
    return _render(
        request,
        "order.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "order": view,
            "store": store,
            "seller_name": seller.name if seller else None,
            "missed": order_view.missed_badge(view),
            "deadline_rows": order_view.deadline_rows(view, words),
            "zone_places": {
                store.timezone: order_view.country_name(store.country, words.lang),
                order_view.zone_of(view.country, store.timezone): order_view.country_name(
                    view.country, words.lang
                ),
            },
            "destination": order_view.country_name(view.country, words.lang),
            "fees": order_view.fees(view),
            # The seller's own code for the variant; a product with one SKU the seller never
            # coded carries the product's id as its code, which says nothing to a person.
            "sku_codes": {
                line.sku_id: line.sku.code
                for line in order.lines
                if line.sku.code != line.product_id
            },
            "events": await order_view.timeline(session, events, viewer=principal, words=words),
            "parcels": parcels,
            "live_parcel": live,
            "actions": actions,
            "ship_online": ship_online,
            "carrier_name": carriers.get(view.carrier_code or "", view.carrier_code),
            "cancel_reasons": list(CancelReason),
            "claims": order_claims,
            "order_cases": order_cases,
            "claimable": {k.value: [s.value for s in v] for k, v in claims.CLAIMABLE.items()},
            "platform_flow": platform,
            "platform_warehouse": warehouse,
            "message": message,
            "problem": problem,
            "now": now,
        },
        status_code,
    )


def _done_message(request: Request, done: str | None, new: int | None) -> str | None:
    if not done:
        return None
    if done == "shipment_refresh" and new is not None:
        return (
            say(request, N_("done_tracking_new"), count=new)
            if new
            else say(request, N_("done_tracking_none"))
        )
    return say(request, _DONE.get(done, "done"))


def _error_page(request: Request, user: User, csrf: str, exc: DomainError) -> HTMLResponse:
    text = _problem(request, exc).text
    return _render(
        request, "error.html", {"user": user, "csrf": csrf, "error": text}, exc.http_status
    )


@router.get("/console/orders/{order_id}", response_model=None)
async def order_detail(
    request: Request,
    order_id: str,
    done: Annotated[str | None, Query(max_length=40)] = None,
    new: Annotated[int | None, Query(ge=0, le=10_000)] = None,
) -> Response:
    """One order: its fees, deadlines, parcels with their tracking, timeline and the actions
    its state allows."""
    current = await _current(request)
    if current is None:
        return _to_login()
    try:
        async with _db(request).read() as session:
            return await _detail(
                request, session, *current, order_id, message=_done_message(request, done, new)
            )
    except DomainError as exc:
        return _error_page(request, current[0], current[1].csrf_token, exc)


def _action_body(action: OrderAction, form: dict[str, str]) -> Any:
    if action is OrderAction.ship:
        return ShipBody(
            carrier_code=form.get("carrier_code", "").strip().lower(),
            tracking_number=form.get("tracking_number", "").strip().upper(),
        )
    if action is OrderAction.cancel:
        return CancelBody(reason=form.get("reason", ""))
    reason = form.get("reason", "").strip()
    return ActionBody(reason=reason or None)


@router.post("/console/orders/{order_id}/{action}", response_model=None)
async def order_action(request: Request, order_id: str, action: str) -> Response:
    """Run one order action from the console (CSRF-checked), then show the order again."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    if action not in set(OrderAction):
        return _error_page(
            request, user, web_session.csrf_token, NotFound(f"no action {action}", field="action")
        )
    kind = OrderAction(action)
    ctx = request_ctx(request, user)
    try:
        body = _action_body(kind, form)
        async with _db(request).write() as session:
            if kind is OrderAction.cancel:
                # O4 with F10: a booked parcel is voided by the carrier before the order ends.
                await cancellation.cancel_order(session, ctx=ctx, order_id=order_id, body=body)
            else:
                await orders.act(session, ctx=ctx, order_id=order_id, action=kind, body=body)
            await session.commit()
        return RedirectResponse(f"/console/orders/{order_id}?done={kind.value}", status_code=303)
    except ValidationError as exc:
        problem, status_code = _problem(request, exc, kind.value), 422
    except DomainError as exc:
        problem, status_code = _problem(request, exc, kind.value), exc.http_status
    try:
        async with _db(request).read() as session:
            return await _detail(
                request,
                session,
                user,
                web_session,
                order_id,
                error=problem,
                status_code=status_code,
            )
    except DomainError as exc:
        return _error_page(request, user, web_session.csrf_token, exc)

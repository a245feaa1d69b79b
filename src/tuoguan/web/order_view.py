"""How the order page puts an order into words (G7): who did what on its timeline, each parcel
with its carrier's tracking history and the delivery commitment (F9, G2), the fees that add up
to the total, and each deadline met, missed or running (O5).

Names come from one query per kind (people, carriers, services, SKUs), never one per row, and
every word is the reader's language: an action, a state or a tracking status is a catalog key
(``event_<action>``, ``shipment_<status>``, ``tracking_code_<code>``), never its raw value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from babel import Locale
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts.models import ApiToken, User
from tuoguan.audit.models import Event
from tuoguan.kit import i18n
from tuoguan.kit.clock import as_utc
from tuoguan.kit.i18n import N_
from tuoguan.orders.schemas import Deadline, OrderRead
from tuoguan.orders.states import DEADLINE_OF, OrderAction, OrderStatus
from tuoguan.principal import Principal, Role
from tuoguan.shipping.carriers.base import CANCEL_REFUSED, CANCELLED
from tuoguan.shipping.models import CarrierAccount, LogisticsService, ShipmentStatus, TrackingEvent
from tuoguan.shipping.shipment_schemas import CancelReason, ShipmentRead
from tuoguan.shipping.states import FINAL, TrackingCode
from tuoguan.timing.places import country_timezone
from tuoguan.web.i18n import MESSAGES, translator


class TimelineNote(StrEnum):
    """Steps on an order's timeline that are not order actions (``OrderAction``) nor a parcel's
    own steps (``ShipmentAction``): each reads as ``event_<value>``."""

    place = "place"  # 下单 (O1)
    deadline_missed = "deadline_missed"  # the running deadline passed (O2, F1)
    fulfilment_reserved = "fulfilment_reserved"  # the platform's warehouse holds the stock (F11)
    fulfilment_picked = "fulfilment_picked"
    fulfilment_packed = "fulfilment_packed"
    fulfilment_cancelled = "fulfilment_cancelled"
    supply_order_created = "supply_order_created"  # 备货单 to the seller (O2 × M5)
    supply_confirmed = "supply_confirmed"
    supply_in_transit = "supply_in_transit"
    supply_received = "supply_received"
    supply_order_cancelled = "supply_order_cancelled"
    shipment_create = "shipment_create"  # 线上发货: label bought (F8)
    shipment_cancelled = "shipment_cancelled"  # the carrier confirmed the cancellation (F10)
    shipment_cancel_refused = "shipment_cancel_refused"
    shipment_cancel_escalated = "shipment_cancel_escalated"
    claim_file = "claim_file"  # insurance claims (G3)
    claim_approve = "claim_approve"
    claim_reject = "claim_reject"


# Where a parcel's status words come from: the carrier's two answers to a cancellation are
# tracking events too, beside the normalized codes (``TrackingCode``).
_ANSWERS = {
    CANCELLED: N_("tracking_code_cancelled"),
    CANCEL_REFUSED: N_("tracking_code_cancel_refused"),
}
# Events that happen where the parcel arrives: shown in the destination's time.
_AT_DESTINATION = frozenset({TrackingCode.out_for_delivery.value, TrackingCode.delivered.value})
# When each deadline's work was done (the order's stamp), to say whether it was in time.
_DONE_AT = {"confirm_by": "confirmed_at", "ship_by": "shipped_at", "deliver_by": "delivered_at"}
_PEOPLE = frozenset({Role.seller, Role.operator, Role.warehouse, Role.buyer_channel})


@dataclass(frozen=True)
class Words:
    """The reader's language, for what Python puts into words."""

    lang: str
    now: datetime

    def __call__(self, key: str, **params: Any) -> str:
        text = translator(self.lang)(key)
        return text.format_map(_Parts(params)) if params else text

    def known(self, key: str) -> str | None:
        """The words of ``key``, or None when no catalog has it."""
        return self(key) if i18n.known(key) or key in MESSAGES else None

    def length(self, delta: timedelta) -> str:
        return i18n.length(abs(delta), self.lang)

    def relative(self, delta: timedelta) -> str:
        return i18n.relative(delta, self.lang)


class _Parts(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


@cache
def _territories(lang: str) -> dict[str, str]:
    locale = Locale.parse("zh_Hans_CN" if i18n.language(lang) == "zh-CN" else "en_US")
    return dict(locale.territories)


def country_name(code: str | None, lang: str) -> str:
    """A country as the reader calls it ("西班牙", "Spain"); an unknown code as itself."""
    if not code:
        return ""
    return _territories(lang).get(code.upper(), code.upper())


def zone_of(country: str | None, fallback: str) -> str:
    """The time zone of a country, or ``fallback`` (a store's zone) when there is none."""
    try:
        return country_timezone(country).key if country else fallback
    except Exception:  # noqa: BLE001 (an address from a carrier may name no real country)
        return fallback


# -- the order's timeline ------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    actor: str
    text: str
    change: str | None
    note: str | None
    action: str


@dataclass(frozen=True)
class _People:
    users: dict[str, tuple[str, Role]]
    tokens: dict[str, tuple[str, Role]]
    carriers: dict[str, str]


async def _people(session: AsyncSession, events: Sequence[Event]) -> _People:
    ids = {e.actor_id for e in events if e.actor_role in _PEOPLE}
    users: dict[str, tuple[str, Role]] = {}
    tokens: dict[str, tuple[str, Role]] = {}
    if ids:
        rows = await session.execute(
            select(User.id, User.display_name, User.role).where(User.id.in_(ids))
        )
        users = {uid: (name, role) for uid, name, role in rows}
        rest = ids - users.keys()
        if rest:
            rows = await session.execute(
                select(ApiToken.id, ApiToken.name, ApiToken.role).where(ApiToken.id.in_(rest))
            )
            tokens = {tid: (name, role) for tid, name, role in rows}
    codes = {_carrier_code(e.actor_id) for e in events if e.actor_role == Role.carrier}
    return _People(users, tokens, await carrier_names(session, codes))


def _carrier_code(actor_id: str) -> str:
    return actor_id.removeprefix("carrier:")


async def carrier_names(session: AsyncSession, codes: Iterable[str | None]) -> dict[str, str]:
    """Carriers' names by code (one query); a code without an account is left out."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    rows = await session.execute(
        select(CarrierAccount.code, CarrierAccount.name).where(CarrierAccount.code.in_(wanted))
    )
    return {code: name for code, name in rows}


async def service_names(session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    """Logistics services' names by code (one query)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = await session.execute(
        select(LogisticsService.code, LogisticsService.name).where(
            LogisticsService.code.in_(wanted)
        )
    )
    return {code: name for code, name in rows}


def _actor(event: Event, people: _People, viewer: Principal, words: Words) -> str:
    """Who acted, by name: a person's display name, an API client's name, the carrier's name;
    the platform's own staff read as "Platform" to a seller; machines by what they are."""
    role = Role(event.actor_role) if event.actor_role in set(Role) else None
    if role is Role.system:
        return words(N_("actor_system"))
    if role is Role.carrier:
        name = people.carriers.get(_carrier_code(event.actor_id))
        return name or words(N_("actor_carrier"))
    if role is Role.buyer_channel:
        return words(N_("actor_storefront"))
    user = people.users.get(event.actor_id)
    if user is not None:
        name, user_role = user
        if viewer.role is Role.seller and user_role is Role.warehouse:
            return words(N_("actor_warehouse"))
        if viewer.role is Role.seller and user_role is Role.operator:
            return words(N_("actor_platform"))
        return name
    token = people.tokens.get(event.actor_id)
    if token is not None and not (viewer.role is Role.seller and token[1] is Role.operator):
        return words(N_("actor_api"), name=token[0])
    if role is Role.warehouse:
        return words(N_("actor_warehouse"))
    if role is Role.seller:
        return words(N_("actor_seller"))
    return words(N_("actor_platform"))


def _state_prefix(action: str) -> str:
    if action.startswith("shipment_"):
        return "shipment_"
    if action.startswith("claim_"):
        return "claim_"
    return ""


def _event_text(event: Event, words: Words) -> str:
    action = event.action
    if action.startswith("shipment_scan_"):
        code = action.removeprefix("shipment_scan_")
        return words(N_("event_shipment_scan"), status=tracking_words(code, words))
    if action == TimelineNote.deadline_missed:
        status = event.from_state or ""
        kind = DEADLINE_OF.get(OrderStatus(status)) if status in set(OrderStatus) else None
        deadline = (kind and words.known(f"deadline_name_{kind}")) or words(N_("deadline"))
        return words(N_("event_deadline_missed"), deadline=deadline)
    return words.known(f"event_{action}") or words(N_("event_other"))


def _change(event: Event, words: Words) -> str | None:
    data = event.data or {}
    if event.action == "refund" and "refunded_minor" in data and "currency" in data:
        # G6: how much went back to the buyer.
        return i18n.money_text(int(data["refunded_minor"]), str(data["currency"]), words.lang)
    if event.from_state == event.to_state or event.to_state is None:
        return None
    prefix = _state_prefix(event.action)
    target = words.known(prefix + event.to_state)
    if target is None:
        return None
    source = words.known(prefix + event.from_state) if event.from_state else None
    return f"{source} → {target}" if source else f"→ {target}"


def _note(event: Event, words: Words) -> str | None:
    """Why, where a person said so (or chose a reason): the platform's own English asides and
    a carrier's words (shown in the tracking history instead) are left out."""
    reason = (event.reason or "").strip()
    if not reason or event.action == TimelineNote.deadline_missed:
        return None
    if reason in set(CancelReason):
        return words(f"cancel_{reason}")
    # An order cancelled on the carrier's answer carries the reason its requester gave.
    carried = event.action == OrderAction.cancel
    if event.actor_role in _PEOPLE or carried:
        return reason
    return None


async def timeline(
    session: AsyncSession, events: Sequence[Event], *, viewer: Principal, words: Words
) -> list[TimelineEntry]:
    """The order's events as a person reads them, newest first."""
    people = await _people(session, events)
    entries = [
        TimelineEntry(
            at=as_utc(e.at),
            actor=_actor(e, people, viewer, words),
            text=_event_text(e, words),
            change=_change(e, words),
            note=_note(e, words),
            action=e.action,
        )
        for e in events
    ]
    return entries[::-1]


# -- parcels and their tracking --------------------------------------------------------------


def tracking_words(code: str, words: Words) -> str:
    """A normalized tracking status in words ("已揽收", "Picked up")."""
    key = _ANSWERS.get(code) or f"tracking_code_{code}"
    return words.known(key) or words(N_("tracking_code_info"))


@dataclass(frozen=True)
class TrackPoint:
    at: datetime
    zone: str
    where: str  # the country whose time ``at`` is shown in
    code: str
    status: str
    place: str | None
    said: str | None


@dataclass(frozen=True)
class Commitment:
    """G2: the carrier's delivery commitment and how it stands."""

    at: datetime
    zone: str
    standing: str  # "left", "late", "met", "missed", "closed"
    words: str


@dataclass
class Parcel:
    view: ShipmentRead
    carrier: str
    service: str
    destination: str
    origin_zone: str
    destination_zone: str
    history: list[TrackPoint] = field(default_factory=list)
    commitment: Commitment | None = None

    @property
    def live(self) -> bool:
        return self.view.status != ShipmentStatus.cancelled


def _commitment(view: ShipmentRead, zone: str, now: datetime, words: Words) -> Commitment | None:
    if view.commit_by is None:
        return None
    at = as_utc(view.commit_by)
    if view.delivered_at is not None:
        slack = at - as_utc(view.delivered_at)
        if slack >= timedelta(0):
            return Commitment(at, zone, "met", words(N_("commit_met"), span=words.length(slack)))
        return Commitment(at, zone, "missed", words(N_("commit_missed"), span=words.length(slack)))
    if ShipmentStatus(view.status) in FINAL:
        return Commitment(at, zone, "closed", "")
    slack = at - now
    if slack >= timedelta(0):
        return Commitment(at, zone, "left", words.relative(slack))
    return Commitment(at, zone, "late", words(N_("late_by"), span=words.length(slack)))


def parcels(
    views: Sequence[ShipmentRead],
    events: dict[str, list[TrackingEvent]],
    *,
    carriers: dict[str, str],
    services: dict[str, str],
    places: dict[str, tuple[str | None, str | None]],
    store_zone: str,
    words: Words,
) -> list[Parcel]:
    """Each parcel (``places``: its sender's and receiver's countries) with names for its
    carrier and service, its tracking history newest first
    (each event in the time of the place it happened: the origin's until it is out for
    delivery, the destination's after) and its delivery commitment (G2)."""
    found = []
    for view in views:
        sender_country, receiver_country = places.get(view.id, (None, None))
        origin_zone = zone_of(sender_country, store_zone)
        destination_zone = zone_of(receiver_country, store_zone)
        origin_name = country_name(sender_country, words.lang)
        destination_name = country_name(receiver_country, words.lang)
        history = [
            TrackPoint(
                at=as_utc(e.occurred_at),
                zone=destination_zone if e.code in _AT_DESTINATION else origin_zone,
                where=destination_name if e.code in _AT_DESTINATION else origin_name,
                code=e.code,
                status=tracking_words(e.code, words),
                place=e.location,
                said=e.detail,
            )
            for e in events.get(view.id, [])
        ]
        history.sort(key=lambda p: p.at, reverse=True)
        found.append(
            Parcel(
                view=view,
                carrier=carriers.get(view.carrier_code, view.carrier_code),
                service=services.get(view.service_code, view.service_code),
                destination=destination_name,
                origin_zone=origin_zone,
                destination_zone=destination_zone,
                history=history,
                commitment=_commitment(view, destination_zone, words.now, words),
            )
        )
    return found


# -- fees and deadlines --------------------------------------------------------------------


@dataclass(frozen=True)
class Fee:
    key: str
    amount_minor: int


def fees(order: OrderRead) -> list[Fee]:
    """What the buyer pays, line by line, adding up to the total in front of the reader: the
    goods, the shipping, and whatever else the total holds."""
    found = [Fee(N_("fee_subtotal"), order.subtotal_minor)]
    found.append(Fee(N_("fee_shipping"), order.shipping_minor))
    other = order.total_minor - order.subtotal_minor - order.shipping_minor
    if other:
        found.append(Fee(N_("fee_other"), other))
    return found


@dataclass(frozen=True)
class DeadlineRow:
    deadline: Deadline
    standing: str  # "running", "met", "late", "ahead"
    words: str


def deadline_rows(order: OrderRead, words: Words) -> list[DeadlineRow]:
    """Each deadline of a live order: the running one counts down; one whose work is done says
    whether it was done in time; none on a cancelled or completed order (nothing runs)."""
    if order.status in (OrderStatus.cancelled, OrderStatus.completed):
        return []
    running = DEADLINE_OF.get(order.status)
    rows = []
    for deadline in order.deadlines:
        done: datetime | None = getattr(order, _DONE_AT.get(deadline.kind, ""), None)
        if deadline.kind == running:
            rows.append(DeadlineRow(deadline, "running", ""))
        elif done is not None:
            slack = as_utc(deadline.at) - as_utc(done)
            if slack >= timedelta(0):
                rows.append(DeadlineRow(deadline, "met", words(N_("deadline_met"))))
            else:
                late = words(N_("deadline_done_late"), span=words.length(slack))
                rows.append(DeadlineRow(deadline, "late", late))
        else:
            rows.append(DeadlineRow(deadline, "ahead", ""))
    return rows


def missed_badge(order: OrderRead) -> str | None:
    """The running deadline's miss, named for what is still undone ("not confirmed in time"):
    never on an order whose deadline is behind it."""
    if order.deadline_missed_at is None:
        return None
    kind = DEADLINE_OF.get(order.status)
    if kind is None:
        return None
    return {"confirm_by": N_("missed_confirm_by"), "ship_by": N_("missed_ship_by")}.get(
        kind, N_("missed")
    )

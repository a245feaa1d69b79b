"""The seller's money page (资金, M3 F6 S3): each of its stores' balances (what the platform
owes it, what it owes, its deposit, a payout on its way) and the movements of its accounts,
newest first, by store, account, kind and month, each linked to the order, penalty or claim it
concerns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from tuoguan.accounts import service as accounts
from tuoguan.errors import BadRequest, DomainError
from tuoguan.ledger import reads
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.records import Account
from tuoguan.principal import Role
from tuoguan.stores import service as stores
from tuoguan.web.console import _current, _db, _render, _to_login, request_language
from tuoguan.web.ledger_pages import (
    LEDGER_HOME,
    MONEY_HOME,
    PAGE,
    abouts,
    kind_of,
    notes,
    pages_query,
    period_choices,
    period_of,
)
from tuoguan.web.stock_pages import error_page

router = APIRouter(include_in_schema=False)
# A store's accounts, in the order the page shows them.
STORE_ACCOUNTS = (
    AccountKind.receivable,
    AccountKind.payable,
    AccountKind.deposit_held,
    AccountKind.payout_clearing,
)


@dataclass
class Balances:
    """A store's balances: per currency, each store account's (0 before its first posting)."""

    store_id: str
    name: str
    rows: list[tuple[str, list[tuple[AccountKind, int]]]] = field(default_factory=list)


def _balances(store_id: str, name: str, currency: str, held: list[Account]) -> Balances:
    mine = {(a.currency, a.kind): a.shown_minor for a in held if a.store_id == store_id}
    currencies = sorted({currency} | {code for code, _ in mine}, key=lambda c: c != currency)
    return Balances(
        store_id,
        name,
        [
            (code, [(kind, mine.get((code, kind), 0)) for kind in STORE_ACCOUNTS])
            for code in currencies
        ],
    )


@router.get(MONEY_HOME, response_model=None)
async def money(
    request: Request,
    store: Annotated[str | None, Query(max_length=40)] = None,
    account: Annotated[str | None, Query(max_length=40)] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    period: Annotated[str | None, Query(max_length=7)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """A seller's balances per store and its movements; operators read the ledger instead."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    if user.role is Role.operator:
        return RedirectResponse(LEDGER_HOME, status_code=303)
    principal = accounts.principal_for_user(user)
    chosen_account = AccountKind(account) if account in {k.value for k in STORE_ACCOUNTS} else None
    chosen_kind: EntryKind | None = kind_of(kind)
    try:
        async with _db(request).read() as session:
            own, _ = await stores.list_stores(session, principal=principal, limit=200)
            shown = [s for s in own if s.id == store] or own
            picked = shown[0].id if len(shown) == 1 and store else None
            zone = shown[0].timezone if shown else "Asia/Shanghai"
            month = period_of(period, zone)
            held, _ = await reads.list_accounts(session, principal, store_id=picked, limit=500)
            moving = [a for a in held if chosen_account is None or a.kind is chosen_account]
            moves, next_cursor = await reads.movements_of(
                session,
                moving,
                kind=chosen_kind,
                since=month.since,
                until=month.until,
                cursor=cursor,
                limit=PAGE,
            )
            about = await abouts(session, {(m.subject_type, m.subject_id) for m in moves})
    except BadRequest:  # a cursor that is not ours: start again from the first page
        return RedirectResponse(MONEY_HOME, status_code=303)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    kept = {
        "store": picked,
        "account": chosen_account.value if chosen_account else None,
        "kind": chosen_kind.value if chosen_kind else None,
        "period": month.value,
    }
    zones = {s.id: s.timezone for s in own}
    names = {s.id: s.name for s in own}
    now = request.app.state.clock.now()
    return _render(
        request,
        "money.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "stores": [(s.id, s.name) for s in own],
            "store": picked,
            "balances": [_balances(s.id, s.name, s.currency, held) for s in shown],
            "account_kinds": STORE_ACCOUNTS,
            "account": chosen_account,
            "kinds": list(EntryKind),
            "kind": chosen_kind,
            "periods": period_choices(now, zone, request_language(request)),
            "period": month.value,
            "moves": moves,
            "about": about,
            "notes": notes((m.entry_id, m.kind, m.reverses_id, m.memo) for m in moves),
            "zones": zones,
            "names": names,
            "next_url": next_cursor and MONEY_HOME + pages_query(**kept, cursor=next_cursor),
        },
    )

"""A store's statement (对账单) for a period, in one currency: what the platform owes the seller
(its "due" balance) at the start, each entry that changed it, with the balance after it, and
the balance at the end; the deposit held beside it, as its own figure.

due = receivable + payout clearing - payable, each on its normal side (docs/finance.md). Since
receivable and payout clearing are credit-normal and payable debit-normal, ``due`` is minus the
plain sum of the three accounts' postings, and a posting changes it by minus its amount. An
entry whose postings on the three cancel out (``payout_prepared``, ``debt_netted``) moves money
inside ``due`` and is not a line; every other entry touching them is one line, its postings on
them summed. So opening + the lines = closing, to the minor unit, by construction.

The sums and the lines are read off ``ix_postings_account`` (account, posted_at, id): a range
per account, bounded by the period. The renderers (CSV, PDF) are in ``statement_files``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.errors import InvalidInput
from tuoguan.finance.models import Penalty
from tuoguan.kit.i18n import N_
from tuoguan.ledger import amounts
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.models import JournalEntry, LedgerAccount, Posting
from tuoguan.principal import SYSTEM
from tuoguan.shipping.models import InsuranceClaim, Shipment
from tuoguan.stores import service as stores

# The accounts whose sum is what the platform owes the seller.
DUE = (AccountKind.receivable, AccountKind.payout_clearing, AccountKind.payable)
MAX_DAYS = 366  # the longest period one statement covers
# The years a statement's bounds may lie in (beyond them a zone's arithmetic would overflow).
FIRST_YEAR, LAST_YEAR = 1970, 9998

# What a line is about, in words, by its subject's type (the catalog keys).
ABOUT_WORDS = {
    "order": N_("ledger_about_order"),
    "penalty": N_("ledger_about_penalty"),
    "claim": N_("ledger_about_claim"),
    "shipment": N_("ledger_about_shipment"),
    "payout": N_("statement_about_payout"),
    "payout_run": N_("statement_about_payout_run"),
    "run_statement": N_("statement_about_payout_run"),
    "deposit_refund": N_("statement_about_deposit_refund"),
}
# The subjects that concern one order: the statement names that order.
_OF_ORDER: dict[str, type[Penalty] | type[InsuranceClaim] | type[Shipment]] = {
    "penalty": Penalty,
    "claim": InsuranceClaim,
    "shipment": Shipment,
}


@dataclass(frozen=True)
class StatementLine:
    """One entry that changed the balance: when, what, about what, by how much, and after."""

    entry_id: str
    posted_at: datetime
    kind: EntryKind
    subject_type: str | None
    subject_id: str | None
    order_id: str | None  # the order the subject concerns (an order's own id for an order)
    reverses_id: str | None  # the entry this one reverses (a penalty waived on appeal...)
    memo: str | None
    amount_minor: int  # + raised what the seller is due, - lowered it
    balance_minor: int  # the balance after this line

    @property
    def reference(self) -> str:
        """What a person looks the line up by: its order, else its subject (a payout...)."""
        return self.order_id or self.subject_id or ""


@dataclass(frozen=True)
class Statement:
    """A store's statement for [start, end) in one currency; amounts in minor units."""

    store_id: str
    store_name: str
    timezone: str
    currency: str
    start: datetime
    end: datetime
    period: str | None  # "2026-11" when the statement is of a month
    opening_minor: int
    closing_minor: int
    deposit_opening_minor: int
    deposit_closing_minor: int
    lines: list[StatementLine]

    @property
    def money_in_minor(self) -> int:
        """The lines that raised the balance, summed."""
        return sum(line.amount_minor for line in self.lines if line.amount_minor > 0)

    @property
    def money_out_minor(self) -> int:
        """The lines that lowered it, summed (a negative number, or 0)."""
        return sum(line.amount_minor for line in self.lines if line.amount_minor < 0)


# -- periods ----------------------------------------------------------------------------------


def _year_month(period: str) -> tuple[int, int]:
    year, dash, month = period.strip().partition("-")
    # ASCII digits only: "²" is a digit to isdigit() and not to int(); "２０２６" is to both
    digits = f"{year}{month}"
    if not (dash and len(year) == 4 and len(month) == 2 and digits.isascii() and digits.isdigit()):
        raise InvalidInput(
            f"{period[:20]!r} is not a month: write YYYY-MM, e.g. 2026-11",
            field="period",
            rule="year_month",
        )
    y, m = int(year), int(month)
    if not 1 <= m <= 12:
        raise InvalidInput(f"{period!r}: a month is 01 to 12", field="period", rule="year_month")
    if not FIRST_YEAR <= y <= LAST_YEAR:
        raise InvalidInput(
            f"{period!r}: the year is {FIRST_YEAR} to {LAST_YEAR}",
            field="period",
            rule="year_range",
        )
    return y, m


def period_bounds(period: str, zone: str) -> tuple[datetime, datetime]:
    """The instants a month ``YYYY-MM`` starts and ends at in ``zone`` (midnight on its first
    day, midnight on the next month's), as UTC; 422 ``period`` otherwise."""
    y, m = _year_month(period)
    after = (y + 1, 1) if m == 12 else (y, m + 1)
    tz = ZoneInfo(zone)
    start = datetime(y, m, 1, tzinfo=tz).astimezone(UTC)
    return start, datetime(*after, 1, tzinfo=tz).astimezone(UTC)


def month_of(moment: datetime, zone: str) -> str:
    """The month ``YYYY-MM`` a moment falls in, in ``zone``."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local.year:04d}-{local.month:02d}"


def _instant(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput(
            f"{field} needs its offset (e.g. 2026-11-01T00:00:00+08:00)",
            field=field,
            rule="timezone_aware",
        )
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise InvalidInput(
            f"{field} lies in the years {FIRST_YEAR} to {LAST_YEAR}", field=field, rule="year_range"
        )
    return value.astimezone(UTC)


def bounds(
    zone: str, *, period: str | None, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    """A statement's [start, end): a month in the store's zone, or two instants; exactly one
    of the two forms, the end after the start, at most ``MAX_DAYS`` apart (422 naming the
    field and the rule)."""
    if period is not None:
        if start is not None or end is not None:
            raise InvalidInput(
                "ask for a month (period) or for start and end, not both",
                field="period",
                rule="period_or_range",
            )
        return period_bounds(period, zone)
    if start is None and end is None:
        raise InvalidInput(
            "ask for a month (period=YYYY-MM) or for start and end",
            field="period",
            rule="period_or_range",
        )
    if start is None:
        raise InvalidInput("an end needs its start", field="start", rule="required_with_end")
    if end is None:
        raise InvalidInput("a start needs its end", field="end", rule="required_with_start")
    first, last = _instant(start, "start"), _instant(end, "end")
    if last <= first:
        raise InvalidInput("the end comes after the start", field="end", rule="after_start")
    if last - first > timedelta(days=MAX_DAYS):
        raise InvalidInput(
            f"a statement covers at most {MAX_DAYS} days", field="end", rule="max_days"
        )
    return first, last


# -- the statement ----------------------------------------------------------------------------


async def currencies(session: AsyncSession, store_id: str) -> list[str]:
    """The currencies a store has accounts in (off ``uq_ledger_accounts_store_kind``)."""
    rows = await session.scalars(
        select(LedgerAccount.currency).where(LedgerAccount.store_id == store_id).distinct()
    )
    return sorted(rows)


async def _accounts(session: AsyncSession, store_id: str, currency: str) -> dict[AccountKind, str]:
    rows = await session.execute(
        select(LedgerAccount.kind, LedgerAccount.id).where(
            LedgerAccount.store_id == store_id, LedgerAccount.currency == currency
        )
    )
    return {AccountKind(kind): account_id for kind, account_id in rows}


async def _sums(
    session: AsyncSession, account_ids: list[str], start: datetime, end: datetime
) -> dict[str, tuple[int, int]]:
    """Each account's postings summed before ``start`` and before ``end``, in one statement
    (one snapshot), a range of the index per account."""
    if not account_ids:
        return {}
    p = Posting
    before = func.sum(case((p.posted_at < start, p.amount_minor), else_=0))
    rows = await session.execute(
        select(p.account_id, before, func.sum(p.amount_minor))
        .where(p.account_id.in_(account_ids), p.posted_at < end)
        .group_by(p.account_id)
    )
    return {account_id: (int(a or 0), int(b or 0)) for account_id, a, b in rows}


async def _orders_of(
    session: AsyncSession, subjects: set[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The order each subject concerns: one query per kind of object."""
    found = {(t, i): i for t, i in subjects if t == "order"}
    for kind, model in _OF_ORDER.items():
        ids = {i for t, i in subjects if t == kind}
        if ids:
            rows = await session.execute(select(model.id, model.order_id).where(model.id.in_(ids)))
            found.update({(kind, subject_id): order_id for subject_id, order_id in rows})
    return found


async def _lines(
    session: AsyncSession, account_ids: list[str], start: datetime, end: datetime, opening: int
) -> list[StatementLine]:
    """The entries that moved the balance in [start, end), oldest first, with the balance."""
    if not account_ids:
        return []
    p, e = Posting, JournalEntry
    moved = func.sum(p.amount_minor)
    rows = (
        await session.execute(
            select(
                e.id,
                func.min(p.posted_at),
                func.min(p.id),
                moved,
                e.kind,
                e.subject_type,
                e.subject_id,
                e.reverses_id,
                e.memo,
            )
            .join(e, e.id == p.entry_id)
            .where(p.account_id.in_(account_ids), p.posted_at >= start, p.posted_at < end)
            .group_by(e.id, e.kind, e.subject_type, e.subject_id, e.reverses_id, e.memo)
            .having(moved != 0)
            .order_by(func.min(p.posted_at), func.min(p.id))
        )
    ).all()
    orders = await _orders_of(
        session, {(row.subject_type, row.subject_id) for row in rows if row.subject_id}
    )
    lines, balance = [], opening
    for entry_id, posted_at, _, total, kind, subject_type, subject_id, reverses_id, memo in rows:
        change = -int(total)
        balance += change
        lines.append(
            StatementLine(
                entry_id=entry_id,
                posted_at=posted_at,
                kind=EntryKind(kind),
                subject_type=subject_type,
                subject_id=subject_id,
                order_id=orders.get((subject_type or "", subject_id)) if subject_id else None,
                reverses_id=reverses_id,
                memo=memo,
                amount_minor=change,
                balance_minor=balance,
            )
        )
    return lines


async def statement(
    session: AsyncSession, *, store_id: str, currency: str, start: datetime, end: datetime
) -> Statement:
    """The store's statement for [start, end) in ``currency`` (the caller checked who may read
    it): the due balance at the start, each entry that changed it, and at the end; the deposit
    held at both ends. 404 for an unknown store, 422 for a currency that is not ISO 4217."""
    code = amounts.currency(currency)
    if end <= start:
        raise InvalidInput("the end comes after the start", field="end", rule="after_start")
    store = await stores.get_store(session, principal=SYSTEM, store_id=store_id)
    held = await _accounts(session, store_id, code)
    due = [held[kind] for kind in DUE if kind in held]
    deposit = held.get(AccountKind.deposit_held)
    sums = await _sums(session, due + ([deposit] if deposit else []), start, end)
    # due is minus the plain sum of its accounts' postings (see the module's docstring).
    opening = -sum(sums.get(account_id, (0, 0))[0] for account_id in due)
    lines = await _lines(session, due, start, end, opening)
    held_before, held_after = sums.get(deposit or "", (0, 0))
    return Statement(
        store_id=store.id,
        store_name=store.name,
        timezone=store.timezone,
        currency=code,
        start=start,
        end=end,
        period=None,
        opening_minor=opening,
        closing_minor=lines[-1].balance_minor if lines else opening,
        deposit_opening_minor=-held_before,
        deposit_closing_minor=-held_after,
        lines=lines,
    )


async def month_statement(
    session: AsyncSession, *, store_id: str, period: str, currency: str | None = None
) -> Statement:
    """The statement of a month ``YYYY-MM`` in the store's zone, in ``currency`` (default: the
    store's own)."""
    store = await stores.get_store(session, principal=SYSTEM, store_id=store_id)
    start, end = period_bounds(period, store.timezone)
    found = await statement(
        session, store_id=store_id, currency=currency or store.currency, start=start, end=end
    )
    return replace(found, period=period.strip())

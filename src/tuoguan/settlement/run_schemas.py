"""API shapes of the payout runs (结算批次): preview a cycle's run, read it with each store's
statement, execute it once."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

from tuoguan.kit.clock import as_utc
from tuoguan.settlement.run_models import PayoutRun, RunStatement, RunStatus, StatementStatus
from tuoguan.settlement.runs import Totals, totals
from tuoguan.stores.models import StoreMode
from tuoguan.stores.schemas import Strict


class PayoutRunCreate(Strict):
    """Preview the run of a cycle up to its last boundary not yet executed."""

    cycle: StoreMode = Field(
        description="The store mode whose stores the run settles; each has its cycle (M3)."
    )


class RunStatementRead(BaseModel):
    """One store's money in one currency in a run, in minor units. ``opening_due_minor +
    movements_minor = closing_due_minor``, and ``closing_due_minor = in_clearing_minor +
    payout_minor + carried_forward_minor``. A previewed run says what it would do."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    store_id: str
    currency: str
    opening_due_minor: int = Field(description="Due to the seller at the period's start.")
    movements_minor: int = Field(description="What the period's entries changed the due by.")
    closing_due_minor: int = Field(description="Due at the period's end.")
    receivable_minor: int
    payable_minor: int
    in_clearing_minor: int = Field(description="Set aside for a payout already, not yet sent.")
    netted_minor: int = Field(description="The store's debts taken from what it is due.")
    payout_minor: int = Field(description="Paid to the store's bound payout account.")
    carried_forward_minor: int = Field(
        description="Left for the next run: negative when the store owes (never paid), "
        "positive when held for want of a payout account."
    )
    status: StatementStatus
    payout_id: str | None
    statement_url: str = Field(description="The store's statement of the run's period.")


class RunTotalsRead(BaseModel):
    """A run's figures in one currency."""

    currency: str
    paid: int = Field(description="Statements paid.")
    carried: int = Field(description="Statements whose store owes: carried forward.")
    held_no_account: int = Field(description="Statements held for want of a payout account.")
    nothing_due: int
    netted_minor: int
    payout_minor: int
    carried_minor: int = Field(description="What the stores owe, carried forward (negative).")
    held_minor: int = Field(description="What waits for the stores' payout accounts.")


class PayoutRunRead(BaseModel):
    """A payout run: its cycle, period and standing."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    cycle: StoreMode
    period_start: datetime
    period_end: datetime = Field(description="The cycle boundary it settles up to (excluded).")
    status: RunStatus
    store_count: int
    created_by: str
    previewed_at: datetime
    executed_by: str | None
    executed_at: datetime | None
    superseded_at: datetime | None


class PayoutRunDetail(PayoutRunRead):
    """A payout run with its totals per currency and each store's statement."""

    totals: list[RunTotalsRead]
    statements: list[RunStatementRead]


def statement_url(run: PayoutRun, statement: RunStatement) -> str:
    """The statements endpoint for the store, the run's period and the currency."""
    query = urlencode(
        {
            "start": as_utc(run.period_start).isoformat(),
            "end": as_utc(run.period_end).isoformat(),
            "currency": statement.currency,
        }
    )
    return f"/api/v1/stores/{statement.store_id}/statement?{query}"


def present_totals(total: Totals) -> RunTotalsRead:
    """A run's totals in one currency, as the API shows them."""
    return RunTotalsRead(
        currency=total.currency,
        paid=total.counts[StatementStatus.paid],
        carried=total.counts[StatementStatus.carried],
        held_no_account=total.counts[StatementStatus.held_no_account],
        nothing_due=total.counts[StatementStatus.nothing_due],
        netted_minor=total.netted_minor,
        payout_minor=total.payout_minor,
        carried_minor=total.carried_minor,
        held_minor=total.held_minor,
    )


def present_run(run: PayoutRun, statements: list[RunStatement]) -> PayoutRunDetail:
    """A run with its totals and statements, as the API shows it."""
    base = PayoutRunRead.model_validate(run).model_dump()
    return PayoutRunDetail(
        **base,
        totals=[present_totals(total) for total in totals(statements)],
        statements=[
            RunStatementRead.model_validate(
                {
                    **{
                        name: getattr(s, name)
                        for name in RunStatementRead.model_fields
                        if name != "statement_url"
                    },
                    "statement_url": statement_url(run, s),
                }
            )
            for s in statements
        ],
    )

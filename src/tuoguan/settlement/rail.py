"""The payment rail payouts leave on: an interface, and the sandbox bank behind it.

A rail is idempotent on the instruction's key (the payout id): sending a key it has seen
returns the first answer and never pays again, and ``lookup`` says what became of a key
without sending anything. That is what lets the payout sweep retry after a crash or a timeout
and still pay at most once (``settlement/payouts.py``).

``SandboxRail`` stands for the bank: it keeps its own book (``rail_instructions``), written in
its own transaction and committed at once, outside any transaction of the caller's. It can be
told to refuse every instruction (``fail``) or to pay it and then lose the answer
(``timeout``: the instruction is recorded as accepted, then ``RailTimeout`` is raised), by its
constructor or by the ``rail_sandbox_mode`` setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.config import Settings
from tuoguan.db import Database
from tuoguan.kit.clock import Clock, SystemClock
from tuoguan.kit.ids import new_id
from tuoguan.settlement.models import InstructionStatus, RailInstruction

Mode = Literal["ok", "fail", "timeout"]
# What the sandbox bank says when told to refuse (the ``fail`` mode).
SANDBOX_REFUSAL = "the receiving account is closed (sandbox bank)"


class RailTimeout(Exception):
    """The rail did not answer in time: the instruction may or may not have been carried out."""


@dataclass(frozen=True)
class Instruction:
    """Pay ``amount_minor`` of ``currency`` to an account; ``key`` makes it happen once."""

    key: str
    amount_minor: int
    currency: str
    holder_name: str
    bank_name: str
    account_number: str


@dataclass(frozen=True)
class RailResult:
    """The rail's answer: accepted (with its reference) or rejected (with its reason)."""

    status: InstructionStatus
    reference: str
    reason: str | None
    at: datetime

    @property
    def accepted(self) -> bool:
        """Whether the money left."""
        return self.status is InstructionStatus.accepted


class PaymentRail(Protocol):
    """What the payout sweep needs of a bank."""

    async def send(self, instruction: Instruction) -> RailResult:
        """Carry out an instruction once; a key seen before returns its first answer."""
        ...

    async def lookup(self, key: str) -> RailResult | None:
        """What became of the instruction with this key; None if the rail never saw it."""
        ...


def _result(row: RailInstruction) -> RailResult:
    return RailResult(status=row.status, reference=row.id, reason=row.reason, at=row.created_at)


class SandboxRail:
    """A bank in the database: records every instruction, pays each key once, and can be told
    to refuse (``fail``) or to pay and lose the answer (``timeout``)."""

    def __init__(self, db: Database, *, mode: Mode = "ok", clock: Clock | None = None) -> None:
        self.db = db
        self.mode: Mode = mode
        self.clock = clock or SystemClock()

    async def _find(self, session: AsyncSession, key: str) -> RailInstruction | None:
        found = await session.execute(select(RailInstruction).where(RailInstruction.key == key))
        return found.scalar_one_or_none()

    async def lookup(self, key: str) -> RailResult | None:
        """The answer given to ``key``, if it was sent."""
        async with self.db.read() as session:
            row = await self._find(session, key)
        return _result(row) if row else None

    async def send(self, instruction: Instruction) -> RailResult:
        """Record the instruction in the bank's own transaction, once per key."""
        rejected = self.mode == "fail"
        row = RailInstruction(
            id=new_id("rail_instruction"),
            key=instruction.key,
            amount_minor=instruction.amount_minor,
            currency=instruction.currency,
            holder_name=instruction.holder_name,
            bank_name=instruction.bank_name,
            account_number=instruction.account_number,
            status=InstructionStatus.rejected if rejected else InstructionStatus.accepted,
            reason=SANDBOX_REFUSAL if rejected else None,
            created_at=self.clock.now(),
        )
        # The bank's own connection, not the caller's write gate: the caller may hold it.
        async with self.db.sessions() as session:
            if self.db.sqlite:
                await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            before = await self._find(session, instruction.key)
            if before is not None:
                return _result(before)
            session.add(row)
            try:
                await session.commit()
            except IntegrityError:  # the same key sent at the same moment: the first one stands
                await session.rollback()
                before = await self._find(session, instruction.key)
                assert before is not None
                return _result(before)
        if self.mode == "timeout":
            raise RailTimeout(f"the sandbox bank paid {instruction.key} but its answer was lost")
        return _result(row)


def get_rail(settings: Settings, db: Database, clock: Clock | None = None) -> PaymentRail:
    """The rail the running app pays on (only the sandbox exists so far)."""
    return SandboxRail(db, mode=settings.rail_sandbox_mode, clock=clock)

"""``tuoguan stock check``: rebuild every balance from the ledger and compare (M5).

The stored balances are read in key order, a batch at a time; for each batch the ledger is
summed over the same range of keys in one GROUP BY (the range runs to the next batch's first
key, so ledger keys without a balance row are found too). Both reads run in one snapshot
(REPEATABLE READ on PostgreSQL, a read transaction on SQLite), so moves committed meanwhile
never show as differences. ``fix`` rewrites the differing balances from the ledger, each under
its row lock and with an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.inventory import repository
from tuoguan.inventory.ledger import Levels
from tuoguan.inventory.repository import Key

BATCH = 5000


@dataclass(frozen=True)
class Difference:
    """A key whose stored balance is not the sum of its ledger rows (None: no row there)."""

    warehouse_id: str
    sku_id: str
    store_id: str
    stored: Levels | None
    ledger: Levels | None


@dataclass
class CheckReport:
    """What a check read and what it found."""

    balances: int = 0
    moves: int = 0
    differences: list[Difference] = field(default_factory=list)


def _differs(stored: Levels | None, ledger: Levels | None) -> bool:
    return (stored or Levels()) != (ledger or Levels()) or (stored is None) != (ledger is None)


async def check(session: AsyncSession, *, batch: int = BATCH) -> CheckReport:
    """Compare every stored balance with its ledger rows' sums; the differences, in key order."""
    if session.get_bind().dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    report = CheckReport()
    low: Key | None = None
    while True:
        stored = await repository.stored_after(session, after=low, limit=batch)
        full = len(stored) == batch
        high = stored[-1][0] if full else None
        sums = await repository.ledger_in_range(session, low, high)
        report.balances += len(stored)
        report.moves += sum(count for _, count, _ in sums.values())
        kept = {key: (store, levels) for key, store, levels in stored}
        for key in sorted(kept.keys() | sums.keys()):
            store, levels = kept.get(key, (None, None))
            summed = sums.get(key)
            ledger = summed[2] if summed else None
            if _differs(levels, ledger):
                report.differences.append(
                    Difference(
                        warehouse_id=key[0],
                        sku_id=key[1],
                        store_id=store or (summed[0] if summed else ""),
                        stored=levels,
                        ledger=ledger,
                    )
                )
        if not full:
            return report
        low = high


@dataclass
class FixReport:
    """Balances rewritten from the ledger, and keys whose ledger breaks a rule (left as is)."""

    fixed: list[Key] = field(default_factory=list)
    refused: list[tuple[Key, str]] = field(default_factory=list)


def _as_dict(levels: Levels | None) -> dict[str, int] | None:
    if levels is None:
        return None
    return {
        "on_hand": levels.on_hand,
        "reserved": levels.reserved,
        "defective": levels.defective,
        "inbound": levels.inbound,
    }


async def fix(session: AsyncSession, *, ctx: Ctx, differences: list[Difference]) -> FixReport:
    """Rewrite each differing balance from its ledger rows, read again under the row's lock."""
    report = FixReport()
    now = ctx.clock.now()
    for difference in differences:
        key = (difference.warehouse_id, difference.sku_id)
        exists = await repository.lock_balance(session, key)
        summed = await repository.ledger_of(session, key)
        store_id, target = summed if summed else (difference.store_id, Levels())
        broken = target.broken()
        if broken is not None:
            report.refused.append((key, f"the ledger's sums break {broken[1]}"))
            continue
        before = await repository.levels(session, warehouse_id=key[0], sku_id=key[1])
        if before == target and exists:
            continue  # fixed meanwhile
        if exists:
            await repository.overwrite_balance(session, key, store_id, target, now)
        else:
            await repository.create_balance(
                session,
                warehouse_id=key[0],
                sku_id=key[1],
                store_id=store_id,
                levels=target,
                now=now,
            )
        audit.record(
            session,
            ctx=ctx,
            subject_type="stock_balance",
            subject_id=key[0],
            store_id=store_id or None,
            action="rebuild_from_ledger",
            reason="stock check --fix: the stored balance differed from its ledger rows",
            data={"sku_id": key[1], "before": _as_dict(before), "after": _as_dict(target)},
        )
        report.fixed.append(key)
    return report

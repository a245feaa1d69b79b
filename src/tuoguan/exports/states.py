"""The export job's states and the moves between them, as data."""

from __future__ import annotations

from enum import StrEnum

from tuoguan.errors import IllegalTransition


class ExportStatus(StrEnum):
    """Where an export job stands."""

    queued = "queued"  # waiting for a worker
    running = "running"  # a worker writes the file under a lease
    done = "done"  # the file is ready to download
    failed = "failed"  # the worker gave up; ``error`` says why in a line
    expired = "expired"  # the file was kept its days and deleted


# Which status may follow which. running -> running is a worker taking a job whose lease
# ran out (its worker died); queued/running -> failed is giving up after too many tries;
# failed -> queued is an operator retrying a job the worker set aside.
MOVES: dict[ExportStatus, frozenset[ExportStatus]] = {
    ExportStatus.queued: frozenset({ExportStatus.running, ExportStatus.failed}),
    ExportStatus.running: frozenset({ExportStatus.running, ExportStatus.done, ExportStatus.failed}),
    ExportStatus.done: frozenset({ExportStatus.expired}),
    ExportStatus.failed: frozenset({ExportStatus.queued}),
    ExportStatus.expired: frozenset(),
}


def check_move(current: ExportStatus, target: ExportStatus) -> None:
    """Refuse a move the table does not have."""
    if target not in MOVES[current]:
        raise IllegalTransition(
            current=current.value,
            action=target.value,
            allowed=sorted(s.value for s in MOVES[current]),
            subject="export",
        )

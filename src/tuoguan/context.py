"""What every use case is handed: who acts, what time it is, which request this is."""

from __future__ import annotations

from dataclasses import dataclass, field

from tuoguan.config import Settings
from tuoguan.kit.clock import Clock, SystemClock
from tuoguan.principal import Principal


@dataclass(frozen=True)
class Ctx:
    """The acting principal, the clock, the request id and the settings."""

    principal: Principal
    clock: Clock = field(default_factory=SystemClock)
    request_id: str | None = None
    settings: Settings = field(default_factory=Settings)

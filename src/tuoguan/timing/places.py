"""Countries and their time zones, from the tz database shipped with ``tzdata``."""

from __future__ import annotations

import importlib.resources
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from tuoguan.errors import InvalidInput


@lru_cache
def _country_zones() -> dict[str, str]:
    """ISO 3166 alpha-2 code -> the tz database's principal zone for that country."""
    text = importlib.resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text()
    zones: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, _coords, zone = line.split("\t")[:3]
            zones.setdefault(code, zone)
    return zones


def check_country(code: str, *, field: str = "country") -> str:
    """Return an upper-cased ISO 3166 alpha-2 code, or refuse it."""
    upper = code.upper()
    if upper not in _country_zones():
        raise InvalidInput(f"{code!r} is not an ISO 3166 country code", field=field)
    return upper


def country_timezone(code: str) -> ZoneInfo:
    """The principal time zone of a country (the first the tz database lists)."""
    return ZoneInfo(_country_zones()[check_country(code)])


@lru_cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(name: str, *, field: str = "timezone") -> str:
    """Return an IANA time-zone name, or refuse it (checked against the tz database's list)."""
    if name not in _zones():
        raise InvalidInput(f"{name!r} is not an IANA time zone", field=field)
    return name

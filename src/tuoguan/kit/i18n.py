"""Words people read, in zh-CN and English, from the gettext catalogs in ``tuoguan/locale``.

A message is a key (the msgid) and named parameters, written ``{name}`` in the catalogs. Parameters that need the reader's
language are stored typed, and formatted only when the message is read:

- ``money(minor, currency)``: an amount, formatted in its currency ("$19.99", "US$19.99");
- ``when(moment, zone)``: a time, shown in the zone it applies to ("12月5日 21:27");
- ``label(key)``: a word from the catalog (a deadline's name, a state);
- ``duration(delta)``: a length of time ("5 小时", "5 hours").

So a notification stored today reads in Chinese to one seller and in English to another, and
a translator's tool (Poedit, Weblate) reads the catalogs. ``docs/i18n.md`` says how to add a
word.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_skeleton, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from babel.units import format_unit

from tuoguan.kit.money import format_minor

LANGUAGES = ("zh-CN", "en")
DEFAULT = "zh-CN"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
# The catalogs' directory names (gettext's) and Babel's locales, per console language.
_CATALOG = {"zh-CN": "zh_CN", "en": "en"}
_BABEL = {"zh-CN": "zh_Hans_CN", "en": "en_US"}
# How a moment reads: the day and the time, no year unless it is another year.
_MOMENT = {"zh-CN": "M月d日 HH:mm", "en": "MMM d, HH:mm"}
_MOMENT_YEAR = {"zh-CN": "yyyy年M月d日 HH:mm", "en": "MMM d, yyyy, HH:mm"}


def N_(key: str) -> str:  # noqa: N802 (gettext's name for "a key, translated later")
    """Mark ``key`` as a message key (the catalog test finds it); returns it unchanged."""
    return key


def language(lang: str | None) -> str:
    """A supported language for ``lang`` (anything else reads as the default)."""
    return lang if lang in LANGUAGES else DEFAULT


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / _CATALOG[language(lang)] / "LC_MESSAGES" / "messages.po"


@cache
def translations(lang: str) -> Translations:
    """The catalog for ``lang``, compiled in memory from its ``.po`` file (no build step)."""
    with catalog_path(lang).open("rb") as source:
        catalog = read_po(source, locale=_CATALOG[language(lang)])
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled, domain="messages")


def gettext(lang: str, key: str) -> str:
    """The text of ``key`` in ``lang``; a key the catalog lacks reads as itself."""
    return str(translations(lang).gettext(key))


def known(key: str) -> bool:
    """Whether ``key`` is in the catalogs (the test checks both have every key)."""
    return key in _keys()


@cache
def _keys() -> frozenset[str]:
    with catalog_path("en").open("rb") as source:
        return frozenset(str(message.id) for message in read_po(source) if message.id)


# Typed parameters: small JSON objects, so that a message can be stored and read later.
def money(amount_minor: int, currency: str) -> dict[str, Any]:
    return {"money": [int(amount_minor), currency]}


def when(moment: datetime, zone: str | None = None) -> dict[str, Any]:
    return {"time": moment.astimezone(UTC).isoformat(), "zone": zone}


def label(key: str) -> dict[str, Any]:
    return {"label": key}


def duration(delta: timedelta) -> dict[str, Any]:
    return {"seconds": int(delta.total_seconds())}


def listing(messages: list[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """Several messages read as one list ("a; b" / "a；b")."""
    return {"list": [{"key": key, "params": dict(params)} for key, params in messages]}


def local_time(
    moment: datetime, zone: str | None, lang: str, *, now: datetime | None = None
) -> str:
    """``moment`` as a person reads it in ``zone`` (UTC when none): day and time, the year
    only when it is not this year, and the zone's offset when it is not the reader's guess."""
    tz = ZoneInfo(zone) if zone else UTC
    local = moment.astimezone(tz)
    this_year = (now or datetime.now(UTC)).astimezone(tz).year
    pattern = (_MOMENT if local.year == this_year else _MOMENT_YEAR)[language(lang)]
    text = str(format_datetime(local, pattern, tzinfo=tz, locale=_BABEL[language(lang)]))
    if zone is None:
        return f"{text} UTC"
    return text


def relative(delta: timedelta, lang: str) -> str:
    """How far off a moment is, in words: "in 3 hours", "5 hours ago" (and in Chinese)."""
    return str(
        format_timedelta(delta, add_direction=True, threshold=1.5, locale=_BABEL[language(lang)])
    )


def length(delta: timedelta, lang: str) -> str:
    """A length of time in words: "5 hours", "2 天"."""
    return str(format_timedelta(delta, threshold=1.5, locale=_BABEL[language(lang)]))


def file_size(size: int, lang: str) -> str:
    """A file's size as people read it: kilobytes under a megabyte, rounded up, else megabytes
    with one decimal (CLDR's short units in ``lang``)."""
    locale = _BABEL[language(lang)]
    if size < 1_048_576:
        kilobytes = max(1, -(-size // 1024))
        return str(format_unit(kilobytes, "digital-kilobyte", length="short", locale=locale))
    megabytes = round(size / 1_048_576, 1)
    return str(format_unit(megabytes, "digital-megabyte", length="short", locale=locale))


def day(value: date, lang: str) -> str:
    """A day as people read it, without the year: "11月16日", "Nov 16"."""
    return str(format_skeleton("MMMd", value, locale=_BABEL[language(lang)]))


def money_text(amount_minor: int, currency: str, lang: str) -> str:
    return format_minor(amount_minor, currency, language(lang))


def _param(value: Any, lang: str, now: datetime | None) -> Any:
    if isinstance(value, Mapping):
        if "money" in value:
            minor, currency = value["money"]
            return money_text(int(minor), str(currency), lang)
        if "time" in value:
            moment = datetime.fromisoformat(str(value["time"]))
            return local_time(moment, value.get("zone"), lang, now=now)
        if "label" in value:
            return gettext(lang, str(value["label"]))
        if "seconds" in value:
            return length(timedelta(seconds=int(value["seconds"])), lang)
        if "list" in value:
            separator = "；" if language(lang) == "zh-CN" else "; "
            return separator.join(
                render(str(item["key"]), item.get("params"), lang, now=now)
                for item in value["list"]
            )
    return value


def render(
    key: str, params: Mapping[str, Any] | None, lang: str, *, now: datetime | None = None
) -> str:
    """The message ``key`` in ``lang`` with its parameters formatted for that language."""
    template = gettext(lang, key)
    values = _Parts({name: _param(value, lang, now) for name, value in (params or {}).items()})
    try:
        return template.format_map(values)
    except (ValueError, IndexError, AttributeError):
        # A catalog entry that does not match its parameters still reads as words.
        return template


class _Parts(dict[str, Any]):
    """Parameters for ``str.format_map``: one the message lacks reads as nothing."""

    def __missing__(self, key: str) -> str:
        return ""

"""How the console puts things into words: one Jinja environment per language with the i18n
extension, and the helpers every template uses for money, times and stored messages.

Templates write ``_('key')`` or ``_('key', name=value)``: the catalog's text, HTML-escaped, with
``{name}`` filled in (escaped too). A key the catalog lacks shows as itself, escaped, so
``_(some_value)`` is safe on anything. Times are ``moment(at, zone)``: the local time in the zone
the time applies to and how far off it is ("12月5日 21:27 · 3小时后"), with the exact instant in
the ``datetime`` attribute for machines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import jinja2
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from tuoguan.kit import i18n
from tuoguan.kit.clock import as_utc
from tuoguan.web.i18n import translator


@cache
def templates(lang: str, directory: str) -> Jinja2Templates:
    """The console's templates for ``lang``, with ``_`` and ``{% trans %}`` in that language."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
    )
    text = translator(lang)

    def gettext(key: str, **params: Any) -> Markup:
        words = escape(text(key))
        return Markup(words.format_map(_Parts(params))) if params else words

    def ngettext(singular: str, plural: str, count: int, **params: Any) -> Markup:
        return gettext(singular if count == 1 else plural, count=count, **params)

    env.install_gettext_callables(gettext, ngettext, newstyle=False)  # type: ignore[attr-defined]
    env.globals["_"] = gettext
    return Jinja2Templates(env=env)


class _Parts(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def helpers(lang: str, now: datetime) -> dict[str, Callable[..., Any]]:
    """Functions templates call, bound to the reader's language and the app's clock."""

    def local(at: datetime | None, zone: str | None = None) -> str:
        return "" if at is None else i18n.local_time(as_utc(at), zone, lang, now=now)

    def ago(at: datetime | None) -> str:
        if at is None:
            return ""
        delta = as_utc(at) - now
        if abs(delta) < timedelta(minutes=1):
            return translator(lang)("just_now")  # Babel would say "in 0 seconds"
        return i18n.relative(delta, lang)

    def moment(at: datetime | None, zone: str | None = None, *, relative: bool = True) -> Markup:
        if at is None:
            return Markup("")
        instant = as_utc(at)
        shown = local(instant, zone)
        if relative:
            shown = f"{shown} · {ago(instant)}"
        return Markup('<time datetime="{}">{}</time>').format(instant.isoformat(), shown)

    def message(key: str, params: Mapping[str, Any] | None = None) -> str:
        return i18n.render(key, params, lang, now=now)

    def money_of(minor: int | None, currency: str | None) -> str:
        if minor is None or not currency:
            return ""
        return i18n.money_text(minor, currency, lang)

    return {
        "local": local,
        "ago": ago,
        "moment": moment,
        "message": message,
        "money": money_of,
        "length": lambda delta: i18n.length(delta, lang),
        "file_size": lambda size: i18n.file_size(int(size), lang),
        "day": lambda value: i18n.day(value, lang),
    }

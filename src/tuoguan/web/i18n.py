"""The console's language: which one a request reads in, and its words from the catalogs
(``tuoguan/locale/*/LC_MESSAGES/messages.po``, through ``tuoguan.kit.i18n``)."""

from __future__ import annotations

from collections.abc import Callable

from tuoguan.kit.i18n import DEFAULT, LANGUAGES, gettext, known

__all__ = ["DEFAULT", "LANGUAGES", "MESSAGES", "pick_language", "translator"]

# New words waiting to be moved into the catalogs ({key: {"zh-CN": ..., "en": ...}}); the
# test of the catalogs fails while anything is left here.
MESSAGES: dict[str, dict[str, str]] = {}


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's choice, else the browser's first supported language, else Chinese."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return "zh-CN"
    return DEFAULT


def translator(lang: str) -> Callable[[str], str]:
    """A ``t(key)`` function: the key's text in ``lang``; an unknown key shows as itself."""

    def t(key: str) -> str:
        if known(key):
            return gettext(lang, key)
        entry = MESSAGES.get(key)
        return entry.get(lang, key) if entry else key

    return t

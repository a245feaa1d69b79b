"""The two fonts every PDF the platform draws is set in (shipping labels, carton labels,
statements), embedded in the package so no system font is needed: Noto Sans SC for Chinese
and Latin, and DejaVu Sans for the letters Noto Sans SC lacks (Polish ł, Vietnamese ơ).

Text is drawn in runs: each character in Noto Sans SC unless only DejaVu Sans has it.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "NotoSansSC"
LATIN = "DejaVuSansLatin"


def font_path(name: str) -> str:
    """Where an embedded font file is (they live beside the shipping labels)."""
    return str(resources.files("tuoguan").joinpath(f"shipping/fonts/{name}"))


@lru_cache(maxsize=1)
def glyphs() -> tuple[frozenset[int], frozenset[int]]:
    """Register both fonts once (before threads share reportlab's font table); the code points
    each can draw."""
    main = TTFont(FONT, font_path("NotoSansSC-Regular.ttf"))
    latin = TTFont(LATIN, font_path("DejaVuSans-Latin.ttf"))
    pdfmetrics.registerFont(main)
    pdfmetrics.registerFont(latin)
    return frozenset(main.face.charToGlyph), frozenset(latin.face.charToGlyph)


def runs(text: str) -> list[tuple[str, str]]:
    """Split text into (font, run) pieces: the CJK font unless only the Latin one has a glyph."""
    main, latin = glyphs()
    pieces: list[tuple[str, str]] = []
    for ch in text:
        font = LATIN if ord(ch) not in main and ord(ch) in latin else FONT
        if pieces and pieces[-1][0] == font:
            pieces[-1] = (font, pieces[-1][1] + ch)
        else:
            pieces.append((font, ch))
    return pieces

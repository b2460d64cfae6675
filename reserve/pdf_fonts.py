"""The one font of every PDF Reserve prints (receipts, count sheets, labels, reports), and
the paragraph styles, text and signature line those papers share.

WenQuanYi Micro Hei (文泉驿微米黑, Apache-2.0, vendored in ``reserve/fonts`` with its licence) is
embedded as a subset, so a PC without an Asian font pack prints the same page, ² and ³
included. Should the file be missing from a broken install, the built-in CID font STSong-Light
is used instead (not embedded; it has no superscript digits, so those are printed as plain
digits rather than as holes)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, Table

FONT_FILE = Path(__file__).resolve().parent / "fonts" / "wqy-microhei.ttc"
EMBEDDED = "WenQuanYiMicroHei"
FALLBACK = "STSong-Light"
_FALLBACK_GLYPHS = str.maketrans({"²": "2", "³": "3", "¹": "1"})


@cache
def pdf_font() -> str:
    """Register the font once per process and return its name for styles and canvases."""
    try:
        pdfmetrics.registerFont(TTFont(EMBEDDED, str(FONT_FILE), subfontIndex=0))
        return EMBEDDED
    except Exception:  # a missing or unreadable file (TTFError, OSError): the fallback
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK))
        return FALLBACK


def printable(text: str) -> str:
    """Text as the registered font can print it (only the fallback lacks glyphs)."""
    return text if pdf_font() == EMBEDDED else text.translate(_FALLBACK_GLYPHS)


def paper_styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles every Reserve paper shares: body, title, table cell, small print."""
    base = ParagraphStyle("base", fontName=pdf_font(), fontSize=9, leading=12, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, alignment=TA_CENTER),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11),
    }


def paragraph(text: str | None, style: ParagraphStyle) -> Paragraph:
    """Plain text (escaped, printable in the font) as a wrapping paragraph."""
    return Paragraph(escape(printable(text or "")), style)


def signature_row(roles: tuple[str, ...], style: ParagraphStyle, width: float) -> Table:
    """The signature line at the foot of a paper: each role with a blank and a date."""
    blank = "________________"
    return Table(
        [[paragraph(f"{who}：{blank}　日期：{blank}", style) for who in roles]],
        colWidths=[width] * len(roles),
    )

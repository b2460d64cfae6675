"""The one writer of every spreadsheet and CSV the app hands out (导出): the stock card today,
the monthly report and the import templates tomorrow.

Why a shared module and not a helper in each feature: exported cells carry text that keepers
and enterprises typed (batch numbers, notes, names), and a spreadsheet program runs such text
if it looks like a formula (``=HYPERLINK("http://ev.il", …)``, CSV injection) and refuses the
whole file if it holds a control character (openpyxl raises ``IllegalCharacterError`` on
``\\x01``). Both rules must hold for every file, so every file is written here:

- a text cell is always written as text, never as a formula; in Excel with the quote prefix
  (the cell shows exactly what was typed and stays text when edited), in CSV with a leading
  apostrophe when it starts with ``= + - @``, a tab or a carriage return (OWASP's advice);
- control characters (and lone surrogates) are replaced by U+FFFD, visibly, never dropped
  silently and never allowed to make the export fail.

Numbers, dates and times pass through as themselves, so they stay sortable and summable."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
REPLACEMENT = "\ufffd"
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PLAIN = (int, float, Decimal, date, datetime, bool)


def clean_text(value: str) -> str:
    """The text with every control character and lone surrogate shown as U+FFFD."""
    value = _UNWRITABLE.sub(REPLACEMENT, value)
    if any("\ud800" <= char <= "\udfff" for char in value):
        value = "".join(REPLACEMENT if "\ud800" <= c <= "\udfff" else c for c in value)
    return value


def csv_text(value: str) -> str:
    """A text as a CSV field that no spreadsheet will evaluate."""
    value = clean_text(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


class Sheet:
    """One write-only worksheet; rows are appended as plain Python values."""

    def __init__(self, workbook: Workbook, title: str):
        self._ws = workbook.create_sheet(clean_text(title)[:31] or "Sheet")
        self._bold = Font(bold=True)

    def _cell(self, value: Any, *, bold: bool = False) -> WriteOnlyCell | Any:
        if value is None or (isinstance(value, _PLAIN) and not bold):
            return value
        if not isinstance(value, _PLAIN):
            value = clean_text(str(value))
        cell = WriteOnlyCell(self._ws, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # text, even when it starts with "=": never a formula
            cell.quotePrefix = value.startswith(FORMULA_STARTS)
        if bold:
            cell.font = self._bold
        return cell

    def append(self, values: Sequence[Any]) -> None:
        self._ws.append([self._cell(v) for v in values])

    def heading(self, values: Sequence[Any]) -> None:
        """A row in bold (the title, the column headers)."""
        self._ws.append([self._cell(v, bold=True) for v in values])


class XlsxWriter:
    """An Excel workbook, write-only (fine for 100,000 rows): ``sheet()``, then ``to_bytes()``."""

    def __init__(self) -> None:
        self._workbook = Workbook(write_only=True)

    def sheet(self, title: str) -> Sheet:
        return Sheet(self._workbook, title)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self._workbook.save(buffer)
        return buffer.getvalue()


def csv_bytes(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV file (UTF-8 with a BOM, so Excel reads the Chinese) with every text made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_text(str(v)) for v in header])
    for row in rows:
        writer.writerow(
            ["" if v is None else csv_text(v) if isinstance(v, str) else v for v in row]
        )
    return buffer.getvalue().encode("utf-8-sig")

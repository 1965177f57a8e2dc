"""CSV answers that spreadsheets open as they are: UTF-8 with a byte-order mark (so Excel reads
Chinese text right), CRLF line ends, every cell quoted where it must be, and no cell a
spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

BOM = "\ufeff"
CSV_TYPE = "text/csv; charset=utf-8"
# OWASP's CSV injection rule: a text cell starting with one of these is a formula to Excel,
# LibreOffice and Google Sheets; a leading apostrophe makes it text (titles and tags are anyone's).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(map(_cell, header))
    writer.writerows(map(_cell, row) for row in rows)
    return BOM + out.getvalue()


def wants_csv(format_asked: str | None, accept: str | None) -> bool:
    """?format=csv, or an Accept header that prefers text/csv."""
    if format_asked is not None:
        return format_asked == "csv"
    return (accept or "").split(",")[0].split(";")[0].strip().lower() == "text/csv"

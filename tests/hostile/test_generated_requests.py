"""schemathesis: requests generated from GET /api/openapi.json, sent to the devserver."""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import schemathesis
from hypothesis import HealthCheck, given, settings

from support import Devserver

EXAMPLES_PER_OPERATION = 40


def _sender(operation: Any, server: Devserver, broken: list[tuple[str, str, int, str]]) -> Callable[[], None]:
    """A Hypothesis test that sends generated requests for one operation and notes bad answers."""

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def send(case: schemathesis.Case) -> None:
        answer = case.call(base_url=server.url, headers={"x-api-key": server.api_key})
        content_type = (answer.headers.get("content-type") or [""])[0]
        if answer.status_code >= 500 or (answer.status_code >= 400 and content_type != "application/problem+json"):
            broken.append((operation.method, operation.path, answer.status_code, answer.text[:300]))

    return send


def test_no_generated_request_gets_a_500_and_every_error_is_problem_json(server: Devserver) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 11
    broken: list[tuple[str, str, int, str]] = []
    for operation in operations:
        _sender(operation, server, broken)()
    assert broken == []

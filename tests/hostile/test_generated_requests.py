"""schemathesis: requests generated from GET /api/openapi.json, sent to the devserver, each answer
checked against the document: no 5xx, every status and content type documented, every body in
its documented shape, every error problem+json."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from support import Devserver

# SCHEMATHESIS_EXAMPLES=N asks for more or fewer
EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "300"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _sender(operation: Any, server: Devserver, counts: dict[str, int], broken: list[str]) -> Callable[[], None]:
    """A Hypothesis test that sends generated requests for one operation and notes bad answers."""

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def send(case: schemathesis.Case) -> None:
        counts["requests"] += 1
        answer = case.call(base_url=server.url, headers={"x-api-key": server.api_key})
        counts["5xx"] += answer.status_code >= 500
        content_type = (answer.headers.get("content-type") or [""])[0]
        if answer.status_code >= 400 and content_type != "application/problem+json":
            broken.append(f"{operation.method} {operation.path}: {answer.status_code} as {content_type}")
        try:
            case.validate_response(answer, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as failure:  # schemathesis raises one group naming every failed check
            broken.append(f"{operation.method} {answer.request.url}: {answer.status_code} {str(failure)[:300]}")

    return send


def test_no_generated_request_gets_a_5xx_or_an_undocumented_answer(server: Devserver) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 11
    counts = {"requests": 0, "5xx": 0}
    broken: list[str] = []
    for operation in operations:
        _sender(operation, server, counts, broken)()
    print(f"schemathesis: {counts['requests']} requests, {counts['5xx']} 5xx, {len(broken)} undocumented or malformed answers")
    assert counts["5xx"] == 0 and broken == [], "\n".join(broken[:20])

"""One boundary turns every failure into an answer (functions/shortlink/http/boundary.py): an
exception nobody foresaw, raised deep inside any kind of handler, leaves as a 500 problem+json
that names the request id, logged once with its stack under that id."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from devserver.gateway import LambdaContext
from shortlink.links.store import LinkStore
from support import Invoke, MakeEvent, load_event, problem_of


class Boom(RuntimeError):
    """What no handler knows about."""


def _boom(*_: Any, **__: Any) -> Any:
    raise Boom("the unforeseen")


def _module(function: str) -> Any:
    """A function's app module, as the handlers fixture loaded it (devserver/gateway.py)."""
    return sys.modules[f"devserver_fn_{function}"]


def _unhandled(caplog: pytest.LogCaptureFixture, out: str, request_id: str) -> list[str]:
    """The log records of the failure: the standard library's (caplog) and Powertools' JSON lines."""
    records = [r.getMessage() for r in caplog.records if r.exc_info and r.exc_info[0] is Boom]
    records += [line for line in out.splitlines() if line.startswith("{") and "unhandled Boom" in line and "Traceback" in line]
    assert all(request_id in record for record in records), records
    return records


@pytest.mark.parametrize("method, path, patch", [
    ("GET", "/api/links/{code}", (LinkStore, "get")),  # ManageFunction, through the router
    ("POST", "/api/links", (LinkStore, "put_new")),  # CreateFunction
    ("GET", "/{code}", (LinkStore, "read_copy")),  # RedirectFunction, the hot path
    ("GET", "/", ("WebFunction", "load_settings")),  # WebFunction
])
def test_an_unforeseen_exception_is_a_500_problem_with_the_request_id_logged_once(
        invoke: Invoke, make_event: MakeEvent, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str], method: str, path: str, patch: tuple[Any, str]) -> None:
    owner, name = patch
    monkeypatch.setattr(_module(owner) if isinstance(owner, str) else owner, name, _boom)
    event = make_event(method, path.format(code="abc1234"), {"url": "https://example.com/x"} if method == "POST" else None)
    capsys.readouterr()
    with caplog.at_level(logging.ERROR):
        answer = invoke(event)
    problem = problem_of(answer, 500)
    request_id = event["requestContext"]["requestId"]
    assert problem["request_id"] == request_id and request_id in problem["detail"]
    assert "the unforeseen" not in answer["body"]  # the stack stays in the log
    assert len(_unhandled(caplog, capsys.readouterr().out, request_id)) == 1


def test_a_batch_item_that_meets_the_unforeseen_fails_alone_with_the_same_mapping(
        invoke: Invoke, make_event: MakeEvent, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    real = LinkStore.put_new

    def put_new(store: LinkStore, link: Any, *args: Any, **kwargs: Any) -> None:
        if link.code.startswith("boom"):
            _boom()
        real(store, link, *args, **kwargs)

    monkeypatch.setattr(LinkStore, "put_new", put_new)
    event = make_event("POST", "/api/links/batch", {"links": [
        {"url": "https://example.com/1", "alias": "boom-" + uuid.uuid4().hex[:6]},
        {"url": "https://example.com/2", "alias": "fine-" + uuid.uuid4().hex[:6]},
        {"url": "nope"}]})
    capsys.readouterr()
    answer = invoke(event)
    assert answer["statusCode"] == 200
    results = json.loads(answer["body"])["results"]
    assert [r["status"] for r in results] == [500, 201, 422]
    request_id = event["requestContext"]["requestId"]
    assert results[0]["error"]["request_id"] == request_id and results[0]["error"]["type"].endswith("/internal")
    assert results[2]["error"]["errors"][0]["field"] == "url"
    assert len(_unhandled(caplog, capsys.readouterr().out, request_id)) == 1


@pytest.mark.parametrize("function, event_name, patch", [
    ("StatsFunction", "stream-visits", "read_batch"),  # the stream
    ("ExpiryFunction", "expiry-sweep", "sweep"),  # the schedule
])
def test_stream_and_schedule_handlers_log_the_unforeseen_once_and_answer_for_a_retry(
        handlers: dict[str, Callable[..., dict[str, Any]]], dynamodb: Any, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str], function: str, event_name: str, patch: str) -> None:
    monkeypatch.setattr(_module(function), patch, _boom)
    event = load_event(event_name)
    request_id = uuid.uuid4().hex
    capsys.readouterr()
    with caplog.at_level(logging.ERROR):
        answer = handlers[function](event, LambdaContext(function, request_id))
    if function == "StatsFunction":  # every record back to Lambda, which retries, bisects, then queues
        assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    else:  # the next minute's sweep asks again; the fault is counted
        assert answer == {"marked": 0, "failed": 1, "error": "internal"}
    assert len(_unhandled(caplog, capsys.readouterr().out, request_id)) == 1

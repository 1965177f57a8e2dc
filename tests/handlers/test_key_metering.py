"""Managed keys through the handlers, as on AWS: each is metered by a usage key of its own in the
stack's usage plan (made, returned by the key authorizer, deleted when the key is revoked)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devserver.gateway import LambdaContext, api_key_id
from shortlink.keys.usage import _client as usage_client
from shortlink.settings import load_settings
from support import OTHER_KEY, Invoke, MakeEvent, load_event


@pytest.fixture()
def plan(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A usage plan in the test's embedded store, which plays API Gateway's key API too."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_API_GATEWAY", os.environ["AWS_ENDPOINT_URL_DYNAMODB"])
    plan_id = str(usage_client().create_usage_plan(name="plan")["id"])
    monkeypatch.setenv("USAGE_PLAN_ID", plan_id)
    monkeypatch.setenv("ADMIN_API_KEY_IDS", api_key_id(OTHER_KEY))
    load_settings.cache_clear()
    yield plan_id
    load_settings.cache_clear()


def _authorize(handlers: dict[str, Callable[..., dict[str, Any]]], secret: str) -> dict[str, Any]:
    event = {**load_event("authorizer"), "headers": {"x-api-key": secret}}
    return handlers["AuthorizerFunction"](event, LambdaContext("AuthorizerFunction", "test"))


def test_each_managed_key_is_metered_on_its_own_and_leaves_the_plan_when_revoked(
        invoke: Invoke, make_event: MakeEvent, handlers: dict[str, Callable[..., dict[str, Any]]], plan: str) -> None:
    made = [json.loads(invoke(make_event("POST", "/api/keys", {"name": f"app {n}", "team": "growth"}, api_key=OTHER_KEY))["body"])
            for n in range(2)]
    in_plan = {item["value"] for item in usage_client().get_usage_plan_keys(usagePlanId=plan)["items"]}
    decisions = [_authorize(handlers, key["key"]) for key in made]
    usage_keys = [decision["usageIdentifierKey"] for decision in decisions]
    assert set(usage_keys) == in_plan and len(in_plan) == 2  # one usage key each: the plan's throttle and quota per key
    assert not {key["key"] for key in made} & in_plan  # the plan holds no secret
    with pytest.raises(Exception, match="^Unauthorized$"):  # and what it holds lets nobody in
        _authorize(handlers, usage_keys[1])
    assert decisions[0]["context"] == {"key_id": made[0]["id"], "name": "app 0", "role": "member", "team": "growth", "domains": "*"}

    assert invoke(make_event("DELETE", f"/api/keys/{made[0]['id']}", api_key=OTHER_KEY))["statusCode"] == 204
    # its usage key is deleted (on AWS that takes it out of every plan; moto keeps the plan's entry)
    assert {item["value"] for item in usage_client().get_api_keys(includeValues=True)["items"]} & set(usage_keys) == {usage_keys[1]}
    with pytest.raises(Exception, match="^Unauthorized$"):  # API Gateway's 401
        _authorize(handlers, made[0]["key"])
    assert invoke(make_event("DELETE", f"/api/keys/{made[0]['id']}", api_key=OTHER_KEY))["statusCode"] == 204  # again: no change


def test_a_key_api_gateway_made_is_handed_back_for_the_plan_to_check(handlers: dict[str, Callable[..., dict[str, Any]]]) -> None:
    decision = _authorize(handlers, "a-usage-plan-key-made-by-aws-cli")
    assert decision["usageIdentifierKey"] == "a-usage-plan-key-made-by-aws-cli" and decision["context"] == {}
    for refused in ("", "slk_0123456789ab_" + "A" * 43):  # none, or a managed key's shape with no record
        with pytest.raises(Exception, match="^Unauthorized$"):
            _authorize(handlers, refused)

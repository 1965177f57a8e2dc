"""template.yaml checked by the real SAM tooling, and its policies proved least-privilege."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from devserver.gateway import api_key_id
from devserver.template import Template
from shortlink.dynamodb import client as dynamodb_client
from shortlink.events.bus import events_client
from shortlink.keys.usage import _client as usage_client
from shortlink.settings import load_settings
from support import DAY_SECONDS, ROOT, FakeClock, drain_stream, load_event, sam_environment
from support import OTHER_KEY as OPERATOR

BIN = Path(sys.executable).parent


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=sam_environment(), capture_output=True, text=True, timeout=600)


def test_sam_validate_lint_is_clean() -> None:
    result = _run(str(BIN / "sam"), "validate", "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_cfn_lint_with_serverless_rules_is_clean() -> None:
    """Informational checks included (I3011: every stateful resource says what happens to it on delete)."""
    result = _run(str(BIN / "cfn-lint"), "--include-checks", "I", "--append-rules", "cfn_lint_serverless.rules", "--", "template.yaml")
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def test_checkov_is_clean_and_every_skip_says_why() -> None:
    """checkov (its own virtualenv: it pins an older boto3) passes every check it does not skip;
    each skip sits on its resource in template.yaml with a comment."""
    # --skip-download: checkov asks an outside service for guidelines otherwise; this machine has no such network
    result = _run(str(CHECKOV), "-f", "template.yaml", "--framework", "cloudformation", "--skip-download", "-o", "json")
    report = json.loads(result.stdout)
    assert report["summary"]["failed"] == 0 and report["summary"]["passed"] > 30, result.stdout[-3000:]
    skipped = report["results"]["skipped_checks"]
    assert skipped and all(check["check_result"].get("suppress_comment", "").strip() for check in skipped)


def test_sam_build_produces_every_function_and_the_core_layer(tmp_path: Path) -> None:
    build = tmp_path / "build"
    result = _run(str(BIN / "sam"), "build", "--language-extensions", "--build-dir", str(build), "--cache-dir", str(tmp_path / "cache"))
    assert result.returncode == 0, result.stdout + result.stderr
    layer = build / "CoreLayer" / "python" / "shortlink"
    source = ROOT / "functions" / "shortlink"
    wanted = {p.relative_to(source) for pattern in ("**/*.py", "**/*.html", "**/*.json", "**/*.bin") for p in source.glob(pattern)
              if "__pycache__" not in p.parts}
    assert wanted == {p.relative_to(layer) for p in layer.rglob("*") if p.is_file()}
    assert (build / "RedirectFunction" / "app.py").exists()
    assert (build / "CreateFunction" / "aws_lambda_powertools").is_dir()
    # arm64 functions get aarch64 wheels, whatever machine builds them
    assert list((build / "CreateFunction" / "pydantic_core").glob("*aarch64*.so"))


APIGATEWAY = "arn:${AWS::Partition}:apigateway:${AWS::Region}::"


def _resource(value: Any) -> str:
    """GetAtt T.Arn -> 'T'; Sub '${T.Arn}/index/I' -> 'T/index/I' (local tables are named by logical id);
    an API Gateway resource -> its path ('/usageplans/{plan}/keys')."""
    if "Fn::GetAtt" in value and value["Fn::GetAtt"][1] in ("Arn", "StreamArn"):  # a table, its stream, a queue, the bus
        return value["Fn::GetAtt"][0] + ("/stream" if value["Fn::GetAtt"][1] == "StreamArn" else "")
    if "Fn::Sub" in value and value["Fn::Sub"].startswith("${") and ".Arn}" in value["Fn::Sub"]:
        table, rest = value["Fn::Sub"][2:].split(".Arn}", 1)
        return table + rest
    if "Fn::Sub" in value and value["Fn::Sub"].startswith(APIGATEWAY):
        return value["Fn::Sub"].removeprefix(APIGATEWAY).replace("${ShortLinkApiUsagePlan}", "{plan}")
    raise AssertionError(f"policy resource is not one table, index or API Gateway resource: {value}")


def _statements(template: Template, function: str) -> list[dict[str, Any]]:
    """The function's policy statements: its SAM Policies, or its own role's (StatsFunction)."""
    props = template.resources[function]["Properties"]
    if "Role" in props:
        role = template.resources[props["Role"]["Fn::GetAtt"][0]]["Properties"]
        return [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    return [s for p in props.get("Policies", []) for s in p["Statement"]]


def _allowed(template: Template, function: str) -> set[tuple[str, str]]:
    """(action, table, index or queue) pairs the function's policy allows (logs and X-Ray aside)."""
    statements = [s for s in _statements(template, function) if not s["Action"][0].startswith(("logs:", "xray:"))]
    assert all(s["Effect"] == "Allow" for s in statements)
    return {(action, _resource(resource)) for s in statements for action in s["Action"]
            for resource in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])}


# Powertools deletes its in-progress idempotency record when the wrapped function
# raises; the batch turns every expected failure into a per-item result instead.
ONLY_WHEN_A_HANDLER_CRASHES = {("dynamodb:DeleteItem", "IdempotencyTable")}
# Used by Lambda's event source mapping on the function's behalf, not by its code.
EVENT_SOURCE_MAPPING = {
    *((f"dynamodb:{a}", "LinksTable/stream") for a in ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams")),
    ("sqs:SendMessage", "StatsFailureQueue"),
}


# The usage-plan calls of a managed key (keys/usage.py) as IAM names them:
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-create-and-manage-api.html
USAGE_PLAN_CALLS = {"CreateApiKey": ("apigateway:POST", "/apikeys"), "CreateUsagePlanKey": ("apigateway:POST", "/usageplans/{plan}/keys"),
                    "DeleteApiKey": ("apigateway:DELETE", "/apikeys/*")}
TRANSACTION_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


@contextmanager
def _sent(client: Any, events: Any) -> Iterator[set[tuple[str, str]]]:
    """(dynamodb:Operation, table or index) of every request sent meanwhile, and
    (events:PutEvents, bus); the events client is stubbed (the bus is only on AWS)."""
    seen: set[tuple[str, str]] = set()

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        # a transaction needs each of its actions' permissions on each item's table
        # (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html)
        for action in params.get("TransactItems", []):
            for kind, request in action.items():
                seen.add((f"dynamodb:{TRANSACTION_ACTIONS[kind]}", request["TableName"]))
        for table in params.get("RequestItems") or ([params["TableName"]] if "TableName" in params else []):  # BatchGetItem names its tables
            seen.add((f"dynamodb:{model.name}", table + (f"/index/{params['IndexName']}" if "IndexName" in params else "")))

    def record_event(params: dict[str, Any], **_: Any) -> None:
        seen.update(("events:PutEvents", entry["EventBusName"]) for entry in params["Entries"])

    def record_usage_key(model: Any, **_: Any) -> None:  # API Gateway's actions are its methods on its paths
        seen.add(USAGE_PLAN_CALLS[model.name])

    client.meta.events.register("before-parameter-build.dynamodb.*", record)
    events.meta.events.register("before-parameter-build.events.PutEvents", record_event)
    usage_client().meta.events.register("before-parameter-build.apigateway.*", record_usage_key)
    try:
        with Stubber(events) as stub:
            for _ in range(5):
                stub.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "e"}]})
            yield seen
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb.*", record)
        events.meta.events.unregister("before-parameter-build.events.PutEvents", record_event)
        usage_client().meta.events.unregister("before-parameter-build.apigateway.*", record_usage_key)


def _stream_batch(code: str, created_at: str = "2026-11-25T00:00:00.000Z") -> dict[str, Any]:
    """A stream batch with the link s.example.com/<code> made, then visited, as the stream delivers it."""
    image = {"link_id": {"S": f"s.example.com/{code}"}, "domain": {"S": "s.example.com"}, "code": {"S": code},
             "url": {"S": "https://example.com/lp"}, "updated_at": {"S": "2026-11-25T00:00:00.000Z"},
             "created_at": {"S": created_at},
             "visits": {"N": "1"}, "last_visit": {"M": {"id": {"S": "r1"}, "at": {"N": str(int(time.time()))},
                                                         "platform": {"S": "ios"}, "bot": {"BOOL": False}}}}
    old = {**image, "visits": {"N": "0"}}
    del old["last_visit"]
    return {"Records": [
        {"eventName": "INSERT", "eventSource": "aws:dynamodb", "dynamodb": {
            "Keys": {"link_id": image["link_id"]}, "NewImage": old, "SequenceNumber": "99", "StreamViewType": "NEW_AND_OLD_IMAGES"}},
        {"eventName": "MODIFY", "eventSource": "aws:dynamodb", "dynamodb": {
            "Keys": {"link_id": image["link_id"]}, "NewImage": image, "OldImage": old, "SequenceNumber": "100",
            "StreamViewType": "NEW_AND_OLD_IMAGES"}},
    ]}


def _counter_batch(code: str, visits: int = 100, created_at: str = "2026-11-25T00:00:00.000Z") -> dict[str, Any]:
    """The stream records of `visits` visits counted on one of s.example.com/<code>'s counters:
    enough to reach the first milestone (StatsFunction reads the link for the event's body)."""
    at = int(time.time())
    records = []
    for n in range(1, visits + 1):
        image = {"link_id": {"S": f"s.example.com/{code}#3"}, "created_at": {"S": created_at},
                 "born": {"N": str(at)}, "visits": {"N": str(n)}, "expires_at": {"N": str(at + 2 * DAY_SECONDS)},
                 "last_visit": {"M": {"id": {"S": f"r{n}"}, "at": {"N": str(at)}, "platform": {"S": "ios"}, "bot": {"BOOL": False}}}}
        records.append({"eventName": "MODIFY", "eventSource": "aws:dynamodb", "dynamodb": {
            "Keys": {"link_id": image["link_id"]}, "NewImage": image, "OldImage": {**image, "last_visit": {"M": {}}},
            "SequenceNumber": str(1000 + n), "StreamViewType": "NEW_AND_OLD_IMAGES"}})
    return {"Records": records}


def _ttl_removal(item: dict[str, Any]) -> dict[str, Any]:
    """The stream record of TTL deleting this link's item."""
    return {"Records": [{"eventName": "REMOVE", "eventSource": "aws:dynamodb",
                         "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
                         "dynamodb": {"Keys": {"link_id": item["link_id"]}, "OldImage": item, "SequenceNumber": "200",
                                      "StreamViewType": "NEW_AND_OLD_IMAGES"}}]}


def _ended(dynamodb: Any, handlers: dict[str, Callable[..., dict[str, Any]]], code: str) -> dict[str, Any]:
    """Index every link made so far, then end one as TTL would: its item goes, its life stays in
    the search index (what a listing of ended lives reads). Returns that removal's record."""
    from devserver.gateway import LambdaContext

    drain_stream(dynamodb, only="SearchFunction")
    key = {"link_id": {"S": f"s.example.com/{code}"}}
    item = dynamodb.get_item(TableName="LinksTable", Key=key)["Item"]
    dynamodb.delete_item(TableName="LinksTable", Key=key)
    removal = _ttl_removal(item)
    assert handlers["SearchFunction"](removal, LambdaContext("SearchFunction", "test")) == {"batchItemFailures": []}
    return removal


def test_each_function_may_do_exactly_what_it_does(
    template: Template, invoke: Callable[[dict[str, Any]], dict[str, Any]], make_event: Callable[..., dict[str, Any]],
    handlers: dict[str, Callable[..., dict[str, Any]]], clock: FakeClock, monkeypatch: pytest.MonkeyPatch, dynamodb: Any,
) -> None:
    """Run every route of each function (success and failure paths) while recording the
    DynamoDB requests sent; each policy must allow exactly those, on those tables."""
    alias, other, locked, brief, ended = ("lp-" + uuid.uuid4().hex[:8] for _ in range(5))
    monkeypatch.setenv("EVENT_BUS_NAME", "LinkEventBus")  # on AWS, the bus's name
    monkeypatch.setenv("ADMIN_API_KEY_IDS", api_key_id(OPERATOR))
    # managed keys are metered by usage keys in a plan: the test's embedded store plays API Gateway too
    monkeypatch.setenv("AWS_ENDPOINT_URL_API_GATEWAY", os.environ["AWS_ENDPOINT_URL_DYNAMODB"])
    monkeypatch.setenv("USAGE_PLAN_ID", usage_client().create_usage_plan(name="test plan")["id"])
    load_settings.cache_clear()
    key_id = "0123456789ab"  # no such key
    revoked, authorized = (json.loads(invoke(make_event("POST", "/api/keys", {"name": name}, api_key=OPERATOR))["body"])
                           for name in ("to revoke", "authorized"))

    def run(function: str, event: dict[str, Any]) -> dict[str, Any]:
        from devserver.gateway import LambdaContext

        if "httpMethod" in event and function != "AuthorizerFunction":  # an authorizer's event names the request too
            return invoke(event)
        if function == "ExpiryFunction":
            clock.advance(DAY_SECONDS + 60)  # the one-day link has just expired
        return handlers[function](event, LambdaContext(function, "test"))

    once = {"Idempotency-Key": uuid.uuid4().hex}
    scenarios = {
        "CreateFunction": [
            make_event("POST", "/api/links", {"url": "https://example.com/lp", "alias": alias}, headers=once),
            make_event("POST", "/api/links", {"url": "https://example.com/lp", "alias": locked, "password": "open sesame"}),
            make_event("POST", "/api/links", {"url": "https://example.com/lp", "alias": brief, "validity": "1d"}),
            make_event("POST", "/api/links", {"url": "https://example.com/lp", "alias": ended, "validity": "1d"}),
            make_event("POST", "/api/links", {"url": "https://example.com/lp", "max_visits": 500}),  # its tickets on its counters
            make_event("POST", "/api/links", {"url": "https://example.com/lp", "alias": alias},
                       headers={"Idempotency-Key": uuid.uuid4().hex}),  # 409: Powertools drops its record
            make_event("GET", "/api/domains"),
        ],
        "ShortenFunction": [make_event("POST", "/api/shorten", {"url": "https://example.com/lp"})],
        "RedirectFunction": [
            make_event("GET", f"/{alias}"),
            make_event("HEAD", f"/{alias}"),
            make_event("GET", "/no-such-code"),
            make_event("POST", f"/{locked}", raw_body=b"password=wrong", headers={"Content-Type": "application/x-www-form-urlencoded"}),
        ],
        "ManageFunction": [
            make_event("GET", "/api/links"),
            make_event("GET", f"/api/links/{alias}"),
            make_event("PATCH", f"/api/links/{alias}", {"title": "changed"}),
            make_event("PATCH", f"/api/links/{alias}", {"max_visits": 1000}),  # reads the counters' tally
            make_event("PATCH", f"/api/links/{alias}", {"max_visits": 900}),  # reads the tickets its counters hold
            make_event("POST", "/api/links/batch", {"links": [{"url": "https://example.com/b", "alias": other}]},
                       headers={"Idempotency-Key": uuid.uuid4().hex}),
            make_event("DELETE", f"/api/links/{other}"),
            make_event("GET", f"/api/links/{alias}/stats"),
            make_event("GET", f"/api/links/{alias}/qr?format=png"),
            make_event("GET", "/api/openapi.json"),
            make_event("GET", "/api/links", api_key=OPERATOR),  # every link, the ended one too
            make_event("GET", f"/api/links/{ended}"),  # ended: no item, its life from the index
            make_event("GET", "/api/links?q=lp"),
            make_event("GET", "/api/links?sort=-visits&tag=x"),  # the by_visits index
            make_event("POST", "/api/keys", {"name": "made", "team": "growth"}, api_key=OPERATOR),  # a usage key in the plan
            make_event("GET", "/api/keys", api_key=OPERATOR),
            make_event("GET", f"/api/keys/{key_id}", api_key=OPERATOR),  # 404
            make_event("PATCH", f"/api/keys/{key_id}", {"name": "renamed"}, api_key=OPERATOR),  # 404
            make_event("GET", "/api/keys/me"),
            make_event("DELETE", f"/api/keys/{revoked['id']}", api_key=OPERATOR),  # and its usage key deleted
        ],
        "AuthorizerFunction": [{**load_event("authorizer"), "headers": {"x-api-key": authorized["key"]}}],
        "SearchFunction": [_stream_batch(alias)],
        "StatsFunction": [_stream_batch(alias), _counter_batch(alias)],
        "ExpiryFunction": [load_event("expiry-sweep")],
        "WebFunction": [make_event("GET", "/"), make_event("GET", "/static/app.js"),
                        make_event("GET", f"/qr?url=https://s.example.com/{alias}")],
    }
    assert set(scenarios) == set(template.functions())
    for function, events in scenarios.items():
        if function == "ManageFunction":
            scenarios["SearchFunction"].append(_ended(dynamodb, handlers, ended))
        if function == "StatsFunction":  # visits of the life the link has: StatsFunction ranks it by them
            created = dynamodb.get_item(TableName="LinksTable", Key={"link_id": {"S": f"s.example.com/{alias}"}})["Item"]["created_at"]["S"]
            events = [_stream_batch(alias, created), _counter_batch(alias, created_at=created)]
        with _sent(dynamodb_client(), events_client()) as sent:
            for event in events:
                answer = run(function, event)
                assert answer.get("statusCode", 200) < 500 and not answer.get("batchItemFailures") and not answer.get("failed")
        allowed = _allowed(template, function) - EVENT_SOURCE_MAPPING
        assert sent <= allowed, function
        assert allowed - sent <= ONLY_WHEN_A_HANDLER_CRASHES, function
    assert not {a for a, _ in _allowed(template, "RedirectFunction")} & {"dynamodb:PutItem", "dynamodb:DeleteItem"}
    load_settings.cache_clear()


def test_table_keeps_links_as_the_design_says(template: Template) -> None:
    table = template.resources["LinksTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "link_id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["DeletionProtectionEnabled"] == {"Ref": "TableDeletionProtection"}


def test_api_keys_usage_plan_and_throttles(template: Template) -> None:
    routes = {(r.method, r.public_path): r for r in template.routes()}
    assert routes[("POST", "/api/links")].api_key_required
    assert not routes[("POST", "/api/shorten")].api_key_required
    assert not routes[("GET", "/{code}")].api_key_required and not routes[("HEAD", "/{code}")].api_key_required
    api = template.resources["ShortLinkApi"]["Properties"]
    plan = api["Auth"]["UsagePlan"]
    assert plan["CreateUsagePlan"] == "PER_API" and plan["Throttle"]["RateLimit"] > 0 and plan["Quota"]["Limit"] > 0
    limits = {(m["ResourcePath"], m["HttpMethod"]): m["ThrottlingRateLimit"] for m in api["MethodSettings"]}
    assert limits[("/~1shorten", "POST")] < limits[("/*", "*")]
    assert template.doc["Outputs"]["UsagePlanId"]["Value"] == {"Ref": "ShortLinkApiUsagePlan"}


def test_functions_are_arm64_python313_with_settings_from_parameters(template: Template) -> None:
    function_globals = template.doc["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13" and function_globals["Architectures"] == ["arm64"]
    env = function_globals["Environment"]["Variables"]
    assert env["SHORT_DOMAINS"] == {"Fn::If": ["HasCertificate", {"Fn::Join": [",", {"Ref": "ShortDomains"}]},
                                               {"Fn::Sub": "${PublicApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}]}
    assert env["DEFAULT_VALIDITY"] == {"Ref": "DefaultValidity"}
    assert env["PUBLIC_SHORTENING"] == {"Ref": "PublicShortening"}
    assert env["BLOCKED_HOSTS"] == {"Fn::Join": [",", {"Ref": "BlockedHosts"}]}
    assert env["LINKS_TABLE"] == {"Ref": "LinksTable"}


def test_alarms_watch_errors_latency_throttles_and_the_failure_queue(template: Template) -> None:
    alarms = {name: res["Properties"] for name, res in template.resources.items()
              if isinstance(res, dict) and res["Type"] == "AWS::CloudWatch::Alarm"}
    watched = set()
    for props in alarms.values():
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        stats = [m["MetricStat"]["Metric"]["MetricName"] for m in props.get("Metrics", []) if "MetricStat" in m]
        watched |= set(stats) | {props.get("MetricName")}
    assert {"5XXError", "5xx", "Duration", "ReadThrottleEvents", "WriteThrottleEvents", "ApproximateNumberOfMessagesVisible"} <= watched
    public = next(p for p in alarms.values() if p.get("MetricName") == "5xx")  # the HTTP API's name for it
    assert public["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": "PublicApi"}}]
    latency = next(p for p in alarms.values() if p.get("MetricName") == "Duration")
    assert latency["ExtendedStatistic"] == "p99" and latency["Dimensions"][0]["Value"] == {"Ref": "RedirectFunction"}


def test_every_function_has_a_log_group_with_retention(template: Template) -> None:
    groups = {res["Properties"]["LogGroupName"]["Fn::Sub"]: res["Properties"] for res in template.resources.values()
              if isinstance(res, dict) and res["Type"] == "AWS::Logs::LogGroup"}
    for name in template.functions():
        assert groups[f"/aws/lambda/${{{name}}}"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert template.resources[f"{name}Logs"]["DeletionPolicy"] == "Delete"


def test_api_gateways_own_answers_are_problem_json(template: Template) -> None:
    responses = template.gateway_responses()
    assert {"MISSING_AUTHENTICATION_TOKEN", "INVALID_API_KEY", "THROTTLED", "QUOTA_EXCEEDED", "REQUEST_TOO_LARGE",
            "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    for kind, spec in responses.items():
        assert spec["ResponseParameters"]["Headers"]["Content-Type"] == "'application/problem+json'", kind
        body = json.loads(spec["ResponseTemplates"]["application/json"].replace("$context.error.messageString", '"why"'))
        assert body["type"].startswith("https://") and body["title"] and body["detail"], kind
        if "StatusCode" in spec:
            assert body["status"] == int(spec["StatusCode"]), kind


def test_every_get_route_has_its_head_twin_on_the_same_function(template: Template) -> None:
    """http-api-develop-routes.html: an HTTP API route matches its own method only (ANY matches
    all), and a REST API method answers one HTTP method: HEAD works wherever GET does because
    each GET route has a HEAD route beside it (the functions answer it without a body)."""
    routes = {(r.api, r.method, r.path): r.function for r in template.routes()}
    gets = {(api, path): function for (api, method, path), function in routes.items() if method == "GET"}
    assert len(gets) >= 13
    assert {key: routes.get((key[0], "HEAD", key[1])) for key in gets} == gets

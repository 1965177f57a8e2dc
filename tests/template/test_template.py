"""template.yaml checked by the real SAM tooling, and its policies proved least-privilege."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Callable


from conftest import ROOT, dynamodb_requests
from devserver.template import Template
from shortlink.store import dynamodb_client

BIN = Path(sys.executable).parent


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {"SAM_CLI_TELEMETRY": "0", "PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(Path.home()), "AWS_DEFAULT_REGION": "us-east-1"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_sam_validate_lint_is_clean() -> None:
    result = _run(str(BIN / "sam"), "validate", "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_cfn_lint_with_serverless_rules_is_clean() -> None:
    result = _run(str(BIN / "cfn-lint"), "--append-rules", "cfn_lint_serverless.rules", "--", "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_sam_build_produces_every_function_and_the_core_layer(tmp_path: Path) -> None:
    build = tmp_path / "build"
    result = _run(str(BIN / "sam"), "build", "--build-dir", str(build), "--cache-dir", str(tmp_path / "cache"))
    assert result.returncode == 0, result.stdout + result.stderr
    layer = build / "CoreLayer" / "python" / "shortlink"
    assert {p.name for p in (ROOT / "functions" / "shortlink").glob("*.py")} == {p.name for p in layer.glob("*.py")}
    assert (build / "RedirectFunction" / "app.py").exists()
    assert (build / "CreateFunction" / "aws_lambda_powertools").is_dir()
    # arm64 functions get aarch64 wheels, whatever machine builds them
    assert list((build / "CreateFunction" / "pydantic_core").glob("*aarch64*.so"))


def _statements(template: Template, function: str) -> list[dict[str, Any]]:
    policies = template.resources[function]["Properties"]["Policies"]
    return [s for p in policies for s in p["Statement"]]


def _allowed_actions(template: Template, function: str) -> set[str]:
    return {a for s in _statements(template, function) for a in s["Action"]}


def test_every_statement_names_the_links_table_only(template: Template) -> None:
    for name in template.functions():
        for statement in _statements(template, name):
            assert statement["Effect"] == "Allow"
            assert statement["Resource"] == {"Fn::GetAtt": ["LinksTable", "Arn"]}, name


def test_each_function_may_do_exactly_what_it_does(
    template: Template, invoke: Callable[[dict[str, Any]], dict[str, Any]], make_event: Callable[..., dict[str, Any]],
) -> None:
    """Run every route of each function (success and failure paths) while recording the
    DynamoDB operations sent; the policy must allow those and nothing more."""
    alias = "lp-" + uuid.uuid4().hex[:8]
    scenarios = {
        "CreateFunction": [
            make_event("POST", "/api/links", {"url": "https://example.com/lp", "alias": alias}),
            make_event("POST", "/api/links", {"url": "https://example.com/lp", "alias": alias}),
            make_event("POST", "/api/shorten", {"url": "https://example.com/lp"}),
            make_event("GET", "/api/domains"),
        ],
        "RedirectFunction": [
            make_event("GET", f"/{alias}"),
            make_event("HEAD", f"/{alias}"),
            make_event("GET", "/no-such-code"),
        ],
    }
    assert set(scenarios) == set(template.functions())
    for function, events in scenarios.items():
        with dynamodb_requests(dynamodb_client()) as sent:
            for event in events:
                assert invoke(event)["statusCode"] < 500
        assert {f"dynamodb:{op}" for op in sent} == _allowed_actions(template, function), function
    assert not {"dynamodb:PutItem", "dynamodb:DeleteItem"} & _allowed_actions(template, "RedirectFunction")


def test_table_keeps_links_as_the_design_says(template: Template) -> None:
    table = template.resources["LinksTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "link_id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["DeletionProtectionEnabled"] == {"Ref": "TableDeletionProtection"}


def test_api_keys_usage_plan_and_throttles(template: Template) -> None:
    routes = {(r.method, r.path): r for r in template.routes()}
    assert routes[("POST", "/api/links")].api_key_required
    assert not routes[("POST", "/api/shorten")].api_key_required
    assert not routes[("GET", "/{code}")].api_key_required and not routes[("HEAD", "/{code}")].api_key_required
    api = template.resources["ShortLinkApi"]["Properties"]
    plan = api["Auth"]["UsagePlan"]
    assert plan["CreateUsagePlan"] == "PER_API" and plan["Throttle"]["RateLimit"] > 0 and plan["Quota"]["Limit"] > 0
    limits = {(m["ResourcePath"], m["HttpMethod"]): m["ThrottlingRateLimit"] for m in api["MethodSettings"]}
    assert limits[("/~1api~1shorten", "POST")] < limits[("/*", "*")]
    assert template.doc["Outputs"]["UsagePlanId"]["Value"] == {"Ref": "ShortLinkApiUsagePlan"}


def test_functions_are_arm64_python311_with_settings_from_parameters(template: Template) -> None:
    function_globals = template.doc["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.11" and function_globals["Architectures"] == ["arm64"]
    env = function_globals["Environment"]["Variables"]
    assert env["SHORT_DOMAINS"] == {"Fn::Join": [",", {"Ref": "ShortDomains"}]}
    assert env["DEFAULT_VALIDITY"] == {"Ref": "DefaultValidity"}
    assert env["PUBLIC_SHORTENING"] == {"Ref": "PublicShortening"}
    assert env["BLOCKED_HOSTS"] == {"Fn::Join": [",", {"Ref": "BlockedHosts"}]}
    assert env["LINKS_TABLE"] == {"Ref": "LinksTable"}

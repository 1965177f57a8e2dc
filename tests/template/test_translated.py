"""The template as CloudFormation gets it: Fn::ForEach expanded (SAM CLI's own LanguageExtensions
code) and translated by the SAM translator, for a development stack (every switch off) and for a
production one (domains, certificate, zone, alarm mail, WAF, reserved concurrency, access logs, webhook)."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest

from support import ROOT

PROD = {"ShortDomains": "s.example.com,go.example.com", "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        "HostedZoneId": "Z0123456789", "AlarmEmail": "ops@example.com", "EnableWaf": "true", "ShortenConcurrency": "5",
        "AccessLogs": "true", "TableDeletionProtection": "true", "WebhookUrl": "https://hooks.example.com/shortlink"}
DEV = {"TableDeletionProtection": "false"}


def translate(parameters: dict[str, str]) -> dict[str, Any]:
    from samcli.lib.cfn_language_extensions.api import process_template
    from samcli.yamlhelper import yaml_parse
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    document = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    expanded = process_template(document, parameter_values=parameters)
    expanded["Transform"] = "AWS::Serverless-2016-10-31"  # LanguageExtensions is done
    for resource in expanded["Resources"].values():
        for key in ("CodeUri", "ContentUri"):  # what `sam package` puts there
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = "s3://bucket/key"
    translated: dict[str, Any] = transform(expanded, parameters, NoManagedPolicies())
    return translated


@pytest.fixture(scope="module")
def prod() -> dict[str, Any]:
    return translate(PROD)["Resources"]


@pytest.fixture(scope="module")
def dev() -> dict[str, Any]:
    return translate(DEV)["Resources"]


def _of(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: res for name, res in resources.items() if res["Type"] == kind}


def test_each_short_domain_maps_api_to_the_rest_api_and_the_rest_to_the_http_api(prod: dict[str, Any]) -> None:
    domains = _of(prod, "AWS::ApiGatewayV2::DomainName")
    assert sorted(d["Properties"]["DomainName"] for d in domains.values()) == ["go.example.com", "s.example.com"]
    for domain in domains.values():
        props = domain["Properties"]
        assert domain["Condition"] == "HasCertificate" and props["RoutingMode"] == "API_MAPPING_ONLY"
        assert props["DomainNameConfigurations"] == [{"CertificateArn": PROD["CertificateArn"], "EndpointType": "REGIONAL",
                                                      "SecurityPolicy": "TLS_1_2", "IpAddressType": "dualstack"}]
    assert not _of(prod, "AWS::ApiGatewayV2::RoutingRule") and not _of(prod, "AWS::ApiGateway::BasePathMapping")
    mappings = [m["Properties"] for m in _of(prod, "AWS::ApiGatewayV2::ApiMapping").values()]
    assert sorted((m.get("ApiMappingKey", ""), m["ApiId"]["Ref"], m["Stage"]["Ref"]) for m in mappings) == [
        ("", "PublicApi", "PublicApiStage"), ("", "PublicApi", "PublicApiStage"),
        ("api", "ShortLinkApi", "ShortLinkApiprodStage"), ("api", "ShortLinkApi", "ShortLinkApiprodStage")]
    records = _of(prod, "AWS::Route53::RecordSetGroup")
    assert len(records) == 2 and all(r["Condition"] == "HasDnsRecords" for r in records.values())
    for group in records.values():
        kinds = {r["Type"] for r in group["Properties"]["RecordSets"]}
        assert kinds == {"A", "AAAA"}
        assert all(r["AliasTarget"]["DNSName"]["Fn::GetAtt"][1] == "RegionalDomainName" for r in group["Properties"]["RecordSets"])
    assert prod["ShortLinkApi"]["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]} and _execute_api_endpoint_off(prod)
    assert prod["PublicApi"]["Properties"]["DisableExecuteApiEndpoint"] is True
    assert prod["ApiPassThroughRoute"]["Condition"] == "NoCertificate"  # with domains the "api" mapping does it


def test_the_public_routes_are_the_http_api_and_without_domains_it_passes_api_on(dev: dict[str, Any]) -> None:
    # (SAM CLI's expansion may have written the Fn::Sub out: what CloudFormation gets is tested on
    # the built template, test_aws_constraints.py)
    routes = {r["Properties"]["RouteKey"]: str(r["Properties"]["Target"]).removeprefix("{'Fn::Sub': '").removesuffix("'}")
              for r in _of(dev, "AWS::ApiGatewayV2::Route").values()}
    assert routes == {**{key: "integrations/${RedirectIntegration}" for key in ("GET /{code}", "HEAD /{code}", "POST /{code}")},
                      **{f"{method} {path}": "integrations/${WebIntegration}" for method in ("GET", "HEAD")
                         for path in ("/", "/static/{asset}", "/qr", "/console", "/favicon.ico")},
                      "ANY /api/{proxy+}": "integrations/${ApiPassThrough}"}
    for name in ("RedirectIntegration", "WebIntegration"):
        integration = dev[name]["Properties"]
        assert integration["IntegrationType"] == "AWS_PROXY" and integration["PayloadFormatVersion"] == "2.0"
    permissions = [p["Properties"] for p in _of(dev, "AWS::Lambda::Permission").values() if "PublicApi" in str(p["Properties"]["SourceArn"])]
    assert sorted(p["FunctionName"]["Ref"] for p in permissions) == ["RedirectFunction", "WebFunction"]
    passing = dev["ApiPassThrough"]["Properties"]  # the REST API's resources sit under no /api
    assert passing["IntegrationType"] == "HTTP_PROXY" and str(passing["IntegrationUri"]).endswith("/${ShortLinkApi.Stage}/{proxy}")
    stage = dev["PublicApiStage"]["Properties"]
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == 9000 and stage["AutoDeploy"] is True


def _execute_api_endpoint_off(resources: dict[str, Any], api: str = "ShortLinkApi") -> bool:
    """SAM writes DisableExecuteApiEndpoint into the API's OpenAPI body."""
    servers = resources[api]["Properties"]["Body"].get("servers", [])
    return any(s.get("x-amazon-apigateway-endpoint-configuration", {}).get("disableExecuteApiEndpoint") is True for s in servers)


def test_there_is_one_stage_with_the_throttles_and_tracing(prod: dict[str, Any], dev: dict[str, Any]) -> None:
    for resources in (prod, dev):
        stages = _of(resources, "AWS::ApiGateway::Stage")
        assert list(stages) == ["ShortLinkApiprodStage"]
        stage = stages["ShortLinkApiprodStage"]["Properties"]
        assert stage["TracingEnabled"] is True
        limits = {(m["ResourcePath"], m["HttpMethod"]): m["ThrottlingRateLimit"] for m in stage["MethodSettings"]}
        assert limits[("/~1shorten", "POST")] == 5 and limits[("/*", "*")] == 500
    assert "AccessLogSetting" in _of(prod, "AWS::ApiGateway::Stage")["ShortLinkApiprodStage"]["Properties"]
    assert "sourceIp" not in str(prod["ShortLinkApiprodStage"]) and "sourceIp" not in str(prod["PublicApiStage"])  # no address logged
    assert "AccessLogSetting" not in _of(dev, "AWS::ApiGateway::Stage")["ShortLinkApiprodStage"]["Properties"]
    assert not _execute_api_endpoint_off(dev)  # without custom domains the stage URL is the way in


def test_alarms_reach_a_topic_cloudwatch_can_publish_to(prod: dict[str, Any]) -> None:
    topic = prod["AlarmTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlarmKey"}  # not alias/aws/sns, which CloudWatch cannot use
    key_policy = prod["AlarmKey"]["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = next(s for s in key_policy if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"})
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    publish = prod["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and publish["Action"] == "sns:Publish"
    mail = prod["AlarmSubscription"]
    assert mail["Condition"] == "HasAlarmEmail" and mail["Properties"]["Protocol"] == "email"
    for name, alarm in _of(prod, "AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name


def test_link_events_reach_the_webhook_with_retries_and_a_dead_letter_queue(prod: dict[str, Any], dev: dict[str, Any]) -> None:
    rules = _of(prod, "AWS::Events::Rule").values()
    (schedule,) = [r for r in rules if "ScheduleExpression" in r["Properties"]]
    assert schedule["Properties"]["ScheduleExpression"] == "rate(1 minute)"  # the expiry sweep
    (rule,) = [r for r in rules if "EventPattern" in r["Properties"]]
    target = rule["Properties"]["Targets"][0]
    assert rule["Properties"]["EventBusName"] == {"Ref": "LinkEventBus"} and rule["Properties"]["EventPattern"] == {"source": ["shortlink"]}
    assert target["Arn"] == {"Fn::GetAtt": ["WebhookDestination", "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["WebhookDeadLetters", "Arn"]}}
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400
    assert prod["WebhookDestination"]["Properties"]["InvocationEndpoint"] == PROD["WebhookUrl"]
    webhook = [name for name in dev if name.startswith("Webhook")]
    assert len(webhook) == 8 and all(dev[name]["Condition"] == "HasWebhook" for name in webhook)  # none without WebhookUrl
    assert prod["StatsFunction"]["Properties"]["Environment"]["Variables"]["EVENT_BUS_NAME"] == {"Ref": "LinkEventBus"}


def test_users_data_is_retained_and_protected_unless_the_stack_is_for_development(prod: dict[str, Any], dev: dict[str, Any]) -> None:
    for table in ("LinksTable", "StatsTable"):
        assert prod[table]["DeletionPolicy"] == prod[table]["UpdateReplacePolicy"] == "Retain"
        assert dev[table]["DeletionPolicy"] == dev[table]["UpdateReplacePolicy"] == "Delete"
        assert prod[table]["Properties"]["DeletionProtectionEnabled"] == "true"
        assert dev[table]["Properties"]["DeletionProtectionEnabled"] == "false"


def test_the_stats_function_reads_only_the_links_stream(prod: dict[str, Any]) -> None:
    stats = prod["StatsFunction"]["Properties"]
    assert stats["Role"] == {"Fn::GetAtt": ["StatsFunctionRole", "Arn"]}
    role = prod["StatsFunctionRole"]["Properties"]
    assert not role.get("ManagedPolicyArns")  # no AWSLambdaDynamoDBExecutionRole (every stream in the account)
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    stream = [s for s in statements if any(a.startswith("dynamodb:") and "Stream" in a or a == "dynamodb:GetRecords" for a in s["Action"])]
    assert [s["Resource"] for s in stream] == [{"Fn::GetAtt": ["LinksTable", "StreamArn"]}]
    assert sum(a == "sqs:SendMessage" for s in statements for a in s["Action"]) == 1
    assert all(s["Resource"] != "*" for s in statements if not s["Action"][0].startswith("xray:"))
    others = [name for name, res in _of(prod, "AWS::IAM::Role").items() if name != "StatsFunctionRole"]
    assert all("AWSLambdaDynamoDBExecutionRole" not in str(prod[name]) for name in others)


def test_waf_rate_limits_the_anonymous_routes_when_switched_on(prod: dict[str, Any]) -> None:
    acl = prod["WebAcl"]
    assert acl["Condition"] == "WafOn" and acl["Properties"]["Scope"] == "REGIONAL"
    rules = {r["Name"]: r["Statement"]["RateBasedStatement"] for r in acl["Properties"]["Rules"]}
    assert set(rules) == {"shorten-per-ip"}  # an HTTP API (the redirects) takes no web ACL
    assert all(r["AggregateKeyType"] == "IP" for r in rules.values())
    match = rules["shorten-per-ip"]["ScopeDownStatement"]["ByteMatchStatement"]
    assert (match["PositionalConstraint"], match["SearchString"]) == ("ENDS_WITH", "/shorten")  # /api/shorten on a domain
    association = prod["WebAclAssociation"]
    assert association["Condition"] == "WafOn" and "ShortLinkApi" in str(association["Properties"]["ResourceArn"])


def test_the_anonymous_create_has_its_own_function_and_concurrency(prod: dict[str, Any], dev: dict[str, Any]) -> None:
    assert str(prod["ShortenFunction"]["Properties"]["ReservedConcurrentExecutions"]) == "5"
    assert "ReservedConcurrentExecutions" not in dev["ShortenFunction"]["Properties"]
    assert all(f["Properties"]["Runtime"] == "python3.13" for f in _of(prod, "AWS::Lambda::Function").values())


def test_the_translation_has_what_the_readme_lists(prod: dict[str, Any]) -> None:
    counts = Counter(res["Type"] for res in prod.values())
    print("translated template:", len(prod), "resources;", dict(sorted(counts.items())))
    assert counts["AWS::ApiGateway::Stage"] == 1 and counts["AWS::ApiGatewayV2::DomainName"] == 2 and counts["AWS::Lambda::Function"] == 9


def test_every_keyed_route_takes_its_key_from_the_key_authorizer(prod: dict[str, Any]) -> None:
    """API key source AUTHORIZER: the REQUEST authorizer on x-api-key names the usage-plan key
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-key-source.html);
    its decision is cached a minute per key, the bound on a revoked key's last requests
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/configure-api-gateway-lambda-authorization.html)."""
    api = prod["ShortLinkApi"]["Properties"]
    assert api["ApiKeySourceType"] == "AUTHORIZER"
    scheme = api["Body"]["components"]["securitySchemes"]["KeyAuthorizer"]
    authorizer = scheme["x-amazon-apigateway-authorizer"]
    assert scheme["x-amazon-apigateway-authtype"] == "custom" and authorizer["type"] == "request"
    assert authorizer["identitySource"] == "method.request.header.x-api-key" and authorizer["authorizerResultTtlInSeconds"] == 60
    assert authorizer["authorizerUri"]["Fn::Sub"][1]["__FunctionArn__"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
    keyed, open_ = [], []
    for path, methods in api["Body"]["paths"].items():
        for method, operation in methods.items():
            names = {name for requirement in operation.get("security", []) for name in requirement}
            (keyed if "api_key" in names else open_).append((method, path))
            assert ("api_key" in names) == ("KeyAuthorizer" in names), (method, path)  # a keyed route is an authorized one
    assert ("post", "/keys") in keyed and ("post", "/links") in keyed and ("post", "/shorten") in open_
    permission = prod["ShortLinkApiKeyAuthorizerAuthorizerPermission"]["Properties"]
    assert permission["FunctionName"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
    assert permission["Principal"] == "apigateway.amazonaws.com"

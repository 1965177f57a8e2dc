"""What AWS documents, checked on the template as CloudFormation receives it: the one `sam build`
writes (Fn::ForEach and every Fn::Sub kept, as `sam deploy` uploads it), not SAM CLI's local
expansion. One test per documented constraint the design relies on, each naming its page
(https://docs.aws.amazon.com/<guide>/latest/.../<page>)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devserver.template import load_template
from shortlink.dynamodb import CLIENT_CONFIG
from shortlink.links.codes import RESERVED
from shortlink.links.model import SECONDS, STORED
from shortlink.stats.record import STREAM_RETENTION
from support import ROOT

API_GATEWAY = "apigateway/latest/developerguide"


@pytest.fixture(scope="module")
def built(build: Path) -> dict[str, Any]:
    return load_template(build / "template.yaml")


def _resources(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(logical id, resource, loop) of every resource, the bodies of Fn::ForEach loops included
    (loop: the loop's name, "" outside one)."""
    for name, value in doc["Resources"].items():
        if name.startswith("Fn::ForEach::"):
            for inner, resource in value[2].items():
                yield inner, resource, name
        else:
            yield name, value, ""


def _of(doc: dict[str, Any], kind: str) -> list[tuple[str, dict[str, Any], str]]:
    return [(name, res, loop) for name, res, loop in _resources(doc) if res.get("Type") == kind]


def _target(value: Any) -> str:
    """The logical id a Ref, a GetAtt or an Fn::Sub of one name points to."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            first = value["Fn::GetAtt"][0]
            return _target(first) if isinstance(first, dict) else str(first).split(".")[0]
        if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            return value["Fn::Sub"]
        if "Fn::Select" in value:  # the mappings name their domain through [Ref Domain, GetAtt domain]
            return _target(value["Fn::Select"][1][-1])
    return str(value)


def _http_apis(doc: dict[str, Any]) -> set[str]:
    return {name for name, res, _ in _of(doc, "AWS::ApiGatewayV2::Api") if res["Properties"].get("ProtocolType") == "HTTP"}


def test_no_routing_rule_on_a_domain_that_maps_an_http_api(built: dict[str, Any]) -> None:
    """rest-api-routing-mode.html: "WebSocket or HTTP APIs aren't supported as target APIs for
    routing rules" and "If your custom domain name has API mappings to both REST and HTTP APIs,
    routing rules isn't supported"."""
    http_apis = _http_apis(built)
    mapped_http = {_target(res["Properties"]["DomainName"]) for _, res, _ in _of(built, "AWS::ApiGatewayV2::ApiMapping")
                   if _target(res["Properties"]["ApiId"]) in http_apis}
    assert mapped_http, "the short domains map PublicApi"
    rules = [res for kind in ("AWS::ApiGatewayV2::RoutingRule", "AWS::ApiGateway::RoutingRule") for _, res, _ in _of(built, kind)]
    assert not [rule for rule in rules if _target(rule["Properties"].get("DomainNameArn")) in mapped_http]
    for name, domain, _ in _of(built, "AWS::ApiGatewayV2::DomainName"):
        assert domain["Properties"].get("RoutingMode", "API_MAPPING_ONLY") == "API_MAPPING_ONLY", name


def test_an_http_api_maps_only_to_a_regional_domain_with_tls_1_2(built: dict[str, Any]) -> None:
    """http-api-mappings.html, Restrictions: "You can only map HTTP APIs to a regional custom domain
    name with the TLS 1.2 security policy"."""
    domains = {name: res for name, res, _ in _of(built, "AWS::ApiGatewayV2::DomainName")}
    http_apis = _http_apis(built)
    for _, mapping, _ in _of(built, "AWS::ApiGatewayV2::ApiMapping"):
        if _target(mapping["Properties"]["ApiId"]) in http_apis:
            for configuration in domains[_target(mapping["Properties"]["DomainName"])]["Properties"]["DomainNameConfigurations"]:
                assert configuration["EndpointType"] == "REGIONAL" and configuration["SecurityPolicy"] == "TLS_1_2"


def test_every_domain_with_an_aaaa_record_is_dualstack(built: dict[str, Any]) -> None:
    """rest-custom-domain-ip-address-type.html and http-api-custom-domain-names-ip-address-type.html:
    "The default IP address type for API Gateway custom domain names ... is IPv4"."""
    domains = {name: res for name, res, _ in _of(built, "AWS::ApiGatewayV2::DomainName")}
    aaaa = [record for _, group, _ in _of(built, "AWS::Route53::RecordSetGroup") for record in group["Properties"]["RecordSets"]
            if record["Type"] == "AAAA"]
    assert aaaa
    for record in aaaa:
        domain = domains[_target(record["AliasTarget"]["DNSName"])]
        assert all(c.get("IpAddressType") == "dualstack" for c in domain["Properties"]["DomainNameConfigurations"])


def test_a_regional_domain_takes_its_certificate_from_the_stacks_region(built: dict[str, Any]) -> None:
    """apigateway-regional-api-custom-domain-create.html: "You must provide a Region-specific ACM
    certificate. This certificate must be in the same Region as your API." (An edge domain would
    take one from us-east-1; these are regional, and the deploy guide and samconfig say so.)"""
    for _, domain, _ in _of(built, "AWS::ApiGatewayV2::DomainName"):
        for configuration in domain["Properties"]["DomainNameConfigurations"]:
            assert configuration["EndpointType"] == "REGIONAL" and configuration["CertificateArn"] == {"Ref": "CertificateArn"}
    assert "stack's region" in built["Parameters"]["CertificateArn"]["Description"]
    for text in ((ROOT / "samconfig.toml").read_text(encoding="utf-8"), (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")):
        assert "us-east-1)" not in text and "certificate in us-east-1" not in text.lower()


def test_waf_protects_only_the_rest_apis_stage(built: dict[str, Any]) -> None:
    """http-api-vs-rest.html: AWS WAF is among the REST API's features, not the HTTP API's."""
    associations = _of(built, "AWS::WAFv2::WebACLAssociation")
    assert associations
    for _, association, _ in associations:
        arn = association["Properties"]["ResourceArn"]["Fn::Sub"]
        assert "/restapis/" in arn and "${PublicApi}" not in arn


def test_mapping_keys_are_one_level_and_no_code_can_take_one(built: dict[str, Any]) -> None:
    """http-api-mappings.html, "Routing API requests": API Gateway picks the mapping by the longest
    matching path and sends the rest to (none). With single-level keys the first segment decides;
    each key is a reserved word, so no short code shadows it."""
    keys = [str(res["Properties"].get("ApiMappingKey", "")) for _, res, _ in _of(built, "AWS::ApiGatewayV2::ApiMapping")]
    assert sorted(set(keys)) == ["", "api"]
    assert all("/" not in key and key.lower() in RESERVED for key in keys if key)
    mappings = [(res["Properties"]["DomainName"], str(res["Properties"].get("ApiMappingKey", "")))
                for _, res, _ in _of(built, "AWS::ApiGatewayV2::ApiMapping")]
    assert len(mappings) == len({(str(d), k) for d, k in mappings}), "one mapping per key and domain"


def test_the_store_gives_up_a_second_before_the_redirect_times_out(built: dict[str, Any]) -> None:
    """Botocore's configuration guide (boto3 guide/retries.html, configuration.html): total_max_attempts
    counts every attempt (max_attempts would count retries only), each waits at most connect_timeout
    + read_timeout, and standard mode's backoff before the one retry is at most 1 s. Lambda stops a
    function at its Timeout (configuration-timeout.html); API Gateway waits 29 s for a REST
    integration and 30 s for an HTTP API's (limits.html)."""
    retries = CLIENT_CONFIG.retries or {}
    attempts = int(retries["total_max_attempts"])
    assert "max_attempts" not in retries and retries["mode"] == "standard"
    worst = attempts * (float(CLIENT_CONFIG.connect_timeout) + float(CLIENT_CONFIG.read_timeout)) + (attempts - 1) * 1.0
    globals_timeout = int(built["Globals"]["Function"]["Timeout"])
    for name, function, _ in _of(built, "AWS::Serverless::Function"):
        timeout = int(function["Properties"].get("Timeout", globals_timeout))
        assert worst + 1 <= timeout, name
    redirect = int(built["Resources"]["RedirectFunction"]["Properties"]["Timeout"])
    assert worst + 1 <= redirect <= 30


def test_the_http_apis_functions_may_be_invoked_by_it(built: dict[str, Any]) -> None:
    """http-api-develop-integrations-lambda.html: API Gateway needs permission to invoke the function
    (SAM adds it for function events; these routes are resources of their own)."""
    permitted = {_target(res["Properties"]["FunctionName"]) for _, res, _ in _of(built, "AWS::Lambda::Permission")
                 if res["Properties"]["Principal"] == "apigateway.amazonaws.com" and "${PublicApi}" in res["Properties"]["SourceArn"]["Fn::Sub"]}
    integrated = {_target(res["Properties"]["IntegrationUri"]) for _, res, _ in _of(built, "AWS::ApiGatewayV2::Integration")
                  if res["Properties"]["IntegrationType"] == "AWS_PROXY"}
    assert integrated == permitted == {"RedirectFunction", "WebFunction"}


def test_both_apis_together_stay_inside_the_accounts_quota(built: dict[str, Any]) -> None:
    """limits.html (API Gateway quotas): 10,000 requests a second and a burst of 5,000 per account and
    region, shared by every API. PublicApi's defaults plus the REST stage's limits stay inside it,
    so a flood of redirects cannot take /api's share."""
    parameters = built["Parameters"]
    rest = next(m for m in built["Resources"]["ShortLinkApi"]["Properties"]["MethodSettings"] if m["ResourcePath"] == "/*")
    assert int(parameters["PublicRateLimit"]["Default"]) + int(rest["ThrottlingRateLimit"]) <= 10_000
    assert int(parameters["PublicBurstLimit"]["Default"]) + int(rest["ThrottlingBurstLimit"]) <= 5_000
    stage = built["Resources"]["PublicApiStage"]["Properties"]["DefaultRouteSettings"]
    assert stage["ThrottlingRateLimit"] == {"Ref": "PublicRateLimit"} and stage["ThrottlingBurstLimit"] == {"Ref": "PublicBurstLimit"}


def test_log_level_filtering_comes_with_the_json_log_format(built: dict[str, Any]) -> None:
    """monitoring-cloudwatchlogs-log-level.html: "To use log-level filtering, your function must be
    configured to use the JSON log format"; logs without a level count as INFO."""
    for name, function, _ in _of(built, "AWS::Serverless::Function"):
        logging = function["Properties"].get("LoggingConfig")
        if logging and ("SystemLogLevel" in logging or "ApplicationLogLevel" in logging):
            assert logging["LogFormat"] == "JSON", name
    assert built["Resources"]["RedirectFunction"]["Properties"]["LoggingConfig"] == {"LogFormat": "JSON", "SystemLogLevel": "WARN"}


def test_ttl_reads_epoch_seconds_which_is_what_the_items_keep(built: dict[str, Any]) -> None:
    """time-to-live-ttl-before-you-start.html: the TTL attribute is a Number of epoch seconds."""
    for table in ("LinksTable", "StatsTable"):
        assert built["Resources"][table]["Properties"]["TimeToLiveSpecification"]["AttributeName"] == "expires_at"
    assert STORED["expires_at"] is SECONDS


def test_no_stream_record_outlives_the_days_salt(built: dict[str, Any]) -> None:
    """with-ddb.html (Lambda's DynamoDB event source) and Streams.html: a stream keeps records 24
    hours; the mapping's MaximumRecordAgeInSeconds bounds them further. The day's visitor salt
    lives STREAM_RETENTION after the day, so no visit can come after its salt is gone."""
    event = built["Resources"]["StatsFunction"]["Properties"]["Events"]["LinkChanges"]["Properties"]
    assert int(event["MaximumRecordAgeInSeconds"]) * 1000 <= STREAM_RETENTION


def test_the_language_extensions_transform_comes_first(built: dict[str, Any]) -> None:
    """transform-aws-languageextensions.html: Fn::ForEach (and a DeletionPolicy from Fn::If) are
    expanded by AWS::LanguageExtensions, which must run before AWS::Serverless-2016-10-31."""
    assert built["Transform"][0] == "AWS::LanguageExtensions" and "AWS::Serverless-2016-10-31" in built["Transform"]
    assert any(name.startswith("Fn::ForEach::") for name in built["Resources"])


def test_nothing_logs_a_visitors_address(built: dict[str, Any]) -> None:
    """Not an AWS rule but one of ours (docs/design.md): access log formats name no source address."""
    formats = [str(res) for _, res, _ in _resources(built) if "AccessLogSetting" in str(res) or "AccessLogSettings" in str(res)]
    assert formats and not any(re.search(r"sourceIp|identity\.clientCert|X-Forwarded-For", text) for text in formats)


def test_the_links_stream_has_at_most_two_readers(built: dict[str, Any]) -> None:
    """Streams.html: no more than two processes should read from the same stream shard at once,
    or they may be throttled: StatsFunction and SearchFunction, and no third."""
    readers = [name for name, resource, _ in _resources(built)
               if resource.get("Type") == "AWS::Serverless::Function"
               for event in resource["Properties"].get("Events", {}).values()
               if event.get("Type") == "DynamoDB" and event["Properties"]["Stream"] == {"Fn::GetAtt": ["LinksTable", "StreamArn"]}]
    assert sorted(readers) == ["SearchFunction", "StatsFunction"]


def test_the_search_index_hears_only_links_own_items(built: dict[str, Any]) -> None:
    """with-ddb-filtering.html ("Using the Exists operator"): exists applies to a leaf, so the
    pattern names the attribute's type; a REMOVE carries only OldImage, hence two patterns. A
    visit counter's records (no code) are filtered out before the function is invoked."""
    import json

    from devserver.template import _matches

    event = built["Resources"]["SearchFunction"]["Properties"]["Events"]["LinkChanges"]["Properties"]
    patterns = [json.loads(f["Pattern"]) for f in event["FilterCriteria"]["Filters"]]
    assert patterns == [{"dynamodb": {image: {"code": {"S": [{"exists": True}]}}}} for image in ("NewImage", "OldImage")]
    link = {"link_id": {"S": "s.example.com/abc"}, "code": {"S": "abc"}}
    counter = {"link_id": {"S": "s.example.com/abc#3"}, "visits": {"N": "1"}}
    removed, visited = {"dynamodb": {"OldImage": link}}, {"dynamodb": {"NewImage": counter, "OldImage": counter}}
    assert [any(_matches(p, record) for p in patterns) for record in (removed, visited)] == [True, False]

"""`make operator-key`: one command from a deployed stack to an operator's key, checked against
botocore's own description of each call (Stubber validates every parameter)."""

from __future__ import annotations

import importlib.util

import boto3
from botocore.stub import Stubber

from support import ROOT

PARAMETERS = [{"ParameterKey": "ShortDomains", "ParameterValue": "s.example.com"},
              {"ParameterKey": "AdminApiKeyIds", "ParameterValue": "old1"},
              {"ParameterKey": "CertificateArn", "ParameterValue": "arn:aws:acm:eu-west-1:1:certificate/x"}]


def test_the_key_is_made_attached_to_the_plan_and_listed_among_the_operators() -> None:
    spec = importlib.util.spec_from_file_location("operator_key", ROOT / "scripts" / "operator_key.py")
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    cloudformation = boto3.client("cloudformation", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    apigateway = boto3.client("apigateway", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stack = {"StackName": "shortlink", "CreationTime": "2026-12-01T00:00:00Z", "StackStatus": "UPDATE_COMPLETE", "Parameters": PARAMETERS,
             "Outputs": [{"OutputKey": "UsagePlanId", "OutputValue": "plan9"}]}
    with Stubber(cloudformation) as cfn, Stubber(apigateway) as gateway:
        cfn.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "shortlink"})
        gateway.add_response("create_api_key", {"id": "new7", "value": "s3cr3t-value"},
                             {"name": "shortlink-operator", "enabled": True, "description": "operator of shortlink"})
        gateway.add_response("create_usage_plan_key", {}, {"usagePlanId": "plan9", "keyId": "new7", "keyType": "API_KEY"})
        cfn.add_response("update_stack", {"StackId": "arn:stack"}, {
            "StackName": "shortlink", "UsePreviousTemplate": True, "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
            "Parameters": [{"ParameterKey": "ShortDomains", "UsePreviousValue": True},
                           {"ParameterKey": "CertificateArn", "UsePreviousValue": True},
                           {"ParameterKey": "AdminApiKeyIds", "ParameterValue": "old1,new7"}]})
        cfn.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "shortlink"})  # the waiter's first look
        key = script.make_operator_key(cloudformation, apigateway, "shortlink", "shortlink-operator")
        cfn.assert_no_pending_responses()
        gateway.assert_no_pending_responses()
    assert key == {"id": "new7", "value": "s3cr3t-value"}

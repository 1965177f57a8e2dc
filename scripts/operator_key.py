"""`make operator-key STACK=<stack> REGION=<region>`: the first (or another) operator's API key.

Makes an API key, attaches it to the stack's usage plan (output UsagePlanId), adds its id to the
stack's AdminApiKeyIds (an update with the stack's previous template and every other value as it
was) and, once the stack has taken it, prints the key: the only time it is shown.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import boto3

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]  # the template's transforms expand on update too


def make_operator_key(cloudformation: Any, apigateway: Any, stack: str, name: str) -> dict[str, str]:
    """The new key's id and value, once the stack lists it among its operators."""
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])}
    key = apigateway.create_api_key(name=name, enabled=True, description=f"operator of {stack}")
    apigateway.create_usage_plan_key(usagePlanId=outputs["UsagePlanId"], keyId=key["id"], keyType="API_KEY")
    operators = [k for k in parameters.get("AdminApiKeyIds", "").split(",") if k.strip()] + [key["id"]]
    cloudformation.update_stack(
        StackName=stack, UsePreviousTemplate=True, Capabilities=CAPABILITIES,
        Parameters=[{"ParameterKey": k, "UsePreviousValue": True} for k in parameters if k != "AdminApiKeyIds"]
        + [{"ParameterKey": "AdminApiKeyIds", "ParameterValue": ",".join(operators)}])
    cloudformation.get_waiter("stack_update_complete").wait(StackName=stack)
    return {"id": key["id"], "value": key["value"]}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--region", required=True)
    args = parser.parse_args(argv)
    session = boto3.session.Session(region_name=args.region)
    key = make_operator_key(session.client("cloudformation"), session.client("apigateway"), args.stack,
                            f"{args.stack}-operator-{time.strftime('%Y%m%d-%H%M%S')}")
    print(f"Operator API key (x-api-key), shown once: {key['value']}\nIts id (in AdminApiKeyIds): {key['id']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

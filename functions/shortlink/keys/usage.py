"""The usage plan's side of a managed key (AWS): an API Gateway key, made for the managed key and
joined to the stack's usage plan, which the key authorizer returns as the request's usage key so
that API Gateway throttles and counts each managed key on its own. Its value is random, shown to
nobody, and no credential: the authorizer refuses any x-api-key that starts with USAGE_PREFIX
(keys/principal.py), so the plan holding it lets nobody in with it.

Without a usage plan (the devserver) nothing is made and the key's id is its usage key."""

from __future__ import annotations

import secrets
from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ..dynamodb import CLIENT_CONFIG
from ..errors import StoreUnavailable
from ..instance import kept
from .model import USAGE_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_apigateway import APIGatewayClient


@kept
@cache
def _client() -> APIGatewayClient:
    return boto3.client("apigateway", config=CLIENT_CONFIG)


class UsagePlan:
    def __init__(self, plan_id: str) -> None:
        self.plan_id = plan_id

    def add(self, key_id: str) -> tuple[str | None, str | None]:
        """The API Gateway key (id, value) that meters `key_id`, in the plan; (None, None) without one."""
        if not self.plan_id:
            return None, None
        value = USAGE_PREFIX + secrets.token_urlsafe(30)
        try:
            made = _client().create_api_key(name=f"shortlink-managed-{key_id}", enabled=True, value=value,
                                            description="Meters a key managed by the short-link service (not a credential).")
            _client().create_usage_plan_key(usagePlanId=self.plan_id, keyId=made["id"], keyType="API_KEY")
        except (BotoCoreError, ClientError) as failed:
            raise StoreUnavailable(f"API Gateway did not make the key's usage key: {failed}") from None
        return made["id"], value

    def remove(self, usage_key_id: str | None) -> None:
        if not self.plan_id or not usage_key_id:
            return
        try:
            _client().delete_api_key(apiKey=usage_key_id)
        except ClientError as failed:
            if failed.response.get("Error", {}).get("Code") != "NotFoundException":
                raise StoreUnavailable(f"API Gateway did not delete the key's usage key: {failed}") from None
        except BotoCoreError as failed:
            raise StoreUnavailable(f"API Gateway did not delete the key's usage key: {failed}") from None

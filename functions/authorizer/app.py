"""The key authorizer (a REST API REQUEST authorizer) of every keyed /api route: keys/principal.py
decides; this handler speaks API Gateway's authorizer protocol. Its decision is cached per key
for a minute (template.yaml), so the policy it returns covers every route of the stage."""

from __future__ import annotations

import logging
import os
from typing import Any

from shortlink import clock
from shortlink.errors import StoreUnavailable
from shortlink.keys.principal import Unauthorized, decide
from shortlink.keys.store import KeyStore
from shortlink.settings import load_settings

# boto3 and the core only, as the redirect: it runs before every keyed request its cache misses.
logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO"))
logger = logging.getLogger("authorizer")


def _every_route(method_arn: str) -> str:
    """arn:...:api-id/stage/GET/links -> arn:...:api-id/stage/*: the cached decision serves every route."""
    prefix, _, path = method_arn.partition(":execute-api:")
    head = path.split("/")[:2]
    return f"{prefix}:execute-api:{'/'.join(head)}/*"


def _secret(event: dict[str, Any]) -> str | None:
    return next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "x-api-key"), None)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        decision = decide(_secret(event), KeyStore(load_settings().require_keys_table()), clock.now())
    except Unauthorized as refused:
        logger.info("key refused: %s", refused.detail)
        raise Exception("Unauthorized") from None  # API Gateway's 401: its UNAUTHORIZED gateway response
    except StoreUnavailable:
        logger.exception("the keys table failed")
        raise  # API Gateway answers 500 (AUTHORIZER_FAILURE); the client retries
    return {
        "principalId": decision.principal,
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": _every_route(event["methodArn"])}]},
        "context": decision.context,
        "usageIdentifierKey": decision.usage_key,
    }

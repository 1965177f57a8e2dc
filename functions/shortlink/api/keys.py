"""/api/keys (ManageFunction): the keys the service manages (admins make, change and revoke them; any key reads
its own record at /api/keys/me)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParameter

from .. import clock
from ..keys.manage import admin_only, change_key, make_key, revoke_key
from ..keys.store import KeyNotFound, KeyStore
from ..keys.usage import UsagePlan
from ..links.access import Caller
from ..settings import load_settings
from .callers import request_caller
from .resolver import json_response
from .schemas import KEYED, WITH_BODY, KeyBody, KeyList, KeyMade, KeyOut, KeyPatch, answers

router = Router()  # type: ignore[no-untyped-call]  # Powertools gives its __init__ no annotations
KeyId = Annotated[str, PathParameter(pattern=r"^[0-9a-f]{12}$", description="The key's id.")]


def _store() -> KeyStore:
    return KeyStore(load_settings().require_keys_table())


def _usage() -> UsagePlan:
    return UsagePlan(load_settings().usage_plan_id)


@router.post("/keys", summary="Make an API key (admins); its secret is in this answer only",
             responses=answers(201, KeyMade, *KEYED, *WITH_BODY, description="Made"))
def make(body: Annotated[KeyBody, Body()]) -> Response[KeyMade]:
    now = clock.now()
    key, secret = make_key(_store(), _usage(), load_settings(), body.model_dump(), request_caller(router), now)
    return json_response(201, {**key.to_body(now), "key": secret}, {"Location": f"/api/keys/{key.id}"})


@router.get("/keys", summary="Every key (admins); another key gets its own record",
            responses=answers(200, KeyList, *KEYED))
def list_keys() -> Response[KeyList]:
    caller = request_caller(router)
    now = clock.now()
    if not caller.admin:
        return json_response(200, {"keys": [_own(caller, now)]})
    return json_response(200, {"keys": [key.to_body(now) for key in _store().all()]})


@router.get("/keys/me", summary="The calling key: its role, team and domains", responses=answers(200, KeyOut, *KEYED))
def me() -> Response[KeyOut]:
    caller = request_caller(router)
    return json_response(200, _own(caller, clock.now()))


def _own(caller: Caller, now: int) -> dict[str, Any]:
    """The caller's record; a key API Gateway made has none, so it is described as the service sees it."""
    try:
        return _store().get(caller.key_id).to_body(now)
    except KeyNotFound:
        return {"id": caller.key_id, "name": caller.name, "role": caller.role, "team": caller.team, "domains": None,
                "state": "active", "expires_at": None, "created_at": None, "revoked_at": None, "created_by": None}


@router.get("/keys/<key_id>", summary="One key (admins)", responses=answers(200, KeyOut, *KEYED, 404, 422))
def read(key_id: KeyId) -> Response[KeyOut]:
    admin_only(request_caller(router))
    return json_response(200, _store().get(key_id).to_body(clock.now()))


@router.patch("/keys/<key_id>", summary="Change a key's name, role, team, domains or expiry (admins)",
              responses=answers(200, KeyOut, *KEYED, *WITH_BODY, 404))
def change(key_id: KeyId, body: Annotated[KeyPatch, Body()]) -> Response[KeyOut]:
    now = clock.now()
    key = change_key(_store(), load_settings(), key_id, body.model_dump(exclude_unset=True), request_caller(router), now)
    return json_response(200, key.to_body(now))


@router.delete("/keys/<key_id>", summary="Revoke a key for good (admins)",
               responses=answers(204, None, *KEYED, 404, 422, description="Revoked"))
def revoke(key_id: KeyId) -> Response[None]:
    revoke_key(_store(), _usage(), key_id, request_caller(router), clock.now())
    return Response(status_code=204, headers={"Cache-Control": "no-store"})

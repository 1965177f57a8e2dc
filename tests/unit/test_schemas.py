"""api/schemas.py: the link models follow the field declarations of links/model.py."""

from __future__ import annotations

from shortlink.api.schemas import LinkBody, LinkOut, PatchBody, ShortenBody
from shortlink.links.model import DERIVED_SHOWN, GIVEN, SHOWN


def test_create_patch_and_body_models_have_exactly_the_declared_fields() -> None:
    assert set(LinkBody.model_fields) == set(ShortenBody.model_fields) | {name for _, name, spec in GIVEN if spec.on_create}
    assert set(PatchBody.model_fields) == {"validity"} | {name for _, name, _ in GIVEN}
    assert set(LinkOut.model_fields) == {name for _, name, _ in SHOWN} | set(DERIVED_SHOWN)


def test_defaults_of_a_new_link_are_the_models() -> None:
    body = LinkBody.model_validate({"url": "https://example.com"}).model_dump()
    assert body["redirect_status"] == 302 and body["forward_query"] is False and body["tags"] is None
    assert body["expires_at"] is None and body["password"] is None

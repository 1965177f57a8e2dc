"""Each field's bounds are declared once (links/limits.py): the served OpenAPI document publishes
them, the rules enforce exactly those (checked here at each published bound, from the served
document), and the console's and the page's forms carry them as the server renders them."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from shortlink.links.limits import FIELDS
from support import Invoke, MakeEvent, error_fields

# A value of `length` characters (or items) that breaks no other rule of the field.
FILLERS: dict[str, Callable[[int], Any]] = {
    "url": lambda n: "https://example.com/" + "a" * (n - len("https://example.com/")),
    "alias": lambda n: (uuid.uuid4().hex * 3)[:n],
    "title": lambda n: "题" * n,
    "password": lambda n: "p" * n,
    "tags": lambda n: [f"t{i}" for i in range(n)],
    "tags.items": lambda n: ["g" * n],
    "max_visits": lambda n: n,
    "rules": lambda n: [{"when": {"device": ["ios"]}, "url": f"https://example.com/{i}"} for i in range(n)],
}


def _served(invoke: Invoke, make_event: MakeEvent) -> dict[str, Any]:
    answer = invoke(make_event("GET", "/api/openapi.json"))
    assert answer["statusCode"] == 200
    return dict(json.loads(answer["body"]))


def _body_schema(document: dict[str, Any]) -> dict[str, Any]:
    return dict(document["components"]["schemas"]["LinkBody"]["properties"])


def _keywords(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k in ("minLength", "maxLength", "pattern", "minimum", "maximum", "maxItems", "items")}


def test_the_served_document_publishes_every_declared_bound(invoke: Invoke, make_event: MakeEvent) -> None:
    document = _served(invoke, make_event)
    for model in ("LinkBody", "PatchBody"):
        properties = document["components"]["schemas"][model]["properties"]
        for name, bounds in FIELDS.items():
            if name in properties or model == "LinkBody":
                assert _keywords(properties[name]) == bounds.schema(), (model, name)
    targets = document["components"]["schemas"]["Targets"]["properties"]
    assert all(_keywords(targets[kind]) == FIELDS["url"].schema() for kind in ("ios", "android", "desktop"))
    batch = document["components"]["schemas"]["BatchBody"]["properties"]["links"]
    assert batch["items"] == {"$ref": "#/components/schemas/LinkBody"} and batch["maxItems"] == 100
    result = document["components"]["schemas"]["BatchResult"]["properties"]["error"]
    assert {"$ref": "#/components/schemas/Problem"} in result["anyOf"]


def _cases(name: str, schema: dict[str, Any]) -> list[tuple[str, Any, bool]]:
    """(what, value, accepted) at each bound the served schema states for a field."""
    cases: list[tuple[str, Any, bool]] = []
    fill = FILLERS[name]
    for keyword, step in (("minLength", -1), ("maxLength", 1), ("minimum", -1), ("maximum", 1), ("maxItems", 1)):
        if keyword in schema:
            edge = int(schema[keyword])
            cases += [(f"{keyword} {edge}", fill(edge), True), (f"{keyword} {edge + step}", fill(edge + step), False)]
    if "pattern" in schema:
        assert re.fullmatch(schema["pattern"], fill(10))
        cases.append(("pattern", fill(5) + " !", False))
    if "items" in schema:
        cases += [(f"items {what}", value, ok) for what, value, ok in _cases("tags.items", schema["items"])]
    return cases


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_the_rules_enforce_exactly_the_published_bounds(invoke: Invoke, make_event: MakeEvent, name: str) -> None:
    schema = _body_schema(_served(invoke, make_event))[name]
    cases = _cases(name, schema)
    assert cases, f"{name} publishes no bound"
    for what, value, accepted in cases:
        body = {"url": "https://example.com/bounds", name: value}
        answer = invoke(make_event("POST", "/api/links", body))
        if accepted:
            assert answer["statusCode"] == 201, (what, answer["body"])
        else:
            assert any(field.split("[")[0] == name for field in error_fields(answer)), (what, answer["body"])


@pytest.mark.parametrize("path, inputs", [
    ("/console", {"new-alias": "alias", "new-title": "title", "edit-title": "title", "new-password": "password",
                  "new-max-visits": "max_visits", "edit-max-visits": "max_visits"}),
    ("/", {"alias": "alias"}),
])
def test_the_forms_carry_the_served_bounds(invoke: Invoke, make_event: MakeEvent, path: str, inputs: dict[str, str]) -> None:
    schema = _body_schema(_served(invoke, make_event))
    page = invoke(make_event("GET", path))["body"]
    attributes = {"minLength": "minlength", "maxLength": "maxlength", "minimum": "min", "maximum": "max"}
    for element, name in inputs.items():
        tag = re.search(rf'<input id="{element}"[^>]*>', page)
        assert tag, element
        for keyword, attribute in attributes.items():
            if keyword in schema[name]:
                assert re.search(rf'\b{attribute}="{int(schema[name][keyword])}"', tag.group(0)), (element, keyword, tag.group(0))

"""Reads template.yaml: routes, functions, their environment and the DynamoDB tables.

The template is the only route table: nothing here lists a path of its own.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
LOCAL_TYPES = ("AWS::DynamoDB::Table", "AWS::Serverless::Function")  # what the devserver runs
LOCAL_SECRET = "local-secret"  # what a secret resolved at deploy time is locally, unless the shell sets it


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that turns short-form intrinsics (!Ref, !GetAtt, ...) into long form."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(cast(yaml.MappingNode, node), deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)
        return document


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    api_key_required: bool
    payload: str = "1.0"  # the event format: 1.0 from the REST API, 2.0 from the HTTP API (PublicApi)

    @property
    def key(self) -> str:
        """The HTTP API's routeKey: GET /{code}."""
        return f"{self.method} {self.path}"

    @property
    def segments(self) -> list[str]:
        return [s for s in self.path.split("/") if s]

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Path parameters when method and path fit this route, else None."""
        if method != self.method:
            return None
        parts = [s for s in path.split("/") if s]
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for pattern, part in zip(self.segments, parts, strict=True):
            if pattern.startswith("{") and pattern.endswith("}"):
                params[pattern[1:-1]] = part
            elif pattern != part:
                return None
        return params

    @property
    def specificity(self) -> tuple[int, int]:
        """API Gateway prefers literal segments over {parameters}."""
        literal = sum(1 for s in self.segments if not s.startswith("{"))
        return (literal, len(self.segments))


@dataclass
class Function:
    name: str
    code_dir: Path
    handler: str
    environment: dict[str, Any] = field(default_factory=dict)
    memory_mb: int = 128
    timeout_s: int = 3
    layers: tuple[Path, ...] = ()  # each layer's source folder (its ContentUri)


@dataclass(frozen=True)
class StreamSubscription:
    """A function fed by a table's stream (an event of Type DynamoDB)."""

    function: str
    table: str
    batch_size: int
    event_names: tuple[str, ...] | None  # from a FilterCriteria {"eventName": [...]} pattern


@dataclass
class Table:
    name: str
    properties: dict[str, Any]


class Template:
    def __init__(self, path: Path = TEMPLATE) -> None:
        self.doc = load_template(path)
        self.resources: dict[str, Any] = self.doc.get("Resources", {})
        self.parameters = {
            name: _parameter_value(spec) for name, spec in self.doc.get("Parameters", {}).items()
        }

    def _of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        # Fn::ForEach entries (the custom domains) are lists; none is a type the devserver runs.
        return {name: res for name, res in self.resources.items() if isinstance(res, dict) and res.get("Type") == kind}

    def functions(self) -> dict[str, Function]:
        defaults = self.doc.get("Globals", {}).get("Function", {})
        global_env = defaults.get("Environment", {}).get("Variables", {})
        found = {}
        for name, res in self._of_type("AWS::Serverless::Function").items():
            props = res["Properties"]
            env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
            layers = props.get("Layers", defaults.get("Layers", []))
            found[name] = Function(
                name=name,
                code_dir=ROOT / props["CodeUri"],
                handler=props["Handler"],
                environment={k: self.resolve(v) for k, v in env.items()},
                memory_mb=int(props.get("MemorySize", defaults.get("MemorySize", 128))),
                timeout_s=int(props.get("Timeout", defaults.get("Timeout", 3))),
                layers=tuple(ROOT / self.resources[layer["Ref"]]["Properties"]["ContentUri"]
                             for layer in layers if isinstance(layer, dict) and "Ref" in layer),
            )
        return found

    def routes(self) -> list[Route]:
        """Every function's API routes, the REST API's and the HTTP API's: the devserver serves
        both on one port, as a short domain does (its routing rule sends /api/* to the REST API)."""
        routes = []
        for name, res in self._of_type("AWS::Serverless::Function").items():
            for event in res["Properties"].get("Events", {}).values():
                if event.get("Type") not in ("Api", "HttpApi"):
                    continue
                props = event["Properties"]
                routes.append(
                    Route(
                        method=props["Method"].upper(),
                        path=props["Path"],
                        function=name,
                        api_key_required=bool(props.get("Auth", {}).get("ApiKeyRequired", False)),
                        payload=str(props.get("PayloadFormatVersion", "2.0")) if event["Type"] == "HttpApi" else "1.0",
                    )
                )
        return sorted(routes, key=lambda r: r.specificity, reverse=True)

    def stream_subscriptions(self) -> list[StreamSubscription]:
        found = []
        for name, res in self._of_type("AWS::Serverless::Function").items():
            for event in res["Properties"].get("Events", {}).values():
                if event.get("Type") != "DynamoDB":
                    continue
                props = event["Properties"]
                table = props["Stream"]["Fn::GetAtt"][0]
                names = None
                for pattern in props.get("FilterCriteria", {}).get("Filters", []):
                    names = tuple(json.loads(pattern["Pattern"]).get("eventName", ()))
                found.append(StreamSubscription(name, table, int(props.get("BatchSize", 100)), names))
        return found

    def scheduled_functions(self) -> list[str]:
        """Functions with an event of Type Schedule (EventBridge rules)."""
        return [name for name, res in self._of_type("AWS::Serverless::Function").items()
                if any(e.get("Type") == "Schedule" for e in res["Properties"].get("Events", {}).values())]

    def binary_media_types(self) -> list[str]:
        """BinaryMediaTypes of the REST API, with API Gateway's ~1 escape undone."""
        types: list[str] = []
        for res in self._of_type("AWS::Serverless::Api").values():
            types += [t.replace("~1", "/") for t in res["Properties"].get("BinaryMediaTypes", [])]
        return types

    def gateway_responses(self) -> dict[str, dict[str, Any]]:
        """GatewayResponses of the REST API by type (MISSING_AUTHENTICATION_TOKEN, DEFAULT_4XX, ...)."""
        found: dict[str, dict[str, Any]] = {}
        for res in self._of_type("AWS::Serverless::Api").values():
            found.update(res["Properties"].get("GatewayResponses", {}))
        return found

    def tables(self) -> list[Table]:
        return [Table(name, res["Properties"]) for name, res in self._of_type("AWS::DynamoDB::Table").items()]

    def resolve(self, value: Any) -> Any:
        """Evaluate the intrinsics the environment uses: Ref (parameter or resource) and Join."""
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            ref = value["Ref"]
            if ref in self.parameters:
                return self.parameters[ref]
            if self.resources.get(ref, {}).get("Type") in LOCAL_TYPES:
                return ref  # local resources are named by their logical id
            if ref in self.resources:
                return ""  # not run locally (the event bus): the handlers do without it
            raise ValueError(f"template.yaml: cannot resolve Ref {ref}")
        if isinstance(value.get("Fn::Sub"), str) and value["Fn::Sub"].startswith("{{resolve:secretsmanager:"):
            return LOCAL_SECRET  # a generated secret: the devserver gives its own (__main__)
        if "Fn::Join" in value:
            separator, items = value["Fn::Join"]
            resolved = self.resolve(items)
            return separator.join(str(self.resolve(i)) for i in resolved)
        raise ValueError(f"template.yaml: the devserver does not evaluate {value}")


def _parameter_value(spec: dict[str, Any]) -> Any:
    default = spec.get("Default", "")
    if spec.get("Type") == "CommaDelimitedList":
        return [item.strip() for item in str(default).split(",") if item.strip()]
    return str(default)


def local_environment(template: Template) -> dict[str, str]:
    """The variables every function gets locally; a variable already set in the shell wins."""
    merged: dict[str, str] = {}
    for function in template.functions().values():
        for key, value in function.environment.items():
            value = str(value)
            if merged.get(key, value) != value:
                raise ValueError(f"functions disagree on {key}; the devserver runs them in one process")
            merged[key] = value
    return {key: os.environ.get(key, value) for key, value in merged.items()}

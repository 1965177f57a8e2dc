"""Reads template.yaml: routes, functions, their environment and the DynamoDB tables.

The template is the only route table: nothing here lists a path of its own. The devserver plays
a stack deployed with its custom domains (a certificate given): the domains' API mappings route
a request to an API ("api" -> the REST API, its base path stripped; "(none)" -> PublicApi), and
that API's routes (the REST API's function events, PublicApi's Route resources) to a function.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
LOCAL_TYPES = ("AWS::DynamoDB::Table", "AWS::Serverless::Function")  # what the devserver runs
LOCAL_SECRET = "local-secret"  # what a secret resolved at deploy time is locally, unless the shell sets it
# Parameters the devserver plays as given: a stack with custom domains (their API mappings route).
LOCAL_PARAMETERS = {"CertificateArn": "arn:aws:acm:local:000000000000:certificate/local"}
PSEUDO = {"AWS::Region": "us-east-1", "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "shortlink-local",
          "AWS::AccountId": "000000000000", "AWS::Partition": "aws"}


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
    path: str  # as the API declares it (the REST API's without the domain's "api" base path)
    function: str
    api_key_required: bool
    authorizer: str | None = None  # the function of the route's Lambda authorizer (a REQUEST one)
    payload: str = "1.0"  # the event format: 1.0 from the REST API, 2.0 from the HTTP API (PublicApi)
    api: str = ""  # the API's logical id
    base_path: str = ""  # the mapping key a short domain reaches this API by ("api"; "" for "(none)")
    taken: tuple[str, ...] = ()  # for the "(none)" API: the first path segments other mappings take

    @property
    def key(self) -> str:
        """The HTTP API's routeKey: GET /{code}."""
        return f"{self.method} {self.path}"

    @property
    def segments(self) -> list[str]:
        return [s for s in self.path.split("/") if s]

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Path parameters when method and a request's path on a short domain fit this route
        (its API's base path, if any, first), else None."""
        if method != self.method:
            return None
        parts = [s for s in path.split("/") if s]
        if self.base_path:
            if parts[:1] != [self.base_path]:
                return None
            parts = parts[1:]
        elif parts and parts[0] in self.taken:
            return None  # a mapping key sends these to another API, whatever this API's routes say
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
    def public_path(self) -> str:
        """The path a client asks for on a short domain: /api/links for the REST API's /links."""
        return f"/{self.base_path}{self.path}".rstrip("/") if self.base_path else self.path

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
    filters: tuple[dict[str, Any], ...]  # FilterCriteria's patterns: a record matching any is delivered
    window_seconds: int = 0  # TumblingWindowInSeconds: batches of one window share a state

    def wants(self, record: dict[str, Any]) -> bool:
        return not self.filters or any(_matches(pattern, record) for pattern in self.filters)


def _matches(pattern: dict[str, Any], value: Any) -> bool:
    """Lambda's event filter rules as this template uses them: nested keys, a list of accepted
    values, and {"exists": true|false} (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb-filtering.html)."""
    for key, rule in pattern.items():
        present = isinstance(value, dict) and key in value
        inner = value.get(key) if present else None
        if isinstance(rule, dict):
            if not (present and _matches(rule, inner)):
                return False
        elif not any((isinstance(r, dict) and r.get("exists") == (present and not isinstance(inner, (dict, list))))
                     or (not isinstance(r, dict) and present and inner == r) for r in rule):
            return False
    return True


@dataclass
class Table:
    name: str
    properties: dict[str, Any]


class Template:
    def __init__(self, path: Path = TEMPLATE) -> None:
        self.doc = load_template(path)
        self.resources: dict[str, Any] = self.doc.get("Resources", {})
        self.parameters = {
            name: LOCAL_PARAMETERS.get(name, _parameter_value(spec)) for name, spec in self.doc.get("Parameters", {}).items()
        }

    def condition(self, name: str) -> bool:
        """A condition of the template, evaluated with the parameters as the devserver plays them."""
        return bool(self._evaluate(self.doc.get("Conditions", {})[name]))

    def _evaluate(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        if "Condition" in value:
            return self.condition(value["Condition"])
        if "Fn::Equals" in value:
            left, right = (self._evaluate(self.resolve(v)) for v in value["Fn::Equals"])
            return left == right
        if "Fn::Not" in value:
            return not self._evaluate(value["Fn::Not"][0])
        if "Fn::And" in value:
            return all(self._evaluate(v) for v in value["Fn::And"])
        if "Fn::Or" in value:
            return any(self._evaluate(v) for v in value["Fn::Or"])
        return self.resolve(value)

    def api_mappings(self) -> dict[str, str]:
        """The short domains' API mappings: mapping key ("" for "(none)") -> the API's logical id,
        from the ApiMapping resources of the Fn::ForEach that makes the domains."""
        found: dict[str, str] = {}
        for name, loop in self.resources.items():
            if not name.startswith("Fn::ForEach::"):
                continue
            for resource in loop[2].values():
                if resource.get("Type") == "AWS::ApiGatewayV2::ApiMapping":
                    props = resource["Properties"]
                    found[str(props.get("ApiMappingKey", ""))] = props["ApiId"]["Ref"]
        return found

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

    def _authorizer(self, api: str, name: str) -> str:
        """The function of the API's REQUEST authorizer `name` (the only kind the devserver plays)."""
        spec = self.resources[api]["Properties"]["Auth"]["Authorizers"][name]
        if spec.get("FunctionPayloadType") != "REQUEST":
            raise ValueError(f"template.yaml: the devserver plays REQUEST authorizers only, not {name}")
        return str(spec["FunctionArn"]["Fn::GetAtt"][0])

    def routes(self) -> list[Route]:
        """Every API route a short domain serves: the REST API's (function events of Type Api) under
        its mapping key, PublicApi's (AWS::ApiGatewayV2::Route resources) at the root."""
        keys = {api: key for key, api in self.api_mappings().items()}
        taken = tuple(key for key in keys.values() if key)
        routes = []
        for name, res in self._of_type("AWS::Serverless::Function").items():
            for event in res["Properties"].get("Events", {}).values():
                if event.get("Type") != "Api":
                    continue
                props = event["Properties"]
                api = props["RestApiId"]["Ref"]
                auth = props.get("Auth", {})
                routes.append(Route(method=props["Method"].upper(), path=props["Path"], function=name,
                                    api_key_required=bool(auth.get("ApiKeyRequired", False)),
                                    authorizer=self._authorizer(api, auth["Authorizer"]) if auth.get("Authorizer") else None,
                                    payload="1.0", api=api, base_path=keys.get(api, ""), taken=() if keys.get(api) else taken))
        for res in self._of_type("AWS::ApiGatewayV2::Route").values():
            props = res["Properties"]
            if res.get("Condition") and not self.condition(res["Condition"]):
                continue
            method, _, path = props["RouteKey"].partition(" ")
            integration = self.resources[props["Target"]["Fn::Sub"].rpartition("${")[2].rstrip("}")]["Properties"]
            target = integration["IntegrationUri"]
            if not (isinstance(target, dict) and "Fn::GetAtt" in target):
                continue  # not a function of this template (the REST API's pass-through)
            api = props["ApiId"]["Ref"]
            routes.append(Route(method=method, path=path, function=target["Fn::GetAtt"][0], api_key_required=False,
                                payload=str(integration.get("PayloadFormatVersion", "2.0")), api=api, base_path=keys.get(api, ""),
                                taken=() if keys.get(api) else taken))
        return sorted(routes, key=lambda r: r.specificity, reverse=True)

    def stream_subscriptions(self) -> list[StreamSubscription]:
        found = []
        for name, res in self._of_type("AWS::Serverless::Function").items():
            for event in res["Properties"].get("Events", {}).values():
                if event.get("Type") != "DynamoDB":
                    continue
                props = event["Properties"]
                table = props["Stream"]["Fn::GetAtt"][0]
                filters = tuple(json.loads(p["Pattern"]) for p in props.get("FilterCriteria", {}).get("Filters", []))
                found.append(StreamSubscription(name, table, int(props.get("BatchSize", 100)), filters,
                                                int(props.get("TumblingWindowInSeconds", 0))))
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

    def rest_apis(self) -> dict[str, dict[str, Any]]:
        """The REST APIs' properties by logical id (their MethodSettings and usage plan)."""
        return {name: res["Properties"] for name, res in self._of_type("AWS::Serverless::Api").items()}

    def http_api_default_routes(self) -> dict[str, dict[str, Any]]:
        """Each HTTP API's stage DefaultRouteSettings, by the API's logical id."""
        return {res["Properties"]["ApiId"]["Ref"]: res["Properties"].get("DefaultRouteSettings", {})
                for res in self._of_type("AWS::ApiGatewayV2::Stage").values()}

    def tables(self) -> list[Table]:
        return [Table(name, res["Properties"]) for name, res in self._of_type("AWS::DynamoDB::Table").items()]

    def _named(self, name: str) -> Any:
        """What ${name} stands for in an Fn::Sub: a pseudo parameter, a parameter, a resource's name."""
        if name in PSEUDO:
            return PSEUDO[name]
        return self.resolve({"Ref": name}) if name in self.parameters else name

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
            if ref in self.resources or (ref.endswith("UsagePlan") and ref.removesuffix("UsagePlan") in self.resources):
                return ""  # not run locally (the event bus, SAM's usage plan of an API): the handlers do without it
            raise ValueError(f"template.yaml: cannot resolve Ref {ref}")
        if isinstance(value.get("Fn::Sub"), str) and value["Fn::Sub"].startswith("{{resolve:secretsmanager:"):
            return LOCAL_SECRET  # a generated secret: the devserver gives its own (__main__)
        if isinstance(value.get("Fn::Sub"), str):
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self._named(m.group(1))), value["Fn::Sub"])
        if "Fn::If" in value:
            condition, then, otherwise = value["Fn::If"]
            return self.resolve(then if self.condition(condition) else otherwise)
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

"""Reading template.yaml: the SAM transform done offline, intrinsic functions, and the local model.

Everything the local stack runs (functions, routes, queues, schedules, bucket notifications) is read
from the template here, so the laptop and AWS cannot drift apart: there is no second list.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"


def load_sam_template(path: Path) -> dict[str, Any]:
    """The SAM template as plain data (short-form tags such as !Ref become their long forms)."""
    return yaml_parse(path.read_text(encoding="utf-8"))


def parameter_values(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, str]:
    """Template parameter defaults with `overrides` applied; unknown names are an error."""
    declared = template.get("Parameters", {})
    unknown = set(overrides) - set(declared)
    if unknown:
        raise ValueError(f"unknown template parameters: {sorted(unknown)}")
    values = {name: str(spec["Default"]) for name, spec in declared.items() if "Default" in spec}
    values.update(overrides)
    missing = set(declared) - set(values)
    if missing:
        raise ValueError(f"template parameters without a value: {sorted(missing)}")
    return values


PLACEHOLDER_CODE_URI = "s3://local-stack-artifacts/placeholder.zip"


def translate(
    sam_template: dict[str, Any],
    params: dict[str, str],
    code_uri: str = PLACEHOLDER_CODE_URI,
    region: str = REGION,
) -> dict[str, Any]:
    """Expand the SAM transform offline (no AWS call: managed policies are left unresolved).

    Local code paths become `code_uri` first, as `sam package` would make them S3 locations.
    """
    sam = copy.deepcopy(sam_template)
    for resource in sam["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = code_uri
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = code_uri
    translator = Translator({}, Parser(), boto_session=boto3.session.Session(region_name=region))
    return translator.translate(sam, dict(params), get_managed_policy_map=lambda: {})


class Resolver:
    """Evaluates the intrinsic functions this project uses, against known parameters and resources.

    `physical` maps logical ids to what Ref returns; `attributes` maps (logical id, attribute) to GetAtt
    values. Both come from the resources the stack really created.
    """

    def __init__(
        self,
        template: dict[str, Any],
        params: dict[str, str],
        physical: dict[str, str] | None = None,
        attributes: dict[tuple[str, str], Any] | None = None,
        account_id: str = ACCOUNT_ID,
        region: str = REGION,
        stack_name: str = "local",
    ) -> None:
        self.template = template
        self.params = dict(params)
        self.physical = physical or {}
        self.attributes = attributes or {}
        self.pseudo = {
            "AWS::AccountId": account_id,
            "AWS::Region": region,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
            "AWS::NoValue": None,
        }

    def ref(self, name: str) -> Any:
        """What `Ref: name` evaluates to."""
        if name in self.params:
            return self.params[name]
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.physical:
            return self.physical[name]
        raise KeyError(f"cannot resolve Ref {name}")

    def condition(self, name: str) -> bool:
        """The value of a named condition."""
        return bool(self.resolve(self.template.get("Conditions", {})[name]))

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function evaluated."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = _INTRINSICS.get(key)
            if handler is not None:
                return handler(self, arg)
        return {k: self.resolve(v) for k, v in value.items()}

    def _getatt(self, arg: Any) -> Any:
        logical, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
        try:
            return self.attributes[(logical, self.resolve(attribute))]
        except KeyError:
            raise KeyError(f"cannot resolve GetAtt {logical}.{attribute}") from None

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name:
                return str(self._getatt(name))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def _find_in_map(self, arg: list[Any]) -> Any:
        name, top, second = (self.resolve(a) for a in arg)
        return self.template["Mappings"][name][top][second]

    def _if(self, arg: list[Any]) -> Any:
        name, yes, no = arg
        return self.resolve(yes if self.condition(name) else no)


_INTRINSICS: dict[str, Any] = {
    "Ref": lambda r, a: r.ref(a),
    "Fn::GetAtt": lambda r, a: r._getatt(a),
    "Fn::Sub": lambda r, a: r._sub(a),
    "Fn::FindInMap": lambda r, a: r._find_in_map(a),
    "Fn::If": lambda r, a: r._if(a),
    "Fn::Join": lambda r, a: str(r.resolve(a[0])).join(str(x) for x in r.resolve(a[1])),
    "Fn::Split": lambda r, a: str(r.resolve(a[1])).split(r.resolve(a[0])),
    "Fn::Select": lambda r, a: r.resolve(a[1])[int(r.resolve(a[0]))],
    "Fn::Equals": lambda r, a: r.resolve(a[0]) == r.resolve(a[1]),
    "Fn::Not": lambda r, a: not r.resolve(a[0]),
    "Fn::And": lambda r, a: all(r.resolve(x) for x in a),
    "Fn::Or": lambda r, a: any(r.resolve(x) for x in a),
    "Condition": lambda r, a: r.condition(a),
}


# ------------------------------------------------------------------------------------------ the model
@dataclass(frozen=True)
class Route:
    """One HttpApi route: `GET /v1/accounts/{open_id}` -> a function, with or without the authorizer."""

    method: str  # upper case, or ANY
    path: str
    function: str  # logical id
    authorizer: str | None

    @property
    def route_key(self) -> str:
        """API Gateway's routeKey, e.g. "GET /v1/accounts"."""
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Authorizer:
    """The HTTP API's Lambda REQUEST authorizer."""

    name: str
    function: str
    payload_version: str
    simple_responses: bool
    identity_headers: tuple[str, ...]


@dataclass(frozen=True)
class SqsSource:
    """An SQS event source mapping from the template."""

    name: str
    function: str
    queue: str  # logical id
    batch_size: int
    report_batch_item_failures: bool
    enabled: bool


@dataclass(frozen=True)
class S3Source:
    """An S3 bucket notification to a function."""

    name: str
    function: str
    bucket: str  # logical id
    events: tuple[str, ...]
    prefix: str
    suffix: str


@dataclass(frozen=True)
class ScheduleSource:
    """An EventBridge schedule targeting a function."""

    name: str  # the event's name in the template, e.g. RefreshSchedule
    function: str
    rule_logical_id: str
    expression: str
    input: str | None
    enabled: bool


@dataclass(frozen=True)
class EventRuleSource:
    """An EventBridge rule (on a bus) targeting a function: `EventBridgeRule` events of SAM."""

    name: str  # the event's name in the template, e.g. BusEvents
    function: str
    rule_logical_id: str
    bus: str | None  # the bus's logical id (None: the default bus)
    pattern: dict[str, Any]


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function as the local stack runs it."""

    logical_id: str
    code_uri: str
    handler: str
    timeout: int
    memory_size: int
    environment: dict[str, Any]  # unresolved template values


@dataclass
class StackModel:
    """What the local stack needs to know about the template."""

    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    authorizers: dict[str, Authorizer] = field(default_factory=dict)
    cors: dict[str, Any] | None = None
    sqs_sources: list[SqsSource] = field(default_factory=list)
    s3_sources: list[S3Source] = field(default_factory=list)
    schedules: list[ScheduleSource] = field(default_factory=list)
    event_rules: list[EventRuleSource] = field(default_factory=list)


def _logical(value: Any) -> str:
    """The logical id in a Ref or GetAtt."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target.split(".")[0] if isinstance(target, str) else target[0])
    raise ValueError(f"expected a Ref or GetAtt, got {value!r}")


def build_model(sam: dict[str, Any], resolver: Resolver) -> StackModel:
    """Functions, routes, authorizers and event sources of the SAM template."""
    model = StackModel()
    globals_fn = sam.get("Globals", {}).get("Function", {})
    resources = sam["Resources"]
    for resource in resources.values():
        if resource["Type"] == "AWS::Serverless::HttpApi":
            auth = resource.get("Properties", {}).get("Auth", {})
            for name, spec in auth.get("Authorizers", {}).items():
                if "FunctionArn" not in spec:
                    continue  # JWT authorizers are not Lambda functions
                model.authorizers[name] = Authorizer(
                    name=name,
                    function=_logical(spec["FunctionArn"]),
                    payload_version=str(spec.get("AuthorizerPayloadFormatVersion", "2.0")),
                    simple_responses=bool(spec.get("EnableSimpleResponses", False)),
                    identity_headers=tuple(spec.get("Identity", {}).get("Headers", [])),
                )
            cors = resource.get("Properties", {}).get("CorsConfiguration")
            model.cors = resolver.resolve(cors) if isinstance(cors, dict) else None
    api_default = next(
        (
            r.get("Properties", {}).get("Auth", {}).get("DefaultAuthorizer")
            for r in resources.values()
            if r["Type"] == "AWS::Serverless::HttpApi"
        ),
        None,
    )
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties", {})
        env = dict(globals_fn.get("Environment", {}).get("Variables", {}))
        env.update(props.get("Environment", {}).get("Variables", {}))
        model.functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_uri=str(props["CodeUri"]),
            handler=str(props.get("Handler", globals_fn.get("Handler"))),
            timeout=int(resolver.resolve(props.get("Timeout", globals_fn.get("Timeout", 3)))),
            memory_size=int(resolver.resolve(props.get("MemorySize", globals_fn.get("MemorySize", 128)))),
            environment=env,
        )
        for event_name, event in props.get("Events", {}).items():
            eprops = event.get("Properties", {})
            kind = event["Type"]
            if kind == "HttpApi":
                authorizer = eprops.get("Auth", {}).get("Authorizer", api_default)
                model.routes.append(
                    Route(
                        method=str(eprops.get("Method", "ANY"))
                        .upper()
                        .replace("X-AMAZON-APIGATEWAY-ANY-METHOD", "ANY"),
                        path=str(eprops.get("Path", "/$default")),
                        function=logical_id,
                        authorizer=None if authorizer in (None, "NONE") else str(authorizer),
                    )
                )
            elif kind == "SQS":
                model.sqs_sources.append(
                    SqsSource(
                        name=event_name,
                        function=logical_id,
                        queue=_logical(eprops["Queue"]),
                        batch_size=int(resolver.resolve(eprops.get("BatchSize", 10))),
                        report_batch_item_failures="ReportBatchItemFailures"
                        in eprops.get("FunctionResponseTypes", []),
                        enabled=bool(resolver.resolve(eprops.get("Enabled", True))),
                    )
                )
            elif kind == "S3":
                events = eprops["Events"]
                rules = eprops.get("Filter", {}).get("S3Key", {}).get("Rules", [])
                values = {r["Name"].lower(): str(resolver.resolve(r["Value"])) for r in rules}
                model.s3_sources.append(
                    S3Source(
                        name=event_name,
                        function=logical_id,
                        bucket=_logical(eprops["Bucket"]),
                        events=tuple([events] if isinstance(events, str) else events),
                        prefix=values.get("prefix", ""),
                        suffix=values.get("suffix", ""),
                    )
                )
            elif kind == "EventBridgeRule":
                bus = eprops.get("EventBusName")
                model.event_rules.append(
                    EventRuleSource(
                        name=event_name,
                        function=logical_id,
                        rule_logical_id=f"{logical_id}{event_name}",
                        bus=_logical(bus) if isinstance(bus, dict) else None,
                        pattern=resolver.resolve(eprops.get("Pattern", {})),
                    )
                )
            elif kind in ("Schedule", "ScheduleV2"):
                state = resolver.resolve(eprops.get("State", "ENABLED"))
                model.schedules.append(
                    ScheduleSource(
                        name=event_name,
                        function=logical_id,
                        rule_logical_id=f"{logical_id}{event_name}",
                        expression=str(
                            resolver.resolve(eprops.get("Schedule") or eprops["ScheduleExpression"])
                        ),
                        input=resolver.resolve(eprops["Input"]) if "Input" in eprops else None,
                        enabled=bool(resolver.resolve(eprops.get("Enabled", True))) and state == "ENABLED",
                    )
                )
    return model


_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")


def rate_seconds(expression: str) -> float | None:
    """Seconds between runs of a rate() expression; None for cron() (fired on demand only locally)."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    unit = match.group(2).rstrip("s")
    return int(match.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[unit]

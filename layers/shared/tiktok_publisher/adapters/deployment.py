"""The operator's view of a deployed stack: CloudFormation (parameters, outputs, resources), Secrets Manager
(the app secret as a JSON document) and EventBridge (schedule rules), for the go-live tool.

`LocalStackDeployments` finds the same facts on `make run`: the stack there is created through moto's
CloudFormation, so its parameters and typed resources come from the same API; the local stack's admin
endpoint adds what moto cannot model (the secret) and where the API answers (its gateway).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from botocore.exceptions import ClientError

from tiktok_publisher.adapters import aws
from tiktok_publisher.domain.deployment import Deployment, OperatorError, Resource

# The template's output naming the API's base URL.
API_URL_OUTPUT = "ApiUrl"


def _stack(stack_name: str) -> dict[str, Any]:
    try:
        stacks = aws.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", "")
        if "does not exist" in message:
            raise OperatorError(
                f"stack {stack_name!r} not found in {aws.region()}: deploy it first (make deploy), or pass "
                "the right --stack and --region"
            ) from None
        raise OperatorError(f"cannot read stack {stack_name!r}: {message or type(exc).__name__}") from None
    return dict(stacks[0])


def _resources(stack_name: str) -> dict[str, Resource]:
    found: dict[str, Resource] = {}
    paginator = aws.client("cloudformation").get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack_name):
        for summary in page.get("StackResourceSummaries", []):
            found[summary["LogicalResourceId"]] = Resource(
                summary.get("PhysicalResourceId", ""), summary["ResourceType"]
            )
    return found


def _pairs(items: list[dict[str, Any]] | None, key: str, value: str) -> dict[str, str]:
    return {str(i[key]): str(i.get(value, "")) for i in items or []}


class CloudFormationDeployments:
    """A stack deployed to AWS; `api_url` overrides the ApiUrl output (a custom domain)."""

    def __init__(self, stack_name: str, *, api_url: str | None = None) -> None:
        self.stack_name = stack_name
        self.api_url = api_url

    def describe(self) -> Deployment:
        stack = _stack(self.stack_name)
        outputs = _pairs(stack.get("Outputs"), "OutputKey", "OutputValue")
        api_url = self.api_url or outputs.get(API_URL_OUTPUT)
        if not api_url:
            raise OperatorError(f"stack {self.stack_name} has no {API_URL_OUTPUT} output: pass --api-url")
        return Deployment(
            stack_name=self.stack_name,
            region=aws.region(),
            api_url=api_url.rstrip("/"),
            parameters=_pairs(stack.get("Parameters"), "ParameterKey", "ParameterValue"),
            outputs=outputs,
            resources=_resources(self.stack_name),
        )


class LocalStackDeployments:
    """The stack of `make run`, found through its gateway's admin endpoint (GET /_local/stack)."""

    def __init__(self, gateway_url: str) -> None:
        self.gateway_url = gateway_url.rstrip("/")

    def summary(self) -> dict[str, Any]:
        url = f"{self.gateway_url}/_local/stack"
        try:
            answer = requests.get(url, timeout=10)
        except requests.RequestException as exc:
            raise OperatorError(
                f"no local stack answers at {self.gateway_url} ({type(exc).__name__}): `make run` first"
            ) from None
        if answer.status_code != 200:
            raise OperatorError(
                f"{url} answered {answer.status_code}: is {self.gateway_url} the local stack's gateway?"
            )
        return dict(answer.json())

    def describe(self) -> Deployment:
        summary = self.summary()
        stack_name = str(summary.get("stack_name") or "tiktok-publisher-local")
        stack = _stack(stack_name)
        resources = _resources(stack_name)
        # What moto's CloudFormation skipped and the local stack made itself (the secret, the alarms).
        for logical, kind in (summary.get("supplemented") or {}).items():
            physical = (summary.get("resources") or {}).get(logical)
            if physical:
                resources[logical] = Resource(str(physical), str(kind))
        return Deployment(
            stack_name=stack_name,
            region=aws.region(),
            api_url=str(summary["gateway_url"]).rstrip("/"),
            parameters=_pairs(stack.get("Parameters"), "ParameterKey", "ParameterValue"),
            outputs=_pairs(stack.get("Outputs"), "OutputKey", "OutputValue"),
            resources=resources,
            local=True,
        )


class SecretsManagerDocuments:
    """A JSON secret, read and written whole (never logged)."""

    def read(self, secret_id: str) -> dict[str, Any]:
        try:
            raw = aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", type(exc).__name__)
            raise OperatorError(
                f"cannot read the app secret ({code}): check your AWS credentials and region"
            ) from None
        try:
            values = json.loads(raw)
        except ValueError:
            raise OperatorError("the app secret is not a JSON object: restore it from the template") from None
        if not isinstance(values, dict):
            raise OperatorError("the app secret is not a JSON object: restore it from the template")
        return values

    def write(self, secret_id: str, values: Mapping[str, Any]) -> None:
        try:
            aws.client("secretsmanager").put_secret_value(
                SecretId=secret_id, SecretString=json.dumps(dict(values))
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", type(exc).__name__)
            raise OperatorError(f"cannot write the app secret ({code})") from None


class EventBridgeRules:
    """Schedule rules on the default bus."""

    def state(self, rule_name: str) -> str | None:
        try:
            return str(aws.client("events").describe_rule(Name=rule_name)["State"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise OperatorError(
                f"cannot read rule {rule_name}: {exc.response.get('Error', {}).get('Code')}"
            ) from None


class EmulatorUrlProperties:
    """The local stack's TikTok (the emulator) says which URL prefixes and domains it counts as verified."""

    def __init__(self, emulator_url: str) -> None:
        self.emulator_url = emulator_url.rstrip("/")

    def verified(self, url: str) -> bool:
        try:
            config = requests.get(f"{self.emulator_url}/_admin/config", timeout=10).json()
        except (requests.RequestException, ValueError):
            return False
        host = (urlsplit(url).hostname or "").lower()
        for entry in config.get("verified_url_prefixes") or []:
            entry = str(entry)
            if "://" in entry and url.startswith(entry):
                return True
            domain = entry.lower().strip(".")
            if "://" not in entry and (host == domain or host.endswith("." + domain)):
                return True
        return False

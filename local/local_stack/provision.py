"""Creating the template's resources on moto's server through moto's own CloudFormation.

The SAM template is expanded offline (samtranslator), then `create_stack` runs on moto. moto's
CloudFormation skips resource types it does not model; for a few of those the stack provisions the
resource through the service API from the same template properties (see SUPPLEMENTAL). Types that
the local stack plays itself are removed before create_stack (see EMULATED_TYPES).
"""

from __future__ import annotations

import io
import json
import re
import secrets
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from .template import ACCOUNT_ID, PLACEHOLDER_CODE_URI, REGION, Resolver, translate

ARTIFACTS_BUCKET, PLACEHOLDER_KEY = PLACEHOLDER_CODE_URI.removeprefix("s3://").split("/", 1)

# Played by the local stack itself: the gateway is the HTTP API, the pollers are the event source
# mappings. moto would try to run an SQS-mapped function in Docker on every SendMessage and consume
# the messages, so the mappings are removed before create_stack (nothing refers to them); the API
# resources stay (moto skips them, and the Lambda permissions refer to the API).
EMULATED_TYPES = ("AWS::Lambda::EventSourceMapping", "AWS::ApiGatewayV2::")
REMOVED_TYPES = ("AWS::Lambda::EventSourceMapping",)


def session() -> boto3.session.Session:
    """A boto3 session with the dummy credentials moto accepts (the endpoint goes on each client)."""
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )


def client(endpoint_url: str, service: str) -> Any:
    """A boto3 client bound to moto's server."""
    return session().client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint_url,
        config=Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=2, read_timeout=30),
    )


@dataclass
class Deployment:
    """What create_stack (plus the supplemental provisioners) produced."""

    stack_name: str
    template: dict[str, Any]  # the expanded CloudFormation template
    physical: dict[str, str]  # logical id -> Ref value
    attributes: dict[tuple[str, str], Any]  # (logical id, attribute) -> GetAtt value
    created_by_moto: dict[str, str] = field(default_factory=dict)  # logical id -> type
    supplemented: dict[str, str] = field(default_factory=dict)  # logical id -> type
    skipped: dict[str, str] = field(default_factory=dict)  # logical id -> type (not created locally)
    emulated: dict[str, str] = field(default_factory=dict)  # logical id -> type (played by the stack)


def _placeholder_code(endpoint_url: str) -> str:
    """Upload a tiny zip that moto can register as function and layer code (it never runs there)."""
    s3 = client(endpoint_url, "s3")
    s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "local stack placeholder; the code runs in local workers\n")
    s3.put_object(Bucket=ARTIFACTS_BUCKET, Key=PLACEHOLDER_KEY, Body=buffer.getvalue())
    return f"s3://{ARTIFACTS_BUCKET}/{PLACEHOLDER_KEY}"


def _moto_models_type(resource_type: str) -> bool:
    """Whether moto's CloudFormation creates this type (asked without moto's warning per miss)."""
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map

    if resource_type in NULL_MODELS:
        return False
    return resource_type.startswith("Custom::") or resource_type in get_model_map()


def _wait(cfn: Any, stack_name: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            if stack["StackStatus"] != "CREATE_COMPLETE":
                raise RuntimeError(
                    f"stack {stack_name}: {stack['StackStatus']} {stack.get('StackStatusReason')}"
                )
            return stack
        if time.monotonic() > deadline:
            raise TimeoutError(f"stack {stack_name} still {stack['StackStatus']}")
        time.sleep(0.1)


def _attributes(
    endpoint_url: str, resources: dict[str, Any], physical: dict[str, str]
) -> dict[tuple[str, str], Any]:
    """GetAtt values of the created resources, by type (only what templates of this project use)."""
    attrs: dict[tuple[str, str], Any] = {}
    for logical, resource in resources.items():
        pid = physical.get(logical)
        if not pid:
            continue
        kind = resource["Type"]
        if kind == "AWS::SQS::Queue":
            name = pid.rsplit("/", 1)[-1]
            attrs[(logical, "QueueName")] = name
            attrs[(logical, "QueueUrl")] = pid
            attrs[(logical, "Arn")] = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
        elif kind == "AWS::KMS::Key":
            attrs[(logical, "KeyId")] = pid
            attrs[(logical, "Arn")] = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{pid}"
        elif kind == "AWS::DynamoDB::Table":
            attrs[(logical, "Arn")] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{pid}"
        elif kind == "AWS::S3::Bucket":
            attrs[(logical, "Arn")] = f"arn:aws:s3:::{pid}"
            attrs[(logical, "DomainName")] = f"{pid}.s3.amazonaws.com"
        elif kind == "AWS::Lambda::Function":
            attrs[(logical, "Arn")] = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{pid}"
        elif kind == "AWS::Logs::LogGroup":
            attrs[(logical, "Arn")] = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{pid}:*"
        elif kind == "AWS::Events::EventBus":
            attrs[(logical, "Name")] = pid
            attrs[(logical, "Arn")] = f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/{pid}"
        elif kind == "AWS::Events::Rule":
            attrs[(logical, "Arn")] = f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{pid}"
        elif kind == "AWS::IAM::Role":
            attrs[(logical, "Arn")] = f"arn:aws:iam::{ACCOUNT_ID}:role/{pid}"
        elif kind == "AWS::SNS::Topic":
            attrs[(logical, "TopicName")] = pid.rsplit(":", 1)[-1]
    return attrs


# ---------------------------------------------------------------- supplemental provisioners
def _secret(endpoint_url: str, logical: str, props: dict[str, Any], stack_name: str) -> str:
    """AWS::SecretsManager::Secret with GenerateSecretString, as CloudFormation would create it."""
    sm = client(endpoint_url, "secretsmanager")
    value = props.get("SecretString")
    generate = props.get("GenerateSecretString")
    if value is None and generate:
        length = int(generate.get("PasswordLength", 32))
        # Alphanumeric like ExcludePunctuation (token_hex: 2 chars per byte).
        generated = secrets.token_hex(length)[:length]
        if "SecretStringTemplate" in generate:
            data = json.loads(generate["SecretStringTemplate"])
            data[generate["GenerateStringKey"]] = generated
            value = json.dumps(data)
        else:
            value = generated
    kwargs: dict[str, Any] = {"Name": props.get("Name") or f"{stack_name}-{logical}"}
    if props.get("Description"):
        kwargs["Description"] = props["Description"]
    kwargs["SecretString"] = value if value is not None else ""
    return str(sm.create_secret(**kwargs)["ARN"])


def _alarm(endpoint_url: str, logical: str, props: dict[str, Any], stack_name: str) -> str:
    """AWS::CloudWatch::Alarm through PutMetricAlarm."""
    name = props.get("AlarmName") or f"{stack_name}-{logical}"
    keys = (
        "AlarmDescription", "Namespace", "MetricName", "Dimensions", "Statistic", "Period",
        "EvaluationPeriods", "Threshold", "ComparisonOperator", "TreatMissingData", "AlarmActions",
        "OKActions", "DatapointsToAlarm", "Unit",
    )  # fmt: skip
    kwargs = {k: props[k] for k in keys if k in props}
    for number in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if number in kwargs:
            kwargs[number] = int(kwargs[number])
    if "Threshold" in kwargs:
        kwargs["Threshold"] = float(kwargs["Threshold"])
    client(endpoint_url, "cloudwatch").put_metric_alarm(AlarmName=name, **kwargs)
    return str(name)


# AWS::S3::BucketPolicy is deliberately not provisioned: moto's server evaluates bucket policies, and
# the template's DenyInsecureTransport would refuse every request to its plain-HTTP endpoint.
SUPPLEMENTAL = {
    "AWS::SecretsManager::Secret": _secret,
    "AWS::CloudWatch::Alarm": _alarm,
}


def _dependencies(resource: dict[str, Any]) -> set[str]:
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "Ref" in value and isinstance(value["Ref"], str):
                found.add(value["Ref"])
            if "Fn::GetAtt" in value:
                target = value["Fn::GetAtt"]
                found.add(target.split(".")[0] if isinstance(target, str) else target[0])
            if "Fn::Sub" in value:
                text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
                found.update(m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(resource.get("Properties", {}))
    depends = resource.get("DependsOn", [])
    found.update([depends] if isinstance(depends, str) else depends)
    return found


def deploy(
    endpoint_url: str,
    sam_template: dict[str, Any],
    params: dict[str, str],
    stack_name: str = "tiktok-publisher-local",
) -> Deployment:
    """Create every resource of the template on moto and return their physical ids."""
    code_uri = _placeholder_code(endpoint_url)
    cfn_template = translate(sam_template, params, code_uri)
    resources = cfn_template["Resources"]
    emulated = {k: r["Type"] for k, r in resources.items() if r["Type"].startswith(EMULATED_TYPES)}
    unsupported = {
        k: r["Type"] for k, r in resources.items() if k not in emulated and not _moto_models_type(r["Type"])
    }
    for_moto = {k: r for k, r in resources.items() if not r["Type"].startswith(REMOVED_TYPES)}
    # Resources moto cannot model stay in the template (moto skips them; Refs to them resolve to
    # nothing there) and are provisioned below through the service APIs.
    body = dict(cfn_template, Resources=for_moto)
    cfn = client(endpoint_url, "cloudformation")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cfn.create_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(body),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
    _wait(cfn, stack_name)
    summaries = cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name)
    created = {s["LogicalResourceId"]: s for page in summaries for s in page["StackResourceSummaries"]}
    physical = {k: s["PhysicalResourceId"] for k, s in created.items() if s.get("PhysicalResourceId")}
    physical.update({k: k for k in emulated})  # e.g. Ref HttpApi -> a stable local api id
    deployment = Deployment(
        stack_name=stack_name,
        template=cfn_template,
        physical=physical,
        attributes={},
        created_by_moto={k: resources[k]["Type"] for k in created if k in resources},
        emulated=emulated,
    )
    deployment.attributes = _attributes(endpoint_url, resources, physical)
    resolver = Resolver(cfn_template, params, physical, deployment.attributes, stack_name=stack_name)
    # Provision in dependency order (a bucket policy after its bucket, alarms after their queues).
    pending = {k: t for k, t in unsupported.items() if k not in created}
    while pending:
        progressed = False
        for logical, kind in sorted(pending.items()):
            deps = _dependencies(resources[logical]) & set(pending)
            if deps:
                continue
            provisioner = SUPPLEMENTAL.get(kind)
            if provisioner is None:
                deployment.skipped[logical] = kind
            else:
                props = resolver.resolve(resources[logical].get("Properties", {}))
                physical[logical] = provisioner(endpoint_url, logical, props, stack_name)
                deployment.supplemented[logical] = kind
            del pending[logical]
            progressed = True
        if not progressed:  # a cycle among skipped types: give up on them rather than hang
            deployment.skipped.update(pending)
            break
    deployment.attributes.update(_attributes(endpoint_url, resources, physical))
    _apply_bucket_cors(endpoint_url, resources, physical, resolver)
    return deployment


# CloudFormation's CorsRule property names -> the S3 API's.
_CORS_KEYS = {"ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds", "Id": "ID"}


def _apply_bucket_cors(
    endpoint_url: str, resources: dict[str, Any], physical: dict[str, str], resolver: Resolver
) -> None:
    """moto's CloudFormation drops a bucket's CorsConfiguration; browsers uploading need it as in AWS."""
    s3 = client(endpoint_url, "s3")
    for logical, resource in resources.items():
        if resource["Type"] != "AWS::S3::Bucket" or logical not in physical:
            continue
        cors = resource.get("Properties", {}).get("CorsConfiguration")
        if not cors:
            continue
        rules = resolver.resolve(cors)["CorsRules"]
        s3.put_bucket_cors(
            Bucket=physical[logical],
            CORSConfiguration={"CORSRules": [{_CORS_KEYS.get(k, k): v for k, v in r.items()} for r in rules]},
        )


def put_secret_json(endpoint_url: str, secret_id: str, patch: dict[str, Any]) -> None:
    """Merge `patch` into a JSON secret (local values for what is filled after deploy in AWS)."""
    sm = client(endpoint_url, "secretsmanager")
    current = json.loads(sm.get_secret_value(SecretId=secret_id)["SecretString"] or "{}")
    current.update(patch)
    sm.put_secret_value(SecretId=secret_id, SecretString=json.dumps(current))

"""template.yaml keeps the promises of DESIGN.md and the team contract (no AWS call, no network)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from local_stack.template import (
    Resolver,
    build_model,
    load_sam_template,
    parameter_values,
    rate_seconds,
    translate,
)

ROOT = Path(__file__).resolve().parents[3]
SAM = load_sam_template(ROOT / "template.yaml")
RES = SAM["Resources"]
CFN = translate(SAM, parameter_values(SAM, {}))

CONTRACT_ENV = {
    "STAGE", "ACCOUNTS_TABLE", "POSTS_TABLE", "OAUTH_SESSIONS_TABLE", "IDEMPOTENCY_TABLE", "TOKEN_KEY_ID",
    "MEDIA_BUCKET", "PUBLISH_QUEUE_URL", "EVENT_BUS_NAME", "APP_SECRET_ID", "TIKTOK_API_BASE",
    "TIKTOK_AUTH_BASE", "JWT_SECRET_ID", "STATE_SECRET_ID", "UPLOAD_SECRET_ID", "JWT_MAX_LIFETIME_SECONDS",
    "OAUTH_REDIRECT_URI", "RETURN_TO_ALLOWED_ORIGINS", "JWT_AUDIENCE", "JWT_ISSUER", "JWT_TENANT_CLAIM",
    "JWKS_URL", "PKCE_MODE", "APP_AUDITED", "MEDIA_PULL_MODE", "MEDIA_PULL_BASE_URL", "REFRESH_SHARDS",
    "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_LOGGER_LOG_EVENT", "POWERTOOLS_TRACER_CAPTURE_RESPONSE",
}  # fmt: skip

# (method, path) -> (function code dir, needs the authorizer)
CONTRACT_ROUTES = {
    ("GET", "/v1/oauth/tiktok/start"): ("oauth_start", True),
    ("GET", "/v1/oauth/tiktok/callback"): ("oauth_callback", False),
    ("GET", "/v1/accounts"): ("accounts", True),
    ("GET", "/v1/accounts/{open_id}"): ("accounts", True),
    ("DELETE", "/v1/accounts/{open_id}"): ("accounts", True),
    ("GET", "/v1/accounts/{open_id}/creator-info"): ("accounts", True),
    ("DELETE", "/v1/accounts/{open_id}/data"): ("accounts", True),
    ("GET", "/v1/app"): ("accounts", True),
    ("GET", "/v1/settings"): ("accounts", True),
    ("PUT", "/v1/settings"): ("accounts", True),
    ("GET", "/v1/openapi.json"): ("accounts", False),
    ("POST", "/v1/uploads"): ("publish", True),
    ("POST", "/v1/posts"): ("publish", True),
    ("GET", "/v1/posts"): ("publish", True),
    ("GET", "/v1/posts/{post_id}"): ("publish", True),
    ("DELETE", "/v1/posts/{post_id}"): ("publish", True),
    ("PATCH", "/v1/posts/{post_id}"): ("publish", True),
    ("POST", "/v1/posts/{post_id}/retry"): ("publish", True),
    ("GET", "/v1/posts/{post_id}/metrics"): ("metrics", True),
    ("GET", "/v1/posts/{post_id}/metrics/history"): ("metrics", True),
    ("GET", "/v1/accounts/{open_id}/stats"): ("metrics", True),
    ("GET", "/v1/accounts/{open_id}/stats/history"): ("metrics", True),
    ("POST", "/v1/webhooks/tiktok"): ("webhook", False),
    ("POST", "/v1/webhook-endpoints"): ("webhook_endpoints", True),
    ("GET", "/v1/webhook-endpoints"): ("webhook_endpoints", True),
    ("GET", "/v1/webhook-endpoints/{endpoint_id}"): ("webhook_endpoints", True),
    ("PATCH", "/v1/webhook-endpoints/{endpoint_id}"): ("webhook_endpoints", True),
    ("DELETE", "/v1/webhook-endpoints/{endpoint_id}"): ("webhook_endpoints", True),
    ("POST", "/v1/webhook-endpoints/{endpoint_id}/rotate-secret"): ("webhook_endpoints", True),
    ("GET", "/v1/webhook-endpoints/{endpoint_id}/deliveries"): ("webhook_endpoints", True),
    ("GET", "/v1/webhook-endpoints/{endpoint_id}/deliveries/{message_id}"): ("webhook_endpoints", True),
    ("POST", "/v1/webhook-endpoints/{endpoint_id}/deliveries/{message_id}/replay"): (
        "webhook_endpoints",
        True,
    ),
    ("GET", "/"): ("console", False),
    ("GET", "/{proxy+}"): ("console", False),
}

# table logical id -> (hash, range), {index: (hash, range)}, ttl attribute
CONTRACT_TABLES: dict[str, tuple[tuple[str, str | None], dict[str, tuple[str, str | None]], str | None]] = {
    "AccountsTable": (
        ("tenant_id", "open_id"),
        {
            "by_open_id": ("open_id", "tenant_id"),
            "refresh_due": ("refresh_shard", "refresh_due_at"),
            "stats_due": ("stats_shard", "stats_next_at"),
        },
        None,
    ),
    "PostsTable": (
        ("tenant_id", "post_id"),
        {
            "by_publish_id": ("publish_id", None),
            "by_account": ("account_key", "created_at"),
            "scheduled_due": ("schedule_shard", "publish_at"),
            "by_upload_id": ("upload_id", None),
            "metrics_due": ("metrics_shard", "metrics_next_at"),
        },
        "purge_at",  # post history retention (DataRetentionDays)
    ),
    "TenantsTable": (("tenant_id", None), {}, None),
    "MetricsHistoryTable": (("series", "at"), {}, "expires_at"),
    "OAuthSessionsTable": (("state_id", None), {}, "expires_at"),
    "IdempotencyTable": (("id", None), {}, "expiration"),
    "WebhookEndpointsTable": (("tenant_id", "endpoint_id"), {}, None),
    "WebhookDeliveriesTable": (("endpoint_key", "message_id"), {}, "expires_at"),
}
ATTRIBUTE_TYPES = {
    "refresh_due_at": "N",
    "publish_at": "N",
    "stats_next_at": "N",
    "metrics_next_at": "N",
    "at": "N",
}


def _of_type(kind: str, resources: dict[str, Any] = RES) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in resources.items() if r["Type"] == kind}


def _keys(schema: list[dict[str, str]]) -> tuple[str, str | None]:
    by_type = {k["KeyType"]: k["AttributeName"] for k in schema}
    return by_type["HASH"], by_type.get("RANGE")


def _resolver(stage: str) -> Resolver:
    return Resolver(SAM, parameter_values(SAM, {"Stage": stage}))


FUNCTIONS = _of_type("AWS::Serverless::Function")


def test_every_function_has_its_code_dir_and_handler() -> None:
    # Given the functions of the template
    dirs = {Path(r["Properties"]["CodeUri"]).name for r in FUNCTIONS.values()}
    # Then the eleven functions of DESIGN.md and metrics (docs/metrics.md) exist, each in functions/<name>/
    assert dirs == {
        "authorizer", "oauth_start", "oauth_callback", "accounts", "publish", "publish_worker", "refresh",
        "dispatch", "s3_upload", "webhook", "console", "metrics",
        # issue 15: webhooks to the SaaS
        "webhook_endpoints", "webhook_fanout", "webhook_delivery",
    }  # fmt: skip
    for resource in FUNCTIONS.values():
        assert (ROOT / resource["Properties"]["CodeUri"]).is_dir()
    assert SAM["Globals"]["Function"]["Handler"] == "app.lambda_handler"


def test_globals_runtime_arch_tracing_layer_and_contract_environment() -> None:
    glob = SAM["Globals"]["Function"]
    assert glob["Runtime"] == "python3.13"
    assert glob["Architectures"] == ["arm64"]
    assert glob["Tracing"] == "Active"
    assert glob["Layers"] == [{"Ref": "SharedLayer"}]
    env = glob["Environment"]["Variables"]
    assert set(env) >= CONTRACT_ENV
    assert env["POWERTOOLS_LOGGER_LOG_EVENT"] == "false"
    assert env["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    layer = RES["SharedLayer"]
    assert layer["Properties"]["ContentUri"] == "layers/shared"
    assert layer["Metadata"] == {"BuildMethod": "python3.13", "BuildArchitecture": "arm64"}
    assert (ROOT / "layers/shared/requirements.txt").is_file()


def test_stage_parameter_and_per_stage_mappings() -> None:
    assert SAM["Parameters"]["Stage"]["AllowedValues"] == ["local", "dev", "prod"]
    stages = SAM["Mappings"]["StageConfig"]
    assert set(stages) == {"local", "dev", "prod"}
    for values in stages.values():
        assert rate_seconds(values["RefreshRate"])


def test_every_function_logs_to_its_own_group_with_retention() -> None:
    groups = _of_type("AWS::Logs::LogGroup")
    used = []
    for name, resource in FUNCTIONS.items():
        ref = resource["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert ref in groups, name
        assert "RetentionInDays" in groups[ref]["Properties"]
        used.append(ref)
    assert len(set(used)) == len(FUNCTIONS)
    for stage in ("local", "dev", "prod"):
        assert _resolver(stage).resolve(groups[used[0]]["Properties"]["RetentionInDays"]) > 0


@pytest.mark.parametrize("logical", sorted(CONTRACT_TABLES))
def test_tables_match_the_contract(logical: str) -> None:
    props = RES[logical]["Properties"]
    keys, indexes, ttl = CONTRACT_TABLES[logical]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert _keys(props["KeySchema"]) == keys
    found = {i["IndexName"]: _keys(i["KeySchema"]) for i in props.get("GlobalSecondaryIndexes", [])}
    assert found == indexes
    for index in props.get("GlobalSecondaryIndexes", []):
        assert index["Projection"] == {"ProjectionType": "ALL"}
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    assert {n for pair in [keys, *indexes.values()] for n in pair if n} == set(types)
    assert all(types[n] == ATTRIBUTE_TYPES.get(n, "S") for n in types)
    if ttl:
        assert props["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in props


def test_tables_agree_with_the_pynamodb_models() -> None:
    from tiktok_publisher.adapters import dynamodb as models

    for logical, model in (
        ("AccountsTable", models.AccountModel),
        ("PostsTable", models.PostModel),
        ("TenantsTable", models.TenantModel),
        ("MetricsHistoryTable", models.MetricsHistoryModel),
    ):
        _, indexes, _ = CONTRACT_TABLES[logical]
        attrs = model.get_attributes()
        hash_key = next(n for n, a in attrs.items() if a.is_hash_key)
        range_key = next((n for n, a in attrs.items() if a.is_range_key), None)
        assert (hash_key, range_key) == CONTRACT_TABLES[logical][0]
        model_indexes = {
            index.Meta.index_name: (
                next(n for n, a in index.Meta.attributes.items() if a.is_hash_key),
                next((n for n, a in index.Meta.attributes.items() if a.is_range_key), None),
            )
            for index in model._indexes.values()
        }
        assert model_indexes == indexes


def test_token_key_rotates_and_has_an_alias() -> None:
    assert RES["TokenKey"]["Properties"]["EnableKeyRotation"] is True
    assert RES["TokenKeyAlias"]["Properties"]["TargetKeyId"] == {"Ref": "TokenKey"}


def test_media_bucket_is_private_encrypted_and_expires_abandoned_uploads() -> None:
    props = RES["MediaBucket"]["Properties"]
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rules = props["LifecycleConfiguration"]["Rules"]
    uploads = next(r for r in rules if r.get("Prefix") == "uploads/")
    assert uploads["ExpirationInDays"] > 0
    assert uploads["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] >= 1
    assert "PUT" in props["CorsConfiguration"]["CorsRules"][0]["AllowedMethods"]
    # The functions name the bucket by the same computed string (no Ref: it would be circular).
    assert props["BucketName"] == SAM["Globals"]["Function"]["Environment"]["Variables"]["MEDIA_BUCKET"]


def test_s3_upload_triggered_by_objects_created_under_uploads() -> None:
    model = build_model(SAM, _resolver("dev"))
    (source,) = model.s3_sources
    assert (source.function, source.bucket, source.prefix) == ("S3UploadFunction", "MediaBucket", "uploads/")
    assert source.events == ("s3:ObjectCreated:*",)


@pytest.mark.parametrize("stage", ["local", "dev", "prod"])
def test_publish_queue_has_dlq_and_outlives_the_worker(stage: str) -> None:
    resolver = _resolver(stage)
    props = RES["PublishQueue"]["Properties"]
    queue = {k: resolver.resolve(props[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod")}
    redrive = resolver.resolve(props["RedrivePolicy"]["maxReceiveCount"])
    assert RES["PublishQueue"]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["PublishDeadLetterQueue", "Arn"]
    }
    assert int(redrive) >= 1
    worker = build_model(SAM, resolver).functions["PublishWorkerFunction"]
    assert int(queue["VisibilityTimeout"]) > worker.timeout


def test_alarms_on_dlq_depth_and_queue_age() -> None:
    alarms = _of_type("AWS::CloudWatch::Alarm")
    watched = {
        (a["Properties"]["MetricName"], a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0])
        for a in alarms.values()
        if a["Properties"]["Namespace"] == "AWS/SQS"
    }
    assert ("ApproximateNumberOfMessagesVisible", "PublishDeadLetterQueue") in watched
    assert ("ApproximateAgeOfOldestMessage", "PublishQueue") in watched
    assert all(a["Properties"]["AlarmActions"] for a in alarms.values())


def test_routes_and_authorizer_match_the_contract() -> None:
    model = build_model(SAM, _resolver("dev"))
    functions = {k: Path(v.code_uri).name for k, v in model.functions.items()}
    routes = {(r.method, r.path): (functions[r.function], r.authorizer is not None) for r in model.routes}
    assert routes == CONTRACT_ROUTES
    assert {r.authorizer for r in model.routes} == {None, "JwtAuthorizer"}
    authorizer = model.authorizers["JwtAuthorizer"]
    assert functions[authorizer.function] == "authorizer"
    assert authorizer.payload_version == "2.0"
    assert authorizer.simple_responses is True
    assert authorizer.identity_headers == ("Authorization",)
    api = RES["HttpApi"]["Properties"]
    assert api["Auth"]["Authorizers"]["JwtAuthorizer"]["Identity"]["ReauthorizeEvery"] == 0
    assert api["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert api["CorsConfiguration"]["AllowOrigins"]


def test_schedules_refresh_per_stage_and_dispatch_every_minute() -> None:
    for stage in ("local", "dev", "prod"):
        model = build_model(SAM, _resolver(stage))
        schedules = {s.name: s for s in model.schedules}
        assert set(schedules) == {"RefreshSchedule", "DispatchSchedule", "MetricsSchedule"}
        assert schedules["RefreshSchedule"].function == "RefreshFunction"
        assert schedules["DispatchSchedule"].function == "DispatchFunction"
        assert schedules["RefreshSchedule"].expression == SAM["Mappings"]["StageConfig"][stage]["RefreshRate"]
        assert rate_seconds(schedules["DispatchSchedule"].expression) == 60


def test_publish_worker_reports_batch_item_failures() -> None:
    sources = build_model(SAM, _resolver("dev")).sqs_sources
    (source,) = [s for s in sources if s.function == "PublishWorkerFunction"]  # issue 15 added a second
    assert (source.function, source.queue) == ("PublishWorkerFunction", "PublishQueue")
    assert source.report_batch_item_failures is True


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in role["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def test_roles_are_least_privilege() -> None:
    roles = _of_type("AWS::IAM::Role", CFN["Resources"])
    assert len(roles) == len(FUNCTIONS)  # one role per function
    for name, role in roles.items():
        for statement in _statements(role):
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            assert "*" not in resources, (name, statement["Action"])
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not any(a.endswith(":*") or a == "*" for a in actions), (name, actions)
    kms = [
        (name, s)
        for name, role in roles.items()
        for s in _statements(role)
        if any(str(a).startswith("kms:") for a in s["Action"])
    ]
    assert kms
    for _, statement in kms:
        # Issue 11: each role has only the KMS actions its code calls (test_iam.py checks which).
        assert set(statement["Action"]) <= {"kms:Decrypt", "kms:GenerateDataKey"}
        assert statement["Resource"] == {"Fn::GetAtt": ["TokenKey", "Arn"]}
    # The authorizer only reads the secret.
    authorizer = roles["AuthorizerFunctionRole"]
    assert [a for s in _statements(authorizer) for a in s["Action"]] == ["secretsmanager:GetSecretValue"]


def test_secret_generates_the_signing_key_and_outputs_are_there() -> None:
    # Issue 11: one secret per concern; CloudFormation generates every signing key (64 characters).
    for logical in ("JwtSecret", "StateSigningSecret", "UploadSigningSecret"):
        secret = RES[logical]["Properties"]["GenerateSecretString"]
        assert secret["PasswordLength"] >= 32
        assert "SecretStringTemplate" not in secret
    assert "jwt" not in RES["AppSecret"]["Properties"]["SecretString"]
    assert {
        "ApiUrl",
        "MediaBucketName",
        "PublishQueueUrl",
        "EventBusName",
        "AccountsTableName",
        "PostsTableName",
    } <= set(SAM["Outputs"])
    assert RES["EventBus"]["Type"] == "AWS::Events::EventBus"


def test_samconfig_environments() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for env, stage in (("default", "dev"), ("dev", "dev"), ("prod", "prod")):
        overrides = config[env]["deploy"]["parameters"]["parameter_overrides"]
        assert f"Stage={stage}" in overrides
        names = {o.split("=", 1)[0] for o in overrides}
        assert names <= set(SAM["Parameters"])


def test_openapi_document_describes_every_api_route_of_the_template() -> None:
    from tiktok_publisher.entrypoints.http.openapi import openapi_document

    documented = {
        (method.upper(), path) for path, ops in openapi_document()["paths"].items() for method in ops
    }
    api_routes = {(method, path) for method, path in CONTRACT_ROUTES if path.startswith("/v1/")}

    assert api_routes <= documented, sorted(api_routes - documented)


STATEFUL_TYPES = (
    "AWS::KMS::Key", "AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SecretsManager::Secret",
)  # fmt: skip


def test_every_stateful_resource_is_retained_on_delete_and_replace() -> None:
    # Deleting the stack (or a replacement) must never destroy the key, the tables, the bucket or the secrets.
    stateful = {k: r for k, r in RES.items() if r["Type"] in STATEFUL_TYPES}
    assert {"TokenKey", "AccountsTable", "PostsTable", "MediaBucket", "AppSecret", "JwtSecret"} <= set(
        stateful
    )
    for logical, resource in stateful.items():
        assert resource.get("DeletionPolicy") == "Retain", logical
        assert resource.get("UpdateReplacePolicy") == "Retain", logical
    for logical, resource in CFN["Resources"].items():
        if resource["Type"] in STATEFUL_TYPES:
            assert resource.get("DeletionPolicy") == "Retain", logical


def test_unusable_secrets_raise_an_alarm_from_every_function_that_reads_one() -> None:
    filters = _of_type("AWS::Logs::MetricFilter")
    watched = {f["Properties"]["LogGroupName"]["Ref"] for f in filters.values()}
    for name in ("Authorizer", "OAuthStart", "OAuthCallback", "Publish", "Webhook"):
        assert f"{name}LogGroup" in watched
    for f in filters.values():
        assert f["Properties"]["FilterPattern"] == '{ $.alarm = "unusable_secret" }'
        (metric,) = f["Properties"]["MetricTransformations"]
        assert (metric["MetricNamespace"], metric["MetricName"]) == ("TikTokPublisher", "UnusableSecret")
    alarm = RES["UnusableSecretAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("TikTokPublisher", "UnusableSecret")
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@pytest.mark.parametrize("stage", ["local", "dev", "prod"])
def test_metrics_schedule_runs_only_when_enabled_and_outlasts_its_function(stage: str) -> None:
    # Given the template with metrics off (the default) and on
    for enabled, state in (("false", False), ("true", True)):
        resolver = Resolver(SAM, parameter_values(SAM, {"Stage": stage, "MetricsEnabled": enabled}))
        model = build_model(SAM, resolver)
        schedule = next(s for s in model.schedules if s.name == "MetricsSchedule")
        # Then the snapshot schedule runs the metrics function only when the operator enabled metrics
        assert schedule.function == "MetricsFunction"
        assert schedule.enabled is state
        # And two runs never overlap: the function times out before the next run starts
        rate = rate_seconds(schedule.expression)
        assert rate is not None
        assert model.functions["MetricsFunction"].timeout < rate

"""The local stack with the project's real handlers: resources from the template, gateway, authorizer."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
import pytest
import requests

from local_stack import LocalStack
from local_stack.template import load_sam_template

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stack")]
ROOT = Path(__file__).resolve().parents[3]
CONTRACT_ENV = (
    "STAGE", "ACCOUNTS_TABLE", "POSTS_TABLE", "OAUTH_SESSIONS_TABLE", "IDEMPOTENCY_TABLE", "TOKEN_KEY_ID",
    "MEDIA_BUCKET", "PUBLISH_QUEUE_URL", "EVENT_BUS_NAME", "APP_SECRET_ID", "TIKTOK_API_BASE",
    "JWT_SECRET_ID", "STATE_SECRET_ID", "UPLOAD_SECRET_ID",
    "TIKTOK_AUTH_BASE",
    "OAUTH_REDIRECT_URI", "RETURN_TO_ALLOWED_ORIGINS", "JWT_AUDIENCE", "PKCE_MODE", "APP_AUDITED",
    "MEDIA_PULL_MODE", "REFRESH_SHARDS", "AWS_ENDPOINT_URL",
)  # fmt: skip


def _put_account(stack: LocalStack, tenant_id: str, open_id: str, name: str) -> None:
    stack.client("dynamodb").put_item(
        TableName=stack.function_envs["AccountsFunction"]["ACCOUNTS_TABLE"],
        Item={
            "tenant_id": {"S": tenant_id},
            "open_id": {"S": open_id},
            "display_name": {"S": name},
            "username": {"S": name.lower()},
            "scopes": {"L": [{"S": "user.info.basic"}, {"S": "video.publish"}]},
            "status": {"S": "active"},
            "access_expires_at": {"N": str(int(time.time()) + 86400)},
            "refresh_expires_at": {"N": str(int(time.time()) + 86400 * 365)},
            "version": {"N": "1"},
            "connected_at": {"S": "2025-01-01T00:00:00Z"},
            "updated_at": {"S": "2025-01-01T00:00:00Z"},
        },
    )


def test_list_accounts_through_gateway_authorizer_and_handler_reads_the_table(
    local_stack: LocalStack,
) -> None:
    # Given an account of tenant-a in the Accounts table the template created, and one of tenant-b
    _put_account(local_stack, "tenant-a", "open-a-1", "Alice")
    _put_account(local_stack, "tenant-b", "open-b-1", "Bob")
    token = local_stack.dev_token("tenant-a", "user-1")
    # When tenant-a lists its accounts through the gateway
    response = requests.get(
        f"{local_stack.gateway_url}/v1/accounts", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    # Then the authorizer let it through and the handler answered from the table, tenant-scoped
    assert response.status_code == 200, response.text
    open_ids = [a["open_id"] for a in response.json()["accounts"]]
    assert open_ids == ["open-a-1"]
    assert "access_token_enc" not in response.text
    assert response.headers["apigw-requestid"]


def test_missing_token_is_401_like_api_gateway(local_stack: LocalStack) -> None:
    response = requests.get(f"{local_stack.gateway_url}/v1/accounts", timeout=30)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_bad_token_is_403_like_api_gateway(local_stack: LocalStack) -> None:
    # Given a well-formed token signed with another key
    token = jwt.encode(
        {"sub": "u", "tenant_id": "tenant-a", "aud": "tiktok-publisher", "exp": int(time.time()) + 60},
        "not-the-local-secret-not-the-local-secret",
        algorithm="HS256",
    )
    response = requests.get(
        f"{local_stack.gateway_url}/v1/accounts", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}


def test_unknown_route_is_404_and_unauthenticated_routes_skip_the_authorizer(local_stack: LocalStack) -> None:
    assert requests.post(f"{local_stack.gateway_url}/v1/nothing-here", timeout=30).status_code == 404
    assert requests.post(f"{local_stack.gateway_url}/v1/nothing-here", timeout=30).json() == {
        "message": "Not Found"
    }
    # The console (GET / and GET /{proxy+}) and the OpenAPI document need no token.
    assert requests.get(f"{local_stack.gateway_url}/v1/openapi.json", timeout=30).status_code == 200


def test_resources_come_from_the_template(local_stack: LocalStack) -> None:
    # Given the template's tables
    sam = load_sam_template(ROOT / "template.yaml")
    tables = {k: r for k, r in sam["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"}
    dynamodb = local_stack.client("dynamodb")
    for logical, resource in tables.items():
        # Then each exists on moto with the template's keys and indexes
        described = dynamodb.describe_table(TableName=local_stack.resources[logical])["Table"]
        assert described["KeySchema"] == resource["Properties"]["KeySchema"]
        expected = sorted(i["IndexName"] for i in resource["Properties"].get("GlobalSecondaryIndexes", []))
        assert sorted(i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])) == expected
    # And the queue's redrive policy points at the DLQ, the bucket exists, the secret holds the local values
    sqs = local_stack.client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=local_stack.resources["PublishQueue"], AttributeNames=["All"])
    redrive = json.loads(attrs["Attributes"]["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(
        local_stack.resources["PublishDeadLetterQueue"].rsplit("/", 1)[-1]
    )
    local_stack.client("s3").head_bucket(Bucket=local_stack.resources["MediaBucket"])
    secret = json.loads(
        local_stack.client("secretsmanager").get_secret_value(SecretId=local_stack.app_secret_id)[
            "SecretString"
        ]
    )
    assert secret["client_key"] == "sbawlocaldevkey"
    # Issue 11: the signing keys are secrets of their own, generated at provisioning as CloudFormation does.
    sm = local_stack.client("secretsmanager")
    keys = {
        logical: sm.get_secret_value(SecretId=local_stack.resources[logical])["SecretString"]
        for logical in ("JwtSecret", "StateSigningSecret", "UploadSigningSecret")
    }
    assert keys["JwtSecret"] == local_stack.jwt_secret
    assert all(len(k) >= 32 for k in keys.values())
    assert len(set(keys.values())) == 3
    alarms = local_stack.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert {a["MetricName"] for a in alarms} >= {
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
    }


def test_function_environments_resolve_like_cloudformation(local_stack: LocalStack) -> None:
    lam = local_stack.client("lambda")
    for logical, env in local_stack.function_envs.items():
        # Every contract variable is set, pointing at moto and the emulator
        assert all(env.get(name) for name in CONTRACT_ENV), logical
        assert env["AWS_ENDPOINT_URL"] == local_stack.moto_url
        assert env["TIKTOK_API_BASE"] == local_stack.tiktok_api_base
        assert env["OAUTH_REDIRECT_URI"] == f"{local_stack.gateway_url}/v1/oauth/tiktok/callback"
        assert local_stack.gateway_url in env["RETURN_TO_ALLOWED_ORIGINS"].split(",")
        # and the template's values agree with what moto's CloudFormation resolved for the same function
        resolved = lam.get_function_configuration(FunctionName=local_stack.resources[logical])
        for name, value in resolved["Environment"]["Variables"].items():
            if name not in local_stack.local_overrides():
                # str(): Lambda's variables are strings; moto hands a Number parameter (DataRetentionDays)
                # back as an int.
                assert env[name] == str(value), (logical, name)


def test_emulator_is_up_and_configured_for_the_gateway(local_stack: LocalStack) -> None:
    assert local_stack.emulator_url
    response = requests.get(
        f"{local_stack.emulator_url}/v2/auth/authorize/",
        params={
            "client_key": "sbawlocaldevkey",
            "scope": "user.info.basic",
            "response_type": "code",
            "redirect_uri": f"{local_stack.gateway_url}/v1/oauth/tiktok/callback",
            "state": "s",
            "code_challenge": "0" * 64,
            "code_challenge_method": "S256",
        },
        timeout=30,
    )
    assert response.status_code == 200

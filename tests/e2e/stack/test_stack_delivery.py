"""What the local stack delivers, checked with probe handlers against the real samples in events/.

Gateway requests (payload 2.0, authorizer, response mapping), SQS (batch, ReportBatchItemFailures),
S3 notifications under uploads/, schedules, the admin endpoints.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from jwt.warnings import InsecureKeyLengthWarning

from local_stack import LocalStack

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stack")]
EVENTS = Path(__file__).resolve().parents[3] / "events"
ALLOW = {"Authorization": "Bearer allow"}


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


# Maps whose keys depend on the request (header names, parameters, authorizer context), not on the format.
OPEN_MAPS = {"headers", "lambda", "queryStringParameters", "pathParameters", "messageAttributes"}


def shape(value: Any) -> Any:
    """The structure of a JSON value: dict keys (recursively), list of first item's shape, leaf types."""
    if isinstance(value, dict):
        return {k: "map" if k in OPEN_MAPS else shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def assert_same_shape(actual: Any, expected: Any, ignore: tuple[str, ...] = ()) -> None:
    a, e = shape(actual), shape(expected)
    for key in ignore:
        a.pop(key, None)
        e.pop(key, None)
    assert a == e


def _echo(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return response.json()


def test_http_event_has_the_payload_2_0_shape_of_the_sample(probe_stack: LocalStack) -> None:
    # Given the sample GET /v1/posts/{post_id} event
    expected = sample("apigw_http_get_post.json")
    # When the same request goes through the gateway
    echoed = _echo(
        requests.get(
            f"{probe_stack.gateway_url}/v1/posts/01JBXG7Y0Z5M4Q2R8T6V9W3K1N",
            headers={**ALLOW, "Accept": "application/json", "User-Agent": "curl/8.5.0"},
            timeout=30,
        )
    )
    event = echoed["event"]
    # Then the handler got an event shaped like API Gateway's, routed and authorized like it
    assert_same_shape(event, expected)
    assert event["routeKey"] == "GET /v1/posts/{post_id}"
    assert event["pathParameters"] == {"post_id": "01JBXG7Y0Z5M4Q2R8T6V9W3K1N"}
    assert event["requestContext"]["authorizer"]["lambda"]["tenant_id"] == "probe-tenant"
    assert event["requestContext"]["stage"] == "$default"
    assert event["headers"]["authorization"] == "Bearer allow"
    assert echoed["context"]["function_name"] == probe_stack.resources["PublishFunction"]
    assert echoed["context"]["env"]["AWS_ENDPOINT_URL"] == probe_stack.moto_url
    assert 0 < echoed["context"]["remaining_ms"] <= 20_000


def test_authorizer_gets_the_request_authorizer_event(probe_stack: LocalStack) -> None:
    event = _echo(requests.get(f"{probe_stack.gateway_url}/v1/accounts", headers=ALLOW, timeout=30))["event"]
    context = event["requestContext"]["authorizer"]["lambda"]
    expected = sample("apigw_http_authorizer_request.json")
    assert (context["type"], context["version"], context["route_key"]) == (
        "REQUEST",
        "2.0",
        "GET /v1/accounts",
    )
    assert context["route_arn"].endswith("/$default/GET/v1/accounts")
    assert context["route_arn"].split(":")[:5] == expected["routeArn"].split(":")[:5]


def test_query_cookies_and_multiple_headers_are_folded_like_api_gateway(probe_stack: LocalStack) -> None:
    response = requests.get(
        f"{probe_stack.gateway_url}/v1/posts?limit=5&status=a&status=b",
        headers={**ALLOW, "Cookie": "session=abc; theme=dark"},
        timeout=30,
    )
    event = _echo(response)["event"]
    assert event["rawQueryString"] == "limit=5&status=a&status=b"
    assert event["queryStringParameters"] == {"limit": "5", "status": "a,b"}
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert "cookie" not in event["headers"]
    assert "pathParameters" not in event
    # And the handler's cookies and headers come back as HTTP
    assert response.headers["x-probe"] == "yes"
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]


def test_bodies_text_and_binary(probe_stack: LocalStack) -> None:
    body = sample("apigw_http_create_post.json")["body"]
    event = _echo(
        requests.post(
            f"{probe_stack.gateway_url}/v1/posts",
            data=body,
            headers={**ALLOW, "Content-Type": "application/json", "Idempotency-Key": "k-1"},
            timeout=30,
        )
    )["event"]
    assert_same_shape(event, sample("apigw_http_create_post.json"))
    assert (event["body"], event["isBase64Encoded"]) == (body, False)
    blob = bytes(range(256))
    event = _echo(
        requests.post(
            f"{probe_stack.gateway_url}/v1/uploads",
            data=blob,
            headers={**ALLOW, "Content-Type": "application/octet-stream"},
            timeout=30,
        )
    )["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == blob


def test_webhook_sample_reaches_its_function_without_authorizer(probe_stack: LocalStack) -> None:
    expected = sample("apigw_http_webhook_tiktok.json")
    response = requests.post(
        f"{probe_stack.gateway_url}/v1/webhooks/tiktok",
        data=expected["body"],
        headers={
            "Content-Type": "application/json",
            "TikTok-Signature": expected["headers"]["tiktok-signature"],
        },
        timeout=30,
    )
    event = _echo(response)["event"]
    assert_same_shape(event, expected)
    assert "authorizer" not in event["requestContext"]
    assert event["body"] == expected["body"]  # the raw body, byte for byte, for the signature
    assert event["headers"]["tiktok-signature"] == expected["headers"]["tiktok-signature"]


def test_authorizer_rejections_and_errors(probe_stack: LocalStack) -> None:
    url = f"{probe_stack.gateway_url}/v1/accounts"
    missing = requests.get(url, timeout=30)
    denied = requests.get(url, headers={"Authorization": "Bearer deny"}, timeout=30)
    broken = requests.get(url, headers={"Authorization": "Bearer boom"}, timeout=30)
    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})
    assert (denied.status_code, denied.json()) == (403, {"message": "Forbidden"})
    assert (broken.status_code, broken.json()) == (500, {"message": "Internal Server Error"})


def test_handler_error_is_500_and_the_environment_survives(probe_stack: LocalStack) -> None:
    url = f"{probe_stack.gateway_url}/v1/accounts"
    first = _echo(requests.get(f"{url}/x", headers=ALLOW, timeout=30))["context"]["pid"]
    failed = requests.get(f"{url}/raise", headers=ALLOW, timeout=30)
    assert (failed.status_code, failed.json()) == (500, {"message": "Internal Server Error"})
    again = _echo(requests.get(f"{url}/x", headers=ALLOW, timeout=30))["context"]["pid"]
    assert again == first  # same warm environment


def test_bare_result_and_unknown_routes(probe_stack: LocalStack) -> None:
    bare = requests.get(f"{probe_stack.gateway_url}/v1/accounts/bare", headers=ALLOW, timeout=30)
    assert (bare.status_code, bare.json(), bare.headers["content-type"]) == (
        200,
        {"bare": True},
        "application/json",
    )
    for method, path in (("POST", "/v1/accounts"), ("PUT", "/v1/posts"), ("DELETE", "/v1/nothing")):
        response = requests.request(method, f"{probe_stack.gateway_url}{path}", headers=ALLOW, timeout=30)
        assert (response.status_code, response.json()) == (404, {"message": "Not Found"})
    # GET /{proxy+} (the console) takes any other GET, as in API Gateway, without a token
    event = _echo(requests.get(f"{probe_stack.gateway_url}/assets/app.js", timeout=30))["event"]
    assert (event["routeKey"], event["pathParameters"]) == ("GET /{proxy+}", {"proxy": "assets/app.js"})


def test_payload_over_10_mb_is_413(probe_stack: LocalStack) -> None:
    response = requests.post(
        f"{probe_stack.gateway_url}/v1/uploads",
        data=b"x" * (10 * 1024 * 1024 + 1),
        headers={**ALLOW, "Content-Type": "application/octet-stream"},
        timeout=60,
    )
    assert response.status_code == 413


def test_cors_preflight_answered_by_the_gateway(probe_stack: LocalStack) -> None:
    response = requests.options(
        f"{probe_stack.gateway_url}/v1/posts",
        headers={"Origin": probe_stack.gateway_url, "Access-Control-Request-Method": "POST"},
        timeout=30,
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == probe_stack.gateway_url
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_sqs_messages_reach_the_worker_with_the_sample_shape(probe_stack: LocalStack) -> None:
    # Given the sample job body sent to the publish queue
    expected = sample("sqs_publish_job.json")
    body = json.dumps({**json.loads(expected["Records"][0]["body"]), "post_id": str(uuid.uuid4())})
    probe_stack.client("sqs").send_message(
        QueueUrl=probe_stack.resources["PublishQueue"],
        MessageBody=body,
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "start"}},
    )
    # When the event source mapping delivers it
    delivery = probe_stack.deliveries.wait_for(
        lambda d: d.source == "sqs" and any(r["body"] == body for r in d.event["Records"]), timeout=30
    )
    # Then the worker got the Lambda SQS event
    record = next(r for r in delivery.event["Records"] if r["body"] == body)
    assert delivery.function == "PublishWorkerFunction"
    assert_same_shape(
        {k: v for k, v in record.items() if k != "md5OfMessageAttributes"}, expected["Records"][0]
    )
    assert record["messageAttributes"]["kind"]["stringValue"] == "start"
    assert record["eventSourceARN"].endswith(probe_stack.resources["PublishQueue"].rsplit("/", 1)[-1])
    assert record["attributes"]["ApproximateReceiveCount"] == "1"


def test_sqs_partial_batch_failure_keeps_only_the_failed_message(probe_stack: LocalStack) -> None:
    sqs = probe_stack.client("sqs")
    queue = probe_stack.resources["PublishQueue"]
    tag = uuid.uuid4().hex
    ok_body, fail_body = f"ok-{tag}", f"fail-{tag}"
    sqs.send_message_batch(
        QueueUrl=queue, Entries=[{"Id": "1", "MessageBody": ok_body}, {"Id": "2", "MessageBody": fail_body}]
    )
    for body in (ok_body, fail_body):
        probe_stack.deliveries.wait_for(
            lambda d, b=body: d.source == "sqs" and any(r["body"] == b for r in d.event["Records"]),
            timeout=30,
        )
    # The success was deleted; the reported failure waits for its visibility timeout (then the DLQ)
    deadline = time.monotonic() + 10
    while True:
        attrs = sqs.get_queue_attributes(
            QueueUrl=queue,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        remaining = int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )
        if remaining == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert remaining == 1


def test_s3_uploads_notify_s3_upload_with_the_sample_shape(probe_stack: LocalStack) -> None:
    s3 = probe_stack.client("s3")
    bucket = probe_stack.resources["MediaBucket"]
    tag = uuid.uuid4().hex
    outside, inside = f"elsewhere/{tag}.mp4", f"uploads/demo-tenant/{tag}/my video.mp4"
    # Given an object outside uploads/ and then one inside
    s3.put_object(Bucket=bucket, Key=outside, Body=b"not watched")
    s3.put_object(Bucket=bucket, Key=inside, Body=b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    # Then only the one under uploads/ is delivered, in S3's event shape
    delivery = probe_stack.deliveries.wait_for(
        # keys arrive URL-encoded, as S3 sends them
        lambda d: (
            d.source == "s3" and d.event["Records"][0]["s3"]["object"]["key"] == inside.replace(" ", "+")
        ),
        timeout=30,
    )
    assert delivery.function == "S3UploadFunction"
    record = delivery.event["Records"][0]
    expected = sample("s3_put_upload.json")["Records"][0]
    assert_same_shape(record, expected)
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["size"] == 112
    assert not [
        d for d in probe_stack.deliveries.items() if d.source == "s3" and outside in json.dumps(d.event)
    ]


@pytest.mark.parametrize(
    ("name", "sample_file"),
    [
        ("RefreshSchedule", "scheduled_refresh_tokens.json"),
        ("DispatchSchedule", "scheduled_dispatch_posts.json"),
        ("MetricsSchedule", "scheduled_metrics_snapshots.json"),
    ],
)
def test_schedules_fire_on_demand_with_the_scheduled_event(
    probe_stack: LocalStack, name: str, sample_file: str
) -> None:
    response = requests.post(f"{probe_stack.gateway_url}/_local/schedule/{name}", timeout=30)
    assert response.status_code == 200
    received = response.json()["payload"]["received"]
    expected = sample(sample_file)
    assert_same_shape(received, expected)
    assert received["detail-type"] == "Scheduled Event"
    assert received["resources"] == expected["resources"]


def test_admin_invoke_feeds_a_sample_event_to_a_function(probe_stack: LocalStack) -> None:
    event = sample("apigw_http_authorizer_request.json")
    response = requests.post(
        f"{probe_stack.gateway_url}/_local/invoke/AuthorizerFunction", json=event, timeout=30
    )
    assert response.json()["payload"] == {"isAuthorized": False}
    event["identitySource"] = ["Bearer boom"]
    failed = requests.post(
        f"{probe_stack.gateway_url}/_local/invoke/authorizer", json=event, timeout=30
    ).json()
    assert failed["functionError"] == "Unhandled"
    assert failed["error"]["errorType"] == "RuntimeError"
    missing = requests.post(f"{probe_stack.gateway_url}/_local/invoke/NoSuchFunction", json={}, timeout=30)
    assert missing.status_code == 404


def test_admin_stack_summary_and_dev_token(probe_stack: LocalStack) -> None:
    summary = requests.get(f"{probe_stack.gateway_url}/_local/stack", timeout=30).json()
    assert summary["moto_url"] == probe_stack.moto_url
    assert "AWS::SecretsManager::Secret" in summary["supplemented"].values()
    assert len(summary["routes"]) == 34  # 25 + the 9 /v1/webhook-endpoints routes (issue 15)
    token = requests.post(
        f"{probe_stack.gateway_url}/_local/token", json={"tenant_id": "t-9"}, timeout=30
    ).json()
    with warnings.catch_warnings():  # the contract's default local secret is 30 bytes
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        claims = jwt.decode(
            token["token"], probe_stack.jwt_secret, algorithms=["HS256"], audience="tiktok-publisher"
        )
    assert (claims["tenant_id"], claims["sub"]) == ("t-9", "demo-user")
    assert claims["exp"] - claims["iat"] == 12 * 3600

"""A tenant's API client on the local stack, and views of what the stack holds (DynamoDB, S3, the bus), for
the go-live tests: the data a deletion must remove is checked where it lives, not through the API."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from local_stack import LocalStack
from tests.media import make_mp4

TIMEOUT = 30


class Tenant:
    """One tenant of the SaaS, calling the API with its own JWT."""

    def __init__(self, stack: LocalStack, prefix: str = "gl") -> None:
        self.stack = stack
        self.id = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self.api = stack.gateway_url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {stack.dev_token(self.id, 'user-1')}"

    def connect(self, account: str) -> str:
        """Connect `account` through the emulator's consent page (auto-approved); its open_id."""
        start = self.http.get(
            f"{self.api}/v1/oauth/tiktok/start", params={"return_to": self.api + "/"}, timeout=TIMEOUT
        )
        assert start.status_code == 200, start.text
        authorize = start.json()["authorize_url"] + f"&auto_approve=1&auto_approve_user={account}"
        to_callback = requests.get(authorize, allow_redirects=False, timeout=TIMEOUT)
        # The browser that started holds the start's binding cookie (issue 11) and lands on the callback.
        back = self.http.get(to_callback.headers["Location"], allow_redirects=False, timeout=TIMEOUT)
        query = parse_qs(urlsplit(back.headers["Location"]).query)
        assert query.get("tiktok") == ["connected"], query
        return query["open_id"][0]

    def upload(self, open_id: str, data: bytes | None = None) -> str:
        """Upload a short video through a presigned PUT; its upload_id."""
        data = data or make_mp4(2, width=720, height=1280, fps=30)
        ticket = self.http.post(
            f"{self.api}/v1/uploads",
            json={"open_id": open_id, "filename": "clip.mp4", "content_type": "video/mp4", "size": len(data)},
            timeout=TIMEOUT,
        )
        assert ticket.status_code == 201, ticket.text
        body = ticket.json()
        put = requests.put(body["url"], data=data, headers=body["headers"], timeout=60)
        assert put.status_code == 200, put.text[:300]
        return str(body["upload_id"])

    def publish(self, open_id: str, upload_id: str) -> dict[str, Any]:
        answer = self.http.post(
            f"{self.api}/v1/posts",
            json={
                "open_id": open_id,
                "mode": "direct",
                "media": {"type": "video", "upload_id": upload_id},
                "post_info": {"privacy_level": "SELF_ONLY", "title": "go-live"},
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
            timeout=60,
        )
        assert answer.status_code == 202, answer.text
        return dict(answer.json())

    def wait_post(self, post_id: str, statuses: set[str], timeout: float = 90) -> dict[str, Any]:
        """Poll the post until its status is one of `statuses` (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            post = dict(self.http.get(f"{self.api}/v1/posts/{post_id}", timeout=TIMEOUT).json())
            if post.get("status") in statuses:
                return post
            assert time.monotonic() < deadline, f"post stuck in {post.get('status')}: {post}"
            time.sleep(0.3)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, f"{self.api}{path}", timeout=TIMEOUT, **kwargs)


class Holdings:
    """What the stack stores, read straight from moto (DynamoDB scans, S3 listings)."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        env = stack.function_envs["AccountsFunction"]
        self.accounts_table = env["ACCOUNTS_TABLE"]
        self.posts_table = env["POSTS_TABLE"]
        self.bucket = env["MEDIA_BUCKET"]
        self.ddb = stack.client("dynamodb")
        self.s3 = stack.client("s3")

    def _scan(self, table: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self.ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            items.extend(page["Items"])
        return items

    def accounts(self, *tenants: str) -> set[tuple[str, str, bool]]:
        """(tenant, open_id, holds tokens) of every account row of `tenants`."""
        return {
            (i["tenant_id"]["S"], i["open_id"]["S"], "access_token_enc" in i)
            for i in self._scan(self.accounts_table)
            if i["tenant_id"]["S"] in tenants
        }

    def posts(self, *tenants: str) -> set[tuple[str, str, str]]:
        """(tenant, open_id, post_id) of every post item of `tenants`."""
        return {
            (i["tenant_id"]["S"], i["open_id"]["S"], i["post_id"]["S"])
            for i in self._scan(self.posts_table)
            if i["tenant_id"]["S"] in tenants
        }

    def uploads(self, *tenants: str) -> set[str]:
        """Keys of every object under uploads/{tenant}/ of `tenants`."""
        keys: set[str] = set()
        for tenant in tenants:
            for page in self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=f"uploads/{tenant}/"
            ):
                keys.update(o["Key"] for o in page.get("Contents") or [])
        return keys


class BusTap:
    """Every event the stack emits on its bus, through a rule to an SQS queue (as a SaaS would subscribe)."""

    def __init__(self, stack: LocalStack, detail_type: str) -> None:
        self.sqs = stack.client("sqs")
        events = stack.client("events")
        bus = stack.function_envs["AccountsFunction"]["EVENT_BUS_NAME"]
        name = f"tap-{uuid.uuid4().hex[:8]}"
        self.url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(
            Name=name,
            EventBusName=bus,
            EventPattern=json.dumps({"source": ["tiktok-publisher"], "detail-type": [detail_type]}),
        )
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])

    def received(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        """Wait (bounded, long polling) until `count` events arrived; all of them."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(found) < count and time.monotonic() < deadline:
            answer = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in answer.get("Messages", []):
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return found

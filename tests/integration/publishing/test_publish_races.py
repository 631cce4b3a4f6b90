"""Races between the publish API and the rest of the system, made deterministic: two on-demand token
refreshes of one account, and an upload whose S3 event comes before its post is written."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import requests

from tests.integration.publishing.conftest import Publisher
from tests.lambdas import LambdaContext, load_function
from tests.media import make_mp4
from tests.races import RefreshGate, run_together


def _direct_video(open_id: str, upload_id: str) -> dict[str, Any]:
    return {
        "open_id": open_id,
        "mode": "direct",
        "media": {"type": "video", "upload_id": upload_id},
        "post_info": {"privacy_level": "SELF_ONLY"},
    }


def _s3_event(publisher: Publisher, key: str, *, sequencer: str) -> dict[str, Any]:
    """An ObjectCreated notification for `key`, shaped like events/s3_put_upload.json."""
    aws = publisher.env.aws
    head = aws.s3.head_object(Bucket=aws.bucket, Key=key)
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventName": "ObjectCreated:Put",
                "responseElements": {"x-amz-request-id": uuid.uuid4().hex},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": aws.bucket, "arn": f"arn:aws:s3:::{aws.bucket}"},
                    "object": {
                        "key": key,
                        "size": head["ContentLength"],
                        "eTag": head["ETag"].strip('"'),
                        "sequencer": sequencer,
                    },
                },
            }
        ]
    }


def _s3_upload(event: dict[str, Any]) -> list[str]:
    """Deliver an S3 notification to the s3_upload function; its outcome per record."""
    answer = load_function("s3_upload").lambda_handler(event, LambdaContext(function_name="s3_upload"))
    return list(answer["outcomes"])


def test_concurrent_on_demand_refreshes_from_the_publish_api_keep_the_account_active(
    publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tiktok_publisher.adapters.accounts_table import AccountRepository
    from tiktok_publisher.adapters.dynamodb import AccountModel

    # Given an account whose access token expires within the on-demand margin, and two uploaded videos
    open_id = publisher.connect("creator_private")
    tickets = [publisher.upload(make_mp4(duration_s=2.0), open_id) for _ in range(2)]
    _, old_refresh = AccountRepository().get_tokens(publisher.tenant, open_id)
    AccountModel(tenant_id=publisher.tenant, open_id=open_id).update(
        actions=[AccountModel.access_expires_at.set(int(time.time()) + 120)]
    )
    client = publisher.ports.service.client
    gate = RefreshGate(client.refresh)
    monkeypatch.setattr(client, "refresh", gate.refresh)

    # When two direct posts (each reading fresh creator_info) refresh it at the same time
    answers = run_together(
        [lambda t=t: publisher.publish(_direct_video(open_id, t["upload_id"])) for t in tickets], gate
    )

    # Then both are accepted, one refresh reached TikTok (strict rotation), the account stays active
    assert [getattr(a, "status", a) for a in answers] == [202, 202], answers
    assert gate.arrived == 1
    account = AccountRepository().get(publisher.tenant, open_id)
    assert (account.status, account.last_error) == ("active", None)
    _, stored_refresh = AccountRepository().get_tokens(publisher.tenant, open_id)
    assert stored_refresh != old_refresh
    # and the worker publishes both with the account's tokens
    assert publisher.run_worker() == 0
    assert [publisher.post(a.body["post_id"])["status"] for a in answers] == ["published", "published"]
    assert AccountRepository().get(publisher.tenant, open_id).status == "active"
    assert publisher.env.client().refresh(stored_refresh).open_id == open_id


def test_upload_landing_just_before_its_post_is_written_is_queued_exactly_once(
    publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tiktok_publisher.entrypoints.s3_upload import trigger as get_trigger

    open_id = publisher.connect("creator_private")
    video = make_mp4(duration_s=2.0)
    ticket = publisher.api(
        "POST",
        "/v1/uploads",
        body={"open_id": open_id, "filename": "clip.mp4", "content_type": "video/mp4", "size": len(video)},
    ).body
    monkeypatch.setattr(get_trigger(), "retry_delays", ())  # "short retries": none, to keep the test quick

    # The race: the API looked for the file (not there yet), then the file lands and its S3 event finds
    # no waiting post, then the API writes the awaiting_upload post.
    posts = publisher.ports.service.posts
    real_create = posts.create
    events: list[dict[str, Any]] = []

    def upload_lands_first(post: Any, **kwargs: Any) -> Any:
        if not events:
            put = requests.put(ticket["url"], data=video, headers=ticket["headers"], timeout=30)
            assert put.status_code == 200, put.text[:300]
            events.append(_s3_event(publisher, ticket["s3_key"], sequencer="00A1"))
            assert _s3_upload(events[0]) == ["unmatched"]
        return real_create(post, **kwargs)

    monkeypatch.setattr(posts, "create", upload_lands_first)

    answer = publisher.publish(_direct_video(open_id, ticket["upload_id"]))

    # Then the API itself found the upload and queued the post
    assert answer.status == 202, answer.body
    assert events, "the upload did not land during the request"
    post_id = answer.body["post_id"]
    assert answer.body["status"] == "queued"
    # And S3 delivering the event again (at least once) enqueues nothing more
    assert _s3_upload(events[0]) in (["duplicate"], ["ignored"])
    batch = publisher.messages()
    assert [json.loads(m["Body"])["post_id"] for m in batch] == [post_id]
    # And the one job publishes the video
    assert publisher.deliver(batch) == set()
    assert publisher.run_worker() == 0
    assert publisher.post(post_id)["status"] == "published"
    assert len(publisher.tiktok_posts()) == 1

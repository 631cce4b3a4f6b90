"""The S3 upload trigger and the scheduled-post dispatcher against moto (template tables, bucket, queue)."""

from __future__ import annotations

import time
from typing import Any

from tests.integration.lifecycle.conftest import connect, make_post, queue_messages
from tests.media import make_mp4
from tiktok_publisher.adapters.posts_table import PostRepository
from tiktok_publisher.domain.schedule import schedule_shard_for
from tiktok_publisher.entrypoints.dispatch import dispatcher as build_dispatcher
from tiktok_publisher.entrypoints.s3_upload import handle as handle_s3_event
from tiktok_publisher.entrypoints.s3_upload import trigger as get_trigger


def put_upload(
    aws: Any, key: str, body: bytes, *, declared: int | None = None, content_type: str = "video/mp4"
) -> None:
    aws.s3.put_object(
        Bucket=aws.bucket,
        Key=key,
        Body=body,
        ContentType=content_type,
        Metadata={"declared-size": str(declared if declared is not None else len(body))},
    )


def s3_event(aws: Any, key: str, *, sequencer: str = "0055AED6DCD90281E5") -> dict[str, Any]:
    from urllib.parse import quote_plus

    head = aws.s3.head_object(Bucket=aws.bucket, Key=key)
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "configurationId": "uploads",
                    "bucket": {"name": aws.bucket, "arn": f"arn:aws:s3:::{aws.bucket}"},
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": head["ContentLength"],
                        "eTag": head["ETag"].strip('"'),
                        "sequencer": sequencer,
                    },
                },
            }
        ]
    }


def waiting_post(env: Any, tenant: str = "tenant-a", **fields: Any) -> tuple[Any, str]:
    account = connect(env, tenant)
    upload_id = "01JD0000000000000000000000-0123456789abcdef01234567"
    post = make_post(
        tenant, account.open_id, status="awaiting_upload", upload_id=upload_id,
        source={"kind": "upload", "upload_id": upload_id, "awaiting": True}, **fields,
    )  # fmt: skip
    return post, f"uploads/{tenant}/{account.open_id}/{upload_id}/my clip.mp4"


def test_upload_matches_its_waiting_post_and_enqueues_it_once(tiktok_env: Any) -> None:
    aws = tiktok_env.aws
    post, key = waiting_post(tiktok_env)
    video = make_mp4(duration_s=4)
    put_upload(aws, key, video)
    event = s3_event(aws, key)

    assert handle_s3_event(event) == ["queued"]
    assert handle_s3_event(event) == ["duplicate"]  # S3 delivers at least once

    stored = PostRepository().get(post.tenant_id, post.post_id)
    assert stored.status == "queued"
    assert stored.source["s3_key"] == key
    assert stored.source["size"] == len(video)
    assert stored.source["probe"]["container"] == "mp4"
    assert queue_messages(aws) == [
        {"tenant_id": post.tenant_id, "post_id": post.post_id, "attempt": 0, "poll": 0}
    ]


def test_upload_not_matching_what_was_declared_fails_the_post(tiktok_env: Any) -> None:
    aws = tiktok_env.aws
    post, key = waiting_post(tiktok_env)
    video = make_mp4()
    put_upload(aws, key, video, declared=len(video) + 1)
    aws_events = aws.published_events()

    assert handle_s3_event(s3_event(aws, key)) == ["rejected"]

    stored = PostRepository().get(post.tenant_id, post.post_id)
    assert stored.status == "failed"
    assert stored.fail_reason is not None
    assert stored.fail_reason["code"] == "size_mismatch"
    assert queue_messages(aws) == []
    failed = [e for e in aws.published_events() if e["detail-type"] == "Post Failed"]
    assert [e["detail"]["post_id"] for e in failed] == [post.post_id]
    assert aws_events == [] or all(e["detail-type"] != "Post Failed" for e in aws_events)


def test_unreadable_media_fails_the_post_with_what_to_do(tiktok_env: Any) -> None:
    aws = tiktok_env.aws
    post, key = waiting_post(tiktok_env)
    put_upload(aws, key, b"this is not a video at all" * 10)
    assert handle_s3_event(s3_event(aws, key)) == ["rejected"]
    stored = PostRepository().get(post.tenant_id, post.post_id)
    assert stored.status == "failed"
    assert stored.fail_reason is not None
    assert stored.fail_reason["message"]


def test_object_nobody_waits_for_is_left_alone(tiktok_env: Any) -> None:
    aws = tiktok_env.aws
    account = connect(tiktok_env, "tenant-a")
    key = f"uploads/tenant-a/{account.open_id}/01JD0000000000000000000099-aaaaaaaaaaaaaaaaaaaaaaaa/x.mp4"
    put_upload(aws, key, make_mp4())
    trigger = get_trigger()
    trigger.retry_delays = (0.01,)
    assert handle_s3_event(s3_event(aws, key)) == ["unmatched"]
    put_upload(aws, "uploads/elsewhere.mp4", make_mp4())
    assert handle_s3_event(s3_event(aws, "uploads/elsewhere.mp4")) == ["unmatched"]
    assert aws.s3.head_object(Bucket=aws.bucket, Key=key)["ContentLength"] > 0  # not deleted
    assert queue_messages(aws) == []


def test_another_tenants_upload_path_does_not_match(tiktok_env: Any) -> None:
    aws = tiktok_env.aws
    post, key = waiting_post(tiktok_env)
    forged = key.replace("uploads/tenant-a/", "uploads/tenant-b/")
    put_upload(aws, forged, make_mp4())
    trigger = get_trigger()
    trigger.retry_delays = ()
    assert handle_s3_event(s3_event(aws, forged)) == ["unmatched"]
    assert PostRepository().get(post.tenant_id, post.post_id).status == "awaiting_upload"


def test_upload_for_a_post_scheduled_later_waits_in_the_schedule(tiktok_env: Any) -> None:
    aws = tiktok_env.aws
    publish_at = int(time.time()) + 3600
    post, key = waiting_post(tiktok_env, publish_at=publish_at)
    put_upload(aws, key, make_mp4())
    assert handle_s3_event(s3_event(aws, key)) == ["scheduled"]
    stored = PostRepository().get(post.tenant_id, post.post_id)
    assert stored.status == "scheduled"
    assert queue_messages(aws) == []
    dispatcher = build_dispatcher()
    assert dispatcher.dispatch_due(now=publish_at - 1)["dispatched"] == 0
    assert dispatcher.dispatch_due(now=publish_at)["dispatched"] == 1
    assert [m["post_id"] for m in queue_messages(aws)] == [post.post_id]


def scheduled_post(env: Any, publish_at: int, tenant: str = "tenant-a") -> Any:
    account = connect(env, tenant)
    post = make_post(tenant, account.open_id, status="scheduled", publish_at=publish_at)
    return PostRepository().update(
        post, now=time.time(), set_fields={"schedule_shard": schedule_shard_for(tenant, post.post_id)}
    )


def test_scheduled_post_is_dispatched_after_its_time_not_before_and_once(tiktok_env: Any) -> None:
    aws = tiktok_env.aws
    publish_at = int(time.time()) + 60
    post = scheduled_post(tiktok_env, publish_at)
    dispatcher = build_dispatcher()

    early = dispatcher.dispatch_due(now=publish_at - 1)
    assert (early["read"], early["dispatched"]) == (0, 0)
    assert PostRepository().get(post.tenant_id, post.post_id).status == "scheduled"
    assert queue_messages(aws) == []

    due = dispatcher.dispatch_due(now=publish_at)
    assert due["dispatched"] == 1
    stored = PostRepository().get(post.tenant_id, post.post_id)
    assert stored.status == "queued"
    assert [m["post_id"] for m in queue_messages(aws)] == [post.post_id]

    later = dispatcher.dispatch_due(now=publish_at + 120)  # out of the index: nothing twice
    assert (later["read"], later["dispatched"], later["resent"]) == (0, 0, 0)
    assert queue_messages(aws) == []


def test_cancelled_scheduled_post_is_never_dispatched(tiktok_env: Any) -> None:
    aws = tiktok_env.aws
    publish_at = int(time.time()) + 60
    post = scheduled_post(tiktok_env, publish_at)
    cancelled = PostRepository().update(
        post, now=time.time(), status="cancelled", expect_status={"scheduled"}
    )
    assert cancelled is not None

    report = build_dispatcher().dispatch_due(now=publish_at + 60)
    assert (report["dispatched"], report["unindexed"]) == (0, 1)
    assert PostRepository().get(post.tenant_id, post.post_id).status == "cancelled"
    assert queue_messages(aws) == []


def test_a_run_that_stopped_after_queueing_is_repaired_by_the_next(tiktok_env: Any) -> None:
    aws = tiktok_env.aws
    publish_at = int(time.time())
    post = scheduled_post(tiktok_env, publish_at)
    # Step 1 happened, the run died before sending the job: queued, still in the index.
    PostRepository().update(post, now=time.time(), status="queued", expect_status={"scheduled"})

    report = build_dispatcher().dispatch_due(now=publish_at + 60)
    assert report["resent"] == 1
    assert [m["post_id"] for m in queue_messages(aws)] == [post.post_id]

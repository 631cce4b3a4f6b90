"""The stack's emulator verifies moto's origin, so PULL_FROM_URL from the stack's bucket works locally."""

from __future__ import annotations

import time

import pytest
import requests

from local_stack import LocalStack
from tiktok_emulator.testing import fake_mp4

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stack")]


def test_emulator_pulls_a_presigned_get_from_the_stacks_moto(local_stack: LocalStack) -> None:
    emulator = local_stack.emulator_url
    assert emulator is not None
    config = requests.get(f"{emulator}/_admin/config", timeout=30).json()
    assert local_stack.moto_url + "/" in config["verified_url_prefixes"]
    s3 = local_stack.client("s3")
    bucket = local_stack.function_envs["PublishWorkerFunction"]["MEDIA_BUCKET"]
    video = fake_mp4(1024 * 1024)
    s3.put_object(Bucket=bucket, Key="e2e/pull-check.mp4", Body=video)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "e2e/pull-check.mp4"})
    assert url.startswith(local_stack.moto_url + "/")
    # creator_nocomments: an account no other stack test posts drafts for (drafts are held until finished).
    token = requests.post(
        f"{emulator}/_admin/tokens",
        json={"account": "creator_nocomments", "scopes": ["video.upload"]},
        timeout=30,
    ).json()["access_token"]
    answer = requests.post(
        f"{emulator}/v2/post/publish/inbox/video/init/",
        json={"source_info": {"source": "PULL_FROM_URL", "video_url": url}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    assert answer["error"]["code"] == "ok", answer
    publish_id = answer["data"]["publish_id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        post = requests.get(f"{emulator}/_admin/posts/{publish_id}", timeout=30).json()
        if post["transfer_done_at"] or post["status"] == "FAILED":
            break
        time.sleep(0.1)
    assert post["status"] != "FAILED", post
    assert requests.get(f"{emulator}/_admin/posts/{publish_id}/bytes", timeout=30).content == video

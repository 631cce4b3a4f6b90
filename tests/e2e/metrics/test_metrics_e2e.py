"""After the post, through the local stack as `make run ARGS="--param AppAudited=true --param
MetricsEnabled=true"` runs it: gateway and authorizer, the functions in their own processes, moto's
server, the emulator over HTTP. A published post carries its TikTok video id as a string, GET .../metrics
answers the emulator's counts, and a MetricsSchedule run adds history within TikTok's limits."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from local_stack import LocalStack
from tests.media import make_mp4

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stack-metrics")]
TIMEOUT = 30
COUNTS = ("view_count", "like_count", "comment_count", "share_count")


class User:
    def __init__(self, stack: LocalStack, tenant: str) -> None:
        self.stack = stack
        self.api = stack.gateway_url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {stack.dev_token(tenant, 'user-1')}"

    def connect(self, account: str) -> str:
        start = self.http.get(
            f"{self.api}/v1/oauth/tiktok/start", params={"return_to": self.api + "/"}, timeout=30
        )
        assert start.status_code == 200, start.text
        url = start.json()["authorize_url"]
        assert "video.list" in parse_qs(urlsplit(url).query)["scope"][0]  # asked for when metrics are on
        to_callback = requests.get(
            url + f"&auto_approve=1&auto_approve_user={account}", allow_redirects=False, timeout=30
        )
        # The browser that started holds the start's binding cookie (issue 11) and lands on the callback.
        back = self.http.get(to_callback.headers["Location"], allow_redirects=False, timeout=30)
        query = parse_qs(urlsplit(back.headers["Location"]).query)
        assert query.get("tiktok") == ["connected"], query
        return query["open_id"][0]

    def publish_public(self, open_id: str, title: str) -> dict[str, Any]:
        data = make_mp4(duration_s=3.0)
        ticket = self.http.post(
            f"{self.api}/v1/uploads",
            json={"open_id": open_id, "filename": "v.mp4", "content_type": "video/mp4", "size": len(data)},
            timeout=TIMEOUT,
        ).json()
        requests.put(ticket["url"], data=data, headers=ticket["headers"], timeout=TIMEOUT).raise_for_status()
        created = self.http.post(
            f"{self.api}/v1/posts",
            json={
                "open_id": open_id,
                "mode": "direct",
                "media": {"type": "video", "upload_id": ticket["upload_id"]},
                "post_info": {"privacy_level": "PUBLIC_TO_EVERYONE", "title": title},
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
            timeout=TIMEOUT,
        )
        assert created.status_code == 202, created.text
        # Published, then its public id: TikTok gives it after its review, in the status answer or with the
        # post.publish.publicly_available webhook, whichever comes first.
        deadline = time.monotonic() + 90
        while True:
            post = self.http.get(f"{self.api}/v1/posts/{created.json()['post_id']}", timeout=TIMEOUT)
            body = post.json()
            if body["status"] in {"failed", "unconfirmed"} or (
                body["status"] == "published" and body["post_ids"]
            ):
                return {"json": body, "text": post.text}
            assert time.monotonic() < deadline, post.text
            time.sleep(0.3)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.http.get(f"{self.api}{path}", params=params, timeout=TIMEOUT)


def _tiktok_videos(stack: LocalStack) -> dict[str, dict[str, int]]:
    """The emulator's public videos now (its admin API), by id as text (parsed without a float)."""
    import json

    raw = requests.get(f"{stack.emulator_url}/_admin/videos", timeout=TIMEOUT).text
    return {str(v["id"]): {c: int(v[c]) for c in COUNTS} for v in json.loads(raw, parse_int=str)}


def test_a_published_post_has_its_video_id_as_a_string_and_metrics_from_tiktok(
    metrics_stack: LocalStack,
) -> None:
    stack = metrics_stack
    requests.post(f"{stack.emulator_url}/_admin/config", json={"processing_delay": 0.2}, timeout=TIMEOUT)
    user = User(stack, f"tenant-metrics-{uuid.uuid4().hex[:6]}")
    open_id = user.connect("creator_public")

    # A public post published through the stack: its TikTok id is a 19-digit string in the API's JSON
    post = user.publish_public(open_id, "through the stack")
    assert post["json"]["status"] == "published", post["json"]
    (video_id,) = post["json"]["post_ids"]
    assert re.fullmatch(r"\d{19}", video_id)
    assert int(video_id) > 2**53
    assert f'"{video_id}"' in post["text"]
    assert video_id in _tiktok_videos(stack)

    # GET .../metrics: the emulator's counts for that video (they only grow: read before and after)
    before = _tiktok_videos(stack)[video_id]
    answer = user.get(f"/v1/posts/{post['json']['post_id']}/metrics")
    after = _tiktok_videos(stack)[video_id]
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["video_ids"] == [video_id]
    assert f'"{video_id}"' in answer.text
    assert all(before[c] <= body[c] <= after[c] for c in COUNTS)
    assert body["fresh"] is True

    stats = user.get(f"/v1/accounts/{open_id}/stats")
    assert stats.status_code == 200, stats.text
    assert stats.json()["follower_count"] > 0

    # A snapshot run: the second post (not read yet) is read, the first is not due yet; history grows. The
    # stack is shared with the console's metrics tests, whose due posts (other tenants) this run reads too.
    second = user.publish_public(open_id, "read by the schedule")
    result = stack.fire_schedule("MetricsSchedule")
    assert result.ok, result.error
    report = result.payload
    assert report["posts_read"] >= 1
    # At most one video query per post read (one per account for up to 20 posts), within TikTok's 600/min
    assert 1 <= report["tiktok_calls"]["video_query"] <= report["posts_read"]
    first = user.get(f"/v1/posts/{post['json']['post_id']}/metrics").json()
    assert first["read_at"] == body["read_at"]  # not due: the schedule did not ask TikTok about it again
    history = user.get(f"/v1/posts/{second['json']['post_id']}/metrics/history").json()
    assert len(history["points"]) == 1
    shown = user.get(f"/v1/posts/{second['json']['post_id']}").json()
    assert shown["metrics"]["videos"][0]["video_id"] == second["json"]["post_ids"][0]
    first_history = user.get(f"/v1/posts/{post['json']['post_id']}/metrics/history").json()
    assert [p["view_count"] for p in first_history["points"]] == [body["view_count"]]

    # Another run right away: nothing is due, TikTok is not asked
    again = stack.fire_schedule("MetricsSchedule").payload
    assert again["tiktok_calls"] == {}
    assert again["posts_due"] == 0

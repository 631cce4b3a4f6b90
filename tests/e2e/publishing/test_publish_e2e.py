"""Publishing as a user meets it, through the local stack: gateway + authorizer, functions in their own
processes, SQS delivered by the stack, S3 on moto's server, TikTok played by the emulator over HTTP.

Three stacks: the shared one, as `make run` starts it (PULL_FROM_URL from moto's origin, the prefix its
emulator verifies), one with the template's MediaPullMode=none (FILE_UPLOAD only), and one configured for
PULL_FROM_URL whose emulator config the tests change (verified prefixes).
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from local_stack import LocalStack
from tests.media import make_jpeg, make_mp4

pytestmark = [pytest.mark.slow]
TERMINAL = {"published", "inbox", "failed", "cancelled", "unconfirmed"}


class User:
    """A SaaS user: a bearer token, the gateway, and the emulator's admin API for checking TikTok's side."""

    def __init__(self, stack: LocalStack, tenant: str) -> None:
        self.stack = stack
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {stack.dev_token(tenant, 'user-1')}"
        self.api = stack.gateway_url
        self.emulator = str(stack.emulator_url)

    def connect(self, account: str) -> str:
        """The OAuth connect flow: start, TikTok's consent (auto-approved as `account`), callback."""
        start = self.http.get(
            f"{self.api}/v1/oauth/tiktok/start", params={"return_to": self.api + "/"}, timeout=30
        )
        assert start.status_code == 200, start.text
        authorize = start.json()["authorize_url"] + f"&auto_approve=1&auto_approve_user={account}"
        to_callback = requests.get(authorize, allow_redirects=False, timeout=30)
        assert to_callback.status_code == 302, to_callback.text[:300]
        # The browser that started (issue 11: it holds the start's binding cookie) lands on the callback.
        back = self.http.get(to_callback.headers["Location"], allow_redirects=False, timeout=30)
        assert back.status_code == 302, back.text[:300]
        query = parse_qs(urlsplit(back.headers["Location"]).query)
        assert query.get("tiktok") == ["connected"], query
        return query["open_id"][0]

    def upload(self, data: bytes, open_id: str, filename: str, content_type: str) -> dict[str, Any]:
        ticket = self.http.post(
            f"{self.api}/v1/uploads",
            json={"open_id": open_id, "filename": filename, "content_type": content_type, "size": len(data)},
            timeout=30,
        )
        assert ticket.status_code == 201, ticket.text
        body = dict(ticket.json())
        put = requests.put(body["url"], data=data, headers=body["headers"], timeout=60)
        assert put.status_code == 200, (put.text[:500], body["url"].split("?")[0])
        return body

    def publish(self, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.http.post(
            f"{self.api}/v1/posts", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=60
        )
        assert answer.status_code == 202, answer.text
        return dict(answer.json())

    def wait_terminal(self, post_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            post = self.http.get(f"{self.api}/v1/posts/{post_id}", timeout=30).json()
            if post["status"] in TERMINAL:
                return dict(post)
            if time.monotonic() > deadline:
                raise AssertionError(f"post stuck in {post['status']}: {post}")
            time.sleep(0.5)

    def tiktok(self, publish_id: str) -> dict[str, Any]:
        return dict(requests.get(f"{self.emulator}/_admin/posts/{publish_id}", timeout=30).json())

    def received(self, publish_id: str, index: int = 0) -> bytes:
        answer = requests.get(
            f"{self.emulator}/_admin/posts/{publish_id}/bytes", params={"index": index}, timeout=60
        )
        assert answer.status_code == 200, answer.text[:300]
        return answer.content

    def emulator_config(self, **patch: Any) -> None:
        answer = requests.post(f"{self.emulator}/_admin/config", json=patch, timeout=30)
        assert answer.status_code == 200, answer.text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def upload_stack() -> Iterator[LocalStack]:
    """A stack with no media pull (`make run ARGS="--param MediaPullMode=none"`): FILE_UPLOAD only."""
    with LocalStack(quiet=True, schedule_interval=0, parameter_overrides={"MediaPullMode": "none"}) as stack:
        yield stack


@pytest.fixture(scope="module")
def pull_stack() -> Iterator[LocalStack]:
    """A stack whose worker hands TikTok presigned GET URLs on the stack's own moto server."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with LocalStack(
        quiet=True,
        schedule_interval=0,
        moto_port=port,
        extra_env={"MEDIA_PULL_MODE": "s3", "MEDIA_PULL_BASE_URL": base},
    ) as stack:
        yield stack


def _quick(user: User) -> None:
    # Processing takes TikTok minutes; a fraction of a second is enough to go through every state.
    user.emulator_config(processing_delay=0.2)


@pytest.mark.xdist_group("stack-upload")
def test_direct_file_upload_and_inbox_through_the_stack(upload_stack: LocalStack) -> None:
    # Issue 12: the shared stack pulls by default now; FILE_UPLOAD has its own stack (setup change only).
    user = User(upload_stack, "tenant-e2e-upload")
    _quick(user)
    open_id = user.connect("creator_private")
    video = make_mp4(duration_s=3.0, payload_size=12_000_000)

    ticket = user.upload(video, open_id, "holiday clip.mp4", "video/mp4")
    created = user.publish(
        {
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "video", "upload_id": ticket["upload_id"]},
            "post_info": {"privacy_level": "SELF_ONLY", "title": "from the stack #e2e"},
        }
    )
    post = user.wait_terminal(created["post_id"])
    assert post["status"] == "published", post
    assert post["transfer"] == "upload"
    assert user.tiktok(post["publish_id"])["source"] == "FILE_UPLOAD"
    assert user.received(post["publish_id"]) == video

    inbox_video = make_mp4(duration_s=2.0)
    inbox_ticket = user.upload(inbox_video, open_id, "draft.mp4", "video/mp4")
    draft = user.publish(
        {
            "open_id": open_id,
            "mode": "inbox",
            "media": {"type": "video", "upload_id": inbox_ticket["upload_id"]},
        }
    )
    done = user.wait_terminal(draft["post_id"])
    assert done["status"] == "inbox", done
    assert user.received(done["publish_id"]) == inbox_video

    listed = user.http.get(f"{user.api}/v1/posts", params={"open_id": open_id}, timeout=30).json()
    assert [p["post_id"] for p in listed["posts"]] == [draft["post_id"], created["post_id"]]


@pytest.mark.xdist_group("stack")
def test_photos_and_pulled_videos_publish_out_of_the_box(local_stack: LocalStack) -> None:
    # Issue 12: the stack `make run` starts, with no flags, pulls from moto's origin (the prefix its emulator
    # verifies): a photo draft with no title, a direct photo post of a private creator and a pulled video.
    user = User(local_stack, "tenant-e2e-out-of-the-box")
    _quick(user)
    open_id = user.connect("creator_private")
    photos = [make_jpeg(1080, 1350), make_jpeg(1080, 1080)]
    tickets = [user.upload(p, open_id, f"photo-{i}.jpg", "image/jpeg") for i, p in enumerate(photos)]
    images = [{"upload_id": ticket["upload_id"]} for ticket in tickets]

    created_draft = user.publish(
        {"open_id": open_id, "mode": "inbox", "media": {"type": "photo", "images": images}}
    )
    draft = user.wait_terminal(created_draft["post_id"])
    assert draft["status"] == "inbox", draft
    at_tiktok = user.tiktok(draft["publish_id"])
    assert at_tiktok["source"] == "PULL_FROM_URL"
    assert at_tiktok["post_info"]  # never empty: TikTok refuses an empty post_info on photo drafts
    assert [user.received(draft["publish_id"], i) for i in range(2)] == photos
    # The user discards the draft in the TikTok app: the account holds one draft fewer (TikTok caps them).
    finished = requests.post(
        f"{user.emulator}/_admin/drafts/finish",
        json={"publish_id": draft["publish_id"], "outcome": "discarded"},
        timeout=30,
    )
    assert finished.status_code == 200, finished.text

    direct = user.wait_terminal(
        user.publish(
            {
                "open_id": open_id,
                "mode": "direct",
                "media": {"type": "photo", "images": images, "cover_index": 0},
                "post_info": {"privacy_level": "SELF_ONLY", "title": "out of the box"},
            }
        )["post_id"]
    )
    assert direct["status"] == "published", direct
    assert [user.received(direct["publish_id"], i) for i in range(2)] == photos

    video = make_mp4(duration_s=2.0)
    ticket = user.upload(video, open_id, "pulled.mp4", "video/mp4")
    created = user.publish(
        {
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "video", "upload_id": ticket["upload_id"]},
            "post_info": {"privacy_level": "SELF_ONLY", "title": "pulled by default"},
        }
    )
    post = user.wait_terminal(created["post_id"])
    assert (post["status"], post["transfer"]) == ("published", "pull"), post
    assert user.received(post["publish_id"]) == video


@pytest.mark.xdist_group("stack-pull")
def test_pull_from_url_video_and_photo_through_the_stack(pull_stack: LocalStack) -> None:
    user = User(pull_stack, "tenant-e2e-pull")
    _quick(user)
    user.emulator_config(verified_url_prefixes=[pull_stack.moto_url + "/"])
    open_id = user.connect("creator_private")

    video = make_mp4(duration_s=4.0)
    ticket = user.upload(video, open_id, "pulled.mp4", "video/mp4")
    created = user.publish(
        {
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "video", "upload_id": ticket["upload_id"]},
            "post_info": {"privacy_level": "SELF_ONLY", "title": "pulled"},
        }
    )
    post = user.wait_terminal(created["post_id"])
    assert post["status"] == "published", post
    assert post["transfer"] == "pull"
    assert user.tiktok(post["publish_id"])["source"] == "PULL_FROM_URL"
    assert user.received(post["publish_id"]) == video

    photos = [make_jpeg(640, 480), make_jpeg(480, 640)]
    keys = [user.upload(p, open_id, f"p{i}.jpg", "image/jpeg")["s3_key"] for i, p in enumerate(photos)]
    photo_post = user.publish(
        {
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "photo", "images": [{"s3_key": k} for k in keys], "cover_index": 1},
            "post_info": {
                "privacy_level": "SELF_ONLY",
                "title": "two photos",
                "description": "from the stack",
            },
        }
    )
    done = user.wait_terminal(photo_post["post_id"])
    assert done["status"] == "published", done
    assert [user.received(done["publish_id"], i) for i in range(2)] == photos


@pytest.mark.xdist_group("stack-pull")
def test_unverified_pull_domain_falls_back_to_upload_through_the_stack(pull_stack: LocalStack) -> None:
    user = User(pull_stack, "tenant-e2e-fallback")
    _quick(user)
    user.emulator_config(verified_url_prefixes=["https://media.example.com/"])
    open_id = user.connect("creator_private")
    video = make_mp4(duration_s=2.0)
    ticket = user.upload(video, open_id, "fallback.mp4", "video/mp4")
    created = user.publish(
        {
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "video", "upload_id": ticket["upload_id"]},
            "post_info": {"privacy_level": "SELF_ONLY"},
        }
    )
    post = user.wait_terminal(created["post_id"])
    assert post["status"] == "published", post
    assert post["transfer"] == "upload"
    assert user.received(post["publish_id"]) == video

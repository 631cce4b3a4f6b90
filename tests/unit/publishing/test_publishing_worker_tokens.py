"""The worker's status check after TikTok lost an upload (the upload step's one token-bearing call): a token
TikTok refuses early is replaced once, as for every status call; the chunk PUTs themselves carry none."""

from __future__ import annotations

from typing import Any

from tiktok_publisher.domain.errors import AccountNeedsReconnect
from tiktok_publisher.domain.posts import Post
from tiktok_publisher.domain.tiktok import PublishStatus, PublishStatusValue
from tiktok_publisher.domain.tiktok_errors import TikTokError
from tiktok_publisher.publishing.worker import PublishWorker

NOW = 1_800_000_000
REJECTED = TikTokError("access_token_invalid", "The access token is invalid.", http_status=401)


class Client:
    def __init__(self, refused: set[str]) -> None:
        self.refused = refused
        self.asked_with: list[str] = []

    def fetch_status(self, access_token: str, publish_id: str) -> PublishStatus:
        self.asked_with.append(access_token)
        if access_token in self.refused:
            raise REJECTED
        return PublishStatus(status=PublishStatusValue.PROCESSING_UPLOAD, uploaded_bytes=10)


class Tokens:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.replaced: list[str] = []

    def replace_rejected_token(self, tenant_id: str, open_id: str, rejected_token: str, *, now: int) -> str:
        self.replaced.append(rejected_token)
        if self.error is not None:
            raise self.error
        return "act.new"


class Pacer:
    """TikTok's per-token limit never reached here: every call gets its slot at once."""

    def reserve(self, tenant_id: str, open_id: str, call: str, *, now: float) -> float:
        return 0.0


def _worker(client: Client, tokens: Tokens) -> PublishWorker:
    none: Any = None
    return PublishWorker(
        posts=none,
        accounts=none,
        client=client,  # type: ignore[arg-type]
        media=none,
        queue=none,
        events=none,
        pull=none,
        refresher=tokens,  # type: ignore[arg-type]
        pacer=Pacer(),
        clock=lambda: NOW,
    )


def _post() -> Post:
    return Post(
        tenant_id="t",
        post_id="p",
        open_id="o",
        created_at="2027-01-15T08:00:00Z",
        mode="direct",
        media="video",
        status="uploading",
        source={"s3_key": "k", "size": 10},
        post_info={"privacy_level": "SELF_ONLY"},
        publish_id="v_pub_1",
    )


def test_the_status_check_of_a_lost_upload_replaces_a_token_refused_early_once() -> None:
    client, tokens = Client(refused={"act.old"}), Tokens()
    status = _worker(client, tokens)._status_or_none(_post(), "act.old")
    assert status is not None
    assert status.uploaded_bytes == 10
    assert client.asked_with == ["act.old", "act.new"]
    assert tokens.replaced == ["act.old"]


def test_the_status_of_a_lost_upload_is_unknown_when_no_new_token_can_be_had() -> None:
    client, tokens = Client(refused={"act.old"}), Tokens(error=AccountNeedsReconnect("grant dead"))
    assert _worker(client, tokens)._status_or_none(_post(), "act.old") is None
    assert client.asked_with == ["act.old"]


def test_the_status_check_is_not_repeated_past_one_replacement() -> None:
    client, tokens = Client(refused={"act.old", "act.new"}), Tokens()
    assert _worker(client, tokens)._status_or_none(_post(), "act.old") is None
    assert client.asked_with == ["act.old", "act.new"]
    assert tokens.replaced == ["act.old"]

"""§4/§6 inbox drafts: the pending-share cap counts drafts HELD at once (seen), the user finishing a draft in
the app (admin), and photo drafts refused with an empty post_info (seen)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import requests

from tiktok_emulator.testing import EmulatorHandle, fake_mp4

from .conftest import TIMEOUT, Api, Origin, Receiver, error_code, file_source, put_chunk

PHOTO_INIT = "/v2/post/publish/content/init/"
EMPTY = "The request post info is empty or incorrect"


@pytest.fixture
def client(emulator: EmulatorHandle, api: Callable[..., Api]) -> Api:
    emulator.configure(rate_limits={"inbox_init": 1000, "photo_init": 1000}, access_ttl=10**8)
    return api("creator_public")


def draft(emulator: EmulatorHandle, client: Api) -> str:
    """A video draft delivered to the user's inbox."""
    data = fake_mp4(4000)
    response = client.init_inbox(file_source(len(data)))
    assert error_code(response) == "ok", response.text
    body = response.json()["data"]
    assert put_chunk(body["upload_url"], data, 0, len(data)).status_code == 201
    emulator.advance(emulator.config.processing_delay)
    assert client.status(body["publish_id"]).json()["data"]["status"] == "SEND_TO_USER_INBOX"
    return str(body["publish_id"])


def finish(emulator: EmulatorHandle, **body: object) -> requests.Response:
    return requests.post(f"{emulator.base_url}/_admin/drafts/finish", json=body, timeout=TIMEOUT)


def test_cap_counts_drafts_held_not_drafts_per_day(emulator: EmulatorHandle, client: Api) -> None:
    assert emulator.config.pending_draft_cap == 5
    assert emulator.config.pending_draft_window is None
    drafts = [draft(emulator, client) for _ in range(5)]
    response = client.init_inbox()
    assert (response.status_code, error_code(response)) == (403, "spam_risk_too_many_pending_share")
    # A day later the five are still in the inbox: still refused.
    emulator.advance(86400 * 3)
    assert error_code(client.init_inbox()) == "spam_risk_too_many_pending_share"
    # The user posts one in the app: one slot frees up.
    assert finish(emulator, publish_id=drafts[0]).status_code == 200
    assert error_code(client.init_inbox()) == "ok"
    assert error_code(client.init_inbox()) == "spam_risk_too_many_pending_share"


def test_unfinished_transfers_count_failed_ones_do_not(emulator: EmulatorHandle, client: Api) -> None:
    emulator.configure(pending_draft_cap=2)
    assert error_code(client.init_inbox()) == "ok"  # never uploaded: still a pending share
    bad = b"not a video" * 100
    body = client.init_inbox(file_source(len(bad))).json()["data"]
    assert put_chunk(body["upload_url"], bad, 0, len(bad)).status_code == 201
    emulator.advance(emulator.config.processing_delay)
    assert client.status(body["publish_id"]).json()["data"]["status"] == "FAILED"
    assert error_code(client.init_inbox()) == "ok"  # the FAILED one frees its slot
    assert error_code(client.init_inbox()) == "spam_risk_too_many_pending_share"


def test_photo_drafts_count_too(emulator: EmulatorHandle, client: Api, origin: Origin) -> None:
    emulator.configure(pending_draft_cap=1, verified_url_prefixes=[origin.base_url + "/"])
    body = {
        "media_type": "PHOTO",
        "post_mode": "MEDIA_UPLOAD",
        "post_info": {"title": "draft"},
        "source_info": {"source": "PULL_FROM_URL", "photo_images": [f"{origin.base_url}/photo1.jpg"]},
    }
    publish_id = client.post(PHOTO_INIT, body).json()["data"]["publish_id"]
    emulator.wait_for(lambda: emulator.post(publish_id)["transfer_done_at"])
    emulator.advance(emulator.config.processing_delay)
    assert client.status(publish_id).json()["data"]["status"] == "SEND_TO_USER_INBOX"
    assert error_code(client.post(PHOTO_INIT, body)) == "spam_risk_too_many_pending_share"
    assert error_code(client.init_inbox()) == "spam_risk_too_many_pending_share"


def test_posting_a_draft_completes_it_publicly(
    emulator: EmulatorHandle, client: Api, receiver: Receiver
) -> None:
    emulator.configure(webhook_url=receiver.url)
    publish_id = draft(emulator, client)
    response = finish(emulator, publish_id=publish_id, outcome="posted", privacy_level="PUBLIC_TO_EVERYONE")
    assert response.status_code == 200
    assert response.json()["draft_outcome"] == "posted"
    status = client.status(publish_id).json()["data"]
    assert status["status"] == "PUBLISH_COMPLETE"
    assert len(status["publicaly_available_post_id"]) == 1
    emulator.wait_for(lambda: len(receiver.received) >= 3)
    bodies = [json.loads(raw) for _, raw in receiver.received]
    assert [b["event"] for b in bodies] == [
        "post.publish.inbox_delivered",
        "post.publish.complete",
        "post.publish.publicly_available",
    ]
    assert json.loads(bodies[1]["content"]) == {"publish_id": publish_id, "publish_type": "INBOX_SHARE"}


def test_discarding_a_draft_frees_its_slot_silently(emulator: EmulatorHandle, client: Api) -> None:
    emulator.configure(pending_draft_cap=1)
    publish_id = draft(emulator, client)
    assert error_code(client.init_inbox()) == "spam_risk_too_many_pending_share"
    view = emulator.finish_draft(account="creator_public", outcome="discarded")  # oldest delivered draft
    assert (view["publish_id"], view["draft_outcome"]) == (publish_id, "discarded")
    assert client.status(publish_id).json()["data"]["status"] == "SEND_TO_USER_INBOX"
    assert error_code(client.init_inbox()) == "ok"


def test_finish_errors(emulator: EmulatorHandle, client: Api, api: Callable[..., Api]) -> None:
    assert finish(emulator, publish_id="nope").status_code == 404
    assert finish(emulator, account="creator_public").status_code == 404  # no delivered draft
    undelivered = client.init_inbox().json()["data"]["publish_id"]
    assert finish(emulator, publish_id=undelivered).status_code == 409
    direct = api("creator_private").init_direct().json()["data"]["publish_id"]
    assert finish(emulator, publish_id=direct).status_code == 409
    publish_id = draft(emulator, client)
    assert finish(emulator, publish_id=publish_id, outcome="maybe").status_code == 409
    assert finish(emulator, publish_id=publish_id, privacy_level="FOLLOWER_OF_CREATOR").status_code == 409
    assert finish(emulator, publish_id=publish_id, outcome="discarded").status_code == 200
    assert finish(emulator, publish_id=publish_id).status_code == 409  # already finished


# --- photo drafts need a post_info ----------------------------------------------------------------------
def photo(mode: str, post_info: dict | None) -> dict:
    body: dict = {
        "media_type": "PHOTO",
        "post_mode": mode,
        "source_info": {"source": "PULL_FROM_URL", "photo_images": ["https://media.example.com/a.jpg"]},
    }
    if post_info is not None:
        body["post_info"] = post_info
    return body


@pytest.mark.parametrize("post_info", [{}, None])
def test_photo_draft_with_empty_post_info_is_refused(
    emulator: EmulatorHandle, api: Callable[..., Api], post_info: dict | None
) -> None:
    emulator.configure(verified_url_prefixes=["example.com"])
    client = api("creator_private")
    response = client.post(PHOTO_INIT, photo("MEDIA_UPLOAD", post_info))
    assert (response.status_code, error_code(response)) == (400, "invalid_params")
    assert response.json()["error"]["message"] == EMPTY
    direct = client.post(PHOTO_INIT, photo("DIRECT_POST", post_info))
    assert (direct.status_code, direct.json()["error"]["message"]) == (400, EMPTY)
    assert emulator.state()["posts"] == []


def test_photo_draft_with_any_post_info_passes(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    emulator.configure(verified_url_prefixes=["example.com"], rate_limits={"photo_init": 100})
    client = api("creator_private")
    for post_info in ({"title": "t"}, {"description": "d"}, {"disable_comment": False}):
        assert error_code(client.post(PHOTO_INIT, photo("MEDIA_UPLOAD", post_info))) == "ok", post_info


def test_empty_post_info_refusal_can_be_switched_off(
    emulator: EmulatorHandle, api: Callable[..., Api]
) -> None:
    emulator.configure(verified_url_prefixes=["example.com"], refuse_empty_photo_post_info=False)
    assert error_code(api("creator_private").post(PHOTO_INIT, photo("MEDIA_UPLOAD", {}))) == "ok"


def test_photo_draft_pulled_and_delivered(
    emulator: EmulatorHandle, api: Callable[..., Api], origin: Origin
) -> None:
    emulator.configure(verified_url_prefixes=[origin.base_url + "/"])
    client = api("creator_private")
    body = photo("MEDIA_UPLOAD", {"title": "from the emulator"})
    body["source_info"]["photo_images"] = [f"{origin.base_url}/photo1.jpg"]
    publish_id = client.post(PHOTO_INIT, body).json()["data"]["publish_id"]
    emulator.wait_for(lambda: emulator.post(publish_id)["transfer_done_at"])
    emulator.advance(emulator.config.processing_delay)
    assert client.status(publish_id).json()["data"]["status"] == "SEND_TO_USER_INBOX"

"""Cancel, on-demand token refresh, status polling limits and dead authorizations."""

from __future__ import annotations

from typing import Any

from tests.integration.publishing.conftest import Publisher
from tests.media import make_mp4
from tiktok_publisher.adapters.accounts_table import AccountRepository
from tiktok_publisher.domain.status import POLL_DELAYS, STATUS_TIME_LIMIT_S


def _queued(
    publisher: Publisher, account: str = "creator_private", mode: str = "direct"
) -> tuple[str, str, bytes]:
    open_id = publisher.connect(account)
    video = make_mp4(duration_s=2.0)
    ticket = publisher.upload(video, open_id)
    body: dict[str, Any] = {
        "open_id": open_id,
        "mode": mode,
        "media": {"type": "video", "upload_id": ticket["upload_id"]},
    }
    if mode == "direct":
        body["post_info"] = {"privacy_level": "SELF_ONLY"}
    answer = publisher.publish(body)
    assert answer.status == 202, answer.body
    return open_id, str(answer.body["post_id"]), video


def test_cancel_while_queued_stops_the_post(publisher: Publisher) -> None:
    _open_id, post_id, _video = _queued(publisher)

    cancelled = publisher.api("DELETE", f"/v1/posts/{post_id}")
    assert cancelled.status == 200, cancelled.body
    assert cancelled.body["status"] == "cancelled"
    assert publisher.run_worker() == 0

    assert publisher.post(post_id)["status"] == "cancelled"
    assert publisher.tiktok_posts() == []
    # Cancelling twice is harmless.
    assert publisher.api("DELETE", f"/v1/posts/{post_id}").body["status"] == "cancelled"


def test_cancel_after_publishing_is_refused(publisher: Publisher) -> None:
    _open_id, post_id, _video = _queued(publisher)
    assert publisher.run_worker() == 0

    answer = publisher.api("DELETE", f"/v1/posts/{post_id}")
    assert answer.status == 409, answer.body
    assert publisher.post(post_id)["status"] == "published"


def test_worker_refreshes_a_token_about_to_expire(publisher: Publisher) -> None:
    # Given a queued post and an access token with 2 minutes left when the worker picks it up
    open_id, post_id, video = _queued(publisher, mode="inbox")
    repo = AccountRepository()
    before = repo.get(publisher.tenant, open_id)
    old_access, _old_refresh = repo.get_tokens(publisher.tenant, open_id)
    remaining = before.access_expires_at - publisher.clock()
    publisher.clock.offset += remaining - 120
    publisher.emulator.advance(remaining - 120)

    assert publisher.run_worker() == 0

    # Then the worker refreshed (conditional write bumped the version) and the post went through
    after = repo.get(publisher.tenant, open_id)
    assert after.version == before.version + 1
    assert repo.get_tokens(publisher.tenant, open_id)[0] != old_access
    post = publisher.post(post_id)
    assert post["status"] == "inbox", post
    assert publisher.emulator.received_bytes(post["publish_id"]) == video


def test_polling_grows_then_stops_as_unconfirmed(publisher: Publisher) -> None:
    # Given TikTok that never finishes processing
    publisher.emulator.configure(processing_delay=10 * STATUS_TIME_LIMIT_S)
    _open_id, post_id, _video = _queued(publisher)

    publisher.run_worker_until(post_id, "unconfirmed")

    # Then the polls were spaced 5, 10, 20, 40... s, capped, and the post was never re-posted
    assert publisher.delays[: len(POLL_DELAYS)] == list(POLL_DELAYS)
    assert max(publisher.delays) == 900
    post = publisher.post(post_id)
    assert post["status"] == "unconfirmed", post
    assert post["error"]["code"] == "status_timeout"
    assert len(publisher.tiktok_posts()) == 1
    assert publisher.events() == []
    # and the last job sent is the reconcile job (test_publish_reconcile.py follows it)
    assert publisher.jobs[-1].kind == "reconcile"


def test_revoked_authorization_fails_the_post_with_reconnect(publisher: Publisher) -> None:
    _open_id, post_id, _video = _queued(publisher)
    publisher.emulator.revoke_authorization("creator_private")

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "failed", post
    assert post["error"]["class"] == "reconnect"
    assert post["error"]["log_id"]
    assert publisher.tiktok_posts() == []
    # Init refused the token; the forced refresh that followed got invalid_grant, which proves the grant
    # dead: the account is marked (issue 13/12: only that refresh marks), and says so once.
    assert sorted(e["detail-type"] for e in publisher.events()) == ["Account Needs Reconnect", "Post Failed"]


def test_a_status_error_is_retried_without_reposting(publisher: Publisher) -> None:
    _open_id, post_id, _video = _queued(publisher)
    publisher.emulator.fault("status", "error200", count=1, code="internal_error")

    assert publisher.run_worker() == 0
    assert publisher.post(post_id)["status"] == "published"
    assert len(publisher.tiktok_posts()) == 1


def test_cancel_during_a_pull_download_cancels_at_tiktok(publisher: Publisher, monkeypatch: Any) -> None:
    # Given a verified media host that starts sending the video, then stalls (a download in progress)
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tiktok_publisher.adapters.s3_media import PullUrlSigner

    release = threading.Event()

    class Stalling(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(10_000_000))
            self.end_headers()
            self.wfile.write(b"\x00" * 1_048_576)
            self.wfile.flush()
            release.wait(timeout=30)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Stalling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        publisher.emulator.configure(verified_url_prefixes=[base + "/"], pull_timeout=30)
        signer = PullUrlSigner("s3", base, publisher.ports.service.media)
        publisher.ports.worker.pull = signer
        publisher.ports.service.pull = signer
        _open_id, post_id, _video = _queued(publisher)
        batch = publisher.messages()
        assert publisher.deliver(batch) == set()  # init (pull) done; the first poll is queued
        publisher.emulator.wait_for(lambda: publisher.tiktok_posts()[0]["downloaded_bytes"] > 0)

        # When the user cancels while TikTok downloads
        answer = publisher.api("DELETE", f"/v1/posts/{post_id}")

        # Then TikTok's task is cancelled and the post is too; the worker's next poll changes nothing
        assert answer.status == 200, answer.body
        assert answer.body["status"] == "cancelled"
        assert publisher.run_worker() == 0
        task = publisher.tiktok_posts()[0]
        assert task["status"] == "FAILED"
        assert task["fail_reason"] == "publish_cancelled"
        assert publisher.post(post_id)["status"] == "cancelled"
        assert publisher.events() == []
    finally:
        release.set()
        server.shutdown()
        server.server_close()

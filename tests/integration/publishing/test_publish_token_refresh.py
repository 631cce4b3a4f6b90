"""Access tokens in the publishing path, with the emulator's 2 h tokens: refreshed on demand once per expired
token however many posts need it at once, and replaced by one forced refresh when TikTok ends one before its
stated expiry (at init, while polling status, while reconciling). The account stays active throughout, and
every post is published once."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.integration.publishing.conftest import Publisher
from tests.media import make_mp4
from tiktok_publisher.adapters.accounts_table import AccountRepository
from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.domain.posts import Post
from tiktok_publisher.domain.status import STATUS_TIME_LIMIT_S
from tiktok_publisher.publishing.worker import Seams

HOUR = 3600


def _direct(publisher: Publisher, open_id: str, title: str = "refresh") -> str:
    ticket = publisher.upload(make_mp4(duration_s=2.0), open_id)
    answer = publisher.publish(
        {
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "video", "upload_id": ticket["upload_id"]},
            "post_info": {"privacy_level": "SELF_ONLY", "title": title},
        }
    )
    assert answer.status == 202, answer.body
    return str(answer.body["post_id"])


def _rotations(publisher: Publisher, open_id: str) -> int:
    """Refreshes TikTok (the emulator) answered for this user: each rotates one refresh token."""
    state = publisher.emulator.state()
    return sum(1 for t in state["refresh_tokens"] if t["open_id"] == open_id and t["rotated"])


def _account_stayed_active(publisher: Publisher, open_id: str) -> None:
    account = AccountRepository().get(publisher.tenant, open_id)
    assert (account.status, account.last_error) == ("active", None)
    assert "Account Needs Reconnect" not in [e["detail-type"] for e in publisher.events()]


def _published_once(publisher: Publisher, post_ids: list[str]) -> None:
    for post_id in post_ids:
        assert publisher.post(post_id)["status"] == "published", publisher.post(post_id)
    tasks = publisher.tiktok_posts()
    assert len(tasks) == len(post_ids), tasks


# ------------------------------------------------------------------ on demand, shared


class GatedRefresh:
    """Holds the first refresh at TikTok until `others` callers are waiting for it (bounded), so the posts
    provably overlap; `waited` is the refresher's sleep (a caller waiting for the lease holder's save)."""

    def __init__(self, refresh: Any, *, others: int) -> None:
        self._refresh = refresh
        self.others = others
        self.waiting: set[int] = set()
        self.cond = threading.Condition()

    def waited(self, _seconds: float) -> None:
        with self.cond:
            self.waiting.add(threading.get_ident())
            self.cond.notify_all()
        time.sleep(0.01)  # let the holder run; how long does not matter (no deadline, see the test)

    def refresh(self, refresh_token: str) -> Any:
        with self.cond:
            self.cond.wait_for(lambda: len(self.waiting) >= self.others, timeout=30)
        return self._refresh(refresh_token)


def _five_at_once(publisher: Publisher, gate: GatedRefresh) -> None:
    """Hand the five queued jobs to five workers at once (five Lambda containers)."""
    messages = publisher.messages()
    assert len(messages) == 5
    barrier = threading.Barrier(5)
    errors: list[BaseException] = []

    def work(message: dict[str, Any]) -> None:
        barrier.wait(timeout=30)
        try:
            publisher.ports.worker.handle(Job.from_json(message["Body"]))
        except BaseException as exc:  # asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(m,)) for m in messages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    for message in messages:
        publisher.env.aws.sqs.delete_message(
            QueueUrl=publisher.env.aws.queue_url, ReceiptHandle=message["ReceiptHandle"]
        )


def test_five_concurrent_posts_refresh_an_expired_token_once(
    publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    refresher = publisher.ports.worker.refresher
    gate = GatedRefresh(refresher.client.refresh, others=4)
    monkeypatch.setattr(refresher.client, "refresh", gate.refresh)
    monkeypatch.setattr(refresher, "sleep", gate.waited)
    monkeypatch.setattr(refresher, "monotonic", lambda: 0.0)  # waiting callers never give up on the clock
    open_id = publisher.connect("creator_private")
    rounds: list[str] = []
    for round_no in range(2):
        # Given five direct posts accepted while the token was live, and the 2 h token then expired
        post_ids = [_direct(publisher, open_id, f"round {round_no} post {i}") for i in range(5)]
        before = _rotations(publisher, open_id)
        publisher.advance(2 * HOUR + 60)
        gate.waiting.clear()

        # When five workers start them at the same moment
        _five_at_once(publisher, gate)
        assert publisher.run_worker() == 0

        # Then the expired token was refreshed exactly once, shared by all five, and each post went out once
        assert _rotations(publisher, open_id) == before + 1, round_no
        assert len(gate.waiting) == 4
        rounds += post_ids
        _published_once(publisher, rounds)
    _account_stayed_active(publisher, open_id)


# ------------------------------------------------------------------ a token TikTok ended early


def test_a_post_whose_token_tiktok_ended_before_init_publishes_after_one_refresh(
    publisher: Publisher,
) -> None:
    # Given a post accepted with a live token, which TikTok then stops accepting (by our records it still has
    # almost 2 hours)
    open_id = publisher.connect("creator_private")
    post_id = _direct(publisher, open_id)
    assert publisher.emulator.expire_access_token(account="creator_private") == 1

    # When the worker starts it: init is refused with access_token_invalid (no task is created)
    assert publisher.run_worker() == 0

    # Then one forced refresh, one more init, and the post is published once; the account stays active
    _published_once(publisher, [post_id])
    assert _rotations(publisher, open_id) == 1
    notes = [h["note"] for h in publisher.post(post_id)["history"]]
    assert "tiktok refused the access token: refreshing it" in notes
    assert AccountRepository().get(publisher.tenant, open_id).version == 2
    _account_stayed_active(publisher, open_id)


class EndTokenAfterUpload(Seams):
    """TikTok has every byte; its access token dies before the first status poll."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher
        self.ended = 0

    def after_upload(self, post: Post) -> None:
        if not self.ended:
            self.ended = self.publisher.emulator.expire_access_token(account="creator_private")


def test_a_token_ended_while_tiktok_processes_is_replaced_for_the_status_poll(publisher: Publisher) -> None:
    open_id = publisher.connect("creator_private")
    post_id = _direct(publisher, open_id)
    seams = EndTokenAfterUpload(publisher)
    publisher.ports.worker.seams = seams

    assert publisher.run_worker() == 0

    assert seams.ended == 1
    _published_once(publisher, [post_id])
    assert _rotations(publisher, open_id) == 1
    _account_stayed_active(publisher, open_id)


def test_a_token_ended_before_reconciling_is_replaced_and_the_post_settles(publisher: Publisher) -> None:
    # Given a post left unconfirmed (TikTok finishes processing after our status time limit)
    publisher.emulator.configure(processing_delay=STATUS_TIME_LIMIT_S + 1200)
    open_id = publisher.connect("creator_private")
    post_id = _direct(publisher, open_id)
    publisher.run_worker_until(post_id, "unconfirmed")
    before = _rotations(publisher, open_id)
    # and its access token ended by TikTok before the reconcile jobs ask
    assert publisher.emulator.expire_access_token(account="creator_private") >= 1

    assert publisher.run_worker() == 0

    _published_once(publisher, [post_id])
    assert _rotations(publisher, open_id) == before + 1
    _account_stayed_active(publisher, open_id)


def test_a_token_refused_again_after_the_forced_refresh_fails_the_post_not_the_account(
    publisher: Publisher,
) -> None:
    # Given TikTok refusing init with access_token_invalid twice in a row (the fresh token too)
    open_id = publisher.connect("creator_private")
    post_id = _direct(publisher, open_id)
    publisher.emulator.fault("video_init", mode="error200", code="access_token_invalid", count=2)

    assert publisher.run_worker() == 0

    # Then one forced refresh only, the post fails asking for a reconnect, no task exists at TikTok, and the
    # account is not marked (only a refresh answering invalid_grant proves the grant dead)
    post = publisher.post(post_id)
    assert post["status"] == "failed", post
    assert (post["error"]["class"], post["error"]["code"]) == ("reconnect", "access_token_invalid")
    assert publisher.tiktok_posts() == []
    assert _rotations(publisher, open_id) == 1
    _account_stayed_active(publisher, open_id)


def test_a_forced_refresh_that_finds_the_grant_dead_fails_the_post_and_marks_the_account(
    publisher: Publisher,
) -> None:
    open_id = publisher.connect("creator_private")
    post_id = _direct(publisher, open_id)
    publisher.emulator.configure(webhook_url=None)  # TikTok kills the grant without telling us
    publisher.emulator.revoke_authorization("creator_private")

    assert publisher.run_worker() == 0

    post = publisher.post(post_id)
    assert post["status"] == "failed", post
    assert post["error"]["class"] == "reconnect"
    assert post["error"]["log_id"]  # TikTok's, of the refusal that started it
    assert publisher.tiktok_posts() == []
    account = AccountRepository().get(publisher.tenant, open_id)
    assert account.status == "needs_reconnect"
    assert str(account.last_error).startswith("invalid_grant")
    needs = [e for e in publisher.events() if e["detail-type"] == "Account Needs Reconnect"]
    assert [e["detail"]["reason"] for e in needs] == ["invalid_grant"]

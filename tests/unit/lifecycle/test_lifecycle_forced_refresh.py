"""The forced refresh (TikTok refused an access token before its stated expiry) over in-memory fakes: exactly
the rejected token is replaced, once, shared by every caller that saw it refused; only invalid_grant marks."""

from __future__ import annotations

import threading
import time

import pytest

from tests.unit.lifecycle.test_lifecycle_refresh_logic import (
    NOW,
    FakeAccounts,
    FakeEvents,
    FakeTikTok,
    Row,
    account,
    make,
)
from tiktok_publisher.domain.errors import AccountNeedsReconnect
from tiktok_publisher.domain.tiktok_errors import OAuthError, TikTokError, token_rejected
from tiktok_publisher.refresh.core import TokenRefresher

REJECTED = TikTokError("access_token_invalid", "The access token is invalid.", http_status=401, log_id="l1")


def test_only_tiktoks_envelope_code_counts_as_a_rejected_token() -> None:
    assert token_rejected(REJECTED)
    assert token_rejected(TikTokError("access_token_invalid", http_status=200))  # 200-with-error
    assert not token_rejected(TikTokError("scope_not_authorized", http_status=401))
    assert not token_rejected(TikTokError("http_401", http_status=401))  # no envelope: not TikTok's word
    assert not token_rejected(OAuthError("access_token_invalid", http_status=401))
    assert not token_rejected(ValueError("access_token_invalid"))


def test_a_rejected_token_with_time_left_is_replaced_by_one_refresh() -> None:
    # Given a token that by our records has an hour left, but that TikTok refused
    rows = FakeAccounts(Row(account(expires=NOW + 3600), "act.old", "rft.old"))
    tiktok = FakeTikTok({"rft.old"})

    token = make(rows, tiktok).replace_rejected_token("t1", "o1", "act.old", now=NOW)

    assert token == "act.new1"
    assert tiktok.calls == 1
    assert (rows.rows["o1"].access, rows.rows["o1"].account.version) == ("act.new1", 2)


def test_a_rejected_token_someone_already_replaced_is_not_refreshed_again() -> None:
    rows = FakeAccounts(Row(account(version=2, expires=NOW + 3600), "act.theirs", "rft.theirs"))
    tiktok = FakeTikTok({"rft.theirs"})
    assert make(rows, tiktok).replace_rejected_token("t1", "o1", "act.old", now=NOW) == "act.theirs"
    assert tiktok.calls == 0


def test_the_rejected_token_is_never_handed_out_while_another_refresher_works() -> None:
    # Another refresher holds the account; the stored token still has plenty of time by our records (it
    # would be handed out to an ordinary caller), but it is the one TikTok refused: wait for the new one.
    rows = FakeAccounts(Row(account(expires=NOW + 3600), "act.old", "rft.old", lease=("other", NOW + 30, 1)))
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:  # the other refresher saves
            with rows.lock:
                row = rows.rows["o1"]
                row.account = account(version=2, expires=NOW + 7200)
                row.access, row.lease = "act.theirs", None

    refresher = TokenRefresher(rows, rows, FakeTikTok(set()), FakeEvents(), sleep=sleep, clock=lambda: NOW)
    assert refresher.replace_rejected_token("t1", "o1", "act.old", now=NOW) == "act.theirs"
    assert len(waits) == 2


def test_a_forced_refresh_that_gets_invalid_grant_marks_the_account_once() -> None:
    rows = FakeAccounts(Row(account(expires=NOW + 3600), "act.old", "rft.dead"))
    events = FakeEvents()
    with pytest.raises(AccountNeedsReconnect) as caught:
        make(rows, FakeTikTok(set()), events).replace_rejected_token("t1", "o1", "act.old", now=NOW)
    assert caught.value.details["tiktok_code"] == "invalid_grant"
    assert rows.marked == ["o1"]
    assert [sent[0] for sent in events.sent] == ["Account Needs Reconnect"]
    assert events.sent[0][1]["reason"] == "invalid_grant"


class GatedTikTok(FakeTikTok):
    """Holds the first refresh at TikTok until every other caller is waiting for it (bounded), so the test
    proves the callers overlap instead of hoping they do."""

    def __init__(self, live: set[str], *, others: int) -> None:
        super().__init__(live)
        self.others = others
        self.waiting: set[int] = set()
        self.cond = threading.Condition()

    def waited(self) -> None:
        with self.cond:
            self.waiting.add(threading.get_ident())
            self.cond.notify_all()

    def refresh(self, refresh_token: str):  # type: ignore[no-untyped-def]
        with self.cond:
            self.cond.wait_for(lambda: len(self.waiting) >= self.others, timeout=30)
        return super().refresh(refresh_token)


def test_callers_that_saw_the_same_token_rejected_share_one_refresh() -> None:
    # Given five callers whose TikTok calls were all refused with the same, by our records live, token
    rows = FakeAccounts(Row(account(expires=NOW + 3600), "act.old", "rft.old"))
    tiktok = GatedTikTok({"rft.old"}, others=4)

    def sleep(_seconds: float) -> None:
        tiktok.waited()
        time.sleep(0.001)  # yield to the holder; how long does not matter (no deadline: see monotonic)

    refresher = TokenRefresher(
        rows, rows, tiktok, FakeEvents(), sleep=sleep, clock=lambda: NOW, monotonic=lambda: 0.0
    )
    barrier = threading.Barrier(5)
    got: list[object] = []

    def caller() -> None:
        barrier.wait(timeout=30)
        try:
            got.append(refresher.replace_rejected_token("t1", "o1", "act.old", now=NOW))
        except Exception as exc:  # asserted below
            got.append(exc)

    threads = [threading.Thread(target=caller) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then TikTok was asked for one refresh, and every caller holds its token
    assert not any(thread.is_alive() for thread in threads)
    assert got == ["act.new1"] * 5
    assert tiktok.calls == 1
    assert len(tiktok.waiting) == 4


def test_call_with_token_retries_once_after_a_rejection_and_lets_the_second_answer_stand() -> None:
    rows = FakeAccounts(Row(account(expires=NOW + 3600), "act.old", "rft.old"))
    tiktok = FakeTikTok({"rft.old"})
    refresher = make(rows, tiktok)
    asked: list[str] = []

    def refused_once(token: str) -> str:
        asked.append(token)
        if token == "act.old":
            raise REJECTED
        return f"answer for {token}"

    assert refresher.call_with_token("t1", "o1", refused_once, now=NOW) == "answer for act.new1"
    assert (asked, tiktok.calls) == (["act.old", "act.new1"], 1)

    def always_refused(token: str) -> str:
        asked.append(token)
        raise REJECTED

    asked.clear()
    with pytest.raises(TikTokError) as caught:
        refresher.call_with_token("t1", "o1", always_refused, now=NOW)
    assert caught.value.code == "access_token_invalid"
    assert (asked, tiktok.calls) == (["act.new1", "act.new2"], 2)  # one forced refresh per rejected token
    assert rows.rows["o1"].account.status == "active"  # never marked for a refused access token

    def other_error(token: str) -> str:
        asked.append(token)
        raise TikTokError("rate_limit_exceeded", http_status=429)

    asked.clear()
    with pytest.raises(TikTokError):
        refresher.call_with_token("t1", "o1", other_error, now=NOW)
    assert (asked, tiktok.calls) == (["act.new2"], 2)  # no refresh for anything else

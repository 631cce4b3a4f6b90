"""The refresh sweep and the on-demand refresh against moto (template tables) and the emulator over HTTP."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.integration.lifecycle.conftest import connect
from tiktok_publisher.adapters.accounts_table import AccountRepository, RefreshStore
from tiktok_publisher.bootstrap import ports
from tiktok_publisher.domain.accounts import REFRESH_TOKEN_WINDOW_S, refresh_due_at_for
from tiktok_publisher.domain.errors import AccountNeedsReconnect
from tiktok_publisher.domain.events import CONTINUATION_DETAIL_TYPE
from tiktok_publisher.domain.tiktok_errors import OAuthError
from tiktok_publisher.entrypoints.refresh import handle

DAY = 86400
HOUR = 3600
REFRESH_RULE = "arn:aws:events:us-east-1:123456789012:rule/tiktok-publisher-local-refresh-tokens"


def scheduled(rule: str = REFRESH_RULE) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "e1",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "resources": [rule],
    }


def plenty() -> float:
    return 900.0


def test_sweep_refreshes_only_due_accounts_and_the_new_tokens_work(tiktok_env: Any) -> None:
    # Given the emulator's 2 h / 180 d tokens: one account whose grant enters its last 30 days within the
    # hour (due), and one idle account whose access token ended a day ago but whose grant is far from its
    # end (not due: its access token is refreshed on demand, when a TikTok call needs it)
    now = int(time.time())
    due = connect(
        tiktok_env, "tenant-a", "creator_public", now=now, refresh_expires_in=REFRESH_TOKEN_WINDOW_S + 600
    )
    idle = connect(tiktok_env, "tenant-a", "creator_private", now=now - DAY)
    repo = AccountRepository()
    before = repo.get("tenant-a", due.open_id)
    assert repo.get("tenant-a", idle.open_id).access_expires_at < now

    result = handle(scheduled(), time_left=plenty)

    assert (result["read"], result["due"], result["refreshed"]) == (1, 1, 1)
    after = repo.get("tenant-a", due.open_id)
    assert after.version == before.version + 1
    assert after.access_expires_at >= now + 2 * HOUR - 5
    assert after.refresh_expires_at >= now + 180 * DAY - 5  # the grant renewed: not due for 150 days
    access, refresh = repo.get_tokens("tenant-a", due.open_id)
    assert refresh != due.refresh_token
    client = tiktok_env.client()
    assert client.user_info(access).open_id == due.open_id
    with pytest.raises(OAuthError) as caught:  # strict rotation: the old refresh token died
        client.refresh(due.refresh_token)
    assert caught.value.code == "invalid_grant"
    assert repo.get("tenant-a", idle.open_id).version == 1

    again = handle(scheduled(), time_left=plenty)  # nothing due any more
    assert (again["read"], again["due"]) == (0, 0)


def _refresh_due_at(env: Any, tenant_id: str, open_id: str) -> int:
    item = env.aws.dynamodb.get_item(
        TableName=env.aws.accounts_table, Key={"tenant_id": {"S": tenant_id}, "open_id": {"S": open_id}}
    )["Item"]
    return int(item["refresh_due_at"]["N"])


def test_sweep_refreshes_an_account_whose_refresh_token_ends_within_30_days(tiktok_env: Any) -> None:
    # Given two accounts with the emulator's 2 h access tokens: one whose grant ends in 10 days, one whose
    # grant ends in 60 days
    now = int(time.time())
    ending = connect(tiktok_env, "tenant-a", "creator_public", now=now, refresh_expires_in=10 * DAY)
    lasting = connect(tiktok_env, "tenant-b", "creator_private", now=now, refresh_expires_in=60 * DAY)
    repo = AccountRepository()
    before = repo.get("tenant-a", ending.open_id)
    assert _refresh_due_at(tiktok_env, "tenant-a", ending.open_id) == now + 10 * DAY - REFRESH_TOKEN_WINDOW_S
    assert _refresh_due_at(tiktok_env, "tenant-b", lasting.open_id) == now + 60 * DAY - REFRESH_TOKEN_WINDOW_S

    # When the schedule runs
    result = handle(scheduled(), time_left=plenty)

    # Then only the ending one is read (items read == items due) and refreshed
    assert (result["read"], result["due"], result["refreshed"]) == (1, 1, 1)
    assert result["outcomes"] == {"refreshed": 1}
    after = repo.get("tenant-a", ending.open_id)
    assert after.version == before.version + 1
    assert after.refresh_expires_at > now + 30 * DAY  # the emulator renewed the grant
    assert repo.get("tenant-b", lasting.open_id).version == 1
    # and its place in the index is recomputed from the new lifetimes: no longer due
    assert _refresh_due_at(tiktok_env, "tenant-a", ending.open_id) == refresh_due_at_for(
        after.access_expires_at, after.refresh_expires_at
    )
    assert (
        _refresh_due_at(tiktok_env, "tenant-a", ending.open_id)
        == after.refresh_expires_at - REFRESH_TOKEN_WINDOW_S
    )
    access, _ = repo.get_tokens("tenant-a", ending.open_id)
    assert tiktok_env.client().user_info(access).open_id == ending.open_id
    again = handle(scheduled(), time_left=plenty)
    assert (again["read"], again["due"]) == (0, 0)


def test_revoked_refresh_token_ends_as_needs_reconnect_with_an_event(tiktok_env: Any) -> None:
    now = int(time.time())
    account = connect(
        tiktok_env, "tenant-a", "creator_public", now=now - DAY + 60, refresh_expires_in=10 * DAY
    )
    tiktok_env.emulator.revoke_authorization("creator_public")
    tiktok_env.aws.published_events()  # drain

    result = handle(scheduled(), time_left=plenty)

    assert result["outcomes"] == {"needs_reconnect": 1}
    stored = AccountRepository().get("tenant-a", account.open_id)
    assert stored.status == "needs_reconnect"
    assert stored.last_error is not None
    assert stored.last_error.startswith("invalid_grant")
    events = [e for e in tiktok_env.aws.published_events() if e["detail-type"] == "Account Needs Reconnect"]
    assert len(events) == 1
    assert events[0]["detail"]["open_id"] == account.open_id
    assert events[0]["detail"]["tenant_id"] == "tenant-a"
    # Out of the sparse index: the next sweep reads nothing.
    assert handle(scheduled(), time_left=plenty)["read"] == 0


def test_transient_failure_is_left_for_the_next_run(tiktok_env: Any) -> None:
    now = int(time.time())
    account = connect(tiktok_env, "tenant-a", now=now - DAY + 60, refresh_expires_in=10 * DAY)
    tiktok_env.emulator.fault("token", "5xx", count=1, status=503)

    first = handle(scheduled(), time_left=plenty)
    assert first["outcomes"] == {"transient": 1}
    assert AccountRepository().get("tenant-a", account.open_id).status == "active"
    assert RefreshStore().lease_of("tenant-a", account.open_id) is None  # lease given back

    second = handle(scheduled(), time_left=plenty)
    assert second["outcomes"] == {"refreshed": 1}


def test_out_of_time_hands_the_rest_on_and_the_continuations_finish_it(tiktok_env: Any) -> None:
    now = int(time.time())
    accounts = [
        connect(tiktok_env, f"tenant-{i}", now=now - DAY + 60, refresh_expires_in=10 * DAY) for i in range(6)
    ]
    runtime = ports().refresh_runtime
    runtime.sweep.concurrency = 1
    budget = iter([900.0] * 3 + [0.0] * 1000)  # a few time checks pass, then the time is up
    tiktok_env.aws.published_events()

    first = handle(scheduled(), time_left=lambda: next(budget))

    assert 1 <= first["refreshed"] < len(accounts)
    assert first["handed_on"] == len(first["shards_handed_on"]) >= 1
    continuations = [
        e
        for e in tiktok_env.aws.published_events(max_polls=5)
        if e["detail-type"] == CONTINUATION_DETAIL_TYPE
    ]
    assert len(continuations) == first["handed_on"]
    total = first["refreshed"]
    for event in continuations:
        assert event["detail"]["hop"] == 1
        total += handle(event, time_left=plenty)["refreshed"]
    assert total == len(accounts)
    repo = AccountRepository()
    assert all(repo.get(a.tenant_id, a.open_id).version == 2 for a in accounts)


def test_on_demand_refreshes_an_expiring_token_and_keeps_a_fresh_one(tiktok_env: Any) -> None:
    ensure_fresh_token = ports().refresher.ensure_fresh_token

    now = int(time.time())
    fresh = connect(tiktok_env, "tenant-a", "creator_private", now=now)
    expiring = connect(tiktok_env, "tenant-a", "creator_public", now=now - DAY + 120)
    repo = AccountRepository()

    assert (
        ensure_fresh_token("tenant-a", fresh.open_id, now=now)
        == repo.get_tokens("tenant-a", fresh.open_id)[0]
    )
    assert repo.get("tenant-a", fresh.open_id).version == 1

    token = ensure_fresh_token("tenant-a", expiring.open_id, now=now)
    assert repo.get("tenant-a", expiring.open_id).version == 2
    assert tiktok_env.client().user_info(token).open_id == expiring.open_id

    tiktok_env.emulator.revoke_authorization("creator_private")
    later = now + DAY  # the fresh one now needs a refresh, and its grant is gone
    with pytest.raises(AccountNeedsReconnect):
        ensure_fresh_token("tenant-a", fresh.open_id, now=later)
    assert repo.get("tenant-a", fresh.open_id).status == "needs_reconnect"


def test_twenty_concurrent_refreshes_with_strict_rotation_leave_a_working_refresh_token(
    tiktok_env: Any,
) -> None:
    # Lifetimes shortened so every refresher wants to refresh (60 s is inside the 5-minute margin).
    tiktok_env.emulator.configure(access_ttl=60)
    now = int(time.time())
    account = connect(tiktok_env, "tenant-a", now=now)
    runtime = ports().refresh_runtime
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []
    outcomes: list[str] = []

    def worker(index: int) -> None:
        barrier.wait(timeout=10)
        try:
            if index % 2:
                runtime.refresher.ensure_fresh_token("tenant-a", account.open_id, now=int(time.time()))
                outcomes.append("on_demand")
            else:
                result = runtime.refresher.refresh(
                    "tenant-a", account.open_id, now=int(time.time()), due=lambda a: True
                )
                outcomes.append(result.outcome.value)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert "needs_reconnect" not in outcomes
    repo = AccountRepository()
    assert repo.get("tenant-a", account.open_id).status == "active"
    _access, refresh_token = repo.get_tokens("tenant-a", account.open_id)
    assert tiktok_env.client().refresh(refresh_token).open_id == account.open_id  # still works

"""The refresh races of docs/events.md ("A live grant is never lost"), each reproduced with a controlled
interleaving: moto (conditional writes atomic, as on DynamoDB) and the emulator over HTTP with strict
rotation. Nothing here waits on time: TikTok's answer is held with an event, leases expire on a manual
clock, and a waiting refresher's sleep is the point where the test lets the other side go on.

Each reproduction failed on 5009143 (the refresher before the fix) with the account ending
`needs_reconnect` and TikTok's only live refresh token dropped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.lifecycle.conftest import Connected, connect
from tests.races import CountingRefresh, HeldRefresh, ManualClock
from tiktok_publisher.accounts.service import creator_form
from tiktok_publisher.adapters.accounts_table import AccountRepository, RefreshStore
from tiktok_publisher.adapters.dynamodb import AccountModel
from tiktok_publisher.adapters.eventbridge import EventPublisher
from tiktok_publisher.adapters.pacing_table import PacingTable
from tiktok_publisher.domain.errors import UpstreamError
from tiktok_publisher.domain.events import DetailType
from tiktok_publisher.domain.refresh import LEASE_S, due_in_sweep, sweep_horizon
from tiktok_publisher.refresh.core import Outcome, RefreshResult, TokenRefresher

HOUR = 3600
DAY = 86400


def always(_account: Any) -> bool:
    return True


def refresher(client: Any, clock: ManualClock, **seams: Any) -> TokenRefresher:
    """A refresher over the real adapters (moto) and `client`, its leases on `clock`."""
    made = TokenRefresher(
        accounts=AccountRepository(), leases=RefreshStore(), client=client, events=EventPublisher()
    )
    made.clock = clock  # type: ignore[misc]  # leases are taken and compared on this clock
    for name, value in seams.items():
        setattr(made, name, value)
    return made


def live_refresh_tokens(env: Any, open_id: str) -> list[str]:
    """The refresh tokens TikTok (the emulator) would still accept for `open_id`."""
    store = env.emulator.emulator.store
    with store.lock:
        return [
            t.token
            for t in store.refresh_tokens.values()
            if t.open_id == open_id and not t.rotated and not t.revoked
        ]


def end_access_token_early(env: Any, access_token: str) -> None:
    """TikTok stops accepting `access_token` now (TIKTOK-API.md §6: seen before the stated expiry)."""
    store = env.emulator.emulator.store
    with store.lock:
        store.access_tokens[access_token].expires_at = env.emulator.emulator.clock.now()


def assert_grant_alive(env: Any, conn: Connected) -> str:
    """The account is active and holds the one refresh token TikTok still accepts; its access token works."""
    repo = AccountRepository()
    account = repo.get(conn.tenant_id, conn.open_id)
    assert (account.status, account.last_error) == ("active", None)
    access, stored_refresh = repo.get_tokens(conn.tenant_id, conn.open_id)
    assert live_refresh_tokens(env, conn.open_id) == [stored_refresh]
    assert env.client().user_info(access).open_id == conn.open_id
    return stored_refresh


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Start `call` in a thread; its result (or exception) lands in the returned list."""
    box: list[Any] = []

    def run() -> None:
        try:
            box.append(call())
        except Exception as exc:  # handed to the test, which asserts on it
            box.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def detail_types(env: Any, open_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (e["detail-type"], e["detail"])
        for e in env.aws.published_events()
        if e["detail"].get("open_id") == open_id
    ]


def test_a_winner_whose_lease_ran_out_at_tiktok_keeps_the_grant_over_the_refused_takeover(
    tiktok_env: Any,
) -> None:
    # Given an account, and a refresher whose request TikTok has answered (rotating the refresh token)
    # but whose answer is still on its way
    now = int(time.time())
    conn = connect(tiktok_env, "tenant-a", now=now)
    clock = ManualClock(now)
    held = HeldRefresh(tiktok_env.client().refresh)
    winner = refresher(held, clock)
    thread, won = in_thread(lambda: winner.refresh(conn.tenant_id, conn.open_id, now=now, due=always))
    assert held.reached.wait(timeout=30)

    # When its lease runs out meanwhile, and a second refresher takes the account over with the same,
    # now rotated, refresh token (TikTok refuses it: invalid_grant)
    later = clock.advance(LEASE_S + 1)
    loser = refresher(tiktok_env.client(), clock)
    lost = loser.refresh(conn.tenant_id, conn.open_id, now=int(later), due=always)
    held.release()
    thread.join(timeout=60)

    # Then the tokens TikTok issued win: the account is active with the only live refresh token
    assert lost.outcome is Outcome.NEEDS_RECONNECT
    assert isinstance(won[0], RefreshResult), won
    assert won[0].outcome is Outcome.REFRESHED
    stored = assert_grant_alive(tiktok_env, conn)
    assert stored != conn.refresh_token
    # and the SaaS, told to reconnect by the refused takeover, is told the account is back
    events = detail_types(tiktok_env, conn.open_id)
    assert [kind for kind, _ in events] == [DetailType.ACCOUNT_NEEDS_RECONNECT, DetailType.ACCOUNT_CONNECTED]
    assert events[1][1]["restored"] is True


def test_a_caller_whose_clock_runs_ahead_waits_for_the_lease_instead_of_taking_it_over(
    tiktok_env: Any,
) -> None:
    # Given a sweep refreshing an account whose access token ends in 10 minutes (TikTok has rotated, the
    # answer is on its way)
    now = int(time.time())
    conn = connect(tiktok_env, "tenant-a", now=now - DAY + 600)
    clock = ManualClock(now)
    held = HeldRefresh(tiktok_env.client().refresh)
    sweep = refresher(held, clock)
    thread, won = in_thread(lambda: sweep.refresh(conn.tenant_id, conn.open_id, now=now, due=always))
    assert held.reached.wait(timeout=30)

    # When an on-demand caller asks for a token with its own idea of "now" running an hour past the stored
    # access token's end (a worker on an injected clock, a job handled late): to it the token is expired
    ahead = AccountRepository().get(conn.tenant_id, conn.open_id).access_expires_at + HOUR

    def let_the_sweep_finish(_seconds: float) -> None:
        held.release()
        thread.join(timeout=60)

    on_demand = refresher(tiktok_env.client(), clock, sleep=let_the_sweep_finish)
    try:
        token: Any = on_demand.ensure_fresh_token(conn.tenant_id, conn.open_id, now=ahead)
    except Exception as exc:  # asserted below: the caller must get a token
        token = exc
    finally:
        let_the_sweep_finish(0)

    # Then it waited for the sweep's lease (one clock for every lease) and got the sweep's new token
    assert isinstance(token, str), token
    assert held.calls == 1
    assert isinstance(won[0], RefreshResult)
    assert won[0].outcome is Outcome.REFRESHED
    assert token == won[0].access_token
    assert_grant_alive(tiktok_env, conn)


def test_a_dead_access_token_seen_while_a_refresh_is_under_way_does_not_mark_the_account(
    tiktok_env: Any,
) -> None:
    # Given a refresher holding the account (TikTok has rotated, the answer is on its way)
    now = int(time.time())
    conn = connect(tiktok_env, "tenant-a", now=now)
    clock = ManualClock(now)
    held = HeldRefresh(tiktok_env.client().refresh)
    winner = refresher(held, clock)
    thread, won = in_thread(lambda: winner.refresh(conn.tenant_id, conn.open_id, now=now, due=always))
    assert held.reached.wait(timeout=30)

    # When TikTok refuses the account's current access token to a creator_info call made meanwhile (the
    # token ended early at TikTok, before its stated expiry, as integrators have seen)
    end_access_token_early(tiktok_env, AccountRepository().get_tokens(conn.tenant_id, conn.open_id)[0])
    client = tiktok_env.client()
    with pytest.raises(UpstreamError) as caught:
        creator_form(
            conn.tenant_id,
            conn.open_id,
            accounts=AccountRepository(),
            client=client,
            tokens=refresher(client, clock),
            pacer=PacingTable(),
            audited=False,
            media_type="video",
            now=now,
        )
    held.release()
    thread.join(timeout=60)

    # Then that call did not mark the account (a refresh held it: "try again"), and the refresh stands
    assert caught.value.code == "upstream_error"
    assert isinstance(won[0], RefreshResult)
    assert won[0].outcome is Outcome.REFRESHED
    assert_grant_alive(tiktok_env, conn)
    assert [kind for kind, _ in detail_types(tiktok_env, conn.open_id)] == []


def test_fifty_mixed_refreshers_on_one_account_keep_the_grant_twenty_times_over(tiktok_env: Any) -> None:
    """50 concurrent refreshers, half the scheduled sweep's path and half on demand, on one account under
    strict rotation, 20 rounds. Leases never expire (manual clock) and waiting has no wall-clock deadline,
    so the outcome depends on no thread's speed: every interleaving must end the same way."""
    conn = connect(tiktok_env, "tenant-a")
    counting = CountingRefresh(tiktok_env.client().refresh)
    shared = refresher(
        counting, ManualClock(time.time()), monotonic=ManualClock(0), sleep=lambda _s: time.sleep(0.005)
    )
    for round_no in range(20):
        _one_round_of_fifty(tiktok_env, conn, shared, counting, round_no)


def _one_round_of_fifty(
    env: Any, conn: Connected, shared: TokenRefresher, counting: CountingRefresh, round_no: int
) -> None:
    repo = AccountRepository()
    # Given an access token ending in 30 s (due for both paths, too short to hand out while busy)
    now = int(time.time())
    AccountModel(tenant_id=conn.tenant_id, open_id=conn.open_id).update(
        actions=[AccountModel.access_expires_at.set(now + 30)]
    )
    version = repo.get(conn.tenant_id, conn.open_id).version
    calls_before = counting.calls
    horizon = sweep_horizon(now)
    start = threading.Barrier(50)

    def sweep_path() -> str | None:
        start.wait(timeout=60)
        result = shared.refresh(
            conn.tenant_id,
            conn.open_id,
            now=now,
            expected_version=version,  # what the sweep's index read saw
            due=lambda a: due_in_sweep(a.access_expires_at, a.refresh_expires_at, horizon=horizon),
        )
        return result.access_token

    def on_demand_path() -> str:
        start.wait(timeout=60)
        return shared.ensure_fresh_token(conn.tenant_id, conn.open_id, now=now)

    # When 25 sweep refreshers and 25 on-demand callers go at once
    started = [in_thread(sweep_path if i % 2 else on_demand_path) for i in range(50)]
    for thread, _ in started:
        thread.join(timeout=120)
    results = [box[0] if box else None for _, box in started]

    # Then exactly one refresh reached TikTok, every caller holds a working access token, and the account
    # is active with the one refresh token TikTok still accepts
    assert not any(thread.is_alive() for thread, _ in started), f"round {round_no}: a caller hung"
    assert all(isinstance(token, str) and token for token in results), (round_no, results)
    assert counting.calls - calls_before == 1, round_no
    client = env.client()
    for token in set(results):
        assert client.user_info(str(token)).open_id == conn.open_id
    assert_grant_alive(env, conn)
    assert repo.get(conn.tenant_id, conn.open_id).version == version + 1

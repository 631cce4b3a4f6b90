"""What the refresh schedule does (docs/events.md "What the schedule does"), against moto (template tables)
and the emulator over HTTP with its default 2 h access / 180 d refresh tokens: grants are kept alive, access
tokens are left to the on-demand path, a feature's need for a live token is met ahead of time, and the
one-off backfill moves rows keyed by the old rule. Sweeps run on an injected clock (their `now` and the
clock their refreshes save with); nothing waits on wall time."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.integration.lifecycle.conftest import connect
from tiktok_publisher.adapters.accounts_table import AccountRepository, RefreshStore
from tiktok_publisher.adapters.dynamodb import AccountModel
from tiktok_publisher.bootstrap import ports
from tiktok_publisher.domain.accounts import REFRESH_TOKEN_WINDOW_S
from tiktok_publisher.domain.refresh import sweep_horizon
from tiktok_publisher.entrypoints.refresh import handle
from tiktok_publisher.refresh.backfill import backfill_refresh_due

HOUR = 3600
DAY = 86400
SCHEDULED = {
    "version": "0",
    "id": "e1",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/tiktok-publisher-local-refresh-tokens"],
}


def plenty() -> float:
    return 900.0


def sweep_at(at: int) -> dict[str, Any]:
    """One scheduled run as if the clock said `at`: its horizon, and the time its refreshes save with."""
    runtime = ports().refresh_runtime
    runtime.sweep.clock = lambda: float(at)
    return runtime.run_sweep(now=at, time_left=plenty)


def raw_item(env: Any, tenant_id: str, open_id: str) -> dict[str, Any]:
    return env.aws.dynamodb.get_item(
        TableName=env.aws.accounts_table,
        Key={"tenant_id": {"S": tenant_id}, "open_id": {"S": open_id}},
        ConsistentRead=True,
    )["Item"]


def rotations(env: Any, open_id: str) -> int:
    """Refreshes TikTok (the emulator) answered for this user: each rotates one refresh token."""
    return sum(1 for t in env.emulator.state()["refresh_tokens"] if t["open_id"] == open_id and t["rotated"])


def test_an_idle_account_is_left_alone_for_days_and_refreshed_before_its_grants_last_30_days(
    tiktok_env: Any,
) -> None:
    # Given an account connected now with TikTok's current lifetimes (2 h access, 180 d refresh), and no
    # one posting for it
    now = int(time.time())
    conn = connect(tiktok_env, "tenant-a", "creator_public", now=now)
    repo = AccountRepository()
    connected = repo.get("tenant-a", conn.open_id)
    assert (connected.access_expires_at, connected.refresh_expires_at) == (now + 2 * HOUR, now + 180 * DAY)

    # When the schedule runs every half hour for two days (the access token ends after 2 h and stays
    # ended), then once a day up to the run just before the grant's last 30 days
    window = connected.refresh_expires_at - REFRESH_TOKEN_WINDOW_S
    last_quiet = window - (sweep_horizon(0))  # the last run whose horizon does not reach the window
    runs = [now + k * 1800 for k in range(1, 97)] + [now + d * DAY for d in range(3, 150)] + [last_quiet]
    for at in runs:
        report = sweep_at(at)
        # Then nothing is read and nothing is refreshed
        assert (report["read"], report["refreshed"]) == (0, 0), at
    assert repo.get("tenant-a", conn.open_id).version == 1
    assert rotations(tiktok_env, conn.open_id) == 0

    # And the run an hour before the window opens refreshes it, once, renewing the grant
    report = sweep_at(window - HOUR)
    assert (report["read"], report["due"], report["refreshed"]) == (1, 1, 1)
    after = repo.get("tenant-a", conn.open_id)
    assert (after.status, after.version) == ("active", 2)
    assert after.refresh_expires_at == window - HOUR + 180 * DAY
    assert int(raw_item(tiktok_env, "tenant-a", conn.open_id)["refresh_due_at"]["N"]) == (
        after.refresh_expires_at - REFRESH_TOKEN_WINDOW_S
    )
    assert rotations(tiktok_env, conn.open_id) == 1
    access, _ = repo.get_tokens("tenant-a", conn.open_id)
    assert tiktok_env.client().user_info(access).open_id == conn.open_id


def test_the_sweep_reads_at_most_1_1_items_per_due_account(tiktok_env: Any) -> None:
    # Given 40 idle accounts (access tokens ended at various times, grants far off), 2 marked
    # needs_reconnect, and 5 whose grants enter their last 30 days within the run's horizon
    now = int(time.time())
    for i in range(40):
        connect(tiktok_env, f"tenant-idle-{i}", now=now - (i % 10) * DAY - i * 600)
    for i in range(2):
        dead = connect(tiktok_env, f"tenant-dead-{i}", now=now, refresh_expires_in=10 * DAY)
        AccountRepository().mark_needs_reconnect(dead.tenant_id, dead.open_id, "invalid_grant")
    due = [
        connect(tiktok_env, f"tenant-due-{i}", now=now, refresh_expires_in=REFRESH_TOKEN_WINDOW_S + i * 300)
        for i in range(5)
    ]

    # When the schedule runs
    result = handle(SCHEDULED, time_left=plenty)

    # Then it read only what it refreshed
    assert (result["due"], result["refreshed"]) == (5, 5)
    assert result["read"] <= 1.1 * result["due"]
    repo = AccountRepository()
    assert all(repo.get(d.tenant_id, d.open_id).version == 2 for d in due)


def test_a_features_need_for_a_live_token_is_met_by_the_sweep_ahead_of_time(tiktok_env: Any) -> None:
    # Given an idle account whose access token ended yesterday (not due: its grant is far off)
    now = int(time.time())
    conn = connect(tiktok_env, "tenant-a", now=now - DAY)
    repo = AccountRepository()
    assert sweep_at(now)["read"] == 0

    # When a feature says it will call TikTok for it tomorrow
    tomorrow = now + DAY
    assert repo.need_fresh_token_by("tenant-a", conn.open_id, tomorrow, now=now)

    # Then the account is due by then, without any other change to the row (no version bump)
    marked = repo.get("tenant-a", conn.open_id)
    assert (marked.fresh_token_by, marked.version) == (tomorrow, 1)
    assert int(raw_item(tiktok_env, "tenant-a", conn.open_id)["refresh_due_at"]["N"]) == tomorrow
    assert sweep_at(now + HOUR)["read"] == 0  # not yet
    report = sweep_at(tomorrow - HOUR)  # the run before the need
    assert (report["read"], report["refreshed"]) == (1, 1)
    after = repo.get("tenant-a", conn.open_id)
    assert after.access_expires_at == tomorrow - HOUR + 2 * HOUR  # lives past the need
    # and once met, the need no longer pulls the account: it is due again 30 days before its grant ends
    assert int(raw_item(tiktok_env, "tenant-a", conn.open_id)["refresh_due_at"]["N"]) == (
        after.refresh_expires_at - REFRESH_TOKEN_WINDOW_S
    )
    assert sweep_at(tomorrow)["read"] == 0


def test_a_need_the_current_token_covers_changes_nothing_and_an_earlier_pending_need_wins(
    tiktok_env: Any,
) -> None:
    now = int(time.time())
    conn = connect(tiktok_env, "tenant-a", now=now)  # access token good for 2 h
    repo = AccountRepository()
    grant_due = now + 180 * DAY - REFRESH_TOKEN_WINDOW_S

    assert repo.need_fresh_token_by("tenant-a", conn.open_id, now + HOUR, now=now)  # covered
    assert int(raw_item(tiktok_env, "tenant-a", conn.open_id)["refresh_due_at"]["N"]) == grant_due

    assert repo.need_fresh_token_by("tenant-a", conn.open_id, now + 2 * DAY, now=now)
    assert repo.need_fresh_token_by("tenant-a", conn.open_id, now + 5 * DAY, now=now)  # later: kept earlier
    assert repo.get("tenant-a", conn.open_id).fresh_token_by == now + 2 * DAY
    assert int(raw_item(tiktok_env, "tenant-a", conn.open_id)["refresh_due_at"]["N"]) == now + 2 * DAY

    repo.mark_needs_reconnect("tenant-a", conn.open_id, "invalid_grant")
    assert not repo.need_fresh_token_by("tenant-a", conn.open_id, now + DAY, now=now)


def test_a_need_recorded_while_a_refresh_is_saving_is_kept(tiktok_env: Any) -> None:
    # Given a refresher that read the row (version 1) and got new tokens from TikTok
    now = int(time.time())
    conn = connect(tiktok_env, "tenant-a", now=now - DAY)
    repo = AccountRepository()
    read = repo.get_credentials("tenant-a", conn.open_id)
    tokens = tiktok_env.client().refresh(read.refresh_token)

    # When a feature records a need between that read and the save (the need bumps no version, so the save
    # at version 1 still goes through, computing the index key from the tokens alone)
    in_a_week = now + 7 * DAY
    assert repo.need_fresh_token_by("tenant-a", conn.open_id, in_a_week, now=now)
    assert repo.save_refreshed("tenant-a", conn.open_id, tokens, expected_version=1, now=now)

    # Then the saved row is still due by the need (its 2 h token will not last a week)
    assert int(raw_item(tiktok_env, "tenant-a", conn.open_id)["refresh_due_at"]["N"]) == in_a_week
    assert repo.get("tenant-a", conn.open_id).version == 2


def _key_by_the_old_rule(env: Any, tenant_id: str, open_id: str) -> int:
    """Put the row where the old rule had it: its access token's end (rows written before the upgrade)."""
    item = raw_item(env, tenant_id, open_id)
    old_key = min(int(item["access_expires_at"]["N"]), int(item["refresh_expires_at"]["N"]) - 30 * DAY)
    row = AccountModel(tenant_id=tenant_id, open_id=open_id)
    row.update(actions=[AccountModel.refresh_due_at.set(old_key)])
    return old_key


def test_the_backfill_moves_rows_keyed_by_the_old_rule_once(tiktok_env: Any) -> None:
    # Given accounts written before the upgrade (keyed by their access token's end, long past), one that is
    # already placed by the new rule, and accounts out of the index
    now = int(time.time())
    old = [connect(tiktok_env, f"tenant-{i}", now=now - i * DAY - 3 * HOUR) for i in range(4)]
    for conn in old:
        _key_by_the_old_rule(tiktok_env, conn.tenant_id, conn.open_id)
    placed = connect(tiktok_env, "tenant-new", now=now)
    gone = connect(tiktok_env, "tenant-gone", now=now)
    AccountRepository().mark_revoked(gone.tenant_id, gone.open_id, "disconnected")
    dead = connect(tiktok_env, "tenant-dead", now=now)
    AccountRepository().mark_needs_reconnect(dead.tenant_id, dead.open_id, "invalid_grant")
    # (until then every sweep reads the old rows and refreshes none of them: a read per row and run)
    before = handle(SCHEDULED, time_left=plenty)
    assert (before["read"], before["refreshed"]) == (4, 0)

    # When the backfill runs, first as a dry run
    store = RefreshStore()
    dry = backfill_refresh_due(store, shards=4, dry_run=True, page_size=3)
    assert (dry.scanned, dry.indexed, dry.moved, dry.unchanged) == (7, 5, 4, 1)
    assert handle(SCHEDULED, time_left=plenty)["read"] == 4  # nothing written
    report = backfill_refresh_due(store, shards=4, page_size=3)

    # Then every old row sits 30 days before its grant's end, the sweep reads nothing, and a second run
    # moves nothing; versions are untouched (a refresher's lease stays valid)
    assert (report.moved, report.unchanged, report.changed_meanwhile) == (4, 1, 0)
    assert report.pages == 3
    for conn in [*old, placed]:
        item = raw_item(tiktok_env, conn.tenant_id, conn.open_id)
        grant_end = int(item["refresh_expires_at"]["N"])
        assert int(item["refresh_due_at"]["N"]) == grant_end - REFRESH_TOKEN_WINDOW_S
        assert item["version"]["N"] == "1"
    for conn in (gone, dead):
        assert "refresh_due_at" not in raw_item(tiktok_env, conn.tenant_id, conn.open_id)
    assert handle(SCHEDULED, time_left=plenty)["read"] == 0
    again = backfill_refresh_due(store, shards=4)
    assert (again.moved, again.unchanged) == (0, 5)


def test_the_backfill_never_overwrites_a_row_saved_since_it_was_read(tiktok_env: Any) -> None:
    now = int(time.time())
    conn = connect(tiktok_env, "tenant-a", now=now - 3 * HOUR)
    _key_by_the_old_rule(tiktok_env, conn.tenant_id, conn.open_id)
    store = RefreshStore()
    [keys] = store.keys_page(None, limit=10).items
    # A refresh saves between the backfill's read and its write
    repo = AccountRepository()
    creds = repo.get_credentials(conn.tenant_id, conn.open_id)
    tokens = tiktok_env.client().refresh(creds.refresh_token)
    assert repo.save_refreshed(conn.tenant_id, conn.open_id, tokens, expected_version=1, now=now)
    saved_key = raw_item(tiktok_env, conn.tenant_id, conn.open_id)["refresh_due_at"]

    assert not store.set_refresh_due(keys, shard=str(keys.refresh_shard), due=12345)
    assert raw_item(tiktok_env, conn.tenant_id, conn.open_id)["refresh_due_at"] == saved_key


def test_the_backfill_command_prints_its_report(tiktok_env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from tiktok_publisher.entrypoints import cli

    now = int(time.time())
    conn = connect(tiktok_env, "tenant-a", now=now - 3 * HOUR)
    _key_by_the_old_rule(tiktok_env, conn.tenant_id, conn.open_id)

    assert cli.main(["backfill-refresh-due", "--dry-run"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert (dry["command"], dry["dry_run"], dry["moved"]) == ("backfill-refresh-due", True, 1)
    assert cli.main(["backfill-refresh-due", "--page-size", "50"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert (done["moved"], done["changed_meanwhile"]) == (1, 0)
    assert "token" not in json.dumps(done)  # no token, plain or sealed, in what the operator sees
    with pytest.raises(SystemExit):
        cli.main(["backfill-refresh-due", "--page-size", "0"])

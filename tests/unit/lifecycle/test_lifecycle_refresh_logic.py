"""TokenRefresher and RefreshSweep over in-memory fakes: races, dead grants, budget hand-off."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any

import pytest

from tiktok_publisher.domain.accounts import Account, Credentials
from tiktok_publisher.domain.errors import AccountNeedsReconnect, NotFound, UpstreamError
from tiktok_publisher.domain.refresh import DueAccount, DuePage, ShardCursor
from tiktok_publisher.domain.tiktok import TokenSet
from tiktok_publisher.domain.tiktok_errors import OAuthError, TikTokTransportError
from tiktok_publisher.refresh.core import Outcome, TokenRefresher
from tiktok_publisher.refresh.sweep import RefreshSweep

NOW = 1_800_000_000


def account(
    open_id: str = "o1", *, version: int = 1, expires: int = NOW + 100, status: str = "active"
) -> Account:
    return Account("t1", open_id, None, None, None, [], status, expires, NOW + 10**7, "", "", None, version)


@dataclass
class Row:
    account: Account
    access: str
    refresh: str
    lease: tuple[str, int, int] | None = None  # owner, until, version
    marked_from: int | None = None  # the version a needs_reconnect mark was made from


class FakeAccounts:
    """Accounts table + lease port in memory, with the real conditions."""

    def __init__(self, *rows: Row) -> None:
        self.rows = {r.account.open_id: r for r in rows}
        self.lock = threading.Lock()
        self.marked: list[str] = []

    def get(self, tenant_id: str, open_id: str) -> Account:
        if open_id not in self.rows:
            raise NotFound("no")
        return self.rows[open_id].account

    def get_credentials(self, tenant_id: str, open_id: str) -> Credentials:
        with self.lock:
            row = self.rows.get(open_id)
            if row is None:
                raise NotFound("no")
            return Credentials(row.account, row.access, row.refresh)

    def save_refreshed(
        self, tenant_id: str, open_id: str, tokens: TokenSet, *, expected_version: int, now: int
    ) -> bool:
        with self.lock:
            row = self.rows[open_id]
            if row.account.version != expected_version:
                return False
            row.account = replace(
                row.account, version=expected_version + 1, access_expires_at=now + tokens.expires_in
            )
            row.access, row.refresh = tokens.access_token, tokens.refresh_token
            return True

    def acquire_lease(
        self, tenant_id: str, open_id: str, *, version: int, owner: str, now: int, ttl: int
    ) -> bool:
        with self.lock:
            row = self.rows[open_id]
            if row.account.version != version or row.account.status != "active":
                return False
            if row.lease and row.lease[1] >= now and row.lease[2] == version:
                return False
            row.lease = (owner, now + ttl, version)
            return True

    def release_lease(self, tenant_id: str, open_id: str, *, owner: str) -> None:
        with self.lock:
            row = self.rows[open_id]
            if row.lease and row.lease[0] == owner:
                row.lease = None

    def mark_needs_reconnect(
        self,
        tenant_id: str,
        open_id: str,
        *,
        expected_version: int,
        reason: str,
        now: int,
        lease_owner: str | None,
        lease_now: int,
    ) -> bool:
        with self.lock:
            row = self.rows[open_id]
            if row.account.version != expected_version:
                return False
            if lease_owner is not None and (row.lease is None or row.lease[0] != lease_owner):
                return False  # our lease was taken over: the newer holder decides
            if (
                lease_owner is None
                and row.lease
                and row.lease[1] >= lease_now
                and row.lease[2] == expected_version
            ):
                return False  # a refresher holds the account right now
            row.account = replace(
                row.account, status="needs_reconnect", last_error=reason, version=expected_version + 1
            )
            row.lease = None
            row.marked_from = expected_version
            self.marked.append(open_id)
            return True

    def restore_refreshed(
        self, tenant_id: str, open_id: str, tokens: TokenSet, *, marked_from_version: int, now: int
    ) -> Account | None:
        with self.lock:
            row = self.rows[open_id]
            if row.account.status != "needs_reconnect" or row.marked_from != marked_from_version:
                return None
            row.account = replace(
                row.account,
                status="active",
                last_error=None,
                version=row.account.version + 1,
                access_expires_at=now + tokens.expires_in,
            )
            row.access, row.refresh = tokens.access_token, tokens.refresh_token
            row.marked_from = None
            return row.account


class FakeTikTok:
    """Strict rotation: each refresh token works once."""

    def __init__(self, live: set[str], *, error: Exception | None = None) -> None:
        self.live = set(live)
        self.error = error
        self.calls = 0
        self.lock = threading.Lock()
        self.counter = 0

    def refresh(self, refresh_token: str) -> TokenSet:
        with self.lock:
            self.calls += 1
            if self.error is not None:
                raise self.error
            if refresh_token not in self.live:
                raise OAuthError("invalid_grant", "Refresh token is invalid or revoked.")
            self.live.discard(refresh_token)
            self.counter += 1
            new = f"rft.new{self.counter}"
            self.live.add(new)
        access = f"act.new{self.counter}"
        return TokenSet(
            access_token=access,
            refresh_token=new,
            open_id="o1",
            scopes=[],
            expires_in=86400,
            refresh_expires_in=10**7,
        )


class FakeEvents:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], str]] = []

    def publish(self, detail_type: str, detail: dict[str, Any], *, tenant_id: str) -> None:
        self.sent.append((detail_type, detail, tenant_id))


def make(
    rows: FakeAccounts, tiktok: FakeTikTok, events: FakeEvents | None = None, *, clock: float = NOW
) -> TokenRefresher:
    """A refresher over the fakes whose leases are taken and compared at `clock`."""
    return TokenRefresher(
        rows, rows, tiktok, events or FakeEvents(), sleep=lambda _s: None, clock=lambda: clock
    )


def due(_a: Account) -> bool:
    return True


def test_refresh_saves_the_rotated_token_and_bumps_the_version() -> None:
    rows = FakeAccounts(Row(account(), "act.old", "rft.old"))
    result = make(rows, FakeTikTok({"rft.old"})).refresh("t1", "o1", now=NOW, due=due)
    assert result.outcome is Outcome.REFRESHED
    assert result.access_token == "act.new1"
    assert rows.rows["o1"].refresh == "rft.new1"
    assert rows.rows["o1"].account.version == 2


def test_version_moved_since_the_index_read_means_someone_else_did_it() -> None:
    rows = FakeAccounts(Row(account(version=5), "act.cur", "rft.cur"))
    tiktok = FakeTikTok({"rft.cur"})
    result = make(rows, tiktok).refresh("t1", "o1", now=NOW, due=due, expected_version=4)
    assert result.outcome is Outcome.RACED
    assert tiktok.calls == 0


def test_invalid_grant_after_a_winner_rotated_keeps_the_winners_token() -> None:
    # We read version 1, then a winner refreshed (version 2) before our TikTok call answered.
    rows = FakeAccounts(Row(account(), "act.old", "rft.old"))
    tiktok = FakeTikTok(set())  # our rft.old is already dead

    class Winner(FakeTikTok):
        def refresh(self, refresh_token: str) -> TokenSet:
            rows.rows["o1"].account = replace(rows.rows["o1"].account, version=2)
            rows.rows["o1"].access, rows.rows["o1"].refresh = "act.winner", "rft.winner"
            return tiktok.refresh(refresh_token)

    events = FakeEvents()
    result = make(rows, Winner(set()), events).refresh("t1", "o1", now=NOW, due=due)
    assert result.outcome is Outcome.RACED
    assert result.access_token == "act.winner"
    assert rows.marked == []
    assert events.sent == []


def test_invalid_grant_with_no_race_marks_needs_reconnect_and_emits_once() -> None:
    rows = FakeAccounts(Row(account(), "act.old", "rft.revoked"))
    events = FakeEvents()
    result = make(rows, FakeTikTok(set()), events).refresh("t1", "o1", now=NOW, due=due)
    assert result.outcome is Outcome.NEEDS_RECONNECT
    assert rows.rows["o1"].account.status == "needs_reconnect"
    assert [(t, d["open_id"], d["reason"]) for t, d, _ in events.sent] == [
        ("Account Needs Reconnect", "o1", "invalid_grant")
    ]


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (TikTokTransportError("transport", "timed out"), Outcome.TRANSIENT),
        (OAuthError("server_error", "", http_status=500), Outcome.TRANSIENT),
        (OAuthError("invalid_client", "bad secret"), Outcome.APP_CONFIG),
    ],
)
def test_transient_and_app_errors_leave_the_account_alone(error: Exception, outcome: Outcome) -> None:
    rows = FakeAccounts(Row(account(), "act.old", "rft.old"))
    result = make(rows, FakeTikTok({"rft.old"}, error=error)).refresh("t1", "o1", now=NOW, due=due)
    assert result.outcome is outcome
    row = rows.rows["o1"]
    assert (row.account.status, row.account.version, row.refresh, row.lease) == ("active", 1, "rft.old", None)


def test_a_held_lease_makes_others_busy_and_an_expired_one_does_not() -> None:
    rows = FakeAccounts(Row(account(), "act.old", "rft.old", lease=("other", NOW + 10, 1)))
    tiktok = FakeTikTok({"rft.old"})
    assert make(rows, tiktok).refresh("t1", "o1", now=NOW, due=due).outcome is Outcome.BUSY
    assert tiktok.calls == 0
    # The lease ends on the refresher's clock (never on the caller's `now`)
    assert make(rows, tiktok).refresh("t1", "o1", now=NOW, due=due).outcome is Outcome.BUSY
    assert (
        make(rows, tiktok, clock=NOW + 11).refresh("t1", "o1", now=NOW, due=due).outcome is Outcome.REFRESHED
    )


def test_on_demand_uses_a_still_valid_token_while_another_refresher_works() -> None:
    rows = FakeAccounts(Row(account(expires=NOW + 200), "act.cur", "rft.cur", lease=("other", NOW + 30, 1)))
    assert make(rows, FakeTikTok({"rft.cur"})).ensure_fresh_token("t1", "o1", now=NOW) == "act.cur"


def test_on_demand_waits_for_the_other_refresher_when_the_token_is_expiring() -> None:
    rows = FakeAccounts(Row(account(expires=NOW + 10), "act.cur", "rft.cur", lease=("other", NOW + 30, 1)))
    ticks: list[float] = []

    def sleep(_s: float) -> None:
        ticks.append(_s)
        if len(ticks) == 3:  # the other refresher saves meanwhile
            rows.rows["o1"].account = replace(
                rows.rows["o1"].account, version=2, access_expires_at=NOW + 86400
            )
            rows.rows["o1"].access = "act.theirs"

    refresher = TokenRefresher(rows, rows, FakeTikTok(set()), FakeEvents(), sleep=sleep, clock=lambda: NOW)
    assert refresher.ensure_fresh_token("t1", "o1", now=NOW) == "act.theirs"


def test_on_demand_gives_up_after_its_wait_budget() -> None:
    rows = FakeAccounts(Row(account(expires=NOW + 10), "act.cur", "rft.cur", lease=("other", NOW + 30, 1)))
    clock = iter(range(0, 1000))
    refresher = TokenRefresher(
        rows,
        rows,
        FakeTikTok(set()),
        FakeEvents(),
        sleep=lambda _s: None,
        monotonic=lambda: float(next(clock)),
        clock=lambda: NOW,
    )
    with pytest.raises(UpstreamError):
        refresher.ensure_fresh_token("t1", "o1", now=NOW, wait_s=5)


def test_on_demand_maps_a_dead_grant_to_needs_reconnect() -> None:
    rows = FakeAccounts(Row(account(expires=NOW + 10), "act.cur", "rft.dead"))
    with pytest.raises(AccountNeedsReconnect):
        make(rows, FakeTikTok(set())).ensure_fresh_token("t1", "o1", now=NOW)
    with pytest.raises(AccountNeedsReconnect):  # and stays so without calling TikTok again
        make(rows, FakeTikTok(set())).ensure_fresh_token("t1", "o1", now=NOW)


def test_fresh_token_is_returned_without_calling_tiktok() -> None:
    rows = FakeAccounts(Row(account(expires=NOW + 3600), "act.cur", "rft.cur"))
    tiktok = FakeTikTok({"rft.cur"})
    assert make(rows, tiktok).ensure_fresh_token("t1", "o1", now=NOW) == "act.cur"
    assert tiktok.calls == 0


def test_twenty_concurrent_refreshers_leave_a_working_refresh_token() -> None:
    rows = FakeAccounts(Row(account(expires=NOW + 10), "act.old", "rft.old"))
    tiktok = FakeTikTok({"rft.old"})
    refresher = make(rows, tiktok)
    barrier = threading.Barrier(20)
    errors: list[Exception] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            if index % 2:
                refresher.ensure_fresh_token("t1", "o1", now=NOW)
            else:
                refresher.refresh("t1", "o1", now=NOW, due=lambda a: a.access_expires_at < NOW + 4500)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert rows.rows["o1"].account.status == "active"
    assert rows.rows["o1"].refresh in tiktok.live  # the stored refresh token still works


# ---------------------------------------------------------------------- the sweep


class FakeIndex:
    def __init__(self, shards: dict[str, list[DueAccount]]) -> None:
        self.shards = shards
        self.pages: list[tuple[str, tuple[int, str, str] | None]] = []

    def due_page(self, cursor: ShardCursor, *, before: int, limit: int) -> DuePage:
        self.pages.append((cursor.shard, cursor.after))
        items = sorted(
            (i for i in self.shards.get(cursor.shard, []) if i.refresh_due_at < before),
            key=lambda i: i.position,
        )
        if cursor.after is not None:
            items = [i for i in items if i.position > cursor.after]
        page = items[:limit]
        return DuePage(page, len(items) > limit, len(page))


class RecordingRefresher:
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.release = threading.Event()

    def refresh(self, tenant_id: str, open_id: str, **_: Any) -> Any:
        from tiktok_publisher.refresh.core import RefreshResult

        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.seen.append(open_id)
        with self.lock:
            self.in_flight -= 1
        if open_id.endswith("boom"):
            raise RuntimeError("storage down")
        return RefreshResult(Outcome.REFRESHED)


def due_items(shard: str, count: int, start: int = 0) -> list[DueAccount]:
    return [DueAccount("t", f"s{shard}-{i:03d}", NOW + i, 1) for i in range(start, start + count)]


def test_sweep_reads_only_due_items_and_refreshes_each_once() -> None:
    index = FakeIndex(
        {"0": due_items("0", 7), "1": [*due_items("1", 5), DueAccount("t", "late", NOW + 10**6, 1)]}
    )
    refresher = RecordingRefresher()
    sweep = RefreshSweep(refresher, index, concurrency=3, page_size=2)  # type: ignore[arg-type]
    report = sweep.run([ShardCursor("0"), ShardCursor("1")], horizon=NOW + 1000, time_left=lambda: 100.0)
    assert sorted(refresher.seen) == sorted(
        a.open_id for s in ("0", "1") for a in due_items(s, 7 if s == "0" else 5)
    )
    assert (report.read, report.due, report.refreshed) == (12, 12, 12)
    assert report.shards_done == ["0", "1"]
    assert report.handed_on == []
    assert refresher.max_in_flight <= 3


def test_sweep_out_of_time_hands_on_from_the_last_account_started() -> None:
    index = FakeIndex({"0": due_items("0", 6), "1": due_items("1", 4)})
    refresher = RecordingRefresher()
    budget = iter([100.0] * 5 + [1.0] * 100)  # room for 4 accounts, then under the reserve
    sweep = RefreshSweep(refresher, index, concurrency=2, page_size=10, reserve_s=5)  # type: ignore[arg-type]
    report = sweep.run(
        [ShardCursor("0"), ShardCursor("1")], horizon=NOW + 1000, time_left=lambda: next(budget)
    )
    started = list(refresher.seen)
    assert len(started) == 4
    assert report.handed_on[0] == ShardCursor("0", (NOW + 3, "t", "s0-003"))
    assert report.handed_on[1] == ShardCursor("1")

    # The continuation picks up exactly where the first run stopped: nothing twice, nothing skipped.
    second = RecordingRefresher()
    rest = RefreshSweep(second, index, concurrency=2, page_size=10)  # type: ignore[arg-type]
    rest.run(report.handed_on, horizon=NOW + 1000, time_left=lambda: 100.0)
    everything = [a.open_id for a in due_items("0", 6) + due_items("1", 4)]
    assert sorted(started + second.seen) == sorted(everything)


def test_one_failing_account_does_not_stop_the_sweep() -> None:
    items = [*due_items("0", 2), DueAccount("t", "zz-boom", NOW + 50, 1), *due_items("0", 2, start=60)]
    refresher = RecordingRefresher()
    report = RefreshSweep(refresher, FakeIndex({"0": items})).run(  # type: ignore[arg-type]
        [ShardCursor("0")], horizon=NOW + 1000, time_left=lambda: 100.0
    )
    assert report.failed == 1
    assert report.refreshed == 4

"""The refresh schedule at a million accounts: the old policy and the new, side by side (issue 13).

1,000,000 connected accounts for 30 days on an injected clock, with TikTok's current lifetimes (access 2 h,
refresh 180 d, strict rotation, every refresh renewing the grant) and 5 % of the accounts posting on any
given day (50,000 posts a day, each account posting at most once a day, at a random second). No DynamoDB row
exists: the product's own code runs over a simulated refresh_due index and simulated rows.

- The schedule is the product's `RefreshSweep` (every 30 minutes, prod's rate; horizon from
  `sweep_horizon`) driving the product's `TokenRefresher` through the ports of `tiktok_publisher.ports`, over
  `SimIndex`, a sorted index keyed the way each policy keys refresh_due_at.
- Every post first asks the product's `TokenRefresher.ensure_fresh_token` for a token (on demand: refresh
  when less than 5 minutes are left), as the publish path does before each TikTok call.
- The new policy keys rows with `refresh_due_at_for` and sweeps with `due_in_sweep` (the product's). The old
  policy is the rule the product had before: `min(access end, refresh end - 30 d)`, copied here
  (`old_refresh_due_at`), since the product no longer has it.
- Rows: under the new policy one row per account. Under the old one the sweep refreshes every account every
  hour or so, which no one can simulate one by one for a month; accounts are grouped into 125 cohorts whose
  members share their token times (they were refreshed in the same run, and keep being so), each cohort one
  row of weight 8,000: a TikTok call or an index read of that row counts 8,000. This is exact as long as no
  post ever needs an on-demand refresh under the old policy (its sweep keeps every token at least 45
  minutes from its end); the run checks that and reports `cohort_model_exact`.

Figures per day (the first day included; each policy starts from its own steady state):
- TikTok token calls: refresh requests sent to TikTok;
- sweep items read: index items the sweep's queries returned (DynamoDB's ScannedCount);
- KMS calls: GenerateDataKey + Decrypt, by the token cipher's caching rules (TokenCipher's defaults: a data
  key seals up to 10,000 values for up to 300 s in a container; a container remembers up to 64 data keys
  for 300 s after opening them). A refresh opens the row's tokens and seals two new ones; a post opens its
  account's tokens. The sweep runs in one warm container refreshing 15 accounts a second (what `make bench`
  measured for one invocation); posts run in one warm worker container. Both assumptions favour caching
  equally for the two policies.
- minimum: what the workload needs whatever the policy, computed independently of the product's code: one
  refresh per post made when its account's access token had ended (or had less than 5 minutes left), plus
  one per grant entering its last 30 days without a refresh since.
The target: the new policy's token calls within 1.1x of that minimum.
"""

from __future__ import annotations

import bisect
import inspect
import math
import random
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tiktok_publisher.adapters.kms_cipher import TokenCipher
from tiktok_publisher.domain.accounts import (
    ON_DEMAND_MARGIN_S,
    REFRESH_TOKEN_WINDOW_S,
    Account,
    AccountStatus,
    Credentials,
    refresh_due_at_for,
)
from tiktok_publisher.domain.refresh import DueAccount, DuePage, ShardCursor, due_in_sweep, sweep_horizon
from tiktok_publisher.domain.tiktok import TokenSet
from tiktok_publisher.refresh.core import TokenRefresher
from tiktok_publisher.refresh.sweep import RefreshSweep

ACCOUNTS = 1_000_000
DAYS = 30
POSTING_SHARE = 0.05
ACCESS_TTL = 2 * 3600
REFRESH_TTL = 180 * 86400
RUN_EVERY_S = 1800  # template.yaml StageConfig.prod.RefreshRate: rate(30 minutes)
SWEEP_REFRESHES_PER_S = 15.0  # one sweep invocation against moto, as measured by `make bench` (refresh)
OLD_COHORTS = 125
SEED = 13
T0 = 1_800_000_000
DAY = 86400
TARGET = 1.1


def old_refresh_due_at(access_expires_at: int, refresh_expires_at: int) -> int:
    """The refresh_due_at of the product before issue 13: the access token's end, or 30 days before the
    grant's end if that comes first."""
    if refresh_expires_at <= 0:
        return access_expires_at
    return min(access_expires_at, refresh_expires_at - REFRESH_TOKEN_WINDOW_S)


# ---------------------------------------------------------------------- policies


@dataclass(frozen=True)
class Policy:
    name: str
    due_at: Callable[[int, int, int], int]  # (access end, refresh end, refreshed at) -> refresh_due_at
    sweep_due: Callable[[Account, int], bool]  # (account on a fresh read, horizon) -> refresh now


NEW = Policy(
    "new",
    lambda access, refresh, at: refresh_due_at_for(access, refresh, refreshed_at=at),
    lambda a, horizon: due_in_sweep(
        a.access_expires_at, a.refresh_expires_at, horizon=horizon, fresh_token_by=a.fresh_token_by
    ),
)
OLD = Policy(
    "old",
    lambda access, refresh, _at: old_refresh_due_at(access, refresh),
    lambda a, horizon: old_refresh_due_at(a.access_expires_at, a.refresh_expires_at) < horizon,
)


# ---------------------------------------------------------------------- KMS, by the cipher's rules


def _cipher_defaults() -> tuple[float, int, int]:
    params = inspect.signature(TokenCipher.__init__).parameters
    return (
        float(params["max_key_age_s"].default),
        int(params["max_key_uses"].default),
        int(params["max_cached_keys"].default),
    )


@dataclass
class _Container:
    key: int = -1
    key_created: float = -math.inf
    key_uses: int = 0
    opened: OrderedDict[int, float] = field(default_factory=OrderedDict)


class KmsMeter:
    """Counts the KMS calls TokenCipher would make (see module docstring). Data keys are numbered."""

    def __init__(self) -> None:
        self.max_age, self.max_uses, self.max_cached = _cipher_defaults()
        self.containers: dict[str, _Container] = {}
        self.generate = 0
        self.decrypt = 0
        self.next_key = 0

    def _container(self, name: str) -> _Container:
        return self.containers.setdefault(name, _Container())

    def seal(self, container: str, values: int, *, start: float, rate: float | None) -> list[int]:
        """Seal `values` tokens from `start` (at `rate` a second, or all at once); the data keys used."""
        box = self._container(container)
        keys: list[int] = []
        now = start
        left = values
        while left > 0:
            if box.key_uses >= self.max_uses or now - box.key_created >= self.max_age:
                self.generate += 1
                box.key, box.key_created, box.key_uses = self.next_key, now, 0
                self.next_key += 1
                self._remember(box, box.key, now)
            room = self.max_uses - box.key_uses
            if rate is not None:
                room = min(room, max(1, int((box.key_created + self.max_age - now) * rate)))
            used = min(room, left)
            box.key_uses += used
            left -= used
            keys.append(box.key)
            if rate is not None:
                now += used / rate
        return keys

    def open(self, container: str, keys: Sequence[int], *, now: float) -> None:
        """Open values sealed with `keys` (legacy keys below 0 are distinct too)."""
        box = self._container(container)
        for key in keys:
            created = box.opened.get(key)
            if created is not None and now - created < self.max_age:
                box.opened.move_to_end(key)
                continue
            self.decrypt += 1
            self._remember(box, key, now)

    def _remember(self, box: _Container, key: int, now: float) -> None:
        box.opened[key] = now
        box.opened.move_to_end(key)
        while len(box.opened) > self.max_cached:
            box.opened.popitem(last=False)

    @property
    def calls(self) -> int:
        return self.generate + self.decrypt


# ---------------------------------------------------------------------- rows and the index


class SimIndex:
    """The refresh_due index over simulated rows (RefreshDueIndex): one shard, in (refresh_due_at, row)
    order. Rows start in `base` (sorted once); a row re-keyed to a place the simulation can still reach goes
    to `extra`; its old place is dropped. `scanned` counts a row's weight (a cohort stands for many)."""

    def __init__(self, dues: Sequence[int], weights: Sequence[int], *, reach: int) -> None:
        if all(dues[i] <= dues[i + 1] for i in range(len(dues) - 1)):
            order: Sequence[int] = range(len(dues))  # already in index order (a million rows: no copy)
        else:
            order = sorted(range(len(dues)), key=lambda i: (dues[i], i))
        self.base_row = array("q", order)
        self.base_due = array("q", (dues[i] for i in order))
        self.base_pos = array("q", [0] * len(dues))
        for pos, row in enumerate(order):
            self.base_pos[row] = pos
        self.dead = bytearray(len(dues))
        self.head = 0  # every base entry before it is dead
        self.extra: list[tuple[int, int]] = []
        self.weights = weights
        self.versions: Sequence[int] = [0] * len(dues)  # the rows' versions (SimRows plugs its own in)
        self.reach = reach
        self.where: dict[int, int] = {}  # row -> its due in extra

    def rekey(self, row: int, due: int) -> None:
        pos = self.base_pos[row]
        if pos >= 0:
            self.dead[pos] = 1
            self.base_pos[row] = -1
        old = self.where.pop(row, None)
        if old is not None:
            index = bisect.bisect_left(self.extra, (old, row))
            del self.extra[index]
        if due < self.reach:
            bisect.insort(self.extra, (due, row))
            self.where[row] = due

    def _from_base(self, after: tuple[int, int] | None) -> Iterator[tuple[int, int]]:
        while self.head < len(self.dead) and self.dead[self.head]:
            self.head += 1
        start = self.head
        if after is not None:
            start = max(start, bisect.bisect_left(self.base_due, after[0]))
            while start < len(self.base_due) and (self.base_due[start], self.base_row[start]) <= after:
                start += 1
        for pos in range(start, len(self.base_due)):
            if not self.dead[pos]:
                yield self.base_due[pos], self.base_row[pos]

    def _from_extra(self, after: tuple[int, int] | None) -> Iterator[tuple[int, int]]:
        start = 0 if after is None else bisect.bisect_right(self.extra, after)
        yield from list(self.extra[start:])

    def due_page(self, cursor: ShardCursor, *, before: int, limit: int) -> DuePage:
        after = None if cursor.after is None else (cursor.after[0], int(cursor.after[2]))
        base, extra = self._from_base(after), self._from_extra(after)
        nb, ne = next(base, None), next(extra, None)
        items: list[DueAccount] = []
        scanned = 0
        while len(items) < limit:
            pick = min((x for x in (nb, ne) if x is not None), default=None)
            if pick is None or pick[0] >= before:
                break
            if pick == nb:
                nb = next(base, None)
            else:
                ne = next(extra, None)
            due, row = pick
            items.append(DueAccount("sim", str(row), due, int(self.versions[row])))
            scanned += int(self.weights[row])
        return DuePage(items, len(items) == limit, scanned)


class SimRows:
    """The simulated Accounts table: the Accounts and RefreshLeases ports over arrays, plus a TikTok (the
    TikTokAuth port) that counts weighted refresh calls. Token strings name the row and its version."""

    def __init__(
        self,
        policy: Policy,
        access: Sequence[int],
        refresh: Sequence[int],
        weights: Sequence[int],
        *,
        meter: KmsMeter,
        reach: int,
    ) -> None:
        self.policy = policy
        self.access = array("q", access)
        self.refresh_end = array("q", refresh)
        self.version = array("q", [1] * len(access))
        self.weights = array("q", weights)
        # The data keys that sealed each row: (first, last) for an account's two tokens (compact: a million
        # rows), the whole list for a cohort's many. Negative: sealed before the run, each its own key.
        self.key_first = array("q", (-1 - i for i in range(len(access))))
        self.key_last = array("q", self.key_first)
        self.cohort_keys: dict[int, list[int]] = {}
        self.meter = meter
        self.now = 0.0  # the simulation's clock
        self.container = "sweep"
        self.calls = {"sweep": 0, "worker": 0}
        self.member_of: Callable[[str], int | None] = lambda _tenant: None
        dues = array("q", (policy.due_at(a, r, 0) for a, r in zip(access, refresh, strict=True)))
        self.index = SimIndex(dues, weights, reach=reach)
        self.index.versions = self.version
        self.sweep_clock = 0.0  # the sweep container's own time: busy while it refreshes, never backwards

    def start_sweep(self, at: float) -> None:
        self.now, self.container = at, "sweep"
        self.sweep_clock = max(self.sweep_clock, at)

    def _meter_now(self) -> float:
        return self.sweep_clock if self.container == "sweep" else self.now

    # -- Accounts
    def get(self, tenant_id: str, open_id: str) -> Account:
        i = int(open_id)
        return Account(
            tenant_id, open_id, None, None, None, [], AccountStatus.ACTIVE,
            self.access[i], self.refresh_end[i], "", "", None, self.version[i],
        )  # fmt: skip

    def get_credentials(self, tenant_id: str, open_id: str) -> Credentials:
        i = int(open_id)
        keys = self.cohort_keys.get(i) or sorted({self.key_first[i], self.key_last[i]})
        member = self.member_of(tenant_id)
        if member is not None and len(keys) > 1:  # one account of a cohort: the key that sealed it
            keys = [keys[min(len(keys) - 1, member * len(keys) // int(self.weights[i]))]]
        self.meter.open(self.container, keys, now=self._meter_now())
        v = self.version[i]
        return Credentials(self.get(tenant_id, open_id), f"act.{i}.{v}", f"rft.{i}.{v}")

    def save_refreshed(
        self, tenant_id: str, open_id: str, tokens: TokenSet, *, expected_version: int, now: int
    ) -> bool:
        i = int(open_id)
        if self.version[i] != expected_version:
            return False
        weight = int(self.weights[i])
        rate = SWEEP_REFRESHES_PER_S * 2 if self.container == "sweep" else None
        keys = self.meter.seal(self.container, 2 * weight, start=self._meter_now(), rate=rate)
        self.key_first[i], self.key_last[i] = keys[0], keys[-1]
        if weight > 1:
            self.cohort_keys[i] = keys
        if self.container == "sweep":
            self.sweep_clock += weight / SWEEP_REFRESHES_PER_S
        self.access[i] = now + tokens.expires_in
        self.refresh_end[i] = now + tokens.refresh_expires_in
        self.version[i] = expected_version + 1
        self.index.rekey(i, self.policy.due_at(self.access[i], self.refresh_end[i], now))
        return True

    def restore_refreshed(self, *_args: Any, **_kwargs: Any) -> None:
        return None  # nothing is ever marked here

    # -- RefreshLeases (one caller at a time: the lease is always free)
    def acquire_lease(self, *_args: Any, **_kwargs: Any) -> bool:
        return True

    def release_lease(self, *_args: Any, **_kwargs: Any) -> None:
        return None

    def mark_needs_reconnect(self, *_args: Any, **_kwargs: Any) -> bool:
        raise AssertionError("no grant dies in this simulation")

    # -- TikTokAuth
    def refresh(self, refresh_token: str) -> TokenSet:
        i = int(refresh_token.split(".")[1])
        self.calls[self.container] += int(self.weights[i])
        return TokenSet(
            access_token=f"act.{i}.new",
            refresh_token=f"rft.{i}.new",
            open_id=str(i),
            scopes=[],
            expires_in=ACCESS_TTL,
            refresh_expires_in=REFRESH_TTL,
        )

    # -- Events
    def publish(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class _OldSweep(RefreshSweep):
    """The product's sweep, with the old policy's re-check on a fresh read."""

    def _refresh_one(self, item: DueAccount, horizon: int) -> Any:
        return self.refresher.refresh(
            item.tenant_id,
            item.open_id,
            now=int(self.clock()),
            expected_version=item.version,
            due=lambda a: OLD.sweep_due(a, horizon),
        )


# ---------------------------------------------------------------------- the workload


def post_days(rng: random.Random, accounts: int, days: int) -> Iterator[list[tuple[int, int]]]:
    """Each day, POSTING_SHARE of the accounts post once, at a uniform second of the day: (time, account)."""
    per_day = int(accounts * POSTING_SHARE)
    for day in range(days):
        start = T0 + day * DAY
        posts = [(start + rng.randrange(DAY), account) for account in rng.sample(range(accounts), per_day)]
        posts.sort()
        yield posts


def new_steady_state(accounts: int) -> tuple[array[int], array[int]]:
    """Idle accounts under the new policy: the grant refreshed at a uniform point of its 150 days, the
    access token issued by that refresh."""
    refresh = array("q", (T0 + (i * 150 * DAY) // accounts + REFRESH_TOKEN_WINDOW_S for i in range(accounts)))
    access = array("q", (end - REFRESH_TTL + ACCESS_TTL for end in refresh))
    return access, refresh


def minimum_calls(accounts: int, days: int, seed: int) -> int:
    """What the workload needs whatever the policy (see module docstring); independent of the product."""
    access_end, refresh = new_steady_state(accounts)
    deadline = array("q", (end - REFRESH_TOKEN_WINDOW_S for end in refresh))
    initial = array("q", deadline)
    end = T0 + days * DAY
    needed = 0
    next_deadline = 0  # accounts in deadline order (initial deadlines grow with the account number)

    def grants_until(moment: int) -> None:
        nonlocal needed, next_deadline
        while next_deadline < accounts and initial[next_deadline] <= moment:
            j = next_deadline
            if deadline[j] == initial[j]:  # untouched since: the grant must be renewed now
                needed += 1
                access_end[j] = initial[j] + ACCESS_TTL
                deadline[j] = initial[j] + REFRESH_TTL - REFRESH_TOKEN_WINDOW_S
            next_deadline += 1

    for posts in post_days(random.Random(seed), accounts, days):
        for moment, account in posts:
            grants_until(moment)
            if access_end[account] - moment <= ON_DEMAND_MARGIN_S:
                needed += 1
                access_end[account] = moment + ACCESS_TTL
                deadline[account] = moment + REFRESH_TTL - REFRESH_TOKEN_WINDOW_S
    grants_until(end - 1)
    return needed


@dataclass
class PolicyRun:
    policy: str
    token_calls: int = 0
    sweep_calls: int = 0
    on_demand_calls: int = 0
    items_read: int = 0
    kms_generate: int = 0
    kms_decrypt: int = 0
    posts: int = 0
    cohort_model_exact: bool = True
    seconds: float = 0.0


def simulate(policy: Policy, *, accounts: int = ACCOUNTS, days: int = DAYS, seed: int = SEED) -> PolicyRun:
    """Run one policy over the workload (see module docstring)."""
    started = time.perf_counter()
    meter = KmsMeter()
    end = T0 + days * DAY
    reach = sweep_horizon(end) + 1
    if policy is NEW:
        access, refresh = new_steady_state(accounts)
        weights: Sequence[int] = array("q", [1]) * accounts
        cohort_of: Callable[[int], int] = lambda account: account  # noqa: E731
    else:
        per = accounts // OLD_COHORTS
        assert per * OLD_COHORTS == accounts, "the cohorts must split the accounts evenly"
        # Kept fresh by the sweep: access tokens end at phases spread over their 2 hours.
        access = array("q", (T0 + (c + 1) * ACCESS_TTL // OLD_COHORTS for c in range(OLD_COHORTS)))
        refresh = array("q", (T0 + REFRESH_TTL - (c + 1) * 60 for c in range(OLD_COHORTS)))
        weights = array("q", [per]) * OLD_COHORTS
        cohort_of = lambda account: account % OLD_COHORTS  # noqa: E731
    rows = SimRows(policy, access, refresh, weights, meter=meter, reach=reach)
    if policy is OLD:
        rows.member_of = lambda tenant: int(tenant[1:]) // OLD_COHORTS if tenant.startswith("m") else None
    refresher = TokenRefresher(
        accounts=rows,  # type: ignore[arg-type]
        leases=rows,  # type: ignore[arg-type]
        client=rows,  # type: ignore[arg-type]
        events=rows,
        sleep=lambda _s: None,
        monotonic=lambda: 0.0,
        clock=lambda: rows.now,
    )
    sweep_class = RefreshSweep if policy is NEW else _OldSweep
    sweep = sweep_class(refresher, rows.index, concurrency=1, page_size=500, clock=lambda: rows.now)
    run = PolicyRun(policy.name)
    next_run = T0
    for posts in post_days(random.Random(seed), accounts, days):
        for moment, account in posts:
            while next_run <= moment:
                _sweep_once(rows, sweep, next_run, run)
                next_run += RUN_EVERY_S
            rows.now, rows.container = float(moment), "worker"
            row = cohort_of(account)
            before = rows.calls["worker"]
            refresher.ensure_fresh_token(f"m{account}", str(row), now=moment)
            if policy is OLD and rows.calls["worker"] != before:
                run.cohort_model_exact = False  # a cohort row was refreshed for one member's post
            run.posts += 1
    while next_run < end:
        _sweep_once(rows, sweep, next_run, run)
        next_run += RUN_EVERY_S
    run.sweep_calls, run.on_demand_calls = rows.calls["sweep"], rows.calls["worker"]
    run.token_calls = run.sweep_calls + run.on_demand_calls
    run.kms_generate, run.kms_decrypt = meter.generate, meter.decrypt
    run.seconds = round(time.perf_counter() - started, 1)
    return run


def _sweep_once(rows: SimRows, sweep: RefreshSweep, at: int, run: PolicyRun) -> None:
    rows.start_sweep(float(at))
    report = sweep.run([ShardCursor("0")], horizon=sweep_horizon(at), time_left=lambda: 900.0)
    assert report.failed == 0, report.as_dict()
    run.items_read += report.read


# ---------------------------------------------------------------------- entry points


def run(accounts: int = ACCOUNTS, days: int = DAYS, seed: int = SEED) -> dict[str, Any]:
    """Both policies over the same workload, and the workload's minimum."""
    from tiktok_publisher.observability import logger

    logger.setLevel("ERROR")  # a log line per refresh would cost more than the refresh
    minimum = minimum_calls(accounts, days, seed)
    runs = [simulate(policy, accounts=accounts, days=days, seed=seed) for policy in (OLD, NEW)]
    result: dict[str, Any] = {
        "accounts": accounts,
        "days": days,
        "posting_share": POSTING_SHARE,
        "access_ttl_s": ACCESS_TTL,
        "refresh_ttl_s": REFRESH_TTL,
        "sweep_every_s": RUN_EVERY_S,
        "minimum_token_calls_per_day": round(minimum / days, 1),
        "target_ratio": TARGET,
        "policies": {},
    }
    for policy_run in runs:
        result["policies"][policy_run.policy] = {
            "token_calls_per_day": round(policy_run.token_calls / days, 1),
            "sweep_token_calls_per_day": round(policy_run.sweep_calls / days, 1),
            "on_demand_token_calls_per_day": round(policy_run.on_demand_calls / days, 1),
            "sweep_items_read_per_day": round(policy_run.items_read / days, 1),
            "kms_calls_per_day": round((policy_run.kms_generate + policy_run.kms_decrypt) / days, 1),
            "kms_generate_data_key_per_day": round(policy_run.kms_generate / days, 1),
            "kms_decrypt_per_day": round(policy_run.kms_decrypt / days, 1),
            "posts_per_day": round(policy_run.posts / days, 1),
            "ratio_to_minimum": round(policy_run.token_calls / max(1, minimum), 3),
            "cohort_model_exact": policy_run.cohort_model_exact,
            "seconds": policy_run.seconds,
        }
    new = result["policies"]["new"]
    result["new_policy_meets_target"] = new["ratio_to_minimum"] <= TARGET
    return result


def report(result: dict[str, Any]) -> None:
    """Print the side-by-side table."""
    old, new = result["policies"]["old"], result["policies"]["new"]
    print(
        f"{result['accounts']:,} accounts, {result['days']} days, {result['posting_share']:.0%} posting a "
        f"day, access {result['access_ttl_s'] // 3600} h / refresh {result['refresh_ttl_s'] // 86400} d, "
        f"sweep every {result['sweep_every_s'] // 60} min"
    )
    rows = [
        ("TikTok token calls / day", "token_calls_per_day"),
        ("  by the sweep", "sweep_token_calls_per_day"),
        ("  on demand (before a call)", "on_demand_token_calls_per_day"),
        ("sweep items read / day", "sweep_items_read_per_day"),
        ("KMS calls / day", "kms_calls_per_day"),
        ("  GenerateDataKey", "kms_generate_data_key_per_day"),
        ("  Decrypt", "kms_decrypt_per_day"),
        ("token calls / minimum", "ratio_to_minimum"),
    ]
    print(f"{'':30} {'old policy':>16} {'new policy':>16}")
    for label, key in rows:
        shown = [f"{p[key]:>16,.3f}" if key == "ratio_to_minimum" else f"{p[key]:>16,}" for p in (old, new)]
        print(f"{label:30} {shown[0]} {shown[1]}")
    print(f"{'minimum token calls / day':30} {result['minimum_token_calls_per_day']:>16,} (the workload's)")
    verdict = "meets" if result["new_policy_meets_target"] else "MISSES"
    print(f"new policy {verdict} the target (token calls within {result['target_ratio']}x of the minimum)")
    if not old["cohort_model_exact"]:
        print("warning: a post needed an on-demand refresh under the old policy: its cohort figures are off")
    print(f"(simulated in {old['seconds']} s and {new['seconds']} s)")


if __name__ == "__main__":
    outcome = run()
    report(outcome)

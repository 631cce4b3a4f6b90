"""Metrics integration harness: the publishing world of tests/integration/publishing (handlers in-process
against moto, TikTok played by the emulator over real HTTP), with metrics enabled and the app audited
(TikTok gives video ids to public posts only), plus the metrics function, a snapshot trigger on a chosen
clock, and a record of every HTTP call the product's TikTok client makes (what TikTok sees, counted at the
wire).

Seeding many public videos uses TikTok's own API too (init, one chunk, status), as a creator's other app
would, with the emulator's init limits raised for the seeding tokens only: the limits the product is
tested against (video query, user info, status) keep their defaults."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.integration.publishing.conftest import Answer, Clock, CompressedQueue, Publisher
from tests.lambdas import LambdaContext, load_function
from tests.unit.connect.events import http_event
from tiktok_emulator.testing import fake_mp4

TENANT = "tenant-metrics"
INTERVAL = 3600
ACCOUNT_INTERVAL = 21600
COUNTS = ("view_count", "like_count", "comment_count", "share_count")
STATS = ("follower_count", "following_count", "likes_count", "video_count")


@dataclass
class Call:
    method: str
    path: str
    status: int
    body: str


@dataclass
class MetricsWorld(Publisher):
    calls: list[Call] = field(default_factory=list)
    wired: Any = None

    # ------------------------------------------------------------------ the metrics function

    def metrics(self, path: str, *, tenant: str | None = None, query: dict[str, str] | None = None) -> Answer:
        """GET a metrics route through the metrics function's handler."""
        event = http_event("GET", path, query=query, tenant_id=tenant or self.tenant)
        raw = load_function("metrics").lambda_handler(event, LambdaContext(function_name="metrics"))
        text = raw.get("body") or ""
        return Answer(raw["statusCode"], dict(raw.get("headers") or {}), json.loads(text) if text else None)

    def raw_metrics(self, path: str) -> str:
        """The body text of a metrics answer, as a client's JSON parser would receive it."""
        event = http_event("GET", path, tenant_id=self.tenant)
        raw = load_function("metrics").lambda_handler(event, LambdaContext(function_name="metrics"))
        return str(raw.get("body") or "")

    def snapshot(self, at: float | None = None) -> dict[str, Any]:
        """One MetricsSchedule run for the minute `at` (default: the harness clock), through the handler."""
        when = dt.datetime.fromtimestamp(int(at if at is not None else self.clock()), tz=dt.UTC)
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "us-east-1",
            "resources": [
                "arn:aws:events:us-east-1:123456789012:rule/tiktok-publisher-local-metrics-snapshots"
            ],
            "detail": {},
        }
        return dict(load_function("metrics").lambda_handler(event, LambdaContext(function_name="metrics")))

    # ------------------------------------------------------------------ what TikTok saw

    def tiktok_calls(self, path_part: str = "") -> list[Call]:
        return [c for c in self.calls if path_part in c.path]

    def forget_calls(self) -> None:
        self.calls.clear()

    # ------------------------------------------------------------------ setup helpers

    def connect_with(self, account: str, scopes: list[str], tenant: str | None = None) -> str:
        """Connect an emulator account with exactly these scopes (as if the user unticked the others)."""
        from tiktok_publisher.adapters.accounts_table import AccountRepository
        from tiktok_publisher.domain.tiktok import TokenSet, UserInfo

        flat = self.emulator.issue_token(account, scopes)
        tokens = TokenSet(
            access_token=flat["access_token"],
            refresh_token=flat["refresh_token"],
            open_id=flat["open_id"],
            scopes=flat["scope"].split(","),
            expires_in=flat["expires_in"],
            refresh_expires_in=flat["refresh_expires_in"],
        )
        repo = AccountRepository(track_stats=True)
        repo.save_connection(
            tenant or self.tenant,
            tokens.open_id,
            UserInfo(open_id=tokens.open_id, display_name=account),
            tokens,
            now=int(self.clock()),
        )
        return tokens.open_id

    def public_video_at_tiktok(self, account: str, title: str = "seeded") -> tuple[str, str]:
        """A PUBLIC_TO_EVERYONE direct post made at TikTok by another app of the creator (TikTok's API over
        HTTP): its publish_id and its video id, read from the raw status text (never through a float)."""
        token = self.emulator.issue_token(account, ["video.publish"])["access_token"]
        base = self.emulator.base_url
        headers = {"Authorization": f"Bearer {token}"}
        data = fake_mp4(4000, duration_sec=5)
        init = requests.post(
            f"{base}/v2/post/publish/video/init/",
            json={
                "post_info": {"privacy_level": "PUBLIC_TO_EVERYONE", "title": title},
                "source_info": {
                    "source": "FILE_UPLOAD",
                    "video_size": len(data),
                    "chunk_size": len(data),
                    "total_chunk_count": 1,
                },
            },
            headers=headers,
            timeout=10,
        ).json()["data"]
        put = requests.put(
            init["upload_url"],
            data=data,
            headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"},
            timeout=10,
        )
        assert put.status_code == 201, put.text
        self.emulator.advance(0)
        raw = requests.post(
            f"{base}/v2/post/publish/status/fetch/",
            json={"publish_id": init["publish_id"]},
            headers=headers,
            timeout=10,
        ).text
        match = re.search(r'"publicaly_available_post_id":\s*\[(\d+)\]', raw)
        assert match, raw
        return str(init["publish_id"]), match.group(1)

    def published_post(self, open_id: str, publish_id: str, video_ids: list[str], **post_info: Any) -> str:
        """A post of ours that reached `published` with these TikTok ids, written the way the worker writes
        it (one conditional update, which also puts it in the metrics_due index)."""
        from tiktok_publisher.adapters.posts_table import PostRepository
        from tiktok_publisher.domain.posts import Post, PostStatus, iso_now

        repo = PostRepository(track_metrics=True)
        post = Post(
            tenant_id=self.tenant,
            post_id=_ulid(),
            open_id=open_id,
            created_at=iso_now(self.clock()),
            mode="direct",
            media="video",
            status=PostStatus.PROCESSING,
            post_info={"privacy_level": "PUBLIC_TO_EVERYONE", "title": "seeded", **post_info},
        )
        created = repo.create(post, now=self.clock())
        repo.update(created, now=self.clock(), set_fields={"publish_id": publish_id})
        done = repo.update(
            repo.get(self.tenant, post.post_id),
            now=self.clock(),
            status=PostStatus.PUBLISHED,
            set_fields={"post_ids": video_ids},
            note="PUBLISH_COMPLETE",
        )
        assert done is not None
        return post.post_id

    def emulator_counts(self) -> dict[str, dict[str, int]]:
        """Every public video's counts at TikTok now, by video id (as text). The emulator's clock runs with
        wall time, so counts read at two moments may differ: compare with bracket()."""
        return {str(v["id"]): {c: int(v[c]) for c in COUNTS} for v in self.emulator.videos()}

    def answered_counts(self) -> dict[str, dict[str, int]]:
        """The counts TikTok's video query answers carried, by video id, last answer winning (parsed with
        integers kept as text: a video id never goes through a float)."""
        found: dict[str, dict[str, int]] = {}
        for call in self.tiktok_calls("/v2/video/query/"):
            if call.status != 200:
                continue
            body = json.loads(call.body, parse_int=str)
            for video in (body.get("data") or {}).get("videos", []):
                found[str(video["id"])] = {c: int(video[c]) for c in COUNTS}
        return found

    def emulator_stats(self, account: str) -> dict[str, int]:
        """The account's stats at TikTok now, read with a token of its own (TikTok's API over HTTP)."""
        token = self.emulator.issue_token(account, ["user.info.basic", "user.info.stats"])["access_token"]
        answer = requests.get(
            f"{self.emulator.base_url}/v2/user/info/",
            params={"fields": ",".join(STATS)},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        return {k: int(answer["data"]["user"][k]) for k in STATS}

    def history_items(self) -> list[dict[str, Any]]:
        """Every item of the MetricsHistory table."""
        client = self.env.aws.dynamodb
        table = self.env.aws.tables["METRICS_TABLE"]
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": table}
        while True:
            page = client.scan(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def bracketed(before: dict[str, int], value: dict[str, int], after: dict[str, int]) -> bool:
    """Counts never decrease: a reading made between two looks at TikTok lies between them."""
    return all(before[k] <= value[k] <= after[k] for k in value)


def _ulid() -> str:
    from ulid import ULID

    return str(ULID())


@pytest.fixture
def world(tiktok_env: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[MetricsWorld]:
    """The metrics world of one test: metrics on (intervals 1 h for posts, 6 h for accounts), app audited."""
    from tiktok_publisher import bootstrap, config

    monkeypatch.setenv("APP_AUDITED", "true")
    monkeypatch.setenv("METRICS_ENABLED", "true")
    monkeypatch.setenv("METRICS_POST_INTERVAL_S", str(INTERVAL))
    monkeypatch.setenv("METRICS_ACCOUNT_INTERVAL_S", str(ACCOUNT_INTERVAL))
    config.reset_caches()
    bootstrap.reset()
    emulator = tiktok_env.emulator
    # Seeding only: other apps' posts of the creator (the product's own limits stay TikTok's).
    emulator.configure(processing_delay=0.0, audited=True, daily_post_cap=10_000)
    wired = bootstrap.ports()
    ports = SimpleNamespace(service=wired.publish_service, worker=wired.worker, uploads=wired.uploads)
    clock = Clock()
    delays: list[float] = []
    jobs: list[Any] = []
    queue = CompressedQueue(ports.worker.queue, clock, emulator, delays, jobs)
    ports.worker.queue = queue
    ports.worker.clock = clock
    ports.worker.sleep = lambda _s: None
    ports.service.clock = clock
    wired.metrics_reads.clock = clock
    wired.post_changes.clock = clock
    wired.post_changes.queue = queue
    wired.tiktok._sleep = lambda _s: None  # the client's own retry backoff: no wall-time waits
    world = MetricsWorld(
        env=tiktok_env,
        emulator=emulator,
        ports=ports,
        clock=clock,
        delays=delays,
        jobs=jobs,
        tenant=TENANT,
        wired=wired,
    )

    def record(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        world.calls.append(
            Call(
                response.request.method or "",
                urlsplit(response.url).path,
                response.status_code,
                response.text,
            )
        )

    wired.tiktok._session.hooks["response"].append(record)
    yield world
    bootstrap.reset()

"""The cost of a metrics snapshot run per 1,000 due posts: TikTok calls and DynamoDB reads (and writes).

moto's server runs in its own process with template.yaml's Posts, Accounts and MetricsHistory tables; the
TikTok emulator plays TikTok over HTTP. 1,000 public videos are made at the emulator through its own API
(one creator: the emulator has few users, so each of our accounts is a connection of that creator in its
own tenant, with its own tokens), then four layouts of 1,000 published posts are read by one
`SnapshotRun`:

- 1,000 accounts with 1 post each (the worst case: one video query per post);
- 50 accounts with 20 posts each (one query per account);
- 10 accounts with 100 posts each (five queries per account);
- 50 x 20 again with every access token about to expire (one on-demand refresh per account).

Each account is also due for its stats (one user info each). Costs are counted where they happen: TikTok
calls at the HTTP client (by path), DynamoDB and KMS calls at botocore (by operation, with the items a
Query returned). These are counts, not timings, so they do not depend on the machine. Run:
``.venv/bin/python -m bench metrics``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
POSTS = 1_000
LAYOUTS = (
    ("1000 accounts x 1 post", 1_000, False),
    ("50 accounts x 20 posts", 50, False),
    ("10 accounts x 100 posts", 10, False),
    ("50 x 20, tokens expiring", 50, True),
)
TABLES = {
    "ACCOUNTS_TABLE": "AccountsTable",
    "POSTS_TABLE": "PostsTable",
    "METRICS_TABLE": "MetricsHistoryTable",
}
ALL_SCOPES = ["user.info.basic", "user.info.profile", "user.info.stats", "video.list", "video.publish"]


def _start_moto() -> tuple[Any, str]:
    from local_stack import procs

    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    env.pop("AWS_ENDPOINT_URL", None)
    process = procs.spawn([sys.executable, "-m", "local_stack.moto_main", "--port", "0"], env=env)
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    return process, f"http://127.0.0.1:{json.loads(line)['port']}"


def _environment(moto_url: str, tiktok: str) -> None:
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "EVENT_BUS_NAME": "bench-bus",
            "TIKTOK_API_BASE": tiktok,
            "METRICS_ENABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "Bench",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            **{var: f"bench-{logical}" for var, logical in TABLES.items()},
        }
    )


class _AwsCalls:
    """Counts botocore calls by service and operation, and the items DynamoDB queries returned."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items: Counter[str] = Counter()

    def install(self) -> None:
        import botocore.client

        original = botocore.client.BaseClient._make_api_call
        counter = self

        def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
            answer = original(client, operation, params)
            service = client.meta.service_model.service_name
            counter.calls[f"{service}.{operation}"] += 1
            if operation in ("Query", "Scan"):
                counter.items[f"{service}.{operation}"] += int(answer.get("Count", 0))
            if operation == "GetItem" and "Item" in answer:
                counter.items[f"{service}.{operation}"] += 1
            if operation == "BatchWriteItem":
                counter.items[f"{service}.{operation}"] += sum(
                    len(v) for v in params["RequestItems"].values()
                )
            return answer

        botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]

    def reset(self) -> None:
        self.calls.clear()
        self.items.clear()


def _videos(emulator: Any, count: int) -> list[tuple[str, str]]:
    """`count` public videos made at TikTok by the creator (its API over HTTP): (publish_id, video id)."""
    import re

    import requests

    from tiktok_emulator.testing import fake_mp4

    data = fake_mp4(4000, duration_sec=5)
    made = []
    for number in range(count):
        token = emulator.issue_token("creator_public", ["video.publish"])["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        init = requests.post(
            f"{emulator.base_url}/v2/post/publish/video/init/",
            json={
                "post_info": {"privacy_level": "PUBLIC_TO_EVERYONE", "title": f"bench {number}"},
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
        requests.put(
            init["upload_url"],
            data=data,
            headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"},
            timeout=10,
        ).raise_for_status()
        emulator.advance(0)
        raw = requests.post(
            f"{emulator.base_url}/v2/post/publish/status/fetch/",
            json={"publish_id": init["publish_id"]},
            headers=headers,
            timeout=10,
        ).text
        match = re.search(r'"publicaly_available_post_id":\s*\[(\d+)\]', raw)
        assert match, raw
        made.append((str(init["publish_id"]), match.group(1)))
    return made


def _layout(
    name: str, accounts: int, expiring: bool, videos: list[tuple[str, str]], emulator: Any, now: int
) -> None:
    """Our accounts and published posts for one layout (each account a connection of the creator)."""
    from ulid import ULID

    from tiktok_publisher.adapters.accounts_table import AccountRepository
    from tiktok_publisher.adapters.posts_table import PostRepository
    from tiktok_publisher.domain.posts import Post, PostStatus, iso_now
    from tiktok_publisher.domain.tiktok import TokenSet, UserInfo

    repo, posts = AccountRepository(track_stats=True), PostRepository(track_metrics=True)
    per_account = POSTS // accounts
    tag = name.split()[0] + ("e" if expiring else "")
    for number in range(accounts):
        flat = emulator.issue_token("creator_public", ALL_SCOPES)
        tokens = TokenSet(
            access_token=flat["access_token"],
            refresh_token=flat["refresh_token"],
            open_id=flat["open_id"],
            scopes=flat["scope"].split(","),
            expires_in=120 if expiring else flat["expires_in"],  # within the 5-minute on-demand margin
            refresh_expires_in=flat["refresh_expires_in"],
        )
        tenant = f"bench-{tag}-{number:04d}"
        repo.save_connection(tenant, tokens.open_id, UserInfo(open_id=tokens.open_id), tokens, now=now)
        for publish_id, video_id in videos[number * per_account : (number + 1) * per_account]:
            post = Post(
                tenant_id=tenant,
                post_id=str(ULID()),
                open_id=tokens.open_id,
                created_at=iso_now(now),
                mode="direct",
                media="video",
                status=PostStatus.PUBLISHED,
                publish_id=publish_id,
                post_info={"privacy_level": "PUBLIC_TO_EVERYONE"},
            )
            created = posts.create(post, now=now)
            posts.update(created, now=now, set_fields={"post_ids": [video_id]}, note="ids")


def run() -> dict[str, Any]:
    """Make the videos once, then for each layout: load it, count one snapshot run's calls."""
    sys.path.insert(0, str(ROOT))
    import boto3

    from tests.fixtures.aws import create_table_kwargs, reset_process_caches, template_tables
    from tiktok_emulator.testing import start_emulator

    moto, moto_url = _start_moto()
    emulator = start_emulator({"audited": True, "processing_delay": 0.0, "daily_post_cap": 100_000})
    results: dict[str, Any] = {"posts": POSTS, "layouts": []}
    try:
        _environment(moto_url, emulator.base_url)
        session = boto3.session.Session(region_name="us-east-1")
        ddb = session.client("dynamodb", endpoint_url=moto_url)
        for logical in TABLES.values():
            ddb.create_table(**create_table_kwargs(f"bench-{logical}", template_tables()[logical]))
        os.environ["TOKEN_KEY_ID"] = session.client("kms", endpoint_url=moto_url).create_key()["KeyMetadata"][
            "Arn"
        ]
        reset_process_caches()

        from tiktok_publisher.adapters.accounts_table import (
            AccountRepository,
            AccountStatsStore,
            RefreshStore,
        )
        from tiktok_publisher.adapters.metrics_table import MetricsHistoryRepository
        from tiktok_publisher.adapters.posts_table import PostRepository
        from tiktok_publisher.adapters.tiktok_client import TikTokClient
        from tiktok_publisher.domain.metrics import MetricsPolicy
        from tiktok_publisher.metrics.reads import Reads
        from tiktok_publisher.metrics.snapshots import SnapshotRun
        from tiktok_publisher.refresh.core import TokenRefresher

        started = time.perf_counter()
        videos = _videos(emulator, POSTS)
        results["seed_seconds"] = round(time.perf_counter() - started, 1)
        aws_calls = _AwsCalls()
        aws_calls.install()
        for name, accounts, expiring in LAYOUTS:
            now = int(time.time())
            _layout(name, accounts, expiring, videos, emulator, now)
            client = TikTokClient(
                emulator.base_url, client_key="sbawlocaldevkey", client_secret="local-dev-client-secret"
            )
            tiktok: Counter[str] = Counter()
            client._session.hooks["response"].append(
                lambda response, *args, seen=tiktok, **kwargs: seen.update([urlsplit(response.url).path])
            )
            accounts_repo = AccountRepository(track_stats=True)
            reads = Reads(
                posts=PostRepository(track_metrics=True),
                post_metrics=PostRepository(track_metrics=True),
                accounts=accounts_repo,
                account_stats=AccountStatsStore(),
                history=MetricsHistoryRepository(),
                tokens=TokenRefresher(accounts_repo, RefreshStore(), client, _NoEvents()),
                display=client,
                content=client,
                policy=MetricsPolicy(enabled=True),
            )
            aws_calls.reset()
            begun = time.perf_counter()
            report = SnapshotRun(reads).run(now=now)
            seconds = time.perf_counter() - begun
            results["layouts"].append(
                {
                    "layout": name,
                    "accounts": accounts,
                    "posts_read": report["posts_read"],
                    "accounts_read": report["accounts_read"],
                    "tiktok": dict(tiktok),
                    "tiktok_total": sum(tiktok.values()),
                    "dynamodb_calls": {k: v for k, v in aws_calls.calls.items() if k.startswith("dynamodb.")},
                    "dynamodb_items": dict(aws_calls.items),
                    "kms_calls": {k: v for k, v in aws_calls.calls.items() if k.startswith("kms.")},
                    "seconds": round(seconds, 1),
                }
            )
            client.close()
    finally:
        emulator.stop()
        from local_stack import procs

        procs.stop(moto)
    return results


class _NoEvents:
    def publish(self, detail_type: str, detail: dict[str, Any], *, tenant_id: str) -> None:
        return


def report(result: dict[str, Any]) -> None:
    """Print the table: per 1,000 due posts (and their accounts' stats), one snapshot run."""
    seeded = result.get("seed_seconds")
    print(f"one snapshot run over {result['posts']:,} due posts (videos seeded in {seeded} s)")
    header = (
        f"{'layout':<26} {'query':>6} {'user':>5} {'status':>6} {'token':>6} {'TikTok':>7}"
        f" {'Query':>6} {'items':>6} {'GetItem':>8} {'Update':>7} {'BatchW':>7} {'KMS':>5}"
    )
    print(header)
    for row in result["layouts"]:
        tiktok = row["tiktok"]
        calls = row["dynamodb_calls"]
        print(
            f"{row['layout']:<26} {tiktok.get('/v2/video/query/', 0):>6} {tiktok.get('/v2/user/info/', 0):>5}"
            f" {tiktok.get('/v2/post/publish/status/fetch/', 0):>6} {tiktok.get('/v2/oauth/token/', 0):>6}"
            f" {row['tiktok_total']:>7} {calls.get('dynamodb.Query', 0):>6}"
            f" {row['dynamodb_items'].get('dynamodb.Query', 0):>6} {calls.get('dynamodb.GetItem', 0):>8}"
            f" {calls.get('dynamodb.UpdateItem', 0):>7} {calls.get('dynamodb.BatchWriteItem', 0):>7}"
            f" {sum(row['kms_calls'].values()):>5}"
        )
    print("query/user/status/token: TikTok video queries, user infos, status fetches, token refreshes;")
    print(
        "Query (items): DynamoDB index queries and the items they returned; GetItem: consistent item reads."
    )


if __name__ == "__main__":
    outcome = run()
    report(outcome)

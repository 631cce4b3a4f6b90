"""After the post: POST /v2/video/query/ (video.list) with int64 ids and counts that grow on the emulator
clock, consistent with the status endpoint's publicaly_available_post_id; user stats that grow too."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
import requests

from tiktok_emulator.testing import EmulatorHandle, fake_mp4

from .conftest import TIMEOUT, Api, error_code, file_source, put_chunk

QUERY = "/v2/video/query/"
COUNTS = ("view_count", "like_count", "comment_count", "share_count")
DOC_FIELDS = (
    "id,create_time,cover_image_url,share_url,video_description,duration,height,width,title,"
    "embed_html,embed_link,like_count,comment_count,share_count,view_count"
)
HOUR = 3600


def query(client: Api, ids: list, fields: str = "id,view_count,like_count,comment_count,share_count"):
    return requests.post(
        f"{client.base_url}{QUERY}",
        params={"fields": fields},
        json={"filters": {"video_ids": ids}},
        headers=client.headers,
        timeout=TIMEOUT,
    )


def published(emulator: EmulatorHandle, client: Api, title: str = "t") -> int:
    """A PUBLIC_TO_EVERYONE direct post through moderation: its post id, read from the raw status text."""
    data = fake_mp4(4000, duration_sec=12)
    body = client.init_direct("PUBLIC_TO_EVERYONE", file_source(len(data)), title=title).json()["data"]
    assert put_chunk(body["upload_url"], data, 0, len(data)).status_code == 201
    emulator.advance(emulator.config.processing_delay)
    raw = client.status(body["publish_id"]).text
    match = re.search(r'"publicaly_available_post_id":\s*\[(\d+)\]', raw)
    assert match, raw
    return int(match.group(1))


@pytest.fixture
def client(emulator: EmulatorHandle, api: Callable[..., Api]) -> Api:
    emulator.configure(audited=True, access_ttl=10**8, rate_limits={"video_init": 100, "status": 1000})
    return api("creator_public")


def video_id_of(video: dict) -> int:
    return int(video["id"])  # a string (the docs) or a raw JSON number (seen): never through a float


def test_query_returns_the_published_video_with_documented_fields(
    emulator: EmulatorHandle, client: Api
) -> None:
    post_id = published(emulator, client, title="my first post #emulator")
    response = query(client, [str(post_id)], DOC_FIELDS)
    body = response.json()
    assert response.status_code == 200
    assert body["error"]["code"] == "ok"
    assert set(body["data"]) == {"videos", "cursor", "has_more"}
    assert body["data"]["has_more"] is False
    (video,) = body["data"]["videos"]
    assert set(video) == set(DOC_FIELDS.split(","))
    assert video_id_of(video) == post_id
    assert video["title"] == "my first post #emulator"
    assert video["duration"] == 12
    assert video["share_url"] == f"https://www.tiktok.com/@creator_public/video/{post_id}"
    assert "x-expires=" in video["cover_image_url"]
    assert str(post_id) in video["embed_link"]
    assert abs(video["create_time"] - emulator.emulator.clock.now()) < 5
    assert all(isinstance(video[c], int) and video[c] >= 0 for c in COUNTS)


def test_only_requested_fields_come_back(emulator: EmulatorHandle, client: Api) -> None:
    post_id = published(emulator, client)
    (video,) = query(client, [str(post_id)], "view_count,title").json()["data"]["videos"]
    assert set(video) == {"view_count", "title"}


def test_ids_are_int64_as_numbers_or_strings_never_rounded(emulator: EmulatorHandle, client: Api) -> None:
    ids = [published(emulator, client) for _ in range(6)]
    assert all(2**53 < i < 2**63 and len(str(i)) == 19 for i in ids)
    emulator.configure(video_query_id_format="number")
    raw = query(client, [str(i) for i in ids], "id").text
    assert sorted(int(n) for n in re.findall(r'"id":\s*(\d+)', raw)) == sorted(ids)  # bare JSON numbers
    # A float parser would have lost them: the test that a client must not do that.
    assert any(int(float(n)) != int(n) for n in re.findall(r'"id":\s*(\d+)', raw))
    emulator.configure(video_query_id_format="string")
    videos = query(client, [str(i) for i in ids], "id").json()["data"]["videos"]
    assert sorted(v["id"] for v in videos) == sorted(str(i) for i in ids)
    emulator.configure(video_query_id_format="mixed")  # the default: both kinds in one answer
    assert emulator.emulator.initial_config.video_query_id_format == "mixed"
    videos = json.loads(query(client, [str(i) for i in ids], "id").text)["data"]["videos"]
    kinds = {type(v["id"]) for v in videos}
    assert kinds == {str, int} or len({i % 2 for i in ids}) == 1
    assert sorted(video_id_of(v) for v in videos) == sorted(ids)


def test_numeric_ids_in_the_request_are_accepted_rounded_ones_match_nothing(
    emulator: EmulatorHandle, client: Api
) -> None:
    post_id = published(emulator, client)
    raw_body = f'{{"filters": {{"video_ids": [{post_id}]}}}}'
    response = requests.post(
        f"{client.base_url}{QUERY}?fields=id",
        data=raw_body,
        headers={**client.headers, "Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert [video_id_of(v) for v in response.json()["data"]["videos"]] == [post_id]
    rounded = int(float(post_id))
    assert rounded != post_id
    assert query(client, [str(rounded)]).json()["data"]["videos"] == []


def test_counts_grow_with_the_emulator_clock(emulator: EmulatorHandle, client: Api) -> None:
    ids = [published(emulator, client) for _ in range(3)]
    history = []
    for _ in range(6):
        videos = query(client, [str(i) for i in ids]).json()["data"]["videos"]
        history.append({video_id_of(v): v for v in videos})
        emulator.advance(6 * HOUR)
    for post_id in ids:
        views = [snapshot[post_id]["view_count"] for snapshot in history]
        assert views == sorted(views)  # never decreasing
        assert views[-1] > views[0] >= 0
        last = history[-1][post_id]
        assert last["like_count"] < last["view_count"]
        assert last["comment_count"] <= last["like_count"]
    # Videos differ from one another, and the admin view agrees with the API.
    assert len({history[-1][i]["view_count"] for i in ids}) == 3
    admin = {v["id"]: v for v in requests.get(f"{emulator.base_url}/_admin/videos", timeout=TIMEOUT).json()}
    latest = query(client, [str(i) for i in ids]).json()["data"]["videos"]
    for video in latest:
        assert admin[video_id_of(video)]["view_count"] == video["view_count"]


def test_growth_can_be_frozen(emulator: EmulatorHandle, client: Api) -> None:
    emulator.configure(metrics_growth=0)
    post_id = published(emulator, client)
    emulator.advance(48 * HOUR)
    (video,) = query(client, [str(post_id)]).json()["data"]["videos"]
    assert [video[c] for c in COUNTS] == [0, 0, 0, 0]


def test_only_the_users_own_public_videos(
    emulator: EmulatorHandle, client: Api, api: Callable[..., Api]
) -> None:
    mine = published(emulator, client)
    other_client = api("creator_nocomments")
    theirs = published(emulator, other_client)
    videos = query(client, [str(mine), str(theirs), "7300000000000000001"]).json()["data"]["videos"]
    assert [video_id_of(v) for v in videos] == [mine]
    # A video that is not public (SELF_ONLY) has no post id at all, so nothing to query.
    data = fake_mp4(4000)
    body = client.init_direct("SELF_ONLY", file_source(len(data))).json()["data"]
    put_chunk(body["upload_url"], data, 0, len(data))
    emulator.advance(3600)
    assert client.status(body["publish_id"]).json()["data"]["publicaly_available_post_id"] == []


@pytest.mark.parametrize(
    ("fields", "body"),
    [
        ("", {"filters": {"video_ids": ["1"]}}),
        ("id,fps", {"filters": {"video_ids": ["1"]}}),
        ("id", {}),
        ("id", {"filters": {"video_ids": []}}),
        ("id", {"filters": {"video_ids": [str(7300000000000000000 + i) for i in range(21)]}}),
        ("id", {"filters": {"video_ids": [7.3e18]}}),
        ("id", {"filters": {"video_ids": ["73000abc"]}}),
    ],
)
def test_invalid_requests(client: Api, fields: str, body: dict) -> None:
    response = requests.post(
        f"{client.base_url}{QUERY}",
        params={"fields": fields},
        json=body,
        headers=client.headers,
        timeout=TIMEOUT,
    )
    assert (response.status_code, error_code(response)) == (400, "invalid_params")


def test_needs_video_list_scope_and_is_rate_limited(
    emulator: EmulatorHandle, api: Callable[..., Api]
) -> None:
    no_scope = api("creator_public", ["user.info.basic", "video.publish"])
    response = query(no_scope, ["1"])
    assert (response.status_code, error_code(response)) == (401, "scope_not_authorized")
    emulator.configure(rate_limits={"video_query": 3})
    client = api("creator_public", ["video.list"])
    assert [query(client, ["1"]).status_code for _ in range(3)] == [200] * 3
    limited = query(client, ["1"])
    assert (limited.status_code, error_code(limited)) == (429, "rate_limit_exceeded")
    assert emulator.config.rate_limits["video_query"] == 3
    emulator.advance(60)
    assert query(client, ["1"]).status_code == 200


def test_default_video_query_limit_is_600_per_minute(emulator: EmulatorHandle) -> None:
    assert emulator.config.rate_limits["video_query"] == 600


# --- user stats ----------------------------------------------------------------------------------------
STATS = "follower_count,following_count,likes_count,video_count"


def test_user_stats_start_at_the_account_base(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    user = api("creator_public", ["user.info.stats"]).user_info(STATS).json()["data"]["user"]
    assert user == {"follower_count": 1200, "following_count": 80, "likes_count": 5400, "video_count": 42}


def test_user_stats_grow_with_time_and_videos(emulator: EmulatorHandle, client: Api) -> None:
    before = client.user_info(STATS).json()["data"]["user"]
    emulator.advance(2 * 86400)
    later = client.user_info(STATS).json()["data"]["user"]
    assert later["follower_count"] > before["follower_count"]
    assert later["following_count"] >= before["following_count"]
    assert (later["likes_count"], later["video_count"]) == (before["likes_count"], before["video_count"])
    post_id = published(emulator, client)
    emulator.advance(24 * HOUR)
    after = client.user_info(STATS).json()["data"]["user"]
    assert after["video_count"] == before["video_count"] + 1
    (video,) = query(client, [str(post_id)], "like_count").json()["data"]["videos"]
    assert after["likes_count"] == before["likes_count"] + video["like_count"]
    assert after["follower_count"] > later["follower_count"]
    assert all(after[k] >= later[k] for k in after)


def test_user_stats_need_the_stats_scope(api: Callable[..., Api]) -> None:
    response = api("creator_public", ["user.info.basic", "video.list"]).user_info("follower_count")
    assert (response.status_code, error_code(response)) == (400, "scope_permission_missed")

"""The accounts function in-process: list, detail, disconnect, creator-info, tenant isolation, OpenAPI."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.fixtures.iam import current_function
from tests.integration.connect.harness import Harness
from tests.races import RefreshGate, run_together
from tiktok_publisher.adapters.accounts_table import AccountRepository
from tiktok_publisher.adapters.dynamodb import AccountModel

SECRET_FIELDS = ("token", "access_token_enc", "refresh_token_enc", "version", "refresh_shard")


def _connect(harness: Harness, *, tenant_id: str = "tenant-a", account: str = "creator_public") -> str:
    answer = harness.connect(tenant_id=tenant_id, account=account)
    return parse_qs(urlsplit(answer.location).query)["open_id"][0]


def _live_tokens(connect_env: Any) -> list[str]:
    return [t["token"] for t in connect_env.emulator.state()["access_tokens"] if not t["revoked"]]


def _raw_item(connect_env: Any, tenant_id: str, open_id: str) -> dict[str, Any]:
    return connect_env.aws.dynamodb.get_item(
        TableName=connect_env.aws.accounts_table,
        Key={"tenant_id": {"S": tenant_id}, "open_id": {"S": open_id}},
        ConsistentRead=True,
    ).get("Item", {})


# ------------------------------------------------------------------ list and detail


def test_list_shows_the_tenants_accounts_without_secrets(harness: Harness, connect_env: Any):
    public = _connect(harness, account="creator_public")
    private = _connect(harness, account="creator_private")
    answer = harness.accounts("GET")
    assert answer.status == 200
    accounts = answer.json["accounts"]
    assert {a["open_id"] for a in accounts} == {public, private}
    first = next(a for a in accounts if a["open_id"] == public)
    assert set(first) == {
        "open_id",
        "display_name",
        "username",
        "avatar_url",
        "scopes",
        "status",
        "access_expires_at",
        "refresh_expires_at",
        "connected_at",
        "last_error",
    }
    assert first["username"] == "creator_public"
    assert first["status"] == "active"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["access_expires_at"])
    for token in _live_tokens(connect_env):
        assert token not in answer.text


def test_detail_shows_one_account(harness: Harness):
    open_id = _connect(harness)
    answer = harness.accounts("GET", f"/{open_id}")
    assert answer.status == 200
    assert answer.json["open_id"] == open_id
    assert answer.json["display_name"] == "Creator Public"


def test_unknown_account_is_404(harness: Harness):
    answer = harness.accounts("GET", "/no-such-open-id")
    assert answer.status == 404
    assert answer.json["error"]["code"] == "not_found"


def test_accounts_routes_need_the_authorizer_context(harness: Harness):
    open_id = _connect(harness)
    for method, path in (
        ("GET", ""),
        ("GET", f"/{open_id}"),
        ("DELETE", f"/{open_id}"),
        ("GET", f"/{open_id}/creator-info"),
    ):
        assert harness.accounts(method, path, tenant_id=None).status == 401


def test_another_tenants_open_id_is_404_on_every_route_and_changes_nothing(
    harness: Harness, connect_env: Any
):
    # Given tenant A's account
    open_id = _connect(harness, tenant_id="tenant-a")
    before = _raw_item(connect_env, "tenant-a", open_id)
    live_before = _live_tokens(connect_env)
    # When tenant B tries every accounts route on it
    for method, path in (
        ("GET", f"/{open_id}"),
        ("DELETE", f"/{open_id}"),
        ("GET", f"/{open_id}/creator-info"),
    ):
        answer = harness.accounts(method, path, tenant_id="tenant-b")
        assert answer.status == 404, (method, path, answer.text)
        assert answer.json["error"]["code"] == "not_found"
    assert harness.accounts("GET", tenant_id="tenant-b").json == {"accounts": []}
    # Then nothing changed: not in DynamoDB, not at TikTok, and no row was created for tenant B
    assert _raw_item(connect_env, "tenant-a", open_id) == before
    assert _live_tokens(connect_env) == live_before
    assert _raw_item(connect_env, "tenant-b", open_id) == {}


# ------------------------------------------------------------------ disconnect


def test_disconnect_revokes_at_tiktok_and_deletes_the_tokens(harness: Harness, connect_env: Any):
    open_id = _connect(harness)
    [token] = _live_tokens(connect_env)
    # When
    answer = harness.accounts("DELETE", f"/{open_id}")
    # Then TikTok's token is revoked, ours are gone, the row stays as revoked
    assert answer.status == 204
    assert answer.text == ""
    state = connect_env.emulator.state()
    assert next(t for t in state["access_tokens"] if t["token"] == token)["revoked"] is True
    raw = _raw_item(connect_env, "tenant-a", open_id)
    assert "access_token_enc" not in raw
    assert "refresh_token_enc" not in raw
    assert "refresh_shard" not in raw  # out of the refresh sweep
    assert "refresh_due_at" not in raw
    assert harness.accounts("GET", f"/{open_id}").json["status"] == "revoked"


def test_disconnect_in_one_tenant_leaves_the_other_tenants_connection_working(
    harness: Harness, connect_env: Any
):
    # Given the same TikTok user connected in two tenants (one grant at TikTok, the app's and the user's)
    open_id = _connect(harness, tenant_id="tenant-a")
    assert _connect(harness, tenant_id="tenant-b") == open_id
    # When tenant A disconnects
    assert harness.accounts("DELETE", f"/{open_id}", tenant_id="tenant-a").status == 204
    # Then no token is revoked at TikTok, A's tokens are gone, and B still reads creator_info with its own
    state = connect_env.emulator.state()
    assert not [t for t in state["access_tokens"] if t["revoked"]]
    assert "access_token_enc" not in _raw_item(connect_env, "tenant-a", open_id)
    assert harness.accounts("GET", f"/{open_id}/creator-info", tenant_id="tenant-b").status == 200
    # And once B disconnects too, the grant is revoked
    assert harness.accounts("DELETE", f"/{open_id}", tenant_id="tenant-b").status == 204
    assert [t for t in connect_env.emulator.state()["access_tokens"] if t["revoked"]]


def test_disconnect_twice_is_harmless(harness: Harness, connect_env: Any):
    open_id = _connect(harness)
    assert harness.accounts("DELETE", f"/{open_id}").status == 204
    version = _raw_item(connect_env, "tenant-a", open_id)["version"]
    assert harness.accounts("DELETE", f"/{open_id}").status == 204
    assert _raw_item(connect_env, "tenant-a", open_id)["version"] == version


def test_disconnect_when_tiktok_already_killed_the_token_still_disconnects(
    harness: Harness, connect_env: Any
):
    open_id = _connect(harness)
    connect_env.emulator.revoke_authorization("creator_public")  # the user removed the app in TikTok
    assert _live_tokens(connect_env) == []
    answer = harness.accounts("DELETE", f"/{open_id}")
    assert answer.status == 204
    assert harness.accounts("GET", f"/{open_id}").json["status"] == "revoked"


def test_disconnect_refreshes_an_expired_access_token_before_revoking(harness: Harness, connect_env: Any):
    open_id = _connect(harness)
    AccountModel(tenant_id="tenant-a", open_id=open_id).update(
        actions=[AccountModel.access_expires_at.set(1)]
    )
    assert harness.accounts("DELETE", f"/{open_id}").status == 204
    state = connect_env.emulator.state()
    assert all(t["revoked"] for t in state["access_tokens"])
    assert all(t["revoked"] or t["rotated"] for t in state["refresh_tokens"])


def test_disconnect_when_tiktok_is_down_changes_nothing(harness: Harness, connect_env: Any):
    open_id = _connect(harness)
    before = _raw_item(connect_env, "tenant-a", open_id)
    connect_env.emulator.fault("revoke", mode="5xx", status=503, count=10)
    answer = harness.accounts("DELETE", f"/{open_id}")
    assert answer.status == 502
    assert answer.json["error"]["code"] == "upstream_error"
    assert _raw_item(connect_env, "tenant-a", open_id) == before
    assert len(_live_tokens(connect_env)) == 1


def test_disconnect_keeps_the_posts_history(harness: Harness, connect_env: Any):
    open_id = _connect(harness)
    connect_env.aws.dynamodb.put_item(
        TableName=connect_env.aws.posts_table,
        Item={
            "tenant_id": {"S": "tenant-a"},
            "post_id": {"S": "01JD000000000000000000TEST"},
            "open_id": {"S": open_id},
            "account_key": {"S": f"tenant-a#{open_id}"},
            "created_at": {"S": "2026-11-25T14:00:00Z"},
            "status": {"S": "published"},
        },
    )
    assert harness.accounts("DELETE", f"/{open_id}").status == 204
    posts = connect_env.aws.dynamodb.scan(TableName=connect_env.aws.posts_table)["Items"]
    assert [p["post_id"]["S"] for p in posts] == ["01JD000000000000000000TEST"]


# ------------------------------------------------------------------ creator-info


def test_creator_info_returns_fresh_info_and_a_form_without_a_privacy_default(
    harness: Harness, connect_env: Any
):
    open_id = _connect(harness, account="creator_private")
    answer = harness.accounts("GET", f"/{open_id}/creator-info")
    assert answer.status == 200, answer.text
    body = answer.json
    assert body["open_id"] == open_id
    assert body["creator"]["privacy_level_options"] == [
        "FOLLOWER_OF_CREATOR",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    ]
    assert body["creator"]["max_video_post_duration_sec"] == 300
    form = body["form"]
    assert form["privacy_level"]["default"] is None
    assert [o["value"] for o in form["privacy_level"]["options"]] == body["creator"]["privacy_level_options"]
    assert form["interactions"]["duet"]["disabled"] is True
    assert form["interactions"]["stitch"]["disabled"] is True
    assert form["interactions"]["comment"]["disabled"] is False
    assert all(i["allowed_by_default"] is False for i in form["interactions"].values())
    assert "Music Usage Confirmation" in json.dumps(form)


def test_creator_info_for_a_photo_form_offers_comments_only(harness: Harness):
    open_id = _connect(harness)
    form = harness.accounts("GET", f"/{open_id}/creator-info", query={"media_type": "photo"}).json["form"]
    assert set(form["interactions"]) == {"comment"}
    assert harness.accounts("GET", f"/{open_id}/creator-info", query={"media_type": "gif"}).status == 422


def test_creator_info_of_a_creator_who_cannot_post_says_so(harness: Harness, connect_env: Any):
    open_id = _connect(harness)
    connect_env.emulator.fault("creator_info", mode="error200", code="spam_risk_too_many_posts")
    answer = harness.accounts("GET", f"/{open_id}/creator-info")
    assert answer.status == 409
    assert answer.json["error"]["code"] == "creator_cannot_post"
    assert answer.json["error"]["details"]["tiktok_code"] == "spam_risk_too_many_posts"


def test_creator_info_with_a_dead_token_marks_the_account_for_reconnect(harness: Harness, connect_env: Any):
    open_id = _connect(harness)
    connect_env.emulator.revoke_authorization("creator_public")
    answer = harness.accounts("GET", f"/{open_id}/creator-info")
    assert answer.status == 409
    assert answer.json["error"]["code"] == "account_needs_reconnect"
    assert harness.accounts("GET", f"/{open_id}").json["status"] == "needs_reconnect"
    # and asking again does not even call TikTok
    assert (
        harness.accounts("GET", f"/{open_id}/creator-info").json["error"]["code"] == "account_needs_reconnect"
    )


def test_creator_info_with_a_dead_grant_emits_account_needs_reconnect(harness: Harness, connect_env: Any):
    # TikTok refuses the access token; the forced refresh that follows finds the grant dead (invalid_grant):
    # only then is the account marked.
    open_id = _connect(harness)
    connect_env.aws.published_events()  # drain
    connect_env.emulator.fault("creator_info", mode="error200", code="access_token_invalid")
    connect_env.emulator.revoke_authorization("creator_public")
    answer = harness.accounts("GET", f"/{open_id}/creator-info")
    assert answer.json["error"]["code"] == "account_needs_reconnect"
    raw = _raw_item(connect_env, "tenant-a", open_id)
    assert raw["status"]["S"] == "needs_reconnect"
    assert raw["last_error"]["S"].startswith("invalid_grant")
    assert "refresh_shard" not in raw
    assert "refresh_due_at" not in raw
    events = [e for e in connect_env.aws.published_events() if e["detail-type"] == "Account Needs Reconnect"]
    assert [(e["detail"]["open_id"], e["detail"]["reason"]) for e in events] == [(open_id, "invalid_grant")]


def test_creator_info_with_a_token_refused_early_refreshes_it_once_and_the_account_stays_active(
    harness: Harness, connect_env: Any
):
    open_id = _connect(harness)
    connect_env.aws.published_events()  # drain
    old_access, old_refresh = AccountRepository().get_tokens("tenant-a", open_id)
    connect_env.emulator.fault("creator_info", mode="error200", code="access_token_invalid")
    answer = harness.accounts("GET", f"/{open_id}/creator-info")
    assert answer.status == 200, answer.json
    raw = _raw_item(connect_env, "tenant-a", open_id)
    assert (raw["status"]["S"], raw["version"]["N"]) == ("active", "2")  # one refresh
    new_access, new_refresh = AccountRepository().get_tokens("tenant-a", open_id)
    assert (new_access != old_access, new_refresh != old_refresh) == (True, True)
    assert not [
        e for e in connect_env.aws.published_events() if e["detail-type"] == "Account Needs Reconnect"
    ]


def test_creator_info_after_tiktok_ended_the_access_token_early_succeeds_after_one_refresh(
    harness: Harness, connect_env: Any
):
    # Given an account whose 2 h access token TikTok stops accepting long before its stated expiry
    open_id = _connect(harness)
    connect_env.aws.published_events()  # drain
    before = AccountRepository().get("tenant-a", open_id)
    assert before.access_expires_at > time.time() + 3600  # by our records it has more than an hour left
    old_access, _ = AccountRepository().get_tokens("tenant-a", open_id)
    assert connect_env.emulator.expire_access_token(account="creator_public") >= 1

    # When the post form asks for creator-info
    answer = harness.accounts("GET", f"/{open_id}/creator-info")

    # Then TikTok's answer comes through after exactly one refresh, and the account stays active
    assert answer.status == 200, answer.json
    assert answer.json["creator"]["creator_nickname"] == "Creator Public"
    after = AccountRepository().get("tenant-a", open_id)
    assert (after.status, after.version, after.last_error) == ("active", before.version + 1, None)
    new_access, _ = AccountRepository().get_tokens("tenant-a", open_id)
    assert new_access != old_access
    rotated = [t for t in connect_env.emulator.state()["refresh_tokens"] if t.get("rotated")]
    assert len(rotated) == 1
    assert not [
        e for e in connect_env.aws.published_events() if e["detail-type"] == "Account Needs Reconnect"
    ]
    # and the next call uses the new token as is
    assert harness.accounts("GET", f"/{open_id}/creator-info").status == 200
    assert AccountRepository().get("tenant-a", open_id).version == before.version + 1


def test_creator_info_with_a_dead_grant_does_not_overrule_a_reconnect_before_the_mark(
    harness: Harness, connect_env: Any, monkeypatch: pytest.MonkeyPatch
):
    from tiktok_publisher.adapters.accounts_table import RefreshStore
    from tiktok_publisher.adapters.tiktok_client import token_set_from
    from tiktok_publisher.domain.tiktok import UserInfo

    open_id = _connect(harness)
    repo = AccountRepository()
    read_version = repo.get("tenant-a", open_id).version
    connect_env.aws.published_events()  # drain
    connect_env.emulator.revoke_authorization("creator_public")  # creator_info and the refresh both refuse
    real_mark = RefreshStore.mark_needs_reconnect

    def reconnect_first(self: RefreshStore, tenant_id: str, open_id: str, **kwargs: Any) -> bool:
        # The user reconnects after the refresher read the row (at kwargs["expected_version"]).
        assert kwargs["expected_version"] == read_version
        tokens = token_set_from(connect_env.emulator.issue_token("creator_public"))
        # The reconnect is the callback function's write, not the accounts function's (tests/fixtures/iam.py).
        running = current_function.set(None)
        try:
            repo.save_connection(tenant_id, open_id, UserInfo(open_id=open_id), tokens, now=int(time.time()))
        finally:
            current_function.reset(running)
        return real_mark(self, tenant_id, open_id, **kwargs)

    monkeypatch.setattr(RefreshStore, "mark_needs_reconnect", reconnect_first)
    answer = harness.accounts("GET", f"/{open_id}/creator-info")

    assert answer.status == 200, answer.json  # asked again with the new authorization, which works
    after = repo.get("tenant-a", open_id)
    assert (after.status, after.version, after.last_error) == ("active", read_version + 1, None)
    raw = _raw_item(connect_env, "tenant-a", open_id)
    assert "refresh_shard" in raw
    assert "refresh_due_at" in raw
    assert not [
        e for e in connect_env.aws.published_events() if e["detail-type"] == "Account Needs Reconnect"
    ]
    # Only the patched method goes back (undo() would also drop the fixtures' environment).
    monkeypatch.setattr(RefreshStore, "mark_needs_reconnect", real_mark)
    assert harness.accounts("GET", f"/{open_id}/creator-info").status == 200


def test_creator_info_refreshes_an_expiring_token_first(harness: Harness, connect_env: Any):
    open_id = _connect(harness)
    old_access, old_refresh = AccountRepository().get_tokens("tenant-a", open_id)
    AccountModel(tenant_id="tenant-a", open_id=open_id).update(
        actions=[AccountModel.access_expires_at.set(1)]
    )
    assert harness.accounts("GET", f"/{open_id}/creator-info").status == 200
    new_access, new_refresh = AccountRepository().get_tokens("tenant-a", open_id)
    assert new_access != old_access
    assert new_refresh != old_refresh  # rotation persisted
    assert AccountRepository().get("tenant-a", open_id).access_expires_at > 1


def test_creator_info_when_tiktok_is_down_is_502(harness: Harness, connect_env: Any):
    open_id = _connect(harness)
    connect_env.emulator.fault("creator_info", mode="5xx", status=500, count=10)
    answer = harness.accounts("GET", f"/{open_id}/creator-info")
    assert answer.status == 502
    assert harness.accounts("GET", f"/{open_id}").json["status"] == "active"


# ------------------------------------------------------------------ OpenAPI


def test_openapi_document_is_served_without_auth_and_describes_every_route(harness: Harness):
    answer = harness.openapi()
    assert answer.status == 200
    doc = answer.json
    assert doc["openapi"].startswith("3.")
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert doc["security"] == [{"bearerAuth": []}]
    paths = doc["paths"]
    for path, method in (
        ("/v1/oauth/tiktok/start", "get"),
        ("/v1/oauth/tiktok/callback", "get"),
        ("/v1/accounts", "get"),
        ("/v1/accounts/{open_id}", "get"),
        ("/v1/accounts/{open_id}", "delete"),
        ("/v1/accounts/{open_id}/creator-info", "get"),
        ("/v1/openapi.json", "get"),
    ):
        assert method in paths[path], path
    assert paths["/v1/oauth/tiktok/callback"]["get"]["security"] == []
    assert paths["/v1/openapi.json"]["get"]["security"] == []
    assert "security" not in paths["/v1/accounts"]["get"]  # inherits bearerAuth
    assert paths["/v1/accounts/{open_id}"]["get"]["responses"]["404"]["content"]["application/json"][
        "schema"
    ] == {"$ref": "#/components/schemas/ErrorResponse"}
    start_params = {p["name"] for p in paths["/v1/oauth/tiktok/start"]["get"]["parameters"]}
    assert start_params == {"return_to", "scopes", "redirect"}
    # every reference resolves
    refs = set(re.findall(r"#/components/schemas/(\w+)", answer.text))
    assert refs <= set(doc["components"]["schemas"])


@pytest.mark.parametrize("path", ["/v1/posts", "/v1/uploads"])
def test_openapi_document_includes_the_publish_routes(harness: Harness, path: str):
    assert path in harness.openapi().json["paths"]


# ------------------------------------------------------------------ on-demand refresh races


def test_concurrent_on_demand_refreshes_keep_the_account_active_with_a_working_refresh_token(
    harness: Harness, connect_env: Any, monkeypatch: pytest.MonkeyPatch
):
    from tiktok_publisher.bootstrap import ports as get_ports

    # Given an account whose access token expires within the on-demand margin (but is still usable)
    open_id = _connect(harness)
    assert harness.accounts("GET", f"/{open_id}").status == 200  # loads the function before the threads
    _, old_refresh = AccountRepository().get_tokens("tenant-a", open_id)
    AccountModel(tenant_id="tenant-a", open_id=open_id).update(
        actions=[AccountModel.access_expires_at.set(int(time.time()) + 120)]
    )
    client = get_ports().tiktok
    gate = RefreshGate(client.refresh)
    monkeypatch.setattr(client, "refresh", gate.refresh)

    # When two creator-info requests refresh it on demand at the same time (TikTok rotates strictly)
    answers = run_together([lambda: harness.accounts("GET", f"/{open_id}/creator-info")] * 2, gate)

    # Then both succeed, only one refresh reached TikTok, and the account stays active
    assert [getattr(a, "status", a) for a in answers] == [200, 200], answers
    assert gate.arrived == 1
    account = AccountRepository().get("tenant-a", open_id)
    assert account.status == "active"
    assert account.last_error is None
    # with the rotated refresh token stored, and TikTok still accepting it
    _, stored_refresh = AccountRepository().get_tokens("tenant-a", open_id)
    assert stored_refresh != old_refresh
    assert connect_env.client().refresh(stored_refresh).open_id == open_id

"""Deleting everything about one TikTok user in one tenant, through the local stack: DynamoDB and S3 are
listed before and after; the same user connected in another tenant keeps every item and object; the call is
idempotent and leaves an `Account Data Deleted` event as its audit record. TikTok's authorization.removed
takes the same path in a tenant whose policy says so, and only there."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests

from local_stack import LocalStack
from tests.e2e.golive.client import BusTap, Holdings, Tenant

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stack")]


def _connect_with_history(tenant: Tenant, account: str) -> str:
    """An account with a published post (its upload included) and a second, unused upload."""
    open_id = tenant.connect(account)
    post = tenant.publish(open_id, tenant.upload(open_id))
    tenant.wait_post(post["post_id"], {"published"})
    tenant.upload(open_id)
    return open_id


def test_deleting_a_users_data_removes_it_in_that_tenant_only(local_stack: LocalStack):
    # Given the same TikTok user connected, with posts and uploads, in two tenants
    a, b = Tenant(local_stack, "del-a"), Tenant(local_stack, "del-b")
    open_id = _connect_with_history(a, "creator_private")
    assert _connect_with_history(b, "creator_private") == open_id
    held = Holdings(local_stack)
    tap = BusTap(local_stack, "Account Data Deleted")
    assert held.accounts(a.id, b.id) == {(a.id, open_id, True), (b.id, open_id, True)}
    posts_before = held.posts(a.id, b.id)
    assert {(t, o) for t, o, _ in posts_before} == {(a.id, open_id), (b.id, open_id)}
    uploads_before = held.uploads(a.id, b.id)
    assert len([k for k in uploads_before if k.startswith(f"uploads/{a.id}/{open_id}/")]) == 2
    assert len([k for k in uploads_before if k.startswith(f"uploads/{b.id}/{open_id}/")]) == 2

    # When tenant A deletes that user's data
    answer = a.call("DELETE", f"/v1/accounts/{open_id}/data")

    # Then A's account row (with its tokens), posts and uploads are gone, and nothing of B's
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["deleted"] == {"account": True, "grant": True, "posts": 1, "uploads": 2}
    # TikTok's grant is per app and user: B still uses it, so it is not revoked at TikTok
    assert body["revoked_at_tiktok"] is False
    assert held.accounts(a.id, b.id) == {(b.id, open_id, True)}
    assert held.posts(a.id, b.id) == {p for p in posts_before if p[0] == b.id}
    assert held.uploads(a.id, b.id) == {k for k in uploads_before if k.startswith(f"uploads/{b.id}/")}
    # And A's API no longer knows the account, B's still does and can still post
    assert a.call("GET", f"/v1/accounts/{open_id}").status_code == 404
    assert b.call("GET", f"/v1/accounts/{open_id}").json()["status"] == "active"
    assert b.call("GET", f"/v1/accounts/{open_id}/creator-info").status_code == 200
    # And the deletion is on record on the bus, with ids and counts only
    [event] = tap.received(1)
    assert event["detail-type"] == "Account Data Deleted"
    assert event["detail"]["tenant_id"] == a.id
    assert event["detail"]["open_id"] == open_id
    assert event["detail"]["trigger"] == "api"
    assert event["detail"]["deleted"] == {"account": True, "grant": True, "posts": 1, "uploads": 2}

    # When A asks again (a retry, or a second request from the user)
    again = a.call("DELETE", f"/v1/accounts/{open_id}/data")

    # Then it succeeds, deletes nothing more, and is on record too
    assert again.status_code == 200, again.text
    assert again.json()["deleted"] == {"account": False, "grant": False, "posts": 0, "uploads": 0}
    assert again.json()["revoked_at_tiktok"] is False
    assert held.accounts(a.id, b.id) == {(b.id, open_id, True)}
    assert len(tap.received(1)) == 1


def _account_of_its_own(stack: LocalStack) -> str:
    """A TikTok user no other test connects: the stack is shared, and a grant another tenant still holds is
    rightly not revoked (the emulator's config lists users; a sandbox app sees its target users only)."""
    emulator = f"{stack.emulator_url}/_admin/config"
    config = requests.get(emulator, timeout=30).json()
    name = f"creator_{uuid.uuid4().hex[:10]}"
    patch = {
        "accounts": [*config["accounts"], {"name": name}],
        "sandbox_target_users": [*config.get("sandbox_target_users", []), name],
    }
    assert requests.post(emulator, json=patch, timeout=30).status_code == 200
    return name


def test_a_user_connected_in_one_tenant_only_is_also_revoked_at_tiktok(local_stack: LocalStack):
    tenant = Tenant(local_stack, "del-one")
    open_id = tenant.connect(_account_of_its_own(local_stack))

    answer = tenant.call("DELETE", f"/v1/accounts/{open_id}/data")

    assert answer.status_code == 200, answer.text
    assert answer.json()["revoked_at_tiktok"] is True
    assert answer.json()["deleted"]["grant"] is True
    assert Holdings(local_stack).accounts(tenant.id) == set()


@pytest.mark.parametrize("bad", ["..", "a b", "x" * 129])
def test_a_malformed_open_id_is_a_422_and_deletes_nothing(local_stack: LocalStack, bad: str):
    tenant = Tenant(local_stack, "del-bad")

    answer = tenant.call("DELETE", f"/v1/accounts/{requests.utils.quote(bad, safe='')}/data")

    assert answer.status_code in (404, 422), answer.text
    assert answer.headers["Content-Type"].startswith("application/json")


def _wait(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.2)


def test_authorization_removed_follows_each_tenants_policy(local_stack: LocalStack):
    # Given one TikTok user connected in two tenants; C's policy is to delete everything, D keeps the default
    c, d = Tenant(local_stack, "pol-c"), Tenant(local_stack, "pol-d")
    assert c.call("GET", "/v1/settings").json()["on_authorization_removed"] == "delete_tokens"
    put = c.call("PUT", "/v1/settings", json={"on_authorization_removed": "delete_data"})
    assert put.status_code == 200, put.text
    assert put.json()["on_authorization_removed"] == "delete_data"
    assert c.call("GET", "/v1/settings").json()["on_authorization_removed"] == "delete_data"
    open_id = c.connect("creator_nocomments")
    c.upload(open_id)
    assert d.connect("creator_nocomments") == open_id
    d.upload(open_id)
    held = Holdings(local_stack)
    tap = BusTap(local_stack, "Account Data Deleted")

    # When the user removes the app in TikTok (TikTok sends authorization.removed to the webhook)
    removed = requests.post(
        f"{local_stack.emulator_url}/_admin/revoke-authorization",
        json={"account": "creator_nocomments", "reason": 1},
        timeout=30,
    )
    assert removed.status_code == 200, removed.text

    # Then in C everything of that user is gone; in D the tokens are gone and the history stays
    _wait(lambda: held.accounts(c.id, d.id) == {(d.id, open_id, False)})
    assert held.uploads(c.id) == set()
    assert len(held.uploads(d.id)) == 1
    assert d.call("GET", f"/v1/accounts/{open_id}").json()["status"] == "revoked"
    [event] = tap.received(1)
    assert (event["detail"]["tenant_id"], event["detail"]["trigger"]) == (c.id, "authorization_removed")
    assert event["detail"]["deleted"]["uploads"] == 1


def test_settings_refuse_an_unknown_policy(local_stack: LocalStack):
    tenant = Tenant(local_stack, "pol-bad")

    answer = tenant.call("PUT", "/v1/settings", json={"on_authorization_removed": "forget_everything"})
    extra = tenant.call("PUT", "/v1/settings", json={"retention": 3})

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_input" or answer.json()["error"]
    assert extra.status_code == 422
    assert tenant.call("GET", "/v1/settings").json()["on_authorization_removed"] == "delete_tokens"

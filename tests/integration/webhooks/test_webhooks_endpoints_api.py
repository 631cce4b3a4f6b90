"""/v1/webhook-endpoints: registration with the SSRF guard, the tenant wall, bad input, secrets shown once."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.integration.webhooks.conftest import Hooks, Receiver

BASE = "/v1/webhook-endpoints"


def test_register_list_get_change_delete(hooks: Hooks, receiver: Receiver) -> None:
    # When an endpoint is registered
    created = hooks.api(
        "POST",
        BASE,
        body={"url": receiver.url, "event_types": ["post.failed", "post.published"], "description": "CRM"},
    )
    # Then 201 with its secret, once
    assert created.status == 201, created.body
    endpoint_id = created.body["endpoint_id"]
    assert endpoint_id.startswith("ep_")
    assert created.body["secret"].startswith("whsec_")
    assert created.body["event_types"] == ["post.failed", "post.published"]
    assert created.body["status"] == "enabled"
    # And it is listed (with the catalogue of event types) and readable, never with a secret
    listing = hooks.api("GET", BASE)
    assert listing.status == 200
    assert [e["endpoint_id"] for e in listing.body["endpoints"]] == [endpoint_id]
    assert "account.needs_reconnect" in listing.body["event_types"]
    one = hooks.api("GET", f"{BASE}/{endpoint_id}")
    assert one.status == 200
    for body in (listing.body, one.body):
        assert "secret" not in json.dumps(body)
    # When its types and description change
    changed = hooks.api(
        "PATCH", f"{BASE}/{endpoint_id}", body={"event_types": ["account.connected"], "description": "Ops"}
    )
    assert changed.status == 200, changed.body
    assert (changed.body["event_types"], changed.body["description"]) == (["account.connected"], "Ops")
    # When it is deleted, it is gone
    assert hooks.api("DELETE", f"{BASE}/{endpoint_id}").status == 204
    assert hooks.api("GET", f"{BASE}/{endpoint_id}").status == 404
    assert hooks.api("DELETE", f"{BASE}/{endpoint_id}").status == 404
    assert hooks.api("GET", BASE).body["endpoints"] == []


def test_the_secret_is_stored_sealed_and_never_logged(
    hooks: Hooks,
    receiver: Receiver,
    aws: Any,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    created = hooks.register(receiver.url)
    rotated = hooks.api("POST", f"{BASE}/{created['endpoint_id']}/rotate-secret")
    hooks.emit("Post Published", {"post_id": "01JD3Q8Z5N3Y8X4W6V2T0R9S7P", "status": "published"})
    hooks.drain()
    secrets = [created["secret"], rotated.body["secret"]]
    # The table holds sealed blobs only
    items = aws.dynamodb.scan(TableName=aws.tables["WEBHOOK_ENDPOINTS_TABLE"])["Items"]
    raw = json.dumps(items, default=str)
    for secret in secrets:
        assert secret not in raw
        assert secret.removeprefix("whsec_") not in raw
    assert items[0]["secret_enc"]["B"][:2] == b"TP"  # the TokenCipher's envelope format
    # Logs and the delivery log never show it
    out = capsys.readouterr()
    logged = caplog.text + out.out + out.err
    deliveries = json.dumps(hooks.deliveries(created["endpoint_id"]))
    for secret in secrets:
        assert secret not in logged
        assert secret not in deliveries


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/webhook",  # not https outside the local stack
        "https://127.0.0.1/hook",
        "https://localhost/hook",  # resolves to loopback
        "https://10.0.0.7/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata
        "https://100.64.0.1/hook",  # carrier-grade NAT
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",  # multicast
        "https://240.0.0.1/hook",  # reserved
        "https://255.255.255.255/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
        "https://[::ffff:169.254.169.254]/hook",
        "https://[64:ff9b::a00:1]/hook",  # NAT64 of 10.0.0.1
        "https://[2002:a00:1::]/hook",  # 6to4 of 10.0.0.1
        "https://[fe80::1]/hook",
        "https://[fc00::1]/hook",
        "https://2130706433/hook",  # 127.0.0.1 as a number
        "https://0x7f.1/hook",
        "https://user:password@hooks.example.com/hook",  # credentials in the URL
        "ftp://hooks.example.com/hook",
        "https:///no-host",
        "https://hooks.example.com/hook#fragment",
        "https://exa mple.com/hook",
    ],
)
def test_unsafe_urls_are_refused_at_registration_and_nothing_is_stored(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    from tiktok_publisher import bootstrap, config

    # Given a deployed stage (https only, no loopback)
    monkeypatch.setenv("STAGE", "dev")
    monkeypatch.delenv("WEBHOOK_ALLOW_LOOPBACK")
    config.reset_caches()
    bootstrap.reset()
    # When a tenant registers the URL
    answer = hooks.api("POST", BASE, body={"url": url, "event_types": ["post.published"]})
    # Then 422 unsafe_url, and no endpoint exists
    assert answer.status == 422, answer.body
    assert answer.body["error"]["code"] == "unsafe_url"
    assert hooks.api("GET", BASE).body["endpoints"] == []


def test_loopback_is_refused_unless_the_local_configuration_allows_it(
    hooks: Hooks, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tiktok_publisher import bootstrap, config

    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "false")
    config.reset_caches()
    bootstrap.reset()
    answer = hooks.api("POST", BASE, body={"url": receiver.url, "event_types": ["post.published"]})
    assert (answer.status, answer.body["error"]["code"]) == (422, "unsafe_url")
    # And a URL changed to an unsafe one is refused too
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "true")
    config.reset_caches()
    bootstrap.reset()
    endpoint = hooks.register(receiver.url)
    patched = hooks.api("PATCH", f"{BASE}/{endpoint['endpoint_id']}", body={"url": "https://10.1.2.3/x"})
    assert (patched.status, patched.body["error"]["code"]) == (422, "unsafe_url")


def test_loopback_allowed_outside_the_local_stage_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    from tiktok_publisher.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="WEBHOOK_ALLOW_LOOPBACK"):
        Settings.from_env({"STAGE": "prod", "WEBHOOK_ALLOW_LOOPBACK": "true"})
    assert Settings.from_env({"STAGE": "local", "WEBHOOK_ALLOW_LOOPBACK": "true"}).webhook_allow_loopback


class ScriptedDns:
    """DNS answers chosen by the test (the connection itself is real)."""

    def __init__(self, transport: Any, answers: list[list[str]]) -> None:
        self.transport = transport
        self.answers = answers
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.answers[min(len(self.asked), len(self.answers)) - 1]


def test_dns_rebinding_at_delivery_time_is_refused(
    hooks: Hooks, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tiktok_publisher import bootstrap, config

    # Given a deployed-like policy (no loopback) and a host that resolves to a public address at registration,
    # then to the metadata service and to loopback (where a receiver listens) at delivery time
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "false")
    config.reset_caches()
    bootstrap.reset()
    p = bootstrap.ports(secrets=False)
    for service in (p.endpoint_service, p.fanout, p.delivery_sender):
        service.clock = hooks.clock
    port = int(receiver.url.split(":")[2].split("/")[0])
    dns = ScriptedDns(
        p.webhook_transport, [["93.184.215.14"], ["169.254.169.254", "127.0.0.1"], ["127.0.0.1"]]
    )
    monkeypatch.setattr(p.webhook_transport, "resolve", dns)
    endpoint = hooks.register(f"http://rebind.example:{port}/hook")
    # When a message is delivered, twice
    hooks.emit("Post Published", {"post_id": "01JD3Q8Z5N3Y8X4W6V2T0R9S7P", "status": "published"})
    hooks.drain()
    hooks.clock.advance(6)
    hooks.drain()
    # Then each attempt resolved again, was refused, and nothing reached the loopback receiver
    assert dns.asked == ["rebind.example"] * 3
    assert receiver.received == []
    (delivery,) = hooks.deliveries(endpoint["endpoint_id"])
    assert [a["error"] for a in delivery["attempts"]] == ["unsafe_address", "unsafe_address"]
    assert delivery["status"] == "retrying"


def test_the_connection_goes_to_the_checked_address_not_a_new_lookup(
    hooks: Hooks, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tiktok_publisher import bootstrap

    # Given a name only our resolver knows (the system resolver cannot find "*.test")
    p = bootstrap.ports(secrets=False)
    port = int(receiver.url.split(":")[2].split("/")[0])
    monkeypatch.setattr(p.webhook_transport, "resolve", ScriptedDns(p.webhook_transport, [["127.0.0.1"]]))
    hooks.register(f"http://receiver.test:{port}/hook")
    # When a message is delivered
    hooks.emit("Post Published", {"post_id": "01JD3Q8Z5N3Y8X4W6V2T0R9S7P", "status": "published"})
    hooks.drain()
    # Then it reached the checked address, naming the host in the Host header
    (request,) = receiver.received
    assert request.headers["host"] == f"receiver.test:{port}"


def test_another_tenants_endpoint_is_404_everywhere_and_their_events_never_cross(
    hooks: Hooks, receiver: Receiver
) -> None:
    endpoint = hooks.register(receiver.url)
    eid = endpoint["endpoint_id"]
    for method, path, body in [
        ("GET", f"{BASE}/{eid}", None),
        ("PATCH", f"{BASE}/{eid}", {"description": "mine now"}),
        ("DELETE", f"{BASE}/{eid}", None),
        ("POST", f"{BASE}/{eid}/rotate-secret", None),
        ("GET", f"{BASE}/{eid}/deliveries", None),
        ("GET", f"{BASE}/{eid}/deliveries/msg_01JD3Q8Z5N3Y8X4W6V2T0R9S7P", None),
        ("POST", f"{BASE}/{eid}/deliveries/msg_01JD3Q8Z5N3Y8X4W6V2T0R9S7P/replay", None),
    ]:
        answer = hooks.api(method, path, tenant="tenant-b", body=body)
        assert answer.status == 404, (method, path, answer.body)
    assert hooks.api("GET", BASE, tenant="tenant-b").body["endpoints"] == []
    # And tenant-a's endpoint is untouched, and hears nothing of tenant-b's posts
    assert hooks.api("GET", f"{BASE}/{eid}").body["description"] == ""
    hooks.emit("Post Published", {"post_id": "01JD3Q8Z5N3Y8X4W6V2T0R9S7P"}, tenant="tenant-b")
    assert hooks.drain() == 0
    assert receiver.received == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ('{"url": "https://hooks.example.com/x", "event_types": [', 400, "malformed_json"),
        (json.dumps({"url": "https://hooks.example.com/x"}), 422, "invalid_input"),
        (json.dumps({"url": 42, "event_types": ["post.published"]}), 422, "invalid_input"),
        (json.dumps({"url": "https://hooks.example.com/x", "event_types": []}), 422, "invalid_input"),
        (json.dumps({"url": "https://h.example.com/x", "event_types": ["x.y"]}), 422, "invalid_input"),
        (json.dumps({"url": "https://h.example.com/x", "event_types": "post.failed"}), 422, "invalid_input"),
        (json.dumps({"url": "https://h.example.com/x", "event_types": ["post.failed"], "admin": True}), 422,
         "invalid_input"),
        (json.dumps({"url": "https://h.example.com/" + "a" * 3000, "event_types": ["post.failed"]}), 422,
         "invalid_input"),
        (json.dumps({"url": "x", "event_types": ["post.failed"], "description": "d" * 70_000}), 413,
         "body_too_large"),
    ],
    ids=["malformed", "no-types", "url-type", "empty-types", "unknown-type", "types-not-list", "extra-field",
         "url-too-long", "oversized"],
)  # fmt: skip
def test_bad_bodies_get_a_clear_error_and_store_nothing(
    hooks: Hooks, body: str, status: int, code: str
) -> None:
    answer = hooks.api("POST", BASE, raw_body=body)
    assert answer.status == status, answer.body
    assert answer.body["error"]["code"] == code
    assert hooks.api("GET", BASE).body["endpoints"] == []


@pytest.mark.parametrize(
    "path",
    [f"{BASE}/not-an-id", f"{BASE}/ep_lowercase0000000000000000000/deliveries", f"{BASE}/ep_x/rotate-secret"],
)
def test_malformed_ids_are_refused(hooks: Hooks, path: str) -> None:
    method = "POST" if path.endswith("rotate-secret") else "GET"
    answer = hooks.api(method, path)
    assert answer.status == 422
    assert answer.body["error"]["code"] == "invalid_input"


def test_a_tenant_has_a_bounded_number_of_endpoints(hooks: Hooks, receiver: Receiver) -> None:
    from tiktok_publisher.outbound.endpoints import MAX_ENDPOINTS_PER_TENANT

    for _ in range(MAX_ENDPOINTS_PER_TENANT):
        hooks.register(receiver.url)
    answer = hooks.api("POST", BASE, body={"url": receiver.url, "event_types": ["post.failed"]})
    assert (answer.status, answer.body["error"]["code"]) == (409, "too_many_endpoints")
    assert len(hooks.api("GET", BASE).body["endpoints"]) == MAX_ENDPOINTS_PER_TENANT


def test_the_delivery_log_pages_newest_first_and_its_cursor_is_bound_to_the_endpoint(
    hooks: Hooks, receiver: Receiver
) -> None:
    first = hooks.register(receiver.url)
    second = hooks.register(receiver.url)
    for i in range(3):
        hooks.emit("Post Published", {"post_id": f"01JD3Q8Z5N3Y8X4W6V2T0R9S7{i}", "status": "published"})
        hooks.clock.advance(1)
    hooks.drain()
    page = hooks.api("GET", f"{BASE}/{first['endpoint_id']}/deliveries", query={"limit": "2"})
    assert page.status == 200
    # (message ids sort by the bus event's time; EventBridge stamps whole seconds, so within one second the
    # order is the id's own)
    ids = [d["message_id"] for d in page.body["deliveries"]]
    assert len(ids) == 2
    cursor = page.body["next_cursor"]
    log = f"{BASE}/{first['endpoint_id']}/deliveries"
    rest = hooks.api("GET", log, query={"limit": "2", "cursor": cursor})
    ids += [d["message_id"] for d in rest.body["deliveries"]]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 3
    posts = {d["payload"]["data"]["post_id"][-1] for d in page.body["deliveries"] + rest.body["deliveries"]}
    assert posts == {"0", "1", "2"}
    # The cursor of one endpoint does not open another's log
    other = hooks.api("GET", f"{BASE}/{second['endpoint_id']}/deliveries", query={"cursor": cursor})
    assert (other.status, other.body["error"]["code"]) == (422, "invalid_input")
    garbage = hooks.api("GET", f"{BASE}/{first['endpoint_id']}/deliveries", query={"cursor": "%%%"})
    assert garbage.status == 422
    one = hooks.api(
        "GET", f"{BASE}/{first['endpoint_id']}/deliveries/{page.body['deliveries'][0]['message_id']}"
    )
    assert one.status == 200
    assert one.body["status"] == "succeeded"

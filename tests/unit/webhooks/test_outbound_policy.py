"""Pure rules of webhooks to the SaaS: Standard Webhooks signatures (checked against the `standardwebhooks`
library), the retry schedule, message ids, the queue message, and the SSRF address policy."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook

from tiktok_publisher.domain import outbound
from tiktok_publisher.domain.ssrf import TargetPolicy, UnsafeUrl, check_address, choose_address, parse_url

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks specification's example secret


@given(body=st.binary(max_size=2048), stamp=st.integers(min_value=0, max_value=2**34))
def test_our_signature_is_the_standard_one(body: bytes, stamp: int) -> None:
    ours = outbound.sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", stamp, body)
    theirs = Webhook(SECRET).sign(
        "msg_p5jXN8AQM9LWM0D4loKWxJek", dt.datetime.fromtimestamp(stamp, dt.UTC), body
    )
    assert ours == theirs


def test_a_fresh_message_verifies_with_the_library_with_every_secret_it_is_signed_with() -> None:
    old, new = outbound.new_secret(), outbound.new_secret()
    body = outbound.payload_for(
        "post.published", "2026-11-25T14:30:00Z", {"post_ids": ["7390123456789012345"]}
    )
    headers = outbound.signature_headers(
        [new, old], "msg_1", int(dt.datetime.now(dt.UTC).timestamp()), body.encode()
    )
    for secret in (new, old):
        assert Webhook(secret).verify(body.encode(), headers)["data"]["post_ids"] == ["7390123456789012345"]
    with pytest.raises(Exception, match="signature"):
        Webhook(outbound.new_secret()).verify(body.encode(), headers)


def test_secrets_are_whsec_base64_of_32_random_bytes() -> None:
    secrets = {outbound.new_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(len(outbound.secret_key(s)) == 32 for s in secrets)
    for bad in ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_" + "QUFB"):
        with pytest.raises(outbound.InvalidSecret):
            outbound.secret_key(bad)


def test_retries_grow_and_last_more_than_a_day() -> None:
    delays = [outbound.retry_delay(n) for n in range(1, outbound.MAX_ATTEMPTS)]
    assert delays == sorted(delays)
    assert all(d is not None and d <= 12 * 3600 for d in delays)  # SQS visibility ceiling
    assert sum(d for d in delays if d) > 24 * 3600
    assert outbound.retry_delay(outbound.MAX_ATTEMPTS) is None
    assert outbound.retry_delay(0) is None


def test_message_ids_are_stable_per_event_and_sort_by_time() -> None:
    a = outbound.message_id_for("3b7c5c1e-0c6b-4c54-9d8c-1a2b3c4d5e6f", 1_795_615_200_000)
    assert a == outbound.message_id_for("3b7c5c1e-0c6b-4c54-9d8c-1a2b3c4d5e6f", 1_795_615_200_000)
    later = outbound.message_id_for("00000000-0000-0000-0000-000000000000", 1_795_615_201_000)
    assert a.startswith("msg_")
    assert len(a) == 30
    assert later > a


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"t": "a"}',
        '{"t": "a", "e": "b", "m": "c", "c": "1"}',
        '{"t": 1, "e": "b", "m": "c"}',
        "nope",
    ],
)
def test_queue_messages_this_code_did_not_write_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        outbound.DeliveryMessage.from_json(text)


def test_queue_message_round_trip() -> None:
    message = outbound.DeliveryMessage("tenant-a", "ep_1", "msg_1", 2)
    assert outbound.DeliveryMessage.from_json(message.to_json()) == message
    assert message.dedup_id != outbound.DeliveryMessage("tenant-a", "ep_1", "msg_1", 3).dedup_id


def test_ordering_groups_follow_the_post_or_the_account() -> None:
    assert outbound.ordering_group("post.failed", {"post_id": "P"}) == "post:P"
    assert outbound.ordering_group("account.connected", {"open_id": "O"}) == "account:O"
    group = outbound.queue_group_id("tenant-a", "ep_1", "post:" + "x" * 500)
    assert len(group) <= 128


PUBLIC = ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808"]
UNSAFE = [
    "127.0.0.1", "127.8.9.1", "10.0.0.1", "172.31.255.255", "192.168.0.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.251", "239.255.255.250", "240.0.0.1", "255.255.255.255", "198.18.0.1", "192.0.2.1",
    "::1", "::", "fe80::1", "fc00::1", "ff02::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::1", "2002:c0a8:0101::1", "2001:db8::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
]  # fmt: skip


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    check_address(ipaddress.ip_address(address), TargetPolicy())


@pytest.mark.parametrize("address", UNSAFE)
def test_private_loopback_link_local_multicast_reserved_and_tunnelled_addresses_fail(address: str) -> None:
    with pytest.raises(UnsafeUrl):
        check_address(ipaddress.ip_address(address), TargetPolicy())


def test_loopback_only_with_the_local_allowance_and_nothing_else_private() -> None:
    local = TargetPolicy(allow_http=True, allow_loopback=True)
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        check_address(ipaddress.ip_address(address), local)
    for address in ("10.0.0.1", "169.254.169.254", "192.168.1.1"):
        with pytest.raises(UnsafeUrl):
            check_address(ipaddress.ip_address(address), local)


def test_one_bad_address_in_an_answer_refuses_the_whole_answer() -> None:
    with pytest.raises(UnsafeUrl):
        choose_address(["93.184.215.14", "10.0.0.1"], TargetPolicy())
    with pytest.raises(UnsafeUrl):
        choose_address([], TargetPolicy())
    with pytest.raises(UnsafeUrl):
        choose_address(["fe80::1%eth0"], TargetPolicy())
    assert choose_address(["93.184.215.14", "8.8.8.8"], TargetPolicy()) == "93.184.215.14"


def test_a_url_keeps_its_path_query_and_host_header() -> None:
    url = parse_url("https://Hooks.Example.com:8443/in/tiktok?key=1", TargetPolicy())
    assert (url.host, url.port, url.target, url.host_header) == (
        "hooks.example.com",
        8443,
        "/in/tiktok?key=1",
        "hooks.example.com:8443",
    )
    assert parse_url("https://hooks.example.com", TargetPolicy()).target == "/"
    assert parse_url("http://hooks.example.com/x", TargetPolicy(allow_http=True)).port == 80

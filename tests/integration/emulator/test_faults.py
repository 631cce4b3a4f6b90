"""Fault injection: 5xx, 429, 200-with-error, slow and reset, per endpoint, for N calls."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from tiktok_emulator.testing import EmulatorHandle, fake_mp4

from .conftest import TIMEOUT, Api, error_code, file_source, put_chunk


def token_form(emulator: EmulatorHandle, refresh_token: str) -> dict[str, str]:
    return {
        "client_key": emulator.config.client_key,
        "client_secret": emulator.config.client_secret,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    }


def arm(emulator: EmulatorHandle, **spec: object) -> None:
    response = requests.post(f"{emulator.base_url}/_admin/faults", json=spec, timeout=TIMEOUT)
    assert response.status_code == 200, response.text


CALLS: dict[str, Callable[[Api], requests.Response]] = {
    "user_info": lambda c: c.user_info("open_id"),
    "creator_info": lambda c: c.creator_info(),
    "video_init": lambda c: c.init_direct(),
    "inbox_init": lambda c: c.init_inbox(),
    "photo_init": lambda c: c.post("/v2/post/publish/content/init/", {}),
    "status": lambda c: c.status("v_pub_file~v2-1.0"),
    "cancel": lambda c: c.cancel("v_pub_file~v2-1.0"),
}


@pytest.mark.parametrize("endpoint", sorted(CALLS))
def test_v2_endpoint_faults(emulator: EmulatorHandle, api: Callable[..., Api], endpoint: str) -> None:
    client = api("creator_private")
    call = CALLS[endpoint]
    arm(emulator, endpoint=endpoint, mode="5xx", status=503, count=2)
    for _ in range(2):
        response = call(client)
        assert (response.status_code, error_code(response)) == (503, "internal_error")
        assert response.json()["error"]["log_id"] == response.headers["x-tt-logid"]
    arm(emulator, endpoint=endpoint, mode="429")
    response = call(client)
    assert (response.status_code, error_code(response)) == (429, "rate_limit_exceeded")
    arm(emulator, endpoint=endpoint, mode="error200", code="spam_risk_too_many_posts")
    response = call(client)
    assert (response.status_code, error_code(response)) == (200, "spam_risk_too_many_posts")
    arm(emulator, endpoint=endpoint, mode="reset")
    with pytest.raises(requests.ConnectionError):
        call(client)
    # Faults are consumed: the endpoint behaves normally again (whatever its normal answer is).
    assert error_code(call(client)) not in {
        "internal_error",
        "rate_limit_exceeded",
        "spam_risk_too_many_posts",
    }


def test_slow_fault_delays_then_answers(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    client = api("creator_private")
    arm(emulator, endpoint="creator_info", mode="slow", delay_ms=1500)
    with pytest.raises(requests.ReadTimeout):
        requests.post(
            f"{emulator.base_url}/v2/post/publish/creator_info/query/",
            json={},
            headers=client.headers,
            timeout=0.3,
        )
    arm(emulator, endpoint="creator_info", mode="slow", delay_ms=50)
    assert error_code(client.creator_info()) == "ok"


def test_token_and_revoke_faults_use_the_oauth_shape(emulator: EmulatorHandle) -> None:
    tokens = emulator.connect("creator_public")
    url = f"{emulator.base_url}/v2/oauth/token/"
    arm(emulator, endpoint="token", mode="5xx", status=502)
    response = requests.post(url, data=token_form(emulator, tokens["refresh_token"]), timeout=TIMEOUT)
    assert response.status_code == 502
    assert response.json()["error"] == "server_error"
    arm(emulator, endpoint="token", mode="error200", code="invalid_grant")
    response = requests.post(url, data=token_form(emulator, tokens["refresh_token"]), timeout=TIMEOUT)
    assert (response.status_code, response.json()["error"]) == (200, "invalid_grant")
    assert set(response.json()) == {"error", "error_description", "log_id"}
    arm(emulator, endpoint="token", mode="reset")
    with pytest.raises(requests.ConnectionError):
        requests.post(url, data=token_form(emulator, tokens["refresh_token"]), timeout=TIMEOUT)
    # The faults did not rotate anything: the refresh token still works.
    assert (
        "access_token"
        in requests.post(url, data=token_form(emulator, tokens["refresh_token"]), timeout=TIMEOUT).json()
    )
    arm(emulator, endpoint="revoke", mode="429")
    response = requests.post(
        f"{emulator.base_url}/v2/oauth/revoke/",
        data={"client_key": emulator.config.client_key, "client_secret": emulator.config.client_secret,
              "token": tokens["access_token"]},
        timeout=TIMEOUT,
    )  # fmt: skip
    assert (response.status_code, response.json()["error"]) == (429, "rate_limit_exceeded")


def test_chunk_faults_then_retry_the_same_chunk(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    client = api("creator_private")
    data = fake_mp4(2 * 5 * 1024 * 1024)
    chunk = 5 * 1024 * 1024
    url = client.init_direct(source=file_source(len(data), chunk, 2)).json()["data"]["upload_url"]
    assert put_chunk(url, data[:chunk], 0, len(data)).status_code == 206
    arm(emulator, endpoint="chunk", mode="5xx", status=500)
    failed = put_chunk(url, data[chunk:], chunk, len(data))
    assert failed.status_code == 500
    assert failed.headers["Content-Range"] == f"bytes 0-{chunk - 1}/{len(data)}"
    arm(emulator, endpoint="chunk", mode="reset")
    with pytest.raises(requests.ConnectionError):
        put_chunk(url, data[chunk:], chunk, len(data))
    arm(emulator, endpoint="chunk", mode="429")
    assert put_chunk(url, data[chunk:], chunk, len(data)).status_code == 429
    assert put_chunk(url, data[chunk:], chunk, len(data)).status_code == 201
    assert emulator.received_bytes(client.status and emulator.state()["posts"][0]["publish_id"]) == data


def test_fault_admin_validation_and_clear(emulator: EmulatorHandle) -> None:
    url = f"{emulator.base_url}/_admin/faults"
    for spec in ({"endpoint": "nope", "mode": "5xx"}, {"endpoint": "token", "mode": "explode"},
                 {"endpoint": "token", "mode": "5xx", "status": 404}, {"endpoint": "token"}):  # fmt: skip
        assert requests.post(url, json=spec, timeout=TIMEOUT).status_code == 400
    arm(emulator, endpoint="status", mode="429", count=3)
    assert requests.get(url, timeout=TIMEOUT).json()[0]["count"] == 3
    assert requests.delete(url, timeout=TIMEOUT).json() == []
    assert requests.get(url, timeout=TIMEOUT).json() == []

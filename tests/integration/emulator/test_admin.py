"""The admin API and the standalone command."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import requests

from tiktok_emulator.testing import EmulatorHandle

from .conftest import TIMEOUT, Api, error_code


def test_state_shows_tokens_posts_and_config(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    tokens = emulator.connect("creator_public")
    api("creator_private").init_direct()
    state = requests.get(f"{emulator.base_url}/_admin/state", timeout=TIMEOUT).json()
    assert {"now", "config", "codes", "grants", "access_tokens", "refresh_tokens", "uploads", "posts",
            "webhooks", "faults"} <= set(state)  # fmt: skip
    access = {t["token"]: t for t in state["access_tokens"]}
    assert access[tokens["access_token"]]["revoked"] is False
    assert state["posts"][0]["account"] == "creator_private"
    assert state["uploads"][0]["publish_id"] == state["posts"][0]["publish_id"]
    assert "upload_token" not in state["uploads"][0]
    assert state["config"]["client_key"] == "sbawlocaldevkey"


def test_reset_forgets_everything(emulator: EmulatorHandle, api: Callable[..., Api]) -> None:
    client = api("creator_private")
    client.init_direct()
    emulator.configure(audited=True)
    emulator.advance(100)
    assert requests.post(f"{emulator.base_url}/_admin/reset", timeout=TIMEOUT).json() == {"ok": True}
    state = emulator.state()
    assert state["posts"] == []
    assert state["access_tokens"] == []
    assert state["config"]["audited"] is False
    assert abs(emulator.emulator.clock.offset) < 1e-9
    assert error_code(client.user_info("open_id")) == "access_token_invalid"


def test_clock_and_config_endpoints(emulator: EmulatorHandle) -> None:
    base = emulator.base_url
    before = requests.get(f"{base}/_admin/clock", timeout=TIMEOUT).json()["now"]
    after = requests.post(f"{base}/_admin/clock/advance", json={"seconds": 3600}, timeout=TIMEOUT).json()[
        "now"
    ]
    assert after - before >= 3600
    assert (
        requests.post(f"{base}/_admin/clock/advance", json={"seconds": -1}, timeout=TIMEOUT).status_code
        == 400
    )
    patched = requests.post(
        f"{base}/_admin/config", json={"access_ttl": 7200, "rate_limits": {"status": 5}}, timeout=TIMEOUT
    ).json()
    assert patched["access_ttl"] == 7200
    assert patched["rate_limits"]["status"] == 5
    assert patched["rate_limits"]["video_init"] == 6
    assert requests.post(f"{base}/_admin/config", json={"acess_ttl": 1}, timeout=TIMEOUT).status_code == 400
    assert requests.get(f"{base}/_admin/config", timeout=TIMEOUT).json()["access_ttl"] == 7200


def test_issue_tokens_and_revoke_authorization(emulator: EmulatorHandle) -> None:
    base = emulator.base_url
    tokens = requests.post(
        f"{base}/_admin/tokens",
        json={"account": "creator_private", "scopes": ["user.info.basic"]},
        timeout=TIMEOUT,
    ).json()
    assert tokens["scope"] == "user.info.basic"
    client = Api(base, tokens["access_token"])
    assert error_code(client.user_info("open_id")) == "ok"
    response = requests.post(
        f"{base}/_admin/revoke-authorization", json={"account": "creator_private"}, timeout=TIMEOUT
    )
    assert response.json()["grants_revoked"] == 1
    assert error_code(client.user_info("open_id")) == "access_token_invalid"
    assert (
        requests.post(
            f"{base}/_admin/revoke-authorization", json={"account": "ghost"}, timeout=TIMEOUT
        ).status_code
        == 404
    )
    state = emulator.state()
    assert all(t["revoked"] for t in state["refresh_tokens"])
    assert state["webhooks"][0]["event"] == "authorization.removed"


def test_unknown_bytes_is_404(emulator: EmulatorHandle) -> None:
    assert requests.get(f"{emulator.base_url}/_admin/posts/nope/bytes", timeout=TIMEOUT).status_code == 404
    assert requests.get(f"{emulator.base_url}/_admin/posts/nope", timeout=TIMEOUT).status_code == 404


def test_factory_with_custom_config(emulator_factory: Callable[..., EmulatorHandle]) -> None:
    custom = emulator_factory(client_key="otherkey", audited=True, redirect_uris=["https://app.example/cb"])
    assert custom.config.client_key == "otherkey"
    tokens = custom.connect("creator_public", ["user.info.basic", "video.publish"])
    response = Api(custom.base_url, tokens["access_token"]).init_direct("PUBLIC_TO_EVERYONE")
    assert error_code(response) == "ok"


def test_command_line_with_config_file(tmp_path: Path) -> None:
    config = tmp_path / "emulator.json"
    config.write_text(json.dumps({"client_key": "filekey", "processing_delay": 0}))
    process = subprocess.Popen(
        [sys.executable, "-m", "tiktok_emulator", "--port", "0", "--config", str(config), "--quiet",
         "--account", "alice:private", "--verified-prefix", "example.com"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        base_url = line.split(" on ")[1].split(" ")[0]
        config_now = requests.get(f"{base_url}/_admin/config", timeout=TIMEOUT).json()
        assert config_now["client_key"] == "filekey"
        assert config_now["processing_delay"] == 0
        assert config_now["verified_url_prefixes"] == ["example.com"]
        assert [a["name"] for a in config_now["accounts"]] == ["alice"]
        assert config_now["accounts"][0]["private"] is True
        assert config_now["default_account"] == "alice"
    finally:
        process.terminate()
        process.wait(timeout=10)

"""Through a local stack of its own (so its function workers' logs can be read), run the connect paths a
user meets and scan every worker log line, response body and redirect URL for secrets."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from local_stack import LocalStack
from tests.integration.connect.harness import consent

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stack")]
TIMEOUT = 30


def test_no_secret_in_worker_logs_responses_or_redirects(capfd: pytest.CaptureFixture[str]):
    seen: list[str] = []  # every response body and Location we got from the gateway
    verifiers: set[str] = set()

    def record(answer: requests.Response) -> requests.Response:
        seen.append(f"{answer.status_code} {answer.headers.get('Location', '')} {answer.text}")
        return answer

    with LocalStack(quiet=False, schedule_interval=0) as stack:  # quiet=False: worker logs go to stderr
        headers = {"Authorization": f"Bearer {stack.dev_token(f'tenant-{uuid.uuid4().hex[:8]}', 'user-1')}"}
        sessions_table = stack.resources["OAuthSessionsTable"]
        dynamodb = stack.client("dynamodb")

        browser = requests.Session()  # issue 11: the start's binding cookie goes back to the callback

        def start() -> str:
            answer = record(
                browser.get(
                    f"{stack.gateway_url}/v1/oauth/tiktok/start",
                    params={"return_to": f"{stack.gateway_url}/app"},
                    headers=headers,
                    timeout=TIMEOUT,
                )
            )
            for item in dynamodb.scan(TableName=sessions_table)["Items"]:
                if "code_verifier" in item:
                    verifiers.add(item["code_verifier"]["S"])
            return str(answer.json()["authorize_url"])

        def land(tiktok_redirect: str) -> requests.Response:
            return record(browser.get(tiktok_redirect, allow_redirects=False, timeout=TIMEOUT))

        connected = land(consent(start(), account="creator_private"))
        open_id = parse_qs(urlsplit(connected.headers["Location"]).query)["open_id"][0]
        land(consent(start(), decision="cancel"))
        land(consent(start(), untick=("video.upload",)))
        replay = consent(start())
        land(replay)
        land(replay)
        record(requests.get(f"{stack.gateway_url}/v1/accounts", headers=headers, timeout=TIMEOUT))
        record(
            requests.get(
                f"{stack.gateway_url}/v1/accounts/{open_id}/creator-info", headers=headers, timeout=TIMEOUT
            )
        )
        record(
            requests.delete(f"{stack.gateway_url}/v1/accounts/{open_id}", headers=headers, timeout=TIMEOUT)
        )
        state = requests.get(f"{stack.emulator_url}/_admin/state", timeout=TIMEOUT).json()
        sm = stack.client("secretsmanager")
        secret_json = sm.get_secret_value(SecretId=stack.app_secret_id)["SecretString"]
        # Issue 11: the state key is a secret of its own.
        state_key = sm.get_secret_value(SecretId=stack.resources["StateSigningSecret"])["SecretString"]
        # worker output is pumped by threads: wait (bounded) for the last request's log line to arrive
        logs = ""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            captured = capfd.readouterr()
            logs += captured.out + captured.err
            if "tiktok account disconnected" in logs:
                break
            time.sleep(0.1)

    app_secret = json.loads(secret_json)
    secrets: dict[str, str] = {
        "client secret": app_secret["client_secret"],
        "state key": state_key,
        "jwt key": stack.jwt_secret,
    }
    secrets.update({f"code {c['code'][:4]}": c["code"] for c in state["codes"]})
    secrets.update({f"access {t['token'][:8]}": t["token"] for t in state["access_tokens"]})
    secrets.update({f"refresh {t['token'][:8]}": t["token"] for t in state["refresh_tokens"]})
    secrets.update({f"verifier {v[:4]}": v for v in verifiers})

    # something to scan, something to find
    assert "[OAuthCallbackFunction]" in logs or "oauth_callback" in logs
    assert "tiktok account connected" in logs
    assert "tiktok account disconnected" in logs
    assert len(verifiers) >= 4
    assert sum(k.startswith("code ") for k in secrets) >= 3
    assert any("tiktok=connected" in s for s in seen)

    text = {"worker logs": logs, "responses": "\n".join(seen)}
    leaks = [
        f"{name} in {where}" for name, value in secrets.items() for where, t in text.items() if value in t
    ]
    assert leaks == []

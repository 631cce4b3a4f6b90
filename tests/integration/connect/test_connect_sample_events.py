"""The sample events in events/ (sam local generate-event shapes) fed to the connect functions."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.integration.connect.harness import Harness
from tests.lambdas import ROOT


def _sample(name: str) -> dict[str, Any]:
    return dict(json.loads((ROOT / "events" / name).read_text()))


def test_oauth_start_sample_event_gets_an_authorize_url(harness: Harness, connect_env: Any):
    answer = harness.invoke("oauth_start", _sample("apigw_http_oauth_start.json"))
    assert answer.status == 200
    url = answer.json["authorize_url"]
    assert url.startswith(connect_env.auth_base)
    assert parse_qs(urlsplit(url).query)["client_key"] == ["sbawlocaldevkey"]


def test_oauth_callback_sample_event_with_its_made_up_state_is_a_dead_end(harness: Harness):
    answer = harness.invoke("oauth_callback", _sample("apigw_http_oauth_callback.json"))
    assert answer.status == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert "location" not in answer.headers


def test_list_accounts_sample_event_lists_the_demo_tenants_accounts(harness: Harness):
    harness.connect(tenant_id="demo-tenant")
    answer = harness.invoke("accounts", _sample("apigw_http_list_accounts.json"))
    assert answer.status == 200
    assert [a["username"] for a in answer.json["accounts"]] == ["creator_public"]

"""On `make run`'s stack: the legal pages answer with the configured company and every scope, and GET /v1/app
says plainly that the app is unaudited, with TikTok's limits."""

from __future__ import annotations

import html

import pytest
import requests

from local_stack import LocalStack
from local_stack.stack import LOCAL_COMPANY_NAME, LOCAL_CONTACT_EMAIL
from tests.e2e.golive.client import Tenant
from tiktok_publisher.connect.scopes import DEFAULT_SCOPES
from tiktok_publisher.legal.pages import SCOPE_PURPOSES

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stack")]


@pytest.mark.parametrize(("path", "title"), [("/legal/privacy", "Privacy policy"), ("/legal/terms", "Terms")])
def test_legal_pages_answer_with_the_company_and_every_scope(local_stack: LocalStack, path: str, title: str):
    answer = requests.get(local_stack.gateway_url + path, timeout=30)

    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert f"<h1>{title}" in answer.text
    assert LOCAL_COMPANY_NAME in answer.text
    assert f"mailto:{LOCAL_CONTACT_EMAIL}" in answer.text
    for scope in DEFAULT_SCOPES:
        assert f"<code>{scope}</code>" in answer.text
        assert html.escape(SCOPE_PURPOSES[scope]) in answer.text


def test_app_profile_says_the_app_is_unaudited(local_stack: LocalStack):
    tenant = Tenant(local_stack, "app")

    answer = tenant.call("GET", "/v1/app")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["audit_mode"] == "unaudited"
    assert body["limits"] == {
        "privacy_levels": ["SELF_ONLY"],
        "private_accounts_only": True,
        "max_posting_users_per_day": 5,
    }
    assert "hasn't been audited" in body["notice"]
    assert body["media_pull"]["transfer"] in ("FILE_UPLOAD", "PULL_FROM_URL")
    assert body["legal"] == {"privacy_policy": "/legal/privacy", "terms_of_service": "/legal/terms"}
    # Like every /v1 route but the public ones, it needs the caller's token
    assert requests.get(local_stack.gateway_url + "/v1/app", timeout=30).status_code == 401


def test_openapi_document_describes_the_go_live_routes(local_stack: LocalStack):
    paths = requests.get(local_stack.gateway_url + "/v1/openapi.json", timeout=30).json()["paths"]

    assert "delete" in paths["/v1/accounts/{open_id}/data"]
    assert "get" in paths["/v1/app"]
    assert {"get", "put"} <= set(paths["/v1/settings"])

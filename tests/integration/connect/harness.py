"""Drive the connect functions in-process as API Gateway would, and the emulator's consent page as a user
would. Every response the harness sees is recorded, so a test can scan all of them for secrets."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from tests.lambdas import LambdaContext, load_function
from tests.unit.connect.events import http_event

RETURN_TO = "https://app.example.com/settings/tiktok?tab=accounts"
ALLOWED_ORIGINS = "https://app.example.com,http://127.0.0.1:3000"


@dataclass
class Answer:
    """A Lambda proxy answer, decoded."""

    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def location(self) -> str:
        """The Location header ("" when absent, so assertions on its query fail clearly)."""
        return self.headers.get("location", "")


class ConsentForm(HTMLParser):
    """The consent page's form: action, hidden fields, account radios, scope checkboxes, buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.hidden: list[tuple[str, str]] = []
        self.accounts: list[str] = []
        self.checked_account: str | None = None
        self.scopes: list[str] = []
        self.decisions: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == "consent-form":
            self.action = a.get("action")
        elif tag == "input" and a.get("type") == "hidden":
            self.hidden.append((a["name"], a.get("value", "")))
        elif tag == "input" and a.get("type") == "radio" and a.get("name") == "account":
            self.accounts.append(a["value"])
            if "checked" in a:
                self.checked_account = a["value"]
        elif tag == "input" and a.get("type") == "checkbox" and a.get("name") == "grant" and "checked" in a:
            self.scopes.append(a["value"])
        elif tag == "button" and a.get("name") == "decision":
            self.decisions.append(a["value"])


def consent(
    authorize_url: str,
    *,
    decision: str = "authorize",
    account: str | None = None,
    untick: tuple[str, ...] = (),
    session: requests.Session | None = None,
) -> str:
    """Open TikTok's consent page, fill the form like a user, submit it; return where TikTok redirects."""
    http = session or requests.Session()
    page = http.get(authorize_url, timeout=10, allow_redirects=False)
    assert page.status_code == 200, page.text[:500]
    form = ConsentForm()
    form.feed(page.text)
    assert form.action, "no consent form on the authorize page"
    assert decision in form.decisions
    data: list[tuple[str, str]] = list(form.hidden)
    chosen = account or form.checked_account
    assert chosen in form.accounts, f"{chosen} not offered: {form.accounts}"
    data.append(("account", chosen))
    data += [("grant", scope) for scope in form.scopes if scope not in untick]
    data.append(("decision", decision))
    answer = http.post(urljoin(authorize_url, form.action), data=data, timeout=10, allow_redirects=False)
    assert answer.status_code in (301, 302, 303), answer.text[:500]
    return answer.headers["Location"]


class Harness:
    """In-process gateway for the connect functions; records every answer."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        # The browser's cookie jar for the API host: the start's browser-binding cookie (issue 11) goes back
        # to the callback as a browser would send it.
        self.cookies: dict[str, str] = {}

    def invoke(self, function: str, event: dict[str, Any]) -> Answer:
        raw = load_function(function).lambda_handler(
            event, LambdaContext(function_name=function, remaining_ms=30_000)
        )
        headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        for key, values in (raw.get("multiValueHeaders") or {}).items():
            headers.setdefault(key.lower(), ",".join(values))
        for cookie in raw.get("cookies") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
            headers["set-cookie"] = cookie
        body = raw.get("body") or ""
        if raw.get("isBase64Encoded"):
            body = base64.b64decode(body).decode("utf-8")
        answer = Answer(raw["statusCode"], headers, body)
        self.answers.append(answer)
        return answer

    def start(
        self,
        *,
        tenant_id: str = "tenant-a",
        return_to: str | None = RETURN_TO,
        scopes: str | None = None,
        redirect: bool = False,
    ) -> Answer:
        query: dict[str, str] = {}
        if return_to is not None:
            query["return_to"] = return_to
        if scopes is not None:
            query["scopes"] = scopes
        if redirect:
            query["redirect"] = "1"
        event = http_event("GET", "/v1/oauth/tiktok/start", query=query, tenant_id=tenant_id)
        return self.invoke("oauth_start", event)

    def callback(self, location_or_query: str, *, cookies: dict[str, str] | None = None) -> Answer:
        """Deliver TikTok's redirect (a full URL or just its query string) to the callback function, with the
        browser's cookies (`cookies` replaces the jar: {} is another browser)."""
        query = urlsplit(location_or_query).query if "://" in location_or_query else location_or_query
        event = http_event("GET", "/v1/oauth/tiktok/callback", raw_query=query, tenant_id=None)
        jar = self.cookies if cookies is None else cookies
        if jar:
            event["cookies"] = [f"{name}={value}" for name, value in jar.items()]
        return self.invoke("oauth_callback", event)

    def accounts(
        self,
        method: str,
        path: str = "",
        *,
        tenant_id: str | None = "tenant-a",
        query: dict[str, str] | None = None,
    ) -> Answer:
        full = f"/v1/accounts{path}"
        parts = [p for p in path.split("/") if p]
        params = {"open_id": parts[0]} if parts else None
        route = "/v1/accounts" + ("/{open_id}" if parts else "") + ("/creator-info" if len(parts) > 1 else "")
        event = http_event(
            method,
            full,
            query=query,
            tenant_id=tenant_id,
            route_key=f"{method} {route}",
            path_parameters=params,
        )
        return self.invoke("accounts", event)

    def openapi(self) -> Answer:
        return self.invoke("accounts", http_event("GET", "/v1/openapi.json", tenant_id=None))

    def connect(
        self, *, tenant_id: str = "tenant-a", account: str = "creator_public", return_to: str = RETURN_TO
    ) -> Answer:
        """The whole flow with approval; returns the callback's answer."""
        started = self.start(tenant_id=tenant_id, return_to=return_to)
        assert started.status == 200, started.text
        return self.callback(consent(started.json["authorize_url"], account=account))

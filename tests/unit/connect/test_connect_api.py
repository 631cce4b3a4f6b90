"""The shared resolver: one error mapping, 422 field paths, 400 bad JSON, 413 body limit, caller identity."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from pydantic import BaseModel, Field

from tests.unit.connect.events import http_event
from tiktok_publisher.domain.errors import Conflict, DomainError, NotFound, UpstreamError
from tiktok_publisher.entrypoints.http.caller import CallerDep, tenant
from tiktok_publisher.entrypoints.http.errors import HTML_ERRORS
from tiktok_publisher.entrypoints.http.resolver import create_app


class Item(BaseModel):
    name: str = Field(min_length=1, max_length=10)
    size: int = Field(ge=1)


class Box(BaseModel):
    item: Item
    tags: list[str] = Field(default_factory=list)


class Teapot(DomainError):
    status_code = 418
    code = "teapot"


@pytest.fixture
def app() -> Any:
    app = create_app(max_body_bytes=1024)

    @app.post("/v1/boxes")
    def create_box(box: Box, who: CallerDep) -> dict[str, Any]:
        return {"tenant": who.tenant_id, "user": who.user_id, "name": box.item.name}

    @app.get("/v1/raise/<kind>")
    def raise_(kind: str) -> dict[str, Any]:
        errors: dict[str, Exception] = {
            "not_found": NotFound("No such box."),
            "conflict": Conflict("Box is busy.", details={"box": "b1"}),
            "upstream": UpstreamError("TikTok is down."),
            "teapot": Teapot("I am a teapot."),
            "bug": RuntimeError("secret act.abcdef123 in a bug"),
        }
        raise errors[kind]

    @app.get("/v1/page")
    def page() -> dict[str, Any]:
        app.append_context(**{HTML_ERRORS: True})
        raise NotFound("No such page.")

    @app.get("/v1/whoami")
    def whoami() -> dict[str, Any]:
        return {"tenant": tenant(app.current_event)}

    return app


def _call(app: Any, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    answer = app.resolve(event, None)
    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
    body = answer.get("body") or ""
    if answer.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    if headers.get("content-type", "").startswith("application/json") and body:
        return answer["statusCode"], headers, json.loads(body)
    return answer["statusCode"], headers, body


def test_valid_body_reaches_the_route_with_the_callers_identity(app):
    status, _, body = _call(app, http_event("POST", "/v1/boxes", body={"item": {"name": "a", "size": 1}}))
    assert status == 200
    assert body == {"tenant": "tenant-a", "user": "user-a", "name": "a"}


def test_invalid_fields_answer_422_with_field_paths(app):
    status, _, body = _call(
        app, http_event("POST", "/v1/boxes", body={"item": {"name": "", "size": 0}, "tags": [1]})
    )
    assert status == 422
    assert body["error"]["code"] == "invalid_input"
    paths = {f["path"] for f in body["error"]["details"]["fields"]}
    assert paths == {"body.item.name", "body.item.size", "body.tags.0"}
    assert all(f["message"] and f["type"] for f in body["error"]["details"]["fields"])


def test_missing_body_field_is_reported_by_path(app):
    status, _, body = _call(app, http_event("POST", "/v1/boxes", body={"item": {"name": "a"}}))
    assert status == 422
    assert [f["path"] for f in body["error"]["details"]["fields"]] == ["body.item.size"]


def test_invalid_input_values_are_never_echoed(app):
    secret = "act.THIS-IS-A-TOKEN-VALUE"
    status, _, body = _call(app, http_event("POST", "/v1/boxes", body={"item": {"name": secret, "size": 1}}))
    assert status == 422
    assert secret not in json.dumps(body)


def test_malformed_json_answers_400_with_a_clear_message(app):
    status, _, body = _call(app, http_event("POST", "/v1/boxes", raw_body='{"item": {"name": "a",'))
    assert status == 400
    assert body["error"]["code"] == "malformed_json"
    assert "not valid JSON" in body["error"]["message"]


@pytest.mark.parametrize(
    "raw", ['[{"item": {"name": "a", "size": 1}}]', "[]", '"text"', "42", "null", "true"]
)
def test_a_body_that_is_not_a_json_object_is_refused(app, raw):
    # Powertools would validate the first element of an array as the body: `[{valid}]` must not pass.
    status, _, body = _call(app, http_event("POST", "/v1/boxes", raw_body=raw))
    assert status == 422
    assert body["error"] == {"code": "invalid_input", "message": "The request body must be a JSON object."}
    encoded = http_event("POST", "/v1/boxes", raw_body=base64.b64encode(raw.encode()).decode())
    encoded["isBase64Encoded"] = True
    assert _call(app, encoded)[0] == 422


def test_oversized_body_answers_413_before_parsing(app):
    status, _, body = _call(app, http_event("POST", "/v1/boxes", raw_body="{" + " " * 2000 + "}"))
    assert status == 413
    assert body["error"]["code"] == "body_too_large"


def test_oversized_base64_body_is_measured_decoded(app):
    raw = base64.b64encode(b"x" * 1025).decode()
    event = http_event("POST", "/v1/boxes", raw_body=raw)
    event["isBase64Encoded"] = True
    assert _call(app, event)[0] == 413
    small = http_event(
        "POST", "/v1/boxes", raw_body=base64.b64encode(b'{"item":{"name":"a","size":1}}').decode()
    )
    small["isBase64Encoded"] = True
    assert _call(app, small)[0] == 200


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("not_found", 404, "not_found"),
        ("conflict", 409, "conflict"),
        ("upstream", 502, "upstream_error"),
        ("teapot", 418, "teapot"),
    ],
)
def test_domain_errors_map_to_their_status_and_code(app, kind, status, code):
    got, headers, body = _call(app, http_event("GET", f"/v1/raise/{kind}"))
    assert got == status
    assert body["error"]["code"] == code
    assert headers["cache-control"] == "no-store"


def test_domain_error_details_are_returned(app):
    _, _, body = _call(app, http_event("GET", "/v1/raise/conflict"))
    assert body["error"] == {"code": "conflict", "message": "Box is busy.", "details": {"box": "b1"}}


def test_unexpected_errors_answer_500_without_their_message(app, caplog):
    status, _, body = _call(app, http_event("GET", "/v1/raise/bug"))
    assert status == 500
    assert body["error"]["code"] == "internal_error"
    assert "act." not in json.dumps(body)


def test_unknown_route_answers_json_404(app):
    status, _, body = _call(app, http_event("GET", "/v1/nope"))
    assert status == 404
    assert body["error"]["code"] == "route_not_found"


def test_browser_routes_get_an_html_page_for_domain_errors(app):
    status, headers, body = _call(app, http_event("GET", "/v1/page"))
    assert status == 404
    assert headers["content-type"].startswith("text/html")
    assert "No such page." in body
    assert "location" not in headers


def test_missing_authorizer_context_is_401_never_a_default_tenant(app):
    event = http_event("POST", "/v1/boxes", body={"item": {"name": "a", "size": 1}}, tenant_id=None)
    status, _, body = _call(app, event)
    assert status == 401
    assert body["error"]["code"] == "unauthorized"
    assert _call(app, http_event("GET", "/v1/whoami", tenant_id=None))[0] == 401


def test_tenant_helper_reads_the_lambda_authorizer_context(app):
    assert _call(app, http_event("GET", "/v1/whoami", tenant_id="t-9"))[2] == {"tenant": "t-9"}

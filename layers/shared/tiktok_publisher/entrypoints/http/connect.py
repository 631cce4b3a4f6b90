"""GET /v1/oauth/tiktok/start and GET /v1/oauth/tiktok/callback: thin routes over oauth.service."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from tiktok_publisher.bootstrap import Ports
from tiktok_publisher.connect.cookie import cookie_is_secure, read_cookie, set_cookie
from tiktok_publisher.connect.service import complete_connect, start_connect
from tiktok_publisher.connect.state import InvalidState
from tiktok_publisher.entrypoints.http.caller import CallerDep
from tiktok_publisher.entrypoints.http.docs import empty_response, error_responses, ok_response
from tiktok_publisher.entrypoints.http.errors import BASE_HEADERS, HTML_ERRORS, html_page
from tiktok_publisher.observability import count, logger

START_PATH = "/v1/oauth/tiktok/start"
CALLBACK_PATH = "/v1/oauth/tiktok/callback"


class AuthorizeUrl(BaseModel):
    authorize_url: str = Field(description="TikTok's consent page. Send the user's browser there.")
    expires_in: int = Field(description="Seconds the user has to finish (the pending session's lifetime).")


def register_start(app: APIGatewayHttpResolver, ports: Callable[[], Ports]) -> None:
    """Register GET /v1/oauth/tiktok/start on `app`."""

    @app.get(
        START_PATH,
        summary="Start connecting a TikTok account",
        description=(
            "Creates a pending OAuth session (10 minutes) and answers TikTok's authorize URL, or redirects "
            "to it with `redirect=1`. After the consent page the user lands on `return_to` with "
            "`tiktok=connected&open_id=...` or `tiktok=error&reason=...`.\n\n"
            "**Call it from the user's browser** (`fetch(..., {credentials: 'include'})`): the answer "
            "sets an HttpOnly, Secure, SameSite=Lax cookie `__Host-tiktok-connect` that binds the flow to "
            "that browser, and the callback refuses a state presented without it (RFC 9700). Serve the API "
            "on your product's site (e.g. api.example.com for app.example.com) so the cookie is first-party "
            "(docs/connect.md)."
        ),
        tags=["Connect"],
        responses={
            **ok_response(AuthorizeUrl, "The authorize URL"),
            **empty_response(302, "Redirect to TikTok's consent page (with `redirect=1`)"),
            **error_responses(400, 401, 422, e400="return_to is not on an allowed origin"),
        },
    )
    def start(
        who: CallerDep,
        return_to: Annotated[str, Query(max_length=2048, description="Where to send the user back.")],
        scopes: Annotated[
            str | None,
            Query(
                max_length=512, description="Comma-separated scopes; default asks for what publishing needs."
            ),
        ] = None,
        redirect: Annotated[bool, Query(description="Answer 302 to TikTok instead of JSON.")] = False,
    ) -> Response[Any]:
        p = ports()
        result = start_connect(
            tenant_id=who.tenant_id,
            user_id=who.user_id,
            return_to=return_to,
            scopes=scopes,
            config=p.connect_config,
            sessions=p.sessions,
            now=p.now(),
        )
        count("OAuthStarted")
        config = p.connect_config
        secure = cookie_is_secure(config.stage, config.redirect_uri)
        cookie = set_cookie(result.browser_nonce, secure=secure, max_age=result.expires_at - p.now())
        if redirect:
            return Response(
                status_code=HTTPStatus.FOUND,
                headers={**BASE_HEADERS, "Location": result.authorize_url},
                cookies=[cookie],
            )
        body = AuthorizeUrl(authorize_url=result.authorize_url, expires_in=result.expires_at - p.now())
        return Response(
            status_code=HTTPStatus.OK,
            content_type=content_types.APPLICATION_JSON,
            body=body.model_dump(),
            headers=dict(BASE_HEADERS),
            cookies=[cookie],
        )


def register_callback(app: APIGatewayHttpResolver, ports: Callable[[], Ports]) -> None:
    """Register GET /v1/oauth/tiktok/callback (no authorizer: TikTok's redirect carries no bearer token)."""

    @app.get(
        CALLBACK_PATH,
        summary="TikTok's OAuth redirect target",
        description=(
            "Not called by API clients: TikTok sends the user's browser here. Answers a 302 to the session's "
            "return_to, or a 400 HTML page when the state is invalid, expired or already used, or when the "
            "browser does not present the `__Host-tiktok-connect` cookie of the start that minted the state."
        ),
        tags=["Connect"],
        responses={
            **empty_response(
                302, "Back to return_to with `tiktok=connected&open_id=...` or `tiktok=error&reason=...`"
            ),
            400: {
                "description": "Invalid, expired, replayed or forged state: an HTML page leading nowhere",
                "content": {"text/html": {"schema": {"type": "string"}}},
            },
        },
    )
    def callback(
        state: Annotated[str | None, Query()] = None,
        code: Annotated[str | None, Query()] = None,
        scopes: Annotated[str | None, Query()] = None,
        error: Annotated[str | None, Query()] = None,
        error_description: Annotated[str | None, Query()] = None,
    ) -> Response[Any]:
        app.append_context(**{HTML_ERRORS: True})
        p = ports()
        config = p.connect_config
        secure = cookie_is_secure(config.stage, config.redirect_uri)
        nonce = read_cookie(app.current_event.cookies or [], secure=secure)
        query = {"state": state, "code": code, "scopes": scopes, "error": error}
        # The binding is single-use like the state: an answer to a valid state clears the cookie, whatever the
        # outcome. An invalid one leaves it: a forged or replayed link opened in this browser (a top-level GET
        # that SameSite=Lax lets through) must not break the connect the user has in progress.
        cleared = [set_cookie("", secure=secure, max_age=0)]
        try:
            result = complete_connect(
                {k: v for k, v in query.items() if v is not None},
                browser_nonce=nonce,
                config=config,
                sessions=p.sessions,
                accounts=p.accounts,
                client=p.tiktok,
                events=p.events,
                now=p.now(),
            )
        except InvalidState as exc:
            logger.info("oauth callback with invalid state", extra={"reason": exc.reason})
            count("OAuthStateRejected")
            return html_page(HTTPStatus.BAD_REQUEST, "This link cannot be used", exc.message)
        count("AccountConnected" if result.outcome == "connected" else "AccountConnectFailed")
        return Response(
            status_code=HTTPStatus.FOUND,
            headers={**BASE_HEADERS, "Location": result.location},
            cookies=cleared,
        )

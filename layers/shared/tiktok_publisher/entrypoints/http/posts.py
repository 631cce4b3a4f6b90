"""POST /v1/uploads, POST/GET /v1/posts, GET/DELETE /v1/posts/{post_id} over the publish service."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from tiktok_publisher.bootstrap import Ports
from tiktok_publisher.entrypoints.http.caller import CallerDep
from tiktok_publisher.entrypoints.http.docs import error_responses, ok_response
from tiktok_publisher.entrypoints.http.errors import BASE_HEADERS
from tiktok_publisher.publishing.schemas import (
    CreatePostRequest,
    PostPage,
    PostView,
    UpdatePostRequest,
    UploadRequest,
    UploadResponse,
)

PostId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]
OpenIdQuery = Annotated[str, Query(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="idempotency-key",
        min_length=1,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="Any unique string per intended post; repeating it returns the same post.",
    ),
]
_ERRORS: dict[int, OpenAPIResponse] = {
    401: {"description": "Missing or invalid bearer token"},
    404: {"description": "No such account, upload, object or post for this tenant"},
    422: {"description": "Invalid fields (with their paths)"},
}


def _json(status: int, body: Any) -> Response[Any]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=dict(BASE_HEADERS)
    )


def register_publish_routes(app: APIGatewayHttpResolver, ports: Callable[[], Ports]) -> None:
    """Register the publish routes on `app`."""

    @app.post("/v1/uploads", summary="Get a presigned URL to upload media", tags=["Posts"], responses=_ERRORS)
    def create_upload(who: CallerDep, body: UploadRequest) -> Response[UploadResponse]:
        p = ports()
        p.tenant_limits.check(who.tenant_id, "uploads", now=p.now())
        ticket = p.uploads.create(
            who.tenant_id,
            open_id=body.open_id,
            filename=body.filename,
            content_type=body.content_type,
            size=body.size,
        )
        return _json(HTTPStatus.CREATED, UploadResponse(**ticket.to_dict()).model_dump())

    @app.post(
        "/v1/posts",
        summary="Publish a video or photo post",
        description="Validated against a fresh creator_info for direct posts, recorded, then published "
        "asynchronously. Answers 202 with the post; poll GET /v1/posts/{post_id} or subscribe to events.",
        tags=["Posts"],
        responses={
            **_ERRORS,
            202: {"description": "Accepted"},
            409: {"description": "Idempotency conflict, or the account needs reconnecting"},
            429: {
                "description": "A direct post reads creator_info, and TikTok's per-account limit for it is "
                "used up for now (code tiktok_rate_limit): retry after the Retry-After header's seconds"
            },
        },
    )
    def create_post(
        who: CallerDep, body: CreatePostRequest, idempotency_key: IdempotencyKey
    ) -> Response[PostView]:
        p = ports()
        p.tenant_limits.check(who.tenant_id, "posts", now=p.now())
        service = p.publish_service
        service.register_lambda_context(app.lambda_context)
        post = service.create_post(who.tenant_id, idempotency_key, body)
        return _json(HTTPStatus.ACCEPTED, post.to_api())

    @app.get("/v1/posts", summary="List an account's posts, newest first", tags=["Posts"], responses=_ERRORS)
    def list_posts(
        who: CallerDep,
        open_id: OpenIdQuery,
        cursor: Annotated[str | None, Query(max_length=2048)] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> PostPage:
        posts, next_cursor = ports().publish_service.list_posts(
            who.tenant_id, open_id, cursor=cursor, limit=limit
        )
        return PostPage(posts=[PostView(**p.to_api()) for p in posts], next_cursor=next_cursor)

    @app.get("/v1/posts/<post_id>", summary="One post", tags=["Posts"], responses=_ERRORS)
    def get_post(who: CallerDep, post_id: PostId) -> PostView:
        return PostView(**ports().publish_service.get_post(who.tenant_id, post_id).to_api())

    @app.delete(
        "/v1/posts/<post_id>",
        summary="Cancel a post",
        description="Cancels a post that has not reached TikTok yet, or a pull download still in progress.",
        tags=["Posts"],
        responses={**_ERRORS, 409: {"description": "Too late to cancel"}},
    )
    def cancel_post(who: CallerDep, post_id: PostId) -> PostView:
        return PostView(**ports().publish_service.cancel_post(who.tenant_id, post_id).to_api())

    @app.patch(
        "/v1/posts/<post_id>",
        summary="Reschedule or edit a scheduled post",
        description=(
            "Changes `publish_at`, `post_info` (replaced whole), or both, of a post still `scheduled`. "
            "Direct posts are checked against a fresh creator_info, as a new post is. Once dispatch has "
            "started the post is no longer `scheduled` and the answer is 409 `post_not_editable`."
        ),
        tags=["Posts"],
        responses={
            **ok_response(PostView, "The post as changed"),
            **error_responses(
                401,
                404,
                409,
                422,
                502,
                e409="post_not_editable (dispatch has started), account_needs_reconnect, "
                "creator_cannot_post, or conflict (changed meanwhile)",
            ),
        },
    )
    def update_post(who: CallerDep, post_id: PostId, body: UpdatePostRequest) -> PostView:
        return PostView(**ports().post_changes.update_post(who.tenant_id, post_id, body).to_api())

    @app.post(
        "/v1/posts/<post_id>/retry",
        summary="Retry a failed post",
        description=(
            "Starts a new attempt for a `failed` post whose failure class allows it (the post's `retry`). "
            "The failed attempt stays in `attempts`. An `unconfirmed` post is never retried (409 "
            "`post_unconfirmed`: TikTok may have it); neither is a post TikTok may still publish (409 "
            "`retry_unsafe`). Answers 202 with the post, `queued` again."
        ),
        tags=["Posts"],
        responses={
            202: {
                "description": "A new attempt started",
                "content": {"application/json": {"model": PostView}},
            },
            **error_responses(
                401,
                404,
                409,
                422,
                502,
                e409="post_not_retryable, post_unconfirmed, retry_unsafe, account_needs_reconnect or "
                "creator_cannot_post",
            ),
        },
    )
    def retry_post(who: CallerDep, post_id: PostId) -> Response[PostView]:
        post = ports().post_changes.retry_post(who.tenant_id, post_id)
        return _json(HTTPStatus.ACCEPTED, post.to_api())

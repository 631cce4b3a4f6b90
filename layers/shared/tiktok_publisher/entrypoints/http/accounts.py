"""GET/DELETE /v1/accounts[/{open_id}] and GET /v1/accounts/{open_id}/creator-info over accounts_service."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, Field

from tiktok_publisher.accounts import service
from tiktok_publisher.bootstrap import Ports
from tiktok_publisher.domain.erasure import ErasureReceipt, ErasureTrigger
from tiktok_publisher.entrypoints.http.caller import CallerDep
from tiktok_publisher.entrypoints.http.docs import empty_response, error_responses, ok_response
from tiktok_publisher.entrypoints.http.errors import BASE_HEADERS
from tiktok_publisher.observability import count

# TikTok open_ids are opaque; bound them so a path parameter cannot be abused as a payload.
OpenId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]


class DeletedCounts(BaseModel):
    account: bool = Field(description="The account row (profile fields, status) was deleted.")
    grant: bool = Field(description="The account still held TikTok's grant (its tokens), and it was deleted.")
    posts: int = Field(description="Posts (history, settings, status, TikTok ids) deleted.")
    uploads: int = Field(description="Uploaded files deleted from S3.")


class DataDeletion(BaseModel):
    """What DELETE /v1/accounts/{open_id}/data removed (zeros when there was nothing left)."""

    open_id: str
    deleted_at: str = Field(description="ISO-8601 UTC.")
    deleted: DeletedCounts
    revoked_at_tiktok: bool = Field(
        description=(
            "The grant was revoked at TikTok first (best effort). False when there was none left, or when "
            "another tenant of this service still has the same TikTok user connected: TikTok's grant is per "
            "app and user, so revoking it would disconnect them too."
        )
    )


def _deletion_view(receipt: ErasureReceipt) -> DataDeletion:
    return DataDeletion(
        open_id=receipt.open_id,
        deleted_at=receipt.deleted_at,
        deleted=DeletedCounts(
            account=receipt.account_deleted,
            grant=receipt.tokens_deleted,
            posts=receipt.posts_deleted,
            uploads=receipt.uploads_deleted,
        ),
        revoked_at_tiktok=receipt.revoked_at_tiktok,
    )


def register_accounts(app: APIGatewayHttpResolver, ports: Callable[[], Ports]) -> None:
    """Register the accounts routes on `app`."""

    @app.get(
        "/v1/accounts",
        summary="List connected TikTok accounts",
        tags=["Accounts"],
        responses={**ok_response(service.AccountList, "The tenant's accounts"), **error_responses(401)},
    )
    def list_accounts(who: CallerDep) -> service.AccountList:
        return service.list_accounts(who.tenant_id, accounts=ports().accounts)

    @app.get(
        "/v1/accounts/<open_id>",
        summary="One connected TikTok account",
        tags=["Accounts"],
        responses={**ok_response(service.AccountView, "The account"), **error_responses(401, 404)},
    )
    def get_account(who: CallerDep, open_id: OpenId) -> service.AccountView:
        return service.get_account(who.tenant_id, open_id, accounts=ports().accounts)

    @app.delete(
        "/v1/accounts/<open_id>",
        summary="Disconnect a TikTok account",
        description=(
            "Revokes the authorization at TikTok, then deletes the stored tokens. The account stays listed "
            "as `revoked` with its posts history. Repeating the call is harmless. While another tenant has "
            "the same TikTok user connected, the authorization (the app's and the user's) is left alive for "
            "it and only this tenant's tokens are deleted."
        ),
        tags=["Accounts"],
        responses={**empty_response(204, "Disconnected (or already was)"), **error_responses(401, 404, 502)},
    )
    def disconnect(who: CallerDep, open_id: OpenId) -> Response[None]:
        p = ports()
        service.disconnect(
            who.tenant_id, open_id, accounts=p.accounts, client=p.tiktok, tokens=p.refresher, now=p.now()
        )
        count("AccountDisconnected")
        return Response(status_code=HTTPStatus.NO_CONTENT, headers=dict(BASE_HEADERS))

    @app.delete(
        "/v1/accounts/<open_id>/data",
        summary="Delete everything about one TikTok user",
        description=(
            "For the privacy policy's promise: revokes the grant at TikTok (best effort), then deletes the "
            "tokens and the account row, the account's posts history and its uploads in S3, in this tenant "
            "only, and emits an `Account Data Deleted` event on the bus as the audit record. Idempotent: "
            "a repeated call deletes nothing more and answers zeros (an unknown open_id too)."
        ),
        tags=["Accounts"],
        responses={**ok_response(DataDeletion, "What was deleted"), **error_responses(401, 422)},
    )
    def delete_account_data(who: CallerDep, open_id: OpenId) -> DataDeletion:
        receipt = ports().eraser.erase(who.tenant_id, open_id, trigger=ErasureTrigger.API, revoke=True)
        return _deletion_view(receipt)

    @app.get(
        "/v1/accounts/<open_id>/creator-info",
        summary="Fresh creator_info and the post form contract",
        description=(
            "Queries TikTok's creator_info now (TikTok requires it before every direct post) and returns "
            "what "
            "the post form must offer: privacy options with no default, which interaction toggles are "
            "disabled, the maximum video duration and the declaration text. The access token is refreshed "
            "first when it has less than 5 minutes left; a token TikTok refuses before its stated expiry "
            "is replaced by one forced refresh and creator_info asked once more. 409 "
            "account_needs_reconnect when that refresh finds the grant dead (the account is then "
            "needs_reconnect) or TikTok refuses the renewed token too (the account stays active)."
        ),
        tags=["Accounts"],
        responses={
            **ok_response(service.CreatorForm, "creator_info and the form contract"),
            **error_responses(
                401,
                404,
                409,
                429,
                502,
                e409=(
                    "The account needs reconnecting (its grant is dead, or TikTok refused even a renewed "
                    "token), or the creator cannot post right now"
                ),
            ),
        },
    )
    def creator_info(
        who: CallerDep,
        open_id: OpenId,
        media_type: Annotated[
            Literal["video", "photo"], Query(description="The form being opened.")
        ] = "video",
    ) -> service.CreatorForm:
        p = ports()
        return service.creator_form(
            who.tenant_id,
            open_id,
            accounts=p.accounts,
            client=p.tiktok,
            tokens=p.refresher,
            pacer=p.pacer,
            audited=p.settings.app_audited,
            media_type=media_type,
            now=p.now(),
        )

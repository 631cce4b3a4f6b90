"""The webhook service (TIKTOK-API.md §7): authenticate the raw body, then apply the event idempotently.

Verification comes first and is all-or-nothing (webhooks/signature.py), then the envelope is parsed
(webhooks/envelope.py); neither touches a table.

Effects are conditional, so TikTok's at-least-once delivery and its 72 h of retries are harmless:
- post.publish.complete / inbox_delivered / failed move the post found by publish_id (by_publish_id index)
  to its final state, conditional on it still carrying that publish_id and not being final already, and
  announce it like the worker would; the worker's pending status polls then find a final post and stop.
  A failure the worker would retry with a fresh task (a pull failure, an upload's `internal`:
  domain.status.restarts_after_failure) is handed to the worker instead.
- post.publish.publicly_available records TikTok's public post id.
- authorization.removed acts in every tenant that connected that open_id (by_open_id index), as that
  tenant's policy says (domain/tenants.py): by default it drops the tokens, marks the account `revoked` with
  the reason and announces `Account Disconnected`; under `delete_data` it deletes everything of that user in
  that tenant (accounts/erasure.py, `Account Data Deleted`). An account reconnected after the event was
  created is left alone.
Unknown publish_ids and events are answered 200 and ignored.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tiktok_publisher.domain.accounts import AccountStatus
from tiktok_publisher.domain.erasure import ErasureTrigger
from tiktok_publisher.domain.events import DetailType
from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.domain.posts import PostStatus
from tiktok_publisher.domain.status import (
    EVENT_OF_STATUS,
    error_record,
    event_detail,
    restarts_after_failure,
)
from tiktok_publisher.domain.taxonomy import classify, settled
from tiktok_publisher.domain.tenants import RemovalPolicy
from tiktok_publisher.observability import count, logger
from tiktok_publisher.ports import AccountDataEraser, Accounts, Events, JobQueue, Posts, TenantSettingsStore
from tiktok_publisher.webhooks.envelope import (
    MAX_BODY_BYTES,
    WebhookEvent,
    WebhookRejected,
    parse_event,
    removal_reason,
)
from tiktok_publisher.webhooks.signature import SIGNATURE_HEADER, header, verify_signature


@dataclass
class WebhookService:
    posts: Posts
    accounts: Accounts
    events: Events
    queue: JobQueue
    client_key: str
    secret: str = field(repr=False)
    clock: Callable[[], float] = time.time
    # authorization.removed follows each tenant's policy (domain/tenants.py); without these, tokens only.
    tenants: TenantSettingsStore | None = None
    eraser: AccountDataEraser | None = None

    def receive(self, body: bytes, headers: Mapping[str, str] | None) -> WebhookEvent:
        """Authenticate and parse; raises WebhookRejected (no side effects) for anything not TikTok's."""
        if len(body) > MAX_BODY_BYTES:
            raise WebhookRejected(400, "body_too_large", "The body is too large.")
        verify_signature(body, header(headers, SIGNATURE_HEADER), self.secret, now=self.clock())
        event = parse_event(body)
        if event.client_key and not hmac.compare_digest(event.client_key, self.client_key):
            raise WebhookRejected(400, "wrong_app", "The event is for another app.")
        return event

    def apply(self, event: WebhookEvent) -> dict[str, Any]:
        """Apply an authenticated event; returns what happened (for the log and the response)."""
        logger.append_keys(webhook_event=event.event, open_id=event.user_openid)
        if event.event == "authorization.removed":
            return self._authorization_removed(event)
        if event.event.startswith("post.publish."):
            return self._post_event(event)
        logger.info("webhook event ignored")
        return {"result": "ignored"}

    # ------------------------------------------------------------------ posts

    def _post_event(self, event: WebhookEvent) -> dict[str, Any]:
        publish_id = str(event.content.get("publish_id") or "")
        if not publish_id:
            return {"result": "ignored", "reason": "no publish_id"}
        posts = [p for p in self.posts.find_by_publish_id(publish_id) if p.open_id == event.user_openid]
        if not posts:
            logger.info("webhook for an unknown publish_id ignored", extra={"publish_id": publish_id})
            count("WebhookUnknownPublishId")
            return {"result": "unknown_publish_id"}
        live = {PostStatus.QUEUED, PostStatus.UPLOADING, PostStatus.PROCESSING, PostStatus.UNCONFIRMED}
        now = self.clock()
        moved = 0
        for post in posts:
            target: str | None = None
            fields: dict[str, Any] = {}
            allowed = live
            note = event.event
            if event.event == "post.publish.complete":
                target, allowed = PostStatus.PUBLISHED, live | {PostStatus.INBOX}
            elif event.event == "post.publish.inbox_delivered":
                target = PostStatus.INBOX
            if target in (PostStatus.PUBLISHED, PostStatus.INBOX) and post.status == PostStatus.UNCONFIRMED:
                fields["fail_reason"] = None  # the "we could not confirm" note no longer holds
            elif event.event == "post.publish.failed":
                reason = str(event.content.get("reason") or "unknown")
                error = classify(reason)
                if restarts_after_failure(post, error) and post.status != PostStatus.UNCONFIRMED:
                    # The worker starts a fresh task for this failure (a pull, or an upload's `internal`):
                    # let it look now.
                    self.queue.send(Job(post.tenant_id, post.post_id))
                    continue
                target, fields, note = (
                    PostStatus.FAILED,
                    {"fail_reason": error_record(settled(error, media=post.media))},
                    f"{event.event}: {reason}",
                )
            elif event.event == "post.publish.publicly_available":
                public_id = str(event.content.get("post_id") or "")
                ids = list(post.post_ids)
                if public_id and public_id not in ids:
                    ids.append(public_id)
                fields = {"post_ids": ids}
                if post.status in live:
                    target = PostStatus.PUBLISHED
                else:
                    allowed = {post.status}
            else:
                allowed = {post.status}  # e.g. no_longer_publicaly_available: a history note only
            done = self.posts.update(
                post,
                now=now,
                status=target,
                expect_status=allowed,
                expect={"publish_id": publish_id},
                set_fields=fields or None,
                note=note,
            )
            if done is None:
                continue  # already final, or the post moved on to another task: nothing to do
            moved += 1
            if target is not None and target != post.status and target in EVENT_OF_STATUS:
                self.events.publish(EVENT_OF_STATUS[target], event_detail(done), tenant_id=done.tenant_id)
        return {"result": "applied" if moved else "no_change", "posts": moved}

    # ------------------------------------------------------------------ accounts

    def _authorization_removed(self, event: WebhookEvent) -> dict[str, Any]:
        code, text = removal_reason(event.content.get("reason"))
        revoked = erased = 0
        for account in self.accounts.find_by_open_id(event.user_openid):
            if account.status == AccountStatus.ACTIVE and _epoch(account.updated_at) > event.create_time:
                # Connected again after TikTok created this event (a late retry): the new grant stands.
                logger.info("authorization.removed older than the account's reconnection; ignored")
                continue
            # The tenant may have promised its users that removing the app deletes everything (its policy).
            erase = self.eraser is not None and self._policy(account.tenant_id) == RemovalPolicy.DELETE_DATA
            if account.status != AccountStatus.REVOKED:
                if not erase:
                    self.accounts.mark_revoked(
                        account.tenant_id,
                        account.open_id,
                        f"authorization removed: {text}",
                        now=int(self.clock()),
                    )
                revoked += 1
                self._announce_disconnected(account.tenant_id, account.open_id, code, text)
            if erase and self.eraser is not None:
                self.eraser.erase(
                    account.tenant_id,
                    account.open_id,
                    trigger=ErasureTrigger.AUTHORIZATION_REMOVED,
                    revoke=False,  # TikTok already removed the grant
                )
                erased += 1
        count("WebhookAccountsRevoked", revoked)
        if erased:
            count("WebhookAccountsErased", erased)
            return {"result": "erased", "accounts": revoked, "erased": erased}
        return {"result": "revoked" if revoked else "no_change", "accounts": revoked}

    def _announce_disconnected(self, tenant_id: str, open_id: str, code: int, text: str) -> None:
        detail = {
            "open_id": open_id,
            "status": "revoked",
            "reason": "authorization_removed",
            "reason_code": code,
            "message": f"TikTok says the authorization was removed ({text}). Connect the account again.",
        }
        try:
            self.events.publish(DetailType.ACCOUNT_DISCONNECTED, detail, tenant_id=tenant_id)
        except Exception as exc:
            logger.error(
                "account disconnected: event not published", extra={"error_class": type(exc).__name__}
            )

    def _policy(self, tenant_id: str) -> RemovalPolicy:
        if self.tenants is None:
            return RemovalPolicy.DELETE_TOKENS
        return self.tenants.get(tenant_id).on_authorization_removed


def _epoch(stamp: str | None) -> int:
    if not stamp:
        return 0
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0

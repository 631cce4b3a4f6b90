"""TikTok webhooks (TIKTOK-API.md §7): signature check over the raw body, then idempotent updates.

Verification comes first and is all-or-nothing: `TikTok-Signature: t=<unix>,s=<hex>` where
s = hex(HMAC-SHA256(client_secret, f"{t}." + raw_body)), compared in constant time, t within 300 s of now.
Anything unsigned, forged, stale or signed with another secret is 401; a signed body we cannot parse is 400;
neither touches a table. Only then is the `content` JSON string parsed (again, with integers kept exact).

Effects are conditional, so TikTok's at-least-once delivery and its 72 h of retries are harmless:
- post.publish.complete / inbox_delivered / failed move the post found by publish_id (by_publish_id index)
  to its final state, conditional on it still carrying that publish_id and not being final already, and
  announce it like the worker would; the worker's pending status polls then find a final post and stop.
  A failure the worker would retry with a fresh task (a pull failure) is handed to the worker instead.
- post.publish.publicly_available records TikTok's public post id.
- authorization.removed drops the user's tokens in every tenant that connected that open_id (by_open_id
  index), marks those accounts `revoked` with the reason and announces `Account Disconnected`; an account
  reconnected after the event was created is left alone.
Unknown publish_ids and events are answered 200 and ignored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from tiktok_publisher.adapters.eventbridge import DetailType
from tiktok_publisher.container import Container
from tiktok_publisher.observability import logger

SIGNATURE_HEADER = "tiktok-signature"
TOLERANCE_S = 300
MAX_BODY_BYTES = 64 * 1024

# authorization.removed `reason` (TIKTOK-API.md §7).
REMOVAL_REASONS = {
    0: "unknown",
    1: "user disconnected the app",
    2: "user deleted the TikTok account",
    3: "user's age changed",
    4: "user's account was banned",
    5: "the developer revoked the authorization",
}


class WebhookRejected(Exception):
    """The request is refused before any effect: 401 (authenticity) or 400 (shape)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class WebhookEvent:
    client_key: str
    event: str
    create_time: int
    user_openid: str
    content: dict[str, Any]


# ---------------------------------------------------------------------- pure: body, signature, parsing


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The exact bytes TikTok sent (API Gateway base64-encodes non-text bodies: decode, never re-encode)."""
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise WebhookRejected(400, "malformed_body", "The body is not text.")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise WebhookRejected(400, "malformed_body", "The body is not valid base64.") from None
    return body.encode("utf-8")


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header value, case-insensitively (payload 2.0 lower-cases names; other sources may not)."""
    if not headers:
        return None
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def parse_signature(value: str | None) -> tuple[int, list[str]]:
    """`t=<unix>,s=<hex>[,s=<hex>]` -> (t, signatures). WebhookRejected(401) when absent or malformed."""
    if not value:
        raise WebhookRejected(401, "unsigned", "The TikTok-Signature header is missing.")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            continue
        if key == "t" and item.strip().isdigit() and len(item.strip()) <= 12:
            timestamp = int(item.strip())
        elif key == "s" and item.strip():
            signatures.append(item.strip().lower())
    if timestamp is None or not signatures:
        raise WebhookRejected(401, "bad_signature", "The TikTok-Signature header is malformed.")
    return timestamp, signatures


def expected_signature(secret: str, timestamp: int, body: bytes) -> str:
    """hex(HMAC-SHA256(secret, f"{timestamp}." + body))."""
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify_signature(
    body: bytes, signature_header: str | None, secret: str, *, now: float, tolerance_s: int = TOLERANCE_S
) -> int:
    """Check the signature of `body`; returns its timestamp or raises WebhookRejected(401)."""
    timestamp, signatures = parse_signature(signature_header)
    expected = expected_signature(secret, timestamp, body).encode()
    # Every candidate is compared (no early exit) so timing does not tell which one was close.
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected, candidate.encode())
    if not matched:
        raise WebhookRejected(401, "bad_signature", "The signature does not match.")
    # Checked after the MAC: the timestamp is only meaningful once it is known to be TikTok's.
    if abs(now - timestamp) > tolerance_s:
        raise WebhookRejected(401, "stale", "The signature timestamp is outside the allowed window.")
    return timestamp


def parse_event(body: bytes) -> WebhookEvent:
    """The envelope and its `content` (a JSON string parsed again, integers kept as exact strings)."""
    try:
        envelope = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WebhookRejected(400, "malformed_body", "The body is not JSON.") from None
    if not isinstance(envelope, dict):
        raise WebhookRejected(400, "malformed_body", "The body is not a JSON object.")
    event = envelope.get("event")
    open_id = envelope.get("user_openid")
    create_time = envelope.get("create_time")
    raw_content = envelope.get("content")
    if not isinstance(event, str) or not event or not isinstance(open_id, str):
        raise WebhookRejected(400, "malformed_body", "event and user_openid are required.")
    if (
        isinstance(create_time, bool)
        or not isinstance(create_time, int | str)
        or not str(create_time).isdigit()
    ):
        raise WebhookRejected(400, "malformed_body", "create_time must be a unix timestamp.")
    content: Any = {}
    if isinstance(raw_content, str) and raw_content.strip():
        try:
            content = json.loads(raw_content, parse_int=str)
        except ValueError:
            raise WebhookRejected(400, "malformed_body", "content is not a JSON string.") from None
    elif isinstance(raw_content, dict):
        content = raw_content  # tolerated: some senders embed the object instead of its text
    elif raw_content not in (None, ""):
        raise WebhookRejected(400, "malformed_body", "content must be a JSON string.")
    if not isinstance(content, dict):
        raise WebhookRejected(400, "malformed_body", "content must encode a JSON object.")
    return WebhookEvent(
        client_key=str(envelope.get("client_key") or ""),
        event=event,
        create_time=int(create_time),
        user_openid=open_id,
        content=content,
    )


def removal_reason(value: Any) -> tuple[int, str]:
    """authorization.removed reason code (0-5) and its text; anything else is 0, unknown."""
    try:
        code = int(value)
    except (TypeError, ValueError):
        code = 0
    if code not in REMOVAL_REASONS:
        code = 0
    return code, REMOVAL_REASONS[code]


# ---------------------------------------------------------------------- logic over ports


class PostsPort(Protocol):
    def find_by_publish_id(self, publish_id: str) -> list[Any]: ...

    def update(self, post: Any, **kwargs: Any) -> Any: ...


class AccountsPort(Protocol):
    def find_by_open_id(self, open_id: str) -> list[Any]: ...

    def mark_revoked(
        self, tenant_id: str, open_id: str, reason: str | None = ..., *, now: int | None = ...
    ) -> Any: ...


class EventsPort(Protocol):
    def publish(self, detail_type: str, detail: dict[str, Any], *, tenant_id: str) -> None: ...


class JobQueue(Protocol):
    def send(self, job: Any, *, delay: float = 0) -> None: ...


@dataclass
class WebhookService:
    posts: PostsPort
    accounts: AccountsPort
    events: EventsPort
    queue: JobQueue
    client_key: str
    secret: str = field(repr=False)
    clock: Callable[[], float] = time.time

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
        from tiktok_publisher.domain.jobs import Job
        from tiktok_publisher.domain.posts import PostStatus
        from tiktok_publisher.domain.status import EVENT_OF_STATUS, error_record, event_detail
        from tiktok_publisher.domain.taxonomy import classify

        publish_id = str(event.content.get("publish_id") or "")
        if not publish_id:
            return {"result": "ignored", "reason": "no publish_id"}
        posts = [p for p in self.posts.find_by_publish_id(publish_id) if p.open_id == event.user_openid]
        if not posts:
            logger.info("webhook for an unknown publish_id ignored", extra={"publish_id": publish_id})
            _count("WebhookUnknownPublishId")
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
                if post.transfer == "pull" and error.retryable and post.status != PostStatus.UNCONFIRMED:
                    # The worker starts a fresh task for a failed pull: let it look now.
                    self.queue.send(Job(post.tenant_id, post.post_id))
                    continue
                target, fields, note = (
                    PostStatus.FAILED,
                    {"fail_reason": error_record(error)},
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
        revoked = 0
        for account in self.accounts.find_by_open_id(event.user_openid):
            if account.status == "revoked":
                continue
            if account.status == "active" and _epoch(account.updated_at) > event.create_time:
                # Connected again after TikTok created this event (a late retry): the new grant stands.
                logger.info("authorization.removed older than the account's reconnection; ignored")
                continue
            self.accounts.mark_revoked(
                account.tenant_id, account.open_id, f"authorization removed: {text}", now=int(self.clock())
            )
            revoked += 1
            detail = {
                "open_id": account.open_id,
                "status": "revoked",
                "reason": "authorization_removed",
                "reason_code": code,
                "message": f"TikTok says the authorization was removed ({text}). Connect the account again.",
            }
            try:
                self.events.publish(DetailType.ACCOUNT_DISCONNECTED, detail, tenant_id=account.tenant_id)
            except Exception as exc:
                logger.error(
                    "account disconnected: event not published", extra={"error_class": type(exc).__name__}
                )
        _count("WebhookAccountsRevoked", revoked)
        return {"result": "revoked" if revoked else "no_change", "accounts": revoked}


def _epoch(stamp: str | None) -> int:
    if not stamp:
        return 0
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def _count(name: str, value: float = 1) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    from tiktok_publisher.observability import metrics

    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


# ---------------------------------------------------------------------- the HTTP edge


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps(body, separators=(",", ":")),
    }


def handle_http(event: Mapping[str, Any], service: WebhookService) -> dict[str, Any]:
    """API Gateway (payload 2.0) request -> response: 401/400 before any effect, 200 once applied."""
    try:
        received = service.receive(raw_body(event), event.get("headers"))
    except WebhookRejected as exc:
        logger.warning("webhook rejected", extra={"code": exc.code, "status": exc.status})
        _count("WebhookRejected")
        return _response(exc.status, {"error": {"code": exc.code, "message": exc.message}})
    result = service.apply(received)
    logger.info("webhook applied", extra={"result": result})
    return _response(200, {"ok": True, **result})


def build_service(settings: Any, secrets: Any) -> WebhookService:
    """The webhook service over the Posts/Accounts tables, the bus and the publish queue."""
    from tiktok_publisher.adapters.accounts_table import AccountRepository
    from tiktok_publisher.adapters.eventbridge import EventPublisher
    from tiktok_publisher.adapters.posts_table import PostRepository
    from tiktok_publisher.domain.jobs import SqsJobQueue

    settings.require("posts_table")
    settings.require("accounts_table")
    return WebhookService(
        posts=PostRepository(),
        accounts=AccountRepository(refresh_shards=settings.refresh_shards),
        events=EventPublisher(settings.event_bus_name),
        queue=SqsJobQueue(settings.require("publish_queue_url")),
        client_key=secrets.client_key,
        secret=secrets.client_secret.get_secret_value(),
    )


_container: Container[WebhookService] = Container(build_service)


def get_service() -> WebhookService:
    """The container's webhook service (rebuilt when settings or secrets change, e.g. a rotated secret)."""
    return _container.get()


def register_webhook_doc(app: Any, ports: Any) -> None:
    """Document POST /v1/webhooks/tiktok in the OpenAPI document.

    Only the documentation resolver uses this: the webhook function verifies the signature over the raw
    body, so it reads the API Gateway event itself (handle_http) instead of going through the resolver.
    """
    del ports

    @app.post(
        "/v1/webhooks/tiktok",
        summary="TikTok webhook receiver (register this URL as the app's webhook callback)",
        description=(
            "As TikTok sends it: {client_key, event, create_time, user_openid, content (a JSON string)}. "
            "`TikTok-Signature: t=<unix>,s=<hex HMAC-SHA256(client_secret, t + '.' + raw body)>` is checked "
            f"in constant time with a {TOLERANCE_S} s tolerance before anything happens. "
            "post.publish.* events settle the post with that publish_id; authorization.removed deletes the "
            "account's tokens in every tenant. Duplicates and unknown publish_ids are harmless."
        ),
        tags=["Webhooks"],
        responses={
            200: {"description": "Applied (or nothing to do)"},
            400: {"description": "Malformed body"},
            401: {"description": "Missing, forged or stale signature; nothing was changed"},
        },
    )
    def tiktok_webhook() -> dict[str, Any]:
        raise RuntimeError("documentation only")

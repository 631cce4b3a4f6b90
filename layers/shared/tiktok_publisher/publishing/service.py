"""The publish API's logic: validate a post, record it, enqueue it; read, list and cancel posts.

Idempotency: `create_post` runs its logic through Powertools `idempotent_function` keyed by (tenant,
Idempotency-Key) with the request body as the payload hash, so the same key and body returns the same post,
the same key with another body is refused (409), and two concurrent requests with one key produce one post
(the second sees the first IN_PROGRESS and gets 409 "retry"). The logic returns only the post_id; the
answer is the post as it is now, read afterwards.

Nothing is enqueued unless every check passed: the queue message is the last thing `_create` does.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ulid import ULID

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

from tiktok_publisher.domain.accounts import Account, require_active
from tiktok_publisher.domain.errors import Conflict, NotFound
from tiktok_publisher.domain.jobs import Job
from tiktok_publisher.domain.media import (
    MEDIA_REPLACED,
    MEDIA_REPLACED_MESSAGE,
    ImageInfo,
    MediaChanged,
    MediaInfo,
    ObjectInfo,
    check_photo,
    check_video,
)
from tiktok_publisher.domain.pacing import CallLimitReached
from tiktok_publisher.domain.post_info import tiktok_post_info
from tiktok_publisher.domain.post_validation import validate_post
from tiktok_publisher.domain.posts import ABSENT, Post, PostStatus, iso_now
from tiktok_publisher.domain.problems import Problem, raise_if_problems
from tiktok_publisher.domain.schedule import check_publish_at
from tiktok_publisher.domain.taxonomy import creator_info_refused
from tiktok_publisher.domain.tiktok import CreatorInfo
from tiktok_publisher.domain.tiktok_errors import TikTokError
from tiktok_publisher.observability import logger
from tiktok_publisher.ports import (
    Accounts,
    CallPacer,
    JobQueue,
    MediaStore,
    Posts,
    PullUrls,
    TikTokContent,
    Tokens,
)
from tiktok_publisher.publishing.probe import MediaProbeError, probe_image, probe_video
from tiktok_publisher.publishing.schemas import CreatePostRequest, PhotoImage, VideoMedia
from tiktok_publisher.publishing.uploads import (
    MAX_PHOTO_BYTES,
    MAX_VIDEO_BYTES,
    PHOTO_TYPES,
    VIDEO_TYPES,
    UploadIds,
    tenant_prefix,
    upload_prefix,
)

IDEMPOTENCY_TTL_S = 24 * 3600


class PostCancelRefused(Conflict):
    code = "cannot_cancel"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class UploadClaim(Protocol):
    def claim_found(self, post: Post, found: ObjectInfo) -> str: ...


@dataclass
class PublishService:
    posts: Posts
    accounts: Accounts
    client: TikTokContent
    media: MediaStore
    queue: JobQueue
    upload_ids: UploadIds
    pull: PullUrls
    audited: bool
    refresher: Tokens  # access tokens: the shared refresh path (DESIGN.md §6)
    pacer: CallPacer  # TikTok's per-token limits, shared with the workers (domain/pacing.py)
    trigger: UploadClaim  # the S3 upload trigger's logic, for an upload that landed before its post
    idempotency_store: BasePersistenceLayer | None = None  # None disables idempotency (unit use)
    clock: Callable[[], float] = time.time
    _create_once: Callable[..., dict[str, Any]] | None = field(default=None, init=False, repr=False)
    _idempotency_config: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.idempotency_store is not None:
            # Powertools idempotency only where a persistence layer is wired (cold start of unit use).
            from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

            self._idempotency_config = IdempotencyConfig(
                event_key_jmespath="[tenant_id, key]",
                payload_validation_jmespath="body",
                raise_on_no_idempotency_key=True,
                expires_after_seconds=IDEMPOTENCY_TTL_S,
            )
            self._create_once = idempotent_function(
                data_keyword_argument="request",
                persistence_store=self.idempotency_store,
                config=self._idempotency_config,
            )(self._create)

    def register_lambda_context(self, context: Any) -> None:
        """Let idempotency records of a crashed invocation expire with the invocation's time limit."""
        if self._idempotency_config is not None and context is not None:
            self._idempotency_config.register_lambda_context(context)

    # ------------------------------------------------------------------ create

    def create_post(self, tenant_id: str, idempotency_key: str, body: CreatePostRequest) -> Post:
        """Validate, record and enqueue a post once per (tenant, Idempotency-Key); returns the post."""
        request = {
            "tenant_id": tenant_id,
            "key": idempotency_key,
            # exclude_unset: the rules tell "not given" from "given as default" (inbox: no post_info)
            "body": body.model_dump(mode="json", exclude_unset=True),
        }
        if self._create_once is None:
            result = self._create(request=request)
        else:
            # Loaded by __post_init__ already (idempotency wired): no cold-start cost here.
            from aws_lambda_powertools.utilities.idempotency.exceptions import (
                IdempotencyAlreadyInProgressError,
                IdempotencyValidationError,
            )

            try:
                result = self._create_once(request=request)
            except IdempotencyValidationError:
                raise IdempotencyConflict(
                    "This Idempotency-Key was already used with a different request body. Use a new key for "
                    "a new post."
                ) from None
            except IdempotencyAlreadyInProgressError:
                raise IdempotencyConflict(
                    "A request with this Idempotency-Key is still being processed. Retry in a few seconds."
                ) from None
        return self.posts.get(tenant_id, str(result["post_id"]))

    def _create(self, request: dict[str, Any]) -> dict[str, Any]:
        tenant_id = str(request["tenant_id"])
        body = CreatePostRequest.model_validate(request["body"])
        now = self.clock()
        account = self.accounts.get(tenant_id, body.open_id)  # 404 for another tenant's account
        require_active(account)
        problems: list[Problem] = []
        media_info: MediaInfo | None = None
        upload_id: str | None = None
        if isinstance(body.media, VideoMedia):
            media_type = "video"
            source, media_info, upload_id = self._video_source(tenant_id, body.open_id, body.media, problems)
        else:
            media_type = "photo"
            source = self._photo_source(tenant_id, body.open_id, body.media.images, problems)
            source["cover_index"] = body.media.cover_index
        creator = self._creator_info(account) if body.mode == "direct" else None
        problems += validate_post(
            creator_info=creator,
            post_info=body.post_info,
            mode=body.mode,
            media_type=media_type,
            audited=self.audited,
            video_duration_s=media_info.duration_s if media_info else None,
            photo_count=len(source.get("images", [])) if media_type == "photo" else None,
            loc=("body", "post_info"),
            duration_loc=("body", "media", "duration_s"),
            photos_loc=("body", "media", "images"),
        )
        raise_if_problems(_one_per_path(problems))
        # Scheduled posts (lifecycle): checked here, dispatched by publishing/schedule.py when due.
        publish_at = check_publish_at(body.publish_at, now=now)
        status = PostStatus.AWAITING_UPLOAD if source.pop("awaiting", False) else PostStatus.QUEUED
        if status == PostStatus.QUEUED and publish_at is not None:
            status = PostStatus.SCHEDULED
        post = Post(
            tenant_id=tenant_id,
            post_id=str(ULID()),
            open_id=body.open_id,
            created_at=iso_now(now),
            mode=body.mode,
            media=media_type,
            status=status,
            source=source,
            post_info=tiktok_post_info(body.post_info, creator, media_type=media_type, mode=body.mode),
            idempotency_key=str(request["key"]),
            upload_id=upload_id,
            publish_at=publish_at,
        )
        created = self.posts.create(post, now=now)
        if status == PostStatus.QUEUED:
            self.queue.send(Job(tenant_id, post.post_id))
        logger.info("post accepted", extra={"post_id": post.post_id, "status": status, "mode": body.mode})
        if status == PostStatus.AWAITING_UPLOAD and upload_id is not None:
            self._claim_landed_upload(created, upload_id)
        return {"post_id": post.post_id}

    def _claim_landed_upload(self, post: Post, upload_id: str) -> None:
        """The file may have landed between our look for it and the post's write, its S3 event finding no
        waiting post: look again now that the post exists, and if the file is there do what the trigger
        would (its conditional write makes a concurrent or later S3 event enqueue nothing more)."""
        found = self.media.first_under(upload_prefix(post.tenant_id, post.open_id, upload_id))
        if found is None:
            return  # not uploaded yet: the S3 upload trigger picks it up
        outcome = self.trigger.claim_found(post, found)
        logger.info("upload found right after the post was written", extra={"outcome": outcome})

    def _creator_info(self, account: Account) -> CreatorInfo:
        """Fresh creator_info (TIKTOK-API.md §4: queried before every direct post); a token TikTok refuses
        early is replaced once (forced refresh) and creator_info asked again."""
        now = int(self.clock())
        tenant_id, open_id = account.tenant_id, account.open_id
        used: list[str] = []

        def ask(token: str) -> CreatorInfo:
            # Every call to TikTok takes a slot of the token's limit, the retry after a forced refresh too.
            wait = self.pacer.reserve(tenant_id, open_id, "creator_info", now=now)
            if wait > 0:
                raise CallLimitReached("creator_info", wait)
            used.append(token)
            return self.client.creator_info(token)

        try:
            return self.refresher.call_with_token(tenant_id, open_id, ask, now=now)
        except TikTokError as exc:
            raise creator_info_refused(
                exc,
                mark_token_dead=lambda refused: self.refresher.mark_token_dead(
                    tenant_id, open_id, used[-1], code=refused.code, log_id=refused.log_id, now=now
                ),
            ) from None

    def _video_source(
        self, tenant_id: str, open_id: str, media: VideoMedia, problems: list[Problem]
    ) -> tuple[dict[str, Any], MediaInfo | None, str | None]:
        if media.url is not None:
            return {"kind": "url", "url": media.url}, None, None
        upload_id: str | None = None
        if media.upload_id is not None:
            upload_id = media.upload_id
            if not self.upload_ids.verify(upload_id, tenant_id, open_id):
                raise NotFound("No such upload.")
            found = self.media.first_under(upload_prefix(tenant_id, open_id, upload_id))
            if found is None:
                # The file is not there yet: the post waits (the S3 upload trigger picks it up).
                return {"kind": "upload", "upload_id": upload_id, "awaiting": True}, None, upload_id
        else:
            found = self._own_object(tenant_id, str(media.s3_key))
        info = self._probe_video(found, ("body", "media"), problems)
        source: dict[str, Any] = {
            "kind": "s3",
            "s3_key": found.key,
            "size": found.size,
            "content_type": (info.content_type if info else None) or found.content_type or "video/mp4",
        }
        if info is not None:
            source["probe"] = info.record()
        if found.pin is not None:
            source.update(found.pin.record())  # the probed version (trigger.py: every later read pins it)
        if upload_id:
            source["upload_id"] = upload_id
        return source, info, upload_id

    def _photo_source(
        self, tenant_id: str, open_id: str, images: list[PhotoImage], problems: list[Problem]
    ) -> dict[str, Any]:
        entries: list[dict[str, Any]] = []
        for index, image in enumerate(images):
            loc = ("body", "media", "images", index)
            if image.url is not None:
                entries.append({"url": image.url})
                continue
            if image.upload_id is not None:
                if not self.upload_ids.verify(image.upload_id, tenant_id, open_id):
                    raise NotFound("No such upload.")
                found = self.media.first_under(upload_prefix(tenant_id, open_id, image.upload_id))
                if found is None:
                    problems.append(
                        Problem(loc, "This image has not been uploaded yet. Upload it first.", "missing")
                    )
                    continue
            else:
                found = self._own_object(tenant_id, str(image.s3_key))
            if not self.pull.enabled:
                problems.append(
                    Problem(
                        loc,
                        "Photo posts are pulled by TikTok from a verified media domain, and none is "
                        "configured (MEDIA_PULL_MODE). Give image URLs on your verified domain instead.",
                        "pull_not_configured",
                    )
                )
                continue
            problems.extend(self._check_image(found, loc))
            entries.append(
                {"s3_key": found.key, "size": found.size, **(found.pin.record() if found.pin else {})}
            )
        return {"kind": "photo", "images": entries}

    def _own_object(self, tenant_id: str, key: str) -> ObjectInfo:
        """An object under the tenant's own prefix; 404 otherwise (another tenant's key is 'not found')."""
        if not key.startswith(tenant_prefix(tenant_id)) or ".." in key.split("/"):
            raise NotFound("No such media object.")
        found = self.media.head(key)
        if found is None:
            raise NotFound("No such media object.")
        return found

    def _probe_video(
        self, found: ObjectInfo, loc: tuple[str | int, ...], problems: list[Problem]
    ) -> MediaInfo | None:
        """Container, codec, size, fps, duration from a few ranged reads; problems for what TikTok refuses."""
        if found.content_type and found.content_type not in VIDEO_TYPES:
            problems.append(
                Problem((*loc, "content_type"), "This upload is not a video.", "unsupported_type")
            )
            return None
        if found.size > MAX_VIDEO_BYTES:
            problems.append(Problem((*loc, "size"), "TikTok accepts videos up to 4 GB.", "file_size"))
            return None
        try:
            probed = probe_video(self.media.reader(found))
        except MediaProbeError as exc:
            problems.append(Problem(loc, exc.message, exc.code))
            return None
        except MediaChanged:
            problems.append(Problem(loc, MEDIA_REPLACED_MESSAGE, MEDIA_REPLACED))
            return None
        info = dataclasses.replace(probed, size_bytes=found.size)
        problems.extend(check_video(info, loc=loc))
        return info

    def _check_image(self, found: ObjectInfo, loc: tuple[str | int, ...]) -> list[Problem]:
        if found.content_type and found.content_type not in PHOTO_TYPES:
            return [Problem(loc, "This upload is not a JPEG or WebP image.", "unsupported_type")]
        if found.size > MAX_PHOTO_BYTES:
            return [Problem(loc, "TikTok accepts photos up to 20 MB.", "file_size")]
        try:
            info: ImageInfo = probe_image(self.media.reader(found))
        except MediaProbeError as exc:
            return [Problem(loc, exc.message, exc.code)]
        except MediaChanged:
            return [Problem(loc, MEDIA_REPLACED_MESSAGE, MEDIA_REPLACED)]
        return check_photo(info, loc=loc)

    # ------------------------------------------------------------------ read

    def get_post(self, tenant_id: str, post_id: str) -> Post:
        """One of the tenant's posts (404 for anyone else's)."""
        return self.posts.get(tenant_id, post_id)

    def list_posts(
        self, tenant_id: str, open_id: str, *, cursor: str | None, limit: int
    ) -> tuple[list[Post], str | None]:
        """An account's posts, newest first, one page at a time."""
        self.accounts.get(tenant_id, open_id)
        return self.posts.list_for_account(tenant_id, open_id, limit=limit, cursor=cursor)

    # ------------------------------------------------------------------ cancel

    def cancel_post(self, tenant_id: str, post_id: str) -> Post:
        """Cancel a post that has not reached TikTok yet, or whose pull download TikTok can still stop."""
        post = self.posts.get(tenant_id, post_id)
        now = self.clock()
        if post.status in {PostStatus.QUEUED, PostStatus.AWAITING_UPLOAD, PostStatus.SCHEDULED}:
            # Conditional on no init marker: once a worker has started init, only TikTok can cancel.
            done = self.posts.update(
                post,
                now=now,
                status=PostStatus.CANCELLED,
                expect_status={post.status},
                expect={"init_started_at": ABSENT, "publish_id": ABSENT},
                note="cancelled by the user",
            )
            if done is not None:
                return done
            post = self.posts.get(tenant_id, post_id)
        if post.status == PostStatus.CANCELLED:
            return post
        if post.status == PostStatus.PROCESSING and post.transfer == "pull" and post.publish_id:
            return self._cancel_pull(post)
        raise PostCancelRefused(
            f"The post is {post.status}; only queued posts and pulled downloads in progress can be cancelled."
        )

    def _cancel_pull(self, post: Post) -> Post:
        account = self.accounts.get(post.tenant_id, post.open_id)
        publish_id = str(post.publish_id)
        try:
            self.refresher.call_with_token(
                account.tenant_id,
                account.open_id,
                lambda token: self.client.cancel(token, publish_id),
                now=int(self.clock()),
            )
        except TikTokError as exc:
            raise PostCancelRefused(
                "TikTok could not cancel this post (its download may have finished).",
                details={"tiktok_code": exc.code, "log_id": exc.log_id},
            ) from None
        done = self.posts.update(
            post,
            now=self.clock(),
            status=PostStatus.CANCELLED,
            expect_status={PostStatus.PROCESSING},
            expect={"publish_id": post.publish_id},
            note="cancelled at TikTok by the user",
        )
        return done or self.posts.get(post.tenant_id, post.post_id)


def _one_per_path(problems: list[Problem]) -> list[Problem]:
    """The media check and the creator's limit may both refuse a duration: say it once."""
    seen: set[str] = set()
    unique = []
    for problem in problems:
        if problem.path not in seen:
            seen.add(problem.path)
            unique.append(problem)
    return unique

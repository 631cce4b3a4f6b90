"""Publish jobs: what a message on the publish queue says.

A message only names the post and counts retries/polls (they size the next delay). Everything that
matters for correctness lives on the post row, so a duplicated, replayed or stale message is harmless:
the worker reads the post and does whatever its state calls for, or nothing.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

STEP = "step"  # move the post one step along its state machine
RECONCILE = "reconcile"  # ask TikTok once about an `unconfirmed` post that has a publish_id


@dataclass(frozen=True)
class Job:
    tenant_id: str
    post_id: str
    attempt: int = 0  # retries of the current step (429/5xx/transport), for backoff
    poll: int = 0  # status polls so far, for the growing poll delay
    kind: str = STEP  # STEP or RECONCILE; messages without it (older workers) are steps

    def to_json(self) -> str:
        """The SQS message body. A step's body is what it always was (no `kind`); an older worker reading a
        reconcile job sees a step for an `unconfirmed` post and does nothing."""
        data = asdict(self)
        if self.kind == STEP:
            del data["kind"]
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, body: str | bytes) -> Job:
        """Parse and validate a message body with the JobMessage pydantic model (ValidationError for anything
        that is not a job)."""
        return Job(**_job_message().model_validate_json(body).model_dump())

    def retried(self) -> Job:
        """The same step, one more attempt."""
        return replace(self, attempt=self.attempt + 1)

    def polled(self) -> Job:
        """The next status poll (retry counter reset)."""
        return replace(self, attempt=0, poll=self.poll + 1)

    def reconciling(self) -> Job:
        """A reconcile job for the same post (counters back to zero)."""
        return replace(self, attempt=0, poll=0, kind=RECONCILE)

    def fresh(self) -> Job:
        """A new step: counters back to zero."""
        return replace(self, attempt=0, poll=0)


@functools.cache
def _job_message() -> type[BaseModel]:
    """The pydantic model of a message body, defined on first use: only the worker reads jobs (the API, the
    dispatcher and the webhook only send them), so the others do not import pydantic for it at cold start."""
    from pydantic import BaseModel, ConfigDict, field_validator

    class JobMessage(BaseModel):
        # Unknown keys ignored: older/newer workers may share the queue. Ids sent as numbers keep their text.
        model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, frozen=True)

        tenant_id: str
        post_id: str
        attempt: int = 0
        poll: int = 0
        kind: str = STEP

        @field_validator("kind", mode="before")
        @classmethod
        def _kind(cls, value: Any) -> Any:
            return value or STEP  # absent, null or "": a step

    return JobMessage

"""OAuthSessionRepository: pending OAuth connects, consumed exactly once.

`consume` is a conditional DeleteItem returning the deleted item: of two callbacks racing with the same
state, exactly one gets the session. DynamoDB TTL deletes expired items lazily (up to days later), so the
caller must still compare `expires_at` with the clock.
"""

from __future__ import annotations

from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import PynamoDBException

from tiktok_publisher.adapters.dynamodb import OAuthSessionModel, StoreError, is_condition_failure
from tiktok_publisher.domain.errors import NotFound
from tiktok_publisher.domain.sessions import OAuthSession, StateAlreadyUsed


class OAuthSessionRepository:
    """OAuthSessions table port."""

    def create(self, session: OAuthSession) -> None:
        """Store a new session; state ids are random, so an existing item means a bug (Conflict-like)."""
        item = OAuthSessionModel(
            session.state_id,
            tenant_id=session.tenant_id,
            user_id=session.user_id,
            code_verifier=session.code_verifier,
            return_to=session.return_to or None,
            scopes=list(session.scopes),
            created_at=session.created_at,
            expires_at=session.expires_at,
        )
        try:
            item.save(condition=OAuthSessionModel.state_id.does_not_exist())
        except PynamoDBException as exc:
            raise StoreError.wrap(
                "create oauth session (duplicate state)"
                if is_condition_failure(exc)
                else "create oauth session",
                exc,
            ) from None

    def consume(self, state_id: str) -> OAuthSession:
        """Delete the session and return what it held; StateAlreadyUsed when it is not there (any more)."""
        if not state_id:
            raise NotFound("OAuth session not found.")
        try:
            answer = OAuthSessionModel._get_connection().delete_item(
                state_id, condition=OAuthSessionModel.state_id.exists(), return_values=ALL_OLD
            )
        except PynamoDBException as exc:
            if is_condition_failure(exc):
                raise StateAlreadyUsed("This sign-in link was already used or has expired.") from None
            raise StoreError.wrap("consume oauth session", exc) from None
        attributes = answer.get("Attributes")
        if not attributes:  # pragma: no cover - the condition guarantees the old item
            raise StateAlreadyUsed("This sign-in link was already used or has expired.")
        item = OAuthSessionModel.from_raw_data(attributes)
        return OAuthSession(
            state_id=item.state_id,
            tenant_id=item.tenant_id,
            user_id=item.user_id,
            code_verifier=item.code_verifier,
            return_to=item.return_to or "",
            scopes=list(item.scopes or []),
            created_at=int(item.created_at),
            expires_at=int(item.expires_at),
        )

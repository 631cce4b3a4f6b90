"""Token refresh (DESIGN.md §6): one code path for the scheduled sweep and the on-demand refresh.

- `ensure_fresh_token(tenant_id, open_id, now=...)`: a live access token before any TikTok call.
- `core.TokenRefresher`: the single refresh (lease, conditional write on version, dead-grant handling).
- `sweep.RefreshSweep`: the scheduled sweep over the sparse refresh_due index.
- `runtime`: the refresh function's event routing and wiring.
"""

from __future__ import annotations

from typing import Any

from tiktok_publisher.refresh.core import Outcome, RefreshResult, TokenRefresher


def refresher_for(accounts: Any, client: Any, events: Any = None) -> TokenRefresher:
    """A TokenRefresher over caller-owned ports (e.g. the publish worker's repository and TikTok client)."""
    from tiktok_publisher.adapters.eventbridge import EventPublisher
    from tiktok_publisher.refresh.store import RefreshStore

    return TokenRefresher(
        accounts=accounts, leases=RefreshStore(), client=client, events=events or EventPublisher()
    )


def ensure_fresh_token(tenant_id: str, open_id: str, *, now: int) -> str:
    """A live access token for the account, refreshed first when it expires within 5 minutes.

    Raises AccountNeedsReconnect, NotFound or UpstreamError (see TokenRefresher.ensure_fresh_token).
    """
    from tiktok_publisher.refresh.runtime import get_runtime

    return get_runtime().refresher.ensure_fresh_token(tenant_id, open_id, now=now)


__all__ = ["Outcome", "RefreshResult", "TokenRefresher", "ensure_fresh_token", "refresher_for"]

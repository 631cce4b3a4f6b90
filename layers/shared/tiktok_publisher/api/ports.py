"""The ports an API function talks through, built once per container from Settings and the app secrets.

Rebuilt only when the settings or secrets change (tests switch environments between cases; in Lambda they
are read once and the secret is re-read every few minutes by Powertools Parameters), so the TikTok client's
connection pool and the token cipher's data-key cache survive across invocations.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tiktok_publisher.config import AppSecrets, Settings
from tiktok_publisher.connect.service import ConnectConfig
from tiktok_publisher.container import Container

if TYPE_CHECKING:
    from tiktok_publisher.adapters.accounts_table import AccountRepository
    from tiktok_publisher.adapters.eventbridge import EventPublisher
    from tiktok_publisher.adapters.sessions_table import OAuthSessionRepository
    from tiktok_publisher.adapters.tiktok_client import TikTokClient
    from tiktok_publisher.refresh.core import TokenRefresher


@dataclass(frozen=True)
class Ports:
    settings: Settings
    secrets: AppSecrets = field(repr=False)
    client: TikTokClient
    accounts: AccountRepository
    sessions: OAuthSessionRepository
    events: EventPublisher
    # Access tokens for TikTok calls: the shared refresh path (lease + re-read after a lost race).
    refresher: TokenRefresher

    @property
    def connect_config(self) -> ConnectConfig:
        """The connect flow's view of settings and secrets."""
        s = self.settings
        return ConnectConfig(
            stage=s.stage,
            auth_base=s.tiktok_auth_base,
            client_key=self.secrets.client_key,
            redirect_uri=s.require("oauth_redirect_uri"),
            allowed_origins=tuple(s.return_to_allowed_origins),
            pkce_mode=s.pkce_mode,
            state_key=self.secrets.state_signing_key.get_secret_value().encode("utf-8"),
        )

    @staticmethod
    def now() -> int:
        """The clock port: epoch seconds."""
        return int(time.time())


# (connect, read) seconds per TikTok call: inside API Gateway's 30 s integration timeout with room for the
# client's retries of read-only calls.
TIKTOK_TIMEOUT: tuple[float, float] = (3.05, 8.0)


def _build(settings: Settings, secrets: AppSecrets) -> Ports:
    from tiktok_publisher.adapters.accounts_table import AccountRepository
    from tiktok_publisher.adapters.eventbridge import EventPublisher
    from tiktok_publisher.adapters.sessions_table import OAuthSessionRepository
    from tiktok_publisher.adapters.tiktok_client import TikTokClient
    from tiktok_publisher.refresh import refresher_for

    settings.require("accounts_table")
    settings.require("oauth_sessions_table")
    settings.require("token_key_id")
    client = TikTokClient(
        settings.tiktok_api_base,
        client_key=secrets.client_key,
        client_secret=secrets.client_secret.get_secret_value(),
        timeout=TIKTOK_TIMEOUT,
    )
    accounts = AccountRepository(refresh_shards=settings.refresh_shards)  # shared TokenCipher
    events = EventPublisher(settings.event_bus_name)
    return Ports(
        settings=settings,
        secrets=secrets,
        client=client,
        accounts=accounts,
        sessions=OAuthSessionRepository(),
        events=events,
        refresher=refresher_for(accounts, client, events),
    )


_container: Container[Ports] = Container(_build)


def get_ports() -> Ports:
    """The container's ports (see module docstring)."""
    return _container.get()


def reset_ports() -> None:
    """Forget the cached ports (tests)."""
    _container.reset()

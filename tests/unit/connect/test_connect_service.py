"""Branches of the connect and accounts logic that the emulator cannot easily produce, with small fakes
that behave like the ports (a dict for the session table, a scripted TikTok)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tiktok_publisher.accounts import service as accounts_service
from tiktok_publisher.connect.service import ConnectConfig, complete_connect, start_connect
from tiktok_publisher.connect.state import InvalidState
from tiktok_publisher.domain.accounts import Account, Credentials
from tiktok_publisher.domain.errors import NotFound, UpstreamError
from tiktok_publisher.domain.sessions import OAuthSession, StateAlreadyUsed
from tiktok_publisher.domain.tiktok import TokenSet, UserInfo
from tiktok_publisher.domain.tiktok_errors import OAuthError, TikTokError, TikTokTransportError
from tiktok_publisher.refresh.core import TokenRefresher

NOW = 1_800_000_000
CONFIG = ConnectConfig(
    stage="local",
    auth_base="https://www.tiktok.com",
    client_key="ck",
    redirect_uri="https://api.example.com/v1/oauth/tiktok/callback",
    allowed_origins=("https://app.example.com",),
    pkce_mode="hex",
    state_key=b"k" * 32,
)
TOKENS = TokenSet(
    access_token="act.a",
    refresh_token="rft.r",
    open_id="open-1",
    scopes=["user.info.basic", "video.publish", "video.upload"],
    expires_in=86400,
    refresh_expires_in=31536000,
)


class Sessions:
    def __init__(self) -> None:
        self.items: dict[str, OAuthSession] = {}
        self.used: set[str] = set()

    def create(self, session: OAuthSession) -> None:
        self.items[session.state_id] = session

    def consume(self, state_id: str) -> OAuthSession:
        if state_id in self.used:
            raise StateAlreadyUsed("used")
        if state_id not in self.items:
            raise NotFound("none")
        self.used.add(state_id)
        return self.items.pop(state_id)


class TikTok:
    def __init__(self, *, profile_open_id: str = "open-1") -> None:
        self.profile_open_id = profile_open_id
        self.revoked: list[str] = []
        self.revoke_error: Exception | None = None
        self.refresh_answer: TokenSet | Exception = replace_tokens("act.new", "rft.new")

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str | None) -> TokenSet:
        return TOKENS

    def user_info(self, access_token: str, fields: Any) -> UserInfo:
        return UserInfo(open_id=self.profile_open_id, display_name="D")

    def revoke(self, access_token: str) -> None:
        if self.revoke_error:
            raise self.revoke_error
        self.revoked.append(access_token)

    def refresh(self, refresh_token: str) -> TokenSet:
        if isinstance(self.refresh_answer, Exception):
            raise self.refresh_answer
        return self.refresh_answer


def replace_tokens(access: str, refresh: str) -> TokenSet:
    return TOKENS.model_copy(update={"access_token": access, "refresh_token": refresh})


class Accounts:
    def __init__(self) -> None:
        self.saved: list[tuple[str, str]] = []
        self.account = Account(
            tenant_id="t",
            open_id="open-1",
            display_name="D",
            username="u",
            avatar_url=None,
            scopes=list(TOKENS.scopes),
            status="active",
            access_expires_at=NOW + 3600,
            refresh_expires_at=NOW + 86400,
            connected_at="2026-01-01T00:00:00Z",
            updated_at="2026-01-01T00:00:00Z",
            last_error=None,
            version=3,
        )
        self.tokens: tuple[str, str] | None = ("act.a", "rft.r")
        self.refresh_race_lost = False
        self.calls: list[str] = []
        self.elsewhere: list[Account] = []  # the same TikTok user in other tenants (by_open_id)

    def find_by_open_id(self, open_id: str) -> list[Account]:
        return [self.account, *self.elsewhere]

    def save_connection(
        self, tenant_id: str, open_id: str, profile: UserInfo, tokens: TokenSet, *, now: int
    ) -> Account:
        self.saved.append((tenant_id, open_id))
        return self.account

    def get(self, tenant_id: str, open_id: str) -> Account:
        return self.account

    def get_credentials(self, tenant_id: str, open_id: str) -> Credentials:
        if self.tokens is None:
            raise NotFound("no tokens")
        return Credentials(self.account, *self.tokens)

    def get_tokens(self, tenant_id: str, open_id: str) -> tuple[str, str]:
        assert self.tokens is not None
        return self.tokens

    def save_refreshed(
        self, tenant_id: str, open_id: str, tokens: TokenSet, *, expected_version: int, now: int
    ) -> bool:
        assert expected_version == self.account.version
        if self.refresh_race_lost:  # another refresher saved first (which bumps the version)
            self.tokens = ("act.winner", "rft.winner")
            self.account = replace(
                self.account, version=self.account.version + 1, access_expires_at=NOW + 86400
            )
            return False
        self.tokens = (tokens.access_token, tokens.refresh_token)
        return True

    def restore_refreshed(
        self, tenant_id: str, open_id: str, tokens: TokenSet, *, marked_from_version: int, now: int
    ) -> Account | None:
        return None  # these tests never mark an account that a refresh then restores

    def mark_needs_reconnect(self, tenant_id: str, open_id: str, reason: str) -> None:
        self.calls.append(f"needs_reconnect:{reason}")

    def mark_revoked(self, tenant_id: str, open_id: str, reason: str | None = None) -> None:
        self.calls.append("revoked")
        self.tokens = None


class Leases:
    """The refresher's lease port over the fake account (one caller at a time in these tests)."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    def acquire_lease(
        self, tenant_id: str, open_id: str, *, version: int, owner: str, now: int, ttl: int
    ) -> bool:
        return self.accounts.account.version == version and self.accounts.account.status == "active"

    def release_lease(self, tenant_id: str, open_id: str, *, owner: str) -> None:
        return None

    def mark_needs_reconnect(
        self,
        tenant_id: str,
        open_id: str,
        *,
        expected_version: int,
        reason: str,
        now: int,
        lease_owner: str | None,
        lease_now: int,
    ) -> bool:
        if self.accounts.account.version != expected_version:
            return False
        self.accounts.account = replace(
            self.accounts.account, status="needs_reconnect", version=expected_version + 1
        )
        self.accounts.calls.append(f"needs_reconnect:{reason.split(':')[0]}")
        return True


class Pacer:
    """TikTok's per-token limits in memory, under the real policy (domain/pacing.py)."""

    def __init__(self) -> None:
        self.logs: dict[tuple[str, str, str], tuple[float, ...]] = {}

    def reserve(self, tenant_id: str, open_id: str, call: str, *, now: float) -> float:
        from tiktok_publisher.domain.pacing import admit, limit_of

        key = (tenant_id, open_id, call)
        admission = admit(self.logs.get(key, ()), now=now, limit=limit_of(call))
        if admission.times is not None:
            self.logs[key] = admission.times
        return admission.wait_s


class Events:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.sent: list[tuple[str, dict[str, Any], str]] = []

    def publish(self, detail_type: str, detail: dict[str, Any], *, tenant_id: str) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append((detail_type, detail, tenant_id))


def refresher(accounts: Accounts, tiktok: TikTok) -> TokenRefresher:
    """The shared on-demand refresh path over the fakes (what the services get in production)."""
    return TokenRefresher(
        accounts=accounts, leases=Leases(accounts), client=tiktok, events=Events(), sleep=lambda _s: None
    )


# Issue 11: the start's browser nonce (its cookie) of each started state, presented by the callback.
NONCES: dict[str, str] = {}


def _started(sessions: Sessions) -> str:
    result = start_connect(
        tenant_id="t",
        user_id="u",
        return_to="https://app.example.com/cb",
        scopes=None,
        config=CONFIG,
        sessions=sessions,
        now=NOW,
    )
    state = parse_qs(urlsplit(result.authorize_url).query)["state"][0]
    NONCES[state] = result.browser_nonce
    return state


def test_profile_of_another_user_than_the_token_is_refused_and_revoked():
    sessions, accounts, tiktok = Sessions(), Accounts(), TikTok(profile_open_id="someone-else")
    state = _started(sessions)
    result = complete_connect(
        {"state": state, "code": "c"},
        browser_nonce=NONCES.get(state),
        config=CONFIG,
        sessions=sessions,
        accounts=accounts,
        client=tiktok,
        events=Events(),
        now=NOW,
    )
    assert result.reason == "account_mismatch"
    assert accounts.saved == []
    assert tiktok.revoked == ["act.a"]


def test_a_session_past_its_expiry_is_refused_even_if_dynamodb_still_has_it():
    sessions = Sessions()
    state = _started(sessions)
    [state_id] = sessions.items
    sessions.items[state_id] = replace(sessions.items[state_id], expires_at=NOW)
    with pytest.raises(InvalidState) as info:
        complete_connect(
            {"state": state, "code": "c"},
            browser_nonce=NONCES.get(state),
            config=CONFIG,
            sessions=sessions,
            accounts=Accounts(),
            client=TikTok(),
            events=Events(),
            now=NOW,
        )
    assert info.value.reason == "expired"


def test_replay_and_unknown_sessions_are_told_apart_in_logs_only():
    sessions = Sessions()
    state = _started(sessions)
    kwargs: dict[str, Any] = {
        "config": CONFIG,
        "sessions": sessions,
        "accounts": Accounts(),
        "client": TikTok(),
        "events": Events(),
        "now": NOW,
    }
    assert (
        complete_connect({"state": state, "code": "c"}, browser_nonce=NONCES[state], **kwargs).outcome
        == "connected"
    )
    with pytest.raises(InvalidState) as replayed:
        complete_connect({"state": state, "code": "c"}, browser_nonce=NONCES[state], **kwargs)
    sessions.used.clear()
    with pytest.raises(InvalidState) as unknown:
        complete_connect({"state": state, "code": "c"}, browser_nonce=NONCES[state], **kwargs)
    assert (replayed.value.reason, unknown.value.reason) == ("replayed", "unknown_session")
    assert replayed.value.message == unknown.value.message


def test_disconnect_refused_by_tiktok_for_another_reason_changes_nothing():
    accounts, tiktok = Accounts(), TikTok()
    tiktok.revoke_error = OAuthError("invalid_client", "bad client", http_status=401)
    with pytest.raises(UpstreamError):
        accounts_service.disconnect(
            "t", "open-1", accounts=accounts, client=tiktok, tokens=refresher(accounts, tiktok), now=NOW
        )
    assert accounts.calls == []
    assert accounts.tokens == ("act.a", "rft.r")


def test_disconnect_with_a_dead_refresh_token_still_disconnects():
    accounts, tiktok = Accounts(), TikTok()
    accounts.account = replace(accounts.account, access_expires_at=NOW)
    tiktok.refresh_answer = OAuthError("invalid_grant", "dead")
    accounts_service.disconnect(
        "t", "open-1", accounts=accounts, client=tiktok, tokens=refresher(accounts, tiktok), now=NOW
    )
    assert tiktok.revoked == []
    assert accounts.calls == ["needs_reconnect:invalid_grant", "revoked"]


def test_a_lost_refresh_race_uses_the_winners_token():
    accounts, tiktok = Accounts(), TikTok()
    accounts.account = replace(accounts.account, access_expires_at=NOW + 10)
    accounts.refresh_race_lost = True
    token = refresher(accounts, tiktok).ensure_fresh_token("t", "open-1", now=NOW)
    assert token == "act.winner"


def test_refresh_that_times_out_is_an_upstream_error_and_keeps_the_tokens():
    accounts, tiktok = Accounts(), TikTok()
    accounts.account = replace(accounts.account, access_expires_at=NOW + 10)
    tiktok.refresh_answer = TikTokTransportError("transport", "timed out")
    with pytest.raises(UpstreamError):
        refresher(accounts, tiktok).ensure_fresh_token("t", "open-1", now=NOW)
    assert accounts.tokens == ("act.a", "rft.r")
    assert accounts.calls == []


def test_a_token_with_time_left_is_used_as_is():
    accounts, tiktok = Accounts(), TikTok()
    assert refresher(accounts, tiktok).ensure_fresh_token("t", "open-1", now=NOW) == "act.a"


def test_storage_failure_after_the_exchange_revokes_the_grant_and_goes_back_with_a_reason():
    from tiktok_publisher.adapters.dynamodb import StoreError

    class BrokenAccounts(Accounts):
        def save_connection(self, *args: Any, **kwargs: Any) -> Account:
            raise StoreError("storage failed during save connection (ProvisionedThroughputExceededException)")

    sessions, tiktok = Sessions(), TikTok()
    state = _started(sessions)
    result = complete_connect(
        {"state": state, "code": "c"},
        browser_nonce=NONCES.get(state),
        config=CONFIG,
        sessions=sessions,
        accounts=BrokenAccounts(),
        client=tiktok,
        events=Events(),
        now=NOW,
    )
    assert result.outcome == "error"
    assert result.reason == "internal_error"
    assert tiktok.revoked == ["act.a"]


def test_disconnect_leaves_the_grant_alive_while_another_tenant_uses_it():
    # TikTok's grant is the app's and the user's: revoking it would disconnect the other tenant too.
    accounts, tiktok = Accounts(), TikTok()
    accounts.elsewhere = [replace(accounts.account, tenant_id="other")]
    accounts_service.disconnect(
        "t", "open-1", accounts=accounts, client=tiktok, tokens=refresher(accounts, tiktok), now=NOW
    )
    assert tiktok.revoked == []
    assert accounts.calls == ["revoked"]  # this tenant's tokens are gone all the same


def test_disconnect_revokes_when_the_other_tenants_connection_is_no_longer_active():
    accounts, tiktok = Accounts(), TikTok()
    accounts.elsewhere = [replace(accounts.account, tenant_id="other", status="revoked")]
    accounts_service.disconnect(
        "t", "open-1", accounts=accounts, client=tiktok, tokens=refresher(accounts, tiktok), now=NOW
    )
    assert tiktok.revoked == ["act.a"]
    assert accounts.calls == ["revoked"]


def test_disconnect_of_an_account_needing_reconnect_still_revokes_its_unexpired_token():
    # The refresher leaves non-active accounts alone; the grant may still be alive (e.g. a scope went
    # missing), so the stored access token is used to revoke it while it has not expired.
    accounts, tiktok = Accounts(), TikTok()
    accounts.account = replace(accounts.account, status="needs_reconnect")
    accounts_service.disconnect(
        "t", "open-1", accounts=accounts, client=tiktok, tokens=refresher(accounts, tiktok), now=NOW
    )
    assert tiktok.revoked == ["act.a"]
    assert accounts.calls == ["revoked"]


def test_connecting_announces_the_account_without_tokens():
    sessions, tiktok, events = Sessions(), TikTok(), Events()
    result = complete_connect(
        {"state": (state := _started(sessions)), "code": "c"},
        browser_nonce=NONCES[state],
        config=CONFIG,
        sessions=sessions,
        accounts=Accounts(),  # its row is at version 3: it was connected before
        client=tiktok,
        events=events,
        now=NOW,
    )
    assert result.outcome == "connected"
    assert events.sent == [
        (
            "Account Connected",
            {
                "open_id": "open-1",
                "display_name": "D",
                "username": "u",
                "scopes": ["user.info.basic", "video.publish", "video.upload"],
                "reconnected": True,
            },
            "t",
        )
    ]


def test_a_bus_failure_after_connecting_still_sends_the_user_back_connected():
    from tiktok_publisher.domain.events import EventPublishError

    sessions, accounts = Sessions(), Accounts()
    result = complete_connect(
        {"state": (state := _started(sessions)), "code": "c"},
        browser_nonce=NONCES[state],
        config=CONFIG,
        sessions=sessions,
        accounts=accounts,
        client=TikTok(),
        events=Events(error=EventPublishError("event not published (ThrottlingException)")),
        now=NOW,
    )
    assert result.outcome == "connected"
    assert accounts.saved == [("t", "open-1")]


# ------------------------------------------------------------------ creator_info with a token refused early


class RefusingTikTok(TikTok):
    """TikTok refusing some access tokens on creator_info (`access_token_invalid`, 401), as it was seen to do
    before their stated expiry; every other token gets the creator's info."""

    def __init__(self, *, refused: set[str] | None = None) -> None:
        super().__init__()
        self.refused = refused  # None: every token
        self.asked_with: list[str] = []
        self.refreshes = 0

    def creator_info(self, access_token: str) -> Any:
        from tiktok_publisher.domain.tiktok import CreatorInfo

        self.asked_with.append(access_token)
        if self.refused is None or access_token in self.refused:
            raise TikTokError("access_token_invalid", "token invalid", http_status=401, log_id="log-1")
        return CreatorInfo(creator_nickname="D", privacy_level_options=["SELF_ONLY"])

    def refresh(self, refresh_token: str) -> TokenSet:
        self.refreshes += 1
        return super().refresh(refresh_token)


def _token_refresher(accounts: Accounts, tiktok: TikTok, events: Events) -> TokenRefresher:
    return TokenRefresher(
        accounts=accounts, leases=Leases(accounts), client=tiktok, events=events, sleep=lambda _s: None
    )


def _creator_form(accounts: Accounts, tiktok: TikTok, tokens: TokenRefresher) -> Any:
    return accounts_service.creator_form(
        "t",
        "open-1",
        accounts=accounts,
        client=tiktok,
        tokens=tokens,
        pacer=Pacer(),
        audited=True,
        media_type="video",
        now=NOW,
    )


def test_creator_info_with_a_token_refused_early_refreshes_it_once_and_asks_again():
    accounts, events = Accounts(), Events()
    tiktok = RefusingTikTok(refused={"act.a"})  # the stored token has an hour left, yet TikTok refuses it
    form = _creator_form(accounts, tiktok, _token_refresher(accounts, tiktok, events))
    assert form.creator["creator_nickname"] == "D"
    assert tiktok.asked_with == ["act.a", "act.new"]
    assert tiktok.refreshes == 1
    assert accounts.tokens == ("act.new", "rft.new")
    assert (accounts.account.status, accounts.calls, events.sent) == ("active", [], [])


def test_creator_info_whose_forced_refresh_finds_the_grant_dead_marks_the_account_with_an_event():
    accounts, events = Accounts(), Events()
    tiktok = RefusingTikTok()
    tiktok.refresh_answer = OAuthError("invalid_grant", "revoked", log_id="log-2")
    with pytest.raises(accounts_service.AccountNeedsReconnect) as caught:
        _creator_form(accounts, tiktok, _token_refresher(accounts, tiktok, events))
    assert caught.value.details == {"tiktok_code": "invalid_grant", "log_id": "log-2"}
    assert tiktok.asked_with == ["act.a"]
    assert (accounts.account.status, accounts.account.version) == ("needs_reconnect", 4)
    assert accounts.calls == ["needs_reconnect:invalid_grant"]
    [(detail_type, detail, tenant_id)] = events.sent
    assert (detail_type, tenant_id) == ("Account Needs Reconnect", "t")
    assert (detail["open_id"], detail["reason"], detail["log_id"]) == ("open-1", "invalid_grant", "log-2")


def test_creator_info_refused_again_after_the_forced_refresh_does_not_mark_the_account():
    # Only a refresh answering invalid_grant proves a grant dead: a fresh token refused too is this call's
    # failure (reconnect advised), not the account's.
    accounts, events = Accounts(), Events()
    tiktok = RefusingTikTok()
    with pytest.raises(accounts_service.AccountNeedsReconnect) as caught:
        _creator_form(accounts, tiktok, _token_refresher(accounts, tiktok, events))
    assert caught.value.details == {"tiktok_code": "access_token_invalid", "log_id": "log-1"}
    assert tiktok.asked_with == ["act.a", "act.new"]
    assert tiktok.refreshes == 1
    assert (accounts.account.status, accounts.account.version) == ("active", 3)
    assert (accounts.calls, events.sent) == ([], [])


def test_creator_info_refused_while_a_reconnect_replaced_the_token_asks_again_without_a_refresh():
    # The reconnect landed while TikTok was answering: the row no longer holds the refused token, so the
    # forced refresh has nothing to do and the new token is used.
    accounts, events = Accounts(), Events()

    class ReconnectDuringCall(RefusingTikTok):
        def creator_info(self, access_token: str) -> Any:
            if access_token == "act.a":
                _reconnect(accounts)
            return super().creator_info(access_token)

    tiktok = ReconnectDuringCall(refused={"act.a"})
    form = _creator_form(accounts, tiktok, _token_refresher(accounts, tiktok, events))
    assert form.open_id == "open-1"
    assert tiktok.asked_with == ["act.a", "act.reconnected"]
    assert tiktok.refreshes == 0
    assert (accounts.account.status, accounts.tokens) == ("active", ("act.reconnected", "rft.reconnected"))
    assert events.sent == []


def test_a_missing_scope_still_marks_the_account_through_the_conditional_mark():
    accounts, events = Accounts(), Events()

    class ScopeMissing(RefusingTikTok):
        def creator_info(self, access_token: str) -> Any:
            self.asked_with.append(access_token)
            raise TikTokError("scope_not_authorized", "no video.publish", http_status=401, log_id="log-3")

    tiktok = ScopeMissing()
    with pytest.raises(accounts_service.AccountNeedsReconnect):
        _creator_form(accounts, tiktok, _token_refresher(accounts, tiktok, events))
    assert tiktok.asked_with == ["act.a"]  # no forced refresh: a new token would lack the scope too
    assert tiktok.refreshes == 0
    assert accounts.calls == ["needs_reconnect:scope_not_authorized"]
    assert [sent[0] for sent in events.sent] == ["Account Needs Reconnect"]


def _reconnect(accounts: Accounts) -> None:
    accounts.account = replace(accounts.account, status="active", version=accounts.account.version + 1)
    accounts.tokens = ("act.reconnected", "rft.reconnected")


def test_publish_creator_info_uses_the_same_forced_refresh():
    from tiktok_publisher.publishing.service import PublishService

    def service(accounts: Accounts, tiktok: TikTok, events: Events) -> PublishService:
        return PublishService(
            posts=None,  # type: ignore[arg-type]
            accounts=accounts,
            client=tiktok,  # type: ignore[arg-type]
            media=None,  # type: ignore[arg-type]
            queue=None,  # type: ignore[arg-type]
            upload_ids=None,  # type: ignore[arg-type]
            pull=None,  # type: ignore[arg-type]
            audited=True,
            refresher=_token_refresher(accounts, tiktok, events),
            pacer=Pacer(),
            trigger=None,  # type: ignore[arg-type]
            clock=lambda: NOW,
        )

    accounts, events = Accounts(), Events()
    tiktok = RefusingTikTok(refused={"act.a"})
    info = service(accounts, tiktok, events)._creator_info(accounts.account)
    assert info.privacy_level_options == ["SELF_ONLY"]
    assert (tiktok.asked_with, tiktok.refreshes) == (["act.a", "act.new"], 1)
    assert (accounts.account.status, events.sent) == ("active", [])

    accounts, events = Accounts(), Events()
    tiktok = RefusingTikTok()
    tiktok.refresh_answer = OAuthError("invalid_grant", "revoked")
    with pytest.raises(accounts_service.AccountNeedsReconnect):
        service(accounts, tiktok, events)._creator_info(accounts.account)
    assert accounts.account.status == "needs_reconnect"
    assert [sent[0] for sent in events.sent] == ["Account Needs Reconnect"]

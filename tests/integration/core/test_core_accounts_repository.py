"""AccountRepository against moto: tenant scoping, encryption at rest, reconnect, optimistic locking."""

from __future__ import annotations

import pytest

from tests.fixtures.aws import AwsEnv
from tiktok_publisher.adapters.accounts_table import AccountRepository
from tiktok_publisher.adapters.dynamodb import AccountModel
from tiktok_publisher.domain.accounts import REFRESH_TOKEN_WINDOW_S, refresh_shard_for
from tiktok_publisher.domain.errors import NotFound
from tiktok_publisher.domain.tiktok import TokenSet, UserInfo

NOW = 1_750_000_000


def tokens(n: int = 1, *, scopes: list[str] | None = None) -> TokenSet:
    return TokenSet(
        access_token=f"act.access-{n}-plaintext",
        refresh_token=f"rft.refresh-{n}-plaintext",
        open_id="open-A",
        scopes=scopes or ["user.info.basic", "video.publish"],
        expires_in=86400,
        refresh_expires_in=31536000,
    )


PROFILE = UserInfo(
    open_id="open-A", display_name="Alice", avatar_url="https://a.example/a.jpg", username="alice"
)


@pytest.fixture
def repo(aws: AwsEnv) -> AccountRepository:
    return AccountRepository()


def test_save_connection_stores_an_active_account_with_encrypted_tokens(
    aws: AwsEnv, repo: AccountRepository
) -> None:
    account = repo.save_connection("tenant-1", "open-A", PROFILE, tokens(), now=NOW)

    assert account.status == "active"
    assert account.version == 1
    assert account.access_expires_at == NOW + 86400
    assert account.refresh_expires_at == NOW + 31536000
    assert account.connected_at == "2025-06-15T15:06:40Z"
    assert (account.display_name, account.username) == ("Alice", "alice")
    assert repo.get_tokens("tenant-1", "open-A") == ("act.access-1-plaintext", "rft.refresh-1-plaintext")
    raw = aws.dynamodb.get_item(
        TableName=aws.accounts_table, Key={"tenant_id": {"S": "tenant-1"}, "open_id": {"S": "open-A"}}
    )["Item"]
    stored = repr(raw)
    assert "plaintext" not in stored
    assert "B" in raw["access_token_enc"]
    assert "B" in raw["refresh_token_enc"]
    assert raw["refresh_shard"]["S"] == refresh_shard_for("tenant-1", "open-A", 4)
    # The schedule keeps the grant alive: due 30 days before the refresh token ends (the access token is
    # refreshed on demand, never by the sweep).
    assert raw["refresh_due_at"]["N"] == str(NOW + 31536000 - REFRESH_TOKEN_WINDOW_S)
    assert "act." not in repr(account)


def test_other_tenants_cannot_see_or_touch_an_account(repo: AccountRepository) -> None:
    repo.save_connection("tenant-1", "open-A", PROFILE, tokens(), now=NOW)

    with pytest.raises(NotFound):
        repo.get("tenant-2", "open-A")
    with pytest.raises(NotFound):
        repo.get_tokens("tenant-2", "open-A")
    with pytest.raises(NotFound):
        repo.mark_revoked("tenant-2", "open-A", "x")
    with pytest.raises(NotFound):
        repo.delete_tokens("tenant-2", "open-A")
    assert repo.list("tenant-2") == []
    assert [a.open_id for a in repo.list("tenant-1")] == ["open-A"]
    assert repo.get("tenant-1", "open-A").status == "active"


def test_unknown_account_updates_do_not_create_rows(aws: AwsEnv, repo: AccountRepository) -> None:
    with pytest.raises(NotFound):
        repo.mark_needs_reconnect("tenant-1", "ghost", "invalid_grant")

    assert aws.dynamodb.scan(TableName=aws.accounts_table)["Count"] == 0


def test_same_open_id_in_two_tenants_is_two_accounts(repo: AccountRepository) -> None:
    repo.save_connection("tenant-1", "open-A", PROFILE, tokens(1), now=NOW)
    repo.save_connection("tenant-2", "open-A", PROFILE, tokens(2), now=NOW)

    found = repo.find_by_open_id("open-A")

    assert sorted(a.tenant_id for a in found) == ["tenant-1", "tenant-2"]
    assert repo.get_tokens("tenant-2", "open-A")[0] == "act.access-2-plaintext"


def test_ciphertext_moved_to_another_row_does_not_decrypt(aws: AwsEnv, repo: AccountRepository) -> None:
    from tiktok_publisher.adapters.kms_cipher import TokenDecryptError

    repo.save_connection("tenant-1", "open-A", PROFILE, tokens(1), now=NOW)
    repo.save_connection("tenant-2", "open-A", PROFILE, tokens(2), now=NOW)
    item1 = AccountModel.get("tenant-1", "open-A")
    item2 = AccountModel.get("tenant-2", "open-A")
    item2.access_token_enc = item1.access_token_enc
    item2.save()

    with pytest.raises(TokenDecryptError):
        repo.get_tokens("tenant-2", "open-A")


def test_reconnect_revives_a_revoked_account(repo: AccountRepository) -> None:
    repo.save_connection("tenant-1", "open-A", PROFILE, tokens(1), now=NOW)
    repo.mark_revoked("tenant-1", "open-A", "disconnected", now=NOW + 10)
    revoked = repo.get("tenant-1", "open-A")
    assert revoked.status == "revoked"
    assert revoked.last_error == "disconnected"
    with pytest.raises(NotFound):
        repo.get_tokens("tenant-1", "open-A")

    # A later profile without username (fewer scopes) keeps what we knew.
    again = repo.save_connection(
        "tenant-1", "open-A", UserInfo(open_id="open-A", display_name="Alice B"), tokens(2), now=NOW + 100
    )

    assert again.status == "active"
    assert again.last_error is None
    assert again.version == revoked.version + 1
    assert again.connected_at == "2025-06-15T15:06:40Z"  # first connection kept
    assert again.updated_at == "2025-06-15T15:08:20Z"
    assert (again.display_name, again.username) == ("Alice B", "alice")
    assert repo.get_tokens("tenant-1", "open-A") == ("act.access-2-plaintext", "rft.refresh-2-plaintext")
    assert [
        a.open_id for a in repo.due_for_refresh(refresh_shard_for("tenant-1", "open-A", 4), NOW + 400 * 86400)
    ] == ["open-A"]


def test_refresh_due_index_holds_active_accounts_only(repo: AccountRepository) -> None:
    for n, open_id in enumerate(["o1", "o2", "o3"]):
        repo.save_connection("tenant-1", open_id, UserInfo(open_id=open_id), tokens(n), now=NOW + n * 1000)
    repo.mark_needs_reconnect("tenant-1", "o2", "invalid_grant")

    grant_window = NOW + 31536000 - REFRESH_TOKEN_WINDOW_S  # o1's grant enters its last 30 days then
    due = {a.open_id for shard in repo.shards() for a in repo.due_for_refresh(shard, grant_window + 1500)}

    assert due == {"o1"}  # o2 is out (needs reconnect), o3's grant ends later than the cut-off


def test_optimistic_lock_lets_exactly_one_of_two_refreshers_win(repo: AccountRepository) -> None:
    # Two refreshers read the same row, both get new tokens from TikTok, both write. The interleaving is
    # spelled out rather than raced in threads: moto does not make conditional writes atomic across threads,
    # DynamoDB does, so a threaded test here would test moto.
    repo.save_connection("tenant-1", "open-A", PROFILE, tokens(1), now=NOW)
    first_read = repo.get_credentials("tenant-1", "open-A")
    second_read = repo.get_credentials("tenant-1", "open-A")
    assert first_read.account.version == second_read.account.version

    first_won = repo.save_refreshed(
        "tenant-1", "open-A", tokens(11), expected_version=first_read.account.version, now=NOW + 60
    )
    second_won = repo.save_refreshed(
        "tenant-1", "open-A", tokens(12), expected_version=second_read.account.version, now=NOW + 61
    )

    assert (first_won, second_won) == (True, False)
    # The loser re-reads and finds the winner's rotated refresh token: nothing was lost.
    assert repo.get_tokens("tenant-1", "open-A") == ("act.access-11-plaintext", "rft.refresh-11-plaintext")
    assert repo.get("tenant-1", "open-A").version == first_read.account.version + 1


def test_stale_version_never_overwrites(repo: AccountRepository) -> None:
    repo.save_connection("tenant-1", "open-A", PROFILE, tokens(1), now=NOW)
    stale = repo.get("tenant-1", "open-A").version
    assert repo.save_refreshed("tenant-1", "open-A", tokens(2), expected_version=stale, now=NOW + 1)

    assert repo.save_refreshed("tenant-1", "open-A", tokens(3), expected_version=stale, now=NOW + 2) is False
    assert repo.get_tokens("tenant-1", "open-A")[1] == "rft.refresh-2-plaintext"


def test_refresh_after_disconnect_does_not_resurrect_tokens(repo: AccountRepository) -> None:
    repo.save_connection("tenant-1", "open-A", PROFILE, tokens(1), now=NOW)
    version = repo.get("tenant-1", "open-A").version
    repo.delete_tokens("tenant-1", "open-A")

    assert repo.save_refreshed("tenant-1", "open-A", tokens(2), expected_version=version, now=NOW) is False
    with pytest.raises(NotFound):
        repo.get_tokens("tenant-1", "open-A")


def test_refresh_of_unknown_account_is_refused(aws: AwsEnv, repo: AccountRepository) -> None:
    assert repo.save_refreshed("tenant-1", "nobody", tokens(), expected_version=0, now=NOW) is False
    assert aws.dynamodb.scan(TableName=aws.accounts_table)["Count"] == 0


def test_needs_reconnect_keeps_tokens_and_records_reason(repo: AccountRepository) -> None:
    repo.save_connection("tenant-1", "open-A", PROFILE, tokens(1), now=NOW)

    account = repo.mark_needs_reconnect("tenant-1", "open-A", "invalid_grant for act.leaky123", now=NOW + 5)

    assert account.status == "needs_reconnect"
    assert account.last_error == "invalid_grant for act.***"
    assert account.version == 2


def test_save_refreshed_updates_scopes_and_expiry(repo: AccountRepository) -> None:
    repo.save_connection("tenant-1", "open-A", PROFILE, tokens(1), now=NOW)

    ok = repo.save_refreshed(
        "tenant-1", "open-A", tokens(2, scopes=["user.info.basic"]), expected_version=1, now=NOW + 3600
    )

    account = repo.get("tenant-1", "open-A")
    assert ok
    assert account.scopes == ["user.info.basic"]
    assert account.access_expires_at == NOW + 3600 + 86400


def _raw(aws: AwsEnv, open_id: str = "open-A") -> dict[str, object]:
    return dict(
        aws.dynamodb.get_item(
            TableName=aws.accounts_table, Key={"tenant_id": {"S": "tenant-1"}, "open_id": {"S": open_id}}
        )["Item"]
    )


def test_refresh_due_at_is_written_with_the_shard_on_every_save_and_removed_with_it(
    aws: AwsEnv, repo: AccountRepository
) -> None:
    from tiktok_publisher.adapters.accounts_table import RefreshStore

    ending = tokens(1).model_copy(update={"refresh_expires_in": 10 * 86400})
    # Connect: the grant ends in 10 days, so the account is due 20 days ago (not in a day).
    repo.save_connection("tenant-1", "open-A", PROFILE, ending, now=NOW)
    raw = _raw(aws)
    assert raw["refresh_due_at"] == {"N": str(NOW + 10 * 86400 - REFRESH_TOKEN_WINDOW_S)}
    assert "refresh_shard" in raw

    # Refresh: recomputed from the new lifetimes (a renewed grant: due 30 days before its new end).
    assert repo.save_refreshed("tenant-1", "open-A", tokens(2), expected_version=1, now=NOW + 60)
    assert _raw(aws)["refresh_due_at"] == {"N": str(NOW + 60 + 31536000 - REFRESH_TOKEN_WINDOW_S)}

    # Leaving `active` takes it out of the index; a reconnect puts it back with a fresh key.
    repo.mark_needs_reconnect("tenant-1", "open-A", "invalid_grant", now=NOW + 70)
    assert {"refresh_shard", "refresh_due_at"}.isdisjoint(_raw(aws))
    repo.save_connection("tenant-1", "open-A", PROFILE, tokens(3), now=NOW + 80)
    assert _raw(aws)["refresh_due_at"] == {"N": str(NOW + 80 + 31536000 - REFRESH_TOKEN_WINDOW_S)}
    version = repo.get("tenant-1", "open-A").version
    assert RefreshStore().mark_needs_reconnect(
        "tenant-1",
        "open-A",
        expected_version=version,
        reason="invalid_grant",
        now=NOW + 90,
        lease_owner=None,
        lease_now=NOW + 90,
    )
    assert {"refresh_shard", "refresh_due_at"}.isdisjoint(_raw(aws))
    repo.save_connection("tenant-1", "open-A", PROFILE, tokens(4), now=NOW + 100)
    repo.mark_revoked("tenant-1", "open-A", "disconnected", now=NOW + 110)
    assert {"refresh_shard", "refresh_due_at"}.isdisjoint(_raw(aws))
    repo.save_connection("tenant-1", "open-A", PROFILE, tokens(5), now=NOW + 120)
    repo.delete_tokens("tenant-1", "open-A", now=NOW + 130)
    assert {"refresh_shard", "refresh_due_at"}.isdisjoint(_raw(aws))


def test_a_refresh_never_puts_an_account_that_left_active_back_in_the_index(
    aws: AwsEnv, repo: AccountRepository
) -> None:
    repo.save_connection("tenant-1", "open-A", PROFILE, tokens(1), now=NOW)
    # A row that is not active at the version the refresher holds (not reachable through the
    # repository, which bumps version on every status change; written here directly).
    AccountModel(tenant_id="tenant-1", open_id="open-A").update(
        actions=[
            AccountModel.status.set("needs_reconnect"),
            AccountModel.refresh_shard.remove(),
            AccountModel.refresh_due_at.remove(),
        ]
    )
    assert repo.save_refreshed("tenant-1", "open-A", tokens(2), expected_version=1, now=NOW + 60) is False
    assert {"refresh_shard", "refresh_due_at"}.isdisjoint(_raw(aws))

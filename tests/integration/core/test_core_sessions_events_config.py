"""OAuth sessions (single use), EventBridge publishing, secrets, and models == template."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.aws import AwsEnv, template_tables
from tiktok_publisher.adapters.dynamodb import AccountModel, OAuthSessionModel, PostModel, StoreError
from tiktok_publisher.adapters.eventbridge import EventPublisher
from tiktok_publisher.adapters.sessions_table import OAuthSessionRepository
from tiktok_publisher.config import ConfigError, get_secrets
from tiktok_publisher.domain.errors import NotFound
from tiktok_publisher.domain.events import DetailType, EventPublishError, UnsafeEventDetail
from tiktok_publisher.domain.sessions import OAuthSession, StateAlreadyUsed


def session(state_id: str = "state-1") -> OAuthSession:
    return OAuthSession(
        state_id=state_id,
        tenant_id="tenant-1",
        user_id="user-1",
        code_verifier="verifier-secret",
        return_to="http://127.0.0.1:3000/app",
        scopes=["user.info.basic", "video.publish"],
        created_at=1000,
        expires_at=1600,
    )


# ------------------------------------------------------------------ sessions


def test_session_round_trip_and_single_use(aws: AwsEnv) -> None:
    repo = OAuthSessionRepository()
    repo.create(session())

    consumed = repo.consume("state-1")

    assert consumed == session()
    assert "verifier-secret" not in repr(consumed)
    with pytest.raises(StateAlreadyUsed):
        repo.consume("state-1")
    assert aws.dynamodb.scan(TableName=aws.oauth_sessions_table)["Count"] == 0


def test_unknown_state_is_a_not_found(aws: AwsEnv) -> None:
    with pytest.raises(NotFound):
        OAuthSessionRepository().consume("never-created")
    with pytest.raises(NotFound):
        OAuthSessionRepository().consume("")


def test_consume_is_a_conditional_delete(aws: AwsEnv) -> None:
    # A second callback with the same state, arriving after the first: refused, nothing returned twice.
    # (Atomicity between truly concurrent callers is DynamoDB's conditional write; moto cannot prove it.)
    repo = OAuthSessionRepository()
    repo.create(session("twice"))
    repo.create(session("other"))

    assert repo.consume("twice").state_id == "twice"
    with pytest.raises(StateAlreadyUsed):
        repo.consume("twice")
    assert repo.consume("other").state_id == "other"


def test_duplicate_state_id_is_refused(aws: AwsEnv) -> None:
    repo = OAuthSessionRepository()
    repo.create(session("dup"))

    with pytest.raises(StoreError, match="duplicate"):
        repo.create(session("dup"))


def test_sessions_expire_by_ttl_attribute(aws: AwsEnv) -> None:
    ttl = aws.dynamodb.describe_time_to_live(TableName=aws.oauth_sessions_table)["TimeToLiveDescription"]

    assert ttl["AttributeName"] == "expires_at"
    assert ttl["TimeToLiveStatus"] == "ENABLED"


# ------------------------------------------------------------------ events


def test_event_reaches_the_bus_with_tenant(aws: AwsEnv) -> None:
    EventPublisher().publish(
        DetailType.POST_PUBLISHED,
        {"post_id": "01J", "post_ids": ["7345678901234567891"]},
        tenant_id="tenant-1",
    )

    events = aws.published_events()

    assert len(events) == 1
    assert events[0]["source"] == "tiktok-publisher"
    assert events[0]["detail-type"] == "Post Published"
    assert events[0]["detail"] == {
        "post_id": "01J",
        "post_ids": ["7345678901234567891"],
        "tenant_id": "tenant-1",
    }


@pytest.mark.parametrize(
    "detail",
    [
        {"access_token": "whatever"},
        {"note": "act.abcdef123456"},
        {"nested": {"list": ["Bearer xyz123"]}},
        {"url": "https://b.s3.amazonaws.com/k?X-Amz-Signature=abc"},
        {"blob": b"\x00"},
    ],
)
def test_token_looking_details_are_refused(aws: AwsEnv, detail: dict[str, object]) -> None:
    with pytest.raises(UnsafeEventDetail):
        EventPublisher().publish(DetailType.ACCOUNT_CONNECTED, detail, tenant_id="tenant-1")

    assert aws.published_events() == []


def test_failed_entries_raise(aws: AwsEnv) -> None:
    class FailingEvents:
        def put_events(self, Entries: list[dict[str, str]]) -> dict[str, object]:  # noqa: N803
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException"}]}

    with pytest.raises(EventPublishError, match="ThrottlingException"):
        EventPublisher(client=FailingEvents()).publish(
            DetailType.POST_FAILED, {"post_id": "p"}, tenant_id="t"
        )


def test_missing_bus_is_a_publish_error(aws: AwsEnv) -> None:
    with pytest.raises(EventPublishError):
        EventPublisher("no-such-bus").publish(DetailType.POST_FAILED, {"post_id": "p"}, tenant_id="t")


# ------------------------------------------------------------------ secrets


def test_secrets_come_from_secrets_manager(aws: AwsEnv) -> None:
    secrets = get_secrets()

    assert secrets.client_key == "sbawlocaldevkey"
    assert secrets.jwt_secret.get_secret_value() == aws.secrets["jwt_secret"]
    assert get_secrets() == secrets


def test_secret_missing_keys_names_them_not_the_values(aws: AwsEnv) -> None:
    aws.secretsmanager.put_secret_value(
        SecretId=aws.secret_id, SecretString=json.dumps({"client_key": "k", "client_secret": "super-hidden"})
    )
    from tiktok_publisher import config

    config.reset_caches()

    with pytest.raises(ConfigError) as caught:
        get_secrets()

    assert "jwt_secret" in str(caught.value)
    assert "state_signing_key" in str(caught.value)
    assert "super-hidden" not in str(caught.value)


def test_secret_that_is_not_json_is_a_config_error(aws: AwsEnv) -> None:
    aws.secretsmanager.put_secret_value(SecretId=aws.secret_id, SecretString="not json at all: hidden")
    from tiktok_publisher import config

    config.reset_caches()

    with pytest.raises(ConfigError) as caught:
        get_secrets()
    assert "hidden" not in str(caught.value)


# ------------------------------------------------------------------ models == template


def _template_schema(properties: dict[str, object]) -> dict[str, object]:
    attr_types = {a["AttributeName"]: a["AttributeType"] for a in properties["AttributeDefinitions"]}  # type: ignore[index,union-attr]
    keys = {k["KeyType"]: k["AttributeName"] for k in properties["KeySchema"]}  # type: ignore[index,union-attr]
    indexes = {
        index["IndexName"]: (
            {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]},
            index["Projection"]["ProjectionType"],
        )
        for index in properties.get("GlobalSecondaryIndexes", [])  # type: ignore[union-attr]
    }
    return {"attributes": attr_types, "keys": keys, "indexes": indexes}


def _model_schema(model: type) -> dict[str, object]:
    schema = model._get_schema()  # type: ignore[attr-defined]
    attr_types = {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]}
    for index in schema["global_secondary_indexes"]:
        attr_types.update({a["AttributeName"]: a["AttributeType"] for a in index["attribute_definitions"]})
    keys = {k["KeyType"]: k["AttributeName"] for k in schema["key_schema"]}
    indexes = {
        index["index_name"]: (
            {k["KeyType"]: k["AttributeName"] for k in index["key_schema"]},
            index["projection"]["ProjectionType"],
        )
        for index in schema["global_secondary_indexes"]
    }
    return {"attributes": attr_types, "keys": keys, "indexes": indexes}


@pytest.mark.parametrize(
    ("logical_id", "model"),
    [("AccountsTable", AccountModel), ("PostsTable", PostModel), ("OAuthSessionsTable", OAuthSessionModel)],
)
def test_models_match_the_template(logical_id: str, model: type) -> None:
    assert _model_schema(model) == _template_schema(template_tables()[logical_id])


def test_models_use_the_tables_from_settings(aws: AwsEnv) -> None:
    assert AccountModel.Meta.table_name == aws.accounts_table
    assert PostModel.Meta.table_name == aws.posts_table
    assert OAuthSessionModel.Meta.table_name == aws.oauth_sessions_table

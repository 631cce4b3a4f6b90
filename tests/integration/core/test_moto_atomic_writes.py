"""moto made as strict as DynamoDB where our races depend on it: a conditional write is one atomic step.

moto evaluates a condition and then writes, with nothing holding other requests back in between; the
refresh lease (a conditional write) would then let two refreshers in at once. The tests' moto and the local
stack's moto server both run every DynamoDB request under one lock (local_stack.moto_patches).
"""

from __future__ import annotations

from typing import Any

import pytest

from local_stack.moto_patches import DYNAMODB_LOCK, make_dynamodb_atomic
from tests.fixtures.aws import AwsEnv


def test_every_dynamodb_write_runs_under_the_lock(aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models import DynamoDBBackend

    seen: list[tuple[str, bool]] = []
    for name in ("put_item", "update_item", "delete_item", "get_item"):
        original = getattr(DynamoDBBackend, name)

        def spy(self: Any, *args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            seen.append((_name, DYNAMODB_LOCK._is_owned()))  # type: ignore[attr-defined]
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, spy)
    table, key = aws.accounts_table, {"tenant_id": {"S": "t"}, "open_id": {"S": "o"}}

    aws.dynamodb.put_item(TableName=table, Item={**key, "version": {"N": "1"}})
    aws.dynamodb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET #v = :two",
        ConditionExpression="#v = :one",
        ExpressionAttributeNames={"#v": "version"},
        ExpressionAttributeValues={":one": {"N": "1"}, ":two": {"N": "2"}},
    )
    aws.dynamodb.get_item(TableName=table, Key=key)
    aws.dynamodb.delete_item(TableName=table, Key=key)

    assert {name for name, _ in seen} == {"put_item", "update_item", "get_item", "delete_item"}
    assert all(owned for _, owned in seen), seen
    assert not DYNAMODB_LOCK._is_owned()  # type: ignore[attr-defined]


def test_the_patch_is_applied_once() -> None:
    from moto.dynamodb.responses import DynamoHandler

    make_dynamodb_atomic()
    first = DynamoHandler.call_action
    make_dynamodb_atomic()
    assert DynamoHandler.call_action is first
    assert first._atomic is True  # type: ignore[attr-defined]

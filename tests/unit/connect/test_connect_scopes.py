"""Requested scopes default, validation, and the scopes publishing cannot do without."""

from __future__ import annotations

import pytest

from tiktok_publisher.connect.scopes import (
    DEFAULT_SCOPES,
    missing_scopes,
    parse_scopes,
    requested_scopes,
    user_fields,
)
from tiktok_publisher.domain.errors import InvalidInput


def test_default_scopes_are_what_the_issue_names():
    assert requested_scopes(None) == ["user.info.basic", "user.info.profile", "video.publish", "video.upload"]
    assert requested_scopes("") == list(DEFAULT_SCOPES)


def test_parse_scopes_splits_trims_and_dedupes_in_order():
    assert parse_scopes(" video.publish, user.info.basic,,video.publish video.upload") == [
        "video.publish",
        "user.info.basic",
        "video.upload",
    ]


def test_unknown_scope_is_refused_with_its_name():
    with pytest.raises(InvalidInput) as info:
        requested_scopes("user.info.basic,video.publish,video.upload,admin.everything")
    assert info.value.details["unknown"] == ["admin.everything"]


def test_requesting_less_than_publishing_needs_is_refused_up_front():
    with pytest.raises(InvalidInput) as info:
        requested_scopes("user.info.basic,video.upload")
    assert info.value.details["missing"] == ["video.publish"]


def test_missing_scopes_names_each_absent_required_scope():
    assert missing_scopes(["user.info.basic", "user.info.profile"]) == ["video.publish", "video.upload"]
    assert missing_scopes(["user.info.basic", "video.publish", "video.upload"]) == []


def test_username_is_only_asked_for_with_the_profile_scope():
    assert "username" not in user_fields(["user.info.basic"])
    assert "username" in user_fields(["user.info.basic", "user.info.profile"])

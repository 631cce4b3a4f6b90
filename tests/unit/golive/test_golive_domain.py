"""The domain of going live: the app's audit profile, where a user's uploads live, the deletion receipt."""

from __future__ import annotations

import pytest

from tiktok_publisher.domain.app_profile import app_profile
from tiktok_publisher.domain.erasure import ErasureReceipt, ErasureTrigger, account_uploads_prefix
from tiktok_publisher.domain.events import check_safe
from tiktok_publisher.publishing.uploads import upload_prefix


def test_an_unaudited_app_says_what_tiktok_allows():
    profile = app_profile(audited=False, pull_mode="none", pull_base_url=None)

    assert profile.audit_mode == "unaudited"
    assert profile.limits is not None
    assert profile.limits.privacy_levels == ("SELF_ONLY",)
    assert profile.limits.private_accounts_only is True
    assert profile.limits.max_posting_users_per_day == 5
    assert profile.notice is not None
    assert "At most 5 users may post a day." in profile.notice
    assert (profile.media_pull.transfer, profile.media_pull.photo_posts) == ("FILE_UPLOAD", False)


def test_an_audited_app_with_a_pull_domain():
    profile = app_profile(audited=True, pull_mode="cloudfront", pull_base_url="https://media.acme.example/v/")

    assert (profile.audit_mode, profile.limits, profile.notice) == ("audited", None, None)
    assert profile.media_pull.transfer == "PULL_FROM_URL"
    assert profile.media_pull.domain == "media.acme.example"
    assert profile.media_pull.photo_posts is True


def test_a_pull_mode_without_a_base_url_is_file_upload():
    assert app_profile(audited=True, pull_mode="s3", pull_base_url=None).media_pull.mode == "none"


def test_the_uploads_prefix_is_publishings_own_layout():
    assert upload_prefix("t1", "o1", "u1").startswith(account_uploads_prefix("t1", "o1"))


@pytest.mark.parametrize(("tenant", "open_id"), [("", "o"), ("t", ""), ("t/o", "x"), ("t", "a/b")])
def test_ids_that_would_widen_the_prefix_are_refused(tenant, open_id):
    with pytest.raises(ValueError, match="cannot name an uploads folder"):
        account_uploads_prefix(tenant, open_id)


def test_the_audit_event_carries_ids_and_counts_only():
    receipt = ErasureReceipt("t1", "o1", ErasureTrigger.API, "2026-03-01T00:00:00Z", True, True, False, 3, 2)

    detail = receipt.event_detail()

    check_safe(detail, "")  # nothing token-shaped leaves the system
    assert detail["deleted"] == {"account": True, "grant": True, "posts": 3, "uploads": 2}
    assert detail["trigger"] == "api"

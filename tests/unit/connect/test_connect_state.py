"""Signed OAuth state: genuine tokens verify once signed; anything altered, foreign or stale does not."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tiktok_publisher.connect.state import InvalidState, new_state_id, sign_state, verify_state

KEY = b"state-signing-key-for-tests"
NOW = 1_800_000_000


def _token(*, key: bytes = KEY, stage: str = "local", expires_at: int = NOW + 600) -> tuple[str, str]:
    state_id = new_state_id()
    return state_id, sign_state(state_id, expires_at, key=key, stage=stage).token


def _reason(token: str | None, **kw: object) -> str:
    with pytest.raises(InvalidState) as info:
        verify_state(token, key=kw.get("key", KEY), stage=kw.get("stage", "local"), now=kw.get("now", NOW))  # type: ignore[arg-type]
    return info.value.reason


def test_genuine_state_verifies_to_its_id():
    state_id, token = _token()
    assert verify_state(token, key=KEY, stage="local", now=NOW) == state_id


def test_state_id_is_random_and_at_least_128_bits():
    ids = {new_state_id() for _ in range(200)}
    assert len(ids) == 200
    for state_id in ids:
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", state_id)  # 32 base64url chars = 192 bits


def test_expired_state_is_refused_even_if_signed():
    _, token = _token(expires_at=NOW)
    assert _reason(token) == "expired"
    _, token = _token(expires_at=NOW + 600)
    assert _reason(token, now=NOW + 601) == "expired"


def test_state_signed_with_another_key_is_refused():
    _, token = _token(key=b"another-key")
    assert _reason(token) == "bad_signature"


def test_state_of_another_stage_is_refused_even_with_the_same_key():
    _, token = _token(stage="prod")
    assert _reason(token, stage="dev") == "bad_signature"


def test_extending_the_expiry_breaks_the_signature():
    state_id, token = _token(expires_at=NOW + 10)
    _, _, mac = token.split(".")
    assert _reason(f"{state_id}.{NOW + 10_000}.{mac}") == "bad_signature"


def test_swapping_the_state_id_breaks_the_signature():
    _, token = _token()
    _, expires, mac = token.split(".")
    assert _reason(f"{new_state_id()}.{expires}.{mac}") == "bad_signature"


@pytest.mark.parametrize(
    "token",
    [None, "", "abc", "a.b", "a.b.c.d", "x" * 500, "{id}.notanumber.{mac}", "{id}.{exp}.", "{id}..{mac}"],
)
def test_malformed_or_missing_state_is_refused(token: str | None):
    if token:
        state_id, real = _token()
        _, exp, mac = real.split(".")
        token = token.format(id=state_id, exp=exp, mac=mac)
    assert _reason(token) in {"missing", "malformed"}


@given(position=st.integers(min_value=0, max_value=200), char=st.sampled_from("AZaz09-_.x"))
def test_any_single_character_change_is_refused(position: int, char: str):
    _, token = _token()
    index = position % len(token)
    if token[index] == char:
        return
    tampered = token[:index] + char + token[index + 1 :]
    with pytest.raises(InvalidState):
        verify_state(tampered, key=KEY, stage="local", now=NOW)


def test_sign_refuses_an_empty_key_or_a_foreign_id():
    with pytest.raises(ValueError, match="empty"):
        sign_state(new_state_id(), NOW, key=b"", stage="local")
    with pytest.raises(ValueError, match="state_id"):
        sign_state("short", NOW, key=KEY, stage="local")


def test_invalid_state_message_is_the_same_whatever_the_reason():
    messages = set()
    for token in (None, "a.b.c", _token(key=b"other")[1], _token(expires_at=NOW)[1]):
        with pytest.raises(InvalidState) as info:
            verify_state(token, key=KEY, stage="local", now=NOW)
        messages.add(info.value.message)
        assert info.value.status_code == 400
    assert len(messages) == 1

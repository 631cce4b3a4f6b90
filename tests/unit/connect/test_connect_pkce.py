"""PKCE: verifier alphabet and length, TikTok's hex challenge, RFC 7636's base64url, and off."""

from __future__ import annotations

import hashlib
import re

import pytest

from tiktok_publisher.connect.pkce import code_challenge, new_pkce, new_verifier

RFC7636_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 Appendix B


def test_verifier_uses_only_unreserved_characters_and_a_valid_length():
    for _ in range(100):
        verifier = new_verifier()
        assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", verifier)
    assert len(new_verifier(43)) == 43
    assert len(new_verifier(128)) == 128


@pytest.mark.parametrize("length", [0, 42, 129])
def test_verifier_length_outside_rfc_bounds_is_refused(length: int):
    with pytest.raises(ValueError, match="43 to 128"):
        new_verifier(length)


def test_rfc7636_known_answer_for_base64url():
    assert code_challenge(RFC7636_VERIFIER, "base64url") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_hex_mode_is_the_hex_sha256_tiktok_desktop_expects():
    assert code_challenge(RFC7636_VERIFIER, "hex") == hashlib.sha256(RFC7636_VERIFIER.encode()).hexdigest()
    assert code_challenge(RFC7636_VERIFIER, "hex") == (
        "13d31e961a1ad8ec2f16b10c4c982e0876a878ad6df144566ee1894acb70f9c3"
    )


def test_there_is_no_off_mode():
    # Issue 12: PKCE is always on (TikTok refuses authorize requests without a challenge).
    with pytest.raises(ValueError, match="cannot be off"):
        new_pkce("off")  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["hex", "base64url"])
def test_new_pkce_pairs_a_fresh_verifier_with_its_challenge(mode: str):
    first, second = new_pkce(mode), new_pkce(mode)  # type: ignore[arg-type]
    assert first.verifier != second.verifier
    assert first.challenge == code_challenge(first.verifier, mode)  # type: ignore[arg-type]
    assert first.method == "S256"
    assert first.verifier not in repr(first)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="unknown PKCE mode"):
        code_challenge(RFC7636_VERIFIER, "plain")  # type: ignore[arg-type]

"""PKCE verifier and challenge (pure). TIKTOK-API.md §1.

PKCE is always on: TikTok refuses authorize requests without `code_challenge`, web clients included
(integrators' reports; the docs once said web clients may omit it). TikTok's flow expects the challenge as the
*hex* SHA-256 of the verifier, not RFC 7636's base64url; the form is configuration (PKCE_MODE) so the same
code can follow TikTok if it ever aligns with the RFC. There is no mode without a challenge.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from dataclasses import dataclass, field
from typing import Literal

PkceMode = Literal["hex", "base64url"]
PKCE_MODES: tuple[PkceMode, ...] = ("hex", "base64url")

# RFC 7636 §4.1: code_verifier = 43*128unreserved, unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
UNRESERVED = string.ascii_letters + string.digits + "-._~"
VERIFIER_LENGTH = 64  # 64 symbols from 66: ~387 bits of entropy
CHALLENGE_METHOD = "S256"


@dataclass(frozen=True)
class Pkce:
    """One authorization's PKCE pair: the verifier stays server-side, the challenge goes to TikTok."""

    verifier: str = field(repr=False)
    challenge: str
    method: str = CHALLENGE_METHOD


def new_verifier(length: int = VERIFIER_LENGTH) -> str:
    """A random code_verifier of `length` (43..128) unreserved characters."""
    if not 43 <= length <= 128:
        raise ValueError("a PKCE verifier is 43 to 128 characters (RFC 7636 §4.1)")
    return "".join(secrets.choice(UNRESERVED) for _ in range(length))


def code_challenge(verifier: str, mode: PkceMode) -> str:
    """The S256 challenge of `verifier` in TikTok's hex form or RFC 7636's base64url form."""
    digest = hashlib.sha256(verifier.encode("ascii"))
    if mode == "hex":
        return digest.hexdigest()
    if mode == "base64url":
        return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")
    raise ValueError(f"unknown PKCE mode {mode!r}: one of {', '.join(PKCE_MODES)} (PKCE cannot be off)")


def new_pkce(mode: PkceMode) -> Pkce:
    """A fresh verifier and its challenge for `mode`."""
    verifier = new_verifier()
    return Pkce(verifier=verifier, challenge=code_challenge(verifier, mode))

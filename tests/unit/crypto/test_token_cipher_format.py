"""TokenCipher blob format: known answers, tamper/truncation/version rejection, error hygiene.

KMS is replaced by a small behaving fake that always hands out one fixed data key (the KMS client is the
cipher's port), and the nonce by the ``_nonce_source`` seam, so the exact bytes are deterministic.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tiktok_publisher.adapters.kms_cipher import (
    KeyServiceError,
    TokenCipher,
    TokenCipherError,
    TokenDecryptError,
)
from tiktok_publisher.domain.errors import DomainError

DATA_KEY = bytes(range(32))
ENCRYPTED_DATA_KEY = b"kms-edk-fixed-0001"
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/kat"
NONCE = bytes(range(0x10, 0x1C))
CONTEXT = {"purpose": "tiktok-token", "app": "tiktok-publisher"}

# Computed once, outside TokenCipher, from the format in the crypto module docstring (see
# _independent_blob below, which recomputes them in-test). If these change, stored tokens break.
KAT_ACCESS_HEX = (
    "545001002a61726e3a6177733a6b6d733a75732d656173742d313a3131313132323232333333333a6b65792f6b6174"
    "00126b6d732d65646b2d66697865642d30303031101112131415161718191a1b"
    "1c9dec382cb15bdeba196d307b160236b91a8d0ef31eba90b9046693281d58ea28"
)
KAT_EMPTY_REFRESH_HEX = (
    "545001002a61726e3a6177733a6b6d733a75732d656173742d313a3131313132323232333333333a6b65792f6b6174"
    "00126b6d732d65646b2d66697865642d30303031101112131415161718191a1b"
    "75d3a732130dadf9fa370885521fa670"
)


def _client_error(code: str, op: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "nope"}}, op)


class FixedKeyKms:
    """Behaves like KMS for one data key: Decrypt checks blob, key id and encryption context."""

    def __init__(self, *, fail_with: str | None = None, plaintext: bytes = DATA_KEY) -> None:
        self.calls: Counter[str] = Counter()
        self.fail_with = fail_with
        self.plaintext = plaintext

    def generate_data_key(self, *, KeyId: str, KeySpec: str, EncryptionContext: dict[str, str]) -> Any:  # noqa: N803 (boto3 names)
        self.calls["GenerateDataKey"] += 1
        if self.fail_with:
            raise _client_error(self.fail_with, "GenerateDataKey")
        assert KeySpec == "AES_256"
        assert EncryptionContext == CONTEXT
        return {"Plaintext": self.plaintext, "CiphertextBlob": ENCRYPTED_DATA_KEY, "KeyId": KEY_ARN}

    def decrypt(self, *, CiphertextBlob: bytes, KeyId: str, EncryptionContext: dict[str, str]) -> Any:  # noqa: N803 (boto3 names)
        self.calls["Decrypt"] += 1
        if self.fail_with:
            raise _client_error(self.fail_with, "Decrypt")
        if CiphertextBlob != ENCRYPTED_DATA_KEY or EncryptionContext != CONTEXT or KeyId != KEY_ARN:
            raise _client_error("InvalidCiphertextException", "Decrypt")
        return {"Plaintext": self.plaintext, "KeyId": KEY_ARN}


def _fixed_nonce(size: int) -> bytes:
    assert size == 12
    return NONCE


def _cipher(kms: Any | None = None, **kwargs: Any) -> TokenCipher:
    return TokenCipher(kms or FixedKeyKms(), KEY_ARN, _nonce_source=_fixed_nonce, **kwargs)


def _u16(n: int) -> bytes:
    return n.to_bytes(2, "big")


def _independent_blob(plaintext: str, tenant_id: str, open_id: str, kind: str) -> bytes:
    """The documented v1 format, written out by hand (no code shared with the module)."""
    kid = KEY_ARN.encode()
    header = (
        b"TP" + b"\x01" + _u16(len(kid)) + kid + _u16(len(ENCRYPTED_DATA_KEY)) + ENCRYPTED_DATA_KEY + NONCE
    )
    binding = b"".join(len(v.encode()).to_bytes(4, "big") + v.encode() for v in (tenant_id, open_id, kind))
    return header + AESGCM(DATA_KEY).encrypt(NONCE, plaintext.encode(), header + binding)


def test_known_answer_access_token() -> None:
    # Given a fixed data key and nonce
    cipher = _cipher()
    # When an access token is sealed
    blob = cipher.encrypt("act.example-token", tenant_id="tenant-1", open_id="open-1", kind="access")
    # Then the bytes are exactly the documented format
    assert blob.hex() == KAT_ACCESS_HEX
    assert blob == _independent_blob("act.example-token", "tenant-1", "open-1", "access")
    assert cipher.decrypt(blob, tenant_id="tenant-1", open_id="open-1", kind="access") == "act.example-token"


def test_known_answer_empty_refresh_token() -> None:
    blob = _cipher().encrypt("", tenant_id="tenant-1", open_id="open-1", kind="refresh")
    assert blob.hex() == KAT_EMPTY_REFRESH_HEX
    assert blob == _independent_blob("", "tenant-1", "open-1", "refresh")


def test_blob_layout_fields() -> None:
    blob = _cipher().encrypt("x", tenant_id="t", open_id="o", kind="access")
    kid_len = int.from_bytes(blob[3:5], "big")
    assert blob[:3] == b"TP\x01"
    assert blob[5 : 5 + kid_len].decode() == KEY_ARN
    edk_len = int.from_bytes(blob[5 + kid_len : 7 + kid_len], "big")
    assert blob[7 + kid_len : 7 + kid_len + edk_len] == ENCRYPTED_DATA_KEY
    assert blob[7 + kid_len + edk_len : 19 + kid_len + edk_len] == NONCE
    assert len(blob) == 19 + kid_len + edk_len + 1 + 16  # one plaintext byte + GCM tag


def test_binding_is_unambiguous() -> None:
    # Given a token for tenant "a|b", account "c"
    cipher = _cipher()
    blob = cipher.encrypt("tok", tenant_id="a|b", open_id="c", kind="access")
    # When read as tenant "a", account "b|c" (same concatenation), Then it fails
    with pytest.raises(TokenDecryptError) as info:
        cipher.decrypt(blob, tenant_id="a", open_id="b|c", kind="access")
    assert info.value.reason == "authentication_failed"
    assert info.value.retryable is False


@pytest.mark.parametrize(
    ("tenant_id", "open_id", "kind"),
    [("tenant-2", "open-1", "access"), ("tenant-1", "open-2", "access"), ("tenant-1", "open-1", "refresh")],
)
def test_moved_ciphertext_fails(tenant_id: str, open_id: str, kind: Any) -> None:
    cipher = _cipher()
    blob = cipher.encrypt("tok", tenant_id="tenant-1", open_id="open-1", kind="access")
    with pytest.raises(TokenDecryptError):
        cipher.decrypt(blob, tenant_id=tenant_id, open_id=open_id, kind=kind)


def test_every_single_bit_flip_fails() -> None:
    # Given a valid blob and a fresh container that must go through KMS for unknown data keys
    blob = _cipher().encrypt("act.tok", tenant_id="t", open_id="o", kind="access")
    reader = _cipher()
    assert reader.decrypt(blob, tenant_id="t", open_id="o", kind="access") == "act.tok"
    # When any one bit anywhere is flipped, Then decryption fails with the typed error
    for i in range(len(blob) * 8):
        tampered = bytearray(blob)
        tampered[i // 8] ^= 1 << (i % 8)
        with pytest.raises(TokenDecryptError):
            reader.decrypt(bytes(tampered), tenant_id="t", open_id="o", kind="access")


def test_every_truncation_fails() -> None:
    blob = _cipher().encrypt("act.tok", tenant_id="t", open_id="o", kind="access")
    reader = _cipher()
    for n in range(len(blob)):
        with pytest.raises(TokenDecryptError):
            reader.decrypt(blob[:n], tenant_id="t", open_id="o", kind="access")


def test_appended_bytes_fail() -> None:
    cipher = _cipher()
    blob = cipher.encrypt("act.tok", tenant_id="t", open_id="o", kind="access")
    with pytest.raises(TokenDecryptError):
        cipher.decrypt(blob + b"\x00", tenant_id="t", open_id="o", kind="access")


@pytest.mark.parametrize("version", [0, 2, 0xFF])
def test_unknown_version_fails(version: int) -> None:
    cipher = _cipher()
    blob = bytearray(cipher.encrypt("tok", tenant_id="t", open_id="o", kind="access"))
    blob[2] = version
    with pytest.raises(TokenDecryptError) as info:
        cipher.decrypt(bytes(blob), tenant_id="t", open_id="o", kind="access")
    assert info.value.reason == "unsupported_version"


@pytest.mark.parametrize("garbage", [b"", b"TP", b"plain-token-stored-by-mistake", b"\x01" * 80])
def test_not_a_blob_fails(garbage: bytes) -> None:
    with pytest.raises(TokenDecryptError) as info:
        _cipher().decrypt(garbage, tenant_id="t", open_id="o", kind="access")
    assert info.value.reason == "malformed"


def test_non_bytes_blob_fails() -> None:
    with pytest.raises(TokenDecryptError):
        _cipher().decrypt("TP\x01", tenant_id="t", open_id="o", kind="access")  # type: ignore[arg-type]


def test_decrypt_error_is_a_project_error_and_leaks_nothing() -> None:
    cipher = _cipher()
    secret = "act.super-secret-token-value"
    blob = cipher.encrypt(secret, tenant_id="t", open_id="o", kind="access")
    with pytest.raises(TokenDecryptError) as info:
        cipher.decrypt(blob, tenant_id="t", open_id="o", kind="refresh")
    err = info.value
    assert isinstance(err, TokenCipherError)
    assert isinstance(err, DomainError)
    rendered = f"{err!s} {err!r} {err.details} {err.__cause__!r} {err.__context__!r}"
    assert secret not in rendered
    assert DATA_KEY.hex() not in rendered
    assert repr(DATA_KEY) not in rendered


def test_repr_hides_key_material() -> None:
    cipher = _cipher()
    cipher.encrypt("tok", tenant_id="t", open_id="o", kind="access")
    text = repr(cipher)
    assert "TokenCipher" in text
    assert DATA_KEY.hex() not in text
    assert repr(DATA_KEY) not in text
    for obj in vars(cipher).values():  # nothing reachable by a debugger's repr shows the key either
        assert DATA_KEY.hex() not in repr(obj)
        assert repr(DATA_KEY) not in repr(obj)


def test_kms_refusal_on_decrypt_is_typed_and_not_retryable() -> None:
    blob = _cipher().encrypt("tok", tenant_id="t", open_id="o", kind="access")
    with pytest.raises(TokenDecryptError) as info:
        _cipher(FixedKeyKms(fail_with="AccessDeniedException")).decrypt(
            blob, tenant_id="t", open_id="o", kind="access"
        )
    assert info.value.reason == "AccessDeniedException"
    assert info.value.retryable is False
    assert isinstance(info.value.__cause__, ClientError)


def test_kms_throttling_on_decrypt_is_retryable() -> None:
    blob = _cipher().encrypt("tok", tenant_id="t", open_id="o", kind="access")
    with pytest.raises(TokenDecryptError) as info:
        _cipher(FixedKeyKms(fail_with="ThrottlingException")).decrypt(
            blob, tenant_id="t", open_id="o", kind="access"
        )
    assert info.value.retryable is True


def test_kms_failure_on_encrypt_is_typed() -> None:
    with pytest.raises(KeyServiceError) as info:
        _cipher(FixedKeyKms(fail_with="NotFoundException")).encrypt(
            "tok", tenant_id="t", open_id="o", kind="access"
        )
    assert info.value.reason == "NotFoundException"
    assert not isinstance(info.value, TokenDecryptError)


def test_kms_unreachable_is_typed_and_retryable() -> None:
    class Unreachable(FixedKeyKms):
        def generate_data_key(self, **_: Any) -> Any:
            raise EndpointConnectionError(endpoint_url="https://kms.invalid")

    with pytest.raises(KeyServiceError) as info:
        _cipher(Unreachable()).encrypt("tok", tenant_id="t", open_id="o", kind="access")
    assert info.value.retryable is True


def test_short_data_key_from_kms_is_rejected() -> None:
    with pytest.raises(KeyServiceError):
        _cipher(FixedKeyKms(plaintext=b"\x00" * 16)).encrypt("tok", tenant_id="t", open_id="o", kind="access")


@pytest.mark.parametrize(
    ("tenant_id", "open_id", "kind"),
    [("", "o", "access"), ("t", "", "access"), ("t", "o", "id_token"), ("t", "o", "")],
)
def test_invalid_binding_is_a_programming_error(tenant_id: str, open_id: str, kind: Any) -> None:
    with pytest.raises(ValueError, match="must"):
        _cipher().encrypt("tok", tenant_id=tenant_id, open_id=open_id, kind=kind)


@pytest.mark.parametrize(
    "kwargs",
    [{"max_key_uses": 0}, {"max_key_uses": 2**32 + 1}, {"max_key_age_s": 0}, {"max_cached_keys": 0}],
)
def test_invalid_limits_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must"):
        _cipher(**kwargs)


def test_bad_nonce_source_is_rejected() -> None:
    cipher = TokenCipher(FixedKeyKms(), KEY_ARN, _nonce_source=lambda n: b"\x00" * 8)
    with pytest.raises(ValueError, match="nonce"):
        cipher.encrypt("tok", tenant_id="t", open_id="o", kind="access")


def test_fresh_random_nonce_per_value_by_default() -> None:
    cipher = TokenCipher(FixedKeyKms(), KEY_ARN)
    blobs = {cipher.encrypt("same", tenant_id="t", open_id="o", kind="access") for _ in range(50)}
    assert len(blobs) == 50

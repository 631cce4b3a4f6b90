"""TokenCipher: KMS envelope encryption of OAuth tokens with AES-256-GCM.

Each value is sealed with a 256-bit data key from KMS ``GenerateDataKey`` under a FIXED encryption
context, so one data key serves many tokens and KMS is called rarely. A warm container reuses one data
key for encryption until it is ``max_key_age_s`` old or has sealed ``max_key_uses`` values; plaintext
data keys seen while decrypting are kept in a bounded LRU (same age bound) keyed by the encrypted data
key, so a batch of values made with one data key costs one KMS ``Decrypt``.

Blob format, version 1 (all integers unsigned big-endian)::

    offset          size    field
    0               2       magic b"TP"
    2               1       version, 0x01
    3               2       K = length of the key id
    5               K       key id (UTF-8; the KMS key ARN that GenerateDataKey reported)
    5+K             2       E = length of the encrypted data key
    7+K             E       encrypted data key (KMS CiphertextBlob)
    7+K+E           12      nonce (96 random bits, fresh for every value)
    19+K+E          n+16    AES-256-GCM ciphertext of the UTF-8 token (n bytes) followed by the 16-byte tag

The GCM associated data is ``header || binding`` where ``header`` is bytes ``[0, 19+K+E)`` of the blob
(magic through nonce) and ``binding`` is, for each of tenant_id, open_id, kind in that order, a 4-byte
length followed by the UTF-8 bytes. Length prefixes make the binding unambiguous (("a|b", "c") and
("a", "b|c") differ), so a ciphertext copied to another account, tenant or field fails to decrypt, and
no header byte (key id, encrypted key) can be swapped.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tiktok_publisher.domain.errors import DomainError

__all__ = [
    "DEFAULT_ENCRYPTION_CONTEXT",
    "KeyServiceError",
    "TokenCipher",
    "TokenCipherError",
    "TokenDecryptError",
    "TokenKind",
]

# "webhook_secret": a webhook endpoint's signing secret (open_id is then the endpoint id).
TokenKind = Literal["access", "refresh", "webhook_secret"]

MAGIC: Final = b"TP"
VERSION_1: Final = 1
NONCE_SIZE: Final = 12
TAG_SIZE: Final = 16
DATA_KEY_SIZE: Final = 32
# Not per token: a per-token context would force one GenerateDataKey per value and defeat the cache.
DEFAULT_ENCRYPTION_CONTEXT: Final[Mapping[str, str]] = {"purpose": "tiktok-token", "app": "tiktok-publisher"}

_KINDS: Final = frozenset({"access", "refresh", "webhook_secret"})
_U16_MAX: Final = 0xFFFF
# Random 96-bit nonces stay safe (collision odds < 2^-32) for up to 2^32 values per key (NIST SP 800-38D).
_MAX_USES_LIMIT: Final = 2**32
# KMS error codes that say "try again later" rather than "this ciphertext/key is not usable".
_RETRYABLE_KMS_CODES: Final = frozenset(
    {
        "ThrottlingException",
        "KMSInternalException",
        "DependencyTimeoutException",
        "KeyUnavailableException",
        "LimitExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalFailure",
    }
)


class TokenCipherError(DomainError):
    """Base of token encryption failures. Messages never carry tokens or key material.

    ``reason`` is a short machine code; ``retryable`` is True when KMS was unavailable or throttling,
    False when the value or the configuration itself is unusable.
    """

    status_code = 500
    code = "token_cipher_error"

    def __init__(self, message: str, *, reason: str, retryable: bool = False) -> None:
        super().__init__(message, details={"reason": reason, "retryable": retryable})
        self.reason = reason
        self.retryable = retryable


class TokenDecryptError(TokenCipherError):
    """A stored token could not be decrypted: malformed, tampered, moved to another row/field,
    sealed under another KMS key, or KMS refused/was unavailable (see ``retryable``)."""

    code = "token_decrypt_failed"


class KeyServiceError(TokenCipherError):
    """KMS failed while creating a data key for encryption."""

    status_code = 502
    code = "key_service_error"


@dataclass(slots=True, repr=False, eq=False)
class _DataKey:
    """A plaintext data key in memory; repr/eq disabled so key bytes never reach logs or tracebacks."""

    aead: AESGCM
    encrypted_key: bytes
    key_id: str
    created_at: float
    uses: int = field(default=0)

    def __repr__(self) -> str:
        return f"_DataKey(key_id={self.key_id!r}, uses={self.uses})"


class TokenCipher:
    """Seals and opens OAuth tokens bound to (tenant_id, open_id, kind). Thread-safe.

    ``kms_client`` is a boto3 KMS client (or anything with the same ``generate_data_key``/``decrypt``).
    ``_nonce_source`` exists only so known-answer tests can pin the nonce; never pass it in production.
    """

    def __init__(
        self,
        kms_client: Any,
        key_id: str,
        *,
        encryption_context: Mapping[str, str] | None = None,
        max_key_age_s: float = 300,
        max_key_uses: int = 10_000,
        max_cached_keys: int = 64,
        clock: Callable[[], float] = time.monotonic,
        _nonce_source: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if not key_id:
            raise ValueError("key_id is required")
        if max_key_age_s <= 0:
            raise ValueError("max_key_age_s must be positive")
        if not 1 <= max_key_uses <= _MAX_USES_LIMIT:
            raise ValueError(f"max_key_uses must be between 1 and {_MAX_USES_LIMIT}")
        if max_cached_keys < 1:
            raise ValueError("max_cached_keys must be at least 1")
        context = dict(DEFAULT_ENCRYPTION_CONTEXT if encryption_context is None else encryption_context)
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in context.items()):
            raise ValueError("encryption_context must map str to str")
        self._kms = kms_client
        self._key_id = key_id
        self._context = context
        self._max_age = float(max_key_age_s)
        self._max_uses = max_key_uses
        self._max_cached = max_cached_keys
        self._clock = clock
        self._nonce_source = _nonce_source
        # Separate locks: a rotation in progress must not stall decryption, and vice versa. KMS calls
        # happen under the lock on purpose: concurrent cold requests then share one data key instead
        # of each calling KMS.
        self._encrypt_lock = threading.Lock()
        self._decrypt_lock = threading.Lock()
        self._current: _DataKey | None = None
        self._decrypt_cache: OrderedDict[bytes, _DataKey] = OrderedDict()

    def __repr__(self) -> str:
        return f"TokenCipher(key_id={self._key_id!r}, cached_keys={len(self._decrypt_cache)})"

    # -- public API -------------------------------------------------------------------------------

    def encrypt(self, plaintext: str, *, tenant_id: str, open_id: str, kind: TokenKind) -> bytes:
        """Seal ``plaintext`` for this tenant, account and token kind; returns a version-1 blob."""
        if not isinstance(plaintext, str):
            raise TypeError("plaintext must be str")
        binding = _binding(tenant_id, open_id, kind)
        data_key = self._data_key_for_encryption()
        nonce = self._nonce_source(NONCE_SIZE)
        if len(nonce) != NONCE_SIZE:
            raise ValueError("nonce source returned the wrong length")
        header = _header(data_key.key_id, data_key.encrypted_key, nonce)
        sealed = data_key.aead.encrypt(nonce, plaintext.encode("utf-8"), header + binding)
        return header + sealed

    def decrypt(self, blob: bytes, *, tenant_id: str, open_id: str, kind: TokenKind) -> str:
        """Open a blob made by ``encrypt`` with the same tenant_id, open_id and kind.

        Raises TokenDecryptError on any failure; never returns unauthenticated bytes.
        """
        binding = _binding(tenant_id, open_id, kind)
        header, encrypted_key, nonce, sealed = _parse(blob)
        data_key = self._data_key_for_decryption(encrypted_key)
        try:
            plaintext = data_key.aead.decrypt(nonce, sealed, header + binding)
        except InvalidTag:
            # from None: nothing in the cause helps, and the message stays generic on purpose.
            raise TokenDecryptError(
                "token failed authentication (tampered, or bound to another account or field)",
                reason="authentication_failed",
            ) from None
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:  # authenticated but not ours to interpret; never hand back bytes
            raise TokenDecryptError("token is not valid UTF-8", reason="malformed") from None

    # -- data keys --------------------------------------------------------------------------------

    def _data_key_for_encryption(self) -> _DataKey:
        with self._encrypt_lock:
            current = self._current
            now = self._clock()
            if current is None or current.uses >= self._max_uses or now - current.created_at >= self._max_age:
                current = self._generate_data_key(now)
                self._current = current
                # Values we seal now are often read back in the same container: skip KMS for them.
                with self._decrypt_lock:  # lock order is always encrypt -> decrypt
                    self._remember_locked(current)
            current.uses += 1
            return current

    def _generate_data_key(self, now: float) -> _DataKey:
        try:
            response = self._kms.generate_data_key(
                KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=self._context
            )
        except ClientError as exc:
            code = _error_code(exc)
            raise KeyServiceError(
                f"KMS GenerateDataKey failed ({code})", reason=code, retryable=code in _RETRYABLE_KMS_CODES
            ) from exc
        except BotoCoreError as exc:
            raise KeyServiceError(
                "KMS GenerateDataKey unreachable", reason="kms_unreachable", retryable=True
            ) from exc
        plain = response.get("Plaintext", b"")
        encrypted = response.get("CiphertextBlob", b"")
        key_id = response.get("KeyId") or self._key_id
        if len(plain) != DATA_KEY_SIZE or not encrypted:
            raise KeyServiceError("KMS returned an unusable data key", reason="bad_data_key")
        if len(encrypted) > _U16_MAX or len(key_id.encode("utf-8")) > _U16_MAX:
            raise KeyServiceError("KMS key id or data key too long for the blob format", reason="too_long")
        return _DataKey(aead=AESGCM(plain), encrypted_key=encrypted, key_id=key_id, created_at=now)

    def _data_key_for_decryption(self, encrypted_key: bytes) -> _DataKey:
        with self._decrypt_lock:
            now = self._clock()
            cached = self._decrypt_cache.get(encrypted_key)
            if cached is not None and now - cached.created_at < self._max_age:
                self._decrypt_cache.move_to_end(encrypted_key)
                return cached
            data_key = self._kms_decrypt(encrypted_key, now)
            self._remember_locked(data_key)
            return data_key

    def _kms_decrypt(self, encrypted_key: bytes, now: float) -> _DataKey:
        try:
            # KeyId pins the configured key: a data key sealed under any other KMS key is refused.
            response = self._kms.decrypt(
                CiphertextBlob=encrypted_key, KeyId=self._key_id, EncryptionContext=self._context
            )
        except ClientError as exc:
            code = _error_code(exc)
            raise TokenDecryptError(
                f"KMS refused to decrypt the data key ({code})",
                reason=code,
                retryable=code in _RETRYABLE_KMS_CODES,
            ) from exc
        except BotoCoreError as exc:
            raise TokenDecryptError(
                "KMS Decrypt unreachable", reason="kms_unreachable", retryable=True
            ) from exc
        plain = response.get("Plaintext", b"")
        if len(plain) != DATA_KEY_SIZE:
            raise TokenDecryptError("KMS returned an unusable data key", reason="bad_data_key")
        key_id = response.get("KeyId") or self._key_id
        return _DataKey(aead=AESGCM(plain), encrypted_key=encrypted_key, key_id=key_id, created_at=now)

    def _remember_locked(self, data_key: _DataKey) -> None:
        """Insert into the decrypt LRU; caller holds ``_decrypt_lock``."""
        self._decrypt_cache[data_key.encrypted_key] = data_key
        self._decrypt_cache.move_to_end(data_key.encrypted_key)
        while len(self._decrypt_cache) > self._max_cached:
            self._decrypt_cache.popitem(last=False)


# -- format helpers (pure) ------------------------------------------------------------------------


def _binding(tenant_id: str, open_id: str, kind: str) -> bytes:
    if kind not in _KINDS:
        raise ValueError("kind must be 'access', 'refresh' or 'webhook_secret'")
    parts = []
    for name, value in (("tenant_id", tenant_id), ("open_id", open_id), ("kind", kind)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty str")
        raw = value.encode("utf-8")
        parts.append(struct.pack(">I", len(raw)) + raw)
    return b"".join(parts)


def _header(key_id: str, encrypted_key: bytes, nonce: bytes) -> bytes:
    raw_key_id = key_id.encode("utf-8")
    return b"".join(
        (
            MAGIC,
            bytes((VERSION_1,)),
            struct.pack(">H", len(raw_key_id)),
            raw_key_id,
            struct.pack(">H", len(encrypted_key)),
            encrypted_key,
            nonce,
        )
    )


def _parse(blob: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """Split a blob into (header, encrypted data key, nonce, ciphertext+tag) or raise TokenDecryptError."""
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise TokenDecryptError("token blob must be bytes", reason="malformed")
    data = bytes(blob)
    if len(data) < 3 or data[:2] != MAGIC:
        raise TokenDecryptError("not a token blob", reason="malformed")
    if data[2] != VERSION_1:
        raise TokenDecryptError("unsupported token blob version", reason="unsupported_version")
    pos = 3
    if len(data) < pos + 2:
        raise TokenDecryptError("token blob truncated", reason="malformed")
    (key_id_len,) = struct.unpack_from(">H", data, pos)
    pos += 2 + key_id_len
    if key_id_len == 0 or len(data) < pos + 2:
        raise TokenDecryptError("token blob truncated", reason="malformed")
    (edk_len,) = struct.unpack_from(">H", data, pos)
    pos += 2
    encrypted_key = data[pos : pos + edk_len]
    pos += edk_len
    if edk_len == 0 or len(data) < pos + NONCE_SIZE + TAG_SIZE:
        raise TokenDecryptError("token blob truncated", reason="malformed")
    nonce = data[pos : pos + NONCE_SIZE]
    pos += NONCE_SIZE
    return data[:pos], encrypted_key, nonce, data[pos:]


def _error_code(exc: ClientError) -> str:
    code = exc.response.get("Error", {}).get("Code")
    return str(code) if code else "Unknown"

"""TokenCipher against KMS (moto in-process): round trips, binding, data-key caching and rotation, threads."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tiktok_publisher.adapters.kms_cipher import KeyServiceError, TokenCipher, TokenDecryptError

REGION = "us-east-1"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def kms(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # in-process moto, never a local server
    with mock_aws():
        yield boto3.client("kms", region_name=REGION)


@pytest.fixture
def key_id(kms: Any) -> str:
    return str(kms.create_key(Description="tiktok tokens")["KeyMetadata"]["KeyId"])


def _counting(client: Any) -> Counter[str]:
    """Count real KMS API calls through botocore's event hooks (the call still goes to moto)."""
    calls: Counter[str] = Counter()

    def _count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    client.meta.events.register("before-call.kms.*", _count)
    return calls


def _edk(blob: bytes) -> bytes:
    kid_len = int.from_bytes(blob[3:5], "big")
    edk_len = int.from_bytes(blob[5 + kid_len : 7 + kid_len], "big")
    return blob[7 + kid_len : 7 + kid_len + edk_len]


def _nonce(blob: bytes) -> bytes:
    kid_len = int.from_bytes(blob[3:5], "big")
    edk_len = int.from_bytes(blob[5 + kid_len : 7 + kid_len], "big")
    start = 7 + kid_len + edk_len
    return blob[start : start + 12]


TOKENS = {
    "ascii": "act.1!ab2c3d4e5f6g7h8i9j0kLmNoPqRsTuVwXyZ",
    "unicode": "tøkén-🎵-測試-\u200b-ünï",
    "empty": "",
    "long": "rft." + "x9Y_-" * 4000,
}


@pytest.mark.parametrize("kind", ["access", "refresh"])
@pytest.mark.parametrize("name", sorted(TOKENS))
def test_round_trip(kms: Any, key_id: str, kind: Any, name: str) -> None:
    # Given a cipher on a real (moto) KMS key
    writer = TokenCipher(kms, key_id)
    # When a token is sealed, Then a fresh container can open it, and the blob never shows the token
    blob = writer.encrypt(TOKENS[name], tenant_id="tenant-1", open_id="open-1", kind=kind)
    if TOKENS[name]:
        assert TOKENS[name].encode() not in blob
    reader = TokenCipher(kms, key_id)
    assert reader.decrypt(blob, tenant_id="tenant-1", open_id="open-1", kind=kind) == TOKENS[name]
    assert writer.decrypt(blob, tenant_id="tenant-1", open_id="open-1", kind=kind) == TOKENS[name]


def test_blob_records_key_arn(kms: Any, key_id: str) -> None:
    arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    blob = TokenCipher(kms, key_id).encrypt("tok", tenant_id="t", open_id="o", kind="access")
    kid_len = int.from_bytes(blob[3:5], "big")
    assert blob[:3] == b"TP\x01"
    assert blob[5 : 5 + kid_len].decode() == arn


@pytest.mark.parametrize(
    ("tenant_id", "open_id", "kind"),
    [
        ("tenant-2", "open-1", "access"),  # copied to another tenant's row
        ("tenant-1", "open-2", "access"),  # copied to another account
        ("tenant-1", "open-1", "refresh"),  # access token written into the refresh field
    ],
)
def test_moved_ciphertext_fails(kms: Any, key_id: str, tenant_id: str, open_id: str, kind: Any) -> None:
    cipher = TokenCipher(kms, key_id)
    blob = cipher.encrypt("act.tok", tenant_id="tenant-1", open_id="open-1", kind="access")
    with pytest.raises(TokenDecryptError) as info:
        TokenCipher(kms, key_id).decrypt(blob, tenant_id=tenant_id, open_id=open_id, kind=kind)
    assert info.value.reason == "authentication_failed"


def test_refresh_moved_to_access_fails(kms: Any, key_id: str) -> None:
    cipher = TokenCipher(kms, key_id)
    blob = cipher.encrypt("rft.tok", tenant_id="t", open_id="o", kind="refresh")
    with pytest.raises(TokenDecryptError):
        cipher.decrypt(blob, tenant_id="t", open_id="o", kind="access")


def test_every_single_bit_flip_fails_with_real_kms_blob(kms: Any, key_id: str) -> None:
    blob = TokenCipher(kms, key_id).encrypt("act.tok", tenant_id="t", open_id="o", kind="access")
    reader = TokenCipher(kms, key_id)
    for i in range(len(blob) * 8):
        tampered = bytearray(blob)
        tampered[i // 8] ^= 1 << (i % 8)
        with pytest.raises(TokenDecryptError):
            reader.decrypt(bytes(tampered), tenant_id="t", open_id="o", kind="access")
    assert reader.decrypt(blob, tenant_id="t", open_id="o", kind="access") == "act.tok"


def test_truncated_and_unknown_version_fail(kms: Any, key_id: str) -> None:
    cipher = TokenCipher(kms, key_id)
    blob = cipher.encrypt("act.tok", tenant_id="t", open_id="o", kind="access")
    for n in (0, 3, 10, len(blob) // 2, len(blob) - 17, len(blob) - 1):
        with pytest.raises(TokenDecryptError):
            cipher.decrypt(blob[:n], tenant_id="t", open_id="o", kind="access")
    with pytest.raises(TokenDecryptError) as info:
        cipher.decrypt(blob[:2] + b"\x02" + blob[3:], tenant_id="t", open_id="o", kind="access")
    assert info.value.reason == "unsupported_version"


def test_kms_calls_over_a_thousand_values(kms: Any, key_id: str) -> None:
    # Given one warm container
    calls = _counting(kms)
    writer = TokenCipher(kms, key_id)
    # When it seals 1,000 tokens
    blobs = [writer.encrypt(f"act.{i}", tenant_id="t", open_id=f"o{i}", kind="access") for i in range(1000)]
    # Then KMS GenerateDataKey ran once (budget: at most 2)
    assert calls["GenerateDataKey"] == 1
    assert len({_edk(b) for b in blobs}) == 1
    # And reading them back in the same container needs no KMS at all
    for i, blob in enumerate(blobs[:100]):
        assert writer.decrypt(blob, tenant_id="t", open_id=f"o{i}", kind="access") == f"act.{i}"
    assert calls["Decrypt"] == 0
    # And another (cold) container decrypts all 1,000 with one KMS Decrypt (budget: at most 2)
    reader = TokenCipher(kms, key_id)
    for i, blob in enumerate(blobs):
        assert reader.decrypt(blob, tenant_id="t", open_id=f"o{i}", kind="access") == f"act.{i}"
    assert calls["Decrypt"] == 1
    assert calls["GenerateDataKey"] == 1


def test_rotation_by_age(kms: Any, key_id: str) -> None:
    # Given a container whose clock we control
    calls = _counting(kms)
    clock = FakeClock()
    cipher = TokenCipher(kms, key_id, max_key_age_s=300, clock=clock)
    first = cipher.encrypt("a1", tenant_id="t", open_id="o", kind="access")
    clock.now += 299
    second = cipher.encrypt("a2", tenant_id="t", open_id="o", kind="access")
    assert calls["GenerateDataKey"] == 1
    assert _edk(first) == _edk(second)
    # When the data key becomes 300 s old
    clock.now += 1
    third = cipher.encrypt("a3", tenant_id="t", open_id="o", kind="access")
    # Then a new data key is made, and old blobs still decrypt in a cold container
    assert calls["GenerateDataKey"] == 2
    assert _edk(third) != _edk(first)
    reader = TokenCipher(kms, key_id)
    for blob, want in ((first, "a1"), (second, "a2"), (third, "a3")):
        assert reader.decrypt(blob, tenant_id="t", open_id="o", kind="access") == want


def test_decrypt_cache_entries_expire_by_age(kms: Any, key_id: str) -> None:
    blob = TokenCipher(kms, key_id).encrypt("a1", tenant_id="t", open_id="o", kind="access")
    calls = _counting(kms)
    clock = FakeClock()
    reader = TokenCipher(kms, key_id, max_key_age_s=300, clock=clock)
    reader.decrypt(blob, tenant_id="t", open_id="o", kind="access")
    clock.now += 299
    reader.decrypt(blob, tenant_id="t", open_id="o", kind="access")
    assert calls["Decrypt"] == 1
    clock.now += 1
    assert reader.decrypt(blob, tenant_id="t", open_id="o", kind="access") == "a1"
    assert calls["Decrypt"] == 2


def test_rotation_by_use_count(kms: Any, key_id: str) -> None:
    calls = _counting(kms)
    cipher = TokenCipher(kms, key_id, max_key_uses=3)
    blobs = [cipher.encrypt(f"r{i}", tenant_id="t", open_id="o", kind="refresh") for i in range(7)]
    # 7 values at 3 per key: keys for values 0-2, 3-5, 6
    assert calls["GenerateDataKey"] == 3
    edks = [_edk(b) for b in blobs]
    assert edks[0] == edks[1] == edks[2] != edks[3] == edks[4] == edks[5] != edks[6]
    assert len(set(edks)) == 3
    reader = TokenCipher(kms, key_id)
    assert [reader.decrypt(b, tenant_id="t", open_id="o", kind="refresh") for b in blobs] == [
        f"r{i}" for i in range(7)
    ]
    assert calls["Decrypt"] == 3


def test_decrypt_cache_is_bounded_lru(kms: Any, key_id: str) -> None:
    writer = TokenCipher(kms, key_id, max_key_uses=1)
    a, b, c = (writer.encrypt(v, tenant_id="t", open_id="o", kind="access") for v in "abc")
    calls = _counting(kms)
    reader = TokenCipher(kms, key_id, max_cached_keys=2)
    for blob in (a, b, a):  # a is most recent, b least
        reader.decrypt(blob, tenant_id="t", open_id="o", kind="access")
    assert calls["Decrypt"] == 2
    reader.decrypt(c, tenant_id="t", open_id="o", kind="access")  # evicts b
    reader.decrypt(a, tenant_id="t", open_id="o", kind="access")
    assert calls["Decrypt"] == 3
    reader.decrypt(b, tenant_id="t", open_id="o", kind="access")
    assert calls["Decrypt"] == 4


def test_concurrent_encrypt_from_eight_threads(kms: Any, key_id: str) -> None:
    # Given one cipher shared by 8 threads, a cold cache and a small use budget to force rotations
    calls = _counting(kms)
    cipher = TokenCipher(kms, key_id, max_key_uses=50)

    def work(worker: int) -> list[tuple[str, str, bytes]]:
        out = []
        for i in range(40):
            token, open_id = f"act.{worker}.{i}", f"open-{worker}"
            out.append((token, open_id, cipher.encrypt(token, tenant_id="t", open_id=open_id, kind="access")))
        return out

    # When they all encrypt at once
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [item for chunk in pool.map(work, range(8), timeout=120) for item in chunk]
    # Then every value decrypts, nonces never repeat, and no data key was used beyond its budget
    assert len(results) == 320
    reader = TokenCipher(kms, key_id)
    for token, open_id, blob in results:
        assert reader.decrypt(blob, tenant_id="t", open_id=open_id, kind="access") == token
    assert len({_nonce(blob) for _, _, blob in results}) == 320
    per_key = Counter(_edk(blob) for _, _, blob in results)
    assert max(per_key.values()) <= 50
    assert calls["GenerateDataKey"] == len(per_key) == 320 // 50 + 1


def test_concurrent_decrypt_from_eight_threads(kms: Any, key_id: str) -> None:
    blobs = [
        TokenCipher(kms, key_id).encrypt(f"t{i}", tenant_id="t", open_id="o", kind="access") for i in range(8)
    ]
    calls = _counting(kms)
    reader = TokenCipher(kms, key_id)

    def work(i: int) -> bool:
        return all(
            reader.decrypt(blobs[i], tenant_id="t", open_id="o", kind="access") == f"t{i}" for _ in range(30)
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(work, range(8), timeout=120))
    assert calls["Decrypt"] == 8  # one per data key (8 ciphers, 8 keys), never more


def test_cipher_on_another_kms_key_cannot_decrypt(kms: Any, key_id: str) -> None:
    # Given a blob sealed under key A
    blob = TokenCipher(kms, key_id).encrypt("act.tok", tenant_id="t", open_id="o", kind="access")
    other_key = kms.create_key(Description="someone else")["KeyMetadata"]["KeyId"]
    # When a cipher configured for key B reads it, Then KMS refuses and we get the typed error
    with pytest.raises(TokenDecryptError) as info:
        TokenCipher(kms, other_key).decrypt(blob, tenant_id="t", open_id="o", kind="access")
    assert info.value.retryable is False
    assert "act.tok" not in str(info.value)


def test_other_encryption_context_cannot_decrypt(kms: Any, key_id: str) -> None:
    blob = TokenCipher(kms, key_id).encrypt("act.tok", tenant_id="t", open_id="o", kind="access")
    reader = TokenCipher(kms, key_id, encryption_context={"purpose": "something-else"})
    with pytest.raises(TokenDecryptError) as info:
        reader.decrypt(blob, tenant_id="t", open_id="o", kind="access")
    assert info.value.reason == "InvalidCiphertextException"


def test_works_with_alias(kms: Any, key_id: str) -> None:
    kms.create_alias(AliasName="alias/tiktok-tokens", TargetKeyId=key_id)
    blob = TokenCipher(kms, "alias/tiktok-tokens").encrypt("tok", tenant_id="t", open_id="o", kind="access")
    assert (
        TokenCipher(kms, "alias/tiktok-tokens").decrypt(blob, tenant_id="t", open_id="o", kind="access")
        == "tok"
    )


def test_unknown_kms_key_on_encrypt_is_typed(kms: Any) -> None:
    cipher = TokenCipher(kms, "alias/does-not-exist")
    with pytest.raises(KeyServiceError) as info:
        cipher.encrypt("act.tok", tenant_id="t", open_id="o", kind="access")
    assert info.value.retryable is False
    assert "act.tok" not in str(info.value)

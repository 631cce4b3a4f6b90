"""TokenCipher throughput vs raw AES-GCM, against moto KMS in-process.

``run()`` returns encrypt+decrypt round trips per second for TokenCipher (warm data-key cache, plus a
cold reader that must call KMS Decrypt once) and for bare AESGCM on the same inputs, their ratio and
the number of KMS calls made. Run directly: ``.venv/bin/python bench/bench_crypto.py``.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import Any

import boto3
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from moto import mock_aws

from tiktok_publisher.adapters.kms_cipher import TokenCipher

ROUNDS = 2_000
TOKEN = "act." + "A1b2C3d4" * 9  # about the size of a TikTok access token


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else float("inf")


def _bench_raw() -> float:
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    aad = b"tenant-1" + b"open-1" + b"access"
    data = TOKEN.encode()
    start = time.perf_counter()
    for _ in range(ROUNDS):
        nonce = os.urandom(12)
        assert aead.decrypt(nonce, aead.encrypt(nonce, data, aad), aad) == data
    return _rate(ROUNDS, time.perf_counter() - start)


def _bench_cipher(kms: Any, key_id: str) -> tuple[float, float]:
    writer = TokenCipher(kms, key_id)
    writer.encrypt(TOKEN, tenant_id="tenant-1", open_id="warmup", kind="access")  # data key fetched here
    start = time.perf_counter()
    blobs = []
    for i in range(ROUNDS):
        blob = writer.encrypt(TOKEN, tenant_id="tenant-1", open_id=f"open-{i}", kind="access")
        assert writer.decrypt(blob, tenant_id="tenant-1", open_id=f"open-{i}", kind="access") == TOKEN
        blobs.append(blob)
    warm = _rate(ROUNDS, time.perf_counter() - start)
    # A cold container reading what the warm one wrote: one KMS Decrypt, then cached.
    reader = TokenCipher(kms, key_id)
    start = time.perf_counter()
    for i, blob in enumerate(blobs):
        assert reader.decrypt(blob, tenant_id="tenant-1", open_id=f"open-{i}", kind="access") == TOKEN
    cold_reader = _rate(ROUNDS, time.perf_counter() - start)
    return warm, cold_reader


def run() -> dict[str, Any]:
    """Measure TokenCipher vs raw AESGCM; returns a flat dict for the bench report."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    raw = _bench_raw()
    with mock_aws():
        kms = boto3.client("kms", region_name="us-east-1")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        calls: Counter[str] = Counter()
        kms.meta.events.register("before-call.kms.*", lambda model, **_: calls.update([model.name]))
        warm, cold_reader = _bench_cipher(kms, key_id)
    return {
        "name": "crypto",
        "rounds": ROUNDS,
        "raw_aesgcm_roundtrips_per_s": raw,
        "token_cipher_roundtrips_per_s": warm,
        "token_cipher_cold_reader_decrypts_per_s": cold_reader,
        "ratio_token_cipher_vs_raw": round(warm / raw, 3),
        "kms_generate_data_key_calls": calls["GenerateDataKey"],
        "kms_decrypt_calls": calls["Decrypt"],
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))

"""FILE_UPLOAD of big videos: the worker's peak memory and its throughput against a plain streamed copy.

Setup (all on loopback): moto's server in its own process holds the videos in S3; the TikTok emulator
receives the chunks; every measured transfer runs in a fresh child process so its memory is its own.

- **worker**: the publish worker's transfer path, unchanged: TikTokClient.init_video (FILE_UPLOAD with the
  ChunkPlan) then ChunkUploader streaming S3 byte ranges (S3Media.iter_range) into the chunk PUTs.
- **copy** (baseline, same run): the plainest streamed copy between the same two servers: one S3 GET of
  the whole object whose body is read piece by piece into the same chunk PUTs (raw boto3 + requests).

Peak memory is the child's peak RSS minus its RSS after imports and client set-up (the cold-start
baseline), for 256 MiB and 1 GiB side by side; the bound is 2 x chunk size whatever the file size.
Throughput is copy time / worker time (>= 0.8 means the worker costs at most 25 % more than a bare copy).
The videos are written sparsely to disk from tests/media.py's generator, never built in memory.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
SIZES = {"256 MiB": 256 * MiB, "1 GiB": 1024 * MiB}
BUCKET = "bench-media"
TARGET_RATIO = 0.8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_moto(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import requests

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("moto server did not start")


def _aws_env(moto_url: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "MEDIA_BUCKET": BUCKET,
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


def _put_video(s3: Any, tmp: Path, name: str, size: int) -> str:
    sys.path.insert(0, str(ROOT))
    from tests.media import mp4_file

    probe = mp4_file(duration_s=60.0, payload_size=size)
    video = mp4_file(duration_s=60.0, payload_size=size - (probe.size - size))
    path = tmp / f"{name}.mp4"
    video.write_to(path, sparse=True)
    from boto3.s3.transfer import TransferConfig

    key = f"uploads/bench/{name}.mp4"
    s3.upload_file(
        str(path), BUCKET, key, Config=TransferConfig(multipart_chunksize=64 * MiB, max_concurrency=2)
    )
    path.unlink()
    return key


def _child(mode: str, env: dict[str, str], key: str, size: int, token: str, api_base: str) -> dict[str, Any]:
    args = json.dumps({"mode": mode, "key": key, "size": size, "api_base": api_base})
    answer = subprocess.run(
        [sys.executable, "-m", "bench.bench_publish", args],
        cwd=ROOT,
        env={**os.environ, **env, "BENCH_TIKTOK_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if answer.returncode != 0:
        raise RuntimeError(f"{mode} child failed: {answer.stderr[-2000:]}")
    return dict(json.loads(answer.stdout.strip().splitlines()[-1]))


def run() -> dict[str, Any]:
    """Measure worker vs copy for each size; returns the figures (see module docstring)."""
    import boto3

    sys.path.insert(0, str(ROOT / "local"))
    from tiktok_emulator.testing import start_emulator
    from tiktok_publisher.domain.chunks import DEFAULT_CHUNK_SIZE

    port = _free_port()
    moto = _start_moto(port)
    emulator = start_emulator({"processing_delay": 0})
    results: dict[str, Any] = {"chunk_size": DEFAULT_CHUNK_SIZE, "memory_bound_bytes": 2 * DEFAULT_CHUNK_SIZE}
    try:
        env = _aws_env(f"http://127.0.0.1:{port}")
        s3 = boto3.client(
            "s3",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(Bucket=BUCKET)
        runs = []
        with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
            for label, size in SIZES.items():
                key = _put_video(s3, Path(tmp), label.replace(" ", ""), size)
                row: dict[str, Any] = {"size": label, "bytes": size}
                # Interleaved, and each twice: the machine's drift hits both sides alike.
                for round_no in range(2):
                    for mode in ("copy", "worker") if round_no == 0 else ("worker", "copy"):
                        token = emulator.issue_token("creator_private")["access_token"]
                        figures = _child(mode, env, key, size, token, emulator.base_url)
                        best = row.get(mode)
                        if best is None or figures["seconds"] < best["seconds"]:
                            row[mode] = {
                                **figures,
                                "peak_rss_delta": max(
                                    figures["peak_rss_delta"], (best or {}).get("peak_rss_delta", 0)
                                ),
                            }
                        emulator.reset()
                row["throughput_ratio"] = round(row["copy"]["seconds"] / row["worker"]["seconds"], 3)
                row["worker_mib_s"] = round(size / MiB / row["worker"]["seconds"], 1)
                row["copy_mib_s"] = round(size / MiB / row["copy"]["seconds"], 1)
                row["memory_ok"] = row["worker"]["peak_rss_delta"] < 2 * DEFAULT_CHUNK_SIZE
                s3.delete_object(Bucket=BUCKET, Key=key)
                runs.append(row)
        results["runs"] = runs
        results["throughput_ok"] = all(r["throughput_ratio"] >= TARGET_RATIO for r in runs)
        results["memory_ok"] = all(r["memory_ok"] for r in runs)
        return results
    finally:
        emulator.stop()
        moto.terminate()
        moto.wait(timeout=10)


def report(result: dict[str, Any]) -> None:
    """Print the side-by-side table."""
    bound = result["memory_bound_bytes"] / MiB
    print(
        f"chunk {result['chunk_size']:,} B; memory bound 2 x chunk = {bound:.1f} MiB over the cold-start RSS"
    )
    print(
        f"{'file':>8} | {'worker peak Δ':>13} | {'copy peak Δ':>11} | {'worker':>10} | {'copy':>10} | ratio"
    )
    for r in result["runs"]:
        print(
            f"{r['size']:>8} | {r['worker']['peak_rss_delta'] / MiB:>9.1f} MiB"
            f" | {r['copy']['peak_rss_delta'] / MiB:>7.1f} MiB"
            f" | {r['worker_mib_s']:>6} MiB/s | {r['copy_mib_s']:>6} MiB/s | {r['throughput_ratio']:.2f}"
            f" (target >= {TARGET_RATIO})"
        )
    print(f"memory within bound: {result['memory_ok']}; throughput target met: {result['throughput_ok']}")


# ---------------------------------------------------------------------------------------------- child


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def _reset_peak() -> int:
    """Current RSS (bytes), after resetting the kernel's high-water mark so the peak is measured from here."""
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux >= 4.0: reset VmHWM to the current RSS
        return _status_kib("VmRSS") * 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _peak() -> int:
    try:
        return _status_kib("VmHWM") * 1024
    except (OSError, RuntimeError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child_main(spec: dict[str, Any]) -> dict[str, Any]:
    import requests

    from tiktok_publisher.adapters.s3_media import S3Media
    from tiktok_publisher.adapters.tiktok_client import TikTokClient
    from tiktok_publisher.domain.chunks import plan_chunks
    from tiktok_publisher.publishing.transfer import ChunkUploader, ContinuousSource

    token = os.environ["BENCH_TIKTOK_TOKEN"]
    key, size = spec["key"], int(spec["size"])
    media = S3Media(BUCKET)
    client = TikTokClient(
        spec["api_base"],
        client_key="bench",
        client_secret="bench",
        upload_timeout=(3.05, 300),
        upload_origins=[spec["api_base"]],  # the emulator's uploads: local configuration
    )
    media.head(key)  # warm: the S3 client and its connection pool exist before the baseline is taken
    plan = plan_chunks(size)
    baseline = _reset_peak()
    started = time.perf_counter()
    if spec["mode"] == "worker":
        init = client.init_video(token, inbox=True, post_info=None, source_info=plan.source_info())
        assert init.upload_url
        source = ContinuousSource(media)  # exactly what PublishWorker._upload builds
        ChunkUploader(client, source).upload(init.upload_url, key, plan, content_type="video/mp4")
        source.close()
    else:
        answer = requests.post(
            spec["api_base"] + "/v2/post/publish/inbox/video/init/",
            json={"source_info": plan.source_info()},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ).json()
        upload_url = answer["data"]["upload_url"]
        body = media._s3.get_object(Bucket=BUCKET, Key=key)["Body"]
        http = requests.Session()
        for index in range(plan.total_chunk_count):
            first, last = plan.range_for(index)
            put = http.put(
                upload_url,
                data=_Exactly(body, last - first + 1),
                headers={"Content-Type": "video/mp4", "Content-Range": f"bytes {first}-{last}/{size}"},
                timeout=300,
            )
            assert put.status_code in (201, 206), put.text
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "peak_rss_delta": _peak() - baseline, "baseline_rss": baseline}


class _Exactly:
    """`length` bytes of a stream, in 1 MiB pieces, with a length requests can send as Content-Length."""

    def __init__(self, body: Any, length: int) -> None:
        self._body = body
        self._length = length

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Any:
        left = self._length
        while left > 0:
            piece = self._body.read(min(left, MiB))
            if not piece:
                raise ValueError("source ended early")
            left -= len(piece)
            yield piece


if __name__ == "__main__":
    print(json.dumps(_child_main(json.loads(sys.argv[1]))))

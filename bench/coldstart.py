"""Cold start and peak memory of every handler, as ratios to a boto3-only baseline process.

A cold start here is what Lambda pays in a fresh sandbox before the first event: interpreter start is
excluded (the same for everyone); measured is the import of the handler module plus its module-level init.
Each sample is a fresh process; baseline and handlers are interleaved round by round so drift in machine
load hits both sides alike, and the median of the rounds is reported.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("BENCH_COLDSTART_ROUNDS", "9"))

# The child measures itself: time.perf_counter() around the import + init, ru_maxrss at the end (KiB).
_CHILD = """
import resource, sys, time
start = time.perf_counter()
{body}
elapsed = time.perf_counter() - start
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

BASELINE = "import boto3\nboto3.client('dynamodb')"

# What the foundation issue budgets: the shared package and its clients, nothing a handler adds on top.
SHARED_ONLY = """
import tiktok_publisher
from tiktok_publisher.adapters import aws
from tiktok_publisher.config import get_settings
settings = get_settings()
aws.client('dynamodb'); aws.client('kms'); aws.client('sqs')
"""


def _handler_body(code_uri: str, handler: str) -> str:
    module, _, func = handler.rpartition(".")
    path = ROOT / code_uri
    return (
        f"import importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('{module}', {str(path / (module + '.py'))!r})\n"
        f"mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
        f"getattr(mod, {func!r})\n"
    )


class _CfnLoader(yaml.SafeLoader):
    """Reads template.yaml, keeping CloudFormation tags (!Ref, !Sub, ...) as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _any_tag)


def handlers() -> dict[str, str]:
    """Every function of template.yaml whose code exists: name -> child body that imports it."""
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)
    default_handler = template.get("Globals", {}).get("Function", {}).get("Handler", "app.lambda_handler")
    found = {}
    for name, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties", {})
        code_uri, handler = props.get("CodeUri"), props.get("Handler", default_handler)
        if isinstance(code_uri, str) and (ROOT / code_uri / (handler.rpartition(".")[0] + ".py")).exists():
            found[name] = _handler_body(code_uri, handler)
    return found


def _env() -> dict[str, str]:
    """Plausible deployed settings; nothing is reachable, so a network call at import would show as a hang."""
    names = {
        "STAGE": "dev",
        "ACCOUNTS_TABLE": "accounts",
        "POSTS_TABLE": "posts",
        "OAUTH_SESSIONS_TABLE": "oauth-sessions",
        "IDEMPOTENCY_TABLE": "idempotency",
        "TOKEN_KEY_ID": "alias/tiktok-publisher",
        "MEDIA_BUCKET": "media",
        "PUBLISH_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/publish",
        "EVENT_BUS_NAME": "tiktok-publisher",
        "APP_SECRET_ID": "tiktok-publisher/app",
        "OAUTH_REDIRECT_URI": "https://api.example.com/v1/oauth/tiktok/callback",
        "RETURN_TO_ALLOWED_ORIGINS": "https://app.example.com",
        "POWERTOOLS_SERVICE_NAME": "tiktok-publisher",
        "POWERTOOLS_METRICS_NAMESPACE": "TikTokPublisher",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "PATH": os.environ.get("PATH", ""),
    }
    return names


def _sample(body: str) -> tuple[float, int]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD.format(body=body)],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"cold-start child failed:\n{out.stderr[-2000:]}")
    seconds, rss_kib = out.stdout.split()[-2:]
    return float(seconds), int(rss_kib)


def run() -> dict[str, object]:
    subjects = {
        "baseline (boto3 + 1 client)": BASELINE,
        "shared package + clients": SHARED_ONLY,
        **handlers(),
    }
    samples: dict[str, list[tuple[float, int]]] = {name: [] for name in subjects}
    for _ in range(ROUNDS):
        for name, body in subjects.items():
            samples[name].append(_sample(body))
    base_t = statistics.median(s[0] for s in samples["baseline (boto3 + 1 client)"])
    base_m = statistics.median(s[1] for s in samples["baseline (boto3 + 1 client)"])
    rows = {}
    for name, values in samples.items():
        t = statistics.median(s[0] for s in values)
        m = statistics.median(s[1] for s in values)
        rows[name] = {
            "cold_start_ms": round(t * 1000, 1),
            "cold_start_ratio": round(t / base_t, 2),
            "peak_rss_mib": round(m / 1024, 1),
            "peak_rss_ratio": round(m / base_m, 2),
        }
    return {"rounds": ROUNDS, "python": sys.version.split()[0], "rows": rows}


def report(result: dict[str, object]) -> None:
    rows = result["rows"]
    assert isinstance(rows, dict)
    print(f"median of {result['rounds']} fresh processes each, Python {result['python']}")
    print(f"{'subject':34} {'cold start':>11} {'x base':>7} {'peak RSS':>10} {'x base':>7}")
    for name, row in rows.items():
        print(
            f"{name:34} {row['cold_start_ms']:>9.1f}ms {row['cold_start_ratio']:>7.2f}"
            f" {row['peak_rss_mib']:>8.1f}Mi {row['peak_rss_ratio']:>7.2f}"
        )


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))

"""`python -m bench [name ...]`: run the benchmarks and print their tables.

Every figure is a ratio against a baseline measured in the same invocation, because these machines are
noisy: absolute milliseconds from two runs are not comparable, ratios from one run are.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

SUITES = {
    "coldstart": "bench.coldstart",
    "crypto": "bench.bench_crypto",
    "publish": "bench.bench_publish",
    "pacing": "bench.bench_pacing",
    "refresh": "bench.bench_refresh",
    "refresh_policy": "bench.bench_refresh_policy",
    "metrics": "bench.bench_metrics",
}
RESULTS = Path(__file__).parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("suites", nargs="*", default=list(SUITES), help=f"any of {', '.join(SUITES)}")
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    for name in args.suites:
        module = importlib.import_module(SUITES[name])
        print(f"\n== {name} ==", flush=True)
        started = time.perf_counter()
        result = module.run()
        if hasattr(module, "report"):
            module.report(result)
        else:
            print(json.dumps(result, indent=2))
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2))
        print(f"({name}: {time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

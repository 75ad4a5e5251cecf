"""Time the analytical engine: build + analyse every zoo network in-process, and the whole
`archcalc table NAME` process for a few. Prints a markdown table; --json PATH writes the results.

    python benchmarks/bench_engine.py [--repeat 7] [--json reports/benchmarks.json]

Timing: time.perf_counter, a warm-up run, then the median and best of --repeat runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time

from archcalc.analysis import summarize
from archcalc.fileio import write_atomic
from archcalc.spec import build, zoo

PROCESS_NETS = ("vgg16", "resnet152", "densenet201", "inception_v3", "nasnet_a_large")


def timed(fn, repeat: int) -> tuple[float, float]:
    fn()  # warm-up: parse caches, imports
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), min(runs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args()

    nets = zoo()
    engine = []
    for name in sorted(nets):
        net = nets[name]
        median, best = timed(lambda: summarize(build(net)), args.repeat)
        engine.append({"network": name, "layers": len(build(net).nodes), "median_ms": median * 1e3, "best_ms": best * 1e3})

    process = []
    for name in PROCESS_NETS:
        if name not in nets:
            continue
        cmd = [sys.executable, "-m", "archcalc", "table", name]
        median, best = timed(lambda: subprocess.run(cmd, check=True, capture_output=True), max(3, args.repeat // 2))
        process.append({"command": f"archcalc table {name}", "median_s": median, "best_s": best})
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import archcalc"], check=True)
    import_s = time.perf_counter() - t0

    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}\n")
    print("| network | layers | analyse, median ms | best ms |\n|---|---:|---:|---:|")
    for r in sorted(engine, key=lambda r: -r["layers"]):
        print(f"| {r['network']} | {r['layers']} | {r['median_ms']:.2f} | {r['best_ms']:.2f} |")
    print("\n| whole process | median s | best s |\n|---|---:|---:|")
    for r in process:
        print(f"| `{r['command']}` | {r['median_s']:.3f} | {r['best_s']:.3f} |")
    print(f"| `python -c 'import archcalc'` | {import_s:.3f} | |")
    if args.json:
        write_atomic(args.json, json.dumps({"engine": engine, "process": process, "import_s": import_s}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Time the analytical engine: build + analyse every zoo network in-process, the per-row cost
on generated specs of 10^2..10^5 layers, the whole `archcalc table NAME` process for a few, and
fvcore's FlopCountAnalysis on the same torchvision models side by side (when fvcore is installed).
Prints markdown tables; --json PATH writes the results.

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


def generated(rows: int):
    """A plain chain of rows/2 (3x3 conv 16->16, ReLU) pairs on a 8x8x16 input: per-row cost only."""
    import tempfile
    from pathlib import Path

    from archcalc.spec import load_file

    pairs = rows // 2
    outer, inner = max(1, pairs // 10_000), min(pairs, 10_000)
    text = f"""
networks:
  chain{rows}:
    input: 8x8x16
    layers:
      - repeat:
          times: {outer}
          layers:
            - repeat: {{times: {inner}, layers: [conv: {{out: 16, kernel: 3, padding: 1}}, relu]}}
"""
    path = Path(tempfile.mkdtemp()) / f"chain{rows}.yaml"
    path.write_text(text)
    return load_file(path)[f"chain{rows}"]


def fvcore_side_by_side(nets, repeat: int) -> list[dict]:
    """archcalc's analyse against fvcore's FlopCountAnalysis on the built torchvision model (CPU, eval)."""
    try:
        import torch
        import torchvision
        from fvcore.nn import FlopCountAnalysis
    except ImportError:
        return []
    out = []
    for name in ("resnet50", "resnet152", "densenet201"):
        model = getattr(torchvision.models, name)().eval()
        x = torch.zeros(1, 3, 224, 224)

        def fv():
            analysis = FlopCountAnalysis(model, x)
            analysis.unsupported_ops_warnings(False)
            analysis.uncalled_modules_warnings(False)
            return analysis.total()

        with torch.no_grad():
            _, fv_best = timed(fv, max(3, repeat // 3))
        net = nets[name]
        _, ac_best = timed(lambda: summarize(build(net)), repeat)
        out.append({"network": name, "archcalc_ms": ac_best * 1e3, "fvcore_ms": fv_best * 1e3, "ratio": fv_best / ac_best})
    return out


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

    scaling = []
    for rows in (100, 1_000, 10_000, 100_000):
        graph_net = generated(rows)
        median, best = timed(lambda: summarize(build(graph_net)), max(3, args.repeat // 2) if rows < 100_000 else 3)
        n = len(build(graph_net).nodes)
        scaling.append({"rows": n, "median_ms": median * 1e3, "best_ms": best * 1e3, "us_per_row": best * 1e6 / n})

    versus = fvcore_side_by_side(nets, args.repeat)

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
    print("\n| generated chain | rows | analyse, median ms | best ms | µs per row (best) |\n|---|---:|---:|---:|---:|")
    for r in scaling:
        print(f"| conv+relu x{r['rows'] // 2} | {r['rows']} | {r['median_ms']:.1f} | {r['best_ms']:.1f} | {r['us_per_row']:.1f} |")
    if versus:
        print("\n| torchvision model | archcalc analyse, best ms | fvcore FlopCountAnalysis, best ms | fvcore / archcalc |\n|---|---:|---:|---:|")
        for r in versus:
            print(f"| {r['network']} | {r['archcalc_ms']:.2f} | {r['fvcore_ms']:.1f} | {r['ratio']:.0f}x |")
    print("\n| whole process | median s | best s |\n|---|---:|---:|")
    for r in process:
        print(f"| `{r['command']}` | {r['median_s']:.3f} | {r['best_s']:.3f} |")
    print(f"| `python -c 'import archcalc'` | {import_s:.3f} | |")
    if args.json:
        write_atomic(args.json, json.dumps({"engine": engine, "scaling": scaling, "fvcore": versus, "process": process,
                                            "import_s": import_s}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

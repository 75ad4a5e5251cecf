from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import SpecError
from . import _shared

NAME = "bench"
HELP = "measured latency, throughput and memory beside the predictions (needs archcalc[torch])"
DESCRIPTION = ("Time networks with random weights on a device (warm-up, synchronised runs until the median "
               "is stable) and set the measured latency, throughput, TFLOP/s and peak memory against the "
               "predicted latency (archcalc/roofline.py) and memory. --output writes JSON and CSV after every row.")
EXAMPLE = "archcalc bench resnet18 mobilenet_v2 --batch 1,8 --output reports/bench/run.json"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("networks", nargs="*", help=_shared.NETWORK_HELP + "; none with --measure-peak: "
                   "only measure and print the device profile")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    p.add_argument("--batch", default="1", metavar="N[,N...]", help="batch sizes, e.g. 1,8,32,128")
    p.add_argument("--dtype", default="float32", metavar="DTYPE[,...]", help="float32, float16, bfloat16, float64")
    p.add_argument("--train", action="store_true", help="time a whole training step (forward, backward, SGD step)")
    p.add_argument("--channels-last", action="store_true", help="model and input in channels_last memory format")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (compiled during warm-up)")
    p.add_argument("--per-layer", action="store_true",
                   help="also time every layer (spec models, inference) beside its predicted time")
    p.add_argument("--input", metavar="HxWxC", help="input volume (overrides the spec's; Python models: 224x224x3)")
    p.add_argument("--threads", type=int, metavar="N", help="torch CPU threads (default: torch's)")
    p.add_argument("--measure-peak", action="store_true",
                   help="run the device microbenchmarks now (matmul, copy, per-call overhead, conv classes, pooling) "
                        "and cache them; otherwise the cached ones, else a GPU's datasheet figures")
    p.add_argument("--min-runs", type=int, default=10, metavar="N", help="timed runs at least (default 10)")
    p.add_argument("--budget", type=float, default=20.0, metavar="S", help="seconds of timed runs per row at most (default 20)")
    p.add_argument("--output", metavar="FILE.json", help="write JSON here and CSV beside it, after every row")
    p.add_argument("--resume", action="store_true", help="keep the rows already in --output and skip them")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    _shared.add_format(p, ("text", "json", "csv"))


def _batches(text: str) -> tuple[int, ...]:
    out = []
    for part in text.split(","):
        try:
            n = int(part)
        except ValueError:
            raise SpecError(f"--batch: {part.strip()!r} is not an integer") from None
        if n < 1:
            raise SpecError(f"--batch: batch sizes must be >= 1, got {n}")
        out.append(n)
    return tuple(dict.fromkeys(out))


def _model(target: str, input: str | None) -> Any:
    from ..spec import build, find
    from ..torch.bench import BenchModel
    from ..torch.build import to_torch
    from ..torch.importer import load_callable

    if _shared.is_python_ref(target):
        graph, _ = _shared.torch_graph(target, input, {})
        return BenchModel(target, graph, load_callable(target))
    from ..torch.reference import reference_of

    net = find(target)
    graph = build(net, input=input)
    # The model people run: the spec's reference implementation (torchvision's, timm's or the
    # packaged paper reference) where it names one, else the model built from the spec itself.
    ref = reference_of(net.meta)
    if ref:
        return BenchModel(target, graph, load_callable(ref if ":" in ref else f"torchvision:{ref}"))
    return BenchModel(target, graph, lambda: to_torch(graph))


def run(args: argparse.Namespace) -> int:
    try:
        import torch

        from ..torch import bench
    except ImportError as exc:
        raise SpecError(f"bench needs torch: pip install 'archcalc[torch]' ({exc})") from None
    batches = _batches(args.batch)
    if args.threads is not None:
        if args.threads < 1:
            raise SpecError(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    if args.min_runs < 1 or args.budget <= 0:
        raise SpecError(f"--min-runs and --budget must be positive, got {args.min_runs} and {args.budget}")
    if args.resume and not args.output:
        raise SpecError("--resume needs --output FILE.json (the file to resume)")
    output = Path(args.output) if args.output else None
    if output is not None and output.suffix != ".json":
        raise SpecError(f"--output: {args.output} should end in .json (the CSV is written beside it)")
    device = bench.check_device(args.device)
    dtypes = tuple(dict.fromkeys(bench.check_dtype(device, d.strip()) for d in args.dtype.split(",")))
    if not args.networks:
        if not args.measure_peak:
            raise SpecError("bench needs at least one network (or --measure-peak alone to measure the device)")
        for dtype in dtypes:
            print(bench.render_profile(bench.device_profile(device, dtype, measure=True)))
        return 0
    models = [_model(name, args.input) for name in args.networks]
    config = bench.Config(device, batches, dtypes, args.train, args.channels_last, args.compile,
                          bench.TimingPolicy(min_runs=args.min_runs, budget_s=args.budget), args.measure_peak,
                          args.per_layer)
    sweep = bench.run_sweep(models, config, output, args.resume, None if args.quiet else sys.stderr)
    if args.format == "json":
        import json

        print(json.dumps(sweep.document(), indent=2))
    elif args.format == "csv":
        print(bench.csv_text(sweep.results), end="")
    else:
        print(bench.render_text(sweep))
    if sweep.interrupted:
        kept = f"; {len(sweep.results)} rows kept in {output} (--resume continues)" if output else ""
        print(f"archcalc: interrupted{kept}", file=sys.stderr)
        return 130
    return 1 if any(r["status"] == "error" for r in sweep.results) else 0

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..figures import Figure

NAME = "chart"
HELP = "comparison charts: accuracy, layers, compare, scaling, bench"
DESCRIPTION = """Draw a chart (PNG, SVG or PDF by the --out extension):
  accuracy [NAMES...]      top-1 against exact multiply-adds (or --x latency --bench FILE), bubble area = parameters
  layers NAME              per-layer bars of memory, parameters, multiply-adds (--metric); large networks by stage
  compare NAMES...         parameters, multiply-adds and memory side by side
  scaling NAME             how the costs grow with --param k=v1,v2,..., --input HxWxC,... or --batch N,...
  bench FILE               a benchmark file: latency vs MACs and batch, memory vs prediction, roofline"""
EXAMPLE = "archcalc chart accuracy --out accuracy.png"


def configure(p: argparse.ArgumentParser) -> None:
    from ..accuracy import CHOICES
    from ..analysis import DTYPE_BYTES

    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("kind", help="accuracy, layers, compare, scaling or bench")
    p.add_argument("names", nargs="*", metavar="NAME", help="networks (built-in names or spec files); for bench, the file")
    p.add_argument("--out", help="output file, .png, .svg or .pdf (default KIND.png); written atomically")
    p.add_argument("--accuracy", choices=CHOICES, default="original",
                   help="accuracy source: original-recipe weights (IMAGENET1K_V1) or the paper's figure; best: newest recipe")
    p.add_argument("--x", choices=("macs", "latency"), default="macs", help="accuracy chart's x axis")
    p.add_argument("--bench", metavar="FILE", help="benchmark file (archcalc bench --output) for --x latency")
    p.add_argument("--metric", default="memory,params,macs", help="layers chart: comma-separated memory, params, macs")
    p.add_argument("--param", action="append", default=[], metavar="NAME=V1,V2,...", help="scaling: spec parameter values")
    p.add_argument("--input", metavar="HxWxC,...", help="scaling: input volumes")
    p.add_argument("--batch", metavar="N,...", help="scaling: batch sizes")
    p.add_argument("--dtype", choices=list(DTYPE_BYTES), default="float32", help="bytes per stored value")


def figure(args: argparse.Namespace) -> Figure:
    """The Figure that the command line asks for; wrong arguments are one-line errors."""
    import difflib

    from .. import figures
    from ..errors import SpecError

    kind, names = args.kind, list(args.names)
    if kind not in figures.KINDS:
        close = difflib.get_close_matches(kind, figures.KINDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SpecError(f"unknown chart kind {kind!r}{hint}; kinds: {', '.join(figures.KINDS)}")
    if kind == "accuracy":
        from ..benchfile import load

        return figures.accuracy_figure(names or None, args.accuracy, args.x, load(args.bench) if args.bench else None)
    if kind == "compare":
        return figures.compare_figure(names or list(figures.STANDARD_COMPARE), dtype=args.dtype)
    if len(names) != 1:
        what = "one benchmark file" if kind == "bench" else "one network"
        raise SpecError(f"chart {kind} takes {what}, got {len(names)}: {' '.join(names) or '(none)'}")
    if kind == "bench":
        from ..benchfile import load

        return figures.bench_figure(load(names[0]))
    if kind == "layers":
        from ..sweep import split_values

        return figures.layers_figure(names[0], split_values("--metric", args.metric), dtype=args.dtype)
    from ..sweep import from_options

    return figures.scaling_figure(from_options(names[0], args.param, args.input, args.batch, dtype=args.dtype))


def run(args: argparse.Namespace) -> int:
    from ..plots import draw, output_format

    out = args.out or f"{args.kind}.png"
    output_format(out)  # a wrong extension fails before any work
    result = figure(args)
    drawn = draw(result, out)
    unlabelled = sorted({t for p in result.panels for s in p.series for t in s.point_labels} - {b.text for b in drawn.labels})
    count = {"accuracy": lambda: sum(len(s.y) for s in result.panels[0].series),
             "compare": lambda: len(result.panels[0].series[0].y)}
    detail = f"{count[args.kind]()} networks" if args.kind in count else result.title
    print(f"wrote {out}: {detail}")
    for note in result.notes:
        print(f"  note: {note}")
    if unlabelled:
        print(f"  note: no room to label {', '.join(unlabelled)} (plotted without a label; chart fewer networks)")
    return 0

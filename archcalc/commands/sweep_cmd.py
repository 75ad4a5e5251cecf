from __future__ import annotations

import argparse

NAME = "sweep"
HELP = "totals for every combination of parameters, inputs and batch sizes"
DESCRIPTION = ("Analyse a network for every combination of spec parameter values, input volumes and batch "
               "sizes, one row each (e.g. the MobileNet paper's width-multiplier and resolution tables).")
EXAMPLE = "archcalc sweep mobilenet_v1 --param alpha=1.0,0.75,0.5,0.25 --input 224x224x3,192x192x3"


def configure(p: argparse.ArgumentParser) -> None:
    from ..analysis import COUNTS, DTYPE_BYTES
    from ..sweep import FORMATS

    p.add_argument("network", help="built-in name (archcalc list) or a spec file (file.yaml or file.yaml:NAME)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=V1,V2,...", help="spec parameter values to sweep (repeatable)")
    p.add_argument("--input", metavar="HxWxC,...", help="input volumes to sweep, e.g. 128x128x3,224x224x3 (default: the spec's)")
    p.add_argument("--batch", metavar="N,...", help="batch sizes to sweep, e.g. 1,8,64 (default 1)")
    p.add_argument("--dtype", choices=list(DTYPE_BYTES), default="float32", help="bytes per stored value")
    p.add_argument("--count", choices=list(COUNTS), default="macs", help="operation convention (docs/conventions.md)")
    p.add_argument("--format", choices=list(FORMATS), default="text")


def run(args: argparse.Namespace) -> int:
    from ..sweep import from_options, render_sweep

    result = from_options(args.network, args.param, args.input, args.batch, dtype=args.dtype, count=args.count)
    print(render_sweep(result, args.format))
    return 0

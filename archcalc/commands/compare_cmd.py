from __future__ import annotations

import argparse

from . import _shared

NAME = "compare"
HELP = "one table comparing networks"
DESCRIPTION = "Compare networks: params, ops, memory, depth, accuracy with its source."
EXAMPLE = "archcalc compare alexnet vgg16 resnet50"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("networks", nargs="+", help="built-in names, spec files or Python model references")
    _shared.add_common(p)
    _shared.add_format(p)


def run(args: argparse.Namespace) -> int:
    from ..report import render_comparison

    print(render_comparison([_shared.report(n, args) for n in args.networks], args.format))
    return 0

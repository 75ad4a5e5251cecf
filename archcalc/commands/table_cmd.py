from __future__ import annotations

import argparse

from . import _shared

NAME = "table"
HELP = "per-layer table of one network"
DESCRIPTION = "Per-layer table and totals of a network."
EXAMPLE = "archcalc table vgg16; archcalc table resnet50 --depth 1"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", help=_shared.NETWORK_HELP)
    _shared.add_common(p)
    _shared.add_train(p)
    _shared.add_format(p)
    p.add_argument("--depth", type=int, metavar="N",
                   help="one row per block/stage down to N levels of the layer path, with subtotals (layer2 = depth 1, layer2.0 = depth 2); csv/json: the scopes as exact records")
    p.add_argument("--all-rows", action="store_true", help="also show rows that change no number (in-place ReLU, dropout, ...)")


def run(args: argparse.Namespace) -> int:
    from ..errors import SpecError
    from ..report import render

    if args.depth is not None and args.depth < 1:
        raise SpecError(f"--depth takes a positive integer (1: stages such as layer2), got {args.depth}")
    print(render(_shared.report(args.network, args), args.format, all_rows=args.all_rows, depth=args.depth))
    return 0

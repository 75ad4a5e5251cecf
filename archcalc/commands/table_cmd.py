from __future__ import annotations

import argparse

from . import _shared

NAME = "table"
HELP = "per-layer table of one network"
DESCRIPTION = "Per-layer table and totals of a network."
EXAMPLE = "archcalc table vgg16"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", help=_shared.NETWORK_HELP)
    _shared.add_common(p)
    _shared.add_train(p)
    _shared.add_format(p)
    p.add_argument("--all-rows", action="store_true", help="also show rows that change no number (in-place ReLU, dropout, ...)")


def run(args: argparse.Namespace) -> int:
    from ..report import render

    print(render(_shared.report(args.network, args), args.format, all_rows=args.all_rows))
    return 0

from __future__ import annotations

import argparse

from . import _shared

NAME = "compare"
HELP = "one table comparing networks"
DESCRIPTION = "Compare networks: params, ops, memory, depth, accuracy with its source."
EXAMPLE = "archcalc compare alexnet vgg16 resnet50; archcalc compare vgg16 vgg16_bn --baseline vgg16"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("networks", nargs="+", help="built-in names, spec files or Python model references")
    _shared.add_common(p)
    _shared.add_format(p)
    p.add_argument("--baseline", metavar="NAME", help="the network to compare against (added first if not listed): difference and ratio columns")
    p.add_argument("--exact", action="store_true", help="exact integers instead of rounded counts")


def run(args: argparse.Namespace) -> int:
    import sys

    from ..analysis import comparison_caveats
    from ..report import render_comparison

    names = list(args.networks)
    if args.baseline and args.baseline not in names:  # compare against it without listing it twice
        names.insert(0, args.baseline)
    reports = [_shared.report(n, args) for n in names]
    print(render_comparison(reports, args.format, baseline=args.baseline, exact_numbers=args.exact))
    if args.format == "csv":  # the table stays machine-readable; caveats go to stderr
        for line in comparison_caveats(reports):
            print(f"archcalc: warning: {line}", file=sys.stderr)
    return 0

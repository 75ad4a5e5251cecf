from __future__ import annotations

import argparse

NAME = "chart"
HELP = "accuracy vs multiply-adds chart"
DESCRIPTION = ("Draw top-1 accuracy against exact multiply-adds, bubble area proportional to parameters, "
               "for every zoo network with an accuracy figure (or the ones named).")
EXAMPLE = "archcalc chart accuracy --out accuracy.png"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=["accuracy"])
    p.add_argument("networks", nargs="*")
    p.add_argument("--out", default="accuracy_vs_macs.png", help="output file (.png, .svg, .pdf); written atomically")


def run(args: argparse.Namespace) -> int:
    from ..plots import chart

    count = chart(args.kind, args.networks, args.out)
    print(f"wrote {args.out}: {count} networks")
    return 0

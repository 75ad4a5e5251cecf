from __future__ import annotations

import argparse

NAME = "report"
HELP = "regenerate reports/: zoo table, figures, lecture audit, benchmark summaries"
DESCRIPTION = ("Regenerate everything in reports/: zoo.md (every zoo network with params, MACs, memory, depth and "
               "accuracy with its source), the comparison figures and their data (figures.json), the lecture audit, "
               "and a summary and chart for every benchmark file under reports/bench/. Deterministic; files are "
               "written atomically.")
EXAMPLE = "archcalc report --out reports/"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="reports", metavar="DIR", help="directory to regenerate (default reports/)")
    p.add_argument("--image-format", choices=("png", "svg", "pdf"), default="png", help="format of the figures")


def run(args: argparse.Namespace) -> int:
    from ..publish import write

    written = write(args.out, args.image_format)
    print(f"wrote {len(written)} files under {args.out}")
    return 0

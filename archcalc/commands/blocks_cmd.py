from __future__ import annotations

import argparse

NAME = "blocks"
HELP = "the zoo's reusable blocks, their parameters and what they are"
DESCRIPTION = ("The blocks defined in the spec files (`blocks:`), with their parameters (required ones bare) "
               "and a one-line description. Analyse one alone as FAMILY:BLOCK or NETWORK:BLOCK with --param and --input.")
EXAMPLE = "archcalc blocks resnet; archcalc table resnet:bottleneck --param planes=64 --input 56x56x256"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", help="a family (resnet), a spec file or a network: the blocks usable there (default: the whole zoo)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..blocks import visible_blocks

    blocks = visible_blocks(args.file)
    width = max((len(b.name) for b in blocks), default=0)
    current = None
    for b in blocks:
        if b.file != current:
            current = b.file
            print(("" if current == blocks[0].file else "\n") + Path(current).name)
        print(f"  {b.name:<{width}}  ({b.signature()})")
        print(f"  {'':<{width}}  {b.description}")
    print(f"\none block alone: archcalc table {args.file or 'FAMILY'}:BLOCK --param NAME=VALUE --input HxWxC")
    return 0

from __future__ import annotations

import argparse

from . import _shared

NAME = "explain"
HELP = "one layer's numbers with the working shown"
DESCRIPTION = "Every number of one layer with its derivation, from the engine's own formulas."
EXAMPLE = "archcalc explain alexnet_lecture conv1; archcalc explain resnet50 layer2"


def configure(p: argparse.ArgumentParser) -> None:
    from ..analysis import DTYPE_BYTES

    p.add_argument("network", help="built-in name or spec file")
    p.add_argument("layer", nargs="+", help="layer path (layer3.1.conv2), a unique last part (conv1), or a block/stage (layer2, denseblock3)")
    p.add_argument("--input", metavar="HxWxC")
    _shared.add_param(p)
    p.add_argument("--dtype", choices=list(DTYPE_BYTES), default="float32")


def run(args: argparse.Namespace) -> int:
    from ..analysis import DTYPE_BYTES
    from ..explain import explain_name
    from ..spec import build, find

    graph = build(find(args.network), input=args.input, params=_shared.params(args.param))
    blocks = ["\n".join(explain_name(graph, name, DTYPE_BYTES[args.dtype])) for name in args.layer]
    print("\n\n".join(blocks))
    return 0

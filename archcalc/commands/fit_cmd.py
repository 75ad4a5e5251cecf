from __future__ import annotations

import argparse
import re

from ..errors import SpecError
from . import _shared

NAME = "fit"
HELP = "the largest batch that fits in a memory size"
DESCRIPTION = ("The largest batch whose predicted peak memory (weights, buffers and the eager activation peak; "
               "with --train also gradients, optimizer state and saved tensors) fits in --memory, "
               "with the breakdown at that batch.")
EXAMPLE = "archcalc fit resnet50 --memory 16GiB --train --optimizer adam"

#: unit -> bytes; binary (KiB, MiB, GiB, TiB) and decimal (kB, MB, GB, TB) sizes, as GPU specs are
#: quoted in either
UNITS = {"": 1, "b": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
         "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_memory(text: str) -> int:
    """`16GiB` -> 17179869184, `80GB` -> 80000000000, `512MiB`, `1.5GiB`, or plain bytes."""
    from fractions import Fraction

    m = _SIZE.match(text)
    if not m or m.group(2).lower() not in UNITS:
        raise SpecError(f"--memory: expected a size such as 16GiB, 80GB or 512MiB, got {text!r}")
    nbytes = int(Fraction(m.group(1)) * UNITS[m.group(2).lower()])
    if nbytes <= 0:
        raise SpecError(f"--memory must be a positive size, got {text!r}")
    return nbytes


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", help=_shared.NETWORK_HELP)
    p.add_argument("--memory", required=True, metavar="SIZE", help="device memory: 16GiB, 80GB, 512MiB, or bytes")
    p.add_argument("--input", metavar="HxWxC", help="input volume, e.g. 299x299x3 (overrides the spec's)")
    from ..analysis import DTYPE_BYTES

    p.add_argument("--dtype", choices=list(DTYPE_BYTES), default="float32", help="bytes per stored value")
    _shared.add_train(p)
    _shared.add_param(p)


def run(args: argparse.Namespace) -> int:
    from ..analysis import fit
    from ..report import render_fit
    from ..spec import build, find

    memory = parse_memory(args.memory)
    values = _shared.params(args.param)
    if _shared.is_python_ref(args.network):
        graph, _ = _shared.torch_graph(args.network, args.input, values)
    else:
        graph = build(find(args.network), input=args.input, params=values)
    print(render_fit(fit(graph, memory, dtype=args.dtype, **_shared.training(args))))
    return 0

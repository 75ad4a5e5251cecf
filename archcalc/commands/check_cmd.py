from __future__ import annotations

import argparse

from ..errors import SpecError
from . import _shared

NAME = "check"
HELP = "cross-check against PyTorch (needs archcalc[torch])"
DESCRIPTION = ("Build the model, run it, and compare every layer with PyTorch's measurements "
               "(FlopCounterMode, fvcore) and, where the spec names one, the reference model. "
               "Exit 1 on any mismatch.")
EXAMPLE = "archcalc check resnet50"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", help="built-in name, spec file, or Python model module:callable")
    p.add_argument("--input", metavar="HxWxC", help="input volume (overrides the spec's)")
    _shared.add_param(p)
    p.add_argument("--no-fvcore", action="store_true", help="skip fvcore (runs on the meta device: faster, no arithmetic)")
    p.add_argument("--no-reference", action="store_true", help="do not instantiate the spec's reference model")
    p.add_argument("--train", action="store_true", help="also compare the bytes autograd saves for backward")
    _shared.add_format(p, ("text", "json"))


def run(args: argparse.Namespace) -> int:
    try:
        from ..torch.check import check, check_model, render_check
    except ImportError as exc:
        raise SpecError(f"check needs torch, torchvision and fvcore: pip install 'archcalc[torch]' ({exc})") from None
    from ..spec import build, find

    if _shared.is_python_ref(args.network):
        graph, model = _shared.torch_graph(args.network, args.input, _shared.params(args.param))
        result = check_model(graph, model)
    else:
        graph = build(find(args.network), input=args.input, params=_shared.params(args.param))
        result = check(graph, use_fvcore=not args.no_fvcore, use_reference=not args.no_reference, train=args.train)
    print(render_check(result, args.format))
    return 0 if result.ok else 1

"""Argument helpers shared by several commands (formatting of options, not arithmetic)."""

from __future__ import annotations

import argparse
from typing import Any, Sequence

from ..errors import SpecError

NETWORK_HELP = ("built-in name (archcalc list), a spec file (file.yaml or file.yaml:NAME), "
                "a Python model module:callable (torchvision.models:resnet50, my.py:build), "
                "or torchvision:NAME / timm:NAME (random weights, no download)")


def params(pairs: Sequence[str]) -> dict[str, Any]:
    """`--param NAME=VALUE` pairs as a dict; a malformed pair blames the option."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SpecError(f"--param takes NAME=VALUE, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


def is_python_ref(target: str) -> bool:
    """`torchvision.models:resnet50` or `my_models.py:build`, as opposed to a spec name or file."""
    from pathlib import Path

    module, sep, attr = target.rpartition(":")
    if not (sep and module and attr.isidentifier() and not module.endswith((".yaml", ".yml")) and not Path(target).exists()):
        return False
    if "." in module:  # a dotted module or a .py file
        return True
    return not _is_zoo_name(module)  # FAMILY:BLOCK or NETWORK:BLOCK is one block of a spec


def _is_zoo_name(name: str) -> bool:
    from ..blocks import spec_file_stems
    from ..spec import zoo

    return name in spec_file_stems() or name in zoo()


def torch_graph(target: str, input: str | None, param_values: dict[str, Any]) -> Any:
    """The graph of a Python model reference and the model, through from_torch (needs archcalc[torch])."""
    if param_values:
        raise SpecError(f"--param applies to spec files, not to the Python model {target}")
    try:
        import torch

        from ..torch.importer import load_callable, trace
    except ImportError as exc:
        raise SpecError(f"reading {target} needs torch: pip install 'archcalc[torch]' ({exc})") from None
    from ..spec import parse_volume

    factory = load_callable(target)
    try:
        with torch.device("meta"):  # shapes only: no weights allocated, nothing computed
            model = factory()
    except Exception:  # noqa: BLE001 - some models cannot be built on meta; build them normally
        try:
            model = factory()
        except Exception as exc:  # noqa: BLE001
            raise SpecError(f"calling {target}() failed: {exc.__class__.__name__}: {exc}") from None
    try:
        shape = parse_volume(input or "224x224x3")
    except Exception as exc:  # noqa: BLE001
        raise SpecError(f"--input: {exc}") from None
    return trace(model, shape, name=target), model


def report(target: str, args: argparse.Namespace) -> Any:
    """The Report of a spec name/file or a Python model reference, with the common options."""
    from ..analysis import analyze, summarize

    values = params(args.param)
    if is_python_ref(target):
        graph, _ = torch_graph(target, args.input, values)
        return summarize(graph, batch=args.batch, dtype=args.dtype, count=args.count, **training(args))
    return analyze(target, input=args.input, batch=args.batch, dtype=args.dtype, count=args.count, params=values, **training(args))


def training(args: argparse.Namespace) -> dict[str, Any]:
    """summarize()'s train and optimizer arguments, for commands that offer --train."""
    return {"train": getattr(args, "train", False), "optimizer": getattr(args, "optimizer", "sgd")}


def add_train(p: argparse.ArgumentParser) -> None:
    """--train, --optimizer (checked by the engine, so that a bad name is a one-line error)."""
    p.add_argument("--train", action="store_true",
                   help="training memory: saved tensors per layer, gradients, optimizer state, train peak")
    p.add_argument("--optimizer", default="sgd", metavar="NAME",
                   help="optimizer state with --train: sgd (none), momentum (1 per param), adam, adamw (2); default sgd")


def add_common(p: argparse.ArgumentParser) -> None:
    """--input, --batch, --dtype, --count, --param."""
    from ..analysis import COUNTS, DTYPE_BYTES

    p.add_argument("--input", metavar="HxWxC", help="input volume, e.g. 299x299x3 (overrides the spec's)")
    p.add_argument("--batch", type=int, default=1, metavar="N", help="batch size (counts are per image by default)")
    p.add_argument("--dtype", choices=list(DTYPE_BYTES), default="float32", help="bytes per stored value")
    p.add_argument("--count", choices=list(COUNTS), default="macs", help="operation convention (docs/conventions.md)")
    add_param(p)


def add_param(p: argparse.ArgumentParser) -> None:
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="set a spec parameter")


def add_format(p: argparse.ArgumentParser, choices: Sequence[str] | None = None) -> None:
    from ..report import FORMATS

    p.add_argument("--format", choices=list(choices or FORMATS), default="text")

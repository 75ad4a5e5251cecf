"""Measure an instantiated nn.Module the way the reference tools do, and compare with a graph.

Measured: the parameter count torchvision reports (``sum(p.numel() for p in model.parameters())``),
MACs from ``torch.utils.flop_counter.FlopCounterMode`` (its total / 2: it counts a multiply-add
as 2 FLOPs), and the output shape of every leaf module in execution order.
Models run on the ``meta`` device where possible: shapes and counts without arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..graph import Graph

from .ops import COMPARED as COMPARED_TYPES
from .ops import module_layer_types

#: leaf module class -> archcalc layer type, for the modules whose outputs are compared (the op table's)
MODULE_TYPES: dict[type[nn.Module], str] = module_layer_types()
FUNCTIONAL_POOLS = {"maxpool", "avgpool", "adaptive_avgpool", "adaptive_maxpool"}


@dataclass
class Measured:
    params: int
    macs: int
    leaves: list[tuple[str, str, tuple[int, ...]]] = field(default_factory=list)  # (module path, type, shape)


def measure(model: nn.Module, input_shape: tuple[int, ...], device: str = "meta") -> Measured:
    """Count params, FlopCounterMode MACs and leaf output shapes for one image of ``input_shape`` (C, H, W)."""
    model = model.to(device).eval()
    leaves: list[tuple[str, str, tuple[int, ...]]] = []
    handles = []
    for path, module in model.named_modules():
        # along the class hierarchy: timm's BatchNormAct2d is an nn.BatchNorm2d
        kind = next((MODULE_TYPES[c] for c in type(module).__mro__ if c in MODULE_TYPES), None)
        if kind is None:
            continue

        def hook(mod: nn.Module, args: Any, out: Any, path: str = path, kind: str = kind) -> None:
            leaves.append((path, kind, tuple(out.shape[1:])))

        handles.append(module.register_forward_hook(hook))
    try:
        x = torch.zeros((1, *input_shape), device=device)
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(x)
    finally:
        for h in handles:
            h.remove()
    params = sum(p.numel() for p in model.parameters())
    return Measured(params=params, macs=counter.get_total_flops() // 2, leaves=leaves)


def compare(graph: Graph, measured: Measured) -> list[str]:
    """Every disagreement between an analysed graph and a measured model, as readable lines."""
    from ..analysis import summarize

    report = summarize(graph)
    problems = []
    if report.totals.params != measured.params:
        problems.append(f"params: archcalc {report.totals.params:,} vs torch {measured.params:,}")
    if report.totals.macs != measured.macs:
        problems.append(f"MACs: archcalc {report.totals.macs:,} vs FlopCounterMode/2 {measured.macs:,}")
    ours = [(n.name, n.type, n.shape) for n in graph.nodes if n.type in COMPARED_TYPES and n.executed]
    theirs = measured.leaves
    # Align in execution order. Parameter-free pools that the reference calls functionally
    # (F.adaptive_avg_pool2d in torchvision's DenseNet, F.max_pool2d in Inception) have no
    # module to hook: such a layer of ours may go unmatched. Every other leaf must match.
    j = 0
    for name, kind, shape in ours:
        if j < len(theirs) and theirs[j][1] == kind:
            if tuple(theirs[j][2]) != tuple(shape):
                problems.append(f"{name}: archcalc {kind} {tuple(shape)} vs torch {theirs[j][0]} {tuple(theirs[j][2])}")
                break
            j += 1
        elif kind not in FUNCTIONAL_POOLS:
            got = f"{theirs[j][0]} {theirs[j][1]} {tuple(theirs[j][2])}" if j < len(theirs) else "nothing"
            problems.append(f"{name}: archcalc {kind} {tuple(shape)} vs torch {got}")
            break
    else:
        if j != len(theirs):
            problems.append(f"torch has {len(theirs) - j} more leaves from {theirs[j][0]} ({theirs[j][1]})")
    return problems


def reference_model(ref: str) -> nn.Module:
    """Instantiate a reference model, without weights, on the meta device.

    ``ref`` is a torchvision builder name (``resnet50``), ``timm:NAME``, or ``module:callable``
    returning an ``nn.Module``. The independent implementations archcalc ships are
    ``archcalc.torch.refs.MODULE:NAME`` (``archcalc.torch.refs.resnet:resnet20_cifar``), so a
    spec's reference resolves wherever archcalc is installed, not only in a source checkout.
    """
    from .importer import load_callable

    with torch.device("meta"):
        return load_callable(ref if ":" in ref else f"torchvision:{ref}")()


def reference_of(meta: dict[str, Any]) -> str | None:
    """The reference a spec names: its `reference:` where it gives one (it may be a variant of its
    torchvision builder, as googlenet without aux heads), else its torchvision builder."""
    return meta.get("reference") or meta.get("torchvision")


def main(argv: list[str] | None = None) -> int:
    """`python -m archcalc.torch.reference NAME [REF]`: compare a spec with its reference model."""
    import sys

    from ..spec import build, find

    args = sys.argv[1:] if argv is None else argv
    net = find(args[0])
    ref = args[1] if len(args) > 1 else str(reference_of(net.meta) or args[0])
    graph = build(net)
    measured = measure(reference_model(ref), graph.input_shape)
    problems = compare(graph, measured)
    print(f"{args[0]} vs {ref}: params {measured.params:,}, MACs {measured.macs:,}")
    for p in problems:
        print("  MISMATCH", p)
    print("  OK: exact match" if not problems else f"  {len(problems)} mismatch(es)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`archcalc check`: build the model from a spec, run it, and put every analytical number next to
what PyTorch measures, layer by layer; then compare totals with the spec's reference model
(torchvision / timm / a reference module) when it names one.

Measured per layer: output shape (forward hook), parameters (the module's own), MACs from
torch.utils.flop_counter (its FLOPs / 2) and, with fvcore, FlopCountAnalysis.by_module() (which
counts MACs plus batch norm and adaptive pooling: compared with archcalc's `--count fvcore`).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..analysis import summarize
from ..graph import Graph
from ..layers import numel
from .build import GraphModule, module_name
from .reference import compare, measure, reference_model, reference_of


@dataclass
class LayerCheck:
    name: str
    type: str
    shape: tuple[tuple[int, ...], tuple[int, ...] | None]  # (archcalc, torch)
    params: tuple[int, int]
    macs: tuple[int, int | None]  # archcalc, FlopCounterMode / 2
    fvcore: tuple[int, int | None]  # archcalc --count fvcore, FlopCountAnalysis
    activations: tuple[int, int | None]

    @property
    def ok(self) -> bool:
        pairs = (self.shape, self.params, self.macs, self.fvcore, self.activations)
        return all(b is None or a == b for a, b in pairs)


@dataclass
class CheckResult:
    name: str
    layers: list[LayerCheck]
    reference: str | None = None
    reference_problems: list[str] = field(default_factory=list)
    fvcore_used: bool = False
    memory: list[tuple[str, int, int]] = field(default_factory=list)  # (what, archcalc, measured) bytes

    @property
    def mismatches(self) -> list[LayerCheck]:
        return [layer for layer in self.layers if not layer.ok]

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.reference_problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "reference": self.reference,
            "reference_problems": self.reference_problems,
            "fvcore": self.fvcore_used,
            "memory": [{"what": w, "archcalc": a, "torch": b} for w, a, b in self.memory],
            "layers": [{**asdict(layer), "ok": layer.ok} for layer in self.layers],
        }


def check(graph: Graph, use_fvcore: bool = True, use_reference: bool = True, train: bool = False) -> CheckResult:
    """Cross-check one graph. With fvcore the model runs on the CPU (fvcore traces real tensors);
    without it, on the meta device (shapes and counts only, no arithmetic). The reference model's
    memory (inference peak; with ``train`` the bytes saved for backward) is measured on the CPU
    and reported beside the prediction (informational: docs/conventions.md says where the
    prediction cannot be exact)."""
    device = "cpu" if use_fvcore else "meta"
    with torch.device(device):
        model = GraphModule(graph).eval()
    report = summarize(graph)
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [
        module.register_forward_hook(lambda m, a, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:])))
        for name, module in model.layers.items()
    ]
    x = torch.zeros((1, *graph.input_shape), device=device)
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(x)
    finally:
        for h in hooks:
            h.remove()
    flops = counter.get_flop_counts()
    fv: dict[str, int] = {}
    if use_fvcore:
        from fvcore.nn import FlopCountAnalysis

        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            analysis = FlopCountAnalysis(model, x)
            analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            fv = dict(analysis.by_module())

    layers = []
    for node, row in zip(graph.nodes[1:], report.rows[1:]):
        name = module_name(node)
        module = model.layers[name]
        measured_shape = shapes.get(name)
        torch_flops = sum(flops.get(f"GraphModule.layers.{name}", {}).values()) if node.executed else None
        fvcore_ops = int(fv.get(f"layers.{name}", 0)) if use_fvcore and node.executed else None
        layers.append(
            LayerCheck(
                name=node.name,
                type=node.type,
                shape=(node.shape, measured_shape if node.executed else None),
                params=(row.params, sum(p.numel() for p in module.parameters())),
                macs=(node.cost.macs, None if torch_flops is None else torch_flops // 2),
                fvcore=(node.cost.macs + node.cost.fvcore_extra, fvcore_ops),
                activations=(row.activations, None if measured_shape is None else numel(measured_shape)),
            )
        )
    result = CheckResult(graph.name, layers, fvcore_used=use_fvcore)
    ref = reference_of(dict(graph.meta)) if use_reference else None
    if ref:
        result.reference = ref
        result.reference_problems = compare(graph, measure(reference_model(ref), graph.input_shape))
        result.memory = memory_rows(graph, reference_model(ref).to_empty(device="cpu"), train)
    return result


def memory_rows(graph: Graph, model: Any, train: bool = False) -> list[tuple[str, int, int]]:
    """(what, archcalc bytes, measured bytes) for one image: the eager inference peak, and with
    ``train`` the bytes autograd saves."""
    from .memory import measure_inference_peak, measure_saved_bytes

    x = torch.zeros((1, *graph.input_shape))
    rows = [("inference peak", summarize(graph).totals.peak_activation_bytes, measure_inference_peak(model, x))]
    if train:
        try:
            measured = measure_saved_bytes(model, x)
        except ValueError:  # train-mode batch norm on one value per channel (a 1x1 map of one image)
            return rows
        rows.append(("saved for backward", summarize(graph, train=True).totals.saved_bytes, measured))
    return rows


def check_model(graph: Graph, model: Any) -> CheckResult:
    """A user's own model read through from_torch: archcalc's totals and every conv/linear/BN/
    pool leaf against the model itself measured by FlopCounterMode; unknown ops are reported."""
    result = CheckResult(graph.name, [], reference="the model itself")
    result.reference_problems = compare(graph, measure(model, graph.input_shape, device=_device(model)))
    unsupported = graph.meta.get("unsupported") or {}
    if unsupported:
        result.reference_problems.append("no formula (not counted): " + ", ".join(f"{k} x{v}" for k, v in sorted(unsupported.items())))
    return result


def _device(model: Any) -> str:
    return str(next((p.device for p in model.parameters()), "cpu"))


def render_check(result: CheckResult, fmt: str = "text") -> str:
    if fmt == "json":
        import json

        return json.dumps(result.to_dict(), indent=2)
    from ..layers import fmt_shape
    from ..textable import table

    def pair(a: Any, b: Any, show: Any = str) -> str:
        if b is None:
            return f"{show(a)} (not run)" if a else show(a)
        return show(a) if a == b else f"{show(a)} ✗ torch {show(b)}"

    body = []
    for layer in result.layers:
        body.append([
            layer.name,
            layer.type,
            pair(layer.shape[0], layer.shape[1], lambda s: fmt_shape(s) if s else "-"),
            pair(*layer.params, lambda n: f"{n:,}"),
            pair(*layer.macs, lambda n: f"{n:,}"),
            pair(*layer.fvcore, lambda n: f"{n:,}") if result.fvcore_used else "",
            pair(*layer.activations, lambda n: f"{n:,}"),
            "ok" if layer.ok else "MISMATCH",
        ])
    headers = ["layer", "type", "output", "params", "MACs (FlopCounterMode/2)", "fvcore flops" if result.fvcore_used else "", "activations", ""]
    lines = [table(body, headers), ""] if body else []
    bad = result.mismatches
    if result.layers:
        lines.append(f"{len(result.layers) - len(bad)} of {len(result.layers)} layers agree with the model archcalc built"
                     + ("" if result.fvcore_used else " (fvcore not run: --no-fvcore)"))
    if result.reference:
        if result.reference_problems:
            lines.append(f"reference {result.reference}: " + "; ".join(result.reference_problems))
        else:
            lines.append(f"reference {result.reference}: exact match (params, MACs, every conv/linear/BN/pool leaf shape)")
    for what, ours, theirs in result.memory:
        verdict = "exact" if ours == theirs else f"✗ measured {theirs:,} B ({ours - theirs:+,} B)"
        lines.append(f"memory {what}: archcalc {ours:,} B, reference on CPU: {verdict}")
    lines.append("OK" if result.ok else "MISMATCH")
    return "\n".join(lines)

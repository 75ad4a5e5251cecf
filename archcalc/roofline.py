"""Predicted latency of a network on a device, from the engine's exact counts and a few device
constants. Pure arithmetic: no torch (the constants are measured by ``archcalc.torch.bench``).

Per executed layer, with ``flops = 2 · MACs · batch`` and ``bytes = (input + output elements) ·
batch · bytes per value + (params + buffers) · bytes per value``:

    compute = flops / (peak_flops · efficiency[class])      (pooling: other_ops · batch / pool_rate)
    memory  = bytes / bandwidth
    time    = overhead + compute + memory                   (a synchronous device: the CPU)
    time    = max(overhead, compute, memory)                (an asynchronous device: CUDA, where
                                                              kernels overlap the host's launches)

The classes are the layer kinds whose achieved rate differs most on real kernels: dense convs
(``conv``), pointwise convs (``conv1x1``), depthwise convs (``depthwise``), other grouped convs
(``grouped``), ``linear``, window pooling (``pool``), elementwise / data-movement layers
(``elementwise``: batch norm, activations, adds, concat, adaptive pooling — bytes only) and views
(``view``: flatten, dropout, identity, chunk — overhead only). Every constant of a
:class:`DeviceProfile` comes from a microbenchmark of the device (``archcalc bench --measure-peak``)
or from a vendor datasheet (:data:`DATASHEETS`: peak FLOP/s and bandwidth only, a pure roofline),
never from the timings it is judged against.

``--train`` times a whole step; its prediction is three forward passes (the backward pass does one
forward's work for the input gradients and one for the weight gradients) plus the optimizer's
traffic: SGD with momentum reads parameter, gradient and momentum and writes parameter and momentum,
5 · params · bytes per value.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

from .analysis import DTYPE_BYTES
from .graph import Graph, Node
from .layers import numel

CLASSES = ("conv", "conv1x1", "depthwise", "grouped", "linear", "pool", "elementwise", "view")
VIEW_TYPES = {"flatten", "dropout", "identity", "chunk", "parameters"}
POOL_TYPES = {"maxpool", "avgpool"}
#: backward = 2 forwards (input gradients + weight gradients): a training step is 3 forwards
TRAIN_FORWARDS = 3
#: SGD with momentum per parameter: read parameter, gradient, momentum; write parameter, momentum
OPTIMIZER_ACCESSES = 5


@dataclass(frozen=True)
class DeviceProfile:
    """What the prediction knows about a device, for one dtype. Rates in FLOP/s, bytes/s, ops/s."""

    device: str  # the device's name, e.g. "NVIDIA H100 80GB HBM3" or the CPU model
    dtype: str
    peak_flops: float  # dense matmul peak
    bandwidth: float  # bytes/s, a copy well beyond the caches
    source: str  # "measured ..." or "datasheet ..."
    overhead_s: float = 0.0  # per layer call: framework dispatch and kernel launch
    efficiency: Mapping[str, float] = field(default_factory=dict)  # achieved / peak_flops per class; 1 if absent
    pool_rate: float | None = None  # pooling window operations (other_ops) per second; None: bytes only
    asynchronous: bool = False  # compute overlaps the host's launches (CUDA)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["efficiency"] = dict(self.efficiency)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "DeviceProfile":
        return cls(**{**d, "efficiency": dict(d.get("efficiency") or {})})


# Vendor datasheet figures, dense (no structured sparsity). float32 is the CUDA-core FP32 rate
# (PyTorch's default convs may use TF32 tensor cores and exceed it); float16 and bfloat16 are the
# tensor-core rates. Sources: NVIDIA H100 datasheet (SXM5 / PCIe), H200 datasheet, A100 datasheet
# (SXM4 40 GB / 80 GB), L4 datasheet.
_T = 1e12
DATASHEETS: tuple[tuple[str, str, dict[str, float], float], ...] = (
    # (pattern on torch.cuda.get_device_name, label, dtype -> FLOP/s, bandwidth bytes/s)
    (r"H200", "NVIDIA H200 SXM", {"float32": 67 * _T, "float16": 989.4 * _T, "bfloat16": 989.4 * _T}, 4.8e12),
    (r"H100.*PCIe", "NVIDIA H100 PCIe", {"float32": 51 * _T, "float16": 756 * _T, "bfloat16": 756 * _T}, 2.0e12),
    (r"H100", "NVIDIA H100 SXM5", {"float32": 67 * _T, "float16": 989.4 * _T, "bfloat16": 989.4 * _T}, 3.35e12),
    (r"A100.*40GB", "NVIDIA A100 40GB", {"float32": 19.5 * _T, "float16": 312 * _T, "bfloat16": 312 * _T}, 1.555e12),
    (r"A100", "NVIDIA A100 80GB", {"float32": 19.5 * _T, "float16": 312 * _T, "bfloat16": 312 * _T}, 2.039e12),
    (r"\bL4\b", "NVIDIA L4", {"float32": 30.3 * _T, "float16": 121 * _T, "bfloat16": 121 * _T}, 300e9),
)


def datasheet(device_name: str, dtype: str) -> DeviceProfile | None:
    """The datasheet roofline of a GPU by name (first pattern that matches), or None."""
    for pattern, label, peaks, bandwidth in DATASHEETS:
        if re.search(pattern, device_name) and dtype in peaks:
            return DeviceProfile(device_name, dtype, peaks[dtype], bandwidth, f"datasheet {label}", asynchronous=True)
    return None


def layer_class(graph: Graph, node: Node) -> str:
    if node.type == "conv":
        groups, cin = node.layer.groups, graph.nodes[node.inputs[0]].shape[0]  # type: ignore[union-attr]
        if groups > 1:
            return "depthwise" if groups == cin else "grouped"
        return "conv1x1" if tuple(node.layer.kernel) == (1, 1) else "conv"  # type: ignore[union-attr]
    if node.type == "linear":
        return "linear"
    if node.type in POOL_TYPES:
        return "pool"
    if node.type in VIEW_TYPES:
        return "view"
    return "elementwise"


@dataclass(frozen=True)
class LayerPrediction:
    name: str
    cls: str
    flops: int
    bytes: int
    compute_s: float
    memory_s: float
    seconds: float


@dataclass(frozen=True)
class Prediction:
    layers: tuple[LayerPrediction, ...]
    seconds: float  # the network: sum of the layers (x TRAIN_FORWARDS + optimizer for a training step)
    baseline_seconds: float  # the obvious baseline: 2 · MACs · batch / peak_flops (x TRAIN_FORWARDS)


def predict(graph: Graph, batch: int, profile: DeviceProfile, train: bool = False) -> Prediction:
    """Predicted seconds of one forward pass (or training step) of ``graph`` at ``batch``."""
    nbytes = DTYPE_BYTES[profile.dtype]
    layers = []
    for node in graph.nodes[1:]:
        if not node.executed:
            continue
        cls = layer_class(graph, node)
        flops = 2 * node.cost.macs * batch
        moved = 0 if cls == "view" else nbytes * (
            batch * (sum(numel(graph.nodes[i].shape) for i in node.inputs) + numel(node.shape))
            + node.cost.params + node.cost.buffers)
        if cls == "pool" and profile.pool_rate:
            compute = node.cost.other_ops * batch / profile.pool_rate
        else:
            compute = flops / (profile.peak_flops * profile.efficiency.get(cls, 1.0))
        memory = moved / profile.bandwidth
        if profile.asynchronous:
            seconds = max(profile.overhead_s, compute, memory)
        else:
            seconds = profile.overhead_s + compute + memory
        layers.append(LayerPrediction(node.name, cls, flops, moved, compute, memory, seconds))
    forward = sum(l.seconds for l in layers)
    macs_flops = sum(l.flops for l in layers)
    params = sum(n.cost.params for n in graph.nodes)
    if train:
        step = TRAIN_FORWARDS * forward + OPTIMIZER_ACCESSES * params * nbytes / profile.bandwidth
        return Prediction(tuple(layers), step, TRAIN_FORWARDS * macs_flops / profile.peak_flops)
    return Prediction(tuple(layers), forward, macs_flops / profile.peak_flops)


def roofline_only(profile: DeviceProfile) -> DeviceProfile:
    """The same device as a textbook roofline: max(compute, memory) per layer at the matmul peak,
    no per-class efficiency, no per-layer overhead."""
    return DeviceProfile(profile.device, profile.dtype, profile.peak_flops, profile.bandwidth,
                         profile.source + ", roofline only", asynchronous=True)


# ---------------------------------------------------------------------------------------------
# How well a prediction ranks and sizes measured times


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Spearman's rank correlation: Pearson's correlation of the ranks (ties averaged)."""
    if len(xs) != len(ys) or len(xs) < 2:
        raise ValueError(f"spearman needs two sequences of the same length >= 2, got {len(xs)} and {len(ys)}")
    rx, ry = ranks(xs), ranks(ys)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    var = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return cov / var if var else float("nan")


def median_abs_error(predicted: Sequence[float], measured: Sequence[float]) -> float:
    """Median over pairs of |predicted − measured| / measured."""
    return statistics.median(abs(p - m) / m for p, m in zip(predicted, measured))

"""Graph -> per-layer rows and totals. Totals are sums of rows, never computed a second way
(the one exception is peak live memory, which is a property of the schedule, not a sum)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Mapping, NamedTuple

from . import gcpause
from .errors import SpecError
from .graph import Graph, Node

#: bytes per stored value
DTYPE_BYTES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}

#: --count conventions: what one row's "ops" is, from its costs (docs/conventions.md)
COUNTS: dict[str, tuple[str, Callable[[Node], int]]] = {
    "macs": ("MACs", lambda n: n.cost.macs),
    "fvcore": ("fvcore flops", lambda n: n.cost.macs + n.cost.fvcore_extra),
    "torch": ("torch FLOPs", lambda n: 2 * n.cost.macs),
}
COUNT_NOTES = {
    "macs": "MACs: 1 multiply-add = 1, conv and linear",
    "fvcore": "fvcore flops: MACs + batch norm + adaptive average pooling, as FlopCountAnalysis",
    "torch": "torch FLOPs: 2 per multiply-add, as torch.utils.flop_counter",
}

WEIGHTED_TYPES = {"conv", "linear"}
#: layers whose parameters are normalisation scale/shift (BN's gamma, beta), not weights
NORM_TYPES = {"batchnorm"}

#: optimizer state per parameter value, in the parameters' dtype (torch.optim): plain SGD keeps
#: none, SGD with momentum one buffer, Adam and AdamW two moments (their per-tensor `step`
#: counters, 4 bytes per parameter tensor, are left out)
OPTIMIZER_STATE = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}
#: temporaries of one optimizer step per parameter value (torch.optim's foreach Adam(W): the
#: square root of the second moments; SGD updates in place)
OPTIMIZER_TEMP = {"sgd": 0, "momentum": 0, "adam": 1, "adamw": 1}


class Row(NamedTuple):
    """One layer's figures (an immutable record: a named tuple, built 5x faster than a frozen
    dataclass; a report of 10^5 layers builds 10^5 of them)."""

    name: str
    type: str
    config: str
    output: tuple[int, ...]  # [C, H, W] or [N], per image
    params: int
    biases: int
    buffers: int
    macs: int  # x batch
    ops: int  # the chosen --count convention, x batch
    other_ops: int  # x batch
    activations: int  # output elements, x batch
    inplace: bool  # output reuses its input's memory: adds no activation memory
    receptive_field: Any  # a count when H and W agree, else (h, w)
    rf_jump: Any  # the same for the effective stride
    global_context: bool = False  # a gate (SE) mixed whole-image context in: the field shown is the conv path's
    executed: bool = True  # False: an auxiliary head that exists but does not run at inference
    alias: str = ""  # the paper's / lecture's name of the layer (conv1_1, fc6), where the spec gives one
    stride: int = 1  # how much coarser the output grid is than the input's (a single-input layer)
    saved: int | None = None  # train mode: bytes autograd keeps for this layer's backward, x batch

    @property
    def stored_activations(self) -> int:
        return 0 if self.inplace or not self.executed else self.activations

    @property
    def trivial(self) -> bool:
        """A row that changes no number: an in-place activation, dropout, flatten, ..."""
        return self.inplace and not (self.params or self.macs or self.ops or self.saved)


_new_row = tuple.__new__  # a named tuple from a tuple of all its fields, in order


@dataclass(frozen=True)
class Totals:
    params: int  # every parameter of the model, training-only heads included
    inference_params: int  # the parameters of the rows that run at inference (aux heads excluded)
    biases: int
    weights: int  # conv and linear weights: params without biases and normalisation parameters
    buffers: int
    macs: int
    ops: int
    other_ops: int
    activations: int  # values stored: every distinct tensor, input included
    activation_bytes: int
    param_bytes: int
    buffer_bytes: int
    peak_activation_bytes: int  # eager PyTorch's inference peak (docs/conventions.md, Memory)
    ideal_peak_activation_bytes: int  # each tensor freed right after its last reader
    weighted_layers: int  # conv + linear layers on the longest path: the papers' "depth"
    norm_params: int = 0  # normalisation scale/shift (batch norm gamma, beta)
    # train mode only (summarize(train=True)); None otherwise
    optimizer: str | None = None
    saved_bytes: int | None = None  # autograd's saved tensors, one train-mode forward
    grad_bytes: int | None = None  # one gradient per parameter
    optimizer_bytes: int | None = None  # optimizer state
    train_step_bytes: int | None = None  # simulated: the most one step holds beyond params, buffers, state
    train_peak_bytes: int | None = None  # params + buffers + optimizer state + train_step_bytes

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract's totals: train-mode fields only when they were computed."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @property
    def inference_peak_bytes(self) -> int:
        """Everything resident during inference: parameters, buffers and the activation peak."""
        return self.param_bytes + self.buffer_bytes + self.peak_activation_bytes


@dataclass(frozen=True)
class Report:
    name: str
    source: str
    input: tuple[int, ...]
    batch: int
    dtype: str
    count: str
    rows: tuple[Row, ...]
    totals: Totals
    meta: Mapping[str, Any]

    @property
    def count_label(self) -> str:
        return COUNTS[self.count][0]

    def row(self, name: str) -> Row:
        """A row by its path, or by the paper's name the spec gives it (`fc6`)."""
        path = (self.meta.get("aliases") or {}).get(name, name)
        for r in self.rows:
            if r.name == path:
                return r
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        layers = []
        for r in self.rows:
            d = r._asdict()
            d["output"] = list(r.output)
            if r.saved is None:
                del d["saved"]
            layers.append(d)
        return {
            "name": self.name,
            "input": list(self.input),
            "batch": self.batch,
            "dtype": self.dtype,
            "count": self.count,
            "layers": layers,
            "totals": self.totals.to_dict(),
            "unsupported": dict(self.meta.get("unsupported") or {}),
        }

    def to_json(self, indent: int | None = 2) -> str:
        from .symbolic import json_default

        # exact integers; a symbolic value is a string in sympy syntax ("27*C**2")
        return json.dumps(self.to_dict(), indent=indent, default=json_default)


@dataclass(frozen=True)
class Scope:
    """A named group of rows (a block, a stage: every row whose path starts with ``name.``) and
    its subtotals. Subtotals are sums of the rows, as the totals are."""

    name: str
    rows: tuple[Row, ...]

    @property
    def depth(self) -> int:
        return self.name.count(".") + 1

    @property
    def leaf(self) -> bool:
        """The scope is one row of that very name (a layer, not a group)."""
        return len(self.rows) == 1 and self.rows[0].name == self.name

    @property
    def params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def macs(self) -> int:
        return sum(r.macs for r in self.rows if r.executed)

    @property
    def ops(self) -> int:
        return sum(r.ops for r in self.rows if r.executed)

    @property
    def stored_activations(self) -> int:
        return sum(r.stored_activations for r in self.rows)

    @property
    def output(self) -> tuple[int, ...]:
        """The scope's output: its last row's (the builder adds a scope's rows in order)."""
        return self.rows[-1].output

    @property
    def receptive_field(self) -> Any:
        return self.rows[-1].receptive_field

    @property
    def global_context(self) -> bool:
        return self.rows[-1].global_context


def scope_names(name: str) -> list[str]:
    """Every scope a row belongs to, outermost first: `layer2.0.conv1` -> layer2, layer2.0, layer2.0.conv1."""
    parts = name.split(".")
    return [".".join(parts[:d]) for d in range(1, len(parts) + 1)]


def scopes(rows: tuple[Row, ...] | list[Row], depth: int | None = None) -> list[Scope]:
    """The scopes of rows down to ``depth`` levels (all levels when None), in the order they
    first appear: a tree walked depth-first, like torchinfo's ``depth``."""
    members: dict[str, list[Row]] = {}
    for r in rows:
        for name in scope_names(r.name)[:depth]:
            members.setdefault(name, []).append(r)
    return [Scope(name, tuple(rs)) for name, rs in members.items()]


def find_scope(report: Report, name: str) -> Scope | None:
    """The group of rows named ``name`` (case-insensitive; a unique last part will do, as
    `denseblock3` for `features.denseblock3`), or None when no group of several rows has it."""
    groups = [s for s in scopes(report.rows) if not s.leaf]
    for match in (lambda s: s.name.lower() == name.lower(),
                  lambda s: s.name.lower().endswith("." + name.lower())):
        found = [s for s in groups if match(s)]
        if len(found) == 1:
            return found[0]
    return None


def summarize(
    graph: Graph, batch: int = 1, dtype: str = "float32", count: str = "macs", train: bool = False, optimizer: str = "sgd"
) -> Report:
    """Rows and totals of a graph; with ``train``, also what one training step keeps in memory."""
    with gcpause.paused():
        return _summarize(graph, batch, dtype, count, train, optimizer)


def _summarize(graph: Graph, batch: int, dtype: str, count: str, train: bool, optimizer: str) -> Report:
    if optimizer not in OPTIMIZER_STATE:
        raise SpecError(f"--optimizer: unknown optimizer {optimizer!r} (choose from {', '.join(OPTIMIZER_STATE)})")
    if dtype not in DTYPE_BYTES:
        raise SpecError(f"unknown dtype {dtype!r} (choose from {', '.join(DTYPE_BYTES)})")
    if count not in COUNTS:
        raise SpecError(f"unknown count convention {count!r} (choose from {', '.join(COUNTS)})")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SpecError(f"batch must be a positive integer, got {batch!r}")
    ops_of = COUNTS[count][1]
    alias_of = {path: alias for alias, path in (graph.meta.get("aliases") or {}).items()}
    nbytes = DTYPE_BYTES[dtype]
    saved = [a * batch + b for a, b in graph.saved_bytes(nbytes)] if train else [None] * len(graph.nodes)
    nodes, sizes = graph.nodes, graph.sizes
    described: dict[int, str] = {}  # a layer object's description (replayed blocks share layers)
    rows = []
    for n, s in zip(nodes, saved):
        layer, cost, rf, inputs = n.layer, n.cost, n.rf, n.inputs
        config = described.get(id(layer))
        if config is None:
            config = described[id(layer)] = layer.describe() if layer is not None else ""
        size, jump = rf.size, rf.jump
        rows.append(_new_row(Row, (  # Row(...) without its argument parsing: 2x faster for 10^5 rows
            n.name, n.type, config, n.shape, cost.params, cost.biases, cost.buffers,
            cost.macs * batch, ops_of(n) * batch, cost.other_ops * batch, sizes[n.index] * batch,
            n.storage != n.index,
            size[0] if size[0] == size[1] else size,  # one number when H and W agree (the JSON contract)
            jump[0] if jump[0] == jump[1] else jump,
            rf.global_context, n.executed, alias_of.get(n.name, ""),
            jump[0] // nodes[inputs[0]].rf.jump[0] if len(inputs) == 1 else 1,  # stride
            s,
        )))
    rows = tuple(rows)
    # the totals are sums of the rows (one pass)
    params = biases = norm_params = buffers = activations = inference_params = macs = ops = other_ops = 0
    for r in rows:
        params += r.params
        biases += r.biases
        buffers += r.buffers
        if r.type in NORM_TYPES:
            norm_params += r.params
        if r.executed:
            inference_params += r.params
            macs += r.macs
            ops += r.ops
            other_ops += r.other_ops
        activations += r.stored_activations
    totals = Totals(
        params=params,
        inference_params=inference_params,
        biases=biases,
        weights=params - biases - norm_params,
        buffers=buffers,
        macs=macs,
        ops=ops,
        other_ops=other_ops,
        activations=activations,
        activation_bytes=activations * nbytes,
        param_bytes=params * nbytes,
        buffer_bytes=buffers * nbytes,
        peak_activation_bytes=graph.eager_peak_bytes(nbytes) * batch,
        ideal_peak_activation_bytes=graph.peak_live_values() * batch * nbytes,
        weighted_layers=graph.depth(WEIGHTED_TYPES),
        norm_params=norm_params,
    )
    if train:
        saved_total = sum(r.saved for r in rows)
        grads = params * nbytes
        state = OPTIMIZER_STATE[optimizer] * params * nbytes
        step = graph.train_step_bytes(nbytes, batch, OPTIMIZER_TEMP[optimizer] * params * nbytes)
        totals = replace(
            totals,
            optimizer=optimizer,
            saved_bytes=saved_total,
            grad_bytes=grads,
            optimizer_bytes=state,
            train_step_bytes=step,
            train_peak_bytes=totals.param_bytes + totals.buffer_bytes + state + step,
        )
    return Report(graph.name, graph.source, graph.input_shape, batch, dtype, count, rows, totals, graph.meta)


def strided_layers(report: Report) -> dict[str, int]:
    """Where a network subsamples: `conv 3x3/2 p1` -> how many such layers (executed rows)."""
    found: dict[str, int] = {}
    for r in report.rows:
        # global pools (SE squeezes, heads) shrink the map to 1x1 in every network: not a choice
        if r.stride > 1 and r.executed and r.type in ("conv", "maxpool", "avgpool") and r.output[1:] != (1, 1):
            key = f"{r.type} {r.config.split(',')[0]}".strip()
            found[key] = found.get(key, 0) + 1
    return found


def _lineage(report: Report) -> set[str]:
    meta = report.meta
    return {report.name, *(str(meta[k]) for k in ("variant_of", "torchvision") if meta.get(k))}


def _unshared(mine: dict[str, int], other: dict[str, int]) -> str:
    return ", ".join(f"{k} x{v}" for k, v in sorted(mine.items()) if other.get(k) != v) or "none"


def headline_entry(meta: Mapping[str, Any]) -> Mapping[str, Any]:
    """The accuracy entry a network is shown with: torchvision's original-recipe figure where the
    spec has it, else the first listed."""
    entries = list(meta.get("accuracy") or [])
    # one training recipe across a table: the original one (archcalc/accuracy.py), never torchvision's new recipe
    original = [e for e in entries if e.get("recipe") != "new"] or entries
    return next((e for e in original if "torchvision" in str(e.get("source", ""))), original[0] if original else {})


def comparison_caveats(reports: list[Report]) -> list[str]:
    """Ways compared networks differ besides their architecture, one line each: input sizes,
    where related networks subsample, and accuracy figures measured under different protocols."""
    lines = []
    inputs = {r.input for r in reports}
    if len(inputs) > 1:
        lines.append("inputs differ (" + ", ".join(f"{r.name} {'x'.join(map(str, (*r.input[1:], r.input[0])))}" for r in reports)
                     + "): every cost depends on the input size")
    for i, a in enumerate(reports):
        for b in reports[i + 1:]:
            if not (_lineage(a) & _lineage(b)):
                continue
            sa, sb = strided_layers(a), strided_layers(b)
            if sa != sb:
                lines.append(f"{a.name} and {b.name} subsample in different layers ({a.name}: {_unshared(sa, sb)}; {b.name}: {_unshared(sb, sa)}): "
                             "not only the architecture's addition differs (e.g. torchvision's v1.5 stride on the 3x3 vs the Caffe v1 stride on the 1x1)")
    protocols = {r.name: str(headline_entry(r.meta).get("protocol", "")) for r in reports if r.meta.get("accuracy")}
    # the same recipe and evaluation whatever the model (torchvision's VGG16_Weights.IMAGENET1K_V1
    # and VGG16_BN_Weights.IMAGENET1K_V1) is one protocol; V1 against V2 weights is not
    same = {re.sub(r"\s*\([^)]*\)", "", re.sub(r"\b\w+_Weights\.", "", p)) for p in protocols.values()}
    if len(same) > 1:
        lines.append("accuracy figures come from different training recipes or evaluations: "
                     + "; ".join(f"{name}: {p}" for name, p in protocols.items()))
    return lines
@dataclass(frozen=True)
class Fit:
    """The largest batch whose predicted peak fits in ``memory_bytes``, and its report."""

    memory_bytes: int
    report: Report  # at the largest batch that fits
    next_peak_bytes: int  # the peak one image more would need (more than memory_bytes)

    @property
    def batch(self) -> int:
        return self.report.batch

    @property
    def peak_bytes(self) -> int:
        return peak_bytes(self.report)


def peak_bytes(report: Report) -> int:
    """Everything resident at the peak: ``train_peak_bytes`` with train, else parameters +
    buffers + the inference activation peak."""
    t = report.totals
    return t.train_peak_bytes if t.train_peak_bytes is not None else t.inference_peak_bytes


def fit(graph: Graph, memory_bytes: int, dtype: str = "float32", train: bool = False, optimizer: str = "sgd") -> Fit:
    """The largest batch that fits in ``memory_bytes``. The peak grows with the batch (each term
    is a fixed part plus a part proportional to it, and the training peak is the larger of two
    such sums), so the answer is found by doubling and then bisecting."""
    if isinstance(memory_bytes, bool) or not isinstance(memory_bytes, int) or memory_bytes <= 0:
        raise SpecError(f"--memory must be a positive size (e.g. 16GiB), got {memory_bytes!r}")
    reports: dict[int, Report] = {}

    def need(batch: int) -> int:
        reports[batch] = summarize(graph, batch=batch, dtype=dtype, train=train, optimizer=optimizer)
        value = peak_bytes(reports[batch])
        if not isinstance(value, int):
            raise SpecError(f"{graph.name}: the peak depends on symbolic sizes; give numbers with --input")
        return value

    one = need(1)
    if one > memory_bytes:
        raise SpecError(f"--memory {memory_bytes:,} B: not even a batch of 1 fits ({graph.name} needs {one:,} B)")
    fits, too_big = 1, 2
    while need(too_big) <= memory_bytes:
        fits, too_big = too_big, 2 * too_big
    while too_big - fits > 1:
        middle = (fits + too_big) // 2
        if need(middle) <= memory_bytes:
            fits = middle
        else:
            too_big = middle
    return Fit(memory_bytes, reports[fits], need(fits + 1))


def analyze(
    target: Any,
    input: str | tuple[int, ...] | None = None,
    batch: int = 1,
    dtype: str = "float32",
    count: str = "macs",
    params: Mapping[str, Any] | None = None,
    train: bool = False,
    optimizer: str = "sgd",
) -> Report:
    """Analyse a network: a built-in name, a spec file path, a NetworkDef or a compiled Graph.

    ``input`` overrides the spec's input: ``"299x299x3"`` (H×W×C) or a ``(C, H, W)`` tuple.
    Counts are per image unless ``batch`` is given; ``dtype`` sets bytes per value; ``count``
    picks the operation convention of the ``ops`` column (macs, fvcore, torch). ``train`` adds
    training memory (saved tensors, gradients, ``optimizer`` state: sgd, momentum, adam, adamw).
    """
    from .spec import NetworkDef, build, find

    with gcpause.paused():
        if isinstance(target, Graph):
            graph = target
        else:
            net = target if isinstance(target, NetworkDef) else find(str(target))
            graph = build(net, input=input, params=params)
        return summarize(graph, batch=batch, dtype=dtype, count=count, train=train, optimizer=optimizer)


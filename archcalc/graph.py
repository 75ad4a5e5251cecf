"""The compiled network: nodes in execution order, with shapes, costs, receptive fields, and
tensor liveness for peak memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import SpecError
from .layers import POINTWISE, Cost, Layer, LayerError, Shape, Window, numel
from .symbolic import largest

MAX_NODES = 200_000


#: merges whose broadcast inputs are gates (squeeze-and-excitation's channel weights scale the
#: main path): a gate adds neither depth nor receptive field, only global context
GATING_MERGES = {"mul"}


def gate_inputs(type_name: str, inputs: tuple[int, ...], shapes: list[Shape], out: Shape) -> set[int]:
    """The inputs of a merge that gate it: broadcast (smaller than the output) inputs of a mul."""
    if type_name not in GATING_MERGES:
        return set()
    return {i for i, s in zip(inputs, shapes) if s != out}


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of one output position along the convolutional path, along H and W, the
    effective stride (jump), and whether a gate upstream also fed it global context."""

    size: tuple[int, int] = (1, 1)
    jump: tuple[int, int] = (1, 1)
    global_context: bool = False

    def text(self) -> str:
        h, w = self.size
        return (str(h) if h == w else f"{h}x{w}") + ("+g" if self.global_context else "")


@dataclass(frozen=True)
class Node:
    index: int
    name: str  # layer path, e.g. "layer3.1.conv2"
    type: str  # "input" or a registered layer type
    layer: Layer | None  # None for the input
    inputs: tuple[int, ...]
    shape: Shape
    cost: Cost
    rf: ReceptiveField
    storage: int  # index of the node that owns this output's memory (itself unless in-place / view)
    executed: bool = True  # False: exists (its parameters count) but does not run at inference
    output: bool = False  # an extra network output (auxiliary head): kept alive to the end

    @property
    def inplace(self) -> bool:
        return self.storage != self.index

    @property
    def activations(self) -> int:
        """Output elements per image."""
        return numel(self.shape)

    @property
    def stored_activations(self) -> int:
        """Values this layer adds to memory: 0 for a view or an in-place op."""
        return 0 if self.inplace else numel(self.shape)


@dataclass
class Graph:
    name: str
    nodes: list[Node]
    source: str = ""  # file the spec came from, or "torch" for an imported model
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> Shape:
        return self.nodes[0].shape

    @property
    def output(self) -> Node:
        return self.nodes[-1]

    def depth(self, weighted: set[str]) -> int:
        """The papers' depth: most weighted layers on any path from the input to the output
        (GoogLeNet 22, ResNet-152 152, DenseNet-121 121). Heads that do not run are skipped."""
        longest: list[int] = []
        for node in self.nodes:
            # a gating branch (SE) is not on the papers' path: SE-ResNet-50 is 50 deep
            gates = gate_inputs(node.type, node.inputs, [self.nodes[i].shape for i in node.inputs], node.shape)
            below = max((longest[i] for i in node.inputs if i not in gates), default=0)
            longest.append(below + (1 if node.type in weighted and node.executed else 0))
        return longest[-1]

    def peak_live_values(self) -> int:
        """Largest number of activation values alive at once during one inference pass.

        Nodes run in order; a node's output is allocated when it runs (views and in-place ops
        allocate nothing) and freed once the last node reading it, or any view of it, has run.
        The network's output is never freed. The input counts from the start.
        """
        nodes = [n for n in self.nodes if n.executed]
        last_use: dict[int, int] = {}
        for node in nodes:
            if node.output:
                last_use[node.storage] = len(self.nodes)
            for i in node.inputs:
                owner = self.nodes[i].storage
                last_use[owner] = max(last_use.get(owner, -1), node.index)
        final = self.nodes[-1].storage
        last_use[final] = len(self.nodes)
        frees: dict[int, list[int]] = {}
        for owner, step in last_use.items():
            frees.setdefault(step, []).append(owner)
        live = peak = 0
        for node in nodes:
            if not node.inplace:
                live += numel(node.shape)
                try:
                    if live > peak:
                        peak = live
                except TypeError:  # symbolic sizes: keep every candidate in a sympy.Max
                    peak = largest([peak, live])
            for owner in frees.get(node.index, ()):
                live -= numel(self.nodes[owner].shape)
            if node.index not in last_use and not node.inplace:
                live -= numel(node.shape)  # produced but never read (dead branch)
        return peak


def _grow(rf: ReceptiveField, w: Window) -> ReceptiveField:
    size = tuple(r + (k - 1) * j for r, k, j in zip(rf.size, w.kernel, rf.jump))
    jump = tuple(j * s for j, s in zip(rf.jump, w.stride))
    return ReceptiveField(size, jump, rf.global_context)  # type: ignore[arg-type]


class GraphBuilder:
    """Appends layers to a graph in execution order: applies each layer to its inputs' shapes,
    computes its costs, receptive field and storage. The spec compiler and from_torch both
    build graphs with it. Errors name ``file`` and the layer path."""

    def __init__(self, file: str, input_shape: Shape, name: str = "") -> None:
        self.file = file
        self.name = name or file
        self.nodes: list[Node] = [Node(0, "input", "input", None, (), input_shape, Cost(), ReceptiveField(), 0)]
        self.executed = True  # False inside a branch that does not run at inference
        # Memo: repeated blocks apply the same (immutable) layer to the same shapes many times
        # (ResNet-152 has 50 bottlenecks of 4 kinds).
        self._applied: dict[tuple[Any, ...], tuple[Shape, Cost, Window, bool]] = {}
        # every layer path (and, for specs, every named scope) -> the node holding its output
        self.paths: dict[str, int] = {"input": 0}

    def error(self, message: str, path: str) -> SpecError:
        return SpecError(message, file=self.file, layer=path or self.name)

    def add(self, path: str, type_name: str, layer: Any, inputs: tuple[int, ...]) -> int:
        """Append ``layer`` applied to the nodes ``inputs``; returns the new node's index."""
        if len(self.nodes) >= MAX_NODES:
            raise self.error(f"more than {MAX_NODES} layers; is a repeat count absurd?", path)
        shapes = [self.nodes[i].shape for i in inputs]
        key = (id(layer), *shapes)
        applied = self._applied.get(key)
        if applied is None:
            try:
                shape = layer.output(shapes)
                cost = layer.cost(shapes, shape)
                window = layer.window(shapes) if len(shapes) == 1 and len(shapes[0]) == 3 else POINTWISE
            except LayerError as exc:
                raise self.error(str(exc), path) from None
            applied = self._applied[key] = (shape, cost, window, layer.reuses_input(shapes, shape))
        shape, cost, window, reuses = applied
        rfs = [self.nodes[i].rf for i in inputs]
        if len(rfs) == 1:
            rf = _grow(rfs[0], window)
        else:
            # A merge sees the widest field of its inputs along the convolutional path, at the
            # stride of the inputs at its own resolution. A broadcast gate (an SE block's
            # C x 1 x 1 weights) adds global context, marked apart: it neither widens the field
            # nor makes the output coarser (docs/conventions.md).
            gates = gate_inputs(type_name, inputs, shapes, shape)
            main = [r for i, r in zip(inputs, rfs) if i not in gates] or rfs
            full = [r for i, r in zip(inputs, rfs) if self.nodes[i].shape[1:] == shape[1:]] or rfs
            rf = ReceptiveField(
                (largest(r.size[0] for r in main), largest(r.size[1] for r in main)),
                (largest(r.jump[0] for r in full), largest(r.jump[1] for r in full)),
                bool(gates) or any(r.global_context for r in rfs),
            )
        index = len(self.nodes)
        storage = self.nodes[inputs[0]].storage if reuses else index
        self.nodes.append(Node(index, path, type_name, layer, inputs, shape, cost, rf, storage, self.executed))
        self.paths[path] = index
        return index

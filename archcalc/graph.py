"""The compiled network: nodes in execution order, with shapes, costs, receptive fields, and
tensor liveness for peak memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .layers import Cost, Layer, Shape, numel
from .symbolic import largest


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

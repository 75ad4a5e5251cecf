"""The compiled network: nodes in execution order, with shapes, costs, receptive fields, and
tensor liveness for peak memory."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

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


class ReceptiveField(NamedTuple):
    """Receptive field of one output position along the convolutional path, along H and W, the
    effective stride (jump), and whether a gate upstream also fed it global context."""

    size: tuple[int, int] = (1, 1)
    jump: tuple[int, int] = (1, 1)
    global_context: bool = False

    def text(self) -> str:
        h, w = self.size
        return (str(h) if h == w else f"{h}x{w}") + ("+g" if self.global_context else "")


class Node(NamedTuple):
    """One layer of the compiled network. An immutable record (a named tuple rather than a
    frozen dataclass: a graph holds up to 10^5 of them, and a tuple is built 5x faster)."""

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


_new_node = tuple.__new__  # a named tuple from a tuple of all its fields, in order


@dataclass
class Graph:
    name: str
    nodes: list[Node]
    source: str = ""  # file the spec came from, or "torch" for an imported model
    meta: dict[str, Any] = field(default_factory=dict)
    #: (tensor, node): the reference's Python code still holds the tensor while the node runs
    #: (a local variable not yet rebound); it is freed no earlier than that node (spec `holds:`)
    holds: tuple[tuple[int, int], ...] = ()

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
        nodes = self.nodes
        for node in nodes:
            inputs = node.inputs
            if len(inputs) == 1:
                below = longest[inputs[0]]
            else:
                if node.type in GATING_MERGES:
                    # a gating branch (SE) is not on the papers' path: SE-ResNet-50 is 50 deep
                    gates = gate_inputs(node.type, inputs, [nodes[i].shape for i in inputs], node.shape)
                    inputs = tuple(i for i in inputs if i not in gates)
                below = max([longest[i] for i in inputs], default=0)
            longest.append(below + 1 if node.type in weighted and node.executed else below)
        return longest[-1]

    @cached_property
    def sizes(self) -> list[Any]:
        """Values per image of each node's output (a graph is not changed once built)."""
        return [numel(n.shape) for n in self.nodes]

    def peak_live_values(self) -> int:
        """Largest number of activation values alive at once during one inference pass.

        Nodes run in order; a node's output is allocated when it runs (views and in-place ops
        allocate nothing) and freed once the last node reading it, or any view of it, has run.
        The network's output is never freed. The input counts from the start.
        """
        nodes, end = self.nodes, len(self.nodes)
        run = [n for n in nodes if n.executed]
        last_use = [-1] * end  # storage owner -> the last step reading it (-1: never read)
        for node in run:
            if node.output:
                last_use[node.storage] = end
            for i in node.inputs:
                owner = nodes[i].storage
                if last_use[owner] < node.index:
                    last_use[owner] = node.index
        last_use[nodes[-1].storage] = end
        frees: dict[int, list[int]] = {}
        for owner, step in enumerate(last_use):
            if step >= 0:
                frees.setdefault(step, []).append(owner)
        sizes = self.sizes
        live = peak = 0
        for node in run:
            step = node.index
            if node.storage == step:
                live += sizes[step]
                peak = _larger(peak, live)
                if last_use[step] < 0:
                    live -= sizes[step]  # produced but never read (dead branch)
            for owner in frees.get(step, ()):
                live -= sizes[owner]
        return peak

    def eager_peak_bytes(self, value_bytes: int) -> int:
        """Bytes per image: the most memory live at once in one eager PyTorch forward under
        no_grad, sampled after every op (docs/conventions.md, Memory).

        A tensor lives until its last Python reference dies: after the last layer reading it
        has returned, and after every module it was passed to has returned — each dotted
        prefix of the layer paths (``layer1``, ``layer1.0``) is a module call whose caller
        holds its argument until it returns — and until the layer the spec says drops a Python
        variable holding it (``holds``). The input lives all pass (the caller holds it), the
        outputs to the end. A layer allocates its output unless PyTorch returns a view or
        works in place (``Layer.eager_allocates``); ``Layer.scratch_bytes`` is memory an op
        allocates beside its output and drops as the layer returns (max pool's int64 indices).
        """
        nodes = [n for n in self.nodes if n.executed]
        owner = self._eager_owners()
        frees = self._frees(nodes, owner)
        sizes = self.sizes
        live = peak = 0
        for node in nodes:
            step = node.index
            if owner[step] == step:
                live += sizes[step] * value_bytes
            scratch = self._scratch(node, value_bytes)
            peak = _larger(peak, live + scratch if scratch else live)
            for o in frees.get(step, ()):
                live -= sizes[o] * value_bytes
        return peak

    def _frees(self, nodes: list[Node], owner: list[int]) -> dict[int, list[int]]:
        """Step -> storages (owner indices) whose last reference dies after that step runs."""
        end = len(self.nodes)
        free_at = [-1] * end
        last_in: dict[str, int] = {}  # module path -> index of its last layer
        for node in reversed(nodes):
            name = node.name
            cut = name.rfind(".")
            while cut > 0:
                module = name[:cut]
                if module in last_in:
                    break  # seen from a later layer, and so were the modules around it
                last_in[module] = node.index
                cut = name.rfind(".", 0, cut)
        every = self.nodes
        for node in nodes:
            step = node.index
            o = owner[step]
            if free_at[o] < step:
                free_at[o] = step  # produced and never read: dropped at once
            name = node.name
            dot = name.rfind(".")
            inner = name[:dot + 1]  # the innermost module this layer is called in, and a dot
            for i in node.inputs:
                until = step
                if dot > 0:
                    source = every[i].name
                    if not source.startswith(inner):
                        # The caller of each module that does not contain input i holds i as its
                        # argument until the module returns; the outermost such module returns
                        # last. Modules nest: walk out from the innermost to the deepest holding i.
                        below = dot
                        cut = name.rfind(".", 0, below)
                        while cut > 0 and not source.startswith(name[:cut + 1]):
                            below, cut = cut, name.rfind(".", 0, cut)
                        until = last_in[name[:below]]
                o = owner[i]
                if free_at[o] < until:
                    free_at[o] = until
            if node.output:
                free_at[owner[step]] = end
        if self.holds:
            # A Python variable keeps its tensor until it is rebound or its function returns,
            # whatever reads it: `x = pool2(norm2(conv(x)))` holds the old x until pool2 returns.
            # Module calls are the scopes above; a statement or local inside one forward has no
            # module to show it, so the spec states it (`holds:`) on the layer that drops it.
            ran = {node.index for node in nodes}
            for held, until in self.holds:
                o = owner[held]
                if until in ran and free_at[o] < until:
                    free_at[o] = until
        free_at[owner[0]] = end
        free_at[owner[-1]] = end
        frees: dict[int, list[int]] = {}
        for o, step in enumerate(free_at):
            if step >= 0:
                frees.setdefault(step, []).append(o)
        return frees

    def _scratch(self, node: Node, value_bytes: int) -> int:
        layer = node.layer
        if layer is None or type(layer).scratch_bytes is Layer.scratch_bytes:
            return 0  # the common case, without building the argument list
        return layer.scratch_bytes(self._in_shapes(node), node.shape, value_bytes)

    def _eager_owners(self, train: bool = False) -> list[int]:
        """Node index -> index of the node whose output storage it uses in eager PyTorch."""
        owner: list[int] = []
        for node in self.nodes:
            layer = node.layer
            if layer is None:
                allocates = True
            elif type(layer).eager_allocates is Layer.eager_allocates:
                allocates = node.storage == node.index  # the default: unless it reuses its input
            else:
                allocates = layer.eager_allocates(self._in_shapes(node), node.shape, train)
            owner.append(node.index if allocates else owner[node.inputs[0]])
        return owner

    def _in_shapes(self, node: Node) -> list[Shape]:
        return [self.nodes[i].shape for i in node.inputs]

    def _saved(self, owner: list[int], value_bytes: int) -> list[tuple[tuple[int, ...], int, int]]:
        """Per node: (storages it saves, as owner indices; new bytes per image; new bytes per batch)."""
        stat_bytes = 8 if value_bytes == 8 else 4  # batch-norm statistics: float32 (float64 for float64)
        out = []
        for node in self.nodes:
            if node.layer is None:
                out.append(((), 0, 0))
                continue
            saved = node.layer.saved(self._in_shapes(node), node.shape)
            named = tuple(owner[node.inputs[k]] for k in saved.inputs) + ((owner[node.index],) if saved.output else ())
            out.append((named, saved.values * value_bytes + 8 * saved.index_values, stat_bytes * saved.stat_values))
        return out

    def saved_bytes(self, value_bytes: int) -> list[tuple[int, int]]:
        """Per node: what autograd saves for backward in one train-mode forward, as (bytes per
        image, bytes per batch), counting each storage once, at the first layer that saves it
        (``Layer.saved``). Every layer runs in train mode, auxiliary heads included."""
        seen: set[int] = set()
        out = []
        for named, per_image, per_batch in self._saved(self._eager_owners(train=True), value_bytes):
            for storage in named:
                if storage not in seen:
                    seen.add(storage)
                    per_image += numel(self.nodes[storage].shape) * value_bytes
            out.append((per_image, per_batch))
        return out

    def train_step_bytes(self, value_bytes: int, batch: int, state_temp_bytes: int = 0) -> int:
        """Bytes: the most one training step holds beyond parameters, buffers and optimizer
        state — a simulation of eager PyTorch's standard step (docs/conventions.md, Memory).

        Forward (train mode) as :meth:`eager_peak_bytes`, except that storages autograd saves
        stay alive. Backward walks the layers in reverse: each layer allocates its parameters'
        gradients (kept to the end of the step) and a gradient for each input — views, adds and
        concatenations pass theirs on (``Layer.passes_gradient``); a tensor read twice has its
        second gradient summed into the first in place when that one is its own, else into a
        new tensor — then drops its output's gradient and the saved storages no earlier layer
        needs.
        The optimizer step then holds every gradient plus ``state_temp_bytes`` (Adam's square
        root of its second moments)."""
        owner = self._eager_owners(train=True)
        frees = self._frees(self.nodes, owner)
        saved = self._saved(owner, value_bytes)

        def size(index: int) -> int:
            return numel(self.nodes[index].shape) * value_bytes * batch

        retained: dict[int, int] = {}  # saved storage -> earliest layer saving it (freed after its backward)
        for node, (named, _, _) in zip(self.nodes, saved):
            for o in named:
                retained[o] = min(retained.get(o, node.index), node.index)
        live = peak = 0
        new_saved = [per_image * batch + per_batch for _, per_image, per_batch in saved]
        for node in self.nodes:
            if owner[node.index] == node.index:
                live += size(node.index)
            live += new_saved[node.index]
            peak = _larger(peak, live + self._scratch(node, value_bytes) * batch)
            for o in frees.get(node.index, ()):
                if o not in retained:
                    live -= size(o)
        outputs = {owner[self.nodes[-1].index], *(owner[n.index] for n in self.nodes if n.output)}
        for o in outputs - set(retained) - {0}:
            live -= size(o)  # the outputs die once the loss is computed
        release: dict[int, list[int]] = {}
        for o, first in retained.items():
            release.setdefault(first, []).append(o)
        # backward: gradients as blocks shared by reference (a view or add passes its own on)
        blocks: dict[int, list[int]] = {}  # block id -> [bytes, references]
        grad: dict[int, tuple[int, bool]] = {}  # node index -> (block of its output's gradient, shared)
        grads = 0
        ids = itertools.count()

        def drop(block: int) -> int:
            blocks[block][1] -= 1
            if blocks[block][1] == 0:
                return blocks.pop(block)[0]
            return 0

        live += 2 * value_bytes  # the scalar loss and its seed gradient
        for node in reversed(self.nodes[1:]):
            incoming, _ = grad.pop(node.index, (None, False))
            param_grads = node.cost.params * value_bytes
            grads += param_grads
            live += param_grads
            passes = node.layer is not None and node.layer.passes_gradient()
            for i in node.inputs:
                if i == 0:
                    continue  # the network's input needs no gradient
                if passes and incoming is not None:
                    blocks[incoming][1] += 1
                    block, shared = incoming, True  # another tensor's gradient or a view of it
                else:
                    block, shared = next(ids), False
                    blocks[block] = [size(i), 1]
                    live += size(i)
                if i in grad:  # a second consumer: autograd sums the two gradients
                    old, old_shared = grad.pop(i)
                    if not old_shared:  # into the first, in place: it is this input's alone
                        live -= drop(block)
                        block, shared = old, False
                    else:  # into a new tensor
                        total = next(ids)
                        blocks[total] = [size(i), 1]
                        live += size(i)
                        peak = _larger(peak, live)
                        live -= drop(old) + drop(block)
                        block, shared = total, False
                grad[i] = (block, shared)
            peak = _larger(peak, live)
            if incoming is not None:
                live -= drop(incoming)
            for o in release.get(node.index, ()):
                if o != 0:  # the caller still holds the input
                    live -= size(o)
            live -= new_saved[node.index]
        return _larger(peak, grads + state_temp_bytes)


def _larger(a: Any, b: Any) -> Any:
    try:
        return b if b > a else a
    except TypeError:  # symbolic sizes: keep every candidate in a sympy.Max
        return largest([a, b])

def _grow(rf: ReceptiveField, w: Window) -> ReceptiveField:
    """The field after a layer with window ``w``: each kernel step widens it by the jump so far."""
    if w is POINTWISE:
        return rf
    (r0, r1), (j0, j1) = rf.size, rf.jump
    (k0, k1), (s0, s1) = w.kernel, w.stride
    return ReceptiveField((r0 + (k0 - 1) * j0, r1 + (k1 - 1) * j1), (j0 * s0, j1 * s1), rf.global_context)


#: what applying a layer to given input shapes gives: output shape, cost, window, reuses its input
Applied = tuple[Shape, Cost, Window, bool]


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
        self.windows: list[Window] = [POINTWISE]  # each node's window, for recording blocks (spec.py)

    def error(self, message: str, path: str) -> SpecError:
        return SpecError(message, file=self.file, layer=path or self.name)

    def add(self, path: str, type_name: str, layer: Any, inputs: tuple[int, ...]) -> int:
        """Append ``layer`` applied to the nodes ``inputs``; returns the new node's index."""
        nodes = self.nodes
        key = (id(layer), *[nodes[i].shape for i in inputs])
        applied = self._applied.get(key)
        if applied is None:
            applied = self._applied[key] = self.apply(path, layer, list(key[1:]))
        return self.append(path, type_name, layer, inputs, applied)

    def apply(self, path: str, layer: Any, shapes: list[Shape]) -> Applied:
        """``layer`` applied to input ``shapes``: its output shape, cost, window and whether it reuses its input."""
        try:
            shape = layer.output(shapes)
            cost = layer.cost(shapes, shape)
            window = layer.window(shapes) if len(shapes) == 1 and len(shapes[0]) == 3 else POINTWISE
        except LayerError as exc:
            raise self.error(str(exc), path) from None
        return shape, cost, window, layer.reuses_input(shapes, shape)

    def append(self, path: str, type_name: str, layer: Any, inputs: tuple[int, ...], applied: Applied) -> int:
        """Append a node whose layer was already applied to its inputs' shapes (``apply``)."""
        nodes = self.nodes
        index = len(nodes)
        if index >= MAX_NODES:
            raise self.error(f"more than {MAX_NODES} layers; is a repeat count absurd?", path)
        shape, cost, window, reuses = applied
        first = nodes[inputs[0]]
        if len(inputs) == 1:
            rf = _grow(first.rf, window)
        else:
            # A merge sees the widest field of its inputs along the convolutional path, at the
            # stride of the inputs at its own resolution. A broadcast gate (an SE block's
            # C x 1 x 1 weights) adds global context, marked apart: it neither widens the field
            # nor makes the output coarser (docs/conventions.md).
            ins = [nodes[i] for i in inputs]
            gates = gate_inputs(type_name, inputs, [n.shape for n in ins], shape) if type_name in GATING_MERGES else ()
            rfs = [n.rf for n in ins]
            main = [n.rf for n in ins if n.index not in gates] or rfs if gates else rfs
            grid = shape[1:]
            full = [n.rf for n in ins if n.shape[1:] == grid] or rfs
            rf = ReceptiveField(
                (largest([r.size[0] for r in main]), largest([r.size[1] for r in main])),
                (largest([r.jump[0] for r in full]), largest([r.jump[1] for r in full])),
                bool(gates) or any([r.global_context for r in rfs]),
            )
        # Node(...) without its argument parsing (every field given, in order): the builder's hot path
        nodes.append(_new_node(Node, (index, path, type_name, layer, inputs, shape, cost, rf,
                                      first.storage if reuses else index, self.executed, False)))
        self.windows.append(window)
        self.paths[path] = index
        return index

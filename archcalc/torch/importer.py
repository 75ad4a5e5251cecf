"""from_torch: read any nn.Module into an archcalc graph, so that users can tabulate, compare and
plot their own models with the same formulas as specs.

The model is traced with torch.fx (modules *and* functional code), shapes come from running the
traced graph on fake tensors (the user's model is not modified, moved or run on real data; a
model built on the ``meta`` device is read without allocating a weight), and each operation
becomes the archcalc layer the op table (:mod:`archcalc.torch.ops`) names. Where fx cannot trace
a model, or leaves a Python function opaque (torchvision's Swin attention is ``fx.wrap``-ped),
torch.export does: its ATen ops go through the same table. ``graph.meta["traced_with"]`` says which.

**Parameters by construction.** A ledger holds every parameter and buffer tensor of the model,
once by identity (tied weights and modules called twice count once). Every row claims the
tensors it consumes — a module's own, or the parameters an op reads (``x + self.pos_embed``
becomes a ``constant`` row feeding the add) — and a row with a formula (conv, linear, norms,
attention) must claim exactly what its formula counts, or the import fails loudly. An op with
no formula becomes an ``op`` row with its real shape and the parameters it read, listed by name
in ``graph.meta["unsupported"]``; tensors no row read end in an explicit ``parameters`` row. So
``params`` always equals ``sum(p.numel() for p in model.parameters())`` (unique tensors), and
``buffers`` the model's buffers except BatchNorm's ``num_batches_tracked`` counters.

Shapes are per image: the model runs once on a batch of 1, and a tensor whose first dimension is
that batch drops it; one that folded the batch into another dimension (Swin's windows, B·nW)
keeps its full shape, which at batch 1 is the per-image shape.

Limits: torch.fx records ``out += identity`` as ``out + identity`` (a traced value has no
in-place add), so imported residual adds store a new tensor where the real model reuses one.
Control flow on tensor *values* defeats both tracers: one line says so.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import torch
from torch import fx, nn

from ..errors import SpecError
from ..graph import Graph, GraphBuilder
from ..layers import REGISTRY, LayerError, Shape
from . import ops

#: row types that carry the parameters they claimed in their fields instead of a formula
CARRIERS = {"op", "constant", "parameters", "gather"}
#: layer types with MACs: run on constants alone, they still become rows
COMPUTED = {"conv", "linear", "matmul", "einsum"}
#: BatchNorm's step counter: a buffer archcalc does not count (docs/conventions.md)
UNCOUNTED_BUFFERS = ("num_batches_tracked",)


@dataclass(frozen=True)
class Act:
    """An activation tensor: a graph node, and whether its first torch dimension is the batch."""

    index: int
    offset: int


@dataclass(frozen=True)
class ParamRef:
    """A tensor computed from parameters, buffers and constants only (a weight, ``pos_embed``,
    ``cls_token.expand(B, -1, -1)``): the ledger ids it reads and its full torch shape."""

    tensors: frozenset[int]
    full: tuple[int, ...]

    @property
    def numel(self) -> int:
        return math.prod(self.full)


class Lazy:
    """A tuple of tensors (split, unbind, a module returning several outputs): each element
    becomes a row when something reads it."""

    def __init__(self, makers: list[Callable[["Call"], Any]]) -> None:
        self.makers = makers
        self.made: dict[int, Any] = {}

    def get(self, i: int, c: "Call") -> Any:
        i %= len(self.makers)
        if i not in self.made:
            self.made[i] = self.makers[i](c)
        return self.made[i]


class Unreadable(Exception):
    """A handler cannot express this call with a formula: it becomes an `op` row."""


def _val(n: Any) -> Any:
    return n.meta.get("val") if isinstance(n, fx.Node) else n


def _per_image(full: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """Per-image shape and batch offset of a full shape traced at batch 1."""
    if len(full) >= 2 and full[0] == 1:
        return tuple(full[1:]), 1
    return (tuple(full) or (1,)), 0


@dataclass
class Call:
    """One traced call with its arguments resolved to importer values."""

    node: fx.Node
    target: Any
    module: nn.Module | None
    positional: list[Any]
    kwargs: dict[str, Any]
    names: tuple[str, ...]
    path: str
    claims: list[ParamRef]  # what the row claims by default: the module's tensors, or the ParamRefs among the args
    importer: "Importer"
    used: set[int] = field(default_factory=set)  # ids of ParamRefs that became constant rows

    def arg(self, name: str, default: Any = None) -> Any:
        if name in self.kwargs:
            return self.kwargs[name]
        if name in self.names:
            i = self.names.index(name)
            if i < len(self.positional):
                return self.positional[i]
        return default

    @staticmethod
    def is_act(v: Any) -> bool:
        return isinstance(v, Act)

    @property
    def acts(self) -> list[Act]:
        found: list[Act] = []

        def visit(a: Any) -> None:
            if isinstance(a, Act):
                found.append(a)
            elif isinstance(a, (list, tuple)):
                for b in a:
                    visit(b)

        visit(self.positional + list(self.kwargs.values()))
        return found

    @property
    def refs(self) -> list[ParamRef]:
        out: list[ParamRef] = []

        def visit(a: Any) -> None:
            if isinstance(a, ParamRef):
                out.append(a)
            elif isinstance(a, (list, tuple)):
                for b in a:
                    visit(b)

        visit(self.positional + list(self.kwargs.values()))
        return out

    @property
    def offsets(self) -> list[int]:
        return [a.offset for a in self.acts]

    @property
    def full(self) -> tuple[int, ...]:
        val = _val(self.node)
        if not isinstance(val, torch.Tensor):
            raise Unreadable("no single tensor output")
        return tuple(val.shape)

    @property
    def out(self) -> Shape:
        return _per_image(self.full)[0]

    @property
    def out_offset(self) -> int:
        return _per_image(self.full)[1]

    def dim(self, d: Any, new: bool = False) -> int | None:
        """A torch dimension of the first input as a per-image dimension; None for the batch."""
        if not isinstance(d, int):
            raise Unreadable(f"dimension {d!r}")
        source = self.acts[0]
        full_rank = len(self.full) if new else len(self.importer.shape(source)) + source.offset
        d %= full_rank
        if d < source.offset:
            return None
        return d - source.offset


class Importer:
    def __init__(self, model: nn.Module, input_shape: tuple[int, ...], name: str) -> None:
        self.model = model
        self.name = name
        self.input_shape = tuple(input_shape)
        # the ledger: every parameter and buffer tensor once, by identity
        self.ledger: dict[int, tuple[str, int, bool]] = {}
        for pname, p in model.named_parameters():
            self.ledger.setdefault(id(p), (pname, p.numel(), False))
        for bname, b in model.named_buffers():
            if not bname.endswith(UNCOUNTED_BUFFERS):
                self.ledger.setdefault(id(b), (bname, b.numel(), True))
        self.claimed: set[int] = set()
        self.builder = GraphBuilder(name, self.input_shape, name)
        self.unsupported: Counter[str] = Counter()
        self.used_names: set[str] = set()
        self.values: dict[fx.Node, Any] = {}
        self.placeholder_refs: dict[str, ParamRef] = {}  # export: lifted parameters and constants
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        self.x = torch.zeros((1, *input_shape), device=device)
        self.gm, self.via = self._trace()

    # tracing ------------------------------------------------------------------------------
    def _trace(self) -> tuple[fx.GraphModule, str]:
        try:
            gm = fx.symbolic_trace(self.model)
        except Exception as fx_exc:  # noqa: BLE001 - e.g. control flow on shapes; torch.export specialises them
            return self._export(fx_exc), "torch.export"
        opaque = [n for n in gm.graph.nodes if n.op == "call_function" and _user_function(n.target)]
        if opaque:  # fx.wrap-ped Python code (Swin's attention): export reads inside it
            try:
                return self._export(None), "torch.export"
            except SpecError:
                pass
        self._propagate(gm)
        return gm, "torch.fx"

    def _propagate(self, gm: fx.GraphModule) -> None:
        """Every node's value on fake tensors (shapes, and the ints that x.size() gives)."""
        from torch._subclasses.fake_tensor import FakeTensorMode

        class Record(fx.Interpreter):
            def run_node(self, n: fx.Node) -> Any:
                result = super().run_node(n)
                n.meta["val"] = result
                return result

        try:
            if self.x.is_meta:  # a model on the meta device already computes nothing: no fake tensors needed (5x faster)
                Record(gm).run(self.x)
            else:
                mode = FakeTensorMode(allow_non_fake_inputs=True)
                with mode:
                    Record(gm).run(mode.from_tensor(self.x))
        except Exception as exc:  # noqa: BLE001
            raise SpecError(f"the model does not run on a {list(self.input_shape)} input ({_first_line(exc)})", file=self.name) from None

    def _export(self, fx_exc: Exception | None) -> fx.GraphModule:
        try:
            program = torch.export.export(self.model, (self.x,), strict=False)
        except Exception as exc:  # noqa: BLE001
            why = f"torch.fx ({_first_line(fx_exc)}) nor " if fx_exc is not None else ""
            raise SpecError(f"neither {why}torch.export ({_first_line(exc)}) can trace this model", file=self.name) from None
        sig = program.graph_signature
        gm = program.graph_module
        lookup = {**dict(self.model.named_parameters(remove_duplicate=False)), **dict(self.model.named_buffers(remove_duplicate=False))}
        for node in gm.graph.nodes:
            if node.op != "placeholder":
                continue
            target = sig.inputs_to_parameters.get(node.name) or sig.inputs_to_buffers.get(node.name)
            shape = tuple(node.meta["val"].shape) if isinstance(node.meta.get("val"), torch.Tensor) else ()
            if target is not None and target in lookup:
                self.placeholder_refs[node.name] = ParamRef(frozenset({id(lookup[target])}), shape)
            elif node.name not in sig.user_inputs:
                self.placeholder_refs[node.name] = ParamRef(frozenset(), shape)
        return gm

    # the ledger ---------------------------------------------------------------------------
    def claim(self, refs: list[ParamRef]) -> tuple[int, int, bool]:
        """Claim the tensors of ``refs``: (new parameters, new buffers, whether any was claimed before)."""
        params = buffers = 0
        seen_before = False
        for ref in refs:
            for t in ref.tensors:
                if t not in self.ledger:
                    continue
                if t in self.claimed:
                    seen_before = True
                    continue
                self.claimed.add(t)
                _, numel, is_buffer = self.ledger[t]
                if is_buffer:
                    buffers += numel
                else:
                    params += numel
        return params, buffers, seen_before

    def module_refs(self, m: nn.Module) -> list[ParamRef]:
        tensors = [*m.parameters(), *m.buffers()]
        return [ParamRef(frozenset(id(t) for t in tensors), ())]

    # rows ---------------------------------------------------------------------------------
    def shape(self, a: Act) -> Shape:
        return self.builder.nodes[a.index].shape

    def _path(self, path: str) -> str:
        local, k = path, 1
        while local in self.used_names:
            k += 1
            local = f"{path}_{k}"
        self.used_names.add(local)
        return local

    def _append(self, path: str, kind: str, fields: dict[str, Any], inputs: tuple[int, ...]) -> int:
        try:
            layer = REGISTRY[kind](**fields)
        except LayerError as exc:
            raise Unreadable(str(exc)) from None
        try:
            return self.builder.add(self._path(path), kind, layer, inputs)
        except SpecError as exc:
            raise Unreadable(str(exc).split(": ", 1)[-1]) from None

    def row(self, c: Call, kind: str, fields: dict[str, Any], inputs: Any = None, claim: list[ParamRef] | None = None,
            tuple_output: bool = False, derived: bool = False, expect: tuple[int, ...] | None = None) -> Any:
        """Add the row for ``c``: layer ``kind`` on ``inputs`` (default: the first activation),
        claiming ``claim`` (default: what the call reads that no constant row took). ``derived``: the
        weight is computed from more tensors than it has values (NFNet's scaled weight standardisation
        reads a gain): the row holds them all."""
        acts = tuple(inputs) if inputs is not None else tuple(c.acts[:1])
        if not acts:
            raise Unreadable("no tensor input")
        refs = claim if claim is not None else [r for r in c.claims if id(r) not in c.used]
        expected = expect or (c.out if not tuple_output else _per_image(tuple(_val(c.node)[0].shape))[0])
        index = self._append(c.path, kind, fields, tuple(a.index for a in acts))
        node = self.builder.nodes[index]
        if tuple(node.shape) != tuple(expected):
            extra = len(node.shape) - len(expected)
            if extra <= 0 or tuple(node.shape[extra:]) != tuple(expected) or any(s != 1 for s in node.shape[:extra]):
                self.builder.nodes.pop()
                raise Unreadable(f"archcalc's {kind} gives {list(node.shape)} where PyTorch gives {list(expected)}")
            # a reduction over the dimension that held the batch (CrossViT's mean over stacked heads): a view drops the 1s
            viewed = self._append(c.path, "reshape", {"shape": list(expected)}, (index,))
            self.claim_for(c, kind, node, index, refs, derived)
            return Act(viewed, c.out_offset)
        self.claim_for(c, kind, node, index, refs, derived)
        act = Act(index, 1 if tuple_output else 0 if expect else c.out_offset)
        if tuple_output:
            return Lazy([lambda _c, act=act: act, lambda _c: None])
        return act

    def claim_for(self, c: Call, kind: str, node: Any, index: int, refs: list[ParamRef], derived: bool) -> None:
        """Claim ``refs`` for the row at ``index`` and check them against its formula (the ledger)."""
        params, buffers, before = self.claim(refs)
        cost = node.cost
        if (params, buffers) != (cost.params, cost.buffers):
            if params + buffers == cost.params + cost.buffers and not before:
                # a fixed weight held as a buffer (timm's BlurPool conv filter): the same values, not learnable
                biases = cost.biases if params >= cost.biases else 0
                self.builder.nodes[index] = node._replace(cost=replace(cost, params=params, biases=biases, buffers=buffers))
            elif derived and params + buffers >= cost.params + cost.buffers and not before:
                self.builder.nodes[index] = node._replace(cost=replace(cost, params=params, buffers=buffers))
            elif before and params <= cost.params and buffers <= cost.buffers:
                # a module called again, tied weights: shared tensors count at their first use, this row keeps the rest
                biases = cost.biases if params >= cost.biases else 0
                self.builder.nodes[index] = node._replace(cost=replace(cost, params=params, biases=biases, buffers=buffers))
            else:
                raise SpecError(
                    f"{kind} formula counts {cost.params:,} parameters and {cost.buffers:,} buffers, "
                    f"the tensors it reads hold {params:,} and {buffers:,}", file=self.name, layer=c.path)

    def carrier(self, c: Call, kind: str, fields: dict[str, Any], inputs: tuple[Act, ...], refs: list[ParamRef], offset: int) -> Act:
        params, buffers, _ = self.claim(refs)
        fields = {**fields, "params": params, "buffers": buffers}
        index = self._append(c.path, kind, fields, tuple(a.index for a in inputs))
        return Act(index, offset)

    def operands(self, c: Call, values: list[Any], rank: int | None = None) -> tuple[Act, ...]:
        """Tensor operands as rows: a parameter operand becomes a `constant` row that claims it.
        With ``rank``, an operand with more per-image dimensions, all leading ones of size 1
        (a tensor whose batch moved inward), is viewed without them first."""
        acts = [v for v in values if isinstance(v, Act)]
        if not acts:
            raise Unreadable("no activation operand")
        like = acts[0]
        out: list[Act] = []
        for v in values:
            if isinstance(v, Act):
                shape = self.shape(v)
                if rank is not None and len(shape) > rank and all(s == 1 for s in shape[:len(shape) - rank]):
                    index = self._append(c.path, "reshape", {"shape": list(shape[len(shape) - rank:])}, (v.index,))
                    v = Act(index, v.offset)
                out.append(v)
            elif isinstance(v, ParamRef):
                full = v.full
                rank = len(self.shape(like)) + like.offset
                batched = bool(like.offset and len(full) == rank and full and full[0] == 1)
                shape = full[1:] if batched else full
                c.used.add(id(v))
                labels = sorted(self.ledger[t][0] for t in v.tensors if t in self.ledger)
                out.append(self.carrier(c, "constant", {"shape": list(shape) or [1], "label": ", ".join(labels) or "constant"},
                                        (like,), [v], int(batched)))
        return tuple(out)

    def opaque(self, c: Call, label: str) -> Any:
        """A call with no formula: an `op` row with its real shape, claiming what it reads."""
        self.unsupported[label] += 1
        acts = tuple(c.acts[:1]) or (Act(0, 1),)
        refs = [r for r in c.claims if id(r) not in c.used]
        val = _val(c.node)
        if isinstance(val, torch.Tensor):
            shape, offset = _per_image(tuple(val.shape))
            return self.carrier(c, "op", {"label": label, "shape": list(shape)}, acts, refs, offset)
        if isinstance(val, (tuple, list)):
            tensors = [v for v in val if isinstance(v, torch.Tensor)]
            if not tensors:
                return None
            shape, offset = _per_image(tuple(tensors[0].shape))
            first = self.carrier(c, "op", {"label": label, "shape": list(shape)}, acts, refs, offset)

            def piece(i: int) -> Callable[[Call], Any]:
                def make(g: Call) -> Any:
                    v = val[i]
                    if not isinstance(v, torch.Tensor):
                        return None
                    if i == 0:
                        return first
                    shape, offset = _per_image(tuple(v.shape))
                    return self.carrier(g, "op", {"label": f"{label}[{i}]", "shape": list(shape)}, (first,), [], offset)

                return make

            return Lazy([piece(i) for i in range(len(val))])
        return None

    def pieces(self, c: Call, source: Act, d: int | None, equal_chunks: bool) -> Any:
        val = _val(c.node)
        if d is None or not isinstance(val, (tuple, list)):
            raise Unreadable("split along the batch")
        n = len(val)

        def make(i: int) -> Callable[[Call], Any]:
            def piece(g: Call) -> Any:
                shape = _per_image(tuple(val[i].shape))[0]
                if equal_chunks and d == 0 and len(self.shape(source)) == 3 and self.shape(source)[0] % n == 0:
                    return self.row(g, "chunk", {"chunks": n, "index": i}, inputs=(source,))
                return self.row(g, "slice", {"shape": list(shape), "label": f"{i + 1} of {n} along {d}"}, inputs=(source,))

            return piece

        return Lazy([make(i) for i in range(n)])

    def getitem(self, c: Call) -> Any:
        source, index = c.positional[0], c.positional[1] if len(c.positional) > 1 else None
        if isinstance(source, Lazy):
            value = source.get(int(index), c)
            if value is None and not c.node.users:
                return ()  # an output nothing reads (LSTM's final states, attention weights)
            return value
        if isinstance(source, (list, tuple)) and isinstance(index, int):
            return source[index]
        if isinstance(source, Act):
            if c.out == self.shape(source):
                return self.row(c, "identity", {}, inputs=(source,))
            if c.refs or math.prod(c.out) > math.prod(self.shape(source)):  # indexed by a tensor
                return self.carrier(c, "gather", {"shape": list(c.out), "label": _index_text(index)}, (source,), c.refs, c.out_offset)
            return self.row(c, "slice", {"shape": list(c.out), "label": _index_text(index)}, inputs=(source,))
        raise Unreadable("getitem")

    def einsum(self, c: Call, a: str, b: str, out: str, values: list[Any]) -> Any:
        acts = self.operands(c, values)
        offsets = [v.offset for v in acts]
        if all(offsets) and a[0] == b[0] == (out[:1] or "") and c.out_offset:  # the batch letter leads everywhere: drop it
            return self.row(c, "einsum", {"equation": f"{a[1:]},{b[1:]}->{out[1:]}"}, inputs=acts)
        # otherwise on full shapes (the batch is 1): view each operand with its batch dimension back
        full = []
        for act in acts:
            shape = self.shape(act)
            full.append(Act(self._append(c.path, "reshape", {"shape": [1, *shape]}, (act.index,)), 0) if act.offset else act)
        value = self.row(c, "einsum", {"equation": f"{a},{b}->{out}"}, inputs=full, expect=tuple(c.full))
        if c.out_offset:
            return Act(self._append(c.path, "reshape", {"shape": list(c.out)}, (value.index,)), 1)
        return value

    # the walk -----------------------------------------------------------------------------
    def run(self) -> Graph:
        output: Act | None = None
        for n in self.gm.graph.nodes:
            if n.op == "placeholder":
                self.values[n] = self.placeholder_refs.get(n.name, Act(0, 1))
            elif n.op == "get_attr":
                self.values[n] = self._attr(n)
            elif n.op == "output":
                output = _first_act(self._resolve(n.args[0]))
            else:
                self.values[n] = self._node(n)
        if output is None:
            raise SpecError("from_torch reads models with a tensor output", file=self.name)
        self._finish(output.index)
        meta = {"unsupported": dict(self.unsupported), "traced_with": self.via}
        return Graph(self.name, self.builder.nodes, source=self.via, meta=meta)

    def _attr(self, n: fx.Node) -> Any:
        obj: Any = self.gm
        for part in str(n.target).split("."):
            obj = getattr(obj, part)
        if isinstance(obj, torch.Tensor):
            return ParamRef(frozenset({id(obj)}) if id(obj) in self.ledger else frozenset(), tuple(obj.shape))
        return obj

    def _resolve(self, a: Any) -> Any:
        if isinstance(a, fx.Node):
            return self.values.get(a)
        if isinstance(a, list):
            return [self._resolve(b) for b in a]  # a plain list: fx's immutable_list cannot take a constant row
        if isinstance(a, tuple):
            return tuple(self._resolve(b) for b in a)
        if isinstance(a, dict):
            return {k: self._resolve(v) for k, v in a.items()}
        return a

    def _node(self, n: fx.Node) -> Any:
        positional = [self._resolve(a) for a in n.args]
        kwargs = {k: self._resolve(v) for k, v in n.kwargs.items()}
        module = self.gm.get_submodule(n.target) if n.op == "call_module" else None
        target = n.target
        val = _val(n)
        path = str(n.target) if module is not None else self._export_path(n)
        refs = self.module_refs(module) if module is not None else []
        c = Call(n, target, module, positional, kwargs, (), path, refs, self)
        c.claims = refs or c.refs
        entry = ops.module_entry(module) if module is not None else ops.CALLS.get(_key(target))
        if not c.acts and entry is not None and entry.layer in COMPUTED:
            # arithmetic on constants (Swin v2's position-bias MLP on a coordinate table): a row all the same,
            # fed by the table as a constant, so that its MACs count as FlopCounterMode counts them
            holder, i = (positional, 0) if entry.layer != "einsum" else (positional, 1)
            if entry.layer == "einsum" and len(positional) > 1 and isinstance(positional[1], list):
                holder, i = positional[1], 0
            if len(holder) > i and isinstance(holder[i], ParamRef):
                table = holder[i]
                shape, offset = _per_image(table.full)
                labels = sorted(self.ledger[t][0] for t in table.tensors if t in self.ledger)
                holder[i] = self.carrier(c, "constant", {"shape": list(shape), "label": ", ".join(labels) or "constant"},
                                         (Act(0, 1),), [table], offset)
                c.claims = refs or c.refs
        if not c.acts and not any(isinstance(a, Lazy) for a in positional):  # parameters, buffers and constants only
            if isinstance(val, torch.Tensor):
                return ParamRef(frozenset().union(*(r.tensors for r in c.claims)) if c.claims else frozenset(), tuple(val.shape))
            if module is not None and c.claims:
                return ParamRef(frozenset().union(*(r.tensors for r in c.claims)), ())
            return val
        if not _has_tensor(val):
            return val  # x.size(), x.shape, x.dim(): plain values
        handler = entry.handler if entry is not None else ops.BY_NAME.get(getattr(target, "__name__", ""))
        if isinstance(target, torch._ops.OpOverload):
            c.names = tuple("input" if a.name == "self" else a.name for a in target._schema.arguments)
        elif handler is not None:
            c.names = (_signature(target) if n.op == "call_function" else ()) or (entry.names if entry is not None else ())
        if handler is not None:
            try:
                value = handler(self, c)
            except Unreadable as why:
                return self.opaque(c, f"{_label(n, module)} ({why})" if str(why) else _label(n, module))
            except (LayerError, KeyError, TypeError, IndexError, ValueError, AttributeError) as exc:
                return self.opaque(c, f"{_label(n, module)} ({exc.__class__.__name__}: {str(exc)[:60]})")
            if value is not None:
                return value
        return self.opaque(c, _label(n, module))

    def _export_path(self, n: fx.Node) -> str:
        stack = n.meta.get("nn_module_stack") if self.via == "torch.export" else None
        if stack:  # name exported ops after the module that ran them: c, bn, layer1.0.conv1
            module_path = list(stack.values())[-1][0]
            if module_path:
                return str(module_path)
        return n.name

    def _finish(self, output: int) -> None:
        if output != len(self.builder.nodes) - 1:  # make the output the last row, as the JSON contract says
            self._append("output", "identity", {}, (output,))
        unclaimed: dict[str, list[int]] = {}
        for t, (tname, numel, is_buffer) in self.ledger.items():
            if t not in self.claimed:
                group = unclaimed.setdefault(tname.split(".")[0], [0, 0])
                group[is_buffer] += numel
        if unclaimed:  # tensors no row read (aux heads in eval, unused modules): counted, not run
            self.builder.executed = False
            for group, (params, buffers) in unclaimed.items():
                self._append(f"{group}.unused", "parameters",
                             {"count": params, "buffers": buffers, "label": f"{group}: not read in forward"}, (0,))
            self.builder.executed = True
            self._append("output", "identity", {}, (output,))  # the network's output stays the last row


def _key(target: Any) -> Any:
    try:
        hash(target)
    except TypeError:
        return None
    return target


def _user_function(target: Any) -> bool:
    """A plain Python function fx left unexpanded (fx.wrap), that the op table does not know."""
    if _key(target) in ops.CALLS or getattr(target, "__name__", "") in ops.BY_NAME:
        return False
    module = (getattr(target, "__module__", "") or "").split(".")[0]
    return callable(target) and module not in ("", "torch", "_operator", "operator", "builtins", "math")


_SIGNATURES: dict[Any, tuple[str, ...]] = {}


def _signature(fn: Any) -> tuple[str, ...]:
    if fn not in _SIGNATURES:
        import inspect

        try:
            params = inspect.signature(fn).parameters.values()
        except (TypeError, ValueError):
            params = []
        variadic = any(p.kind is p.VAR_POSITIONAL for p in params)  # F.max_pool2d's dispatch wrapper: (*args, **kwargs)
        _SIGNATURES[fn] = () if variadic else tuple(p.name for p in params)
    return _SIGNATURES[fn]


def _has_tensor(v: Any) -> bool:
    if isinstance(v, torch.Tensor):
        return True
    return isinstance(v, (list, tuple)) and any(_has_tensor(x) for x in v)


def _first_act(v: Any) -> Act | None:
    if isinstance(v, Act):
        return v
    if isinstance(v, (list, tuple)):
        return next((a for a in (_first_act(x) for x in v) if a is not None), None)
    if isinstance(v, dict):
        return next((a for a in (_first_act(x) for x in v.values()) if a is not None), None)
    return None


def _label(n: fx.Node, module: nn.Module | None) -> str:
    if module is not None:
        return type(module).__name__
    if n.op == "call_method":
        return f"Tensor.{n.target}"
    return str(getattr(n.target, "__name__", n.target))


def _index_text(index: Any) -> str:
    def one(i: Any) -> str:
        if isinstance(i, slice):
            return f"{'' if i.start is None else i.start}:{'' if i.stop is None else i.stop}" + (f":{i.step}" if i.step else "")
        return "..." if i is Ellipsis else "None" if i is None else str(i) if isinstance(i, int) else "tensor"

    return "[" + ", ".join(one(i) for i in (index if isinstance(index, tuple) else (index,))) + "]"


def _first_line(exc: BaseException | None) -> str:
    if exc is None:
        return ""
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0][:160] if text else ''}"


def trace(model: nn.Module, input_shape: tuple[int, ...], name: str | None = None) -> Graph:
    """The archcalc graph of an nn.Module for one image of ``input_shape`` = (C, H, W)."""
    was_training = model.training
    model.eval()
    try:
        return Importer(model, tuple(input_shape), name or type(model).__name__).run()
    finally:
        model.train(was_training)


def from_torch(model: nn.Module, input_shape: tuple[int, ...], *, name: str | None = None, batch: int = 1,
               dtype: str = "float32", count: str = "macs") -> Any:
    """Analyse an nn.Module like a spec: the same Report as ``archcalc.analyze`` returns.

    ``input_shape`` is (C, H, W), as in PyTorch. Operations without a formula are listed in
    ``report.meta["unsupported"]`` (name -> count) and printed by the CLI; their parameters are
    in the totals all the same.
    """
    from ..analysis import summarize

    return summarize(trace(model, input_shape, name), batch=batch, dtype=dtype, count=count)


def load_callable(ref: str) -> Callable[[], nn.Module]:
    """``package.module:callable``, ``path/to/file.py:callable``, ``torchvision:NAME`` or
    ``timm:NAME`` (random weights, never a download) -> a callable that builds the model."""
    import importlib
    import importlib.util
    from pathlib import Path

    module_name, _, attr = ref.rpartition(":")
    if module_name == "torchvision":
        import torchvision

        if attr not in torchvision.models.list_models():
            raise SpecError(f"torchvision has no model {attr!r} (torchvision.models.list_models() lists them)")
        return lambda: torchvision.models.get_model(attr, weights=None)
    if module_name == "timm":
        try:
            import timm
        except ImportError as exc:
            raise SpecError(f"{ref} needs timm: pip install timm ({exc})") from None
        if not timm.is_model(attr):
            raise SpecError(f"timm has no model {attr!r} (timm.list_models() lists them)")
        return lambda: timm.create_model(attr, pretrained=False)
    try:
        if module_name.endswith(".py"):
            spec = importlib.util.spec_from_file_location(Path(module_name).stem, module_name)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {module_name}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
        return getattr(module, attr)
    except (ImportError, AttributeError, OSError, SyntaxError) as exc:
        raise SpecError(f"cannot load {ref!r}: {exc.__class__.__name__}: {exc}") from None

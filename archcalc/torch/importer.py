"""from_torch: read any nn.Module into an archcalc graph, so that users can tabulate, compare and
plot their own models with the same formulas as specs.

The model is traced with torch.fx (modules *and* functional code: F.conv2d, x + y, torch.cat,
x.mean((2, 3)), x * s, x.chunk, view/transpose channel shuffles), shapes come from running the
traced graph on fake tensors (the user's model is not modified, moved or run on real data), and
each operation becomes the archcalc layer with the same semantics. An operation with no formula
becomes an `op` row with its real shape and no cost, and is listed by name and count in
``graph.meta["unsupported"]`` — never silently counted as zero.

Limits: torch.fx records ``out += identity`` as ``out + identity`` (a traced value has no
in-place add), so imported residual adds store a new tensor where the real model reuses one
(ResNet-18: 752,640 more activation values than the torchvision-exact spec; params, MACs and
peak memory agree). Models fx cannot trace (data-dependent control flow) are reported in one
line; torch.export is not used yet.
"""

from __future__ import annotations

import operator
from collections import Counter
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp, TensorMetadata

from ..errors import SpecError
from ..graph import Cost, Graph, Node, ReceptiveField
from ..layers import REGISTRY, LayerError
from ..spec import NetworkDef, _Builder, _Scope

ACTIVATION_MODULES: dict[type[nn.Module], str] = {
    nn.ReLU: "relu", nn.ReLU6: "relu6", nn.LeakyReLU: "leaky_relu", nn.ELU: "elu", nn.GELU: "gelu",
    nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.Hardsigmoid: "hardsigmoid", nn.Hardswish: "hardswish",
    nn.SiLU: "silu", nn.Mish: "mish",
}
ACTIVATION_FUNCTIONS: dict[Any, tuple[str, bool]] = {
    F.relu: ("relu", False), torch.relu: ("relu", False), F.relu_: ("relu", True), torch.relu_: ("relu", True),
    F.relu6: ("relu6", False), torch.sigmoid: ("sigmoid", False), F.sigmoid: ("sigmoid", False),
    torch.tanh: ("tanh", False), F.tanh: ("tanh", False), F.hardsigmoid: ("hardsigmoid", False),
    F.hardswish: ("hardswish", False), F.silu: ("silu", False), F.gelu: ("gelu", False),
    F.leaky_relu: ("leaky_relu", False), F.elu: ("elu", False), F.mish: ("mish", False),
}
ACTIVATION_METHODS = {
    "relu": ("relu", False), "relu_": ("relu", True), "sigmoid": ("sigmoid", False), "sigmoid_": ("sigmoid", True),
    "tanh": ("tanh", False), "tanh_": ("tanh", True),
}
ADD = {operator.add, torch.add, operator.iadd}
MUL = {operator.mul, torch.mul, operator.imul}
NON_TENSOR_METHODS = {"size", "dim", "numel", "type", "to", "float", "item"}


class _Chunks:
    """A tuple of equal channel slices (x.chunk(n, 1)); getitem picks one."""

    def __init__(self, source: int, chunks: int) -> None:
        self.source, self.chunks = source, chunks


def _meta_shape(n: fx.Node) -> tuple[int, ...] | None:
    meta = n.meta.get("tensor_meta")
    return tuple(meta.shape[1:]) if isinstance(meta, TensorMetadata) else None


def _args(n: fx.Node, names: list[str], defaults: dict[str, Any]) -> dict[str, Any]:
    """Positional and keyword arguments of a call, by parameter name."""
    out = dict(defaults)
    out.update(zip(names, n.args))
    out.update(n.kwargs)
    return out


def _spatial_dims(dims: Any) -> bool:
    dims = tuple(dims) if isinstance(dims, (list, tuple)) else (dims,)
    return sorted(d % 4 for d in dims) == [2, 3]


class _Importer:
    def __init__(self, model: nn.Module, input_shape: tuple[int, ...], name: str) -> None:
        self.model = model
        self.name = name
        try:
            self.gm = fx.symbolic_trace(model)
        except Exception as exc:  # noqa: BLE001 - fx raises many kinds; report one line
            raise SpecError(f"torch.fx cannot trace this model ({exc.__class__.__name__}: {str(exc).splitlines()[0][:200]})", file=name) from None
        from torch._subclasses.fake_tensor import FakeTensorMode

        fake = FakeTensorMode(allow_non_fake_inputs=True)
        try:
            device = next((p.device for p in model.parameters()), torch.device("cpu"))
            ShapeProp(self.gm, fake_mode=fake).propagate(torch.zeros((1, *input_shape), device=device))
        except Exception as exc:  # noqa: BLE001
            raise SpecError(f"the model does not run on a {list(input_shape)} input ({exc.__class__.__name__}: {str(exc).splitlines()[0][:200]})", file=name) from None
        self.builder = _Builder(NetworkDef(name, name, [], {}, "", {}), {})
        self.builder.nodes.append(Node(0, "input", "input", None, (), tuple(input_shape), Cost(), ReceptiveField(), 0))
        self.values: dict[fx.Node, Any] = {}
        self.unsupported: Counter[str] = Counter()
        self.used_params: set[str] = set()

    # -----------------------------------------------------------------------------------
    def run(self) -> Graph:
        for n in self.gm.graph.nodes:
            if n.op == "placeholder":
                self.values[n] = 0
            elif n.op == "get_attr":
                self.used_params.add(str(n.target))
            elif n.op == "output":
                out = n.args[0]
                if not isinstance(out, fx.Node) or not isinstance(self.values.get(out), int):
                    raise SpecError("from_torch reads models with one tensor output", file=self.name)
                self._finish(self.values[out])
            else:
                self.values[n] = self._node(n)
        return Graph(self.name, self.builder.nodes, source="torch", meta={"unsupported": dict(self.unsupported)})

    def _finish(self, output: int) -> None:
        nodes = self.builder.nodes
        if output != len(nodes) - 1:  # make the output the last row, as the JSON contract says
            self._add("output", "identity", {}, (output,))
        unused: Counter[str] = Counter()
        for pname, p in self.model.named_parameters():
            owner = pname.rsplit(".", 1)[0] if "." in pname else ""
            if pname not in self.used_params and owner not in self.used_params:
                unused[pname.split(".")[0]] += p.numel()
        if unused:
            self.builder.executed = False
            for group, count in unused.items():
                self._add(f"{group}.unused", "parameters", {"count": count, "label": f"{group}: not run in forward"}, (0,))
            self.builder.executed = True
            self._add("output", "identity", {}, (output,)) if nodes[-1].type == "parameters" else None

    def _add(self, path: str, kind: str, fields: dict[str, Any], inputs: tuple[int, ...], expect: tuple[int, ...] | None = None) -> int:
        scope = _Scope("")
        local = path if path not in {n.name for n in self.builder.nodes[-64:]} else scope.auto(path + "_")
        try:
            layer = REGISTRY[kind](**fields)
        except LayerError as exc:
            raise SpecError(str(exc), file=self.name, layer=path) from None
        index = self.builder.add(local, kind, layer, inputs)
        got = self.builder.nodes[index].shape
        if expect is not None and tuple(got) != tuple(expect):
            raise SpecError(f"archcalc's {kind} gives {list(got)} where PyTorch gives {list(expect)}", file=self.name, layer=path)
        return index

    def _opaque(self, n: fx.Node, label: str, inputs: tuple[int, ...]) -> int | None:
        shape = _meta_shape(n)
        if shape is None:
            return None
        self.unsupported[label] += 1
        return self._add(n.name, "op", {"label": label, "shape": list(shape)}, inputs or (0,), shape)

    def _tensor_inputs(self, n: fx.Node) -> tuple[int, ...]:
        found: list[int] = []

        def visit(a: Any) -> None:
            if isinstance(a, fx.Node) and isinstance(self.values.get(a), int):
                found.append(self.values[a])
            elif isinstance(a, (list, tuple)):
                for b in a:
                    visit(b)

        visit(list(n.args) + list(n.kwargs.values()))
        return tuple(found)

    # -----------------------------------------------------------------------------------
    def _node(self, n: fx.Node) -> Any:
        inputs = self._tensor_inputs(n)
        shape = _meta_shape(n)
        if n.op == "call_module":
            module = self.gm.get_submodule(n.target)
            self.used_params.add(str(n.target))
            return self._module(n, module, inputs, shape)
        if n.op == "call_method":
            return self._method(n, inputs, shape)
        return self._function(n, inputs, shape)

    def _module(self, n: fx.Node, m: nn.Module, inputs: tuple[int, ...], shape: Any) -> Any:
        path = str(n.target)
        kind, fields = _module_layer(m, shape)
        if kind is None:
            return self._opaque(n, type(m).__name__, inputs)
        if kind == "linear" and len(self.builder.nodes[inputs[0]].shape) != 1:
            return self._opaque(n, "Linear on a feature map", inputs)
        return self._add(path, kind, fields, inputs[:1], shape)

    def _method(self, n: fx.Node, inputs: tuple[int, ...], shape: Any) -> Any:
        name = str(n.target)
        if name in NON_TENSOR_METHODS or not inputs:
            return None
        if name in ACTIVATION_METHODS:
            kind, inplace = ACTIVATION_METHODS[name]
            return self._add(n.name, kind, {"inplace": inplace}, inputs[:1], shape)
        if name in ("view", "reshape", "flatten"):
            return self._reshape(n, inputs[0], shape)
        if name == "contiguous":
            return self._add(n.name, "contiguous", {}, inputs[:1], shape)
        if name == "transpose":
            return self._transpose(n, inputs[0], n.args[1], n.args[2], shape)
        if name == "chunk":
            a = _args(n, ["self", "chunks", "dim"], {"dim": 0})
            return self._chunk(n, inputs[0], a["chunks"], a["dim"])
        if name == "mean":
            a = _args(n, ["self", "dim", "keepdim"], {"dim": None, "keepdim": False})
            return self._mean(n, inputs[0], a["dim"], a["keepdim"], shape)
        if name in ("add", "add_", "mul", "mul_"):
            return self._arith(n, name.rstrip("_"), inputs, name.endswith("_"), shape)
        return self._opaque(n, f"Tensor.{name}", inputs)

    def _function(self, n: fx.Node, inputs: tuple[int, ...], f: Any) -> Any:
        target, shape = n.target, f
        if target is operator.getitem:
            source = self.values.get(n.args[0])
            if isinstance(source, _Chunks):
                return self._add(n.name, "chunk", {"chunks": source.chunks, "index": n.args[1]}, (source.source,), shape)
            return None if shape is None else self._opaque(n, "getitem", inputs)
        if not inputs:
            return None
        if target in ACTIVATION_FUNCTIONS:
            kind, inplace = ACTIVATION_FUNCTIONS[target]
            inplace = inplace or bool(n.kwargs.get("inplace", False))
            return self._add(n.name, kind, {"inplace": inplace}, inputs[:1], shape)
        if target in (F.conv2d, torch.conv2d):
            a = _args(n, ["input", "weight", "bias", "stride", "padding", "dilation", "groups"],
                      {"bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1})
            weight = a["weight"].meta["tensor_meta"].shape
            fields = {"out": weight[0], "kernel": list(weight[2:]), "stride": a["stride"], "padding": a["padding"],
                      "dilation": a["dilation"], "groups": a["groups"], "bias": a["bias"] is not None}
            return self._add(n.name, "conv", _listify(fields), inputs[:1], shape)
        if target is F.linear:
            a = _args(n, ["input", "weight", "bias"], {"bias": None})
            weight = a["weight"].meta["tensor_meta"].shape
            return self._add(n.name, "linear", {"out": weight[0], "bias": a["bias"] is not None}, inputs[:1], shape)
        if target in (F.max_pool2d, F.avg_pool2d):
            names = ["input", "kernel_size", "stride", "padding"] + (["dilation", "ceil_mode"] if target is F.max_pool2d else ["ceil_mode", "count_include_pad"])
            a = _args(n, names, {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "count_include_pad": True})
            kind = "maxpool" if target is F.max_pool2d else "avgpool"
            fields = {"kernel": a["kernel_size"], "stride": a["stride"] or a["kernel_size"], "padding": a["padding"], "ceil_mode": a["ceil_mode"]}
            fields.update({"dilation": a["dilation"]} if kind == "maxpool" else {"count_include_pad": a["count_include_pad"]})
            return self._add(n.name, kind, _listify(fields), inputs[:1], shape)
        if target in (F.adaptive_avg_pool2d, F.adaptive_max_pool2d):
            kind = "adaptive_avgpool" if target is F.adaptive_avg_pool2d else "adaptive_maxpool"
            return self._add(n.name, kind, {"out": list(shape[1:])}, inputs[:1], shape)
        if target is F.dropout or target is F.dropout2d:
            return self._add(n.name, "dropout", {}, inputs[:1], shape)
        if target in (F.softmax, torch.softmax):
            return self._add(n.name, "softmax", {}, inputs[:1], shape)
        if target is torch.flatten:
            return self._reshape(n, inputs[0], shape)
        if target is torch.transpose:
            return self._transpose(n, inputs[0], n.args[1], n.args[2], shape)
        if target is torch.chunk:
            a = _args(n, ["input", "chunks", "dim"], {"dim": 0})
            return self._chunk(n, inputs[0], a["chunks"], a["dim"])
        if target is torch.mean:
            a = _args(n, ["input", "dim", "keepdim"], {"dim": None, "keepdim": False})
            return self._mean(n, inputs[0], a["dim"], a["keepdim"], shape)
        if target in (torch.cat, torch.concat):
            a = _args(n, ["tensors", "dim"], {"dim": 0})
            if a["dim"] % 4 == 1 and shape is not None and len(shape) == 3:
                return self._add(n.name, "concat", {}, inputs, shape)
            return self._opaque(n, f"cat(dim={a['dim']})", inputs)
        if target in ADD or target in MUL:
            return self._arith(n, "add" if target in ADD else "mul", inputs, target in (operator.iadd, operator.imul), shape)
        if getattr(target, "__name__", "") == "stochastic_depth":  # torchvision.ops: identity in eval
            if not _args(n, ["input", "p", "mode", "training"], {"training": True})["training"]:
                return self._add(n.name, "identity", {}, inputs[:1], shape)
        return self._opaque(n, getattr(target, "__name__", str(target)), inputs)

    # helpers ----------------------------------------------------------------------------
    def _reshape(self, n: fx.Node, source: int, shape: Any) -> int:
        if len(shape) == 1 and len(self.builder.nodes[source].shape) == 3:
            return self._add(n.name, "flatten", {}, (source,), shape)
        return self._add(n.name, "reshape", {"shape": list(shape)}, (source,), shape)

    def _transpose(self, n: fx.Node, source: int, a: int, b: int, shape: Any) -> int | None:
        rank = len(self.builder.nodes[source].shape) + 1
        a, b = a % rank, b % rank
        if 0 in (a, b):
            return self._opaque(n, "transpose of the batch dimension", (source,))
        return self._add(n.name, "transpose", {"dims": [a - 1, b - 1]}, (source,), shape)

    def _chunk(self, n: fx.Node, source: int, chunks: int, dim: int) -> Any:
        if dim % (len(self.builder.nodes[source].shape) + 1) != 1:
            return self._opaque(n, f"chunk(dim={dim})", (source,))
        return _Chunks(source, chunks)

    def _mean(self, n: fx.Node, source: int, dims: Any, keepdim: bool, shape: Any) -> int | None:
        if dims is not None and _spatial_dims(dims) and len(self.builder.nodes[source].shape) == 3:
            return self._add(n.name, "mean", {"keepdim": bool(keepdim)}, (source,), shape)
        return self._opaque(n, f"mean(dim={dims})", (source,))

    def _arith(self, n: fx.Node, kind: str, inputs: tuple[int, ...], inplace: bool, shape: Any) -> int | None:
        if len(inputs) == 2 and shape is not None:
            return self._add(n.name, kind, {"inplace": inplace}, inputs, shape)
        return self._opaque(n, f"{kind} with a scalar", inputs)


def _listify(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}


def _module_layer(m: nn.Module, shape: Any) -> tuple[str | None, dict[str, Any]]:
    """The archcalc layer a leaf module is, with its fields; (None, {}) if it has no formula."""
    if type(m) in ACTIVATION_MODULES:
        return ACTIVATION_MODULES[type(m)], {"inplace": bool(getattr(m, "inplace", False))}
    if isinstance(m, nn.Conv2d) and not isinstance(m, nn.ConvTranspose2d):
        return "conv", _listify({"out": m.out_channels, "kernel": m.kernel_size, "stride": m.stride, "padding": m.padding,
                                 "dilation": m.dilation, "groups": m.groups, "bias": m.bias is not None})
    if isinstance(m, nn.Linear):
        return "linear", {"out": m.out_features, "bias": m.bias is not None}
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return "batchnorm", {"affine": m.affine, "eps": m.eps}
    if isinstance(m, nn.MaxPool2d):
        return "maxpool", _listify({"kernel": m.kernel_size, "stride": m.stride, "padding": m.padding, "dilation": m.dilation, "ceil_mode": m.ceil_mode})
    if isinstance(m, nn.AvgPool2d):
        return "avgpool", _listify({"kernel": m.kernel_size, "stride": m.stride, "padding": m.padding, "ceil_mode": m.ceil_mode, "count_include_pad": m.count_include_pad})
    if isinstance(m, nn.AdaptiveAvgPool2d):
        return "adaptive_avgpool", {"out": list(shape[1:])}
    if isinstance(m, nn.AdaptiveMaxPool2d):
        return "adaptive_maxpool", {"out": list(shape[1:])}
    if isinstance(m, nn.LocalResponseNorm):
        return "lrn", {"size": m.size, "alpha": m.alpha, "beta": m.beta, "k": m.k}
    if isinstance(m, nn.Softmax) and m.dim in (1, -3):
        return "softmax", {}
    if isinstance(m, (nn.Dropout, nn.Dropout2d)):
        return "dropout", {"p": m.p}
    if isinstance(m, nn.Identity):
        return "identity", {}
    if isinstance(m, nn.Flatten) and m.start_dim == 1:
        return ("flatten", {}) if shape is not None and len(shape) == 1 else ("reshape", {"shape": list(shape)})
    if isinstance(m, nn.ChannelShuffle):
        return "channel_shuffle", {"groups": m.groups}
    return None, {}


def trace(model: nn.Module, input_shape: tuple[int, ...], name: str | None = None) -> Graph:
    """The archcalc graph of an nn.Module for one image of ``input_shape`` = (C, H, W)."""
    was_training = model.training
    model.eval()
    try:
        return _Importer(model, tuple(input_shape), name or type(model).__name__).run()
    finally:
        model.train(was_training)


def from_torch(model: nn.Module, input_shape: tuple[int, ...], *, name: str | None = None, batch: int = 1,
               dtype: str = "float32", count: str = "macs") -> Any:
    """Analyse an nn.Module like a spec: the same Report as ``archcalc.analyze`` returns.

    ``input_shape`` is (C, H, W), as in PyTorch. Operations without a formula are listed in
    ``report.meta["unsupported"]`` (name -> count) and printed by the CLI.
    """
    from ..analysis import summarize

    return summarize(trace(model, input_shape, name), batch=batch, dtype=dtype, count=count)


def load_callable(ref: str) -> Callable[[], nn.Module]:
    """``package.module:callable`` or ``path/to/file.py:callable`` -> the callable."""
    import importlib
    import importlib.util
    from pathlib import Path

    module_name, _, attr = ref.rpartition(":")
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

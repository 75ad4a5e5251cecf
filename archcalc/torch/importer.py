"""from_torch: read any nn.Module into an archcalc graph, so that users can tabulate, compare and
plot their own models with the same formulas as specs.

The model is traced with torch.fx (modules *and* functional code: F.conv2d, x + y, torch.cat,
x.mean((2, 3)), x * s, x.chunk, view/transpose channel shuffles), shapes come from running the
traced graph on fake tensors (the user's model is not modified, moved or run on real data), and
each operation becomes the archcalc layer with the same semantics. An operation with no formula
becomes an `op` row with its real shape and no cost, and is listed by name and count in
``graph.meta["unsupported"]`` — never silently counted as zero.

Where fx cannot trace a model (Python control flow on shapes, say), torch.export does: its ATen
ops map onto the same handlers. ``graph.meta["traced_with"]`` says which was used.

Limits: torch.fx records ``out += identity`` as ``out + identity`` (a traced value has no
in-place add), so imported residual adds store a new tensor where the real model reuses one
(ResNet-18: 752,640 more activation values than the torchvision-exact spec; params, MACs and
peak memory agree). Control flow on tensor *values* defeats both tracers: one line says so.
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
from ..spec import NetworkDef, _Builder

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
    """Per-image shape of a node's tensor output (fx ShapeProp's tensor_meta, or export's val)."""
    meta = n.meta.get("tensor_meta")
    if isinstance(meta, TensorMetadata):
        return tuple(meta.shape[1:])
    val = n.meta.get("val")
    return tuple(val.shape[1:]) if isinstance(val, torch.Tensor) else None


def _full_shape(n: fx.Node) -> tuple[int, ...]:
    meta = n.meta.get("tensor_meta")
    return tuple(meta.shape) if isinstance(meta, TensorMetadata) else tuple(n.meta["val"].shape)


aten = torch.ops.aten
#: torch.export's ATen ops -> the Python function with the same arguments, handled once below
ATEN: dict[Any, Any] = {
    aten.conv2d.default: F.conv2d, aten.linear.default: F.linear, aten.max_pool2d.default: F.max_pool2d,
    aten.avg_pool2d.default: F.avg_pool2d, aten.adaptive_avg_pool2d.default: F.adaptive_avg_pool2d,
    aten.relu.default: torch.relu, aten.relu_.default: torch.relu_, aten.sigmoid.default: torch.sigmoid,
    aten.tanh.default: torch.tanh, aten.hardsigmoid.default: F.hardsigmoid, aten.hardswish.default: F.hardswish,
    aten.hardswish_.default: F.hardswish, aten.silu.default: F.silu, aten.silu_.default: F.silu, aten.gelu.default: F.gelu,
    aten.chunk.default: torch.chunk, aten.cat.default: torch.cat, aten.add.Tensor: operator.add,
    aten.add_.Tensor: operator.iadd, aten.mul.Tensor: operator.mul, aten.mul_.Tensor: operator.imul,
    aten.mean.dim: torch.mean, aten.flatten.using_ints: torch.flatten, aten.transpose.int: torch.transpose,
    aten.dropout.default: F.dropout, aten.softmax.int: torch.softmax,
}
ATEN_VIEWS = {aten.view.default, aten.reshape.default, aten._unsafe_view.default}
ATEN_COPIES = {aten.contiguous.default, aten.clone.default}


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
        self.params_of: dict[str, str] = {}  # export: placeholder name -> parameter name
        self.inputs: set[str] = set()
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        x = torch.zeros((1, *input_shape), device=device)
        try:
            self.gm = fx.symbolic_trace(model)
            self.via = "torch.fx"
        except Exception as fx_exc:  # noqa: BLE001 - e.g. control flow on shapes; torch.export specialises them
            self.gm = self._export(x, fx_exc)
        else:
            from torch._subclasses.fake_tensor import FakeTensorMode

            try:
                ShapeProp(self.gm, fake_mode=FakeTensorMode(allow_non_fake_inputs=True)).propagate(x)
            except Exception as exc:  # noqa: BLE001
                raise SpecError(f"the model does not run on a {list(input_shape)} input ({_first_line(exc)})", file=name) from None
        self.used_names: set[str] = set()
        self.paths: dict[str, str] = {}  # export node name -> the module path that ran it
        self.builder = _Builder(NetworkDef(name, name, [], {}, "", {}), {})
        self.builder.nodes.append(Node(0, "input", "input", None, (), tuple(input_shape), Cost(), ReceptiveField(), 0))
        self.values: dict[fx.Node, Any] = {}
        self.unsupported: Counter[str] = Counter()
        self.used_params: set[str] = set()

    def _export(self, x: torch.Tensor, fx_exc: Exception) -> fx.GraphModule:
        """torch.export where fx cannot trace: ATen ops with shapes, parameters as placeholders."""
        try:
            program = torch.export.export(self.model, (x,), strict=False)
        except Exception as exc:  # noqa: BLE001
            raise SpecError(
                f"neither torch.fx ({_first_line(fx_exc)}) nor torch.export ({_first_line(exc)}) can trace this model",
                file=self.name,
            ) from None
        signature = program.graph_signature
        self.params_of = {**signature.inputs_to_parameters, **signature.inputs_to_buffers}
        self.inputs = set(signature.user_inputs)
        self.via = "torch.export"
        return program.graph_module

    # -----------------------------------------------------------------------------------
    def run(self) -> Graph:
        for n in self.gm.graph.nodes:
            if n.op == "placeholder":
                if n.name in self.params_of:
                    if n.users:
                        self.used_params.add(self.params_of[n.name])
                    continue
                self.values[n] = 0
            elif n.op == "get_attr":
                self.used_params.add(str(n.target))
            elif n.op == "output":
                out = n.args[0]
                if isinstance(out, (tuple, list)) and len(out) == 1:
                    out = out[0]
                if not isinstance(out, fx.Node) or not isinstance(self.values.get(out), int):
                    raise SpecError("from_torch reads models with one tensor output", file=self.name)
                self._finish(self.values[out])
            else:
                self.values[n] = self._node(n)
        return Graph(self.name, self.builder.nodes, source=self.via, meta={"unsupported": dict(self.unsupported), "traced_with": self.via})

    def _finish(self, output: int) -> None:
        nodes = self.builder.nodes
        if output != len(nodes) - 1:  # make the output the last row, as the JSON contract says
            self._add("output", "identity", {}, (output,))
        unused: Counter[str] = Counter()
        for pname, p in self.model.named_parameters():
            owner = pname.rsplit(".", 1)[0] if "." in pname else ""
            if pname not in self.used_params and owner not in self.used_params:
                unused[pname.split(".")[0]] += p.numel()
        if unused:  # parameters of modules that never run (aux heads in eval): counted, not executed
            self.builder.executed = False
            for group, count in unused.items():
                self._add(f"{group}.unused", "parameters", {"count": count, "label": f"{group}: not run in forward"}, (0,))
            self.builder.executed = True
            self._add("output", "identity", {}, (output,))  # the network's output stays the last row

    def _add(self, path: str, kind: str, fields: dict[str, Any], inputs: tuple[int, ...], expect: tuple[int, ...] | None = None) -> int:
        local, k = self.paths.get(path, path), 1
        while local in self.used_names:
            k += 1
            local = f"{path}_{k}"
        self.used_names.add(local)
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
        stack = n.meta.get("nn_module_stack") if self.via == "torch.export" else None
        if stack:  # name exported ops after the module that ran them: c, bn, layer1.0.conv1
            module_path = list(stack.values())[-1][0]
            if module_path:
                self.paths[n.name] = module_path
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
        target, shape = ATEN.get(n.target, n.target), f
        if n.target in ATEN_VIEWS:
            return self._reshape(n, inputs[0], shape) if inputs else None
        if n.target in ATEN_COPIES:
            return self._add(n.name, "contiguous", {}, inputs[:1], shape) if inputs else None
        if n.target is aten.batch_norm.default:
            a = _args(n, ["input", "weight", "bias", "running_mean", "running_var", "training", "momentum", "eps"], {})
            return self._add(n.name, "batchnorm", {"affine": a["weight"] is not None, "eps": a["eps"]}, inputs[:1], shape)
        if n.target is aten.hardtanh.default and list(n.args[1:3]) == [0.0, 6.0]:
            return self._add(n.name, "relu6", {"inplace": False}, inputs[:1], shape)
        if n.target in (aten.channel_shuffle.default, aten.native_channel_shuffle.default):
            return self._add(n.name, "channel_shuffle", {"groups": n.args[1]}, inputs[:1], shape)
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
            weight = _full_shape(a["weight"])
            fields = {"out": weight[0], "kernel": list(weight[2:]), "stride": a["stride"], "padding": a["padding"],
                      "dilation": a["dilation"], "groups": a["groups"], "bias": a["bias"] is not None}
            return self._add(n.name, "conv", _listify(fields), inputs[:1], shape)
        if target is F.linear:
            a = _args(n, ["input", "weight", "bias"], {"bias": None})
            weight = _full_shape(a["weight"])
            return self._add(n.name, "linear", {"out": weight[0], "bias": a["bias"] is not None}, inputs[:1], shape)
        if target in (F.max_pool2d, F.avg_pool2d):
            names = ["input", "kernel_size", "stride", "padding"] + (["dilation", "ceil_mode"] if target is F.max_pool2d else ["ceil_mode", "count_include_pad"])
            a = _args(n, names, {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "count_include_pad": True})
            kind = "maxpool" if target is F.max_pool2d else "avgpool"
            # ATen writes the default stride as []: the kernel size
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0][:160] if text else ''}"


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

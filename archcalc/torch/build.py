"""Build a runnable nn.Module from an archcalc graph: one builder per layer type.

Every layer type of the engine (archcalc.layers.REGISTRY) has a builder here; a test asserts
the two registries have the same keys. The module runs the graph's nodes in order, keeping each
tensor until its last reader, so any spec — branches, merges, references — becomes a model.
Ops run out of place (counts do not depend on it, and a generic executor cannot prove an
in-place op safe). Auxiliary heads that do not run at inference are built (their parameters
count) but skipped in forward, as torchvision does in eval mode.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import nn

from ..graph import Graph, Node
from ..layers import Layer, Shape
from .ops import ACTIVATIONS

Builder = Callable[[Layer, list[Shape]], nn.Module]
BUILDERS: dict[str, Builder] = {}


def builder(*types: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        for t in types:
            if t in BUILDERS:
                raise ValueError(f"builder for {t!r} registered twice")
            BUILDERS[t] = fn
        return fn

    return register


class Fn(nn.Module):
    """A parameter-free functional op as a module (so hooks and names work)."""

    def __init__(self, fn: Callable[..., torch.Tensor], text: str) -> None:
        super().__init__()
        self.fn, self.text = fn, text

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return self.fn(*xs)

    def extra_repr(self) -> str:
        return self.text


def _padding(layer: Any) -> Any:
    return layer.padding if isinstance(layer.padding, str) else tuple(layer.padding)


@builder("conv")
def _conv(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.Conv2d(shapes[0][0], layer.out, layer.kernel, layer.stride, _padding(layer), layer.dilation, layer.groups, layer.bias)


@builder("linear")
def _linear(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.Linear(shapes[0][-1], layer.out, layer.bias)


@builder("conv1d", "conv3d")
def _conv_n(layer: Any, shapes: list[Shape]) -> nn.Module:
    cls = nn.Conv1d if layer.type == "conv1d" else nn.Conv3d
    return cls(shapes[0][0], layer.out, layer.kernel, layer.stride, layer.padding, layer.dilation, layer.groups, layer.bias)


@builder("conv_transpose")
def _conv_transpose(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.ConvTranspose2d(shapes[0][0], layer.out, layer.kernel, layer.stride, layer.padding, layer.output_padding,
                              layer.groups, layer.bias, layer.dilation)


@builder("maxpool")
def _maxpool(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.MaxPool2d(layer.kernel, layer.stride, layer.padding, layer.dilation, ceil_mode=layer.ceil_mode)


@builder("avgpool")
def _avgpool(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.AvgPool2d(layer.kernel, layer.stride, layer.padding, layer.ceil_mode, layer.count_include_pad)


@builder("adaptive_avgpool")
def _adaptive_avg(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.AdaptiveAvgPool2d(layer.out)


@builder("adaptive_maxpool")
def _adaptive_max(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.AdaptiveMaxPool2d(layer.out)


@builder("mean")
def _mean(layer: Any, shapes: list[Shape]) -> nn.Module:
    keepdim = layer.keepdim
    return Fn(lambda x: x.mean((2, 3), keepdim=keepdim), f"x.mean((2, 3), keepdim={keepdim})")


class _ChannelsAt(nn.Module):
    """A batch norm whose channels sit at another per-image dimension: moved to dim 1 and back."""

    def __init__(self, bn: nn.Module, dim: int) -> None:
        super().__init__()
        self.bn, self.dim = bn, dim + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(x.movedim(self.dim, 1)).movedim(1, self.dim)


@builder("batchnorm")
def _bn(layer: Any, shapes: list[Shape]) -> nn.Module:
    cls = {3: nn.BatchNorm2d, 4: nn.BatchNorm3d}.get(len(shapes[0]), nn.BatchNorm1d)
    bn = cls(shapes[0][layer.dim], eps=float(layer.eps), affine=layer.affine)
    return bn if layer.dim == 0 else _ChannelsAt(bn, layer.dim)


@builder("lrn")
def _lrn(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.LocalResponseNorm(layer.size, float(layer.alpha), float(layer.beta), float(layer.k))


# one module per activation type, as the op table names it
for _name, (_cls, _) in ACTIVATIONS.items():
    builder(_name)(lambda layer, shapes, _cls=_cls: _cls())


@builder("softmax")
def _softmax(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.Softmax(dim=layer.dim + 1)


@builder("layer_norm")
def _layer_norm(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.LayerNorm(list(layer.shape), elementwise_affine=layer.affine, bias=layer.bias)


@builder("group_norm")
def _group_norm(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.GroupNorm(layer.groups, shapes[0][0], affine=layer.affine)


@builder("instance_norm")
def _instance_norm(layer: Any, shapes: list[Shape]) -> nn.Module:
    cls = {2: nn.InstanceNorm1d, 3: nn.InstanceNorm2d, 4: nn.InstanceNorm3d}[len(shapes[0])]
    return cls(shapes[0][0], affine=layer.affine, track_running_stats=layer.track_running_stats)


@builder("prelu")
def _prelu(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.PReLU(layer.count)


@builder("glu")
def _glu(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.GLU(layer.dim + 1)


@builder("elementwise")
def _elementwise(layer: Any, shapes: list[Shape]) -> nn.Module:
    op = layer.op
    return Fn(lambda *xs: getattr(torch, op)(*xs) if len(xs) > 1 or op not in ("sub", "div", "pow") else xs[0], f"torch.{op}")


class _Constant(nn.Module):
    """A parameter (or buffer) used as a tensor, broadcast over the batch of the tensor it meets."""

    def __init__(self, layer: Any) -> None:
        super().__init__()
        shape = tuple(layer.shape)
        if layer.params:
            self.weight = nn.Parameter(torch.zeros(shape))
        else:
            self.register_buffer("weight", torch.zeros(shape))

    def forward(self, like: torch.Tensor) -> torch.Tensor:
        return self.weight.expand(like.shape[0], *self.weight.shape)


@builder("constant")
def _constant(layer: Any, shapes: list[Shape]) -> nn.Module:
    return _Constant(layer)


@builder("matmul")
def _matmul(layer: Any, shapes: list[Shape]) -> nn.Module:
    return Fn(torch.matmul, "torch.matmul")


@builder("einsum")
def _einsum(layer: Any, shapes: list[Shape]) -> nn.Module:
    lhs, _, out = layer.equation.partition("->")
    equation = ",".join("Z" + t for t in lhs.split(",")) + "->Z" + out  # the batch as one more letter
    return Fn(lambda *xs: torch.einsum(equation, *xs), f"torch.einsum({equation!r})")


@builder("attention")
def _attention(layer: Any, shapes: list[Shape]) -> nn.Module:
    return Fn(lambda q, k, v, *rest: torch.nn.functional.scaled_dot_product_attention(q, k, v), "F.scaled_dot_product_attention")


class _MHA(nn.Module):
    def __init__(self, layer: Any, shapes: list[Shape]) -> None:
        super().__init__()
        e = shapes[0][-1]
        kdim, vdim = (shapes[1][-1], shapes[2][-1]) if len(shapes) == 3 else (e, e)
        self.mha = nn.MultiheadAttention(e, layer.heads, bias=layer.bias, add_bias_kv=layer.add_bias_kv,
                                         kdim=kdim, vdim=vdim, batch_first=True)

    def forward(self, q: torch.Tensor, k: torch.Tensor | None = None, v: torch.Tensor | None = None) -> torch.Tensor:
        return self.mha(q, q if k is None else k, q if v is None else v, need_weights=False)[0]


@builder("multihead_attention")
def _mha(layer: Any, shapes: list[Shape]) -> nn.Module:
    return _MHA(layer, shapes)


@builder("permute")
def _permute(layer: Any, shapes: list[Shape]) -> nn.Module:
    dims = [0, *(d + 1 for d in layer.dims)]
    return Fn(lambda x: x.permute(*dims), f"x.permute{tuple(dims)}")


@builder("expand")
def _expand(layer: Any, shapes: list[Shape]) -> nn.Module:
    shape = tuple(layer.shape)
    return Fn(lambda x: x.expand(x.shape[0], *shape), f"x.expand(N, {', '.join(map(str, shape))})")


@builder("slice")
def _slice(layer: Any, shapes: list[Shape]) -> nn.Module:
    shape = tuple(layer.shape)
    # the first values of each dimension: the same shape and cost as the slice it stands for
    return Fn(lambda x: x[(slice(None), *(slice(0, s) for s in shape))].reshape(x.shape[0], *shape), f"x[{layer.label}]")


class _LSTM(nn.Module):
    def __init__(self, layer: Any, shapes: list[Shape]) -> None:
        super().__init__()
        self.lstm = nn.LSTM(shapes[0][-1], layer.hidden, layer.layers, bias=layer.bias, batch_first=True,
                            bidirectional=layer.bidirectional)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lstm(x)[0]


@builder("lstm")
def _lstm(layer: Any, shapes: list[Shape]) -> nn.Module:
    return _LSTM(layer, shapes)


@builder("gather")
def _gather(layer: Any, shapes: list[Shape]) -> nn.Module:
    shape = tuple(layer.shape)
    return Fn(lambda x: x.reshape(x.shape[0], -1)[:, :1].expand(x.shape[0], math.prod(shape)).reshape(x.shape[0], *shape),
              f"x[{layer.label}]")


@builder("stack")
def _stack(layer: Any, shapes: list[Shape]) -> nn.Module:
    dim = layer.dim + 1
    return Fn(lambda *xs: torch.stack(xs, dim=dim), f"torch.stack(dim={dim})")


@builder("pad")
def _pad(layer: Any, shapes: list[Shape]) -> nn.Module:
    pads, mode = list(layer.pads), layer.mode
    return Fn(lambda x: torch.nn.functional.pad(x, pads, mode=mode), f"F.pad({pads}, {mode!r})")


@builder("upsample")
def _upsample(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.Upsample(size=tuple(layer.size), mode=layer.mode)


@builder("reduce")
def _reduce(layer: Any, shapes: list[Shape]) -> nn.Module:
    dims, keep, op = [d + 1 for d in layer.dims], layer.keepdim, layer.op
    if op == "norm":
        return Fn(lambda x: torch.linalg.vector_norm(x, dim=dims, keepdim=keep), f"vector_norm(dim={dims})")
    return Fn(lambda x: getattr(torch, op)(x, dim=dims, keepdim=keep), f"torch.{op}(dim={dims}, keepdim={keep})")


@builder("dropout")
def _dropout(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.Dropout(float(layer.p))


@builder("identity")
def _identity(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.Identity()


@builder("flatten")
def _flatten(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.Flatten()


@builder("chunk")
def _chunk(layer: Any, shapes: list[Shape]) -> nn.Module:
    chunks, index = layer.chunks, layer.index
    return Fn(lambda x: x.chunk(chunks, dim=1)[index], f"x.chunk({chunks}, dim=1)[{index}]")


@builder("channel_shuffle")
def _shuffle(layer: Any, shapes: list[Shape]) -> nn.Module:
    return nn.ChannelShuffle(layer.groups)


@builder("concat")
def _concat(layer: Any, shapes: list[Shape]) -> nn.Module:
    dim = layer.dim + 1
    return Fn(lambda *xs: torch.cat(xs, dim=dim), f"torch.cat(dim={dim})")


@builder("reshape")
def _reshape(layer: Any, shapes: list[Shape]) -> nn.Module:
    shape = tuple(layer.shape)
    return Fn(lambda x: x.reshape(x.shape[0], *shape), f"x.reshape(N, {', '.join(map(str, shape))})")


@builder("transpose")
def _transpose(layer: Any, shapes: list[Shape]) -> nn.Module:
    a, b = layer.dims
    return Fn(lambda x: x.transpose(a + 1, b + 1), f"x.transpose({a + 1}, {b + 1})")


@builder("contiguous")
def _contiguous(layer: Any, shapes: list[Shape]) -> nn.Module:
    return Fn(lambda x: x.contiguous(), "x.contiguous()")


@builder("op")
def _op(layer: Any, shapes: list[Shape]) -> nn.Module:
    raise NotImplementedError(f"cannot rebuild {layer.label!r}: archcalc has no formula or builder for it")


class _Held(nn.Module):
    """Parameters that exist but never run (auxiliary heads in eval mode)."""

    def __init__(self, count: int, buffers: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(count))
        self.register_buffer("held", torch.empty(buffers))


@builder("parameters")
def _parameters(layer: Any, shapes: list[Shape]) -> nn.Module:
    return _Held(layer.count, layer.buffers)


def _sum(*xs: torch.Tensor) -> torch.Tensor:
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def _product(*xs: torch.Tensor) -> torch.Tensor:
    out = xs[0]
    for x in xs[1:]:
        out = out * x
    return out


@builder("add")
def _add(layer: Any, shapes: list[Shape]) -> nn.Module:
    return Fn(_sum, "a + b")


@builder("mul")
def _mul(layer: Any, shapes: list[Shape]) -> nn.Module:
    return Fn(_product, "a * b")


def module_name(node: Node) -> str:
    """nn.Module names cannot contain dots: layer3.1.conv2 -> layer3_1_conv2 (kept unique by index)."""
    return f"n{node.index}_" + node.name.replace(".", "_").replace("-", "_")


class GraphModule(nn.Module):
    """An archcalc graph as a PyTorch model. ``self.paths`` maps module names back to layer paths."""

    def __init__(self, graph: Graph) -> None:
        super().__init__()
        self.graph_name = graph.name
        self.layers = nn.ModuleDict()
        self.paths: dict[str, str] = {}
        self._plan: list[tuple[str, tuple[int, ...], bool]] = []
        for node in graph.nodes[1:]:
            shapes = [graph.nodes[i].shape for i in node.inputs]
            name = module_name(node)
            self.layers[name] = BUILDERS[node.type](node.layer, shapes)
            self.paths[name] = node.name
            self._plan.append((name, node.inputs, node.executed))
        last_use: dict[int, int] = {}
        for step, (_, inputs, executed) in enumerate(self._plan, start=1):
            if executed:
                for i in inputs:
                    last_use[i] = step
        self._free_after = {step: [i for i, s in last_use.items() if s == step] for step in set(last_use.values())}
        self._output = len(graph.nodes) - 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values: dict[int, torch.Tensor] = {0: x}
        for step, (name, inputs, executed) in enumerate(self._plan, start=1):
            if not executed:
                continue
            values[step] = self.layers[name](*(values[i] for i in inputs))
            for i in self._free_after.get(step, ()):
                if i != self._output:
                    values.pop(i, None)
        return values[self._output]


def to_torch(target: Any, input: Any = None, params: Any = None) -> GraphModule:
    """A runnable nn.Module for a spec: a built-in name, a spec path, a NetworkDef or a Graph."""
    from ..spec import NetworkDef, build, find

    if isinstance(target, Graph):
        graph = target
    else:
        net = target if isinstance(target, NetworkDef) else find(str(target))
        graph = build(net, input=input, params=params)
    return GraphModule(graph)

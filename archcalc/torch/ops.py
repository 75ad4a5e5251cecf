"""The op table: everything archcalc knows about a PyTorch operation, one entry per op.

Each entry names the archcalc layer type an operation becomes and a handler that reads its
fields from the call. The keys are what torch.fx and torch.export record: nn.Module classes
(matched along the class hierarchy), functions (``F.conv2d``, ``torch.cat``, ``operator.add``),
Tensor method names (``"permute"``) and ATen overloads (``aten.conv2d.default``). The importer
dispatches through it; ``archcalc.torch.build`` takes the module class of each activation from
it, and ``archcalc.torch.reference`` the leaf modules it compares. Adding an op = one entry.

A handler gets the importer and a :class:`~archcalc.torch.importer.Call` and returns the op's
value: a row it added, a python value, or None when it has nothing to say (the importer then
records the call as an ``op`` row with its real shape, its parameters claimed, listed as
unsupported).
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from .importer import Call, Importer

aten = torch.ops.aten
Handler = Callable[["Importer", "Call"], Any]


@dataclass(frozen=True)
class Entry:
    layer: str  # the archcalc layer type it becomes ("" when it is plumbing with no row of its own)
    handler: Handler
    keys: tuple[Any, ...]  # module classes, functions, method names, ATen overloads
    names: tuple[str, ...] = ()  # positional argument names where no signature says them


TABLE: list[Entry] = []


def entry(layer: str, *keys: Any, names: str = "") -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        TABLE.append(Entry(layer, fn, keys, tuple(names.split())))
        return fn

    return register


def opname(target: Any) -> str:
    """``torch.sum``, ``"sum"`` and ``aten.sum.dim_IntList`` all read ``sum``."""
    return str(getattr(target, "__name__", target)).split(".")[0]


def _pairs(v: Any) -> Any:
    return list(v) if isinstance(v, (tuple, list)) else v


# --- convolution and linear ------------------------------------------------------------------
CONV_TYPES = {1: "conv1d", 2: "conv", 3: "conv3d"}


@entry("conv", nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, F.conv1d, F.conv2d, F.conv3d, F.conv_transpose2d,
       torch.conv1d, torch.conv2d, torch.conv3d, torch.conv_transpose2d, aten.conv1d.default, aten.conv2d.default,
       aten.conv3d.default, aten.conv_transpose2d.input, aten.convolution.default,
       names="input weight bias stride padding dilation groups")
def conv(imp: Importer, c: Call) -> Any:
    m = c.module
    if m is not None:
        transposed = isinstance(m, nn.ConvTranspose2d)
        weight, fields = tuple(m.weight.shape), {"stride": m.stride, "padding": m.padding, "dilation": m.dilation,
                                                 "groups": m.groups, "bias": m.bias is not None}
        if transposed:
            fields["output_padding"] = m.output_padding
        if getattr(m, "padding_mode", "zeros") != "zeros":
            return None
    else:
        name = getattr(c.target, "__name__", str(c.target))
        transposed = "transpose" in name or bool(c.arg("transposed", False))
        w = c.arg("weight")
        if w is None or not hasattr(w, "full"):
            return None
        weight = tuple(w.full)
        fields = {k: c.arg(k, d) for k, d in (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1))}
        fields["bias"] = c.arg("bias") is not None
        if transposed:
            fields["output_padding"] = c.arg("output_padding", 0)
    if isinstance(fields["padding"], str) and (len(weight) != 4 or transposed):
        return None  # 'same' / 'valid' only for the 2-D conv layer
    spatial = len(weight) - 2
    out = weight[1] * fields["groups"] if transposed else weight[0]
    if transposed and spatial != 2:
        return None
    kind = "conv_transpose" if transposed else CONV_TYPES[spatial]
    if kind == "conv":
        fields.pop("output_padding", None)
    fields = {k: _pairs(v) for k, v in fields.items()}
    w = c.arg("weight")
    return imp.row(c, kind, {"out": out, "kernel": list(weight[2:]), **fields}, derived=len(getattr(w, "tensors", ())) > 1)


@entry("linear", nn.Linear, F.linear, aten.linear.default, names="input weight bias")
def linear(imp: Importer, c: Call) -> Any:
    tokens = len(imp.shape(c.acts[0])) > 1
    if c.module is not None:
        return imp.row(c, "linear", {"out": c.module.out_features, "bias": c.module.bias is not None, "tokens": tokens})
    w = c.arg("weight")
    return imp.row(c, "linear", {"out": w.full[0], "bias": c.arg("bias") is not None, "tokens": tokens}) if hasattr(w, "full") else None


@entry("matmul", torch.matmul, torch.bmm, torch.mm, operator.matmul, "matmul", "bmm", "mm", "__matmul__",
       aten.matmul.default, aten.bmm.default, aten.mm.default, names="input other")
def matmul(imp: Importer, c: Call) -> Any:
    a, b = c.positional[0], c.positional[1]
    if hasattr(b, "full") and not hasattr(a, "full") and len(b.full) == 2:
        # x @ W with a weight matrix: a linear layer without bias (W is in x out)
        return imp.row(c, "linear", {"out": b.full[1], "bias": False, "tokens": len(imp.shape(a)) > 1}, claim=[b])
    return imp.row(c, "matmul", {}, inputs=imp.operands(c, [a, b]))


@entry("linear", torch.addmm, aten.addmm.default, names="input mat1 mat2")
def addmm(imp: Importer, c: Call) -> Any:
    w = c.arg("mat2")
    if hasattr(w, "full") and c.is_act(c.arg("mat1")):
        return imp.row(c, "linear", {"out": w.full[1], "bias": True, "tokens": len(imp.shape(c.arg("mat1"))) > 1}, inputs=(c.arg("mat1"),))
    return None


@entry("einsum", torch.einsum, aten.einsum.default, names="equation operands")
def einsum(imp: Importer, c: Call) -> Any:
    """Two-operand einsum: as a matmul of the operands after moving the contracted letters
    last/first; MACs = product of every letter's size (FlopCounterMode's bmm after the same rewrite)."""
    eq = str(c.positional[0]).replace(" ", "")
    ops = list(c.positional[1]) if isinstance(c.positional[1], (list, tuple)) else list(c.positional[1:])
    m = re.fullmatch(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]*)", eq)
    if not m or len(ops) != 2 or not all(c.is_act(o) or hasattr(o, "full") for o in ops):
        return None
    return imp.einsum(c, m.group(1), m.group(2), m.group(3), ops)


@entry("attention", F.scaled_dot_product_attention, aten.scaled_dot_product_attention.default,
       names="query key value attn_mask dropout_p is_causal scale")
def attention(imp: Importer, c: Call) -> Any:
    q, k, v, mask = c.arg("query"), c.arg("key"), c.arg("value"), c.arg("attn_mask")
    extra = [mask] if hasattr(mask, "full") or c.is_act(mask) else []  # a relative position bias feeds the scores
    return imp.row(c, "attention", {}, inputs=imp.operands(c, [q, k, v, *extra]))


@entry("multihead_attention", nn.MultiheadAttention)
def multihead_attention(imp: Importer, c: Call) -> Any:
    m = c.module
    if not m.batch_first or c.arg("attn_mask") is not None or c.arg("key_padding_mask") is not None:
        return None
    acts = c.acts
    inputs = acts[:1] if len({a.index for a in acts[:3]}) == 1 else acts[:3]
    return imp.row(c, "multihead_attention", {"heads": m.num_heads, "bias": m.in_proj_bias is not None,
                                              "add_bias_kv": m.bias_k is not None}, inputs=tuple(inputs), tuple_output=True)


@entry("lstm", nn.LSTM)
def lstm(imp: Importer, c: Call) -> Any:
    m = c.module
    if not m.batch_first or m.proj_size or len(c.acts) != 1:
        return None
    return imp.row(c, "lstm", {"hidden": m.hidden_size, "layers": m.num_layers, "bidirectional": m.bidirectional,
                               "bias": m.bias}, tuple_output=True)


# --- normalisation -------------------------------------------------------------------------
@entry("batchnorm", nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, F.batch_norm, torch.batch_norm, aten.batch_norm.default,
       aten._native_batch_norm_legit_no_training.default,
       names="input running_mean running_var weight bias training momentum eps")
def batch_norm(imp: Importer, c: Call) -> Any:
    dim = 1 - c.acts[0].offset  # torch's dim 1; per image 1 where the batch was folded in (LeViT's bn(x.flatten(0, 1)))
    m = c.module
    if m is not None:
        if not m.track_running_stats:
            return None
        return imp.row(c, "batchnorm", {"affine": m.affine, "eps": m.eps, "dim": dim})
    if c.arg("running_mean") is None:
        return None
    return imp.row(c, "batchnorm", {"affine": c.arg("weight") is not None, "eps": c.arg("eps", 1e-5), "dim": dim})


@entry("layer_norm", nn.LayerNorm, F.layer_norm, torch.layer_norm, aten.layer_norm.default,
       names="input normalized_shape weight bias eps")
def layer_norm(imp: Importer, c: Call) -> Any:
    m = c.module
    if m is not None:
        return imp.row(c, "layer_norm", {"shape": list(m.normalized_shape), "affine": m.elementwise_affine,
                                         "bias": getattr(m, "bias", None) is not None})
    shape = c.arg("normalized_shape")
    w, b = c.arg("weight"), c.arg("bias")
    return imp.row(c, "layer_norm", {"shape": list(shape), "affine": w is not None, "bias": b is not None})


@entry("group_norm", nn.GroupNorm, F.group_norm, torch.group_norm, aten.group_norm.default,
       names="input num_groups weight bias eps")
def group_norm(imp: Importer, c: Call) -> Any:
    if c.module is not None:
        return imp.row(c, "group_norm", {"groups": c.module.num_groups, "affine": c.module.affine})
    return imp.row(c, "group_norm", {"groups": c.arg("num_groups"), "affine": c.arg("weight") is not None})


@entry("instance_norm", nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d, F.instance_norm, aten.instance_norm.default,
       names="input running_mean running_var weight bias use_input_stats momentum eps")
def instance_norm(imp: Importer, c: Call) -> Any:
    if c.module is not None:
        return imp.row(c, "instance_norm", {"affine": c.module.affine, "track_running_stats": c.module.track_running_stats})
    return imp.row(c, "instance_norm", {"affine": c.arg("weight") is not None, "track_running_stats": c.arg("running_mean") is not None})


@entry("lrn", nn.LocalResponseNorm)
def lrn(imp: Importer, c: Call) -> Any:
    m = c.module
    return imp.row(c, "lrn", {"size": m.size, "alpha": m.alpha, "beta": m.beta, "k": m.k})


# --- pooling -------------------------------------------------------------------------------
@entry("maxpool", nn.MaxPool2d, F.max_pool2d, torch.max_pool2d, aten.max_pool2d.default,
       names="input kernel_size stride padding dilation ceil_mode")
def max_pool(imp: Importer, c: Call) -> Any:
    m = c.module
    a = m.__dict__ if m is not None else {k: c.arg(k, d) for k, d in
                                          (("kernel_size", None), ("stride", None), ("padding", 0), ("dilation", 1), ("ceil_mode", False))}
    if m is None and c.arg("return_indices", False):
        return None
    return imp.row(c, "maxpool", {"kernel": _pairs(a["kernel_size"]), "stride": _pairs(a["stride"] or a["kernel_size"]),
                                  "padding": _pairs(a["padding"]), "dilation": _pairs(a["dilation"]), "ceil_mode": a["ceil_mode"]})


@entry("avgpool", nn.AvgPool2d, F.avg_pool2d, aten.avg_pool2d.default,
       names="input kernel_size stride padding ceil_mode count_include_pad divisor_override")
def avg_pool(imp: Importer, c: Call) -> Any:
    m = c.module
    a = m.__dict__ if m is not None else {k: c.arg(k, d) for k, d in
                                          (("kernel_size", None), ("stride", None), ("padding", 0), ("ceil_mode", False), ("count_include_pad", True))}
    # ATen writes the default stride as []: the kernel size
    return imp.row(c, "avgpool", {"kernel": _pairs(a["kernel_size"]), "stride": _pairs(a["stride"] or a["kernel_size"]),
                                  "padding": _pairs(a["padding"]), "ceil_mode": a["ceil_mode"], "count_include_pad": a["count_include_pad"]})


@entry("adaptive_avgpool", nn.AdaptiveAvgPool2d, F.adaptive_avg_pool2d, aten.adaptive_avg_pool2d.default, names="input output_size")
def adaptive_avg(imp: Importer, c: Call) -> Any:
    return imp.row(c, "adaptive_avgpool", {"out": list(c.out[1:])}) if len(c.out) == 3 else None


@entry("adaptive_maxpool", nn.AdaptiveMaxPool2d, F.adaptive_max_pool2d, names="input output_size")
def adaptive_max(imp: Importer, c: Call) -> Any:
    if c.module is not None and c.module.return_indices:
        return None
    return imp.row(c, "adaptive_maxpool", {"out": list(c.out[1:])}) if len(c.out) == 3 else None


# --- elementwise ---------------------------------------------------------------------------
#: activation layer type -> (module class, functions and methods and ATen ops)
ACTIVATIONS: dict[str, tuple[type[nn.Module], tuple[Any, ...]]] = {
    "relu": (nn.ReLU, (F.relu, torch.relu, F.relu_, torch.relu_, "relu", "relu_", aten.relu.default, aten.relu_.default)),
    "relu6": (nn.ReLU6, (F.relu6,)),
    "leaky_relu": (nn.LeakyReLU, (F.leaky_relu, F.leaky_relu_, aten.leaky_relu.default)),
    "elu": (nn.ELU, (F.elu, aten.elu.default)),
    "gelu": (nn.GELU, (F.gelu, aten.gelu.default)),
    "sigmoid": (nn.Sigmoid, (torch.sigmoid, F.sigmoid, "sigmoid", "sigmoid_", aten.sigmoid.default, aten.sigmoid_.default)),
    "tanh": (nn.Tanh, (torch.tanh, F.tanh, "tanh", "tanh_", aten.tanh.default)),
    "hardsigmoid": (nn.Hardsigmoid, (F.hardsigmoid, aten.hardsigmoid.default, aten.hardsigmoid_.default)),
    "hardswish": (nn.Hardswish, (F.hardswish, aten.hardswish.default, aten.hardswish_.default)),
    "silu": (nn.SiLU, (F.silu, aten.silu.default, aten.silu_.default)),
    "mish": (nn.Mish, (F.mish, aten.mish.default)),
    "hardtanh": (nn.Hardtanh, (F.hardtanh, F.hardtanh_, aten.hardtanh.default, aten.hardtanh_.default)),
    "hardshrink": (nn.Hardshrink, (F.hardshrink,)),
    "softshrink": (nn.Softshrink, (F.softshrink,)),
    "tanhshrink": (nn.Tanhshrink, (F.tanhshrink,)),
    "softsign": (nn.Softsign, (F.softsign,)),
    "softplus": (nn.Softplus, (F.softplus, aten.softplus.default)),
    "logsigmoid": (nn.LogSigmoid, (F.logsigmoid,)),
    "selu": (nn.SELU, (F.selu, torch.selu)),
    "celu": (nn.CELU, (F.celu,)),
    "rrelu": (nn.RReLU, (F.rrelu,)),
    "threshold": (nn.Threshold, (F.threshold,)),
}


def _activation(kind: str) -> Handler:
    def handle(imp: Importer, c: Call) -> Any:
        if kind == "hardtanh" and c.module is None and c.arg("min_val", -1.0) == 0.0 and c.arg("max_val", 1.0) == 6.0:
            return imp.row(c, "relu6", {"inplace": False})  # F.relu6 is hardtanh(0, 6) in ATen
        inplace = bool(getattr(c.module, "inplace", False)) or bool(c.arg("inplace", False)) or str(c.target).endswith("_")
        return imp.row(c, kind, {"inplace": inplace}, inputs=c.acts[:1])

    return handle


for _kind, (_module, _calls) in ACTIVATIONS.items():
    entry(_kind, _module, *_calls, names="input min_val max_val" if _kind == "hardtanh" else "input")(_activation(_kind))


@entry("prelu", nn.PReLU, F.prelu, names="input weight")
def prelu(imp: Importer, c: Call) -> Any:
    count = c.module.num_parameters if c.module is not None else c.arg("weight").numel
    return imp.row(c, "prelu", {"count": count})


@entry("glu", nn.GLU, F.glu, names="input dim")
def glu(imp: Importer, c: Call) -> Any:
    dim = c.module.dim if c.module is not None else c.arg("dim", -1)
    d = c.dim(dim)
    return None if d is None else imp.row(c, "glu", {"dim": d})


@entry("softmax", nn.Softmax, nn.LogSoftmax, nn.Softmin, nn.Softmax2d, F.softmax, torch.softmax, F.log_softmax, torch.log_softmax,
       F.softmin, "softmax", "log_softmax", aten.softmax.int, aten._softmax.default, aten.log_softmax.int, names="input dim")
def softmax(imp: Importer, c: Call) -> Any:
    dim = -3 if isinstance(c.module, nn.Softmax2d) else getattr(c.module, "dim", None) if c.module is not None else c.arg("dim")
    d = c.dim(dim if dim is not None else 1)
    return None if d is None else imp.row(c, "softmax", {"dim": d})


ARITH: dict[Any, str] = {
    operator.add: "add", torch.add: "add", operator.iadd: "add", "add": "add", "add_": "add", "__add__": "add", "__radd__": "add",
    aten.add.Tensor: "add", aten.add_.Tensor: "add", aten.add.Scalar: "add",
    operator.mul: "mul", torch.mul: "mul", operator.imul: "mul", "mul": "mul", "mul_": "mul", "__mul__": "mul", "__rmul__": "mul",
    aten.mul.Tensor: "mul", aten.mul_.Tensor: "mul", aten.mul.Scalar: "mul",
    operator.sub: "sub", torch.sub: "sub", operator.isub: "sub", "sub": "sub", "sub_": "sub", "__sub__": "sub", "__rsub__": "sub",
    aten.sub.Tensor: "sub", aten.rsub.Scalar: "sub",
    operator.truediv: "div", torch.div: "div", operator.itruediv: "div", "div": "div", "div_": "div", "__truediv__": "div",
    aten.div.Tensor: "div", aten.div.Scalar: "div", aten.div_.Tensor: "div", aten.div_.Scalar: "div",
    aten.sub_.Tensor: "sub", aten.mul_.Scalar: "mul", aten.add_.Scalar: "add", aten.neg.default: "neg",
    aten.exp.default: "exp", aten.sqrt.default: "sqrt", aten.rsqrt.default: "rsqrt", aten.abs.default: "abs",
    operator.pow: "pow", torch.pow: "pow", "pow": "pow", aten.pow.Tensor_Scalar: "pow",
    operator.neg: "neg", torch.neg: "neg", "neg": "neg", torch.exp: "exp", "exp": "exp", torch.sqrt: "sqrt", "sqrt": "sqrt",
    torch.rsqrt: "rsqrt", "rsqrt": "rsqrt", torch.abs: "abs", "abs": "abs", torch.log: "log", "log": "log",
    torch.maximum: "maximum", torch.minimum: "minimum", torch.clamp: "clamp", "clamp": "clamp", "clamp_": "clamp",
    "clamp_min": "clamp", aten.clamp_min.default: "clamp", aten.clamp.default: "clamp", torch.erf: "erf", torch.sin: "sin", torch.cos: "cos", "sign": "sign", torch.sign: "sign",
    "reciprocal": "reciprocal", torch.reciprocal: "reciprocal", torch.where: "where",
    "masked_fill": "masked_fill", torch.addcmul: "addcmul", "addcmul": "addcmul", aten.masked_fill.Scalar: "masked_fill", aten.masked_fill.Tensor: "masked_fill",
}


@entry("elementwise", *ARITH, names="input other")
def arithmetic(imp: Importer, c: Call) -> Any:
    op = ARITH[c.target]
    operands = [a for a in (c.positional if c.target is not torch.where else c.positional[1:]) if c.is_act(a) or hasattr(a, "full")]
    inplace = str(c.target).endswith("_") or c.target in (operator.iadd, operator.imul)
    inputs = imp.operands(c, operands, rank=len(c.out))
    shapes = [imp.shape(i) for i in inputs]
    if op in ("add", "mul") and len(inputs) == 2 and not c.refs:
        big = 0 if math.prod(shapes[0]) >= math.prod(shapes[1]) else 1
        full, small = shapes[big], shapes[1 - big]
        gate = op == "mul" and len(full) == len(small) and full == c.out and all(s in (f, 1) for f, s in zip(full, small))
        if (op == "add" and shapes[0] == shapes[1]) or gate:  # a residual add, an SE / attention gate: the spec's merges
            return imp.row(c, op, {"inplace": inplace}, inputs=tuple(inputs))
    return imp.row(c, "elementwise", {"op": op}, inputs=tuple(inputs))


# --- shape and data movement ---------------------------------------------------------------
VIEWS = {"view", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "view_as", "reshape_as",
         torch.reshape, torch.flatten, torch.unflatten, torch.squeeze, torch.unsqueeze,
         aten.view.default, aten.reshape.default, aten._unsafe_view.default, aten.flatten.using_ints,
         aten.unflatten.int, aten.squeeze.dim, aten.squeeze.dims, aten.unsqueeze.default, aten.squeeze.default}


@entry("reshape", nn.Flatten, nn.Unflatten, *VIEWS)
def reshape(imp: Importer, c: Call) -> Any:
    source = c.acts[0]
    if len(c.out) == 1 and len(imp.shape(source)) == 3:
        return imp.row(c, "flatten", {}, inputs=(source,))
    if c.out == imp.shape(source):
        return imp.row(c, "identity", {}, inputs=(source,))
    return imp.row(c, "reshape", {"shape": list(c.out)}, inputs=(source,))


@entry("permute", torch.permute, "permute", "transpose", torch.transpose, "t", "swapaxes", "swapdims", torch.swapaxes, aten.permute.default, aten.transpose.int,
       names="input dims")
def permute(imp: Importer, c: Call) -> Any:
    source = c.acts[0]
    offset, rank = c.offsets[0], len(imp.shape(source)) + c.offsets[0]
    if any(word in str(c.target) for word in ("transpose", "swap")):
        a, b = (c.positional[1] % rank, c.positional[2] % rank)
        order = list(range(rank))
        order[a], order[b] = order[b], order[a]
    elif str(c.target) == "t":
        order = [1, 0]
    else:
        raw = c.positional[1:] if len(c.positional) > 2 or isinstance(c.positional[1], int) else c.positional[1]
        order = [d % rank for d in raw]
    if offset and order[0] != 0:
        return imp.row(c, "reshape", {"shape": list(c.out)}, inputs=(source,))  # the batch moves: a view at batch 1
    dims = [d - offset for d in order[offset:]]
    if c.offsets[0] != c.out_offset:
        return imp.row(c, "reshape", {"shape": list(c.out)}, inputs=(source,))
    if sum(1 for i, d in enumerate(dims) if i != d) == 2 and len(dims) > 2 or len(dims) == 2 and dims == [1, 0]:
        a, b = [i for i, d in enumerate(dims) if i != d]
        return imp.row(c, "transpose", {"dims": [a, b]}, inputs=(source,))
    return imp.row(c, "permute", {"dims": dims}, inputs=(source,))


@entry("expand", "expand", "expand_as", "repeat", aten.expand.default, aten.expand_as.default)
def expand(imp: Importer, c: Call) -> Any:
    if str(c.target) == "repeat":
        return imp.row(c, "contiguous", {}, inputs=c.acts[:1]) if c.out == imp.shape(c.acts[0]) else None
    return imp.row(c, "expand", {"shape": list(c.out)}, inputs=c.acts[:1])


@entry("contiguous", "contiguous", "clone", "detach", torch.clone, torch.roll, "roll", aten.contiguous.default, aten.clone.default,
       aten.roll.default, "to", "type_as", "float", "type", aten.alias.default, aten.to.dtype, aten._to_copy.default)
def contiguous(imp: Importer, c: Call) -> Any:
    if opname(c.target) in ("detach", "to", "type_as", "float", "type", "alias", "_to_copy"):
        return imp.row(c, "identity", {}, inputs=c.acts[:1])
    return imp.row(c, "contiguous", {}, inputs=c.acts[:1])


@entry("identity", nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, F.dropout, F.dropout2d,
       F.dropout1d, F.dropout3d, F.alpha_dropout, aten.dropout.default)
def identity(imp: Importer, c: Call) -> Any:
    if isinstance(c.module, nn.Identity) or c.module is None and "dropout" not in str(c.target):
        return imp.row(c, "identity", {}, inputs=c.acts[:1])
    p = getattr(c.module, "p", None) if c.module is not None else c.arg("p", 0.5)
    return imp.row(c, "dropout", {"p": p}, inputs=c.acts[:1])


@entry("channel_shuffle", nn.ChannelShuffle, aten.channel_shuffle.default, aten.native_channel_shuffle.default,
       names="input groups")
def channel_shuffle(imp: Importer, c: Call) -> Any:
    groups = c.module.groups if c.module is not None else c.arg("groups")
    return imp.row(c, "channel_shuffle", {"groups": groups})


@entry("concat", torch.cat, torch.concat, torch.concatenate, aten.cat.default, names="tensors dim")
def cat(imp: Importer, c: Call) -> Any:
    parts = list(c.arg("tensors"))
    d = c.dim(c.arg("dim", 0))
    if d is None:
        return None
    return imp.row(c, "concat", {"dim": d}, inputs=imp.operands(c, parts))


@entry("stack", torch.stack, aten.stack.default, names="tensors dim")
def stack(imp: Importer, c: Call) -> Any:
    parts = list(c.arg("tensors"))
    d = c.dim(c.arg("dim", 0), new=True)
    return None if d is None else imp.row(c, "stack", {"dim": d}, inputs=imp.operands(c, parts))


@entry("slice", torch.split, torch.chunk, torch.unbind, torch.tensor_split, "split", "chunk", "unbind", "tensor_split",
       aten.split.Tensor, aten.split_with_sizes.default, aten.chunk.default, aten.unbind.int, aten.split.sizes,
       names="input split_size dim")
def split(imp: Importer, c: Call) -> Any:
    """A tuple of views; each piece becomes a row when it is used (getitem)."""
    source = c.acts[0]
    name = opname(c.target)
    dim = c.arg("dim", 0)
    if "unbind" in name:
        dim = c.positional[1] if len(c.positional) > 1 else c.kwargs.get("dim", 0)
    d = c.dim(dim)
    return imp.pieces(c, source, d, equal_chunks=("chunk" in name))


@entry("slice", operator.getitem, "__getitem__", aten.select.int, aten.slice.Tensor, aten.narrow.default, "narrow", torch.narrow,
       aten.index.Tensor)
def getitem(imp: Importer, c: Call) -> Any:
    return imp.getitem(c)


PAD_MODES = {nn.ZeroPad2d: "constant", nn.ConstantPad1d: "constant", nn.ConstantPad2d: "constant", nn.ConstantPad3d: "constant",
             nn.ReflectionPad1d: "reflect", nn.ReflectionPad2d: "reflect", nn.ReplicationPad1d: "replicate",
             nn.ReplicationPad2d: "replicate"}


@entry("pad", F.pad, aten.pad.default, aten.constant_pad_nd.default, *PAD_MODES, names="input pad mode value")
def pad(imp: Importer, c: Call) -> Any:
    if c.module is not None:
        return imp.row(c, "pad", {"pads": list(c.module.padding), "mode": PAD_MODES[type(c.module)]}, inputs=c.acts[:1])
    return imp.row(c, "pad", {"pads": list(c.arg("pad")), "mode": str(c.arg("mode", "constant"))}, inputs=c.acts[:1])


@entry("upsample", nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d, F.interpolate, F.upsample,
       aten.upsample_nearest2d.vec, aten.upsample_bilinear2d.vec, aten.upsample_bicubic2d.vec, names="input size scale_factor mode")
def upsample(imp: Importer, c: Call) -> Any:
    mode = getattr(c.module, "mode", None) if c.module is not None else c.arg("mode", "nearest")
    if "aten" in str(c.target):
        mode = opname(c.target).replace("upsample_", "").removesuffix("2d")
    return imp.row(c, "upsample", {"size": list(c.out[1:]), "mode": str(mode or "nearest")}, inputs=c.acts[:1])


REDUCTIONS = {"linalg_vector_norm": "norm", "norm": "norm", "sum": "sum", "mean": "mean", "amax": "amax", "amin": "amin", "std": "std", "var": "var", "max": "amax", "min": "amin"}


@entry("reduce", torch.norm, torch.sum, torch.mean, torch.amax, torch.amin, torch.std, torch.var, torch.max, torch.min, *REDUCTIONS,
       aten.mean.dim, aten.sum.dim_IntList, aten.amax.default, aten.amin.default, aten.linalg_vector_norm.default,
       names="input dim keepdim")
def reduce(imp: Importer, c: Call) -> Any:
    name = opname(c.target)
    op = REDUCTIONS.get(name, name)
    dims = c.arg("dim")
    if dims is None:  # everything: at batch 1, every per-image dimension
        return imp.row(c, "reduce", {"op": op, "dims": list(range(len(imp.shape(c.acts[0])))), "keepdim": False})
    if name in ("max", "min") and not isinstance(dims, (list, tuple)):
        return None  # returns (values, indices): a tuple, left to the fallback
    dims = [dims] if isinstance(dims, int) else list(dims)
    mapped = [c.dim(d) for d in dims]
    if any(d is None for d in mapped):
        return None
    keep = bool(c.arg("keepdim", False))
    source = c.acts[0]
    if op == "mean" and len(imp.shape(source)) == 3 and sorted(mapped) == [1, 2]:
        return imp.row(c, "mean", {"keepdim": keep}, inputs=(source,))  # global spatial mean (MnasNet, SE)
    return imp.row(c, "reduce", {"op": op, "dims": sorted(mapped), "keepdim": keep}, inputs=(source,))


@entry("constant", "new_zeros", "new_ones", "new_full", "new_empty", "new_tensor", torch.zeros_like, torch.ones_like,
       torch.full_like, torch.empty_like, aten.new_zeros.default, aten.new_ones.default, aten.new_full.default,
       aten.new_empty.default, aten.zeros_like.default, aten.ones_like.default, aten.full_like.default)
def creation(imp: Importer, c: Call) -> Any:
    """A new tensor that only takes its size, dtype or device from an activation: a constant (a mask)."""
    from .importer import ParamRef

    return ParamRef(frozenset(), c.full)


@entry("elementwise", F.normalize, names="input p dim eps")
def normalize(imp: Importer, c: Call) -> Any:
    """F.normalize: a vector norm, then a divide (FlopCounterMode: 0)."""
    return imp.row(c, "elementwise", {"op": "normalize"}, inputs=c.acts[:1])


def stochastic_depth(imp: Importer, c: Call) -> Any:
    """torchvision.ops.stochastic_depth: the identity in eval mode."""
    return imp.row(c, "identity", {}, inputs=c.acts[:1]) if not c.arg("training", True) else None


#: plain Python functions matched by name (torchvision.ops.stochastic_depth is wrapped by fx)
BY_NAME: dict[str, Handler] = {"stochastic_depth": stochastic_depth}
NON_TENSOR = {"size", "dim", "numel", "item", "tolist", "__len__", "getattr", "type", "ndimension", "is_contiguous"}


def _build_lookup() -> tuple[dict[type[nn.Module], Entry], dict[Any, Entry]]:
    modules: dict[type[nn.Module], Entry] = {}
    calls: dict[Any, Entry] = {}
    for e in TABLE:
        for key in dict.fromkeys(e.keys):  # F.conv2d is torch.conv2d: one key, named twice
            target = modules if isinstance(key, type) else calls
            if key in target:
                raise ValueError(f"op {key!r} in the table twice")
            target[key] = e
    return modules, calls


MODULES, CALLS = _build_lookup()


def module_entry(m: nn.Module) -> Entry | None:
    """The entry of a module, along its class hierarchy (a subclass that keeps forward)."""
    for cls in type(m).__mro__:
        e = MODULES.get(cls)
        if e is not None:
            return e if cls.forward is type(m).forward else None
    return None


def module_layer_types() -> dict[type[nn.Module], str]:
    """Leaf module class -> layer type, for the reference harness's per-layer comparison."""
    exact = {nn.Conv1d: "conv1d", nn.Conv3d: "conv3d", nn.ConvTranspose2d: "conv_transpose"}
    return {cls: exact.get(cls, e.layer) for cls, e in MODULES.items() if exact.get(cls, e.layer) in COMPARED}


#: layer types whose output shape the reference harness compares module by module
COMPARED = {"conv", "linear", "batchnorm", "maxpool", "avgpool", "adaptive_avgpool", "adaptive_maxpool", "lrn"}

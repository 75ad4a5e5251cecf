"""Layer types: one class each, holding everything about the layer in one place.

A layer class declares its spec fields, computes its output shape from its input shapes
(PyTorch's rules), and its costs: parameters (biases apart), buffers, multiply-accumulates
and the extra counts other tools add. Shapes are tuples in PyTorch order: ``(C, H, W)`` for
feature maps and ``(N,)`` for flat vectors; all counts are per image.

Conventions (docs/conventions.md states them once for the whole project):

* ``macs``: one multiply-accumulate = 1; only convolutions and linear layers have them; bias
  additions are *not* MACs (they are in ``other_ops``).
* ``other_ops``: the remaining arithmetic, one per elementwise operation (bias adds, batch-norm
  scale and shift, activations, pooling compares/adds, residual adds, SE multiplies ...).
* ``fvcore_extra``: what fvcore's FlopCountAnalysis counts on top of the MACs (batch norm in
  eval mode: 2 per element with affine, 1 without; adaptive average pooling: 1 per input element).
* ``params`` includes ``biases`` (the bias vectors of conv and linear layers); batch-norm affine
  weights count as params; running statistics are ``buffers``.

Adding a layer type = one subclass here + its builder in ``archcalc.torch`` (a test checks both
registries have the same keys).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

Shape = tuple[int, ...]


class LayerError(Exception):
    """A layer that cannot be built or applied; the message names the offending values."""


# --------------------------------------------------------------------------------------------
# Fields


@dataclass(frozen=True)
class Field:
    kind: str  # int | pair | padding | bool | number | choice | shape | ints | text
    default: Any = None
    required: bool = False
    minimum: int = 0
    choices: tuple[str, ...] = ()
    doc: str = ""

    def keywords(self) -> tuple[str, ...]:
        """Words this field takes literally rather than as an expression."""
        return ("same", "valid") if self.kind == "padding" else self.choices


def _show(v: Any) -> str:
    """A value as the user wrote it: 8/3, not Fraction(8, 3)."""
    return str(v) if isinstance(v, Fraction) else repr(v)


def sure(condition: Any) -> bool:
    """True only when a condition certainly holds. With symbolic sizes a check such as
    ``C % 2 != 0`` may be undecidable: the engine then assumes the spec is right."""
    try:
        return bool(condition)
    except TypeError:  # a sympy relational with free symbols
        return False


def _symbolic(v: Any) -> bool:
    return bool(getattr(v, "free_symbols", None))


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_int(name: str, v: Any, minimum: int) -> int:
    if isinstance(v, Fraction) and v.denominator == 1:
        v = int(v)
    if _symbolic(v):
        if getattr(v, "is_integer", None) is False or sure(v < minimum):
            raise LayerError(f"{name} must be an integer >= {minimum}, got {v}")
        return v
    if not _is_int(v):
        raise LayerError(f"{name} must be an integer, got {_show(v)}")
    if v < minimum:
        raise LayerError(f"{name} must be >= {minimum}, got {v}")
    return v


def _coerce(name: str, field: Field, v: Any) -> Any:
    if field.kind == "int":
        return _check_int(name, v, field.minimum)
    if field.kind == "pair":
        if isinstance(v, (list, tuple)):
            if len(v) != 2:
                raise LayerError(f"{name} must be one integer or a pair [h, w], got {list(v)!r}")
            return (_check_int(name, v[0], field.minimum), _check_int(name, v[1], field.minimum))
        n = _check_int(name, v, field.minimum)
        return (n, n)
    if field.kind == "padding":
        if isinstance(v, str):
            if v not in ("same", "valid"):
                raise LayerError(f"{name} must be an integer, a pair, 'same' or 'valid', got {v!r}")
            return v
        return _coerce(name, Field("pair", minimum=0), v)
    if field.kind == "bool":
        if not isinstance(v, bool):
            raise LayerError(f"{name} must be true or false, got {v!r}")
        return v
    if field.kind == "number":
        if isinstance(v, bool) or not isinstance(v, (int, float, Fraction)):
            raise LayerError(f"{name} must be a number, got {_show(v)}")
        if v < field.minimum:
            raise LayerError(f"{name} must be >= {field.minimum}, got {_show(v)}")
        return v
    if field.kind == "ints" and not isinstance(v, (list, tuple)):
        return (_check_int(name, v, field.minimum),)
    if field.kind in ("shape", "ints"):
        if not isinstance(v, (list, tuple)) or not v:
            raise LayerError(f"{name} must be a list of sizes, got {_show(v)}")
        return tuple(_check_int(name, x, field.minimum) for x in v)
    if field.kind == "text":
        if not isinstance(v, str):
            raise LayerError(f"{name} must be text, got {_show(v)}")
        return v
    if field.kind == "choice":
        if v not in field.choices:
            raise LayerError(f"{name} must be one of {', '.join(field.choices)}, got {v!r}")
        return v
    raise AssertionError(field.kind)


# --------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class Cost:
    """Per-image costs of one layer application."""

    params: int = 0  # learnable values, biases included
    biases: int = 0  # bias vectors of conv / linear
    buffers: int = 0  # non-learnable stored state (batch-norm running mean and variance)
    macs: int = 0  # multiply-accumulates (conv, linear)
    other_ops: int = 0  # every other elementwise arithmetic operation
    fvcore_extra: int = 0  # what fvcore counts beyond MACs


@dataclass(frozen=True)
class Saved:
    """What autograd keeps for one layer's backward in train mode, as PyTorch's derivative
    formulas (tools/autograd/derivatives.yaml) save it on CPU. Tensors already in memory are
    named (their storage counts once, however many layers save it); new ones are sized."""

    inputs: tuple[int, ...] = ()  # positions of the inputs whose storage is saved
    output: bool = False  # the output's storage is saved
    values: int = 0  # per image: new tensors of the activation dtype (dropout noise, clones)
    index_values: int = 0  # per image: new int64 tensors (max pool indices)
    stat_values: int = 0  # per batch: new float32 vectors (batch-norm mean and inverse std)


@dataclass(frozen=True)
class Window:
    """Receptive-field effect of a layer along H and W: effective kernel and stride."""

    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)


POINTWISE = Window()


def numel(shape: Shape) -> int:
    return math.prod(shape)


def fmt_shape(shape: Shape) -> str:
    """The lecture's notation: H×W×C for feature maps, N for vectors."""
    if len(shape) == 3:
        c, h, w = shape
        return f"{h}x{w}x{c}"
    return "x".join(str(s) for s in shape)


# --------------------------------------------------------------------------------------------
# Registry

REGISTRY: dict[str, type["Layer"]] = {}
ALIASES: dict[str, str] = {}


def register(cls: type["Layer"]) -> type["Layer"]:
    for key in (cls.type, *cls.aliases):
        if key in REGISTRY or key in ALIASES:
            raise ValueError(f"layer type {key!r} registered twice")
    REGISTRY[cls.type] = cls
    for alias in cls.aliases:
        ALIASES[alias] = cls.type
    return cls


def layer_class(type_name: str) -> type["Layer"] | None:
    return REGISTRY.get(ALIASES.get(type_name, type_name))


class Layer:
    """Base class. Subclasses set ``type``, ``fields`` and override the shape/cost methods."""

    type: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    fields: ClassVar[dict[str, Field]] = {}
    #: number of inputs: 1, or None for merges taking two or more
    arity: ClassVar[int | None] = 1
    #: output shares storage with the (first) input: a view, or an in-place op
    view: ClassVar[bool] = False
    summary: ClassVar[str] = ""

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(self.fields)
        if unknown:
            name = sorted(unknown)[0]
            raise LayerError(f"unknown field {name!r} for {self.type} (fields: {', '.join(self.fields) or 'none'})")
        for name, field in self.fields.items():
            if name in values and values[name] is not None:
                value = _coerce(name, field, values[name])
            elif field.required:
                raise LayerError(f"{self.type} needs field {name!r}")
            else:
                value = None if field.default is None else _coerce(name, field, field.default)
            setattr(self, name, value)
        self.validate()

    def validate(self) -> None:
        """Checks between fields, before any shape is known."""

    def reuses_input(self, inputs: list[Shape], out: Shape) -> bool:
        """True when the output reuses the (first) input's memory: no new activation tensor."""
        return self.view or bool(getattr(self, "inplace", False))

    def eager_allocates(self, inputs: list[Shape], out: Shape, train: bool = False) -> bool:
        """True when eager PyTorch allocates a new storage for the output (for the eager peak;
        differs from ``not reuses_input`` where the lecture's convention counts a copy as free,
        and in train mode, where dropout is no longer the identity)."""
        return not self.reuses_input(inputs, out)

    def scratch_bytes(self, inputs: list[Shape], out: Shape, value_bytes: int) -> int:
        """Bytes per image PyTorch allocates with the output and frees when the layer returns
        (live at the sample after the op, not after the layer)."""
        return 0

    def saved(self, inputs: list[Shape], out: Shape) -> Saved:
        """What autograd saves for backward in train mode (nothing for data movement)."""
        return Saved()

    def passes_gradient(self) -> bool:
        """True when backward hands the output's gradient to the inputs without a new tensor
        (a view's reshape, a concatenation's slices, an add's gradient itself)."""
        return self.view

    def config(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.fields}

    def describe(self) -> str:
        """Short configuration text for tables, e.g. ``3x3/2 p1, 64``."""
        return ""

    def output(self, inputs: list[Shape]) -> Shape:
        raise NotImplementedError

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        return Cost()

    def window(self, inputs: list[Shape]) -> Window:
        return POINTWISE


def _spatial(layer: Layer, shape: Shape) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise LayerError(f"{layer.type} needs a C×H×W input, got {fmt_shape(shape)} (a flat vector)")
    return shape  # type: ignore[return-value]


def _pair_text(p: tuple[int, int]) -> str:
    return str(p[0]) if p[0] == p[1] else f"{p[0]}x{p[1]}"


# --------------------------------------------------------------------------------------------
# Convolution and linear


def conv_out(size: int, kernel: int, stride: int, pad_total: int, dilation: int) -> int:
    """PyTorch: floor((size + pad_lo + pad_hi - dilation*(kernel-1) - 1) / stride) + 1."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


@register
class Conv(Layer):
    type = "conv"
    aliases = ("conv2d",)
    summary = "2-D convolution (PyTorch nn.Conv2d)"
    fields = {
        "out": Field("int", required=True, minimum=1, doc="number of filters (output channels)"),
        "kernel": Field("pair", required=True, minimum=1),
        "stride": Field("pair", 1, minimum=1),
        "padding": Field("padding", 0),
        "dilation": Field("pair", 1, minimum=1),
        "groups": Field("int", 1, minimum=1),
        "bias": Field("bool", True),
    }

    def validate(self) -> None:
        if self.padding == "same" and self.stride != (1, 1):
            raise LayerError(f"padding 'same' needs stride 1 (PyTorch), got stride {_pair_text(self.stride)}")
        if sure(self.out % self.groups != 0):
            raise LayerError(f"out {self.out} is not divisible by groups {self.groups}")

    def pad_totals(self) -> tuple[int, int]:
        """Total padding (both sides) along H and W."""
        if self.padding == "valid":
            return (0, 0)
        if self.padding == "same":
            return tuple(d * (k - 1) for k, d in zip(self.kernel, self.dilation))  # type: ignore[return-value]
        return (2 * self.padding[0], 2 * self.padding[1])

    def effective_kernel(self) -> tuple[int, int]:
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))  # type: ignore[return-value]

    def describe(self) -> str:
        text = f"{self.kernel[0]}x{self.kernel[1]}/{_pair_text(self.stride)}"
        if self.padding not in ((0, 0), "valid"):
            text += f" p{self.padding if isinstance(self.padding, str) else _pair_text(self.padding)}"
        if self.dilation != (1, 1):
            text += f" d{_pair_text(self.dilation)}"
        if self.groups > 1:
            text += f" g{self.groups}"
        return f"{text}, {self.out}"

    def output(self, inputs: list[Shape]) -> Shape:
        # leading dimensions beyond C×H×W: the batch folded in by a model (MViT's pooled heads), each one a conv
        lead, shape = inputs[0][:-3], inputs[0][-3:]
        c, h, w = _spatial(self, shape)
        if sure(c % self.groups != 0):
            raise LayerError(f"input channels {c} not divisible by groups {self.groups}")
        sizes = []
        for axis, size, k, s, p, d in zip("HW", (h, w), self.kernel, self.stride, self.pad_totals(), self.dilation):
            span = d * (k - 1) + 1
            if sure(span > size + p):
                raise LayerError(
                    f"kernel {k}{f' (dilated {span})' if d > 1 else ''} larger than padded input {axis}={size + p} "
                    f"({size} + {p} padding)"
                )
            sizes.append(conv_out(size, k, s, p, d))
        return (*lead, self.out, sizes[0], sizes[1])

    def weights(self, cin: int) -> int:
        return self.out * (cin // self.groups) * self.kernel[0] * self.kernel[1]

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        cin = inputs[0][-3]
        biases = self.out if self.bias else 0
        positions = numel(out[:-3]) * out[-2] * out[-1]
        macs = positions * self.weights(cin)
        return Cost(params=self.weights(cin) + biases, biases=biases, macs=macs, other_ops=biases * positions)

    def saved(self, inputs: list[Shape], out: Shape) -> Saved:
        return Saved(inputs=(0,))  # aten.convolution saves its input (and the weight)

    def window(self, inputs: list[Shape]) -> Window:
        return Window(self.effective_kernel(), self.stride)


@register
class Linear(Layer):
    type = "linear"
    aliases = ("fc",)
    summary = "fully connected layer (nn.Linear) on a flat vector, or on the last dimension of any tensor with tokens: true"
    fields = {
        "out": Field("int", required=True, minimum=1),
        "bias": Field("bool", True),
        "tokens": Field("bool", False, doc="apply to the last dimension of any rank (transformer tokens, channels-last MLPs)"),
    }

    def describe(self) -> str:
        return str(self.out)

    def output(self, inputs: list[Shape]) -> Shape:
        if len(inputs[0]) != 1 and not self.tokens:
            raise LayerError(f"linear needs a flat input, got {fmt_shape(inputs[0])}: add a flatten layer before it (or tokens: true)")
        return (*inputs[0][:-1], self.out)

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        # nn.Linear applies to the last dimension: every other position repeats the product
        weights = inputs[0][-1] * self.out
        biases = self.out if self.bias else 0
        rows = numel(inputs[0][:-1])
        return Cost(params=weights + biases, biases=biases, macs=rows * weights, other_ops=rows * biases)

    def saved(self, inputs: list[Shape], out: Shape) -> Saved:
        return Saved(inputs=(0,))  # addmm saves its input (and the weight)


# --------------------------------------------------------------------------------------------
# Pooling


def pool_out(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape, including its ceil_mode rule that the last window
    must start inside the input or its left padding."""
    span = dilation * (kernel - 1)
    numerator = size + 2 * pad - span - 1 + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode:
        last_starts_outside = (out - 1) * stride >= size + pad
        try:
            if bool(last_starts_outside):
                out -= 1
        except TypeError:
            raise LayerError(
                f"ceil_mode with a symbolic size ({size}) depends on its value (PyTorch's last-window rule): give a number"
            ) from None
    return out


class _Pool(Layer):
    fields = {
        "kernel": Field("pair", required=True, minimum=1),
        "stride": Field("pair", None, minimum=1, doc="defaults to the kernel size"),
        "padding": Field("pair", 0),
        "ceil_mode": Field("bool", False),
    }
    has_dilation: ClassVar[bool] = False

    def validate(self) -> None:
        if self.stride is None:
            self.stride = self.kernel
        for k, p in zip(self.kernel, self.padding):
            if 2 * p > k:
                raise LayerError(f"padding {p} more than half the kernel {k} (PyTorch forbids it)")

    def _dilation(self) -> tuple[int, int]:
        return getattr(self, "dilation", (1, 1))

    def describe(self) -> str:
        text = f"{self.kernel[0]}x{self.kernel[1]}/{_pair_text(self.stride)}"
        if self.padding != (0, 0):
            text += f" p{_pair_text(self.padding)}"
        if self._dilation() != (1, 1):
            text += f" d{_pair_text(self._dilation())}"
        return text + (" ceil" if self.ceil_mode else "")

    def output(self, inputs: list[Shape]) -> Shape:
        c, h, w = _spatial(self, inputs[0])
        sizes = []
        for axis, size, k, s, p, d in zip("HW", (h, w), self.kernel, self.stride, self.padding, self._dilation()):
            n = pool_out(size, k, s, p, d, self.ceil_mode)
            if sure(n < 1):
                raise LayerError(f"kernel {k} larger than padded input {axis}={size + 2 * p}")
            sizes.append(n)
        return (c, sizes[0], sizes[1])

    def window(self, inputs: list[Shape]) -> Window:
        d = self._dilation()
        return Window((d[0] * (self.kernel[0] - 1) + 1, d[1] * (self.kernel[1] - 1) + 1), self.stride)

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        # max pool: k*k - 1 comparisons per output; average pool: k*k - 1 adds and 1 divide.
        per_output = self.kernel[0] * self.kernel[1] - (1 if self.type == "maxpool" else 0)
        return Cost(other_ops=numel(out) * per_output)


@register
class MaxPool(_Pool):
    type = "maxpool"
    aliases = ("max_pool",)
    summary = "max pooling (nn.MaxPool2d)"
    fields = {**_Pool.fields, "dilation": Field("pair", 1, minimum=1)}

    def scratch_bytes(self, inputs: list[Shape], out: Shape, value_bytes: int) -> int:
        # F.max_pool2d runs aten.max_pool2d_with_indices even under no_grad: one int64 index
        # per output value, dropped when the layer returns.
        return 8 * numel(out)

    def saved(self, inputs: list[Shape], out: Shape) -> Saved:
        return Saved(inputs=(0,), index_values=numel(out))  # input and int64 indices


@register
class AvgPool(_Pool):
    type = "avgpool"
    aliases = ("avg_pool",)
    summary = "average pooling (nn.AvgPool2d)"
    fields = {**_Pool.fields, "count_include_pad": Field("bool", True)}

    def saved(self, inputs: list[Shape], out: Shape) -> Saved:
        return Saved(inputs=(0,))


def _adaptive_bounds(size: int, out: int) -> tuple[int, int]:
    """Largest window and smallest step of PyTorch's adaptive pooling along one axis."""
    from .symbolic import largest

    kernel = largest(-((-(i + 1) * size) // out) - (i * size) // out for i in range(out))
    return kernel, largest([size // out, 1])


class _Adaptive(Layer):
    fields = {"out": Field("pair", 1, minimum=1, doc="output size; 1 = global pooling")}

    def describe(self) -> str:
        return "global" if self.out == (1, 1) else f"-> {_pair_text(self.out)}"

    def reuses_input(self, inputs: list[Shape], out: Shape) -> bool:
        # Pooling to the size the map already has is the identity (torchvision's 7x7 pool after
        # VGG's features at 224): counted as no new tensor, as the lecture's memory column does.
        # PyTorch itself still copies it; docs/conventions.md says so.
        return inputs[0] == out

    def eager_allocates(self, inputs: list[Shape], out: Shape, train: bool = False) -> bool:
        return True  # PyTorch copies even when the size does not change

    def output(self, inputs: list[Shape]) -> Shape:
        c, _, _ = _spatial(self, inputs[0])
        return (c, self.out[0], self.out[1])

    def window(self, inputs: list[Shape]) -> Window:
        _, h, w = inputs[0]
        (kh, sh), (kw, sw) = _adaptive_bounds(h, self.out[0]), _adaptive_bounds(w, self.out[1])
        return Window((kh, kw), (sh, sw))


@register
class AdaptiveAvgPool(_Adaptive):
    type = "adaptive_avgpool"
    aliases = ("global_avgpool", "gap")
    summary = "adaptive average pooling (nn.AdaptiveAvgPool2d); out: 1 is global average pooling"

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        n = numel(inputs[0])
        return Cost(other_ops=n, fvcore_extra=n)

    def saved(self, inputs: list[Shape], out: Shape) -> Saved:
        # to 1x1 PyTorch takes a mean, whose backward needs only sizes; otherwise
        # _adaptive_avg_pool2d saves its input
        return Saved() if out[1:] == (1, 1) else Saved(inputs=(0,))


@register
class Mean(Layer):
    type = "mean"
    summary = "global spatial mean (x.mean((2, 3)) as MnasNet writes it); keepdim gives C x 1 x 1"
    fields = {"keepdim": Field("bool", False)}

    def describe(self) -> str:
        return "over H, W" + (", keepdim" if self.keepdim else "")

    def output(self, inputs: list[Shape]) -> Shape:
        c = _spatial(self, inputs[0])[0]
        return (c, 1, 1) if self.keepdim else (c,)

    def window(self, inputs: list[Shape]) -> Window:
        _, h, w = inputs[0]
        return Window((h, w), (h, w))

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        # fvcore has no handle for aten::mean: it counts nothing here (unlike adaptive pooling)
        return Cost(other_ops=numel(inputs[0]))


@register
class AdaptiveMaxPool(_Adaptive):
    type = "adaptive_maxpool"
    summary = "adaptive max pooling (nn.AdaptiveMaxPool2d)"

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        return Cost(other_ops=numel(inputs[0]))

    def saved(self, inputs: list[Shape], out: Shape) -> Saved:
        return Saved(inputs=(0,), index_values=numel(out))


# --------------------------------------------------------------------------------------------
# Normalisation


@register
class BatchNorm(Layer):
    type = "batchnorm"
    aliases = ("bn", "batchnorm2d")
    summary = "batch normalisation (nn.BatchNorm2d / 1d), inference mode"
    fields = {
        "affine": Field("bool", True),
        "eps": Field("number", Fraction(1, 100000)),
        "dim": Field("int", 0, doc="per-image dimension of the channels (1 where a model folded its batch in: LeViT)"),
    }

    def output(self, inputs: list[Shape]) -> Shape:
        if self.dim >= len(inputs[0]):
            raise LayerError(f"batchnorm over dim {self.dim} of {fmt_shape(inputs[0])}")
        return inputs[0]

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        c, n = inputs[0][self.dim], numel(inputs[0])
        return Cost(
            params=2 * c if self.affine else 0,
            buffers=2 * c,
            other_ops=2 * n,
            fvcore_extra=(2 if self.affine else 1) * n,
        )

    def saved(self, inputs: list[Shape], out: Shape) -> Saved:
        # native_batch_norm saves its input and the batch's mean and inverse std (C each)
        return Saved(inputs=(0,), stat_values=2 * inputs[0][0])


@register
class LocalResponseNorm(Layer):
    type = "lrn"
    aliases = ("local_response_norm",)
    summary = "local response normalisation across channels (nn.LocalResponseNorm), AlexNet's NORM"
    fields = {
        "size": Field("int", 5, minimum=1),
        "alpha": Field("number", Fraction(1, 10000)),
        "beta": Field("number", Fraction(3, 4)),
        "k": Field("number", 1),
    }

    def describe(self) -> str:
        return f"size {self.size}"

    def output(self, inputs: list[Shape]) -> Shape:
        _spatial(self, inputs[0])
        return inputs[0]

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        # per element: `size` squares and adds, then scale, power and divide
        return Cost(other_ops=numel(out) * (2 * self.size + 3))

    def scratch_bytes(self, inputs: list[Shape], out: Shape, value_bytes: int) -> int:
        # F.local_response_norm runs ~8 ops; beside its input and output the most alive at once
        # is the squares padded by size-1 channels (at pad) or two full-size temporaries (at
        # add and pow, before the output exists: counted here as output + 2)
        c, h, w = inputs[0]
        return max(2 * numel(out), (c + self.size - 1) * h * w) * value_bytes

    def saved(self, inputs: list[Shape], out: Shape) -> Saved:
        # F.local_response_norm: the input, the squares padded by size-1 channels (avg_pool3d's
        # input), and two full-size temporaries (pow's result and the divisor)
        c, h, w = inputs[0]
        return Saved(inputs=(0,), values=(c + self.size - 1) * h * w + 2 * numel(out))


# --------------------------------------------------------------------------------------------
# Elementwise activations


class _Activation(Layer):
    fields = {"inplace": Field("bool", False)}
    ops_per_element: ClassVar[int] = 1
    #: what backward needs, (out of place, in place): "in" the input, "out" the result, "copy" the
    #: input cloned before an in-place op overwrites it (autograd does this itself)
    saves: ClassVar[tuple[str, str]] = ("in", "copy")

    def saved(self, inputs: list[Shape], out: Shape) -> Saved:
        what = self.saves[1 if self.inplace else 0]
        if what == "copy":
            return Saved(values=numel(out))
        return Saved(output=True) if what == "out" else Saved(inputs=(0,))

    def output(self, inputs: list[Shape]) -> Shape:
        return inputs[0]

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        return Cost(other_ops=numel(out) * self.ops_per_element)


def _activation(
    name: str, summary: str, inplace: bool, ops: int = 1, aliases: tuple[str, ...] = (), saves: tuple[str, str] = ("in", "copy")
) -> None:
    cls = type(
        name.title().replace("_", ""),
        (_Activation,),
        {
            "type": name,
            "aliases": aliases,
            "summary": summary,
            "fields": {"inplace": Field("bool", inplace)},
            "ops_per_element": ops,
            "saves": saves,
        },
    )
    register(cls)


# Default `inplace` follows how torchvision builds its models (nn.ReLU(inplace=True), ...).
# `saves`: measured with saved_tensors_hooks on torch 2.x (tests/test_memory.py checks each).
_activation("relu", "ReLU, max(0, x)", True, saves=("out", "out"))
_activation("relu6", "ReLU6, min(max(0, x), 6)", True, 2)
_activation("leaky_relu", "leaky ReLU", True, 2, saves=("in", "out"))
_activation("elu", "ELU", True, 3, saves=("in", "out"))
_activation("gelu", "GELU", False, 8)
_activation("sigmoid", "logistic sigmoid", False, 3, saves=("out", "out"))
_activation("tanh", "hyperbolic tangent", False, 3, saves=("out", "out"))
_activation("hardsigmoid", "hard sigmoid, relu6(x+3)/6", False, 3)
_activation("hardswish", "hard swish, x*relu6(x+3)/6", True, 4, ("hswish",))
_activation("silu", "SiLU / swish, x*sigmoid(x)", True, 4, ("swish",))
_activation("mish", "mish, x*tanh(softplus(x))", False, 6)
_activation("hardtanh", "hard tanh, clamp(x, min, max)", False, 2)
_activation("hardshrink", "hard shrink", False, 2)
_activation("softshrink", "soft shrink", False, 3)
_activation("tanhshrink", "x - tanh(x)", False, 4)
_activation("softsign", "x / (1 + |x|)", False, 3)
_activation("softplus", "log(1 + exp(x))", False, 3)
_activation("logsigmoid", "log(sigmoid(x))", False, 4)
_activation("selu", "SELU", False, 4)
_activation("celu", "CELU", False, 3)
_activation("rrelu", "randomized leaky ReLU (fixed slope at inference)", False, 2)
_activation("threshold", "threshold", False, 1)


@register
class Softmax(Layer):
    type = "softmax"
    summary = "softmax over one dimension (channels / classes by default)"
    fields = {"dim": Field("int", 0, doc="per-image dimension (PyTorch's dim - 1)")}

    def output(self, inputs: list[Shape]) -> Shape:
        return inputs[0]

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        return Cost(other_ops=3 * numel(out))  # exp, sum, divide

    def saved(self, inputs: list[Shape], out: Shape) -> Saved:
        return Saved(output=True)


# --------------------------------------------------------------------------------------------
# Shape-only layers (views)


@register
class Dropout(Layer):
    type = "dropout"
    summary = "dropout (identity at inference)"
    view = True
    fields = {"p": Field("number", Fraction(1, 2))}

    def validate(self) -> None:
        if not 0 <= self.p <= 1:
            raise LayerError(f"p must be between 0 and 1, got {self.p}")

    def eager_allocates(self, inputs: list[Shape], out: Shape, train: bool = False) -> bool:
        return train and 0 < self.p  # F.dropout(training=False) returns its input itself

    def passes_gradient(self) -> bool:
        return False  # in train mode: grad * noise

    def saved(self, inputs: list[Shape], out: Shape) -> Saved:
        # On CPU (and meta) dropout is input * noise, and mul saves the noise: one value per
        # element in the activation dtype. CUDA's fused kernel saves a bool mask instead.
        return Saved(values=numel(out)) if 0 < self.p < 1 else Saved()

    def output(self, inputs: list[Shape]) -> Shape:
        return inputs[0]


@register
class Identity(Layer):
    type = "identity"
    summary = "identity (no-op)"
    view = True

    def output(self, inputs: list[Shape]) -> Shape:
        return inputs[0]


@register
class Flatten(Layer):
    type = "flatten"
    summary = "flatten C×H×W to a vector (a view)"
    view = True

    def output(self, inputs: list[Shape]) -> Shape:
        return (numel(inputs[0]),)

    def window(self, inputs: list[Shape]) -> Window:
        # every output depends on the whole input: a window the size of the map
        if len(inputs[0]) == 3:
            _, h, w = inputs[0]
            return Window((h, w), (h, w))
        return POINTWISE


@register
class Chunk(Layer):
    type = "chunk"
    summary = "one of `chunks` equal channel slices (x.chunk(chunks, dim=1)[index]), a view"
    view = True
    fields = {"chunks": Field("int", 2, minimum=1), "index": Field("int", required=True)}

    def validate(self) -> None:
        if self.index >= self.chunks:
            raise LayerError(f"index {self.index} out of range for {self.chunks} chunks")

    def describe(self) -> str:
        return f"{self.index + 1} of {self.chunks}"

    def passes_gradient(self) -> bool:
        return False  # a slice's backward writes into a zero tensor of the input's size

    def output(self, inputs: list[Shape]) -> Shape:
        c = inputs[0][0]
        if sure(c % self.chunks != 0):
            raise LayerError(f"{c} channels do not split into {self.chunks} equal chunks")
        return (c // self.chunks, *inputs[0][1:])


@register
class ChannelShuffle(Layer):
    type = "channel_shuffle"
    aliases = ("shuffle",)
    summary = "ShuffleNet channel shuffle (reshape, transpose, copy)"
    fields = {"groups": Field("int", required=True, minimum=1)}

    def describe(self) -> str:
        return f"g{self.groups}"

    def output(self, inputs: list[Shape]) -> Shape:
        c = _spatial(self, inputs[0])[0]
        if sure(c % self.groups != 0):
            raise LayerError(f"{c} channels not divisible by groups {self.groups}")
        return inputs[0]


@register
class Reshape(Layer):
    type = "reshape"
    summary = "view as another per-image shape (x.view / x.reshape), e.g. [2, 24, 28, 28]; a view"
    view = True
    fields = {"shape": Field("shape", required=True, minimum=1)}

    def describe(self) -> str:
        return "x".join(map(str, self.shape))

    def output(self, inputs: list[Shape]) -> Shape:
        if numel(inputs[0]) != numel(self.shape):
            raise LayerError(f"cannot view {fmt_shape(inputs[0])} ({numel(inputs[0])} values) as {list(self.shape)}")
        return self.shape


@register
class Transpose(Layer):
    type = "transpose"
    summary = "swap two per-image dimensions (x.transpose(a+1, b+1)); a view"
    view = True
    fields = {"dims": Field("shape", required=True, minimum=0)}

    def validate(self) -> None:
        if len(self.dims) != 2:
            raise LayerError(f"dims must name two dimensions, got {list(self.dims)}")

    def output(self, inputs: list[Shape]) -> Shape:
        a, b = self.dims
        shape = list(inputs[0])
        if max(a, b) >= len(shape):
            raise LayerError(f"dims {list(self.dims)} out of range for {fmt_shape(inputs[0])}")
        shape[a], shape[b] = shape[b], shape[a]
        return tuple(shape)


@register
class Contiguous(Layer):
    type = "contiguous"
    summary = "a contiguous copy (x.contiguous() after a transpose): new memory, no arithmetic"

    def output(self, inputs: list[Shape]) -> Shape:
        return inputs[0]


class _Held(Layer):
    """A layer whose output shape is given (from_torch knows it) and whose only costs are the
    parameters and buffers it holds: ``shape``, ``params``, ``buffers`` and ``label`` fields."""

    def describe(self) -> str:
        return self.label

    def output(self, inputs: list[Shape]) -> Shape:
        return self.shape

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        return Cost(params=self.params, buffers=self.buffers)


@register
class Op(_Held):
    type = "op"
    summary = "an operation archcalc has no formula for (from_torch): its shape is known, its cost is not"
    fields = {
        "label": Field("text", required=True),
        "shape": Field("shape", required=True, minimum=1),
        "params": Field("int", 0, doc="parameters the operation reads (from_torch's ledger)"),
        "buffers": Field("int", 0),
    }

    def describe(self) -> str:
        return f"{self.label} (no formula)"


@register
class Parameters(Layer):
    type = "parameters"
    summary = "parameters held by modules that do not run in forward (e.g. auxiliary heads in eval mode)"
    fields = {"count": Field("int", required=True), "label": Field("text", ""), "buffers": Field("int", 0)}

    def describe(self) -> str:
        return self.label

    def output(self, inputs: list[Shape]) -> Shape:
        return (self.count,)

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        return Cost(params=self.count, buffers=self.buffers)


# --------------------------------------------------------------------------------------------
# Merges


class _Merge(Layer):
    arity = None
    fields = {"inplace": Field("bool", False)}

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        return Cost(other_ops=numel(out) * (len(inputs) - 1))


@register
class Concat(_Merge):
    type = "concat"
    summary = "concatenation of branches: depth (torch.cat(dim=1)) or along `dim`"
    fields = {"dim": Field("int", 0, doc="per-image dimension (PyTorch's dim - 1); 0 = channels")}

    def output(self, inputs: list[Shape]) -> Shape:
        first, d = inputs[0], self.dim
        for other in inputs[1:]:
            if len(other) != len(first) or d >= len(first) or other[:d] + other[d + 1:] != first[:d] + first[d + 1:]:
                raise LayerError(
                    ("concat needs the same spatial size on every branch, got " if d == 0 else f"concat along dim {d} needs the same other sizes, got ")
                    + ", ".join(fmt_shape(s) for s in inputs)
                )
        return (*first[:d], sum(s[d] for s in inputs), *first[d + 1:])

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        return Cost()

    def passes_gradient(self) -> bool:
        return True  # each input's gradient is a slice of the output's


@register
class Add(_Merge):
    type = "add"
    summary = "elementwise sum of branches (residual shortcut)"

    def passes_gradient(self) -> bool:
        return True  # every input's gradient is the output's

    def output(self, inputs: list[Shape]) -> Shape:
        if any(s != inputs[0] for s in inputs[1:]):
            raise LayerError("add needs equal shapes on every branch, got " + ", ".join(fmt_shape(s) for s in inputs))
        return inputs[0]


@register
class Mul(_Merge):
    type = "mul"
    aliases = ("scale",)
    summary = "elementwise / channel-wise product of branches (squeeze-and-excitation scaling)"

    def saved(self, inputs: list[Shape], out: Shape) -> Saved:
        return Saved(inputs=tuple(range(len(inputs))))  # each factor's gradient needs the others

    def output(self, inputs: list[Shape]) -> Shape:
        full = max(inputs, key=numel)
        for s in inputs:
            ok = len(s) == len(full) and all(a == b or a == 1 for a, b in zip(s, full))
            if not ok:
                raise LayerError("mul needs shapes that broadcast, got " + ", ".join(fmt_shape(x) for x in inputs))
        return full



# --------------------------------------------------------------------------------------------
# N-d and transposed convolutions, normalisations over any rank, attention and tensor plumbing
# (what from_torch meets in ConvNeXt, ViT, Swin, MaxViT and timm's zoo; all usable in specs)


def _dims(layer: Layer, name: str, value: tuple[int, ...], n: int) -> tuple[int, ...]:
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise LayerError(f"{name} needs 1 or {n} values for {layer.type}, got {list(value)}")
    return value


class _ConvN(Layer):
    """Convolution over ``spatial`` dimensions; ``transposed`` for nn.ConvTranspose*d.

    Output size: conv as PyTorch (docs/conventions.md); transposed
    ``(in - 1)·s − 2p + d(k − 1) + output_padding + 1``. MACs as FlopCounterMode counts them:
    every weight meets every *output* position (conv) or every *input* position (transposed)."""

    spatial: ClassVar[int] = 2
    transposed: ClassVar[bool] = False
    fields = {
        "out": Field("int", required=True, minimum=1, doc="output channels"),
        "kernel": Field("ints", required=True, minimum=1, doc="one size or one per spatial dimension"),
        "stride": Field("ints", 1, minimum=1),
        "padding": Field("ints", 0),
        "dilation": Field("ints", 1, minimum=1),
        "groups": Field("int", 1, minimum=1),
        "bias": Field("bool", True),
    }

    def validate(self) -> None:
        n = self.spatial
        for name in ("kernel", "stride", "padding", "dilation", "output_padding"):
            if name in self.fields:
                setattr(self, name, _dims(self, name, getattr(self, name), n))
        if sure(self.out % self.groups != 0):
            raise LayerError(f"out {self.out} is not divisible by groups {self.groups}")

    def describe(self) -> str:
        text = "x".join(map(str, self.kernel)) + "/" + "x".join(map(str, self.stride))
        if any(self.padding):
            text += " p" + "x".join(map(str, self.padding))
        if self.groups > 1:
            text += f" g{self.groups}"
        return f"{text}, {self.out}"

    def output(self, inputs: list[Shape]) -> Shape:
        shape = inputs[0]
        if len(shape) != self.spatial + 1:
            raise LayerError(f"{self.type} needs a C×{'×'.join('LHWD'[:self.spatial])} input, got {fmt_shape(shape)}")
        if sure(shape[0] % self.groups != 0):
            raise LayerError(f"input channels {shape[0]} not divisible by groups {self.groups}")
        sizes = []
        for size, k, s, p, d, op in zip(shape[1:], self.kernel, self.stride, self.padding, self.dilation,
                                        getattr(self, "output_padding", (0,) * self.spatial)):
            n = (size - 1) * s - 2 * p + d * (k - 1) + op + 1 if self.transposed else conv_out(size, k, s, 2 * p, d)
            if sure(n < 1):
                raise LayerError(f"kernel {k} gives an empty output on size {size} (padding {p})")
            sizes.append(n)
        return (self.out, *sizes)

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        cin = inputs[0][0]
        weights = cin * (self.out // self.groups) * math.prod(self.kernel)
        biases = self.out if self.bias else 0
        positions = numel(inputs[0][1:] if self.transposed else out[1:])
        return Cost(params=weights + biases, biases=biases, macs=positions * weights, other_ops=biases * numel(out[1:]))

    def window(self, inputs: list[Shape]) -> Window:
        eff = tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))
        if self.transposed:  # one output reads ceil(k_eff / s) inputs per axis; the jump does not shrink
            return Window(tuple(-(-k // s) for k, s in zip(eff, self.stride)), (1, 1))  # type: ignore[arg-type]
        return Window(eff, self.stride)  # type: ignore[arg-type]


@register
class Conv1d(_ConvN):
    type = "conv1d"
    summary = "1-D convolution (nn.Conv1d) on C×L"
    spatial = 1


@register
class Conv3d(_ConvN):
    type = "conv3d"
    summary = "3-D convolution (nn.Conv3d) on C×D×H×W"
    spatial = 3


@register
class ConvTranspose(_ConvN):
    type = "conv_transpose"
    aliases = ("conv_transpose2d", "deconv")
    summary = "2-D transposed convolution (nn.ConvTranspose2d): upsampling by `stride`"
    transposed = True
    fields = {**_ConvN.fields, "output_padding": Field("ints", 0, doc="extra size on one side of the output")}


def _norm_ops(n: int, affine: bool) -> int:
    # statistics then normalise: 4 per element, 5 with the affine scale (fvcore's count)
    return (5 if affine else 4) * n


@register
class LayerNorm(Layer):
    type = "layer_norm"
    aliases = ("layernorm",)
    summary = "layer normalisation over the last dimensions (nn.LayerNorm)"
    fields = {
        "shape": Field("shape", required=True, minimum=1, doc="normalized_shape: the trailing dimensions"),
        "affine": Field("bool", True, doc="elementwise_affine"),
        "bias": Field("bool", True),
    }

    def describe(self) -> str:
        return "over " + "x".join(map(str, self.shape))

    def output(self, inputs: list[Shape]) -> Shape:
        if tuple(inputs[0][len(inputs[0]) - len(self.shape):]) != self.shape:
            raise LayerError(f"layer_norm over {list(self.shape)} needs those trailing sizes, got {fmt_shape(inputs[0])}")
        return inputs[0]

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        n = numel(out)
        params = numel(self.shape) * ((1 + self.bias) if self.affine else 0)
        return Cost(params=params, other_ops=_norm_ops(n, self.affine), fvcore_extra=_norm_ops(n, self.affine))


@register
class GroupNorm(Layer):
    type = "group_norm"
    aliases = ("groupnorm",)
    summary = "group normalisation over channel groups (nn.GroupNorm); groups = C is instance norm with affine"
    fields = {"groups": Field("int", required=True, minimum=1), "affine": Field("bool", True)}

    def describe(self) -> str:
        return f"g{self.groups}"

    def output(self, inputs: list[Shape]) -> Shape:
        if sure(inputs[0][0] % self.groups != 0):
            raise LayerError(f"{inputs[0][0]} channels not divisible by groups {self.groups}")
        return inputs[0]

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        n = numel(out)
        return Cost(params=2 * out[0] if self.affine else 0, other_ops=_norm_ops(n, self.affine), fvcore_extra=_norm_ops(n, self.affine))


@register
class InstanceNorm(Layer):
    type = "instance_norm"
    summary = "instance normalisation per channel (nn.InstanceNorm*d)"
    fields = {"affine": Field("bool", False), "track_running_stats": Field("bool", False)}

    def output(self, inputs: list[Shape]) -> Shape:
        return inputs[0]

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        n, c = numel(out), out[0]
        return Cost(params=2 * c if self.affine else 0, buffers=2 * c if self.track_running_stats else 0,
                    other_ops=_norm_ops(n, self.affine), fvcore_extra=_norm_ops(n, self.affine))


@register
class PReLU(Layer):
    type = "prelu"
    summary = "parametric ReLU (nn.PReLU): one learned slope, or one per channel"
    fields = {"count": Field("int", 1, minimum=1, doc="num_parameters: 1 or the channel count")}

    def output(self, inputs: list[Shape]) -> Shape:
        return inputs[0]

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        return Cost(params=self.count, other_ops=2 * numel(out))


@register
class Glu(Layer):
    type = "glu"
    summary = "gated linear unit (nn.GLU): halves `dim`, a * sigmoid(b)"
    fields = {"dim": Field("int", 0, doc="per-image dimension")}

    def output(self, inputs: list[Shape]) -> Shape:
        shape = list(inputs[0])
        if self.dim >= len(shape) or sure(shape[self.dim] % 2 != 0):
            raise LayerError(f"glu halves dim {self.dim}, which {fmt_shape(inputs[0])} cannot")
        shape[self.dim] //= 2
        return tuple(shape)

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        return Cost(other_ops=4 * numel(out))  # sigmoid 3 + product 1


def broadcast(shapes: list[Shape]) -> Shape:
    """PyTorch's broadcasting of per-image shapes (trailing dimensions aligned)."""
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(rank):
        sizes = {s[i - rank + len(s)] for s in shapes if i - rank + len(s) >= 0} - {1}
        if len(sizes) > 1:
            raise LayerError("shapes do not broadcast: " + ", ".join(fmt_shape(s) for s in shapes))
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


@register
class Elementwise(Layer):
    type = "elementwise"
    summary = "elementwise arithmetic on broadcast tensors or with a scalar (x * 0.5, a - b, x.exp())"
    arity = None
    fields = {"op": Field("text", required=True, doc="the operation, e.g. sub, div, exp, pow")}

    def describe(self) -> str:
        return self.op

    def output(self, inputs: list[Shape]) -> Shape:
        return broadcast(inputs)

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        return Cost(other_ops=numel(out) * max(1, len(inputs) - 1))


@register
class Constant(_Held):
    type = "constant"
    summary = "a parameter or buffer used as a tensor (position embedding, class token, layer scale); stores nothing"
    view = True  # parameters are not activations; it reads the tensor it is combined with for the batch size
    fields = {
        "shape": Field("shape", required=True, minimum=1, doc="its shape as broadcast per image"),
        "params": Field("int", 0),
        "buffers": Field("int", 0),
        "label": Field("text", ""),
    }


@register
class Matmul(Layer):
    type = "matmul"
    summary = "batched matrix product of two tensors (torch.matmul, bmm, @): MACs = batch·m·k·n"
    arity = None

    def output(self, inputs: list[Shape]) -> Shape:
        if len(inputs) != 2 or min(len(s) for s in inputs) < 2:
            raise LayerError("matmul multiplies two tensors of at least 2 dimensions, got " + ", ".join(fmt_shape(s) for s in inputs))
        a, b = inputs
        if a[-1] != b[-2]:
            raise LayerError(f"matmul: {fmt_shape(a)} by {fmt_shape(b)}: inner sizes {a[-1]} and {b[-2]} differ")
        return (*broadcast([a[:-2], b[:-2]]), a[-2], b[-1])

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        return Cost(macs=numel(out) * inputs[0][-1])


@register
class Attention(Layer):
    type = "attention"
    summary = "scaled dot-product attention softmax(q·kᵀ/√d)·v (F.scaled_dot_product_attention)"
    arity = None

    def output(self, inputs: list[Shape]) -> Shape:
        q, k, v = inputs[:3]
        if q[-1] != k[-1] or k[-2] != v[-2]:
            raise LayerError(f"attention: q {fmt_shape(q)}, k {fmt_shape(k)}, v {fmt_shape(v)} do not fit")
        return (*q[:-1], v[-1])

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        # FlopCounterMode's sdpa count: q·kᵀ (Lq·Lk·d) and attention·v (Lq·Lk·dv) per batch and head
        q, k, v = inputs[:3]
        scores = numel(q[:-1]) * k[-2]
        return Cost(macs=scores * (q[-1] + v[-1]), other_ops=4 * scores)  # scale + softmax (3)


@register
class MultiheadAttention(Layer):
    type = "multihead_attention"
    aliases = ("mha",)
    summary = "nn.MultiheadAttention (batch_first) on L×E: q, k, v projections, attention, output projection"
    arity = None
    fields = {
        "heads": Field("int", required=True, minimum=1),
        "bias": Field("bool", True),
        "add_bias_kv": Field("bool", False),
    }

    def describe(self) -> str:
        return f"{self.heads} heads"

    def output(self, inputs: list[Shape]) -> Shape:
        q = inputs[0]
        if len(q) != 2 or sure(q[-1] % self.heads != 0):
            raise LayerError(f"multihead_attention needs L×E with E divisible by {self.heads} heads, got {fmt_shape(q)}")
        return q

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        (lq, e), (lk, kdim), (_, vdim) = (inputs * 3)[:3] if len(inputs) == 1 else inputs[:3]
        weights = e * e + e * kdim + e * vdim + e * e  # q, k, v and output projections
        biases = 4 * e if self.bias else 0
        extra = 2 * e if self.add_bias_kv else 0
        macs = lq * e * e + lk * (kdim + vdim) * e + lq * lk * 2 * e + lq * e * e
        return Cost(params=weights + biases + extra, biases=biases, macs=macs, other_ops=4 * self.heads * lq * lk + biases * lq)


class _View(Layer):
    view = True


@register
class Permute(_View):
    type = "permute"
    summary = "reorder per-image dimensions (x.permute(0, *[d + 1 for d in dims])); a view"
    fields = {"dims": Field("shape", required=True, minimum=0)}

    def describe(self) -> str:
        return str(list(self.dims))

    def output(self, inputs: list[Shape]) -> Shape:
        if sorted(self.dims) != list(range(len(inputs[0]))):
            raise LayerError(f"dims {list(self.dims)} are not a permutation of {fmt_shape(inputs[0])}'s dimensions")
        return tuple(inputs[0][d] for d in self.dims)


@register
class Expand(_View):
    type = "expand"
    summary = "broadcast to a larger shape without copying (x.expand)"
    fields = {"shape": Field("shape", required=True, minimum=1)}

    def output(self, inputs: list[Shape]) -> Shape:
        if broadcast([inputs[0], self.shape]) != self.shape:
            raise LayerError(f"cannot expand {fmt_shape(inputs[0])} to {list(self.shape)}")
        return self.shape


@register
class Slice(_View):
    type = "slice"
    summary = "part of a tensor (x[..., a:b], select, narrow, one piece of split / unbind); a view"
    fields = {"shape": Field("shape", required=True, minimum=0), "label": Field("text", "")}

    def describe(self) -> str:
        return self.label

    def output(self, inputs: list[Shape]) -> Shape:
        if numel(self.shape) > numel(inputs[0]):
            raise LayerError(f"a slice of {fmt_shape(inputs[0])} cannot be {list(self.shape)}")
        return self.shape


@register
class Gather(_Held):
    type = "gather"
    summary = "values picked by an index tensor (table[index], Swin's relative position bias): a copy, no arithmetic"
    fields = {
        "shape": Field("shape", required=True, minimum=1),
        "label": Field("text", ""),
        "buffers": Field("int", 0, doc="the index tensor's values, when it is a buffer (from_torch's ledger)"),
        "params": Field("int", 0),
    }


@register
class Stack(Layer):
    type = "stack"
    summary = "stack equal tensors along a new dimension (torch.stack)"
    arity = None
    fields = {"dim": Field("int", 0, doc="per-image position of the new dimension")}

    def output(self, inputs: list[Shape]) -> Shape:
        if any(s != inputs[0] for s in inputs) or self.dim > len(inputs[0]):
            raise LayerError(f"stack along {self.dim} needs equal shapes, got " + ", ".join(fmt_shape(s) for s in inputs))
        return (*inputs[0][:self.dim], len(inputs), *inputs[0][self.dim:])


@register
class Pad(Layer):
    type = "pad"
    summary = "pad the last dimensions (F.pad): [left, right, top, bottom, ...], last dimension first"
    fields = {"pads": Field("shape", required=True, minimum=-(10**9)), "mode": Field("text", "constant")}

    def validate(self) -> None:
        if len(self.pads) % 2:
            raise LayerError(f"pads come in pairs, got {list(self.pads)}")

    def describe(self) -> str:
        return f"{list(self.pads)} {self.mode}"

    def output(self, inputs: list[Shape]) -> Shape:
        shape = list(inputs[0])
        for i in range(len(self.pads) // 2):
            if i >= len(shape):
                raise LayerError(f"pads {list(self.pads)} cover more dimensions than {fmt_shape(inputs[0])}")
            shape[-1 - i] += self.pads[2 * i] + self.pads[2 * i + 1]
        return tuple(shape)


@register
class Upsample(Layer):
    type = "upsample"
    aliases = ("interpolate",)
    summary = "resize the spatial dimensions (nn.Upsample, F.interpolate) to `size`"
    fields = {"size": Field("shape", required=True, minimum=1), "mode": Field("text", "nearest")}

    def describe(self) -> str:
        return f"-> {'x'.join(map(str, self.size))} {self.mode}"

    def output(self, inputs: list[Shape]) -> Shape:
        if len(inputs[0]) != len(self.size) + 1:
            raise LayerError(f"upsample to {list(self.size)} needs a C×{len(self.size)}-d input, got {fmt_shape(inputs[0])}")
        return (inputs[0][0], *self.size)

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        # nearest copies (fvcore counts 1 per output); linear modes blend 2^d neighbours: fvcore's 4 per output (2-D)
        per = 0 if self.mode == "nearest" else 4
        return Cost(other_ops=per * numel(out), fvcore_extra=(per or 1) * numel(out))


@register
class Reduce(Layer):
    type = "reduce"
    summary = "reduction over per-image dimensions (x.sum / mean / amax / amin / std / var)"
    fields = {
        "op": Field("text", "sum"),
        "dims": Field("shape", required=True, minimum=0, doc="per-image dimensions"),
        "keepdim": Field("bool", False),
    }

    def describe(self) -> str:
        return f"{self.op} over {list(self.dims)}"

    def output(self, inputs: list[Shape]) -> Shape:
        shape = inputs[0]
        if any(d >= len(shape) for d in self.dims):
            raise LayerError(f"dims {list(self.dims)} out of range for {fmt_shape(shape)}")
        if self.keepdim:
            return tuple(1 if i in self.dims else s for i, s in enumerate(shape))
        return tuple(s for i, s in enumerate(shape) if i not in self.dims) or (1,)  # a scalar per image

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        return Cost(other_ops=numel(inputs[0]))


@register
class Einsum(Layer):
    type = "einsum"
    summary = "two-operand Einstein summation (torch.einsum 'ab,bc->ac'): MACs = product of every letter's size"
    arity = None
    fields = {"equation": Field("text", required=True, doc="per-image subscripts, e.g. 'hqd,hkd->hqk'")}

    def describe(self) -> str:
        return self.equation

    def _sizes(self, inputs: list[Shape]) -> tuple[dict[str, int], str]:
        lhs, _, out = self.equation.replace(" ", "").partition("->")
        terms = lhs.split(",")
        if len(terms) != len(inputs) or any(len(t) != len(s) for t, s in zip(terms, inputs)):
            raise LayerError(f"einsum {self.equation!r} does not fit " + ", ".join(fmt_shape(s) for s in inputs))
        sizes: dict[str, int] = {}
        for term, shape in zip(terms, inputs):
            for letter, size in zip(term, shape):
                if sizes.setdefault(letter, size) != size and size != 1:
                    if sizes[letter] != 1:
                        raise LayerError(f"einsum {self.equation!r}: {letter!r} is {sizes[letter]} and {size}")
                    sizes[letter] = size
        return sizes, out

    def output(self, inputs: list[Shape]) -> Shape:
        sizes, out = self._sizes(inputs)
        return tuple(sizes[letter] for letter in out) or (1,)

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        sizes, _ = self._sizes(inputs)
        return Cost(macs=math.prod(sizes.values()))


@register
class LSTM(Layer):
    type = "lstm"
    summary = "LSTM over the second-to-last dimension (nn.LSTM, batch_first): L×in -> L×hidden·directions"
    fields = {
        "hidden": Field("int", required=True, minimum=1),
        "layers": Field("int", 1, minimum=1),
        "bidirectional": Field("bool", False),
        "bias": Field("bool", True),
    }

    def describe(self) -> str:
        return f"{self.hidden}, {self.layers} layer(s)" + (", bidirectional" if self.bidirectional else "")

    def _inputs(self, features: int) -> list[int]:
        """Input width of each layer: the features, then the previous layer's output."""
        dirs = 2 if self.bidirectional else 1
        return [features] + [self.hidden * dirs] * (self.layers - 1)

    def output(self, inputs: list[Shape]) -> Shape:
        if len(inputs[0]) < 2:
            raise LayerError(f"lstm needs L×features, got {fmt_shape(inputs[0])}")
        return (*inputs[0][:-1], self.hidden * (2 if self.bidirectional else 1))

    def cost(self, inputs: list[Shape], out: Shape) -> Cost:
        # per layer and direction: 4 gates, each a linear map of [x_t, h_{t-1}] at every step
        dirs, h = (2 if self.bidirectional else 1), self.hidden
        weights = dirs * sum(4 * h * (i + h) for i in self._inputs(inputs[0][-1]))
        biases = dirs * self.layers * 8 * h if self.bias else 0
        steps = numel(inputs[0][:-1])
        return Cost(params=weights + biases, biases=biases, macs=steps * weights, other_ops=steps * dirs * self.layers * 14 * h)

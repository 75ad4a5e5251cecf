"""NASNet-A (Zoph, Vasudevan, Shlens & Le, CVPR 2018, arXiv:1707.07012) in plain PyTorch.

An independent port of the authors' TF-slim model (tensorflow/models research/slim/nets/nasnet/
nasnet.py and nasnet_utils.py), with the module layout and names of Cadene's pretrainedmodels
port (nasnet_mobile.py / nasnetalarge.py, which timm's `nasnetalarge` copies):

* stem: 3x3/2 VALID conv + BN, then two reduction-type stem cells (cell_stem_0, cell_stem_1);
* 3 stacks of N normal cells with a reduction cell between stacks; every cell takes the outputs
  of the previous two cells (`x`, `x_prev`); a previous output at twice the resolution goes
  through the factorized reduction (ReLU, two 1x1/2 average-pool + 1x1-conv paths, the second
  shifted by one pixel, concat, BN), otherwise through ReLU, 1x1 conv, BN;
* separable branch = ReLU, depthwise kxk, pointwise 1x1, BN, ReLU, depthwise kxk, pointwise 1x1,
  BN (TF `_stacked_separable_conv` with 2 layers; the first pointwise goes to the cell width);
* head: ReLU, global average pool, dropout, linear.

Padding is TensorFlow's 'SAME': stride-1 ops pad (k-1)/2 on both sides; stride-2 ops pad
total = max((ceil(n/2)-1)*2 + k - n, 0), the extra pixel on the bottom/right, computed from the
input size at run time (this is what Cadene's ZeroPad2d((1,0,1,0)) + [1:, 1:] crop and timm's
Conv2dSame / MaxPool2dSame reproduce). The padding is applied functionally right before a plain
nn.Conv2d / nn.MaxPool2d / nn.AvgPool2d with padding 0, so every leaf module outputs its final
shape. Max pools pad with -inf; SAME average pools divide by the number of real (unpadded)
inputs, as TF does.

Configurations (TF-slim `mobile_imagenet_config` / `large_imagenet_config`):

==============  =========  ===========  ================  =====================  ==========
network         num_cells  filters      stem filters      skip_reduction_input   input
==============  =========  ===========  ================  =====================  ==========
nasnet_a_mobile 12 (4x3)   1056 // 24   32 (mult. 1)      no                     224x224x3
nasnet_a_large  18 (6x3)   4032 // 24   96 (mult. 3)      yes                    331x331x3
==============  =========  ===========  ================  =====================  ==========

`skip_reduction_layer_input` decides what the cell after a reduction cell takes as `x_prev`:
the large model skips the reduction cell's own input (the cell two before it, e.g.
cell_6(reduction_cell_0, cell_4)); the mobile model takes the last normal cell
(cell_4(reduction_cell_0, cell_3) in TF numbering, Cadene's cell_6(x_reduction_cell_0, x_cell_3)).

Module execution order follows Cadene / timm (in cell_stem_1 the 1x1 on the stem-0 output runs
before the factorized reduction of conv0; TF-slim runs them the other way round; the arithmetic
is the same). Drop-path is the identity at inference and the auxiliary head (training only) is
left out, as in both PyTorch ports. `nasnet_a_large()` exists to check this code against
timm's `nasnetalarge` (params, MACs, every leaf shape); `nasnet_a_mobile()` is the reference of
the spec's `nasnet_a_mobile`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

BN_EPS = 1e-3


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF 'SAME' padding (before, after) along one axis."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pad_same(x: torch.Tensor, kernel: int, stride: int, value: float = 0.0) -> torch.Tensor:
    top, bottom = _same_pads(x.shape[-2], kernel, stride)
    left, right = _same_pads(x.shape[-1], kernel, stride)
    return F.pad(x, (left, right, top, bottom), value=value)


class ConvSame(nn.Module):
    """Conv2d with TF 'SAME' padding: static (k-1)/2 at stride 1, run-time at stride 2."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride
        pad = (kernel - 1) // 2 if stride == 1 else 0
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=pad, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = _pad_same(x, self.kernel, self.stride)
        return self.conv(x)


class MaxPoolSame(nn.Module):
    def __init__(self, kernel: int = 3, stride: int = 2) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.pool = nn.MaxPool2d(kernel, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(_pad_same(x, self.kernel, self.stride, value=-math.inf))


class AvgPoolSame(nn.Module):
    """TF 'SAME' average pooling: the mean over the window's real inputs only."""

    def __init__(self, kernel: int = 3, stride: int = 2) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride
        if stride == 1:
            self.pool = nn.AvgPool2d(kernel, stride=1, padding=(kernel - 1) // 2, count_include_pad=False)
        else:
            self.pool = nn.AvgPool2d(kernel, stride=stride, count_include_pad=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return self.pool(x)
        summed = self.pool(_pad_same(x, self.kernel, self.stride))
        ones = _pad_same(torch.ones_like(x[:1, :1]), self.kernel, self.stride)
        share = F.avg_pool2d(ones, self.kernel, self.stride)  # fraction of real inputs per window
        return summed / share


class SeparableConv2d(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.depthwise_conv2d = ConvSame(cin, cin, kernel, stride, groups=cin)
        self.pointwise_conv2d = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise_conv2d(self.depthwise_conv2d(x))


class BranchSeparables(nn.Module):
    """Two stacked ReLU-separable-BN layers; only the first is strided."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1) -> None:
        super().__init__()
        self.act_1 = nn.ReLU()
        self.separable_1 = SeparableConv2d(cin, cout, kernel, stride)
        self.bn_sep_1 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.act_2 = nn.ReLU(inplace=True)
        self.separable_2 = SeparableConv2d(cout, cout, kernel, 1)
        self.bn_sep_2 = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn_sep_1(self.separable_1(self.act_1(x)))
        return self.bn_sep_2(self.separable_2(self.act_2(x)))


class ActConvBn(nn.Module):
    """ReLU, 1x1 conv, BN: a cell's `1x1` / `prev_1x1` input adjustment."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.act = nn.ReLU()
        self.conv = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(self.act(x)))


class FactorizedReduction(nn.Module):
    """ReLU, then two stride-2 1x1 paths (the second shifted one pixel down-right), concat, BN."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.act = nn.ReLU()
        self.path_1 = nn.Sequential()
        self.path_1.add_module("avgpool", nn.AvgPool2d(1, stride=2, count_include_pad=False))
        self.path_1.add_module("conv", nn.Conv2d(cin, cout // 2, 1, bias=False))
        self.path_2 = nn.Sequential()
        self.path_2.add_module("avgpool", nn.AvgPool2d(1, stride=2, count_include_pad=False))
        self.path_2.add_module("conv", nn.Conv2d(cin, cout - cout // 2, 1, bias=False))
        self.final_path_bn = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(x)
        p1 = self.path_1(x)
        # TF: tf.pad(net, [[0, 0], [0, 1], [0, 1], [0, 0]])[:, 1:, 1:, :]
        p2 = self.path_2(F.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:])
        return self.final_path_bn(torch.cat([p1, p2], 1))


class NormalCell(nn.Module):
    """NASNet-A normal cell. `reduce_prev`: x_prev is at twice x's resolution (factorized reduction)."""

    def __init__(self, cin_prev: int, cin: int, width: int, reduce_prev: bool) -> None:
        super().__init__()
        self.reduce_prev = reduce_prev
        if reduce_prev:
            self.prev = FactorizedReduction(cin_prev, width)
        else:
            self.conv_prev_1x1 = ActConvBn(cin_prev, width)
        self.conv_1x1 = ActConvBn(cin, width)
        self.comb_iter_0_left = BranchSeparables(width, width, 5)
        self.comb_iter_0_right = BranchSeparables(width, width, 3)
        self.comb_iter_1_left = BranchSeparables(width, width, 5)
        self.comb_iter_1_right = BranchSeparables(width, width, 3)
        self.comb_iter_2_left = AvgPoolSame(3, 1)
        self.comb_iter_3_left = AvgPoolSame(3, 1)
        self.comb_iter_3_right = AvgPoolSame(3, 1)
        self.comb_iter_4_left = BranchSeparables(width, width, 3)

    def forward(self, x: torch.Tensor, x_prev: torch.Tensor) -> torch.Tensor:
        h1 = self.prev(x_prev) if self.reduce_prev else self.conv_prev_1x1(x_prev)  # x_left
        h0 = self.conv_1x1(x)  # x_right
        c0 = self.comb_iter_0_left(h0) + self.comb_iter_0_right(h1)
        c1 = self.comb_iter_1_left(h1) + self.comb_iter_1_right(h1)
        c2 = self.comb_iter_2_left(h0) + h1
        c3 = self.comb_iter_3_left(h1) + self.comb_iter_3_right(h1)
        c4 = self.comb_iter_4_left(h0) + h0
        return torch.cat([h1, c0, c1, c2, c3, c4], 1)


class ReductionCell(nn.Module):
    """NASNet-A reduction cell (also the two stem cells).

    stem 0: no previous layer; the raw conv0 output is both inputs (TF: prev_layer=None), its
    separable branches map conv0's channels straight to the cell width.
    stem 1: x_prev (conv0) is at twice the resolution: factorized reduction; the 1x1 on x runs first.
    """

    def __init__(self, cin_prev: int, cin: int, width: int, kind: str = "reduction") -> None:
        super().__init__()
        self.kind = kind
        right_in = width
        if kind == "stem0":
            right_in = cin_prev  # raw conv0 output
        elif kind == "stem1":
            self.prev = FactorizedReduction(cin_prev, width)
        else:
            self.conv_prev_1x1 = ActConvBn(cin_prev, width)
        self.conv_1x1 = ActConvBn(cin, width)
        self.comb_iter_0_left = BranchSeparables(width, width, 5, 2)
        self.comb_iter_0_right = BranchSeparables(right_in, width, 7, 2)
        self.comb_iter_1_left = MaxPoolSame(3, 2)
        self.comb_iter_1_right = BranchSeparables(right_in, width, 7, 2)
        self.comb_iter_2_left = AvgPoolSame(3, 2)
        self.comb_iter_2_right = BranchSeparables(right_in, width, 5, 2)
        self.comb_iter_3_right = AvgPoolSame(3, 1)
        self.comb_iter_4_left = BranchSeparables(width, width, 3, 1)
        self.comb_iter_4_right = MaxPoolSame(3, 2)

    def forward(self, x: torch.Tensor, x_prev: torch.Tensor | None = None) -> torch.Tensor:
        if self.kind == "stem0":
            h0 = self.conv_1x1(x)
            h1 = x
        elif self.kind == "stem1":
            h0 = self.conv_1x1(x)
            h1 = self.prev(x_prev)
        else:
            h1 = self.conv_prev_1x1(x_prev)
            h0 = self.conv_1x1(x)
        c0 = self.comb_iter_0_left(h0) + self.comb_iter_0_right(h1)
        c1 = self.comb_iter_1_left(h0) + self.comb_iter_1_right(h1)
        c2 = self.comb_iter_2_left(h0) + self.comb_iter_2_right(h1)
        c3 = self.comb_iter_3_right(c0) + c1
        c4 = self.comb_iter_4_left(c0) + self.comb_iter_4_right(h0)
        return torch.cat([c1, c2, c3, c4], 1)


class NASNetA(nn.Module):
    def __init__(
        self,
        num_cells: int,
        penultimate_filters: int,
        stem_filters: int,
        skip_reduction_layer_input: bool,
        num_classes: int = 1000,
        filter_scaling_rate: int = 2,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        f = penultimate_filters // 24  # the cell width of the first stack
        r = filter_scaling_rate
        self.conv0 = nn.Sequential()
        self.conv0.add_module("conv", nn.Conv2d(3, stem_filters, 3, stride=2, padding=0, bias=False))
        self.conv0.add_module("bn", nn.BatchNorm2d(stem_filters, eps=BN_EPS))
        self.cell_stem_0 = ReductionCell(stem_filters, stem_filters, f // r**2, kind="stem0")
        self.cell_stem_1 = ReductionCell(stem_filters, 4 * (f // r**2), f // r, kind="stem1")

        # TF _build_nasnet_base: which outputs each cell reads, with channels and resolution level
        per_stack = num_cells // 3
        outputs = [(stem_filters, 0), (4 * (f // r**2), 1), (4 * (f // r), 2)]  # conv0, stem 0, stem 1
        self.order: list[tuple[str, int, int]] = []  # (module name, index of x, index of x_prev)
        width = f
        cell = 0
        for stack in range(3):
            for i in range(per_stack):
                if stack > 0 and i == 0:
                    width *= r
                    name = f"reduction_cell_{stack - 1}"
                    (cp, _), (cx, lvl) = outputs[-2], outputs[-1]
                    self.add_module(name, ReductionCell(cp, cx, width))
                    self.order.append((name, len(outputs) - 1, len(outputs) - 2))
                    outputs.append((4 * width, lvl + 1))
                    prev = len(outputs) - 3 if skip_reduction_layer_input else len(outputs) - 2
                else:
                    prev = len(outputs) - 2
                (cp, lp), (cx, lx) = outputs[prev], outputs[-1]
                name = f"cell_{cell}"
                self.add_module(name, NormalCell(cp, cx, width, reduce_prev=lp != lx))
                self.order.append((name, len(outputs) - 1, prev))
                outputs.append((6 * width, lx))
                cell += 1
        self.act = nn.ReLU()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.last_linear = nn.Linear(outputs[-1][0], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_conv0 = self.conv0(x)
        x_stem_0 = self.cell_stem_0(x_conv0)
        x_stem_1 = self.cell_stem_1(x_stem_0, x_conv0)
        outs = [x_conv0, x_stem_0, x_stem_1]
        for name, ix, iprev in self.order:
            outs.append(getattr(self, name)(outs[ix], outs[iprev]))
        x = self.avgpool(self.act(outs[-1])).flatten(1)
        return self.last_linear(self.dropout(x))


def nasnet_a_mobile() -> NASNetA:
    """NASNet-A (4 @ 1056), 224x224x3: TF-slim mobile_imagenet_config."""
    return NASNetA(num_cells=12, penultimate_filters=1056, stem_filters=32, skip_reduction_layer_input=False)


def nasnet_a_large() -> NASNetA:
    """NASNet-A (6 @ 4032), 331x331x3: TF-slim large_imagenet_config (checks this code against timm)."""
    return NASNetA(num_cells=18, penultimate_filters=4032, stem_filters=96, skip_reduction_layer_input=True)

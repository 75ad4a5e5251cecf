"""Plain-PyTorch FractalNet for CIFAR (Larsson, Maire & Shakhnarovich, ICLR 2017), written from
the paper's expansion rule and the authors' Caffe generator (gustavla/fractalnet,
generation/fractalnet.py and generation/globals.crox), independently of specs/fractalnet.yaml.

* conv unit: 3x3 conv (pad 1, with bias, as Caffe's Convolution) -> BatchNorm (Caffe's
  BatchNorm layer: normalisation only, no learned scale/shift, hence affine=False) -> ReLU.
  The per-block dropout of the generator is an identity at inference and is left out.
* fractal block: f_1(z) = conv(z); f_{C+1}(z) = join([f_C o f_C](z), conv(z)). Joins at the
  same depth are one join (the generator's join2/join3/join4 layers): the columns of the
  second f_C stay open and are joined with conv(z) in a single elementwise mean.
* pooling: 2x2 max pool after each block, applied to every column before the block's last join
  (the generator pools each column, then joins; the paper's implementation notes say the same).
* after 5 blocks a 32x32 input is 1x1x512; a linear layer gives the class scores.
"""

import torch
from torch import nn


class ConvUnit(nn.Sequential):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, kernel_size=3, padding=1, bias=True),
            nn.BatchNorm2d(cout, affine=False),
            nn.ReLU(inplace=True),
        )


class Fractal(nn.Module):
    """f_C as a module; `columns(z, pool)` returns the columns entering its last join."""

    def __init__(self, columns: int, cin: int, cout: int) -> None:
        super().__init__()
        self.c = columns
        self.shallow = ConvUnit(cin, cout)  # conv(z), the one-conv column
        if columns > 1:
            self.first = Fractal(columns - 1, cin, cout)
            self.second = Fractal(columns - 1, cout, cout)
        self.pool = nn.MaxPool2d(2)

    def columns(self, z: torch.Tensor, pool: bool) -> list[torch.Tensor]:
        outs = []
        if self.c > 1:
            mid = self.first(z)  # f_{C-1}(z), fully joined
            outs = self.second.columns(mid, pool)  # second f_{C-1}: its last join merges with ours
        s = self.shallow(z)
        outs.append(self.pool(s) if pool else s)
        return outs

    def forward(self, z: torch.Tensor, pool: bool = False) -> torch.Tensor:
        outs = self.columns(z, pool)
        return torch.stack(outs).mean(dim=0)  # join: elementwise mean


class FractalBlock(nn.Module):
    """A fractal block followed by 2x2 max pooling (pool each column, then join)."""

    def __init__(self, columns: int, cin: int, cout: int) -> None:
        super().__init__()
        self.fractal = Fractal(columns, cin, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fractal(x, pool=True)


class FractalNetCifar(nn.Module):
    def __init__(self, columns: int, widths=(64, 128, 256, 512, 512), num_classes: int = 10, size: int = 32) -> None:
        super().__init__()
        blocks, cin = [], 3
        for w in widths:
            blocks.append(FractalBlock(columns, cin, w))
            cin = w
            size //= 2
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin * size * size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.blocks(x), 1))


def fractalnet_cifar() -> nn.Module:
    """B=5 blocks of C=4 columns (40 conv layers on the deepest path), CIFAR-10."""
    return FractalNetCifar(columns=4)


def fractalnet20_cifar() -> nn.Module:
    """B=5 blocks of C=3 columns (20 conv layers on the deepest path), CIFAR-10: paper Table 1."""
    return FractalNetCifar(columns=3)

"""Plain-PyTorch reference for the CIFAR Wide Residual Network (Zagoruyko & Komodakis, BMVC 2016,
arXiv:1605.07146), written from the authors' released code, szagoruyko/wide-residual-networks,
pytorch/resnet.py (functional) and models/wide-resnet.lua (the Torch original), not from a spec.

What the authors' code does, and this module repeats:
- depth = 6n + 4; widths 16k, 32k, 64k; stem conv 3 -> 16, 3x3, padding 1;
- each block ("wide_basic"): o1 = ReLU(BN(x)); y = conv3x3(o1, stride); z = conv3x3(ReLU(BN(y)));
  output z + x, or z + conv1x1(o1, stride) when the channel count changes (the shortcut reads the
  pre-activated o1, as the authors' code does, not x);
- every convolution is bias-free (`conv_params` holds a weight only; Lua: `utils.DisableBias`),
  batch norm is affine, the classifier has a bias;
- after the last group: BN, ReLU, `F.avg_pool2d(o, 8, 1, 0)` (8x8 window on the 8x8 map), FC.
Dropout between the two convs (the paper's optional 0.3) is off, as in the authors' default.
"""

from __future__ import annotations

from torch import Tensor, nn


class WideBasic(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.bn0 = nn.BatchNorm2d(cin)
        self.conv0 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv1 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.convdim = nn.Conv2d(cin, cout, 1, stride=stride, bias=False) if cin != cout else None

    def forward(self, x: Tensor) -> Tensor:
        o1 = nn.functional.relu(self.bn0(x))
        y = self.conv0(o1)
        z = self.conv1(nn.functional.relu(self.bn1(y)))
        if self.convdim is not None:
            return z + self.convdim(o1)
        return z + x


class WideResNetCifar(nn.Module):
    def __init__(self, depth: int, k: int, num_classes: int = 10) -> None:
        super().__init__()
        assert (depth - 4) % 6 == 0, "depth should be 6n+4"
        n = (depth - 4) // 6
        widths = [16 * k, 32 * k, 64 * k]
        self.conv0 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        groups = []
        cin = 16
        for g, (w, stride) in enumerate(zip(widths, (1, 2, 2))):
            blocks = [WideBasic(cin if i == 0 else w, w, stride if i == 0 else 1) for i in range(n)]
            groups.append(nn.Sequential(*blocks))
            cin = w
        self.group0, self.group1, self.group2 = groups
        self.bn = nn.BatchNorm2d(widths[2])
        self.pool = nn.AvgPool2d(8, 1, 0)
        self.fc = nn.Linear(widths[2], num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv0(x)
        x = self.group2(self.group1(self.group0(x)))
        x = self.pool(nn.functional.relu(self.bn(x)))
        return self.fc(x.flatten(1))


def wrn28_10_cifar() -> nn.Module:
    """WRN-28-10 for CIFAR-10 (32x32x3 input)."""
    return WideResNetCifar(28, 10, num_classes=10)

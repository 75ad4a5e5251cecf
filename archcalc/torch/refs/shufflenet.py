"""Plain-PyTorch ShuffleNet v1 (Zhang et al., CVPR 2018, arXiv:1707.01083), 1x scale.

Written from the paper (Sec. 3.2-3.3, Fig. 2, Table 1) and checked against the authors' released
PyTorch definition (megvii-model/ShuffleNet-Series, ShuffleNetV1/network.py and blocks.py):

* stem: 3x3/2 conv (24) + BN + ReLU, 3x3/2 max pool (padding 1);
* stages 2-4 of 4 / 8 / 4 units, the first of each with stride 2;
* unit: 1x1 group conv (bottleneck = out/4) + BN + ReLU, channel shuffle, 3x3 depthwise conv
  (stride 1 or 2) + BN, 1x1 group conv + BN; stride 1: add the identity, ReLU;
  stride 2: 3x3/2 average pool (padding 1) on the shortcut, concat [shortcut, branch], ReLU,
  so the branch outputs out - in channels;
* the first 1x1 conv of Stage 2 is not grouped (Table 1 note);
* global average pool, FC without bias (as in the authors' code).

Differences from the authors' code that change no count: global pooling is adaptive (their
AvgPool2d(7) at 224), the shuffle is the paper's reshape(g, n) / transpose (theirs permutes the
other way), and ReLU follows the stride-2 concatenation (they apply it to the branch only; the
pooled shortcut of a post-ReLU input is non-negative, so the result is the same).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

REPEATS = (4, 8, 4)
STAGE_OUT = {3: (240, 480, 960), 8: (384, 768, 1536)}  # Table 1, 1x


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    b, c, h, w = x.shape
    return x.view(b, groups, c // groups, h, w).transpose(1, 2).reshape(b, c, h, w)


class ShuffleUnit(nn.Module):
    def __init__(self, cin: int, cout: int, groups: int, stride: int, group_first: bool = True) -> None:
        super().__init__()
        self.stride, self.groups = stride, groups
        mid = cout // 4
        branch_out = cout - cin if stride == 2 else cout
        self.gconv1 = nn.Conv2d(cin, mid, 1, bias=False, groups=groups if group_first else 1)
        self.bn1 = nn.BatchNorm2d(mid)
        self.dwconv = nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.gconv2 = nn.Conv2d(mid, branch_out, 1, bias=False, groups=groups)
        self.bn3 = nn.BatchNorm2d(branch_out)
        self.shortcut = nn.AvgPool2d(3, 2, 1) if stride == 2 else None

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.shortcut is None else self.shortcut(x)
        out = torch.relu(self.bn1(self.gconv1(x)))
        out = channel_shuffle(out, self.groups)
        out = self.bn2(self.dwconv(out))
        out = self.bn3(self.gconv2(out))
        if self.stride == 1:
            return torch.relu(out + shortcut)
        return torch.relu(torch.cat((shortcut, out), 1))


class ShuffleNetV1(nn.Module):
    def __init__(self, groups: int, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 24, 3, 2, 1, bias=False), nn.BatchNorm2d(24), nn.ReLU(inplace=True))
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 24
        for s, (n, cout) in enumerate(zip(REPEATS, STAGE_OUT[groups])):
            units = []
            for i in range(n):
                units.append(ShuffleUnit(cin, cout, groups, 2 if i == 0 else 1, group_first=not (s == 0 and i == 0)))
                cin = cout
            setattr(self, f"stage{s + 2}", nn.Sequential(*units))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.conv1(x))
        x = self.stage4(self.stage3(self.stage2(x)))
        return self.fc(self.avgpool(x).flatten(1))


def shufflenet_v1_g3() -> nn.Module:
    """ShuffleNet 1x (g = 3)."""
    return ShuffleNetV1(groups=3)


def shufflenet_v1_g8() -> nn.Module:
    """ShuffleNet 1x (g = 8)."""
    return ShuffleNetV1(groups=8)

"""Plain-PyTorch DenseNet-BC for CIFAR, written from the authors' Torch code
(liuzhuang13/DenseNet, models/densenet.lua and models/DenseConnectLayer.lua) and the PyTorch
port it links (andreasveit/densenet-pytorch), independently of specs/densenet.yaml.

Convs carry no bias (the Lua code drops them under cuDNN >= 4; the port uses bias=False).
Dropout (only used without data augmentation) is an identity at inference and is left out.
"""

import math

import torch
from torch import nn


class Bottleneck(nn.Module):
    """BN-ReLU-conv1x1(4k)-BN-ReLU-conv3x3(k); output = cat([input, new maps])."""

    def __init__(self, cin: int, growth: int) -> None:
        super().__init__()
        inter = 4 * growth
        self.bn1 = nn.BatchNorm2d(cin)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(cin, inter, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(inter)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(inter, growth, kernel_size=3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(self.relu1(self.bn1(x)))
        out = self.conv2(self.relu2(self.bn2(out)))
        return torch.cat([x, out], 1)


class Transition(nn.Module):
    """BN-ReLU-conv1x1-avgpool 2x2."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(cin)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(cin, cout, kernel_size=1, bias=False)
        self.pool = nn.AvgPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv(self.relu(self.bn(x))))


class DenseNetCifar(nn.Module):
    def __init__(self, depth: int = 100, growth: int = 12, reduction: float = 0.5, num_classes: int = 10) -> None:
        super().__init__()
        n = (depth - 4) // 3 // 2  # bottleneck layers per block
        channels = 2 * growth
        self.conv1 = nn.Conv2d(3, channels, kernel_size=3, padding=1, bias=False)
        stages: list[nn.Module] = []
        for b in range(3):
            layers = []
            for _ in range(n):
                layers.append(Bottleneck(channels, growth))
                channels += growth
            stages.append(nn.Sequential(*layers))
            if b < 2:
                out = int(math.floor(channels * reduction))
                stages.append(Transition(channels, out))
                channels = out
        self.features = nn.Sequential(*stages)
        self.bn = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.AvgPool2d(8)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(self.conv1(x))
        x = self.pool(self.relu(self.bn(x)))
        return self.fc(torch.flatten(x, 1))


def densenet_bc100_k12_cifar() -> nn.Module:
    """DenseNet-BC (L=100, k=12), CIFAR-10 (paper Table 2: 0.8M parameters)."""
    return DenseNetCifar(depth=100, growth=12, reduction=0.5, num_classes=10)

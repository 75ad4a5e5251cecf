"""Reference PyTorch models for the ResNet family specs that torchvision and timm lack.

Written from the papers and the authors' released code, independently of the specs:

* ``resnet{50,101,152}_v1``: He et al. 2015 as released (KaimingHe/deep-residual-networks Caffe
  prototxts): the stride of a stage's first bottleneck on its first 1x1 conv. Built as
  torchvision's model with that stride moved from conv2 (3x3) to conv1 (1x1).
* ``resnet*_cifar`` / ``plain*_cifar``: the CIFAR-10 networks of the paper's Section 4.2, as
  facebook/fb.resnet.torch models/resnet.lua builds them with shortcutType 'A': a stride-2
  1x1 average pool (subsampling) then channel zero padding (Concat of the identity and
  MulConstant(0)). The plain nets drop the shortcuts.
* ``preact_resnet164_cifar``: KaimingHe/resnet-1k-layers resnet-pre-act.lua (depth 9n+2).
* ``preact_resnet200``: facebook/fb.resnet.torch models/preresnet.lua, depth 200.
* ``stochastic_depth_resnet{110,1202}_cifar``: the test-time forward of
  yueatsprograms/Stochastic_Depth (main.lua, ResidualDrop.lua).

Global average pooling is nn.AdaptiveAvgPool2d(1) everywhere (the Torch code's fixed 7x7 / 8x8
average pools are the same operation at the networks' input sizes).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

# --------------------------------------------------------------------------------------------
# ImageNet ResNets with the original stride placement ("v1")


def _stride_on_first_1x1(model: torchvision.models.ResNet) -> torchvision.models.ResNet:
    for stage in (model.layer2, model.layer3, model.layer4):
        block = stage[0]
        block.conv1.stride, block.conv2.stride = block.conv2.stride, block.conv1.stride
    return model


def resnet50_v1() -> nn.Module:
    return _stride_on_first_1x1(torchvision.models.resnet50())


def resnet101_v1() -> nn.Module:
    return _stride_on_first_1x1(torchvision.models.resnet101())


def resnet152_v1() -> nn.Module:
    return _stride_on_first_1x1(torchvision.models.resnet152())


# --------------------------------------------------------------------------------------------
# CIFAR-10 ResNets and plain nets (paper Section 4.2, option A shortcuts)


class _ZeroPadShortcut(nn.Module):
    """fb.resnet.torch shortcut 'A': SpatialAveragePooling(1, 1, s, s), then Concat(Identity, MulConstant(0))."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(1, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(x)
        return torch.cat([x, x.mul(0)], 1)


class _CifarBlock(nn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int, residual: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.residual = residual
        self.shortcut = None
        if residual and (stride != 1 or inplanes != planes):
            assert planes == 2 * inplanes
            self.shortcut = _ZeroPadShortcut(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if self.residual:
            out = out + (x if self.shortcut is None else self.shortcut(x))
        return F.relu(out)


class CifarResNet(nn.Module):
    """depth = 6n + 2: 3x3 conv (16), 3 stages of n blocks (16, 32, 64 filters), GAP, FC 10."""

    def __init__(self, depth: int, residual: bool = True, num_classes: int = 10) -> None:
        super().__init__()
        assert (depth - 2) % 6 == 0
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, inplanes = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(n):
                blocks.append(_CifarBlock(inplanes, planes, stride if i == 0 else 1, residual))
                inplanes = planes
        self.blocks = nn.Sequential(*blocks)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet20_cifar() -> nn.Module:
    return CifarResNet(20)


def resnet32_cifar() -> nn.Module:
    return CifarResNet(32)


def resnet44_cifar() -> nn.Module:
    return CifarResNet(44)


def resnet56_cifar() -> nn.Module:
    return CifarResNet(56)


def resnet110_cifar() -> nn.Module:
    return CifarResNet(110)


def resnet1202_cifar() -> nn.Module:
    return CifarResNet(1202)


def plain20_cifar() -> nn.Module:
    return CifarResNet(20, residual=False)


def plain32_cifar() -> nn.Module:
    return CifarResNet(32, residual=False)


def plain44_cifar() -> nn.Module:
    return CifarResNet(44, residual=False)


def plain56_cifar() -> nn.Module:
    return CifarResNet(56, residual=False)


def plain110_cifar() -> nn.Module:
    return CifarResNet(110, residual=False)


# --------------------------------------------------------------------------------------------
# Stochastic depth (Huang et al. 2016), test time


class _ResidualDrop(nn.Module):
    """ResidualDrop.lua at test time: skip (2x2/2 average pool, zero channels appended) computed
    first, then output = skip + net(x) * (1 - deathRate); the caller adds the ReLU."""

    def __init__(self, death_rate: float, inplanes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.survival = 1 - death_rate
        self.net = nn.Sequential(
            nn.Conv2d(inplanes, planes, 3, stride, 1),  # cudnn.SpatialConvolution keeps its bias
            nn.BatchNorm2d(planes),
            nn.ReLU(inplace=True),
            nn.Conv2d(planes, planes, 3, 1, 1),
            nn.BatchNorm2d(planes),
        )
        self.pool = nn.AvgPool2d(stride, stride) if stride > 1 else None
        self.extra = planes - inplanes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = x if self.pool is None else self.pool(x)
        if self.extra:
            skip = F.pad(skip, (0, 0, 0, 0, 0, self.extra))  # nn.Padding(1, extra, 3)
        return skip + self.net(x).mul(self.survival)


class StochasticDepthResNet(nn.Module):
    def __init__(self, n: int, death_rate_last: float = 0.5, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1)
        self.bn1 = nn.BatchNorm2d(16)
        total = 3 * n
        blocks, inplanes, index = [], 16, 0
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(n):
                index += 1  # main.lua: deathRate = i / #addtables * opt.deathRate
                blocks += [_ResidualDrop(index / total * death_rate_last, inplanes, planes, stride if i == 0 else 1), nn.ReLU(inplace=True)]
                inplanes = planes
        self.blocks = nn.Sequential(*blocks)
        self.avgpool = nn.AdaptiveAvgPool2d(1)  # SpatialAveragePooling(8, 8) on the 8x8 map
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(F.relu(self.bn1(self.conv1(x))))
        return F.log_softmax(self.fc(torch.flatten(self.avgpool(x), 1)), 1)


def stochastic_depth_resnet110_cifar() -> nn.Module:
    return StochasticDepthResNet(18)


def stochastic_depth_resnet1202_cifar() -> nn.Module:
    return StochasticDepthResNet(200)


# --------------------------------------------------------------------------------------------
# Pre-activation ResNets (He et al. 2016, "Identity Mappings in Deep Residual Networks")


class _PreActBottleneck(nn.Module):
    """preact: 'none' (input already activated), 'residual' (BN-ReLU opens the residual branch),
    'both' (BN-ReLU before the split, feeding the residual branch and the projection shortcut)."""

    def __init__(self, inplanes: int, planes: int, stride: int, preact: str, stride_in_1x1: bool, projection: bool) -> None:
        super().__init__()
        self.preact = preact
        self.bn0 = nn.BatchNorm2d(inplanes) if preact != "none" else None
        s1, s2 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.conv1 = nn.Conv2d(inplanes, planes, 1, s1, 0, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, s2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, 4 * planes, 1, 1, 0, bias=False)
        self.shortcut = nn.Conv2d(inplanes, 4 * planes, 1, stride, 0, bias=False) if projection else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.preact == "both":
            x = F.relu(self.bn0(x))
            out = x
        elif self.preact == "residual":
            out = F.relu(self.bn0(x))
        else:
            out = x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn1(out)))
        out = self.conv3(F.relu(self.bn2(out)))
        return out + (x if self.shortcut is None else self.shortcut(x))


class PreActResNetCifar(nn.Module):
    """resnet-pre-act.lua: depth 9n+2, conv 3x3 (16), stages of n bottleneck units with outputs
    64, 128, 256 (bottleneck widths 16, 32, 64), stride on the first 1x1 conv, 1x1 projection on
    each stage's first unit after a common BN-ReLU; final BN-ReLU, global pool, FC."""

    def __init__(self, depth: int, num_classes: int = 10) -> None:
        super().__init__()
        assert (depth - 2) % 9 == 0
        n = (depth - 2) // 9
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        units, inplanes = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            units.append(_PreActBottleneck(inplanes, planes, stride, "both", True, True))
            units += [_PreActBottleneck(4 * planes, planes, 1, "residual", True, False) for _ in range(n - 1)]
            inplanes = 4 * planes
        self.units = nn.Sequential(*units)
        self.bn = nn.BatchNorm2d(inplanes)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn(self.units(self.conv1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class PreActResNetImageNet(nn.Module):
    """preresnet.lua (ImageNet, shortcutType B): conv 7x7/2, BN, ReLU, max pool; stages of
    bottlenecks with the stride on the 3x3 conv; the first unit of layer1 'no_preact', the first
    unit of layers 2-4 'both_preact', the rest pre-activate their residual branch; a 1x1
    projection (no BN) where the channels change; final BN-ReLU, global pool, FC 1000."""

    def __init__(self, layers: tuple[int, int, int, int], num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        units, inplanes = [], 64
        for stage, (planes, count) in enumerate(zip((64, 128, 256, 512), layers)):
            stride = 1 if stage == 0 else 2
            units.append(_PreActBottleneck(inplanes, planes, stride, "none" if stage == 0 else "both", False, True))
            units += [_PreActBottleneck(4 * planes, planes, 1, "residual", False, False) for _ in range(count - 1)]
            inplanes = 4 * planes
        self.units = nn.Sequential(*units)
        self.bn = nn.BatchNorm2d(inplanes)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = F.relu(self.bn(self.units(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def preact_resnet164_cifar() -> nn.Module:
    return PreActResNetCifar(164)


def preact_resnet200() -> nn.Module:
    return PreActResNetImageNet((3, 24, 36, 3))

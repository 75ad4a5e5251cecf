"""Plain-PyTorch reference for the SENets of Hu, Shen & Sun, "Squeeze-and-Excitation Networks"
(CVPR 2018, arXiv:1709.01507), written from the authors' released model definitions as ported by
Cadene (pretrainedmodels/models/senet.py) and kept in timm as `legacy_seresnet50`,
`legacy_seresnext50_32x4d` and `legacy_senet154` (timm/models/senet.py). Not generated from a spec.

Same modules, same parameter names (a timm `legacy_*` state_dict loads with strict=True) and the
same arithmetic as timm's models. Two differences in how the forward pass is written, neither of
which changes a parameter, a MAC or a result:
- the SE squeeze is an `nn.AdaptiveAvgPool2d(1)` module (as in Cadene's port); timm writes it as
  `x.mean((2, 3), keepdim=True)`, which is not a module;
- the SE module runs on the residual branch before the projection shortcut (`downsample`) is
  computed; timm computes `shortcut = downsample(x)` first and then `se_module(out) + shortcut`.
  Both orders compute se(main(x)) + downsample(x); archcalc's branch lists run each branch to its
  end before the next, so they can express only this order.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from torch import Tensor, nn


class SEModule(nn.Module):
    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, channels // reduction, kernel_size=1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(channels // reduction, channels, kernel_size=1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        s = self.sigmoid(self.fc2(self.relu(self.fc1(self.avg_pool(x)))))
        return x * s


class _Bottleneck(nn.Module):
    expansion = 4
    conv1: nn.Conv2d
    conv2: nn.Conv2d
    conv3: nn.Conv2d
    downsample: nn.Module | None

    def _finish(self, planes: int, reduction: int, downsample: nn.Module | None) -> None:
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.se_module = SEModule(planes * 4, reduction)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out = self.se_module(out)
        shortcut = self.downsample(x) if self.downsample is not None else x
        return self.relu(out + shortcut)


class SEBottleneck(_Bottleneck):
    """SENet-154's block: conv1 to 2*planes, grouped 3x3 to 4*planes (stride here), 1x1 to 4*planes."""

    def __init__(self, inplanes: int, planes: int, groups: int, reduction: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes * 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes * 2)
        self.conv2 = nn.Conv2d(planes * 2, planes * 4, 3, stride=stride, padding=1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(planes * 4)
        self.conv3 = nn.Conv2d(planes * 4, planes * 4, 1, bias=False)
        self._finish(planes, reduction, downsample)


class SEResNetBottleneck(_Bottleneck):
    """SE-ResNet block, Caffe ResNet style: the stride is on the first 1x1 conv."""

    def __init__(self, inplanes: int, planes: int, groups: int, reduction: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self._finish(planes, reduction, downsample)


class SEResNeXtBottleneck(_Bottleneck):
    """SE-ResNeXt block (type C): width floor(planes * base_width / 64) * groups, stride on the 3x3."""

    def __init__(self, inplanes: int, planes: int, groups: int, reduction: int, stride: int = 1, downsample: nn.Module | None = None, base_width: int = 4) -> None:
        super().__init__()
        width = math.floor(planes * (base_width / 64)) * groups
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * 4, 1, bias=False)
        self._finish(planes, reduction, downsample)


class SENet(nn.Module):
    def __init__(
        self,
        block: type[_Bottleneck],
        layers: tuple[int, int, int, int],
        groups: int,
        reduction: int = 16,
        inplanes: int = 64,
        input_3x3: bool = False,
        downsample_kernel_size: int = 1,
        downsample_padding: int = 0,
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        self.inplanes = inplanes
        if input_3x3:
            stem = [
                ("conv1", nn.Conv2d(3, 64, 3, stride=2, padding=1, bias=False)),
                ("bn1", nn.BatchNorm2d(64)),
                ("relu1", nn.ReLU(inplace=True)),
                ("conv2", nn.Conv2d(64, 64, 3, stride=1, padding=1, bias=False)),
                ("bn2", nn.BatchNorm2d(64)),
                ("relu2", nn.ReLU(inplace=True)),
                ("conv3", nn.Conv2d(64, inplanes, 3, stride=1, padding=1, bias=False)),
                ("bn3", nn.BatchNorm2d(inplanes)),
                ("relu3", nn.ReLU(inplace=True)),
            ]
        else:
            stem = [
                ("conv1", nn.Conv2d(3, inplanes, 7, stride=2, padding=3, bias=False)),
                ("bn1", nn.BatchNorm2d(inplanes)),
                ("relu1", nn.ReLU(inplace=True)),
            ]
        self.layer0 = nn.Sequential(OrderedDict(stem))
        self.pool0 = nn.MaxPool2d(3, stride=2, ceil_mode=True)  # Caffe's rounding, no padding
        self.layer1 = self._make_layer(block, 64, layers[0], groups, reduction, 1, 1, 0)
        self.layer2 = self._make_layer(block, 128, layers[1], groups, reduction, 2, downsample_kernel_size, downsample_padding)
        self.layer3 = self._make_layer(block, 256, layers[2], groups, reduction, 2, downsample_kernel_size, downsample_padding)
        self.layer4 = self._make_layer(block, 512, layers[3], groups, reduction, 2, downsample_kernel_size, downsample_padding)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.last_linear = nn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block: type[_Bottleneck], planes: int, blocks: int, groups: int, reduction: int, stride: int, ds_kernel: int, ds_padding: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, ds_kernel, stride=stride, padding=ds_padding, bias=False),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, groups, reduction, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, groups, reduction) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool0(self.layer0(x))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avg_pool(x).flatten(1)
        return self.last_linear(x)  # dropout (identity at inference) left out


def se_resnet50() -> nn.Module:
    """As timm legacy_seresnet50."""
    return SENet(SEResNetBottleneck, (3, 4, 6, 3), groups=1)


def se_resnext50_32x4d() -> nn.Module:
    """As timm legacy_seresnext50_32x4d."""
    return SENet(SEResNeXtBottleneck, (3, 4, 6, 3), groups=32)


def senet154() -> nn.Module:
    """As timm legacy_senet154."""
    return SENet(SEBottleneck, (3, 8, 36, 3), groups=64, inplanes=128, input_3x3=True, downsample_kernel_size=3, downsample_padding=1)

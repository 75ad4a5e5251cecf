"""Plain-PyTorch MobileNet v1 (Howard et al. 2017, arXiv:1704.04861), written from the paper.

Table 1 body: a full 3x3/2 conv, then 13 depthwise separable layers (3x3 depthwise conv with
groups = channels, BN, ReLU; 1x1 pointwise conv, BN, ReLU), global average pooling and a
1024 -> 1000 fully connected layer. Convolutions have no bias (BN follows every one).

The width multiplier follows the authors' TF-slim release (research/slim/nets/mobilenet_v1.py):
``depth(d) = max(int(d * alpha), 8)``, i.e. the paper's plain multiplication, floored.
The last depthwise layer has stride 1 (Table 1 prints "s2", a typo: its input and output
are both 7x7, and the authors' code uses stride 1).
The paper's network uses ReLU (Sec. 3.2); the TF-slim release uses ReLU6, which changes no count.
"""

from __future__ import annotations

from torch import Tensor, nn

# (stride, output channels) of the 13 depthwise separable layers of Table 1
BODY = [(1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512),
        (1, 512), (1, 512), (1, 512), (1, 512), (1, 512), (2, 1024), (1, 1024)]


def _conv_bn_relu(cin: int, cout: int, kernel: int, stride: int, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class MobileNetV1(nn.Module):
    def __init__(self, alpha: float = 1.0, num_classes: int = 1000, min_depth: int = 8) -> None:
        super().__init__()

        def depth(d: int) -> int:
            return max(int(d * alpha), min_depth)

        cin = depth(32)
        layers: list[nn.Module] = [_conv_bn_relu(3, cin, 3, 2)]
        for stride, c in BODY:
            cout = depth(c)
            layers.append(nn.Sequential(
                _conv_bn_relu(cin, cin, 3, stride, groups=cin),  # depthwise
                _conv_bn_relu(cin, cout, 1, 1),  # pointwise
            ))
            cin = cout
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = self.avgpool(x).flatten(1)
        return self.fc(x)


def mobilenet_v1() -> nn.Module:
    """1.0 MobileNet-224 (run it on 224x224 input)."""
    return MobileNetV1(alpha=1.0)

"""GoogLeNet as the paper draws it (Szegedy et al., "Going Deeper with Convolutions",
arXiv:1409.4842, Table 1, Figure 3 and section 5), in plain PyTorch.

Written from the paper, not from the archcalc spec: convolutions with bias and ReLU, no batch
norm, LRN after pool1 and after the 3x3 conv2, true 5x5 convolutions, 3x3/2 max pools (ceil
mode, as in the BVLC Caffe replication bvlc_googlenet), 7x7 average pool, dropout 40%, linear
1000, softmax. The two auxiliary classifiers (after 4a and 4d) run only in training mode.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_relu(cin: int, cout: int, kernel: int, stride: int = 1, padding: int = 0) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding), nn.ReLU(inplace=True))


class Inception(nn.Module):
    """Inception module with dimension reductions (paper Figure 2b)."""

    def __init__(self, cin: int, n1x1: int, n3x3red: int, n3x3: int, n5x5red: int, n5x5: int, pool_proj: int) -> None:
        super().__init__()
        self.b1 = conv_relu(cin, n1x1, 1)
        self.b2 = nn.Sequential(conv_relu(cin, n3x3red, 1), conv_relu(n3x3red, n3x3, 3, padding=1))
        self.b3 = nn.Sequential(conv_relu(cin, n5x5red, 1), conv_relu(n5x5red, n5x5, 5, padding=2))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True), conv_relu(cin, pool_proj, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class AuxClassifier(nn.Module):
    """Section 5: 5x5/3 average pool, 1x1 conv 128 + ReLU, FC 1024 + ReLU, dropout 70%, linear."""

    def __init__(self, cin: int, num_classes: int = 1000) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(5, stride=3, ceil_mode=True)
        self.conv = conv_relu(cin, 128, 1)
        self.fc1 = nn.Linear(4 * 4 * 128, 1024)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(0.7)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.conv(self.pool(x)), 1)
        return self.fc2(self.dropout(self.relu(self.fc1(x))))


class GoogLeNetPaper(nn.Module):
    def __init__(self, num_classes: int = 1000, aux: bool = False) -> None:
        super().__init__()
        lrn = dict(size=5, alpha=1e-4, beta=0.75, k=1.0)
        self.conv1 = conv_relu(3, 64, 7, stride=2, padding=3)            # 112x112x64
        self.pool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)           # 56x56x64
        self.norm1 = nn.LocalResponseNorm(**lrn)
        self.conv2_reduce = conv_relu(64, 64, 1)
        self.conv2 = conv_relu(64, 192, 3, padding=1)                    # 56x56x192
        self.norm2 = nn.LocalResponseNorm(**lrn)
        self.pool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)           # 28x28x192
        self.i3a = Inception(192, 64, 96, 128, 16, 32, 32)               # 28x28x256
        self.i3b = Inception(256, 128, 128, 192, 32, 96, 64)             # 28x28x480
        self.pool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)           # 14x14x480
        self.i4a = Inception(480, 192, 96, 208, 16, 48, 64)              # 14x14x512
        self.i4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.i4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.i4d = Inception(512, 112, 144, 288, 32, 64, 64)             # 14x14x528
        self.i4e = Inception(528, 256, 160, 320, 32, 128, 128)           # 14x14x832
        self.pool4 = nn.MaxPool2d(3, stride=2, ceil_mode=True)           # 7x7x832
        self.i5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.i5b = Inception(832, 384, 192, 384, 48, 128, 128)           # 7x7x1024
        self.avgpool = nn.AvgPool2d(7, stride=1)                         # 1x1x1024
        self.dropout = nn.Dropout(0.4)
        self.fc = nn.Linear(1024, num_classes)
        self.softmax = nn.Softmax(dim=1)
        self.aux1 = AuxClassifier(512, num_classes) if aux else None
        self.aux2 = AuxClassifier(528, num_classes) if aux else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm1(self.pool1(self.conv1(x)))
        x = self.pool2(self.norm2(self.conv2(self.conv2_reduce(x))))
        x = self.pool3(self.i3b(self.i3a(x)))
        x = self.i4a(x)
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.i4d(self.i4c(self.i4b(x)))
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.pool4(self.i4e(x))
        x = self.avgpool(self.i5b(self.i5a(x)))
        x = self.softmax(self.fc(self.dropout(torch.flatten(x, 1))))
        if self.training and self.aux1 is not None:
            return x, aux2, aux1  # type: ignore[return-value]
        return x


def googlenet_paper() -> nn.Module:
    """Table 1 network, main classifier only."""
    return GoogLeNetPaper(aux=False)


def googlenet_paper_aux() -> nn.Module:
    """Table 1 network with the two training-time auxiliary classifiers (not run in eval mode)."""
    return GoogLeNetPaper(aux=True)


def googlenet_torchvision_weights() -> nn.Module:
    """torchvision's googlenet in the form its pretrained weights give, without downloading them.

    torchvision's loader builds GoogLeNet with auxiliary heads, loads the weights, then removes
    the heads (aux1 = aux2 = None) unless aux_logits=True was asked for; its weights metadata
    (num_params 6,624,904) counts this form. GoogLeNet(aux_logits=False) builds the same module
    tree directly. (get_model('googlenet', weights=None) keeps the class default aux_logits=True:
    13,004,888 parameters.)"""
    import torchvision

    return torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False)

"""Plain-PyTorch reference models for the classic CNNs torchvision and timm lack.

Each zero-argument function builds one network as its paper (and, where there is one, the
authors' released model definition) describes it; `python -m archcalc.torch.reference NAME`
compares a spec with these on the meta device. They are written from the papers, not from the
specs. Module names follow the papers / the authors' Caffe or cuda-convnet layer names.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

# --------------------------------------------------------------------------------------------
# LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998), the common modern simplification


class LeNet5(nn.Module):
    """32x32x1 -> C1 6@5x5 -> S2 2x2 -> C3 16@5x5 -> S4 2x2 -> C5 120@5x5 -> F6 84 -> 10.

    Simplified as usually taught: C3 connects to all six S2 maps (the paper's table connects
    60 of the 96 map pairs), S2/S4 are parameter-free 2x2 average pools (the paper's have a
    trainable coefficient and bias per map), tanh everywhere (the paper's is 1.7159 tanh(2a/3)),
    and the output is a linear layer (the paper's is 10 Euclidean RBF units on F6).
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, kernel_size=5)
        self.s2 = nn.AvgPool2d(kernel_size=2, stride=2)
        self.c3 = nn.Conv2d(6, 16, kernel_size=5)
        self.s4 = nn.AvgPool2d(kernel_size=2, stride=2)
        self.c5 = nn.Conv2d(16, 120, kernel_size=5)
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, num_classes)
        self.act = nn.Tanh()

    def forward(self, x):
        x = self.s2(self.act(self.c1(x)))
        x = self.s4(self.act(self.c3(x)))
        x = self.act(self.c5(x)).flatten(1)
        x = self.act(self.f6(x))
        return self.output(x)


def lenet5() -> nn.Module:
    return LeNet5()


# --------------------------------------------------------------------------------------------
# AlexNet as in the NIPS 2012 paper: two GPU towers as groups=2, LRN after ReLU before pooling

# Paper: b = a / (k + alpha * sum(a^2))^beta with k=2, n=5, alpha=1e-4, beta=0.75.
# nn.LocalResponseNorm divides alpha by n, so the paper's alpha is 5e-4 here.
_ALEXNET_LRN = dict(size=5, alpha=5e-4, beta=0.75, k=2.0)


def alexnet_paper() -> nn.Module:
    """227x227x3 input (what 224 with cuda-convnet's ceil output rule amounts to)."""
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(3, 96, kernel_size=11, stride=4)),
                ("relu1", nn.ReLU(inplace=True)),
                ("norm1", nn.LocalResponseNorm(**_ALEXNET_LRN)),
                ("pool1", nn.MaxPool2d(kernel_size=3, stride=2)),
                ("conv2", nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=2)),
                ("relu2", nn.ReLU(inplace=True)),
                ("norm2", nn.LocalResponseNorm(**_ALEXNET_LRN)),
                ("pool2", nn.MaxPool2d(kernel_size=3, stride=2)),
                ("conv3", nn.Conv2d(256, 384, kernel_size=3, padding=1)),
                ("relu3", nn.ReLU(inplace=True)),
                ("conv4", nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=2)),
                ("relu4", nn.ReLU(inplace=True)),
                ("conv5", nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=2)),
                ("relu5", nn.ReLU(inplace=True)),
                ("pool5", nn.MaxPool2d(kernel_size=3, stride=2)),
                ("flatten", nn.Flatten()),
                ("fc6", nn.Linear(256 * 6 * 6, 4096)),
                ("relu6", nn.ReLU(inplace=True)),
                ("drop6", nn.Dropout(0.5)),
                ("fc7", nn.Linear(4096, 4096)),
                ("relu7", nn.ReLU(inplace=True)),
                ("drop7", nn.Dropout(0.5)),
                ("fc8", nn.Linear(4096, 1000)),
            ]
        )
    )


# --------------------------------------------------------------------------------------------
# ZFNet (Zeiler & Fergus, ECCV 2014), Figure 3


def _zfnet(c3: int, c4: int, c5: int) -> nn.Module:
    """224 -> 110 -> 55 -> 26 -> 13 -> 13 -> 13 -> 6 as the figure states.

    conv1 padding 1 gives 110 (cuda-convnet's ceil rule gives 110 from 224 without padding);
    the 3x3/2 pools round up (cuda-convnet and Caffe pool that way): 110 -> 55, 26 -> 13.
    """
    lrn = dict(size=5, alpha=5e-4, beta=0.75, k=2.0)  # AlexNet's; the paper gives no constants
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(3, 96, kernel_size=7, stride=2, padding=1)),
                ("relu1", nn.ReLU(inplace=True)),
                ("pool1", nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)),
                ("norm1", nn.LocalResponseNorm(**lrn)),
                ("conv2", nn.Conv2d(96, 256, kernel_size=5, stride=2)),
                ("relu2", nn.ReLU(inplace=True)),
                ("pool2", nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)),
                ("norm2", nn.LocalResponseNorm(**lrn)),
                ("conv3", nn.Conv2d(256, c3, kernel_size=3, padding=1)),
                ("relu3", nn.ReLU(inplace=True)),
                ("conv4", nn.Conv2d(c3, c4, kernel_size=3, padding=1)),
                ("relu4", nn.ReLU(inplace=True)),
                ("conv5", nn.Conv2d(c4, c5, kernel_size=3, padding=1)),
                ("relu5", nn.ReLU(inplace=True)),
                ("pool5", nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)),
                ("flatten", nn.Flatten()),
                ("fc6", nn.Linear(c5 * 6 * 6, 4096)),
                ("relu6", nn.ReLU(inplace=True)),
                ("drop6", nn.Dropout(0.5)),
                ("fc7", nn.Linear(4096, 4096)),
                ("relu7", nn.ReLU(inplace=True)),
                ("drop7", nn.Dropout(0.5)),
                ("fc8", nn.Linear(4096, 1000)),
            ]
        )
    )


def zfnet() -> nn.Module:
    return _zfnet(384, 384, 256)


def zfnet_512_1024_512() -> nn.Module:
    return _zfnet(512, 1024, 512)


# --------------------------------------------------------------------------------------------
# Network in Network (Lin, Chen & Yan, ICLR 2014): the authors' Caffe model-zoo definitions


def _mlpconv(cin: int, widths: list[int], kernel: int, stride: int = 1, padding: int = 0) -> list[nn.Module]:
    """One mlpconv layer: a kxk conv then 1x1 convs (Caffe's cccp layers), each with ReLU."""
    layers: list[nn.Module] = [nn.Conv2d(cin, widths[0], kernel, stride=stride, padding=padding), nn.ReLU(inplace=True)]
    for a, b in zip(widths, widths[1:]):
        layers += [nn.Conv2d(a, b, kernel_size=1), nn.ReLU(inplace=True)]
    return layers


def nin_cifar() -> nn.Module:
    """NIN-CIFAR10 (gist mavenlin/e56253735ef32c3c296d); Caffe pools round up: 32 -> 16 -> 8."""
    return nn.Sequential(
        *_mlpconv(3, [192, 160, 96], 5, padding=2),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        nn.Dropout(0.5),
        *_mlpconv(96, [192, 192, 192], 5, padding=2),
        nn.AvgPool2d(kernel_size=3, stride=2, ceil_mode=True),
        nn.Dropout(0.5),
        *_mlpconv(192, [192, 192, 10], 3, padding=1),
        nn.AdaptiveAvgPool2d(1),  # Caffe: AVE 8x8 stride 1 on the 8x8 maps
        nn.Flatten(),
    )


def nin() -> nn.Module:
    """NIN-Imagenet (gist mavenlin/d802a5849de39225bcc6): 224 -> 54 -> 27 -> 13 -> 6 -> 1."""
    return nn.Sequential(
        *_mlpconv(3, [96, 96, 96], 11, stride=4),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        *_mlpconv(96, [256, 256, 256], 5, padding=2),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        *_mlpconv(256, [384, 384, 384], 3, padding=1),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        nn.Dropout(0.5),
        *_mlpconv(384, [1024, 1024, 1000], 3, padding=1),
        nn.AdaptiveAvgPool2d(1),  # Caffe: AVE 6x6 stride 1 on the 6x6 maps
        nn.Flatten(),
    )

"""A held-out set of lecture-style phrasings, written after the reader (not used to build it):
each gives the hand-worked numbers below or a one-line rejection, never a silently wrong number.

Numbers: PyTorch's output rule floor((H + 2p - d(k-1) - 1)/s) + 1, params = weights + biases,
MACs = output positions x weights per position. The padding of an unwritten pad follows the
documented rule (sentence 'N KxK filters': 0; figure notation: (k-1)/2), shown as 'assumed'.
"""

import pytest

from archcalc.errors import SpecError
from archcalc.notation import read_listing

# text, input, output (C, H, W) or (N,), params, MACs
ACCEPTED = [
    ("CONV2: 256 5x5 filters at stride 1, pad 2", "27x27x96", (256, 27, 27), 5 * 5 * 96 * 256 + 256, 27 * 27 * 256 * 2400),
    ("conv 3x3, 64 filters, stride 1, padding 1", "32x32x3", (64, 32, 32), 27 * 64 + 64, 32 * 32 * 64 * 27),
    ("3x3 convolution, 64 filters, stride 2", "32x32x3", (64, 16, 16), 1_792, 16 * 16 * 64 * 27),  # (32 + 2 - 3)//2 + 1
    ("1x1 conv, 256", "56x56x64", (256, 56, 56), 64 * 256 + 256, 56 * 56 * 256 * 64),
    ("max pool 2x2, stride 2", "224x224x64", (64, 112, 112), 0, 0),
    ("2x2 max pooling with stride 2", "224x224x64", (64, 112, 112), 0, 0),
    ("3x3 max pooling, stride 2, padding 1", "112x112x64", (64, 56, 56), 0, 0),
    ("global avg pool", "7x7x2048", (2048, 1, 1), 0, 0),
    ("fully connected layer with 1000 outputs", "1x1x2048", (1000,), 2048 * 1000 + 1000, 2_048_000),
    ("FC 10", "4x4x16", (10,), 256 * 10 + 10, 2_560),
    # LeNet-5 on the slides: 5x5 convs at stride 1, 2x2 pools at stride 2
    ("5x5 conv, 6, no padding", "32x32x1", (6, 28, 28), 25 * 6 + 6, 28 * 28 * 6 * 25),
    ("2x2 avg pool, stride 2", "28x28x6", (6, 14, 14), 0, 0),
    ("5x5 conv, 16, valid", "14x14x6", (16, 10, 10), 5 * 5 * 6 * 16 + 16, 10 * 10 * 16 * 150),
    # MobileNet: depthwise 3x3 (one filter per channel), then pointwise 1x1
    ("3x3 depthwise conv, stride 2, pad 1", "112x112x32", (32, 56, 56), 32 * 9 + 32, 56 * 56 * 32 * 9),
    ("1x1 pointwise conv, 64", "56x56x32", (64, 56, 56), 32 * 64 + 64, 56 * 56 * 64 * 32),
    ("pointwise conv, 64", "56x56x32", (64, 56, 56), 2_112, 56 * 56 * 64 * 32),
    ("3x3 conv, 64, stride 1, pad 1, no bias", "56x56x64", (64, 56, 56), 9 * 64 * 64, 56 * 56 * 64 * 576),
    # ResNeXt: 32 groups of 4 channels
    ("3x3 grouped conv, 128, groups 32", "56x56x128", (128, 56, 56), 128 * 4 * 9 + 128, 56 * 56 * 128 * 36),
    ("3x3 dilated conv, 64, dilation 2", "56x56x64", (64, 56, 56), 36_928, 56 * 56 * 64 * 576),
    ("conv 7x7, 64, stride 2, pad 3", "224x224x3", (64, 112, 112), 9_472, 112 * 112 * 64 * 147),
    ("5x5 conv, 32, padding='same'", "32x32x3", (32, 32, 32), 75 * 32 + 32, 32 * 32 * 32 * 75),
    ("BatchNorm2d", "8x8x3", (3, 8, 8), 2 * 3, 0),
    # figure notation pads (k-1)/2 even for AlexNet's kernel: (227 + 10 - 11)//4 + 1 = 57, said as 'assumed: pad 5'
    ("11x11 conv, 96, stride 4", "227x227x3", (96, 57, 57), 34_944, 57 * 57 * 96 * 363),
    ("Conv 3x3+1(S), 192", "56x56x64", (192, 56, 56), 9 * 64 * 192 + 192, 56 * 56 * 192 * 576),
    ("AveragePool 7x7+1(V)", "7x7x1024", (1024, 1, 1), 0, 0),
    ("3x3 MaxPool, stride 1", "28x28x192", (192, 28, 28), 0, 0),
    # the sentence form pads 0: (32 - 3)//1 + 1 = 30
    ("conv layer with 64 3x3 filters, stride 1", "32x32x3", (64, 30, 30), 1_792, 30 * 30 * 64 * 27),
    ("conv: 3x3, 64", "32x32x3", (64, 32, 32), 1_792, 32 * 32 * 64 * 27),
    ("3x3 conv (64 filters, stride 2)", "32x32x3", (64, 16, 16), 1_792, 16 * 16 * 64 * 27),
    ("linear 4096", "7x7x512", (4096,), 25_088 * 4096 + 4096, 25_088 * 4096),
]

REJECTED = [
    ("3x3 conv, s2", "capital"),  # a lower-case word is not taken for a symbolic size
    ("FC1000", "name"),  # AlexNet's FC6 is a name, ResNet's FC1000 a size
    ("AvgPool-1x1Conv-FC-FC-Softmax", "two layer types"),  # GoogLeNet's auxiliary head: one layer per line
    ("3x3 conv, 64, stride 2x2", "kernel twice"),
    ("3x3 atrous conv, 64, rate 2", "'rate'"),
    ("5x5 conv filters (stride 1)", "how many filters"),  # the LeNet slide gives no count
    ("3x3 CONV stride 1, pad 1", "how many filters"),  # the VGG slide's rule, not a layer
    ("Pooling layers were 2x2 applied at stride 2", "'were'"),
]


@pytest.mark.parametrize("text, volume, output, params, macs", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_heldout_numbers(text, volume, output, params, macs):
    report = read_listing(text, volume).report
    assert (report.rows[-1].output, report.totals.params, report.totals.macs) == (output, params, macs)


@pytest.mark.parametrize("text, why", REJECTED, ids=[c[0] for c in REJECTED])
def test_heldout_rejections(text, why):
    with pytest.raises(SpecError) as info:
        read_listing(text, "32x32x3")
    first = str(info.value).splitlines()[0]
    assert why in first and first.startswith("<layer>: line 1: cannot read")

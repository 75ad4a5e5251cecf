"""`archcalc layer` lines against the torch modules they describe, built by hand here.

Output shape: a real forward pass; parameters: numel over the module's parameters; MACs:
FlopCounterMode's total / 2 (it counts a multiply-add as 2 FLOPs; pooling counts 0).
"""

import pytest

torch = pytest.importorskip("torch")

from archcalc.notation import read_listing  # noqa: E402

nn = torch.nn
pytestmark = pytest.mark.torch


def measure(module, volume):
    h, w, c = (int(v) for v in volume.split("x"))
    from torch.utils.flop_counter import FlopCounterMode

    module.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = module(torch.zeros(1, c, h, w))
    return tuple(out.shape[1:]), sum(p.numel() for p in module.parameters()), counter.get_total_flops() // 2


CASES = [
    # grouped
    ("3x3 conv with 64 filters, groups 32", "56x56x64", lambda: nn.Conv2d(64, 64, 3, padding=1, groups=32)),
    ("3x3 conv, 96, groups 3, /2", "28x28x48", lambda: nn.Conv2d(48, 96, 3, stride=2, padding=1, groups=3)),
    ("3x3 conv, 64, 4 groups, no bias", "15x15x32", lambda: nn.Conv2d(32, 64, 3, padding=1, groups=4, bias=False)),
    # depthwise
    ("3x3 depthwise conv, stride 1, pad 1", "56x56x128", lambda: nn.Conv2d(128, 128, 3, padding=1, groups=128)),
    ("5x5 depthwise conv, /2", "28x28x40", lambda: nn.Conv2d(40, 40, 5, stride=2, padding=2, groups=40)),
    ("3x3 depthwise conv, multiplier 2, no bias", "14x14x16", lambda: nn.Conv2d(16, 32, 3, padding=1, groups=16, bias=False)),
    ("3x3 depthwise separable conv, 128, stride 2", "56x56x64",
     lambda: nn.Sequential(nn.Conv2d(64, 64, 3, stride=2, padding=1, groups=64), nn.Conv2d(64, 128, 1))),
    # dilated
    ("3x3 conv, 64, dilation 2", "56x56x64", lambda: nn.Conv2d(64, 64, 3, padding=2, dilation=2)),
    ("3x3 conv, 32, dilation 4, no padding", "33x33x8", lambda: nn.Conv2d(8, 32, 3, dilation=4)),
    ("3x3 conv, 16, dilation 2, stride 2, pad 1", "17x17x8", lambda: nn.Conv2d(8, 16, 3, stride=2, padding=1, dilation=2)),
    # strided, every style
    ("[3x3 conv, 64, /2]", "56x56x64", lambda: nn.Conv2d(64, 64, 3, stride=2, padding=1)),
    ("7x7 conv, 64, /2", "224x224x3", lambda: nn.Conv2d(3, 64, 7, stride=2, padding=3)),
    ("conv1 112x112 7x7, 64, stride 2", "224x224x3", lambda: nn.Conv2d(3, 64, 7, stride=2, padding=3)),
    ("Conv 7x7+2(S), 64", "224x224x3", lambda: nn.Conv2d(3, 64, 7, stride=2, padding=3)),
    ("CONV1: 96 11x11 filters at stride 4, pad 0", "227x227x3", lambda: nn.Conv2d(3, 96, 11, stride=4)),
    ("3x3 conv with a stride of 2, 64 filters, no bias", "32x32x16", lambda: nn.Conv2d(16, 64, 3, stride=2, padding=1, bias=False)),
    ("5x5 conv, 32, valid, stride 3", "32x32x3", lambda: nn.Conv2d(3, 32, 5, stride=3)),
    # pools
    ("pool, /2", "112x112x64", lambda: nn.MaxPool2d(3, stride=2, padding=1)),
    ("3x3 max pool, stride 2", "112x112x64", lambda: nn.MaxPool2d(3, stride=2, padding=1)),
    ("MAX POOL1: 3x3 filters at stride 2", "55x55x96", lambda: nn.MaxPool2d(3, stride=2)),
    ("2x2 MAX POOL stride 2", "224x224x64", lambda: nn.MaxPool2d(2, stride=2)),
    ("POOL2", "224x224x64", lambda: nn.MaxPool2d(2, stride=2)),
    ("3x3 pool", "28x28x256", lambda: nn.MaxPool2d(3, stride=1, padding=1)),
    ("max pool 3×3/2 56×56×64 0", "112x112x64", lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True)),
    ("3x3 avg pool, stride 2, pad 1", "28x28x32", lambda: nn.AvgPool2d(3, stride=2, padding=1)),
    ("AveragePool 5x5+3(V)", "14x14x512", lambda: nn.AvgPool2d(5, stride=3)),
    ("avg pool 7×7/1 1×1×1024 0", "7x7x1024", lambda: nn.AvgPool2d(7, stride=1, ceil_mode=True)),
    ("avg pool", "7x7x512", lambda: nn.AdaptiveAvgPool2d(1)),
    ("3x3 max pool, stride 2, dilation 2, pad 1", "31x31x8", lambda: nn.MaxPool2d(3, stride=2, padding=1, dilation=2)),
]


@pytest.mark.parametrize("text, volume, build", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(text, volume, build):
    torch.manual_seed(0)
    shape, params, macs = measure(build(), volume)
    report = read_listing(text, volume).report
    assert report.rows[-1].output == shape
    assert report.totals.params == params
    assert report.totals.macs == macs


def test_googlenet_table_against_the_paper_reference():
    """Table 1 as a listing against the plain-PyTorch GoogLeNet built from the paper (no aux heads)."""
    from pathlib import Path

    reference = pytest.importorskip("archcalc.torch.refs.googlenet")
    torch.manual_seed(0)
    shape, params, macs = measure(reference.googlenet_paper(), "224x224x3")
    report = read_listing((Path(__file__).parent / "data" / "googlenet_table_full.txt").read_text(), "224x224x3").report
    assert (report.rows[-1].output, report.totals.params, report.totals.macs) == (shape, params, macs)

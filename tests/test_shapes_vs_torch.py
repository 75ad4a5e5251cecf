"""Output-size rules against PyTorch itself, over a grid of sizes, kernels, strides, paddings,
dilations and ceil_mode (including PyTorch's rule that the last pooling window must start
inside the input or its left padding)."""

import itertools

import pytest

torch = pytest.importorskip("torch")

from archcalc.layers import REGISTRY, LayerError  # noqa: E402

F = torch.nn.functional
pytestmark = pytest.mark.torch

GRID = list(itertools.product(range(1, 12), range(1, 6), range(1, 4), range(0, 3), (1, 2), (False, True)))


def ours(type_name, size, **fields):
    try:
        return REGISTRY[type_name](**fields).output([(1, size, size)])[1]
    except LayerError:
        return None


def theirs(fn):
    try:
        return fn().shape[-1]
    except RuntimeError:
        return None


def test_maxpool_sizes_match_pytorch():
    checked = 0
    for size, k, s, p, d, ceil in GRID:
        if 2 * p > k:
            continue  # PyTorch rejects it; so do we (tested in test_errors)
        x = torch.zeros(1, 1, size, size, device="meta")
        expect = theirs(lambda: F.max_pool2d(x, k, s, p, d, ceil_mode=ceil))
        got = ours("maxpool", size, kernel=k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
        assert got == (expect if expect and expect > 0 else None), (size, k, s, p, d, ceil)
        checked += 1
    assert checked > 500


def test_avgpool_sizes_match_pytorch():
    for size, k, s, p, _, ceil in GRID:
        if 2 * p > k:
            continue
        x = torch.zeros(1, 1, size, size, device="meta")
        expect = theirs(lambda: F.avg_pool2d(x, k, s, p, ceil_mode=ceil))
        got = ours("avgpool", size, kernel=k, stride=s, padding=p, ceil_mode=ceil)
        assert got == (expect if expect and expect > 0 else None), (size, k, s, p, ceil)


def test_conv_sizes_match_pytorch():
    for size, k, s, p, d, _ in GRID:
        x, w = torch.zeros(1, 1, size, size, device="meta"), torch.zeros(1, 1, k, k, device="meta")
        expect = theirs(lambda: F.conv2d(x, w, stride=s, padding=p, dilation=d))
        got = ours("conv", size, out=1, kernel=k, stride=s, padding=p, dilation=d)
        assert got == expect, (size, k, s, p, d)
    for size, k, d in itertools.product(range(1, 10), range(1, 6), (1, 2)):
        x, w = torch.zeros(1, 1, size, size, device="meta"), torch.zeros(1, 1, k, k, device="meta")
        assert ours("conv", size, out=1, kernel=k, padding="same", dilation=d) == theirs(
            lambda: F.conv2d(x, w, padding="same", dilation=d)
        )

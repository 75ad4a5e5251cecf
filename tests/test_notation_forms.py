"""`archcalc layer`: every accepted form gives hand-worked numbers; everything else is rejected.

Expected values are the slides' and papers' arithmetic written out, never archcalc's output.
Sources: CS231n 2018 lecture 9 (AlexNet, VGG, GoogLeNet, ResNet slides), SNU M2177.003100
lecture 9 (the AlexNet and VGG tables as tab-separated text), He et al. 2015 (ResNet Table 1
and Figure 3), Szegedy et al. 2014 (GoogLeNet Table 1 and Figure 3).
"""

import json
from pathlib import Path

import pytest

from archcalc.cli import main
from archcalc.errors import SpecError
from archcalc.notation import FORMS, read_listing

DATA = Path(__file__).parent / "data"


def conv_out(size, k, s, p, d=1):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def last(text, volume):
    listing = read_listing(text, volume)
    return listing.report.rows[-1], listing


# (text, input, expected output (C, H, W) or (N,), expected params, expected MACs, assumption expected?)
HAND_WORKED = [
    # AlexNet slide: (227 - 11)/4 + 1 = 55; (11*11*3)*96 weights + 96 biases
    ("CONV1: 96 11x11 filters at stride 4, pad 0", "227x227x3", (96, 55, 55), 11 * 11 * 3 * 96 + 96, 55 * 55 * 96 * 11 * 11 * 3, False),
    ("First layer (CONV1): 96 11x11 filters applied at stride 4", "227x227x3", (96, 55, 55), 34_944, 55 * 55 * 96 * 363, True),
    # (55 - 3)/2 + 1 = 27
    ("Second layer (POOL1): 3x3 filters applied at stride 2", "55x55x96", (96, 27, 27), 0, 0, True),
    # the sentence form pads 0 with or without a stride written: (32 - 5)/1 + 1 = 28
    ("CONV: 32 5x5 filters", "32x32x3", (32, 28, 28), 5 * 5 * 3 * 32 + 32, 28 * 28 * 32 * 75, True),
    ("CONV: 32 5x5 filters at stride 1", "32x32x3", (32, 28, 28), 2_432, 28 * 28 * 32 * 75, True),
    # ResNet figure: 7x7 conv, 64, /2 at 224: pad 3, (224 + 6 - 7)/2 + 1 = 112
    ("7x7 conv, 64, /2", "224x224x3", (64, 112, 112), 7 * 7 * 3 * 64 + 64, 112 * 112 * 64 * 147, True),
    ("[3x3 conv, 64, /2]", "56x56x64", (64, 28, 28), 9 * 64 * 64 + 64, 28 * 28 * 64 * 9 * 64, True),
    ("3x3 conv, 128, /2", "56x56x64", (128, 28, 28), 9 * 64 * 128 + 128, 28 * 28 * 128 * 9 * 64, True),
    # ResNet's "pool, /2": 3x3 max pool, stride 2, pad 1: (112 + 2 - 3)/2 + 1 = 56
    ("pool, /2", "112x112x64", (64, 56, 56), 0, 0, True),
    ("avg pool", "7x7x512", (512, 1, 1), 0, 0, True),
    ("fc 1000", "1x1x512", (1000,), 512 * 1000 + 1000, 512_000, False),
    # ResNet Table 1 rows: name, output size, kernel, count, stride
    ("conv1 112x112 7x7, 64, stride 2", "224x224x3", (64, 112, 112), 9_472, 118_013_952, True),
    ("conv2_x 56×56 3×3 max pool, stride 2", "112x112x64", (64, 56, 56), 0, 0, True),
    # depthwise: groups = 128 channels, 1 filter of 3x3x1 each: 128*9 weights + 128 biases
    ("3x3 depthwise conv, stride 1, pad 1", "56x56x128", (128, 56, 56), 128 * 9 + 128, 56 * 56 * 128 * 9, False),
    ("3x3 depthwise conv, multiplier 2, /2", "56x56x32", (64, 28, 28), 64 * 9 + 64, 28 * 28 * 64 * 9, True),
    # grouped: 64 filters over 64/32 = 2 input channels each
    ("3x3 conv with 64 filters, groups 32", "56x56x64", (64, 56, 56), 64 * 2 * 9 + 64, 56 * 56 * 64 * 2 * 9, True),
    # dilation 2: effective 5x5, size-keeping pad 2
    ("3x3 conv, 64, dilation 2", "56x56x64", (64, 56, 56), 36_928, 56 * 56 * 64 * 576, True),
    ("3x3 conv, 64, no bias", "56x56x64", (64, 56, 56), 36_864, 56 * 56 * 64 * 576, True),
    ("3x3 conv, 64, no padding", "56x56x64", (64, 54, 54), 36_928, 54 * 54 * 64 * 576, False),
    ("3x3 conv, 64, valid", "56x56x64", (64, 54, 54), 36_928, 54 * 54 * 64 * 576, False),
    ("3x3 conv, 64, same", "56x56x64", (64, 56, 56), 36_928, 56 * 56 * 64 * 576, False),
    # GoogLeNet figure 3 labels: +stride, (S)ame / (V)alid
    ("Conv 7x7+2(S), 64", "224x224x3", (64, 112, 112), 9_472, 118_013_952, False),
    ("MaxPool 3x3+2(S)", "112x112x64", (64, 56, 56), 0, 0, False),
    ("AveragePool 5x5+3(V)", "14x14x512", (512, 4, 4), 0, 0, False),  # (14 - 5)/3 + 1 = 4, the aux head
    # GoogLeNet Table 1 rows: pools pad 0 with ceil rounding: ceil((112 - 3)/2) + 1 = 56
    ("max pool 3×3/2 56×56×64 0", "112x112x64", (64, 56, 56), 0, 0, True),
    ("avg pool 7×7/1 1×1×1024 0", "7x7x1024", (1024, 1, 1), 0, 0, True),
    ("linear 1×1×1000 1 1000K 1M", "1x1x1024", (1000,), 1024 * 1000 + 1000, 1_024_000, True),
    # depth-2 rows: a 1x1 reduce to 64, then 3x3 to 192: 64*64 + 9*64*192 = 114,688 weights ("112K"), 56*56 of them ("360M")
    ("convolution 3×3/1 56×56×192 2 64 192 112K 360M", "56x56x64", (192, 56, 56), 114_688 + 64 + 192, 56 * 56 * 114_688, True),
    # inception (3a) on 28x28x192: 1x1 64 | 1x1 96, 3x3 128 | 1x1 16, 5x5 32 | pool, 1x1 32 -> 64 + 128 + 32 + 32 = 256;
    # weights 192*64 + 192*96 + 9*96*128 + 192*16 + 25*16*32 + 192*32 = 163,328 ("159K"), 28*28 of them ("128M")
    ("inception (3a) 28×28×256 2 64 96 128 16 32 32 159K 128M", "28x28x192", (256, 28, 28),
     163_328 + 64 + 96 + 128 + 16 + 32 + 32, 28 * 28 * 163_328, True),
    ("inception (3a): 64 96 128 16 32 32", "28x28x192", (256, 28, 28), 163_696, 28 * 28 * 163_328, True),
    # the 1x1-conv slide and the Inception slides
    ("1x1 CONV with 32 filters", "56x56x64", (32, 56, 56), 64 * 32 + 32, 56 * 56 * 32 * 64, False),
    ("1x1 conv, 64 filter", "28x28x256", (64, 28, 28), 256 * 64 + 64, 28 * 28 * 64 * 256, False),
    ("3x3 pool", "28x28x256", (256, 28, 28), 0, 0, True),
    ("CONV3-64", "224x224x3", (64, 224, 224), 27 * 64 + 64, 224 * 224 * 64 * 27, True),
    ("POOL2", "224x224x64", (64, 112, 112), 0, 0, True),
]


@pytest.mark.parametrize("text, volume, output, params, macs, assumes", HAND_WORKED, ids=[c[0] for c in HAND_WORKED])
def test_hand_worked(text, volume, output, params, macs, assumes):
    row, listing = last(text, volume)
    assert row.output == output
    assert listing.report.totals.params == params
    assert listing.report.totals.macs == macs
    assert bool(listing.assumptions) == assumes
    assert all(c["agrees"] for c in listing.checks)


def test_depthwise_separable_is_two_rows():
    listing = read_listing("3x3 depthwise separable conv, 128", "56x56x64")
    dw, pw = [r for r in listing.report.rows if r.type == "conv"]
    assert (dw.output, dw.params, dw.macs) == ((64, 56, 56), 64 * 9 + 64, 56 * 56 * 64 * 9)
    assert (pw.output, pw.params, pw.macs) == ((128, 56, 56), 64 * 128 + 128, 56 * 56 * 128 * 64)


def test_same_phrasing_same_padding():
    """The issue's example: the default pad no longer changes with 'at stride 1'."""
    a, _ = last("CONV: 32 5x5 filters", "32x32x3")
    b, _ = last("CONV: 32 5x5 filters at stride 1", "32x32x3")
    assert a.output == b.output == (32, conv_out(32, 5, 1, 0), conv_out(32, 5, 1, 0))


REJECTED = [
    ("3x3 conv, 64, strid 2", "'strid'"),  # a misspelling
    ("3x3 conv, stride", "'stride'"),  # the old bug: 'stride' became a symbolic filter count
    ("3x3 conv", "how many filters"),
    ("2x2 max pool", "without a stride"),
    ("pool", "needs its window"),
    ("FC", "how many outputs"),
    ("after 5xx5 conv, 96", "'after'"),
    ("3x3 conv, 64, relu", "two layer types"),
    ("average pool, 1000-d fc, softmax", "two layer types"),
    ("3x3 conv, 64, stride 2, /3", "stride twice"),
    ("3x3 max pool, 64", "does not apply"),
    ("3x3 conv, 64, multiplier 2", "does not apply"),
    ("relu, stride 2", "does not apply"),
    ("grouped 3x3 conv, 64", "how many groups"),
    ("[3×3, 64; 3×3, 64] ×2", "residual stage"),
    ("[3x3 conv, 64] x3", "repeated"),
    ("inception (3a) 28×28×256 2 64 96 128 16 32", "Inception"),  # a width missing
    ("DepthConcat", "concatenation"),
    ("convolution 3×3/1 56×56×192 3 64 192", "depth 3"),
    ("3x3 avg pool, stride 2, dilation 2", "no dilation"),
]


@pytest.mark.parametrize("text, why", REJECTED, ids=[r[0] for r in REJECTED])
def test_rejected_with_one_line_naming_the_problem(text, why, capsys):
    assert main(["layer", text, "--input", "56x56x64"]) == 2
    err = capsys.readouterr().err
    first, *rest = err.splitlines()
    assert first.startswith("archcalc: error: <layer>: line 1: cannot read") and why in first
    assert rest[0].startswith("accepted forms") and len(rest) == len(FORMS) + 1  # one form per line


def test_depthwise_needs_numeric_channels():
    with pytest.raises(SpecError, match="channels as a number"):
        read_listing("3x3 depthwise conv", "HxWxC")


def test_depthwise_count_must_be_a_multiple():
    with pytest.raises(SpecError, match="multiple of 32"):
        read_listing("3x3 depthwise conv, 48", "56x56x32")


def test_even_same_padding_rejected():
    with pytest.raises(SpecError, match="even kernel"):
        read_listing("2x2 conv, 64, same", "56x56x64")


def test_help_lists_every_form_one_per_line(capsys):
    with pytest.raises(SystemExit):
        main(["layer", "--help"])
    out = capsys.readouterr().out
    for example, meaning in FORMS:
        assert any(example in line and meaning in line for line in out.splitlines())
    assert "pads 0" in out and "d(k-1)/2" in out


def test_assumptions_beside_rows_and_in_json(capsys):
    assert main(["layer", "7x7 conv, 64, /2\npool, /2", "--input", "224x224x3"]) == 0
    out = capsys.readouterr().out
    conv = next(line for line in out.splitlines() if line.startswith("conv1 "))
    pool = next(line for line in out.splitlines() if line.startswith("maxpool1 "))
    assert "assumed: pad 3" in conv and "assumed: 3x3 window, pad 1 (ResNet's 'pool, /2')" in pool
    assert main(["layer", "7x7 conv, 64, /2\npool, /2", "--input", "224x224x3", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [a["layer"] for a in data["assumptions"]] == ["conv1", "maxpool1"]
    assert data["assumptions"][0]["assumed"][0].startswith("pad 3")
    assert data["layers"][-1]["output"] == [64, 56, 56]


def test_resnet_figure_listing():
    """He et al. Figure 3, the 34-layer plain column as the CS231n slide draws it."""
    listing = read_listing((DATA / "resnet34_plain_figure.txt").read_text(), "224x224x3")
    rows = [r for r in listing.report.rows if r.type in ("conv", "linear")]
    assert len(rows) == 34
    # conv weights per stage (3x3 convs: in*out*9), the first conv 7*7*3*64, fc 512*1000; biases: one per filter
    weights = 7 * 7 * 3 * 64 + 6 * 9 * 64 * 64 + (9 * 64 * 128 + 7 * 9 * 128 * 128) \
        + (9 * 128 * 256 + 11 * 9 * 256 * 256) + (9 * 256 * 512 + 5 * 9 * 512 * 512) + 512 * 1000
    biases = 64 + 6 * 64 + 8 * 128 + 12 * 256 + 6 * 512 + 1000
    assert listing.report.totals.params == weights + biases
    assert listing.report.rows[-1].output == (1000,)
    assert [r.output[1] for r in rows[:-1]] == [112] + [56] * 6 + [28] * 8 + [14] * 12 + [7] * 6


def test_googlenet_table_rows():
    """Szegedy et al. Table 1: the stem and the classifier rows; stated sizes all agree."""
    listing = read_listing((DATA / "googlenet_table.txt").read_text(), "224x224x3")
    assert len(listing.checks) == 5 and all(c["agrees"] for c in listing.checks)
    tail = read_listing("avg pool 7×7/1 1×1×1024 0\ndropout (40%) 1×1×1024 0\nlinear 1×1×1000 1 1000K 1M\nsoftmax 1×1×1000 0",
                        "7x7x1024")
    assert all(c["agrees"] for c in tail.checks) and tail.report.totals.params == 1024 * 1000 + 1000


def test_googlenet_table_whole():
    """The whole of Table 1, pasted tab-separated: every stated size agrees, and the totals are those of
    the plain-PyTorch reference built from the same table (archcalc/torch/refs/googlenet.py: sum(p.numel())
    = 6,998,552; FlopCounterMode / 2 = 1,582,671,872 MACs, recorded in specs/googlenet.yaml)."""
    listing = read_listing((DATA / "googlenet_table_full.txt").read_text(), "224x224x3")
    assert len(listing.checks) == 19 and all(c["agrees"] for c in listing.checks)
    assert listing.report.totals.params == 6_998_552 and listing.report.totals.macs == 1_582_671_872
    assert listing.report.totals.weighted_layers == 22


def test_tab_separated_tables():
    """The SNU slides paste AlexNet's and VGG16's tables as tab-separated text."""
    alexnet = read_listing((DATA / "alexnet_table.tsv").read_text())
    assert alexnet.report.totals.params == 62_378_344 and all(c["agrees"] for c in alexnet.checks)
    assert len(alexnet.checks) == 13
    vgg = read_listing((DATA / "vgg16_table.tsv").read_text())
    assert vgg.report.totals.weights == 138_344_128 and all(c["agrees"] for c in vgg.checks)


@pytest.mark.parametrize("example", [e.split("  (or")[0] for e, _ in FORMS[1:] if not e.startswith(("...", "relu,"))])
def test_every_listed_form_is_read(example):
    listing = read_listing(example, "224x224x64")
    assert len(listing.report.rows) >= 2

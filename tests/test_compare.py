"""`compare` answers the question asked: a baseline with difference and ratio columns, enough
digits to tell close networks apart, and warnings when more than the architecture differs."""

import csv
import io

from archcalc.cli import main
from archcalc.report import distinct_si, si


def test_digits_grow_until_values_differ():
    # vgg16 138,357,544 and vgg16_bn 138,365,992 params: both 138.4M at 4 digits
    assert si(138_357_544) == si(138_365_992) == "138.4M"
    assert distinct_si([138_357_544, 138_365_992]) == ["138.36M", "138.37M"]
    assert distinct_si([15_470_264_320, 15_470_264_320]) == ["15.47G", "15.47G"]  # equal stays short


def test_baseline_difference_and_ratio(capsys):
    assert main(["compare", "vgg16", "vgg16_bn", "--baseline", "vgg16", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    bn = rows[1]
    # BN adds gamma and beta per channel: 2 * (64*2 + 128*2 + 256*3 + 512*6) = 2 * 4,224
    assert int(bn["Δ params"]) == 8_448
    assert int(bn["Δ MACs"]) == 0 and bn["MACs ratio"] == "1.0000x"
    assert rows[0]["Δ params"] == "0"


def test_text_tells_vgg16_from_vgg16_bn(capsys):
    assert main(["compare", "vgg16", "vgg16_bn"]) == 0
    out = capsys.readouterr().out
    assert "138.36M" in out and "138.37M" in out
    assert "warning" not in out  # same torchvision recipe and evaluation, same input
    assert main(["compare", "vgg16", "vgg16_bn", "--exact"]) == 0
    out = capsys.readouterr().out
    assert "138,357,544" in out and "138,365,992" in out


def test_baseline_not_listed_is_added(capsys):
    assert main(["compare", "resnet50", "--baseline", "resnet18", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["network"] for r in rows] == ["resnet18", "resnet50"]
    # torchvision: resnet18 11,689,512 params, resnet50 25,557,032
    assert int(rows[1]["Δ params"]) == 25_557_032 - 11_689_512


def test_warns_when_more_than_architecture_differs(capsys):
    assert main(["compare", "resnet50", "se_resnet50"]) == 0
    out = capsys.readouterr().out
    # torchvision's v1.5 puts the stage's stride on the 3x3; the SE-ResNet-50 (Caffe v1) on the 1x1
    assert "subsample in different layers" in out and "conv 3x3/2 p1 x3" in out and "conv 1x1/2 x6" in out
    # both figures are original recipes (torchvision's V1 weights, the authors' Caffe model), but
    # not the same recipe and evaluation
    assert "different training recipes" in out and "IMAGENET1K_V1" in out and "Caffe" in out
    assert main(["compare", "resnet50", "inception_v3", "--format", "csv"]) == 0
    assert "inputs differ" in capsys.readouterr().err

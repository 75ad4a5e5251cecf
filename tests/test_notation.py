"""`archcalc layer`: the lectures' notations as input. The listings in tests/data/ are the
slides' own text (CS231n lecture 9: AlexNet slide 15, VGG16 slide 30)."""

from pathlib import Path

import pytest

from archcalc.cli import main
from archcalc.errors import SpecError
from archcalc.notation import analyze_text

DATA = Path(__file__).parent / "data"


def test_alexnet_slide_listing():
    report, checks = analyze_text((DATA / "alexnet_slide.txt").read_text())
    assert report.input == (3, 227, 227)
    assert report.totals.params == 62_378_344 and report.totals.macs == 1_135_256_096
    assert len(checks) == 13 and all(c["agrees"] for c in checks)


def test_vgg16_slide_rows():
    report, checks = analyze_text((DATA / "vgg16_slide.txt").read_text())
    assert report.totals.weights == 138_344_128  # the slide's params column
    assert report.totals.activations == 15_237_608  # the slide's memory column, summed
    assert len(checks) == 21 and all(c["agrees"] for c in checks)


@pytest.mark.parametrize(
    "text, volume, expected",
    [
        ("1x1 CONV with 32 filters", "56x56x64", (32, 56, 56)),  # the 1x1-conv slide
        ("[3x3 conv, 192]", "28x28x256", (192, 28, 28)),
        ("3x3 pool", "28x28x256", (256, 28, 28)),
        ("CONV1: 96 11x11 filters at stride 4, pad 0", "227x227x3", (96, 55, 55)),
        ("MAX POOL1: 3x3 filters at stride 2", "55x55x96", (96, 27, 27)),
        ("NORM1: Normalization layer", "27x27x96", (96, 27, 27)),
        ("CONV3-64", "224x224x3", (64, 224, 224)),
        ("POOL2", "224x224x64", (64, 112, 112)),
        ("FC 4096", "7x7x512", (4096,)),
        ("FC-1000", "4096", (1000,)),
        ("FC6: 4096 neurons", "6x6x256", (4096,)),
        ("3x3 conv, 64, stride 2", "56x56x64", (64, 28, 28)),
    ],
)
def test_single_layer_forms(text, volume, expected):
    report, _ = analyze_text(text, volume)
    assert report.rows[-1].output == expected


def test_three_3x3_convs_have_receptive_field_7():
    report, _ = analyze_text("CONV3-64\nCONV3-64\nCONV3-64", "32x32x64")
    assert report.rows[-1].receptive_field == 7


def test_disagreeing_volume_is_reported(capsys):
    assert main(["layer", "[28x28x256] CONV1: 96 11x11 filters at stride 4, pad 0", "--input", "227x227x3"]) == 1
    assert "stated [28x28x256] for conv1: DISAGREES: computed 55x55x96" in capsys.readouterr().out


def test_json_contract_and_stated_volumes(cli_json):
    data = cli_json(["layer", str(DATA / "alexnet_slide.txt")])
    assert data["input"] == [3, 227, 227] and data["totals"]["macs"] == 1_135_256_096
    assert data["stated_volumes"][0] == {"layer": "conv1", "line": "[55x55x96] CONV1: 96 11x11 filters at stride 4, pad 0",
                                         "stated": "55x55x96", "computed": "55x55x96", "agrees": True}


def test_unknown_phrasing_shows_accepted_forms(capsys):
    assert main(["layer", "a very deep layer", "--input", "8x8x3"]) == 2
    err = capsys.readouterr().err
    assert "cannot read 'a very deep layer'" in err and "accepted forms" in err


def test_missing_input():
    with pytest.raises(SpecError, match="give the input volume"):
        analyze_text("CONV3-64")

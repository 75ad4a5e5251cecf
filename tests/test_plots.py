"""Charts: the plotted numbers are the engine's and the metadata's; the file is a real image."""

from archcalc.cli import main
from archcalc.plots import accuracy_points


def test_accuracy_points_use_exact_counts_and_sourced_accuracy():
    points = {p.name: p for p in accuracy_points(["vgg16", "alexnet_lecture", "resnet50"])}
    assert "alexnet_lecture" not in points  # no accuracy figure: not plotted rather than invented
    assert points["vgg16"].macs == 15_470_264_320 and points["vgg16"].params == 138_357_544
    assert points["vgg16"].top1 == 71.6 and "torchvision" in points["vgg16"].source


def test_chart_writes_png(tmp_path, capsys):
    out = tmp_path / "chart.png"
    assert main(["chart", "accuracy", "alexnet", "vgg16", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "2 networks" in capsys.readouterr().out

"""Charts: the plotted data (points, bars, labels, captions) against independent numbers; every
chart is written in every format; labels never overlap or leave the axes; bad input is one line."""

import itertools
import json
import textwrap
from pathlib import Path

import pytest

import archcalc

from archcalc import figures
from archcalc.accuracy import select
from archcalc.benchfile import load
from archcalc.cli import main
from archcalc.plots import draw
from archcalc.report import headline_accuracy
from archcalc.spec import zoo
from archcalc.sweep import sweep

BENCH = Path(__file__).parent / "data" / "bench_small.json"
MIB = 2**20


def _points(figure):
    """{label: (x, y, size)} over every series of the first panel."""
    out = {}
    for series in figure.panels[0].series:
        for x, y, size, label in itertools.zip_longest(series.x, series.y, series.sizes, series.point_labels):
            out[label] = (x, y, size)
    return out


# ------------------------------------------------------------------------------------ accuracy


def test_accuracy_points_use_exact_counts_and_the_original_recipe():
    points = _points(figures.accuracy_figure(["vgg16", "googlenet", "resnet50", "resnet18"]))
    # torchvision 0.29 weights metadata: vgg16 _ops 15.470 GFLOPS (= MACs), googlenet num_params
    # 6,624,904 (aux heads dropped with weights), ResNet50_Weights.IMAGENET1K_V1 acc@1 76.13
    # (not V2's 80.858: one recipe on the chart), resnet18 IMAGENET1K_V1 69.758
    assert points["vgg16"][0] == 15_470_264_320 / 1e9 and points["vgg16"][2] == 138_357_544
    assert points["googlenet"][2] == 6_624_904
    assert points["resnet50"][1] == 76.13 and points["resnet18"][1] == 69.758


def test_accuracy_best_takes_the_newest_recipe():
    points = _points(figures.accuracy_figure(["resnet50", "resnet18"], choice="best"))
    assert points["resnet50"][1] == 80.858 and points["resnet18"][1] == 69.758


def test_paper_figure_where_torchvision_has_none_and_says_so():
    figure = figures.accuracy_figure(["mobilenet_v1", "resnet50"])
    paper = [s for s in figure.panels[0].series if s.style == "hollow"]
    # Howard et al. 2017, Table 6: 1.0 MobileNet-224, 70.6% top-1
    assert paper[0].point_labels == ("mobilenet_v1",) and paper[0].y == (70.6,)
    assert "IMAGENET1K_V1" in figure.caption and "paper" in figure.caption


@pytest.mark.parametrize("name", sorted(zoo()))
def test_accuracy_selection_is_imagenet_and_matches_torchvision(name):
    """Every figure a chart can show is an ImageNet top-1; torchvision's agree with its metadata."""
    meta = zoo()[name].meta
    for choice in ("original", "best"):
        chosen = select(meta, choice)
        if chosen is None:
            continue
        assert "ImageNet" in chosen.protocol or "ILSVRC" in chosen.protocol
        if choice == "original":  # `compare` (report.headline_accuracy) shows the same figure
            top1, _, source = headline_accuracy(dict(meta))
            assert float(top1) == round(chosen.top1, 1) and source == chosen.source
        if chosen.weights:
            tv = pytest.importorskip("torchvision.models")
            weights = tv.get_model_weights(meta.get("torchvision") or name)
            assert chosen.top1 == weights[chosen.weights].meta["_metrics"]["ImageNet-1K"]["acc@1"]
            if choice == "best":
                newest = max((w for w in weights if w.name.startswith("IMAGENET1K_V")), key=lambda w: w.name)
                assert chosen.weights == newest.name


def test_no_figure_is_a_note_not_a_silent_drop(capsys, tmp_path):
    out = tmp_path / "a.png"
    assert main(["chart", "accuracy", "alexnet", "vgg16", "alexnet_lecture", "resnet20_cifar", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2 networks" in printed
    assert "alexnet_lecture: not plotted, no accuracy figure" in printed
    assert "resnet20_cifar: not plotted, no ImageNet top-1" in printed


@pytest.mark.parametrize("argv, words", [
    (["chart", "accuracy", "no_such_net"], ["no built-in network 'no_such_net'"]),
    (["chart", "accuracy", "vgg16", "resnet5"], ["no built-in network 'resnet5'", "did you mean"]),
    (["chart", "compare", "vgg16", "vgg61"], ["no built-in network 'vgg61'", "did you mean"]),
    (["chart", "layers", "resnet15"], ["no built-in network 'resnet15'", "did you mean"]),
    (["chart", "scaling", "mobilenet_v2", "--param", "widht_mult=0.5,1"], ["widht_mult", "did you mean"]),
    (["chart", "acuracy"], ["unknown chart kind 'acuracy'", "did you mean 'accuracy'"]),
    (["chart", "accuracy", "--out", "x.jpg"], ["x.jpg", "'jpg'"]),
    (["chart", "accuracy", "--x", "latency"], ["--bench"]),
    (["chart", "layers", "vgg16", "--metric", "flops"], ["'flops'"]),
    (["chart", "layers", "vgg16", "vgg19"], ["one network, got 2"]),
    (["chart", "scaling", "mobilenet_v1", "--param", "alpha="], ["--param alpha", "no values"]),
    (["chart", "scaling", "mobilenet_v1"], ["nothing to sweep"]),
    (["chart", "scaling", "mobilenet_v1", "--param", "alpha=0.5,1", "--batch", "1,8"], ["one thing at a time"]),
    (["chart", "bench"], ["one benchmark file, got 0"]),
])
def test_bad_chart_input_is_one_line(argv, words, capsys, tmp_path):
    assert main([*argv, *([] if "--out" in argv else ["--out", str(tmp_path / "c.png")])]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("archcalc: error:") and "\n" not in err, err
    for word in words:
        assert word in err
    assert not (tmp_path / "c.png").exists()


@pytest.mark.parametrize("choice", ["original", "best"])
def test_labels_never_overlap_or_leave_the_axes(choice, tmp_path):
    figure = figures.accuracy_figure(choice=choice)
    drawn = draw(figure, tmp_path / "a.png")
    plotted = sum(len(s.point_labels) for s in figure.panels[0].series)
    assert len(drawn.labels) == plotted  # every point labelled
    frame = drawn.axes[0]
    for box in drawn.labels:
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, box
    for a, b in itertools.combinations(drawn.labels, 2):
        assert not a.overlaps(b, pad=0), (a.text, b.text)


# ------------------------------------------------------------------------------------ layers


def test_layers_vgg16_bars_by_hand():
    figure = figures.layers_figure("vgg16")
    memory, params, macs = (dict(zip(p.series[0].x, p.series[0].y)) for p in figure.panels)
    assert "MiB" in figure.panels[0].xlabel and "(M)" in figure.panels[1].xlabel and "(G)" in figure.panels[2].xlabel
    assert memory["features.0"] == 224 * 224 * 64 * 4 / MIB  # 64 maps of 224x224, float32
    assert params["classifier.0"] == (7 * 7 * 512 * 4096 + 4096) / 1e6  # the slide's FC 102,764,544
    assert macs["features.2"] == 224 * 224 * 64 * (64 * 3 * 3) / 1e9  # 1,849,688,064
    assert "features.1" not in memory  # in-place: stores nothing, not a bar
    assert "most parameters: classifier.0 (74%)" in figure.caption  # 102,764,544 / 138,357,544


def test_layers_large_network_grouped_by_stage():
    figure = figures.layers_figure("resnet152", ["params", "macs"])
    labels = figure.panels[0].series[0].x
    assert len(labels) <= figures.MAX_BARS and "grouped by stage" in figure.caption
    # ResNet-152: bottlenecks [3, 8, 36, 3], three convs each, plus one projection per stage
    assert [l for l in labels if l.startswith("layer")] == [
        "layer1 (10 conv/fc)", "layer2 (25 conv/fc)", "layer3 (109 conv/fc)", "layer4 (10 conv/fc)"]
    # torchvision 0.29 resnet152 num_params: 60,192,808, every parameter in exactly one group
    assert round(sum(figure.panels[0].series[0].y) * 1e6) == 60_192_808


# ------------------------------------------------------------------------------------ compare


def test_compare_uses_inference_params_and_shows_training_memory_when_present():
    figure = figures.compare_figure(["googlenet", "vgg16"])
    params = dict(zip(figure.panels[0].series[0].x, figure.panels[0].series[0].y))
    assert params == {"googlenet": 6.624904, "vgg16": 138.357544}  # torchvision num_params
    memory = {s.label: dict(zip(s.x, s.y)) for s in figure.panels[2].series}
    unit = {"MiB": 2**20, "GiB": 2**30}[figure.panels[2].xlabel.split("(")[1].split(",")[0]]
    assert memory["activations, all stored"]["vgg16"] == 15_237_608 * 4 / unit  # the lecture's rows, float32
    # the training bars are the engine's train-mode totals (one SGD step at batch 1)
    train = archcalc.analyze("vgg16", train=True).totals
    assert memory["peak, one training step (SGD)"]["vgg16"] == train.train_peak_bytes / unit
    assert "Training memory appears once" not in figure.caption


# ------------------------------------------------------------------------------------ scaling


def test_scaling_points_are_the_sweep_rows():
    figure = figures.scaling_figure(sweep("mobilenet_v1", {"alpha": ["0.25", "0.5", "0.75", "1.0"]}))
    macs = figure.panels[0].series[0]
    assert macs.x == (0.25, 0.5, 0.75, 1.0) and figure.panels[0].ylabel.endswith("(M)")
    # Howard et al. 2017, Table 6: 41, 149, 325, 569 million mult-adds
    assert [round(v) for v in macs.y] == [41, 149, 325, 569]
    resolution = figures.scaling_figure(sweep("mobilenet_v1", {"resolution": ["128", "224"]}))
    assert resolution.panels[0].series[0].x == (128, 224)


def test_scaling_by_batch_keeps_params_flat():
    figure = figures.scaling_figure(sweep("resnet18", batches=[1, 8]))
    macs, params = figure.panels[0].series[0], figure.panels[1].series[0]
    assert macs.y[1] == 8 * macs.y[0] and params.y[0] == params.y[1]


# ------------------------------------------------------------------------------------ bench


def test_bench_file_is_read_and_validated():
    bench = load(BENCH)
    assert len(bench.results) == 10 and bench.peak("peak_flops", "bfloat16") == 989e12
    assert [r.status for r in bench.results if not r.measured] == ["oom"]


@pytest.mark.parametrize("text, words", [
    ("not json", ["not JSON"]),
    ("[]", ["expected {\"environment\""]),
    ('{"environment": {}, "results": []}', ["no results"]),
    ('{"environment": {}, "results": [{"model": "resnet18"}]}', ["results[0] has no device"]),
    ('{"environment": {}, "results": [{"model": "m", "device": "cpu", "batch": 0, "dtype": "float32", "train": false, '
     '"latency_ms": null, "status": "oom"}]}', ["results[0].batch is 0"]),
    ('{"environment": {}, "results": [{"model": "m", "device": "cpu", "batch": 1, "dtype": "float32", "train": false, '
     '"latency_ms": {"median": "fast"}, "status": "ok"}]}', ["latency_ms.median is 'fast'"]),
    ('{"environment": {}, "results": [{"model": "m", "device": "cpu", "batch": 1, "dtype": "float32", "train": false, '
     '"latency_ms": {}, "status": "ok"}]}', ["status 'ok' but no latency_ms.median"]),
])
def test_not_a_bench_file_is_one_line(text, words, tmp_path, capsys):
    path = tmp_path / "b.json"
    path.write_text(text)
    assert main(["chart", "bench", str(path), "--out", str(tmp_path / "b.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(path) in err
    for word in words:
        assert word in err


def test_bench_panels_from_the_file_and_the_engine():
    figure = figures.bench_figure(load(BENCH))
    latency, per_batch, memory, roofline = figure.panels
    f32 = {s.label: s for s in latency.series}["cuda float32"]
    points = dict(zip(f32.point_labels, zip(f32.x, f32.y)))
    # resnet18: 1,814,073,344 MACs per image (torchvision _ops 1.814 G); the file's medians
    assert points["resnet18 b8"] == (8 * 1_814_073_344 / 1e9, 4.0)
    assert dict(zip((s.label for s in per_batch.series), (s.y for s in per_batch.series)))["resnet18"] == (1.2, 4.0 / 8)
    mem = {s.label: s for s in memory.series}
    assert mem["cuda float32"].x[0] == 56_000_000 / MIB and mem["cuda float32"].y[0] == 58_000_000 / MIB
    assert "measured = predicted" in mem and "resnet18 b8 train" in mem["cuda float32"].point_labels
    series = {s.label: s for s in roofline.series}
    achieved = dict(zip(series["cuda float32"].point_labels, series["cuda float32"].y))
    assert achieved["resnet18 b8"] == pytest.approx(2 * 1_814_073_344 * 8 / 4.0e-3 / 1e12)  # 7.256 TFLOP/s
    roof = series["roof float32: 67 TFLOP/s, 4800 GB/s"]
    assert roof.y[1:] == (67.0, 67.0) and roof.x[1] == 67e12 / 4.8e12  # ridge at 13.96 FLOP/byte
    assert figure.notes == ("mobilenet_v2 batch 128 bfloat16: oom, not plotted",)


def test_bench_models_archcalc_cannot_analyse_are_noted(tmp_path, capsys):
    data = json.loads(BENCH.read_text())
    for row in data["results"]:
        row["model"] = "my_models.py:build"
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data))
    assert main(["chart", "bench", str(path), "--out", str(tmp_path / "b.png")]) == 0
    assert "my_models.py:build: not a built-in network or spec file" in capsys.readouterr().out
    assert (tmp_path / "b.png").stat().st_size > 5000


def test_roofline_traffic_by_hand(tmp_path):
    """A 4x4x1 input, conv 3x3 to 2 maps (pad 1, bias), flatten, linear to 3. Bytes moved at float32:
    conv reads 16 and writes 32 values; flatten moves nothing; linear reads 32 and writes 3;
    parameters 2*9+2 + 32*3+3 = 119: (48 + 35 + 119) * 4 = 808 bytes. FLOPs = 2 * (4*4*2*9 + 32*3) = 768."""
    spec = tmp_path / "tiny.yaml"
    spec.write_text(textwrap.dedent("""
        name: tiny
        input: 4x4x1
        layers:
          - conv: {out: 2, kernel: 3, padding: 1}
          - flatten
          - linear: {out: 3}
    """))
    intensity, flops = figures.arithmetic_intensity(str(spec), 1, "float32")
    assert flops == 768 and intensity == 768 / 808
    assert figures.arithmetic_intensity(str(spec), 2, "bfloat16") == (1536 / ((2 * 83 + 119) * 2), 1536)  # batch 2, 2 bytes


def test_accuracy_against_measured_latency():
    figure = figures.accuracy_figure(x="latency", bench=load(BENCH))
    points = _points(figure)
    assert set(points) == {"resnet18", "mobilenet_v2"}  # the file's networks: batch 1, float32 medians
    assert points["resnet18"][:2] == (1.2, 69.758) and points["mobilenet_v2"][:2] == (2.5, 71.878)
    assert "latency" in figure.panels[0].xlabel and "ms" in figure.panels[0].xlabel


# ------------------------------------------------------------------------------------ files


@pytest.mark.parametrize("argv", [
    ["accuracy", "alexnet", "vgg16"],
    ["layers", "vgg16"],
    ["compare", "alexnet", "vgg16"],
    ["scaling", "mobilenet_v1", "--input", "128x128x3,224x224x3"],
    ["bench", str(BENCH)],
])
@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG\r\n\x1a\n"), ("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_every_chart_in_every_format(argv, fmt, magic, tmp_path, capsys):
    out = tmp_path / f"chart.{fmt}"
    assert main(["chart", *argv, "--out", str(out)]) == 0
    assert out.read_bytes().startswith(magic) and out.stat().st_size > 5000
    assert f"wrote {out}" in capsys.readouterr().out


def test_figure_data_is_json():
    data = json.loads(json.dumps(figures.layers_figure("alexnet").to_dict()))
    assert data["kind"] == "layers" and data["panels"][0]["series"][0]["x"][0] == "input"

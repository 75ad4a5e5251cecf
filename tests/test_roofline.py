"""The latency prediction (archcalc/roofline.py) on a network small enough to work out by hand,
the datasheet table, and the rank / error statistics against hand-computed values."""

import math
import textwrap

import pytest

from archcalc.roofline import DeviceProfile, datasheet, median_abs_error, predict, ranks, roofline_only, spearman
from archcalc.spec import build, load_file

TINY = """
input: 8x8x3
networks:
  tiny:
    layers:
      - conv: {name: c, out: 4, kernel: 3, padding: 1, bias: false}
      - relu: {name: r, inplace: false}
      - maxpool: {name: p, kernel: 2, stride: 2}
      - flatten: {name: f}
      - linear: {name: fc, out: 10}
"""

# A made-up device with round numbers: 1 GFLOP/s peak, 1 GB/s, 1 us per layer call, convs at half
# the peak, 1 G pooling compares per second.
PROFILE = DeviceProfile("paper device", "float32", peak_flops=1e9, bandwidth=1e9, source="test",
                        overhead_s=1e-6, efficiency={"conv": 0.5}, pool_rate=1e9)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "tiny.yaml"
    path.write_text(textwrap.dedent(TINY))
    return build(load_file(path)["tiny"])


def test_layer_by_layer_by_hand(tiny):
    batch = 2
    pred = predict(tiny, batch, PROFILE)
    layers = {l.name: l for l in pred.layers}
    assert [l.cls for l in pred.layers] == ["conv", "elementwise", "pool", "view", "linear"]
    # conv: 8*8*4 outputs x 3*3*3 MACs = 6,912 MACs per image -> 2 * 6912 * 2 = 27,648 FLOPs;
    # bytes: 4 * (2 * (192 in + 256 out) + 108 weights) = 4,016
    c = layers["c"]
    assert (c.flops, c.bytes) == (27_648, 4_016)
    assert c.seconds == pytest.approx(1e-6 + 27_648 / 0.5e9 + 4_016 / 1e9)
    # relu: 256 in + 256 out per image, 2 images, 4 bytes: 4,096 bytes, no FLOPs
    assert layers["r"].bytes == 4_096 and layers["r"].seconds == pytest.approx(1e-6 + 4_096e-9)
    # 2x2 max pool on 4x8x8: 64 outputs x 3 compares per image, 2 images = 384 compares
    p = layers["p"]
    assert p.compute_s == pytest.approx(384e-9) and p.bytes == 4 * 2 * (256 + 64)
    # flatten is a view: the call only
    assert layers["f"].bytes == 0 and layers["f"].seconds == pytest.approx(1e-6)
    # linear 64 -> 10 with bias: 640 MACs per image; weights 650 values
    fc = layers["fc"]
    assert fc.flops == 2 * 640 * 2 and fc.bytes == 4 * (2 * (64 + 10) + 650)
    assert pred.seconds == pytest.approx(sum(l.seconds for l in pred.layers))
    # the baseline: 2 * (6912 + 640) MACs * 2 images / 1 GFLOP/s
    assert pred.baseline_seconds == pytest.approx(2 * 7_552 * 2 / 1e9)


def test_asynchronous_device_and_pure_roofline(tiny):
    roof = predict(tiny, 1, roofline_only(PROFILE))
    # per layer max(FLOPs / peak, bytes / bandwidth); conv: max(13,824 / 1e9, 4 * (448 + 108) / 1e9)
    conv = roof.layers[0]
    assert conv.seconds == pytest.approx(max(13_824e-9, 2_224e-9))
    # pooling without a pool rate is bytes only
    assert roof.layers[2].seconds == pytest.approx(4 * (256 + 64) * 1e-9)


def test_training_step(tiny):
    infer, train = predict(tiny, 1, PROFILE), predict(tiny, 1, PROFILE, train=True)
    params = 108 + 650
    assert train.seconds == pytest.approx(3 * infer.seconds + 5 * params * 4 / 1e9)
    assert train.baseline_seconds == pytest.approx(3 * infer.baseline_seconds)


@pytest.mark.parametrize("name, label", [
    ("NVIDIA H100 80GB HBM3", "H100 SXM5"), ("NVIDIA H100 PCIe", "H100 PCIe"), ("NVIDIA H200", "H200"),
    ("NVIDIA A100-SXM4-40GB", "A100 40GB"), ("NVIDIA A100-SXM4-80GB", "A100 80GB"), ("NVIDIA L4", "L4"),
])
def test_datasheet_names(name, label):
    p = datasheet(name, "bfloat16")
    assert p is not None and label in p.source and p.asynchronous
    assert datasheet(name, "float32").peak_flops < p.peak_flops


def test_datasheet_unknown():
    assert datasheet("NVIDIA L40S", "float32") is None  # not an L4
    assert datasheet("NVIDIA H100 80GB HBM3", "float64") is None


def test_ranks_and_spearman_by_hand():
    assert ranks([10, 30, 20, 20]) == [1, 4, 2.5, 2.5]
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1)
    # one swapped pair among 5 without ties: 1 - 6 * (1 + 1) / (5 * 24) = 0.9
    assert spearman([1, 2, 3, 4, 5], [1, 2, 3, 5, 4]) == pytest.approx(0.9)
    assert median_abs_error([11, 8, 30], [10, 10, 20]) == pytest.approx(0.2)  # errors 10%, 20%, 50%


def test_profile_round_trip():
    assert DeviceProfile.from_dict(PROFILE.to_dict()) == PROFILE
    assert not math.isnan(PROFILE.peak_flops)


def test_prediction_core_is_torch_free():
    import subprocess
    import sys

    code = "import sys, archcalc.roofline, archcalc.commands.bench_cmd; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

"""Every network in specs/: it loads, it analyses, and its totals equal the independent numbers
stored in its `expected:` metadata (torchvision, timm, a reference module, a paper or a hand sum)."""

import pytest

import archcalc
from archcalc.analysis import summarize
from archcalc.spec import build, zoo

ZOO = zoo()
NAMES = sorted(ZOO)


def test_zoo_is_not_empty():
    assert {"vgg16", "alexnet_lecture", "inception_naive", "inception_bottleneck"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_spec_analyses_and_matches_expected(name):
    net = ZOO[name]
    report = summarize(build(net))
    t = report.totals
    expected = net.meta.get("expected")
    assert expected, f"{name}: every spec states independent expected totals (`expected:`)"
    assert expected.get("source"), f"{name}: expected totals need a source"
    checked = 0
    for key in ("params", "macs", "activations", "weights"):
        if key in expected:
            assert getattr(t, key) == expected[key], f"{name}: {key}"
            checked += 1
    assert checked, f"{name}: expected states none of params, macs, activations, weights"


@pytest.mark.parametrize("name", NAMES)
def test_totals_are_sums_of_rows(name):
    report = archcalc.analyze(name)
    rows, t = report.rows, report.totals
    assert t.params == sum(r.params for r in rows)
    assert t.macs == sum(r.macs for r in rows if r.executed)
    assert t.activations == sum(r.activations for r in rows if not r.inplace and r.executed)
    assert 0 < t.ideal_peak_activation_bytes <= t.activation_bytes
    assert t.ideal_peak_activation_bytes <= t.peak_activation_bytes  # eager holds tensors longer
    assert rows[0].type == "input" and rows[0].activations == rows[0].output[0] * rows[0].output[1] * rows[0].output[2]


@pytest.mark.parametrize("name", NAMES)
def test_metadata(name):
    net = ZOO[name]
    assert net.description and "\n" not in net.description.strip(), f"{name}: one-line description"
    assert net.meta.get("paper") or net.meta.get("source"), f"{name}: paper or source"
    for entry in net.meta.get("accuracy") or []:
        assert entry.get("source") and entry.get("protocol"), f"{name}: accuracy without source/protocol: {entry}"


def test_count_conventions_relate():
    mac = archcalc.analyze("vgg16_bn", count="macs").totals
    torch_ = archcalc.analyze("vgg16_bn", count="torch").totals
    fv = archcalc.analyze("vgg16_bn", count="fvcore").totals
    assert torch_.ops == 2 * mac.macs
    assert fv.ops > mac.macs  # batch norm and the adaptive pool


def test_batch_and_dtype_scale():
    one = archcalc.analyze("vgg16").totals
    eight = archcalc.analyze("vgg16", batch=8, dtype="float16").totals
    assert eight.macs == 8 * one.macs and eight.params == one.params
    assert eight.activation_bytes == 8 * one.activations * 2
    assert eight.ideal_peak_activation_bytes == 8 * one.ideal_peak_activation_bytes // 2
    # the eager peak scales with the batch, but not with the dtype: max pool's indices are int64
    assert eight.peak_activation_bytes == 8 * archcalc.analyze("vgg16", dtype="float16").totals.peak_activation_bytes


def test_input_override():
    r = archcalc.analyze("vgg16", input="256x256x3")
    assert r.input == (3, 256, 256)
    assert r.row("maxpool5").output == (512, 8, 8)
    assert r.row("adaptive_avgpool1").output == (512, 7, 7)
    assert r.totals.params == 138_357_544  # the adaptive pool keeps the classifier's input fixed

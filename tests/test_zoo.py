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


HAND = """
name: hand
input: 8x8x3
layers:
  - conv: {name: c1, out: 4, kernel: 3, padding: 1}
  - batchnorm: {name: bn}
  - relu
  - side: {name: aux, inference: false, layers: [flatten, linear: {name: fc, out: 5}]}
  - maxpool: {name: pool, kernel: 2, stride: 2}
  - add: {name: res, branches: [[conv: {name: a, out: 4, kernel: 1}], []]}
  - flatten
  - linear: {name: fc, out: 10}
"""


def test_every_total_worked_by_hand(tmp_path):
    """Every field of Totals on a network small enough to do on paper: branches, batch norm,
    an in-place ReLU, a view, and a training-only head; batch 2, float16 (2 bytes)."""
    path = tmp_path / "hand.yaml"
    path.write_text(HAND)
    # per image: input 8x8x3 = 192 values; c1 8x8x4 = 256 (3x3x3 kernels: 4*27 + 4 = 112 params,
    # 256*27 = 6,912 MACs, 256 bias adds); bn 256 values, 2*4 = 8 params, 8 buffers, 2*256 ops;
    # relu in place (256 ops); aux: flatten + linear 256*5 + 5 = 1,285 params, never run;
    # pool 4x4x4 = 64 (3 compares each: 192); a 1x1: 4*4 + 4 = 20 params, 16*16 = 256 MACs,
    # 64 values, 64 bias adds; res 64 values, 64 adds; fc 64*10 + 10 = 650 params, 640 MACs, 10 values
    t = archcalc.analyze(str(path), batch=2, dtype="float16").totals
    assert t.params == 112 + 8 + 1285 + 20 + 650 == 2075
    assert t.inference_params == 2075 - 1285
    # params = conv/linear weights + biases + normalisation (bn's gamma and beta: 2*4)
    assert (t.biases, t.weights, t.norm_params, t.buffers) == (4 + 5 + 4 + 10, 2075 - 23 - 8, 8, 8)
    assert t.macs == t.ops == 2 * (6912 + 256 + 640)
    assert t.other_ops == 2 * (256 + 512 + 256 + 192 + 64 + 64 + 10)
    assert t.activations == 2 * (192 + 256 + 256 + 64 + 64 + 64 + 10)
    assert (t.activation_bytes, t.param_bytes, t.buffer_bytes) == (2 * 906 * 2, 2075 * 2, 8 * 2)
    # ideal liveness: c1's output and bn's (the input is freed once c1 has read it)
    assert t.ideal_peak_activation_bytes == 2 * (256 + 256) * 2
    # eager PyTorch: the caller holds the input all pass; during pool, bn's output (its argument),
    # pool's output and its int64 indices (8 B each, whatever the dtype) are alive:
    # (192 + 256 + 64) values x 2 B + 64 x 8 B = 1,536 B per image (more than at bn: 704 x 2 B)
    assert t.peak_activation_bytes == 2 * ((192 + 256 + 64) * 2 + 64 * 8) == 3072
    assert t.weighted_layers == 3  # c1 -> a -> fc; the aux head does not run
    fvcore = archcalc.analyze(str(path), count="fvcore").totals
    assert fvcore.ops == 6912 + 256 + 640 + 2 * 256  # + batch norm, 2 per element


@pytest.mark.parametrize("name", NAMES)
def test_peak_memory_bounds(name):
    """Each stored output is alive when its layer runs; nothing is alive that was never stored."""
    report = archcalc.analyze(name)
    rows, t = report.rows, report.totals
    assert t.params == sum(r.params for r in rows)
    assert t.macs == sum(r.macs for r in rows if r.executed)
    assert t.activations == sum(r.activations for r in rows if not r.inplace and r.executed)
    assert 0 < t.ideal_peak_activation_bytes <= t.activation_bytes
    assert t.ideal_peak_activation_bytes <= t.peak_activation_bytes  # eager holds tensors longer
    assert rows[0].type == "input" and rows[0].activations == rows[0].output[0] * rows[0].output[1] * rows[0].output[2]
    assert t.inference_params <= t.params
    largest = max(r.activations for r in rows if r.executed and not r.inplace)
    assert largest * 4 <= t.peak_activation_bytes


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
    assert r.row("pool5").output == (512, 8, 8)  # the paper's name of features.30
    assert r.row("features.30") == r.row("pool5")
    assert r.row("avgpool").output == (512, 7, 7)
    assert r.totals.params == 138_357_544  # the adaptive pool keeps the classifier's input fixed


@pytest.mark.parametrize("name", NAMES)
def test_replayed_blocks_equal_interpreted_ones(name, monkeypatch):
    """Repeated blocks are replayed from a recorded template (archcalc/spec.py); every node must
    equal what interpreting the block item by item gives: names, inputs, shapes, costs, receptive
    fields, storage, flags, scope paths and aliases."""
    from archcalc import spec

    def signature(graph):
        return ([(n.name, n.type, n.inputs, n.shape, n.cost, n.rf, n.storage, n.executed, n.output) for n in graph.nodes],
                graph.meta.get("aliases"), graph.holds)

    # a first compile, a second (which records every block), a third (which replays them all,
    # templates kept with the network definition), and one from a fresh copy of the definition
    net = ZOO[name]
    fresh = spec.NetworkDef(net.name, net.file, net.layers, net.params, net.input, net.blocks, net.meta,
                            net.description, net.symbols)
    compiles = [signature(build(net)) for _ in range(3)] + [signature(build(fresh))]
    monkeypatch.setattr(spec._Builder, "_template_key", lambda self, *args: None)
    interpreted = signature(build(net))
    for replayed in compiles:
        assert replayed == interpreted

"""Numbers stated in the lectures (../shared/seeds) and derived by hand from them.

Each expected value below is written out as the slide's own arithmetic, not copied from
archcalc's output.
"""

import pytest

import archcalc

# CS231n 2018 lecture 9, VGG16 slide: (name, H, W, C, weights not counting biases)
VGG16_SLIDE = [
    ("input", 224, 224, 3, 0),
    ("conv", 224, 224, 64, (3 * 3 * 3) * 64),
    ("conv", 224, 224, 64, (3 * 3 * 64) * 64),
    ("maxpool", 112, 112, 64, 0),
    ("conv", 112, 112, 128, (3 * 3 * 64) * 128),
    ("conv", 112, 112, 128, (3 * 3 * 128) * 128),
    ("maxpool", 56, 56, 128, 0),
    ("conv", 56, 56, 256, (3 * 3 * 128) * 256),
    ("conv", 56, 56, 256, (3 * 3 * 256) * 256),
    ("conv", 56, 56, 256, (3 * 3 * 256) * 256),
    ("maxpool", 28, 28, 256, 0),
    ("conv", 28, 28, 512, (3 * 3 * 256) * 512),
    ("conv", 28, 28, 512, (3 * 3 * 512) * 512),
    ("conv", 28, 28, 512, (3 * 3 * 512) * 512),
    ("maxpool", 14, 14, 512, 0),
    ("conv", 14, 14, 512, (3 * 3 * 512) * 512),
    ("conv", 14, 14, 512, (3 * 3 * 512) * 512),
    ("conv", 14, 14, 512, (3 * 3 * 512) * 512),
    ("maxpool", 7, 7, 512, 0),
    ("linear", 1, 1, 4096, 7 * 7 * 512 * 4096),
    ("linear", 1, 1, 4096, 4096 * 4096),
    ("linear", 1, 1, 1000, 4096 * 1000),
]


@pytest.fixture(scope="module")
def vgg16():
    return archcalc.analyze("vgg16")


def test_vgg16_every_slide_row(vgg16):
    rows = [r for r in vgg16.rows if r.type in ("input", "conv", "maxpool", "linear")]
    assert len(rows) == len(VGG16_SLIDE)
    for row, (kind, h, w, c, weights) in zip(rows, VGG16_SLIDE):
        assert row.type == kind
        assert row.activations == h * w * c  # the slide's "memory: 224*224*64"
        assert row.params - row.biases == weights
        volume = (c,) if kind == "linear" else (c, h, w)
        assert row.output == volume


def test_vgg16_totals(vgg16):
    t = vgg16.totals
    assert t.weights == 138_344_128  # sum of the slide's params column
    assert t.params == 138_357_544  # + 13,416 biases (one per filter / neuron)
    assert t.biases == 2 * 64 + 2 * 128 + 3 * 256 + 6 * 512 + 2 * 4096 + 1000
    assert t.activations == sum(h * w * c for _, h, w, c, _ in VGG16_SLIDE) == 15_237_608
    assert t.activation_bytes == 15_237_608 * 4
    # conv MACs: H*W*C_out * 3*3*C_in per layer, plus the three FC layers
    convs = [(224, 3, 64), (224, 64, 64), (112, 64, 128), (112, 128, 128), (56, 128, 256), (56, 256, 256),
             (56, 256, 256), (28, 256, 512), (28, 512, 512), (28, 512, 512), (14, 512, 512), (14, 512, 512),
             (14, 512, 512)]
    macs = sum(s * s * cout * 9 * cin for s, cin, cout in convs) + 25088 * 4096 + 4096 * 4096 + 4096 * 1000
    assert t.macs == macs == 15_470_264_320
    assert t.weighted_layers == 16


def test_alexnet_lecture():
    r = archcalc.analyze("alexnet_lecture")
    conv1, pool1 = r.row("conv1"), r.row("pool1")
    assert conv1.output == (96, (227 - 11) // 4 + 1, 55)
    assert conv1.params - conv1.biases == (11 * 11 * 3) * 96 == 34_848
    assert conv1.biases == 96
    assert conv1.macs == 55 * 55 * 96 * 11 * 11 * 3 == 105_415_200
    assert pool1.output == (96, (55 - 3) // 2 + 1, 27) and pool1.params == 0
    expected_volumes = {  # the slide's bracketed volumes, H x W x C
        "conv1": (55, 55, 96), "pool1": (27, 27, 96), "norm1": (27, 27, 96), "conv2": (27, 27, 256),
        "pool2": (13, 13, 256), "norm2": (13, 13, 256), "conv3": (13, 13, 384), "conv4": (13, 13, 384),
        "conv5": (13, 13, 256), "pool3": (6, 6, 256),
    }
    for name, (h, w, c) in expected_volumes.items():
        assert r.row(name).output == (c, h, w), name
    for name, n in {"fc6": 4096, "fc7": 4096, "fc8": 1000}.items():
        assert r.row(name).output == (n,)
    assert r.totals.params == 62_378_344
    assert r.totals.macs == 1_135_256_096


def test_inception_naive():
    r = archcalc.analyze("inception_naive")
    assert r.rows[-1].output == (128 + 192 + 96 + 256, 28, 28)
    assert r.rows[-1].activations == 28 * 28 * 672 == 526_848  # the slide says "529k"
    assert r.totals.macs == 28 * 28 * 128 * 1 * 1 * 256 + 28 * 28 * 192 * 3 * 3 * 256 + 28 * 28 * 96 * 5 * 5 * 256
    assert r.totals.macs == 854_196_224


def test_inception_bottleneck():
    r = archcalc.analyze("inception_bottleneck")
    assert r.rows[-1].output == (128 + 192 + 96 + 64, 28, 28)
    ops = (
        28 * 28 * 64 * 1 * 1 * 256 * 3  # three 1x1 reductions to 64
        + 28 * 28 * 128 * 1 * 1 * 256  # 1x1 conv, 128
        + 28 * 28 * 192 * 3 * 3 * 64  # 3x3 conv, 192 on 64 channels
        + 28 * 28 * 96 * 5 * 5 * 64  # 5x5 conv, 96 on 64 channels
    )
    assert r.totals.macs == ops == 271_351_808


def test_three_3x3_convs_see_7x7():
    from archcalc.spec import NetworkDef, build

    net = NetworkDef("stack", "<test>", [{"conv": {"out": 8, "kernel": 3, "padding": 1}}] * 3, {}, "32x32x8", {})
    g = build(net)
    assert g.nodes[-1].rf.size == (7, 7)
    one = build(NetworkDef("one", "<test>", [{"conv": {"out": 8, "kernel": 7, "padding": 3}}], {}, "32x32x8", {}))
    # the slide: 3 * (3^2 C^2) vs 7^2 C^2 weights for C channels (C = 8, no biases counted)
    stack_weights = sum(n.cost.params - n.cost.biases for n in g.nodes)
    assert stack_weights == 3 * (3**2 * 8**2)
    assert sum(n.cost.params - n.cost.biases for n in one.nodes) == 7**2 * 8**2


def test_se_gate_is_global_context_not_field():
    """After a squeeze-and-excitation multiply every output also depends on the whole map (the
    gate pools globally): the field of the convolutional path is kept, global context marked."""
    from archcalc.spec import NetworkDef, build

    gate = [{"adaptive_avgpool": {}}, {"conv": {"out": 8, "kernel": 1}}, "sigmoid"]
    layers = [{"conv": {"out": 8, "kernel": 3, "stride": 2, "padding": 1}}, {"mul": {"branches": [[], gate]}},
              {"conv": {"out": 8, "kernel": 3, "padding": 1}}]
    g = build(NetworkDef("se", "<test>", layers, {}, "32x32x8", {}))
    mul, last = g.nodes[-2], g.nodes[-1]
    assert mul.rf.jump == (2, 2)
    assert mul.rf.size == (3, 3) and mul.rf.global_context  # the 3x3 conv's field, plus the gate
    assert last.rf.size == (3 + (3 - 1) * 2,) * 2 and last.rf.text() == "7+g"
    assert g.depth({"conv", "linear"}) == 2  # the gate's 1x1 conv is not on the path


def test_se_resnet50_field_is_the_convolutional_paths():
    # stem 7x7/2: 7 (jump 2); maxpool 3x3/2: 7 + 2*2 = 11 (jump 4); layer1.0's 1x1, 3x3, 1x1:
    # 11 + 2*4 = 19. The SE gate multiplies in global context: 19+g, not the whole image.
    r = archcalc.analyze("se_resnet50")
    gated, conv3 = r.row("layer1.0.se_module.mul1"), r.row("layer1.0.conv3")
    assert (gated.receptive_field, gated.global_context) == (19, True)
    assert (conv3.receptive_field, conv3.global_context) == (19, False)


@pytest.mark.parametrize(
    "name, depth",
    # the depth each network is named or described by in its paper / the lectures
    [("vgg16", 16), ("vgg19", 19), ("alexnet_lecture", 8), ("googlenet", 22), ("googlenet_paper", 22),
     ("resnet18", 18), ("resnet50", 50), ("resnet152", 152), ("resnet110_cifar", 110), ("plain56_cifar", 56),
     ("densenet121", 121), ("densenet201", 201), ("preact_resnet164_cifar", 164),
     # SE papers count the network they gate: SE-ResNet-50 is 50, SENet-154 154 (Hu et al., Table 2)
     ("se_resnet50", 50), ("se_resnext50_32x4d", 50), ("senet154", 154)],
    # not wrn28_10_cifar: WRN's name counts its three 1x1 shortcut convs too (6N + 4 = 28); the
    # longest path holds 26 weighted layers
)
def test_depth_is_longest_weighted_path(name, depth):
    assert archcalc.analyze(name).totals.weighted_layers == depth

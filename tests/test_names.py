"""Names people know: rows of torchvision-derived specs carry torchvision's module paths (so a row
can be found in print(model)), and the papers' names are aliases that explain accepts."""

import pytest

from archcalc.cli import main
from archcalc.spec import build, find, zoo

# one network per family whose spec follows a torchvision model
NETS = ["alexnet", "vgg16_bn", "resnet50", "densenet121", "mobilenet_v2", "mobilenet_v3_small",
        "efficientnet_b0", "googlenet", "squeezenet1_0", "mnasnet0_5", "shufflenet_v2_x0_5", "inception_v3"]


@pytest.mark.parametrize("name", NETS)
def test_rows_are_torchvision_module_paths(name):
    pytest.importorskip("torch")
    from archcalc.torch.reference import COMPARED_TYPES, FUNCTIONAL_POOLS, measure, reference_model

    net = find(name)
    graph = build(net)
    leaves = [path for path, _, _ in measure(reference_model(net.meta["torchvision"]), graph.input_shape).leaves]
    ours = [(n.name, n.type) for n in graph.nodes if n.type in COMPARED_TYPES and n.executed]
    known = set(leaves)
    # every torch leaf is a row of the same path, in the same order; a row without a leaf is
    # a pool torchvision calls functionally (no module to name)
    assert [n for n, _ in ours if n in known] == leaves
    assert {t for n, t in ours if n not in known} <= FUNCTIONAL_POOLS


@pytest.mark.parametrize(("net", "alias", "path"), [
    ("vgg16", "conv1_1", "features.0"),
    ("vgg16", "conv5_3", "features.28"),
    ("vgg16", "pool5", "features.30"),
    ("vgg16", "fc6", "classifier.0"),
    ("vgg16_bn", "conv1_2", "features.3"),  # conv, BN, ReLU: the second conv is module 3
    ("alexnet", "fc8", "classifier.6"),
])
def test_paper_names_are_aliases(net, alias, path, capsys):
    assert main(["explain", net, alias]) == 0
    assert capsys.readouterr().out.startswith(f"{path} ({alias}):")


def test_aliases_shown_in_table(capsys):
    assert main(["table", "vgg16"]) == 0
    out = capsys.readouterr().out
    assert "features.0 (conv1_1)" in out and "classifier.6 (fc8)" in out


def test_unknown_name_suggests_paper_names(capsys):
    assert main(["explain", "vgg16", "fc9"]) == 2
    assert "did you mean fc8" in capsys.readouterr().err


def test_index_names_need_an_indexed_scope(tmp_path):
    from archcalc.errors import SpecError

    path = tmp_path / "net.yaml"
    path.write_text("name: n\ninput: 8x8x3\nlayers:\n  - sequential: {name: s, layers: [conv: {name: '#', out: 4, kernel: 1}]}\n")
    with pytest.raises(SpecError, match="indexed scope"):
        build(find(str(path)))
    path.write_text("name: n\ninput: 8x8x3\nlayers:\n  - sequential: {name: s, index: true, layers: [conv: {out: 4, kernel: 1}, relu, conv: {name: '#', out: 4, kernel: 1}]}\n")
    assert [n.name for n in build(find(str(path))).nodes] == ["input", "s.0", "s.1", "s.2"]


def test_resnet_stages_answer_to_the_papers_names(capsys):
    # He et al. Table 1 names the stages conv2_x .. conv5_x; torchvision calls them layer1 .. layer4
    assert main(["explain", "resnet50", "conv3_x"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("layer2 (conv3_x): ") and "= 1,219,584" in out


def test_vgg_paper_notation_names_layers(capsys):
    # VGG Table 1 writes layers as conv3-64 / FC-4096; configuration D has two of each of these
    assert main(["explain", "vgg16", "CONV3-64"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("CONV3-64 describes 2 layers: features.0 (conv1_1), features.2 (conv1_2)")
    assert "64·3·3·3 + 64 = 1,792" in out  # (3*3*3)*64 + 64, the lecture's conv1_1 params
    assert main(["explain", "vgg16", "FC-1000"]) == 0
    assert capsys.readouterr().out.startswith("classifier.6 (fc8): linear 1000")


@pytest.mark.parametrize("name", sorted(zoo()))
def test_every_alias_names_a_row_or_scope(name):
    graph = build(find(name))
    names = {n.name for n in graph.nodes}
    prefixes = {".".join(n.split(".")[:d]) for n in names for d in range(1, n.count(".") + 1)}
    for alias, path in (graph.meta.get("aliases") or {}).items():
        assert path in names or path in prefixes, f"{name}: alias {alias} -> {path}"
        assert alias not in names, f"{name}: alias {alias} shadows a row"

"""Blocks and stages as answers: `table --depth N` subtotals, `explain NET SCOPE`, `archcalc
blocks`, one block analysed at an input. Numbers checked against hand derivations and against
torchvision's own submodules (parameter counts of `model.layer2`, `features.denseblock3`)."""

from pathlib import Path

import pytest

from archcalc.analysis import analyze, find_scope, scopes
from archcalc.cli import main


def test_scope_subtotals_are_sums_of_their_rows():
    report = analyze("resnet50")
    top = [s for s in scopes(report.rows, 1)]
    assert sum(s.params for s in top) == report.totals.params
    assert sum(s.macs for s in top) == report.totals.macs
    assert sum(s.stored_activations for s in top) == report.totals.activations


def test_resnet50_layer2_by_hand():
    # layer2 of torchvision's ResNet-50 (planes 128, width 128, out 512), by hand:
    #   block 0: 1x1 256->128 (32,768) + BN 256 + 3x3 128->128 (147,456) + BN 256
    #            + 1x1 128->512 (65,536) + BN 1,024 + downsample 1x1/2 256->512 (131,072) + BN 1,024
    #          = 379,392
    #   blocks 1-3: 1x1 512->128 (65,536) + 256 + 147,456 + 256 + 65,536 + 1,024 = 280,064 each
    scope = find_scope(analyze("resnet50"), "layer2")
    assert scope is not None and scope.output == (512, 28, 28)
    assert scope.params == 379_392 + 3 * 280_064 == 1_219_584
    # MACs, block 0: 56²·128·256 (conv1, stride on the 3x3) + 28²·128·128·9 + 28²·512·128 + 28²·512·256
    block0 = 56 * 56 * 128 * 256 + 28 * 28 * 128 * 128 * 9 + 28 * 28 * 512 * 128 + 28 * 28 * 512 * 256
    rest = 28 * 28 * (128 * 512 + 128 * 128 * 9 + 512 * 128)
    assert scope.macs == block0 + 3 * rest


@pytest.mark.parametrize(("net", "scope", "module"), [
    ("resnet50", "layer2", "layer2"),
    ("resnet50", "layer4.0", "layer4.0"),
    ("densenet121", "denseblock3", "features.denseblock3"),
    ("densenet121", "transition2", "features.transition2"),
])
def test_scope_params_match_torchvision_submodule(net, scope, module):
    pytest.importorskip("torch")
    import torchvision

    model = getattr(torchvision.models, net)()
    sub = model.get_submodule(module)
    found = find_scope(analyze(net), scope)
    assert found is not None
    assert found.params == sum(p.numel() for p in sub.parameters())


def test_table_depth_groups_rows(capsys):
    assert main(["table", "resnet50", "--depth", "1"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("layer2 "))
    assert "scope" in line and "28x28x512" in line and "1.220M" in line
    assert "layer2.0" not in out  # folded into layer2
    assert main(["table", "resnet50", "--depth", "2"]) == 0
    assert "└─layer2.0" in capsys.readouterr().out


def test_table_depth_as_records(capsys):
    import csv
    import io
    import json

    assert main(["table", "resnet50", "--depth", "1", "--format", "csv"]) == 0
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert int(rows["layer2"]["params"]) == 1_219_584 and rows["layer2"]["alias"] == "conv3_x"
    assert main(["table", "resnet50", "--depth", "2", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert sum(s["params"] for s in data["scopes"] if s["depth"] == 1) == 25_557_032  # torchvision's count
    assert main(["table", "resnet50", "--depth", "0"]) == 2
    assert "--depth" in capsys.readouterr().err


def test_explain_scope_lists_parts(capsys):
    assert main(["explain", "resnet50", "layer2"]) == 0
    out = capsys.readouterr().out
    assert "379,392 (layer2.0) + 280,064 (layer2.1) + 280,064 (layer2.2) + 280,064 (layer2.3) = 1,219,584" in out
    assert "input          56x56x256 (from layer1.2.relu3)" in out
    assert main(["explain", "densenet121", "denseblock3"]) == 0
    out = capsys.readouterr().out
    assert "features.denseblock3" in out and "14x14x1024" in out


def test_unknown_scope_suggests(capsys):
    assert main(["explain", "resnet50", "layr2"]) == 2
    assert "did you mean layer2" in capsys.readouterr().err


def test_every_block_has_a_description():
    from archcalc.blocks import visible_blocks

    blocks = visible_blocks()
    assert len(blocks) > 50
    assert [b.name for b in blocks if not b.description] == []


def test_blocks_command_lists_parameters(capsys):
    assert main(["blocks", "resnet"]) == 0
    out = capsys.readouterr().out
    assert "bottleneck" in out and "(planes, stride=1, downsample=false" in out
    assert main(["blocks", "resnt"]) == 2
    assert "did you mean 'resnet'" in capsys.readouterr().err


def test_one_bottleneck_at_56x56x256():
    # the course's bottleneck on 56x56x256 (planes 64): 1x1 256->64, 3x3 64->64, 1x1 64->256, no bias,
    # BN after each: 256·64 + 9·64·64 + 64·256 = 69,632 weights + 2·(64 + 64 + 256) = 768 BN params;
    # MACs 56²·(16,384 + 36,864 + 16,384) = 218,365,952
    report = analyze("resnet:bottleneck", input="56x56x256", params={"planes": "64"})
    assert report.totals.params == 69_632 + 768 == 70_400
    assert report.totals.macs == 56 * 56 * (16_384 + 36_864 + 16_384) == 218_365_952
    assert report.rows[-1].output == (256, 56, 56)


def test_block_of_a_shared_file(capsys):
    # a file of blocks only (no networks) can still be analysed block by block
    shared = Path(__file__).resolve().parent.parent / "specs" / "_resnet_blocks.yaml"
    assert main(["table", f"{shared}:bottleneck", "--param", "planes=64", "--input", "56x56x256"]) == 0
    assert "70,400" in capsys.readouterr().out


def test_one_block_matches_torchvision_bottleneck():
    pytest.importorskip("torch")
    from torchvision.models.resnet import Bottleneck

    from archcalc.spec import build, find

    torch_block = Bottleneck(256, 64)
    graph = build(find("resnext50_32x4d:bottleneck"), input="56x56x256", params={"planes": "64"})
    resnext_block = Bottleneck(256, 64, groups=32, base_width=4)
    assert sum(n.cost.params for n in graph.nodes) == sum(p.numel() for p in resnext_block.parameters())
    assert analyze("resnet:bottleneck", input="56x56x256", params={"planes": "64"}).totals.params == \
        sum(p.numel() for p in torch_block.parameters())


def test_a_block_reading_a_tensor_parameter_takes_the_input():
    """DenseNet's dense block reads its input through a tensor parameter (x0): analysed alone, x0
    is the input. Its figures equal torchvision's _DenseBlock of 6 layers on 56x56x64."""
    pytest.importorskip("torch")
    import torch
    from torchvision.models.densenet import _DenseBlock

    reference = _DenseBlock(num_layers=6, num_input_features=64, bn_size=4, growth_rate=32, drop_rate=0)
    report = analyze("densenet:dense_block", input="56x56x64", params={"n": "6"})
    assert report.totals.params == sum(p.numel() for p in reference.parameters()) == 335_040
    assert report.rows[-1].output == tuple(reference(torch.zeros(1, 64, 56, 56)).shape[1:]) == (256, 56, 56)


@pytest.mark.parametrize(("argv", "message"), [
    (["table", "resnet:bottleneck", "--input", "56x56x256"], "needs parameter 'planes': --param planes=VALUE"),
    (["table", "resnet:bottleneck", "--param", "planes=64"], "needs an input volume: --input"),
    (["table", "resnet:botleneck", "--input", "56x56x256"], "did you mean 'bottleneck'"),
])
def test_one_block_errors(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err

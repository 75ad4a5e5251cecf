"""from_torch: any nn.Module -> the same Report as a spec. Exact against torchvision for every
torchvision-named network of the zoo, and on functional code written by hand."""

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from archcalc.spec import zoo  # noqa: E402
from archcalc.torch.importer import from_torch  # noqa: E402
from archcalc.torch.reference import measure, reference_model  # noqa: E402
from tests.ledger import assert_ledger  # noqa: E402

pytestmark = pytest.mark.torch
ZOO = zoo()
TORCHVISION = sorted(n for n, net in ZOO.items() if net.meta.get("torchvision"))


@pytest.mark.parametrize("name", TORCHVISION)
def test_torchvision_models_exact(name):
    from archcalc.spec import build

    model = reference_model(ZOO[name].meta["torchvision"])  # meta device: no memory, no arithmetic
    shape = build(ZOO[name]).input_shape
    report = from_torch(model, shape, name=name)
    measured = measure(model, shape)
    assert (report.totals.params, report.totals.macs) == (measured.params, measured.macs)
    assert report.meta["unsupported"] == {}
    assert_ledger(model, report)


class Functional(nn.Module):
    """Everything written as functional code: grouped, depthwise, dilated and strided convs,
    ceil_mode pooling, a residual add, concatenation, SE gating, chunk and a channel shuffle."""

    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(torch.zeros(16, 3, 3, 3))  # 3x3 stride 2 pad 1
        self.w2 = nn.Parameter(torch.zeros(16, 4, 3, 3))  # groups 4, dilation 2, pad 2
        self.w3 = nn.Parameter(torch.zeros(16, 1, 3, 3))  # depthwise
        self.se1 = nn.Parameter(torch.zeros(4, 16, 1, 1))
        self.se2 = nn.Parameter(torch.zeros(16, 4, 1, 1))
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(F.conv2d(x, self.w1, stride=2, padding=1))  # 3x33x33 -> 16x17x17
        y = F.conv2d(x, self.w2, padding=2, dilation=2, groups=4)  # 16x17x17
        x = x + y  # residual add
        s = x.mean((2, 3), keepdim=True)  # SE squeeze
        s = torch.sigmoid(F.conv2d(F.relu(F.conv2d(s, self.se1)), self.se2))
        x = x * s  # SE scale
        x = F.max_pool2d(x, 2, 2, ceil_mode=True)  # 17 -> 9 (ceil)
        a, b = x.chunk(2, dim=1)
        x = torch.cat([a, b, F.conv2d(x, self.w3, padding=1, groups=16)], dim=1)  # 8 + 8 + 16 = 32
        n, c, h, w = x.size()
        x = x.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, c, h, w)  # shuffle
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def test_functional_code_hand_counts():
    r = from_torch(Functional(), (3, 33, 33))
    assert_ledger(Functional(), r)
    macs = (
        17 * 17 * 16 * 3 * 3 * 3  # strided conv
        + 17 * 17 * 16 * 4 * 3 * 3  # grouped dilated conv: 4 input channels per group
        + 4 * 16 + 16 * 4  # SE 1x1 convs on 1x1 maps
        + 9 * 9 * 16 * 1 * 3 * 3  # depthwise conv
        + 32 * 10  # fc
    )
    assert r.totals.macs == macs
    assert r.totals.params == 16 * 27 + 16 * 36 + 16 * 9 + 64 + 64 + 330
    types = [row.type for row in r.rows]
    for kind in ("conv", "add", "mean", "mul", "maxpool", "chunk", "concat", "reshape", "transpose", "contiguous", "adaptive_avgpool", "flatten", "linear"):
        assert kind in types, kind
    assert r.row("max_pool2d").output == (16, 9, 9)
    assert r.rows[-1].output == (10,)
    assert r.meta["unsupported"] == {}
    model = Functional()
    measured = measure(model, (3, 33, 33), device="cpu")
    assert measured.macs == macs


class Unknown(nn.Module):
    def __init__(self):
        super().__init__()
        self.circular = nn.Conv2d(3, 8, 3, padding=1, padding_mode="circular")  # no formula for wrap-around padding

    def forward(self, x):
        return torch.cumsum(self.circular(x), 2).flatten(1)


def test_unknown_ops_are_listed_not_zeroed(capsys):
    r = from_torch(Unknown(), (3, 10, 10))
    assert_ledger(Unknown(), r)
    assert r.meta["unsupported"] == {"Conv2d": 1, "cumsum": 1}
    assert r.row("cumsum").output == (8, 10, 10) and r.row("cumsum").type == "op"
    assert r.row("circular").params == 8 * 3 * 3 * 3 + 8  # an op without a formula still owns its parameters
    assert r.totals.params == 8 * 27 + 8
    from archcalc.report import render

    text = render(r)
    assert "not counted" in text and "cumsum" in text


def test_model_is_left_untouched():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU()).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    from_torch(model, (3, 8, 8))
    assert model.training
    after = model.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)


def test_cli_python_references(capsys, tmp_path, cli_json):
    from archcalc.cli import main

    data = cli_json(["table", "torchvision.models:resnet18"])
    assert data["totals"]["params"] == 11_689_512 and data["totals"]["macs"] == 1_814_073_344
    own = tmp_path / "mine.py"
    own.write_text("from torch import nn\ndef build():\n    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 30 * 30, 2))\n")
    assert main(["table", f"{own}:build", "--input", "32x32x3", "--format", "csv"]) == 0
    assert "conv" in capsys.readouterr().out
    assert main(["check", f"{own}:build", "--input", "32x32x3"]) == 0
    assert "exact match" in capsys.readouterr().out
    assert main(["table", "no_such_module:fn"]) == 2
    assert "cannot load 'no_such_module:fn'" in capsys.readouterr().err


class ShapeBranch(nn.Module):
    """Python control flow on a shape: torch.fx cannot trace it, torch.export can."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        if x.shape[-1] > 16:
            x = F.max_pool2d(x, 2)
        x = torch.relu(self.bn(self.c(x)))
        a, b = x.chunk(2, 1)
        x = torch.cat([b, a], 1) + x
        return self.fc(x.mean((2, 3)))


def test_torch_export_fallback():
    r = from_torch(ShapeBranch(), (3, 32, 32))
    assert_ledger(ShapeBranch(), r)
    assert r.meta["traced_with"] == "torch.export"
    assert r.totals.macs == 14 * 14 * 8 * 3 * 3 * 3 + 8 * 4  # 32 -> pool 16 -> conv 14
    assert r.totals.params == 8 * 27 + 8 + 16 + 36
    assert [row.name for row in r.rows if row.type in ("conv", "batchnorm", "linear")] == ["c", "bn", "fc"]
    small = from_torch(ShapeBranch(), (3, 12, 12))  # the other branch: no pool
    assert small.totals.macs == 10 * 10 * 8 * 27 + 32


def test_cli_shorthands(capsys):
    """torchvision:NAME and timm:NAME build the model with random weights on the meta device."""
    import json

    from archcalc.cli import main

    assert main(["table", "torchvision:resnet18", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["params"] == 11_689_512  # torchvision's num_params
    assert main(["table", "timm:no_such_model"]) == 2
    assert "timm has no model 'no_such_model'" in capsys.readouterr().err

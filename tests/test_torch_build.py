"""to_torch and `archcalc check`: every spec becomes a runnable model whose measured numbers
equal the analytical ones, layer by layer."""

import pytest

torch = pytest.importorskip("torch")

from archcalc.cli import main  # noqa: E402
from archcalc.layers import REGISTRY  # noqa: E402
from archcalc.spec import build, zoo  # noqa: E402
from archcalc.torch.build import BUILDERS, to_torch  # noqa: E402
from archcalc.torch.check import check  # noqa: E402

pytestmark = pytest.mark.torch
ZOO = zoo()


def test_every_layer_type_has_a_builder():
    assert set(BUILDERS) == set(REGISTRY)


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_spec_builds_and_checks_layer_by_layer(name):
    result = check(build(ZOO[name]), use_fvcore=False, use_reference=False)
    assert [f"{l.name}: {l}" for l in result.mismatches] == []
    assert all(l.shape[1] is not None for l in result.layers if l.macs[1] is not None)


@pytest.mark.parametrize("name", ["alexnet_lecture", "mobilenet_v3_small", "shufflenet_v2_x0_5"])
def test_fvcore_by_module(name):
    result = check(build(ZOO[name]), use_fvcore=True, use_reference=False)
    assert result.fvcore_used and result.ok, [l for l in result.mismatches]


def test_real_forward_runs():
    model = to_torch("resnet18").eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 1000) and torch.isfinite(out).all()


def test_check_cli(cli_json):
    data = cli_json(["check", "alexnet"])
    assert data["ok"] is True and data["reference"] == "alexnet"
    conv1 = data["layers"][0]
    assert conv1["params"] == [64 * 3 * 11 * 11 + 64] * 2  # archcalc and torch; by hand: 23,296


def test_top_level_names():
    import archcalc

    report = archcalc.from_torch(archcalc.to_torch("alexnet"), (3, 224, 224))
    assert report.totals.params == 61_100_840 and report.totals.macs == 714_188_480

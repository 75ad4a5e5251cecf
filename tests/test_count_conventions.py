"""--count fvcore and --count torch reproduce fvcore's FlopCountAnalysis and PyTorch's
FlopCounterMode exactly, on real torchvision models (CPU, batch 1)."""

import warnings

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("fvcore")

from archcalc import analyze  # noqa: E402

pytestmark = pytest.mark.torch

# small but covering: BN (affine), adaptive average pooling (incl. 7->7 identity), LRN-free
# plain convs, grouped/depthwise convs, residual adds, concatenation
NETS = ["alexnet", "squeezenet1_1", "vgg11_bn", "mnasnet0_5", "densenet121", "googlenet"]


@pytest.mark.parametrize("name", NETS)
def test_fvcore_and_flop_counter_match(name):
    import torchvision
    from fvcore.nn import FlopCountAnalysis
    from torch.utils.flop_counter import FlopCounterMode

    from archcalc.spec import zoo

    if name not in zoo():
        pytest.skip(f"{name} not in the zoo yet")
    model = torchvision.models.get_model(name, weights=None).eval()
    x = torch.zeros(1, 3, 224, 224)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        fv = analysis.total()
        with FlopCounterMode(display=False) as counter:
            model(x)
    assert analyze(name, count="fvcore").totals.ops == fv
    assert analyze(name, count="torch").totals.ops == counter.get_total_flops()


def test_params_split_weights_biases_normalisation():
    # ResNeXt-50 32x4d bottleneck on 56x56x256 (planes 64, width 128), by hand:
    #   conv weights 256·128 + 128·(128/32)·3·3 + 128·256 = 32,768 + 4,608 + 32,768 = 70,144
    #   BN γ, β: 2·(128 + 128 + 256) = 1,024; no biases
    import archcalc

    t = archcalc.analyze("resnext50_32x4d:bottleneck", input="56x56x256", params={"planes": "64"}).totals
    assert (t.weights, t.biases, t.norm_params) == (70_144, 0, 1_024)
    assert t.params == t.weights + t.biases + t.norm_params

"""Cross-check every spec that names a reference model against the instantiated model:
exact parameter count, exact FlopCounterMode MACs, and every conv/linear/BN/pool leaf's output
shape. Needs the torch extra (pip install 'archcalc[torch]')."""

import pytest

pytest.importorskip("torch")
pytest.importorskip("torchvision")

from archcalc.spec import build, zoo  # noqa: E402
from archcalc.torch.reference import compare, measure, reference_model, reference_of  # noqa: E402

ZOO = zoo()
WITH_REFERENCE = sorted(name for name, net in ZOO.items() if reference_of(net.meta))

pytestmark = pytest.mark.torch


def test_torchvision_names_carry_torchvision_field():
    import torchvision

    tv = set(torchvision.models.list_models(module=torchvision.models))
    for name, net in ZOO.items():
        if name in tv:
            assert net.meta.get("torchvision") == name, f"{name} is a torchvision name: it must reproduce it"


@pytest.mark.parametrize("name", WITH_REFERENCE)
def test_matches_reference_model(name):
    net = ZOO[name]
    graph = build(net)
    measured = measure(reference_model(reference_of(net.meta)), graph.input_shape)
    assert compare(graph, measured) == []


@pytest.mark.parametrize("name", sorted(n for n in WITH_REFERENCE if ZOO[n].meta.get("torchvision")))
def test_torchvision_weights_metadata(name):
    """torchvision's own stored figures agree: num_params exactly, _ops (GMACs) to its 3 decimals."""
    from torchvision.models import get_model_weights

    from archcalc import analyze

    try:
        weights = get_model_weights(ZOO[name].meta["torchvision"]).DEFAULT
    except (ValueError, AttributeError):
        pytest.skip("torchvision has no weights entry for this builder")
    t = analyze(name).totals
    # the specs describe the models as their weights load them: googlenet without the aux heads
    # its loader removes, inception_v3 with the AuxLogits it keeps (built, not run at inference)
    assert weights.meta["num_params"] == t.params
    assert round(t.macs / 1e9, 3) == pytest.approx(weights.meta["_ops"], abs=0.0011)


def test_googlenet_aux_parameter_reproduces_weights_none():
    """`aux: true` adds both InceptionAux heads: then the spec is get_model('googlenet',
    weights=None) exactly (13,004,888 params), the heads do not run (same MACs), and the
    parameters used at inference are the weights metadata's 6,624,904."""
    from torchvision.models import GoogLeNet_Weights

    net = ZOO["googlenet"]
    with_aux = build(net, params={"aux": True})
    measured = measure(reference_model("googlenet"), with_aux.input_shape)
    assert compare(with_aux, measured) == []
    assert measured.params == 13_004_888
    from archcalc import analyze

    t = analyze(with_aux).totals
    assert t.inference_params == GoogLeNet_Weights.DEFAULT.meta["num_params"] == analyze("googlenet").totals.params
    assert t.macs == analyze("googlenet").totals.macs

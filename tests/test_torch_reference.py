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
    report = analyze(name)
    t = report.totals
    # torchvision's metadata describes the model as loaded with those weights: GoogLeNet's
    # loader drops the auxiliary heads that get_model(weights=None) builds (inception_v3 keeps them).
    without_aux = sum(r.params for r in report.rows if r.executed)
    assert weights.meta["num_params"] in (t.params, without_aux)
    assert round(t.macs / 1e9, 3) == pytest.approx(weights.meta["_ops"], abs=0.0011)

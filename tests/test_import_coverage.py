"""The coverage sweep's representative subset (benchmarks/import_coverage.py --subset): ConvNeXt,
ViT, Swin, MaxViT, EfficientNet, RegNet and timm's BatchNormAct, attention and MetaFormer models,
built on the meta device. Parameters and buffers exact (the ledger), MACs equal to FlopCounterMode/2."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("timm")

pytestmark = pytest.mark.torch

_spec = importlib.util.spec_from_file_location("import_coverage", Path(__file__).parent.parent / "benchmarks" / "import_coverage.py")
coverage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(coverage)


@pytest.mark.parametrize("ref", coverage.SUBSET)
def test_subset_exact(ref):
    r = coverage.measure_one(ref)
    assert (r["params"], r["buffers"]) == (r["ref_params"], r["ref_buffers"])
    assert r["macs"] == r["ref_macs"], r["unsupported"]

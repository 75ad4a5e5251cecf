"""reports/ is what `archcalc report` would write now: the tables and the plotted data (not the
image bytes), and an image for every figure."""

from pathlib import Path

import pytest

from archcalc.cli import main
from archcalc.publish import generate
from archcalc.spec import zoo

REPORTS = Path(__file__).resolve().parent.parent / "reports"


@pytest.fixture(scope="module")
def generated():
    return generate(REPORTS)


def test_committed_reports_are_current(generated):
    files, figures = generated
    stale = [name for name, text in files.items()
             if not (REPORTS / name).exists() or (REPORTS / name).read_text(encoding="utf-8") != text]
    assert not stale, f"run `archcalc report` and commit: {stale} differ"
    missing = [stem for stem in figures if not (REPORTS / f"{stem}.png").exists()]
    assert not missing, missing


def test_zoo_table_lists_every_network(generated):
    files, _ = generated
    rows = {line.split("|")[1].strip() for line in files["zoo.md"].splitlines() if line.startswith("| ")}
    assert set(zoo()) <= rows
    # VGG-16: 138,357,544 params (torchvision num_params), 15,470,264,320 MACs, ImageNet 71.6 (V1)
    vgg16 = next(line for line in files["zoo.md"].splitlines() if line.startswith("| vgg16 |"))
    assert "| 138,357,544 | 15,470,264,320 |" in vgg16 and "| 71.6 |" in vgg16


def test_report_writes_a_directory(tmp_path, capsys, monkeypatch):
    import archcalc.publish

    monkeypatch.setattr(archcalc.publish, "FIGURES", {"layers_vgg16": archcalc.publish.FIGURES["layers_vgg16"]})
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "small.json").write_text((Path(__file__).parent / "data" / "bench_small.json").read_text())
    assert main(["report", "--out", str(tmp_path), "--image-format", "svg"]) == 0
    assert (tmp_path / "bench" / "small.md").read_text().startswith("# Benchmark: NVIDIA H200")
    assert (tmp_path / "bench" / "small.svg").stat().st_size > 5000 and (tmp_path / "layers_vgg16.svg").exists()
    assert (tmp_path / "zoo.md").exists() and (tmp_path / "figures.json").exists()
    assert "wrote" in capsys.readouterr().out


def test_zoo_table_shows_training_memory_once_the_engine_has_it(generated):
    from archcalc.analysis import Totals

    header = next(line for line in generated[0]["zoo.md"].splitlines() if line.startswith("| network |"))
    assert ("training peak MiB" in header) == ("train_peak_bytes" in Totals.__dataclass_fields__)

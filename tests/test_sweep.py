"""`archcalc sweep`: published scaling tables reproduced to the paper's rounding; formats agree;
bad sweeps are one-line errors."""

import csv
import io
import json

import pytest

from archcalc.cli import main
from archcalc.sweep import render_sweep, sweep

# Howard et al. 2017, "MobileNets", arXiv:1704.04861v1. Table 6 (width multiplier, 224x224) and
# Table 7 (resolution, 1.0 MobileNet): Million Mult-Adds and Million Parameters as printed.
TABLE6 = {"1.0": (569, 4.2), "0.75": (325, 2.6), "0.5": (149, 1.3), "0.25": (41, 0.5)}
TABLE7 = {224: (569, 4.2), 192: (418, 4.2), 160: (290, 4.2), 128: (186, 4.2)}


def _check_paper(macs: int, params: int, paper: tuple[int, float]) -> None:
    paper_macs, paper_params = paper
    # The paper prints whole millions: 568.7 -> 569 and 325.4 -> 325 are rounded, 290.7 -> 290 is
    # truncated (Table 7), so the exact count lies within one unit of the printed figure.
    assert abs(macs / 1e6 - paper_macs) < 1, (macs, paper_macs)
    assert round(params / 1e6, 1) == paper_params, (params, paper_params)


def test_mobilenet_v1_width_multiplier_table6():
    result = sweep("mobilenet_v1", {"alpha": list(TABLE6)})
    assert [r.param["alpha"] for r in result.rows] == [1.0, 0.75, 0.5, 0.25]
    for row in result.rows:
        _check_paper(row.totals.macs, row.totals.params, TABLE6[str(row.param["alpha"])])


def test_mobilenet_v1_resolution_table7_by_input_and_by_parameter():
    by_input = sweep("mobilenet_v1", inputs=[f"{r}x{r}x3" for r in TABLE7])
    by_param = sweep("mobilenet_v1", {"resolution": [str(r) for r in TABLE7]})
    for a, b, (resolution, paper) in zip(by_input.rows, by_param.rows, TABLE7.items()):
        assert a.input == b.input == (3, resolution, resolution)
        _check_paper(a.totals.macs, a.totals.params, paper)
        assert a.totals == b.totals


def test_cartesian_product_and_batch_scaling():
    result = sweep("mobilenet_v1", {"alpha": ["0.5", "1"]}, inputs=["128x128x3", "160x160x3"], batches=[1, 4])
    assert len(result.rows) == 2 * 2 * 2
    one, four = result.rows[0], result.rows[1]
    assert (one.batch, four.batch) == (1, 4) and one.param == four.param and one.input == four.input
    # a batch of 4 is 4 images: 4x the multiply-adds and activations, the same parameters
    assert four.totals.macs == 4 * one.totals.macs and four.totals.activations == 4 * one.totals.activations
    assert four.totals.params == one.totals.params


def test_json_and_csv_carry_the_same_rows(capsys):
    assert main(["sweep", "mobilenet_v1", "--param", "alpha=0.25,1.0", "--batch", "1,2", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"name", "rows"} and data["name"] == "mobilenet_v1"
    assert [set(r) for r in data["rows"]] == [{"param", "input", "batch", "totals"}] * 4
    assert data["rows"][0]["param"] == {"alpha": 0.25} and data["rows"][0]["input"] == [3, 224, 224]
    assert main(["sweep", "mobilenet_v1", "--param", "alpha=0.25,1.0", "--batch", "1,2", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [int(r["macs"]) for r in rows] == [r["totals"]["macs"] for r in data["rows"]]
    assert [r["input"] for r in rows] == ["224x224x3"] * 4


def test_text_and_markdown_tables():
    result = sweep("mobilenet_v1", {"alpha": ["0.25"]})
    assert "41.03M" in render_sweep(result, "text")  # 41,030,272 MACs at alpha 0.25
    assert "41,030,272" in render_sweep(result, "markdown")


@pytest.mark.parametrize("argv, words", [
    (["--param", "alpha="], ["--param alpha", "no values"]),
    (["--param", "alpha=,"], ["--param alpha", "no values"]),
    (["--input", ""], ["--input", "no values"]),
    (["--batch", "0,1"], ["--batch", "'0'"]),
    ([], ["nothing to sweep"]),
    (["--param", "alph=1"], ["alph", "did you mean 'alpha'"]),
])
def test_bad_sweeps_are_one_line_errors(argv, words, capsys):
    assert main(["sweep", "mobilenet_v1", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("archcalc: error:") and "\n" not in err
    for word in words:
        assert word in err


def test_unknown_network(capsys):
    assert main(["sweep", "mobilenet_v11", "--batch", "1"]) == 2
    assert "did you mean 'mobilenet_v1'" in capsys.readouterr().err

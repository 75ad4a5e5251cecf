"""The printed outputs: golden tables (regenerate with `pytest --update-golden`), the JSON
contract, CSV, and the console entry points."""

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from archcalc.cli import main

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_CASES = [
    ("vgg16.txt", ["table", "vgg16"]),
    ("alexnet_lecture.md", ["table", "alexnet_lecture", "--format", "markdown"]),
    ("inception_naive_all_rows.txt", ["table", "inception_naive", "--all-rows", "--count", "torch"]),
]


@pytest.mark.parametrize("filename, argv", GOLDEN_CASES)
def test_golden_tables(filename, argv, capsys, update_golden):
    assert main(argv) == 0
    out = capsys.readouterr().out
    path = GOLDEN / filename
    if update_golden:
        path.write_text(out)
    assert out == path.read_text(), f"output changed; if intended, run pytest --update-golden and review {path}"


def test_text_totals_line_is_sum_of_printed_rows(capsys):
    main(["table", "vgg16", "--format", "markdown", "--all-rows"])
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("| ")][1:]
    cells = [[c.strip() for c in l.strip("|").split("|")] for l in lines]
    body, total = cells[:-1], cells[-1]
    num = lambda s: int(s.replace(",", "")) if s and s != "in-place" else 0  # noqa: E731
    for col in (4, 5, 6):  # memory, params, MACs
        assert sum(num(r[col]) for r in body) == num(total[col])


JSON_LAYER_KEYS = {"name", "type", "output", "params", "biases", "macs", "activations", "receptive_field"}
JSON_TOTAL_KEYS = {"params", "biases", "macs", "activations", "activation_bytes", "param_bytes", "peak_activation_bytes"}


def test_json_contract(cli_json):
    data = cli_json(["table", "alexnet_lecture", "--batch", "2", "--dtype", "float16"])
    assert data["name"] == "alexnet_lecture" and data["input"] == [3, 227, 227]
    assert data["batch"] == 2 and data["dtype"] == "float16"
    assert all(JSON_LAYER_KEYS <= set(layer) for layer in data["layers"])
    assert JSON_TOTAL_KEYS <= set(data["totals"])
    conv1 = next(l for l in data["layers"] if l["name"] == "conv1")
    assert conv1["output"] == [96, 55, 55] and conv1["type"] == "conv"
    assert data["layers"][-1]["name"] == "fc8" and data["layers"][-1]["output"] == [1000]
    assert data["totals"]["macs"] == 2 * 1_135_256_096
    assert data["totals"]["param_bytes"] == 62_378_344 * 2


def test_every_command_with_json_output_has_a_schema():
    from tests.conftest import JSON_SCHEMA_OF

    from archcalc.cli import parser

    commands = parser()._subparsers._group_actions[0].choices
    with_json = {name for name, p in commands.items()
                 if any(a.dest == "format" and "json" in (a.choices or ()) for a in p._actions)}
    assert with_json == set(JSON_SCHEMA_OF)


@pytest.mark.parametrize("argv", [
    ["table", "googlenet"],                      # training-only rows: executed false
    ["table", "vgg16", "--count", "fvcore", "--batch", "4"],
    ["compare", "alexnet", "googlenet", "resnet50"],
    ["lecture"],
    ["layer", "CONV1: 96 11x11 filters at stride 4, pad 0", "--input", "227x227x3"],
])
def test_json_outputs_follow_the_schema(cli_json, argv):
    cli_json(argv)


def test_receptive_fields_are_numbers(cli_json):
    # a 3x5 kernel: the field is 3 tall and 5 wide (pairs where H and W differ); a 3x3 conv after
    # it adds 2 each way: [5, 7]; every jump is 1
    data = cli_json(["layer", "CONV: 8 3x5 filters\nCONV3-8", "--input", "32x32x3"])
    assert [(r["receptive_field"], r["rf_jump"]) for r in data["layers"] if r["type"] == "conv"] == [([3, 5], 1), ([5, 7], 1)]
    data = cli_json(["table", "vgg16"])
    assert data["layers"][1]["receptive_field"] == 3 and data["layers"][1]["rf_jump"] == 1


def test_schema_rejects_numbers_as_strings(cli_json):
    from tests.conftest import json_validator

    data = cli_json(["table", "vgg16"])
    data["layers"][1]["receptive_field"] = "3"
    data["totals"]["macs"] = "15470264320"
    bad = {tuple(e.absolute_path)[-1] for e in json_validator("report").iter_errors(data)}
    assert {"receptive_field", "macs"} <= bad


def test_csv_has_every_row(capsys):
    assert main(["table", "vgg16", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 41 and rows[0]["name"] == "input"
    assert sum(int(r["params"]) for r in rows) == 138_357_544


def test_list_and_layers(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "vgg16 " in out and "alexnet_lecture" in out
    assert main(["layers"]) == 0
    assert "conv" in capsys.readouterr().out


def test_python_dash_m_and_broken_pipe():
    out = subprocess.run([sys.executable, "-m", "archcalc", "table", "vgg16"], capture_output=True, text=True)
    assert out.returncode == 0 and "15,470,264,320" in out.stdout
    proc = subprocess.run(f"{sys.executable} -m archcalc table vgg16 --all-rows | head -1", shell=True, capture_output=True, text=True)
    assert "Traceback" not in proc.stderr


def test_compare(capsys):
    assert main(["compare", "alexnet", "vgg16", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["network"] for r in rows] == ["alexnet", "vgg16"]
    vgg = rows[1]
    assert int(vgg["params"]) == 138_357_544 and int(vgg["MACs"]) == 15_470_264_320
    assert int(vgg["depth"]) == 16 and vgg["top-1 %"] == "71.6"  # torchvision's 71.592
    assert "torchvision" in vgg["accuracy source"]

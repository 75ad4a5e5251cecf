"""Multi-input cells (NASNet-style): `from:`, merge `inputs:` and "@path" block parameters."""

import textwrap

import pytest

from archcalc.errors import SpecError
from archcalc.spec import build, find

CELLS = textwrap.dedent("""
    name: cells
    input: 8x8x4
    blocks:
      cell:                          # reads the current tensor and an earlier one
        params: {prev: null, width: 4}
        layers:
          - conv: {name: left, out: width, kernel: 1}
          - conv: {name: right, from: prev, out: width, kernel: 1}
          - add: {name: sum, inputs: [left, right]}
    layers:
      - conv: {name: stem, out: 4, kernel: 3, padding: 1}
      - cell: {name: c0, prev: "@input"}
      - cell: {name: c1, prev: "@stem"}
      - repeat:
          name: more
          times: 2
          var: i
          layers: [cell: {prev: "@c{i}"}]
      - concat: {name: out, inputs: [c1, more.0, "@more.1"]}
""")


@pytest.fixture
def graph(tmp_path):
    path = tmp_path / "cells.yaml"
    path.write_text(CELLS)
    return build(find(str(path)))


def test_from_and_inputs_wire_the_graph(graph):
    by_name = {n.name: n for n in graph.nodes}
    assert by_name["c0.right"].inputs == (by_name["input"].index,)
    assert by_name["c1.right"].inputs == (by_name["stem"].index,)
    assert by_name["c1.left"].inputs == (by_name["c0.sum"].index,)
    assert by_name["c1.sum"].inputs == (by_name["c1.left"].index, by_name["c1.right"].index)
    # repeat iterations name their scopes more.0, more.1; "@c{i}" interpolates the index
    assert by_name["more.0.right"].inputs == (by_name["c0.sum"].index,)
    assert by_name["more.1.right"].inputs == (by_name["c1.sum"].index,)
    assert by_name["out"].shape == (12, 8, 8)


def test_liveness_keeps_referenced_tensors(graph):
    # Every tensor here is 4x8x8 = 256 values (the concat 768). Walking the schedule by hand:
    # the stem stays alive until c1.right reads it, c0.sum until more.0.right, c1.sum until the
    # final concat. Four live tensors (1024) at several steps; the peak is at the concat:
    # c1.sum + more.0.sum + more.1.sum + out (768) = 1536.
    assert graph.peak_live_values() == 3 * 256 + 768


def test_unknown_reference(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(CELLS.replace('prev: "@stem"', 'prev: "@stme"'))
    with pytest.raises(SpecError) as info:
        build(find(str(path)))
    assert "no earlier layer or scope 'stme'" in str(info.value) and "did you mean 'stem'" in str(info.value)
    assert info.value.layer == "c1"


def test_forward_reference_is_an_error(tmp_path):
    path = tmp_path / "fwd.yaml"
    path.write_text("name: f\ninput: 4x4x2\nlayers:\n  - relu: {from: later}\n  - conv: {name: later, out: 2, kernel: 1}\n")
    with pytest.raises(SpecError, match="no earlier layer or scope 'later'"):
        build(find(str(path)))


def test_merge_needs_exactly_one_of_branches_or_inputs(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("name: m\ninput: 4x4x2\nlayers:\n  - conv: {name: a, out: 2, kernel: 1}\n  - add: {inputs: [a, input], branches: [[], []]}\n")
    with pytest.raises(SpecError, match="give `branches:`"):
        build(find(str(path)))


def test_tensor_parameters_pass_through_nested_blocks(tmp_path):
    path = tmp_path / "nested.yaml"
    path.write_text(textwrap.dedent("""
        name: nested
        input: 8x8x4
        blocks:
          inner:
            params: {other: null}
            layers: [add: {name: sum, inputs: [input_of_cell, other]}]
          cell:
            params: {prev: null}
            layers:
              - identity: {name: input_of_cell}
              - inner: {other: "@prev"}
        layers:
          - conv: {name: stem, out: 4, kernel: 1}
          - cell: {name: c, prev: "@input"}
    """))
    g = build(find(str(path)))
    by_name = {n.name: n for n in g.nodes}
    assert by_name["c.sum"].inputs == (by_name["c.input_of_cell"].index, 0)


# DenseNet-style: every layer concatenates the stem and all earlier layers' outputs (a list whose
# length is the repeat index), iterations named in the enclosing scope, and a layer that holds a
# tensor it does not read (a Python local kept until it returns).
DENSE = textwrap.dedent("""
    name: dense
    input: 8x8x4
    layers:
      - conv: {name: stem, out: 4, kernel: 1}
      - sequential:
          name: block
          layers:
            - repeat:
                times: 3
                var: i
                names: "layer{i + 1}"
                layers:
                  - concat: {name: cat, inputs: [stem, {times: i, var: j, path: "layer{j + 1}"}]}
                  - batchnorm: {name: norm}
                  - conv: {name: conv, out: 2, kernel: 1, holds: cat}
            - concat: {name: out, inputs: [stem, {times: 3, var: j, path: "layer{j + 1}"}]}
""")


def test_inputs_of_variable_length_and_held_tensors(tmp_path):
    path = tmp_path / "dense.yaml"
    path.write_text(DENSE)
    g = build(find(str(path)))
    by_name = {n.name: n for n in g.nodes}
    stem = by_name["stem"].index
    # an unnamed repeat with `names:` names its iterations in the enclosing scope
    assert [n.name for n in g.nodes if n.name.startswith("block.layer1.")] == ["block.layer1.cat", "block.layer1.norm", "block.layer1.conv"]
    # times 0: the stem alone (torch.cat of a one-tensor list, a copy); then one more each layer
    assert by_name["block.layer1.cat"].inputs == (stem,) and by_name["block.layer1.cat"].shape == (4, 8, 8)
    assert by_name["block.layer3.cat"].inputs == (stem, by_name["block.layer1.conv"].index, by_name["block.layer2.conv"].index)
    assert by_name["block.out"].shape == (4 + 3 * 2, 8, 8)
    # the conv holds its concatenation (not an input: no shape, cost or gradient)
    conv = by_name["block.layer2.conv"]
    assert conv.inputs == (by_name["block.layer2.norm"].index,) and (by_name["block.layer2.cat"].index, conv.index) in g.holds
    # by hand, batch 1, float32, 64 values per channel: at block.layer3.conv the input (4 ch),
    # the stem (4), layer1 and layer2's outputs (2 + 2), the held concatenation (8), the norm's
    # output (8) and the conv's (2) are alive: 30 channels. Without `holds` the concatenation is
    # freed after the norm, and the peak is at block.layer3.norm: 4 + 4 + 2 + 2 + 8 + 8 = 28.
    assert g.eager_peak_bytes(4) == 30 * 64 * 4
    path.write_text(DENSE.replace(", holds: cat", ""))
    assert build(find(str(path))).eager_peak_bytes(4) == 28 * 64 * 4


@pytest.mark.parametrize("old,new,message", [
    ('{times: i, var: j, path: "layer{j + 1}"}', '{times: i, var: j, paths: "layer{j + 1}"}', "times: N, var: j, path: P"),
    ('{times: i, var: j, path: "layer{j + 1}"}', '{times: -1, path: "layer1"}', "times must be an integer"),
    ("inputs: [stem, {times: 3", "inputs: [{times: 0, path: stem}, {times: 0", "no layer paths"),
    ("holds: cat}", "holds: nothing}", "holds: no earlier layer or scope 'nothing'"),
])
def test_variable_inputs_and_holds_errors(tmp_path, old, new, message):
    path = tmp_path / "bad.yaml"
    assert old in DENSE
    path.write_text(DENSE.replace(old, new, 1))
    with pytest.raises(SpecError, match=message):
        build(find(str(path)))

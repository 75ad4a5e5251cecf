"""Block templates (archcalc/spec.py): a block applied again with the same arguments to tensors of
the same shapes is replayed from its first application instead of interpreted. Replays must be
indistinguishable from interpreting: these specs exercise the cases where a careless replay would
read the wrong tensor."""

from __future__ import annotations

import pytest

from archcalc import spec
from archcalc.analysis import summarize
from archcalc.spec import build, load_file

# `cell` reads its input and a tensor parameter `prev`. cell_0 and cell_1 get prev == their input
# (the same tensor), cell_2 and cell_3 a different tensor of the same shape: a replay of cell_0's
# template for cell_2 would add the input to itself.
TENSOR_PARAMS = """
blocks:
  cell:
    params: {prev: null}
    layers:
      - conv: {name: a, out: 8, kernel: 3, padding: 1}
      - add: {name: sum, inputs: [a, prev]}
networks:
  cells:
    input: 8x8x8
    layers:
      - conv: {name: stem, out: 8, kernel: 1}
      - cell: {name: cell_0, prev: "@stem"}
      - cell: {name: cell_1, prev: "@cell_0"}
      - cell: {name: cell_2, prev: "@cell_0"}
      - cell: {name: cell_3, prev: "@cell_1"}
      - cell: {name: cell_4, prev: "@cell_3"}
"""

# `tap` reads the layer `stem` by path, from outside itself. Its first application's input is
# stem itself; the second's is not: a template would wrongly map `stem` to the new input.
OUTSIDE_PATH = """
blocks:
  tap:
    layers:
      - conv: {name: a, out: 8, kernel: 3, padding: 1}
      - add: {name: sum, inputs: [a, "@stem"]}
networks:
  taps:
    input: 8x8x8
    layers:
      - conv: {name: stem, out: 8, kernel: 1}
      - tap: {name: t0}
      - tap: {name: t1}
      - tap: {name: t2}
"""

# `unit` holds a tensor it does not read (`holds:`): a replay must hold its own `a`, not the first's.
HELD = """
blocks:
  unit:
    layers:
      - conv: {name: a, out: 8, kernel: 1}
      - batchnorm: {name: bn}
      - conv: {name: b, out: 8, kernel: 1, holds: a}
networks:
  units:
    input: 8x8x8
    layers:
      - unit: {name: u0}
      - unit: {name: u1}
      - unit: {name: u2}
"""


def _signature(graph):
    return [(n.name, n.type, n.inputs, n.shape, n.cost, n.rf, n.storage, n.executed, n.output, n.held) for n in graph.nodes]


@pytest.mark.parametrize("text,name", [(TENSOR_PARAMS, "cells"), (OUTSIDE_PATH, "taps"), (HELD, "units")],
                         ids=["tensor-params", "outside-path", "held"])
def test_replay_reads_the_tensors_interpreting_reads(text, name, tmp_path, monkeypatch):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    replayed = build(load_file(path)[name])
    monkeypatch.setattr(spec._Builder, "_template_key", lambda self, *args: None)
    interpreted = build(load_file(path)[name])
    assert _signature(replayed) == _signature(interpreted)
    assert summarize(replayed).to_json() == summarize(interpreted).to_json()


def test_tensor_parameters_are_read_where_they_point(tmp_path):
    """Hand check of the cells spec: each cell's add reads its own conv and the tensor given as prev."""
    path = tmp_path / "cells.yaml"
    path.write_text(TENSOR_PARAMS)
    graph = build(load_file(path)["cells"])
    index = {n.name: n.index for n in graph.nodes}
    for cell, prev in [("cell_0", "stem"), ("cell_1", "cell_0.sum"), ("cell_2", "cell_0.sum"),
                       ("cell_3", "cell_1.sum"), ("cell_4", "cell_3.sum")]:
        add = graph.nodes[index[f"{cell}.sum"]]
        assert [graph.nodes[i].name for i in add.inputs] == [f"{cell}.a", prev]
    # five cells of one 3x3 conv 8->8 with bias, plus the 1x1 stem: (576 + 8) * 5 + 64 + 8
    assert summarize(graph).totals.params == 584 * 5 + 72


def test_repeated_blocks_are_replayed(tmp_path, monkeypatch):
    """The template is used: cell_3 and cell_4 repeat cell_2 (prev differs from the input, same shapes)."""
    path = tmp_path / "cells.yaml"
    path.write_text(TENSOR_PARAMS)
    replays = []
    real = spec._Builder._replay
    monkeypatch.setattr(spec._Builder, "_replay", lambda self, *a: replays.append(1) or real(self, *a))
    build(load_file(path)["cells"])
    assert len(replays) == 3  # cell_1 repeats cell_0 (prev is the input), cell_3 and cell_4 repeat cell_2


@pytest.mark.parametrize("name, first, then", [
    ("resnet50", {"input": "224x224x3"}, {"input": "160x160x3"}),
    ("nasnet_a_mobile", {}, {"params": {"penultimate_filters": 1056 * 2}}),
    ("mobilenet_v2", {"params": {"width_mult": 1}}, {"params": {"width_mult": 0.5}}),
    ("densenet121", {}, {"params": {"growth": 16}, "input": "128x128x3"}),
])
def test_templates_kept_between_compiles_follow_inputs_and_parameters(name, first, then):
    """A network compiled again with another input or other parameters gives what a fresh
    definition (no templates kept) gives: templates are keyed by shapes and parameters."""
    net = spec.find(name)
    for _ in range(3):  # the second compile records every block, the third replays them
        build(net, **first)
    fresh = spec.NetworkDef(net.name, net.file, net.layers, net.params, net.input, net.blocks, net.meta,
                            net.description, net.symbols)
    assert _signature(build(net, **then)) == _signature(build(fresh, **then))
    assert _signature(build(net, **first)) == _signature(build(fresh, **first))

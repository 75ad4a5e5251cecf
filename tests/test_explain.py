"""`archcalc explain`: the working comes from the engine's own formulas (traced), so every value
it shows equals the engine's, for every layer type; the lecture's examples read as expected."""

import pytest

from archcalc.cli import main
from archcalc.explain import Traced, explain, find_node
from archcalc.spec import build, find, zoo

def test_alexnet_conv1_working(capsys):
    assert main(["explain", "alexnet_lecture", "conv1"]) == 0
    out = capsys.readouterr().out
    # (227 - 11 + 2*0)/4 + 1 = 55, written as PyTorch computes it
    assert "⌊(227 + 2·0 − (11 − 1) − 1) / 4⌋ + 1 = 55" in out
    assert "96·3·11·11 + 96 = 34,944" in out  # (11*11*3)*96 + 96
    assert "55·55·(96·3·11·11) = 105,415,200" in out
    assert "96·55·55 = 290,400 values" in out
    assert "1 + (11 − 1)·1 = 11, stride 1·4 = 4" in out


def test_pool_and_ceil_mode_working():
    g = build(find("alexnet_lecture"))
    assert "⌊(55 + 2·0 − (3 − 1) − 1) / 2⌋ + 1 = 27" in "\n".join(explain(g, find_node(g, "pool1")))
    g = build(find("googlenet"))  # ceil_mode adds stride - 1 before the floor
    assert "⌊(112 + 2·0 − (3 − 1) − 1 + 2 − 1) / 2⌋ + 1 = 56" in "\n".join(explain(g, find_node(g, "maxpool1")))


@pytest.mark.parametrize("name", sorted(zoo()))
def test_every_layer_explains_with_the_engines_values(name):
    g = build(zoo()[name])
    for node in g.nodes:
        text = "\n".join(explain(g, node))
        if node.cost.params:
            assert f"{node.cost.params:,}" in text, node.name
        if node.cost.macs:
            assert f"= {node.cost.macs:,}" in text, node.name
        if not node.inplace and node.layer is not None:
            assert f"{node.activations:,} values" in text, node.name


def test_traced_arithmetic_matches_ints():
    a, b = Traced(227), Traced(11)
    assert (a - b + 2 * Traced(0)) // Traced(4) + 1 == 55
    assert ((a - b) // 4 + 1).text == "⌊(227 − 11) / 4⌋ + 1"
    assert (Traced(3) * Traced(3) * Traced(64)).value == 576


def test_unknown_layer_suggests(capsys):
    assert main(["explain", "alexnet_lecture", "conv9"]) == 2
    assert "no layer 'conv9'" in capsys.readouterr().err

"""Symbolic sizes: closed forms from the same formulas; sympy only when a symbol is present."""

import textwrap

import pytest

sympy = pytest.importorskip("sympy")

from archcalc.analysis import summarize  # noqa: E402
from archcalc.cli import main  # noqa: E402
from archcalc.errors import SpecError  # noqa: E402
from archcalc.notation import analyze_text  # noqa: E402
from archcalc.spec import build, find  # noqa: E402

C, H, W = (sympy.Symbol(n, integer=True, positive=True) for n in "CHW")


def test_three_3x3_versus_one_7x7():
    """The slide: 3 * (3^2 C^2) weights for three 3x3 convs against 7^2 C^2 for one 7x7."""
    three, _ = analyze_text("CONV3-C\nCONV3-C\nCONV3-C", "HxWxC")
    one, _ = analyze_text("CONV7-C", "HxWxC")
    assert sympy.expand(three.totals.weights - 3 * (3**2 * C**2)) == 0
    assert sympy.expand(one.totals.weights - 7**2 * C**2) == 0
    assert three.rows[-1].output == (C, H, W)  # padding keeps the size
    assert three.rows[-1].receptive_field == 7 == one.rows[-1].receptive_field


FCN = textwrap.dedent("""
    name: fcn
    symbols: [H, W]
    input: H x W x 3
    layers:
      - conv: {out: 32, kernel: 3, padding: 1}
      - relu
      - maxpool: {kernel: 2, stride: 2}
      - conv: {out: 64, kernel: 3, stride: 2, padding: 1}
      - conv: {out: 10, kernel: 1}
""")


def test_fully_convolutional_macs_as_a_function_of_h_w(tmp_path):
    path = tmp_path / "fcn.yaml"
    path.write_text(FCN)
    symbolic = summarize(build(find(str(path))))
    numeric = summarize(build(find(str(path)), input="224x224x3"))
    assert symbolic.totals.macs.subs({H: 224, W: 224}) == numeric.totals.macs
    assert symbolic.totals.activations.subs({H: 224, W: 224}) == numeric.totals.activations
    # by hand: 32*27*H*W + (64*9*32 + 10*64) * ceil(floor(H/2)/2) * ceil(floor(W/2)/2) -- spot-check at 100x60
    h2, w2 = 100 // 2, 60 // 2
    h4, w4 = (h2 - 1) // 2 + 1, (w2 - 1) // 2 + 1
    assert symbolic.totals.macs.subs({H: 100, W: 60}) == 32 * 27 * 100 * 60 + (64 * 9 * 32 + 10 * 64) * h4 * w4
    assert symbolic.totals.params == 32 * 27 + 32 + 64 * 9 * 32 + 64 + 10 * 64 + 10


def test_symbolic_json_is_sympy_syntax(cli_json):
    data = cli_json(["layer", "CONV3-C", "--input", "HxWxC"])
    assert data["totals"]["weights"] == "9*C**2"
    assert data["layers"][-1]["output"] == ["C", "H", "W"]
    assert sympy.sympify(data["totals"]["macs"]) == sympy.sympify("9*C**2*H*W")


def test_ceil_mode_needs_numbers():
    with pytest.raises(SpecError, match="ceil_mode with a symbolic size"):
        build(find_text("- maxpool: {kernel: 3, stride: 2, ceil_mode: true}"))


def find_text(layers):
    from archcalc.spec import NetworkDef

    import yaml

    return NetworkDef("t", "<test>", yaml.safe_load(layers), {}, "H x W x 8", {}, symbols=["H", "W"])


def test_undeclared_names_stay_errors(tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text("name: t\ninput: 8x8x3\nlayers: [conv: {out: widht, kernel: 3}]\n")
    with pytest.raises(SpecError, match="undefined parameter 'widht'"):
        build(find(str(path)))

"""Bad input: a one-line error naming the file, the layer path and the offending value; exit 2;
never a traceback."""

import textwrap

import pytest

from archcalc.cli import main
from archcalc.errors import SpecError
from archcalc.spec import build, find

NET = """
name: bad
input: 32x32x3
params: {w: 8}
blocks:
  unit:
    params: {c: null}
    layers:
      - conv: {out: c, kernel: 3, padding: 1}
      - relu
layers:
{layers}
"""

CASES = {
    "unknown_type": ("- convv: {out: 8, kernel: 3}", ["convv", "did you mean 'conv'"]),
    "misspelled_field": ("- conv: {out: 8, kernal: 3}", ["kernal", "conv1"]),
    "missing_field": ("- conv: {out: 8}", ["needs field 'kernel'", "conv1"]),
    "kernel_too_big": ("- conv: {out: 8, kernel: 7, stride: 1}\n- conv: {out: 8, kernel: 30}", ["conv2", "kernel 30", "26"]),
    "negative_size": ("- conv: {out: -4, kernel: 3}", ["out must be >= 1", "-4"]),
    "fractional_size": ("- conv: {out: w / 3, kernel: 3}", ["out must be an integer", "8/3"]),
    "undefined_param": ("- conv: {out: width, kernel: 3}", ["undefined parameter 'width'", "conv1"]),
    "add_mismatch": (
        "- add: {name: res, branches: [[conv: {out: 16, kernel: 1}], []]}",
        ["res", "add needs equal shapes", "32x32x16", "32x32x3"],
    ),
    "concat_mismatch": (
        "- concat: {name: cat, branches: [[maxpool: {kernel: 2}], []]}",
        ["cat", "same spatial size", "16x16x3", "32x32x3"],
    ),
    "linear_unflattened": ("- linear: {out: 10}", ["linear1", "flat input", "flatten"]),
    "groups": ("- conv: {out: 8, kernel: 3, groups: 2}", ["input channels 3 not divisible by groups 2"]),
    "block_missing_param": ("- unit: {name: u1}", ["u1", "needs parameter 'c'"]),
    "block_unknown_param": ("- unit: {c: 8, width: 3}", ["no parameter 'width'"]),
    "absurd_repeat": ("- repeat: {times: 10**9, layers: [relu]}", ["absurd"]),
    "eval_attempt": ("- conv: {out: \"__import__('os').getpid()\", kernel: 3}", ["only these functions may be called"]),
    "attribute_attempt": ("- conv: {out: \"w.__class__\", kernel: 3}", ["Attribute not allowed"]),
    "merge_without_branches": ("- add: {}", ["add1", "branches"]),
    "bad_item": ("- {conv: {out: 8, kernel: 3}, relu: {}}", ["one-key mapping"]),
    "pool_padding": ("- maxpool: {kernel: 2, padding: 2}", ["maxpool1", "half the kernel"]),
    "same_stride": ("- conv: {out: 8, kernel: 3, padding: same, stride: 2}", ["'same' needs stride 1"]),
}


def write(tmp_path, layers, name="net.yaml"):
    path = tmp_path / name
    path.write_text(NET.replace("{layers}", textwrap.indent(layers, "  ")))
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_spec_one_line_error(case, tmp_path, capsys):
    layers, fragments = CASES[case]
    path = write(tmp_path, layers)
    assert main(["table", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert err.startswith(f"archcalc: error: {path}: ")
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def test_recursive_block(tmp_path, capsys):
    path = tmp_path / "rec.yaml"
    path.write_text(textwrap.dedent("""
        name: rec
        input: 8x8x3
        blocks:
          a: {layers: [b]}
          b: {layers: [a]}
        layers: [a]
    """))
    assert main(["table", str(path)]) == 2
    assert "recursive block: a -> b -> a" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "empty spec file"),
        ("just a string", "must be a YAML mapping"),
        ("name: x\nlayers: [relu\n", "not valid YAML"),
        ("!!python/object/apply:os.system ['echo hacked']", "not valid YAML"),
        ("name: x\ninput: 8x8x3\nlayers: !!python/name:os.system", "not valid YAML"),
        ("name: x\ninput: 8x8x3\nlayer: [relu]", "unknown key 'layer'"),
        ("name: x\nlayers: [relu]", "needs `input:`"),
        ("name: x\ninput: 8x8\nlayers: [relu]", "HxWxC"),
        ("name: x\ninput: 0x8x3\nlayers: [relu]", "positive integers"),
    ],
)
def test_bad_files(tmp_path, capsys, text, fragment):
    path = tmp_path / "f.yaml"
    path.write_text(text)
    assert main(["table", str(path)]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err and err.count("\n") == 1


def test_unknown_network_suggests(capsys):
    assert main(["table", "vgg61"]) == 2
    assert "did you mean" in capsys.readouterr().err


def test_unknown_param_and_bad_input(capsys):
    assert main(["table", "vgg16", "--param", "widht=3"]) == 2
    assert "no parameter 'widht'" in capsys.readouterr().err
    assert main(["table", "vgg16", "--input", "224x224"]) == 2
    assert "HxWxC" in capsys.readouterr().err
    assert main(["table", "vgg16", "--input", "20x20x3"]) == 2  # too small for five 2x2 pools
    err = capsys.readouterr().err
    assert "features.30" in err and "kernel 2 larger than padded input" in err


def test_errors_carry_layer_path(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text(textwrap.dedent("""
        name: deep
        input: 16x16x8
        blocks:
          unit:
            params: {k: 3}
            layers: [conv: {name: conv2, out: 8, kernel: k}]
        layers:
          - repeat:
              name: layer3
              times: 2
              layers: [unit: {k: "3 if i == 0 else 99"}]
              var: i
    """))
    with pytest.raises(SpecError) as info:
        build(find(str(path)))
    assert info.value.layer == "layer3.1.conv2"
    assert str(info.value).startswith(f"{path}: layer3.1.conv2: kernel 99")


def test_numeric_names_are_names(tmp_path):
    path = tmp_path / "n.yaml"
    path.write_text("name: n\ninput: 8x8x3\nlayers:\n  - sequential: {name: features, layers: [conv: {name: 0, out: 4, kernel: 3}, relu: {name: 1}]}\n")
    graph = build(find(str(path)))
    assert [n.name for n in graph.nodes] == ["input", "features.0", "features.1"]


def test_blocks_inside_a_family_member_are_rejected(tmp_path, capsys):
    path = tmp_path / "fam.yaml"
    path.write_text("input: 8x8x3\nnetworks:\n  a:\n    blocks: {u: {layers: [relu]}}\n    layers: [u]\n")
    assert main(["table", f"{path}:a"]) == 2
    assert "unknown key 'blocks'" in capsys.readouterr().err


def test_include_blocks_across_files(tmp_path):
    (tmp_path / "_lib.yaml").write_text("blocks:\n  unit:\n    params: {c: null}\n    layers: [conv: {out: c, kernel: 1}, relu]\n")
    (tmp_path / "net.yaml").write_text("name: n\ninput: 4x4x3\ninclude: [_lib.yaml]\nlayers: [unit: {c: 5}]\n")
    graph = build(find(str(tmp_path / "net.yaml")))
    assert graph.nodes[-1].shape == (5, 4, 4)
    (tmp_path / "loop.yaml").write_text("name: l\ninput: 4x4x3\ninclude: [loop.yaml]\nlayers: [relu]\n")
    with pytest.raises(SpecError, match="include cycle"):
        build(find(str(tmp_path / "loop.yaml")))


@pytest.mark.parametrize(("argv", "start", "contains"), [
    # a malformed volume is the option's fault, not the spec file's
    (["table", "vgg16", "--input", "224x224"], "archcalc: error: --input 224x224: a volume is HxWxC", None),
    # a layer that fails only at the given input names the option first, then where it fails
    (["table", "vgg16", "--input", "20x20x3"], "archcalc: error: --input 20x20x3: ", "features.30: kernel 2 larger"),
    (["table", "vgg16", "--param", "num_classes=0"], "archcalc: error: --param num_classes=0: ", "classifier.6: out must be >= 1"),
    (["table", "vgg16", "--param", "widht=3"], "archcalc: error: --param widht: vgg16 has no parameter", None),
    (["table", "resnet:bottleneck", "--param", "planes=64", "--input", "56x56x100"],
     "archcalc: error: --input 56x56x100 --param planes=64: ", "add needs equal shapes"),
])
def test_errors_blame_the_option(argv, start, contains, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(start), err
    assert contains is None or contains in err
    assert "Traceback" not in err

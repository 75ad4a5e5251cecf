"""Fuzz the loader and the engine: whatever the file holds, the outcome is a report or a
one-line SpecError, never another exception."""

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archcalc.analysis import summarize
from archcalc.errors import SpecError
from archcalc.layers import REGISTRY
from archcalc.spec import find, build

FIELD_NAMES = sorted({f for cls in REGISTRY.values() for f in cls.fields} | {"name", "when", "branches", "layers", "times"})
TYPE_NAMES = sorted(REGISTRY) + ["repeat", "sequential", "side", "nonsense"]

scalars = st.one_of(
    st.integers(-3, 40),
    st.sampled_from(["same", "valid", "2*3", "x", "1/0", "10**9", "(", "true", "w", ""]),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(FIELD_NAMES), inner, max_size=3)), max_leaves=8)
items = st.one_of(
    st.sampled_from(TYPE_NAMES),
    st.dictionaries(st.sampled_from(TYPE_NAMES), st.one_of(st.none(), st.dictionaries(st.sampled_from(FIELD_NAMES), values, max_size=4)), min_size=1, max_size=2),
    values,
)
documents = st.fixed_dictionaries(
    {"name": st.just("fuzz"), "layers": st.lists(items, max_size=6)},
    optional={
        "input": st.one_of(st.sampled_from(["32x32x3", "8x8x1", "1x1x1", "4096", "axbxc", "0x0x0"]), values),
        "params": st.dictionaries(st.sampled_from(["w", "x"]), scalars, max_size=2),
        "blocks": values,
        "junk": values,
    },
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def analyse_file(path):
    try:
        summarize(build(find(str(path))))
    except SpecError as exc:
        message = str(exc)
        assert message and "\n" not in message


@SETTINGS
@given(documents)
def test_random_documents(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("fuzz") / "net.yaml"
    path.write_text(yaml.safe_dump(doc))
    analyse_file(path)


@SETTINGS
@given(st.sampled_from(sorted(REGISTRY)), st.dictionaries(st.sampled_from(FIELD_NAMES), values, max_size=3))
def test_random_field_values(tmp_path_factory, kind, fields):
    path = tmp_path_factory.mktemp("fuzz") / "net.yaml"
    doc = {"name": "f", "input": "16x16x4", "params": {"w": 4}, "layers": [{kind: fields}]}
    path.write_text(yaml.safe_dump(doc))
    analyse_file(path)


@SETTINGS
@given(st.text(max_size=300))
def test_random_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "net.yaml"
    path.write_text(text)
    analyse_file(path)


conv = st.fixed_dictionaries({"out": st.integers(1, 16), "kernel": st.integers(1, 7)}, optional={
    "stride": st.integers(1, 3), "padding": st.integers(0, 3), "dilation": st.integers(1, 3), "groups": st.sampled_from([1, 2])})
pool = st.fixed_dictionaries({"kernel": st.integers(1, 4)}, optional={
    "stride": st.integers(1, 3), "padding": st.integers(0, 2), "ceil_mode": st.booleans()})
layer = st.one_of(
    st.builds(lambda f: {"conv": f}, conv),
    st.builds(lambda f: {"maxpool": f}, pool),
    st.builds(lambda f: {"avgpool": f}, pool),
    st.sampled_from(["relu", "batchnorm", "sigmoid", "identity", "lrn"]),
)


@SETTINGS
@given(st.lists(layer, min_size=1, max_size=8), st.integers(1, 40), st.integers(1, 8))
def test_random_valid_looking_stacks(tmp_path_factory, layers, size, channels):
    path = tmp_path_factory.mktemp("fuzz") / "net.yaml"
    path.write_text(yaml.safe_dump({"name": "stack", "input": f"{size}x{size}x{channels}", "layers": layers}))
    analyse_file(path)

"""archcalc/textable.py lays tables out exactly as tabulate's `simple` and `github` formats do
(with disable_numparse): checked against tabulate itself on random tables and on every table
archcalc prints for the zoo."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tabulate import tabulate  # the test extra: the layout's reference

from archcalc.textable import table, width

CELLS = st.one_of(
    st.none(),
    st.integers(-10**6, 10**9),
    st.sampled_from(["", "conv", "  padded  ", "γ, β", "└─layer1", "│ └─0", "12,345", "✗ torch 3", "漢字", "e\u0301", "x" * 30]),
    # what names and numbers in archcalc's tables are made of: ASCII, Latin and Greek letters,
    # combining accents, box drawing, arrows and marks, CJK (wide); not every corner of Unicode,
    # where terminals (and wcwidth, tabulate's measure) disagree
    st.text(alphabet=st.sampled_from(
        [chr(c) for c in range(0x20, 0x7F)] + list("éüßµ×·γβσ∑└─│✗✓→≤≥…°") + ["\u0301", "\u0308"] + list("漢字模型アイ")),
        max_size=8),
)


@st.composite
def tables(draw):
    columns = draw(st.integers(1, 6))
    headers = draw(st.lists(st.sampled_from(["", "h", "layer", "MACs (FlopCounterMode/2)", "漢"]), min_size=columns, max_size=columns))
    rows = draw(st.lists(st.lists(CELLS, min_size=columns, max_size=columns), max_size=6))
    align = draw(st.none() | st.lists(st.sampled_from(["left", "right", "center"]), min_size=columns, max_size=columns))
    return rows, headers, align


@settings(max_examples=400, deadline=None)
@given(tables(), st.sampled_from(["simple", "github"]))
def test_same_layout_as_tabulate(t, style):
    rows, headers, align = t
    want = tabulate(rows, headers=headers, tablefmt=style, colalign=align, disable_numparse=True)
    assert table(rows, headers, style, align) == want


def test_display_width():
    assert width("conv") == 4
    assert width("漢字") == 4  # East Asian wide: two columns each
    assert width("e\u0301") == 1  # a combining accent takes no column
    assert width("└─γ") == 3


def test_hand_laid_table():
    assert table([["conv1", "1,728"], ["fc", "10"]], ["layer", "params"], "simple", ("left", "right")) == (
        "layer      params\n"
        "-------  --------\n"
        "conv1       1,728\n"
        "fc             10")
    assert table([["a", "1"]], ["x", "y"], "github", ("left", "right")) == "| x   |   y |\n|-----|-----|\n| a   |   1 |"


def test_unknown_style():
    with pytest.raises(ValueError, match="unknown table style"):
        table([], ["x"], "grid")

"""Spec files are parsed once while unchanged (archcalc/spec.py, load_file): an edited file, or
an edited file it includes, must be read again, even when rewritten at once with the same size."""

from __future__ import annotations

from archcalc.analysis import analyze
from archcalc.spec import load_file

NET = """
include: blocks.yaml
networks:
  tiny:
    input: 8x8x3
    layers:
      - conv: {{out: {out}, kernel: 3}}
      - unit: {{}}
"""
BLOCKS = """
blocks:
  unit:
    layers:
      - conv: {{out: {out}, kernel: 1}}
"""


def test_an_edited_file_is_read_again(tmp_path):
    net, blocks = tmp_path / "tiny.yaml", tmp_path / "blocks.yaml"
    blocks.write_text(BLOCKS.format(out=4))
    net.write_text(NET.format(out=8))
    assert analyze(str(net)).totals.params == (3 * 9 * 8 + 8) + (8 * 4 + 4)
    assert load_file(net)["tiny"] is load_file(net)["tiny"]  # unchanged: parsed once
    net.write_text(NET.format(out=9))  # same size, within the file system's timestamp granularity
    assert analyze(str(net)).totals.params == (3 * 9 * 9 + 9) + (9 * 4 + 4)
    blocks.write_text(BLOCKS.format(out=5))  # an included file changes
    assert analyze(str(net)).totals.params == (3 * 9 * 9 + 9) + (9 * 5 + 5)

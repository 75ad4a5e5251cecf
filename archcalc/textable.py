"""Plain-text tables in the two layouts archcalc prints: ``simple`` (the terminal) and ``github``
(markdown). Formatting only, no arithmetic.

The output is exactly tabulate's ``simple`` and ``github`` formats with ``disable_numparse=True``
(tests/test_textable.py checks it against tabulate): cells are strings, stripped; a column is as
wide as its widest cell and at least its header plus two; rows lose their trailing blanks. It is
written here because importing tabulate 0.10 costs 25-40 ms (it asks importlib.metadata for its
own version and loads wcwidth), a quarter of a whole `archcalc table` run. Widths are display
widths: East Asian wide characters count two columns, combining marks and format characters none.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Iterable, Sequence

STYLES = ("simple", "github")
MIN_PADDING = 2  # a column is at least its header and two blanks wide


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.category(c) in ("Mn", "Me", "Cf") else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def _pad(text: str, size: int, align: str) -> str:
    fill = " " * (size - width(text))
    if align == "right":
        return fill + text
    if align == "center":
        half = len(fill) // 2
        return fill[:half] + text + fill[half:]
    return text + fill


def table(rows: Iterable[Sequence[Any]], headers: Sequence[str], style: str = "simple",
          align: Sequence[str] | None = None) -> str:
    """``rows`` under ``headers``; ``align`` gives each column's alignment (left, right, center;
    left by default). A cell is ``str(value)``, None an empty cell."""
    if style not in STYLES:
        raise ValueError(f"unknown table style {style!r} (choose from {', '.join(STYLES)})")
    headers = [str(h) for h in headers]
    body = [["" if v is None else str(v).strip() for v in row] for row in rows]
    # with no rows the headers are left-aligned, as tabulate does
    aligns = (list(align or ()) if body else []) + ["left"] * (len(headers) - (len(align or ()) if body else 0))
    sizes = [width(h) + MIN_PADDING for h in headers]
    for row in body:
        for k, cell in enumerate(row):
            size = width(cell)
            if size > sizes[k]:
                sizes[k] = size
    head = [_pad(h, s, a) for h, s, a in zip(headers, sizes, aligns)]
    cells = [[_pad(c, s, a) for c, s, a in zip(row, sizes, aligns)] for row in body]
    if style == "github":
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("-" * (s + 2) for s in sizes) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
    else:
        lines = ["  ".join(head), "  ".join("-" * s for s in sizes)]
        lines += ["  ".join(row) for row in cells]
    return "\n".join(line.rstrip() for line in lines)

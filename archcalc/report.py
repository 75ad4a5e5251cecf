"""Formatting only: a Report as a text table, markdown, CSV or JSON. No arithmetic here beyond
turning exact integers into human units."""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable

from tabulate import tabulate

from .analysis import COUNT_NOTES, Report, Row
from .layers import fmt_shape
from .symbolic import is_symbolic, text

FORMATS = ("text", "markdown", "csv", "json")

CSV_COLUMNS = (
    "name", "type", "config", "output", "params", "biases", "buffers", "macs", "ops", "other_ops",
    "activations", "inplace", "receptive_field", "rf_jump",
)


def exact(n: Any) -> str:
    """An exact count with thousands separators, or a symbolic size as simplified sympy text."""
    return text(n) if is_symbolic(n) else f"{n:,}"


def both(n: Any) -> str:
    """`138,357,544 (138.4M)`; a symbolic value once."""
    return exact(n) if is_symbolic(n) else f"{n:,} ({si(n)})"


def si(n: Any) -> str:
    """Counts with 4 significant digits: 138357544 -> '138.4M', 15470264320 -> '15.47G'.

    Below 10,000 the exact number is shorter than the rounded one, so it is shown as is."""
    if is_symbolic(n):
        return text(n)
    if n < 10_000:
        return f"{n:,}"
    for unit, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= scale * 0.9995:
            value = n / scale
            digits = 3 - len(str(int(value))) + 1
            return f"{value:.{max(digits, 0)}f}{unit}"
    return str(n)  # pragma: no cover


def iec(nbytes: Any) -> str:
    """Bytes in binary units: 60950432 -> '58.1 MiB'."""
    if is_symbolic(nbytes):
        return f"{text(nbytes)} B"
    if nbytes < 1024:
        return f"{nbytes} B"
    value = float(nbytes)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f} {unit}"
    return f"{value:.1f} PiB"  # pragma: no cover


def _visible(report: Report, all_rows: bool) -> Iterable[Row]:
    return report.rows if all_rows else [r for r in report.rows if not r.trivial]


def _table(report: Report, all_rows: bool, exact_numbers: bool, fmt: str) -> str:
    num = exact if exact_numbers else si
    headers = ["layer", "type", "config", "output", "memory", "params", report.count_label, "RF"]
    body = []
    for r in _visible(report, all_rows):
        body.append([
            r.name,
            r.type,
            r.config,
            fmt_shape(r.output),
            "in-place" if r.inplace else num(r.activations),
            num(r.params) if r.params else "",
            num(r.ops) if r.ops else "",
            r.receptive_field,
        ])
    t = report.totals
    body.append(["total", "", "", "", num(t.activations), num(t.params), num(t.ops), ""])
    align = ("left", "left", "left", "right", "right", "right", "right", "right")
    return tabulate(body, headers=headers, tablefmt=fmt, colalign=align, disable_numparse=True)


def totals_lines(report: Report) -> list[str]:
    t, b = report.totals, report.dtype
    per = "per image" if report.batch == 1 else f"for a batch of {report.batch}"
    lines = [
        f"params        {both(t.params)} = {exact(t.weights)} weights + {exact(t.biases)} biases"
        + (f"; {exact(t.buffers)} buffer values" if t.buffers else ""),
        *([f"  at inference {both(t.inference_params)} (training-only heads exist but do not run)"]
          if t.inference_params != t.params else []),
        f"param memory  {iec(t.param_bytes)}" + ("" if is_symbolic(t.param_bytes) else f" ({t.param_bytes:,} B)") + f", {b}",
        f"{report.count_label:<13} {both(t.ops)} {per}",
    ]
    if report.count != "macs":
        lines.append(f"MACs          {both(t.macs)} {per}")
    lines += [
        f"activations   {both(t.activations)} values stored, input included = {iec(t.activation_bytes)} {per}",
        f"peak live     {iec(t.peak_activation_bytes)}" + ("" if is_symbolic(t.peak_activation_bytes) else f" ({t.peak_activation_bytes:,} B)")
        + f" during one forward pass, {per}",
        f"depth         {t.weighted_layers} weighted layers (conv + linear) on the longest path",
    ]
    unsupported = report.meta.get("unsupported") or {}
    if unsupported:
        ops = ", ".join(f"{name} x{count}" for name, count in sorted(unsupported.items()))
        lines.append(f"not counted   {ops}: no formula in archcalc (shapes exact, costs left out)")
    return lines


def headline_accuracy(meta: dict) -> tuple[str, str, str]:
    """(top-1, top-5, source) to show for a network: torchvision's original-recipe figures where
    the spec has them, else the first listed; errors are shown as accuracies (100 - error)."""
    entries = list(meta.get("accuracy") or [])
    if not entries:
        return "", "", ""
    # one training recipe across a table: the original one (archcalc/accuracy.py), never torchvision's new recipe
    original = [e for e in entries if e.get("recipe") != "new"] or entries
    entry = next((e for e in original if "torchvision" in str(e.get("source", ""))), original[0])

    def pct(key: str) -> str:
        if entry.get(key) is not None:
            return f"{float(entry[key]):.1f}"
        if entry.get(f"{key}_error") is not None:
            return f"{100 - float(entry[f'{key}_error']):.1f}"
        return ""

    return pct("top1"), pct("top5"), str(entry.get("source", ""))


def render_comparison(reports: list[Report], fmt: str = "text") -> str:
    """One row per network: the numbers people compare architectures by."""
    if fmt == "json":
        import json

        return json.dumps([{"name": r.name, "totals": r.totals.__dict__, "accuracy": r.meta.get("accuracy") or []}
                           for r in reports], indent=2, default=text)
    exact = fmt in ("markdown", "csv")
    num = (lambda n: f"{n:,}") if fmt == "markdown" else (str if fmt == "csv" else si)
    size = (lambda b: str(b) if fmt == "csv" else f"{b:,}") if exact else iec
    headers = ["network", "input", "params", reports[0].count_label if reports else "MACs", "activations",
               "peak", "depth", "top-1 %", "top-5 %", "accuracy source"]
    body = []
    for r in reports:
        t = r.totals
        top1, top5, source = headline_accuracy(dict(r.meta))
        body.append([r.name, fmt_shape(r.input), num(t.inference_params), num(t.ops), size(t.activation_bytes),
                     size(t.peak_activation_bytes), str(t.weighted_layers), top1, top5, source])
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(body)
        return out.getvalue().rstrip("\n")
    table = tabulate(body, headers=headers, tablefmt="github" if fmt == "markdown" else "simple",
                     colalign=("left", "right", "right", "right", "right", "right", "right", "right", "right", "left"),
                     disable_numparse=True)
    dtype = reports[0].dtype if reports else "float32"
    note = f"activations: every stored tensor, input included; peak: most alive at once ({dtype}, per image)"
    return f"{table}\n\n{note}; depth: conv + linear layers on the longest path"


def render(report: Report, fmt: str = "text", all_rows: bool = False) -> str:
    if fmt == "json":
        return report.to_json()
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for r in report.rows:
            d = r.__dict__
            writer.writerow([fmt_shape(r.output) if c == "output" else d[c] for c in CSV_COLUMNS])
        return out.getvalue().rstrip("\n")
    exact = fmt == "markdown"
    table = _table(report, all_rows, exact, "github" if exact else "simple")
    volume = fmt_shape(report.input)
    title = f"{report.name}: {report.meta.get('description', '')}".rstrip(": ")
    head = [title, f"input {volume}, batch {report.batch}, {report.dtype}; {COUNT_NOTES[report.count]}"]
    if fmt == "markdown":
        return "\n".join([f"### {title}", "", head[1], "", table, "", *(f"- {line}" for line in totals_lines(report))])
    hidden = [] if all_rows else ["  (in-place activations, dropout and flatten rows hidden: --all-rows shows them)"]
    return "\n".join([*head, "", table, *hidden, "", *totals_lines(report)])

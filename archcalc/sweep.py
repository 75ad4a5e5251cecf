"""Sweeps: a network's totals for every combination of parameter values, input volumes and
batch sizes (the width-multiplier and resolution tables of the MobileNet papers in one call).

Each row is one ``analyze`` of the spec; its totals are exactly the ones ``archcalc table``
prints for the same options, so a sweep adds no arithmetic of its own.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .analysis import COUNT_NOTES, Totals, analyze
from .errors import SpecError

FORMATS = ("text", "markdown", "csv", "json")


@dataclass(frozen=True)
class SweepRow:
    param: Mapping[str, Any]  # the swept spec parameters of this row, as numbers where they are numbers
    input: tuple[int, ...]  # [C, H, W]
    batch: int
    totals: Totals


@dataclass(frozen=True)
class Sweep:
    name: str
    dtype: str
    count: str
    rows: tuple[SweepRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "count": self.count,
            "rows": [{"param": dict(r.param), "input": list(r.input), "batch": r.batch, "totals": r.totals.to_dict()}
                     for r in self.rows],
        }


def split_values(option: str, text: str) -> list[str]:
    """``"0.25,0.5, 1"`` -> ``["0.25", "0.5", "1"]``; an empty list is an error naming the option."""
    values = [v.strip() for v in str(text).split(",") if v.strip()]
    if not values:
        raise SpecError(f"{option}: no values to sweep in {text!r} (give a comma-separated list)")
    return values


def parse_param_axes(pairs: Sequence[str]) -> dict[str, list[str]]:
    """``["alpha=0.25,0.5", "resolution=128"]`` -> ``{"alpha": ["0.25", "0.5"], "resolution": ["128"]}``."""
    axes: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, values = pair.partition("=")
        if not sep or not key.strip():
            raise SpecError(f"--param takes NAME=V1,V2,..., got {pair!r}")
        axes[key.strip()] = split_values(f"--param {key.strip()}", values)
    return axes


def parse_batches(text: str | None) -> list[int]:
    if text is None:
        return [1]
    batches = []
    for value in split_values("--batch", text):
        if not value.isdigit() or int(value) < 1:
            raise SpecError(f"--batch: batch sizes are positive integers, got {value!r}")
        batches.append(int(value))
    return batches


def _number(text: str) -> Any:
    """A swept value as JSON will show it: 0.25 and 128 as numbers, anything else as given."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def sweep(
    target: str,
    params: Mapping[str, Sequence[str]] | None = None,
    inputs: Sequence[str] | None = None,
    batches: Sequence[int] = (1,),
    dtype: str = "float32",
    count: str = "macs",
) -> Sweep:
    """Totals of ``target`` (a built-in name or a spec file) for the cartesian product of the
    parameter values, input volumes (``"HxWxC"``; None = the spec's own) and batch sizes."""
    from .spec import find

    axes = dict(params or {})
    for name, values in axes.items():
        if not values:
            raise SpecError(f"--param {name}: no values to sweep")
    if inputs is not None and not inputs:
        raise SpecError("--input: no input volumes to sweep")
    if not batches:
        raise SpecError("--batch: no batch sizes to sweep")
    net = find(target)
    names = list(axes)
    rows = []
    for combo in itertools.product(*(axes[n] for n in names)):
        values = dict(zip(names, combo))
        for volume in inputs if inputs is not None else [None]:
            for batch in batches:
                report = analyze(net, input=volume, batch=batch, dtype=dtype, count=count, params=values)
                rows.append(SweepRow({n: _number(v) for n, v in values.items()}, report.input, batch, report.totals))
    return Sweep(net.name, dtype, count, tuple(rows))


def from_options(target: str, param_pairs: Sequence[str], inputs: str | None, batches: str | None,
                 dtype: str = "float32", count: str = "macs") -> Sweep:
    """The sweep that command-line options describe (`sweep` and `chart scaling`):
    ``--param NAME=V1,V2`` (repeatable), ``--input HxWxC,...``, ``--batch N,...``."""
    axes = parse_param_axes(param_pairs)
    volumes = split_values("--input", inputs) if inputs is not None else None
    if not axes and volumes is None and batches is None:
        raise SpecError("nothing to sweep: give --param NAME=V1,V2,..., --input HxWxC,... or --batch N,...")
    return sweep(target, axes, volumes, parse_batches(batches), dtype=dtype, count=count)


# --------------------------------------------------------------------------------------------
# Formatting (no arithmetic beyond units)


def _columns(result: Sweep) -> list[str]:
    params = list(result.rows[0].param) if result.rows else []
    totals = list(result.rows[0].totals.to_dict()) if result.rows else []
    return [*params, "input", "batch", *totals]


def render_sweep(result: Sweep, fmt: str = "text") -> str:
    if fmt == "json":
        from .symbolic import text

        return json.dumps(result.to_dict(), indent=2, default=text)
    from .layers import fmt_shape
    from .report import iec, si
    from .textable import table as text_table

    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(_columns(result))
        for r in result.rows:
            writer.writerow([*r.param.values(), fmt_shape(r.input), r.batch, *r.totals.to_dict().values()])
        return out.getvalue().rstrip("\n")
    exact = fmt == "markdown"
    num = (lambda n: f"{n:,}") if exact else si
    size = (lambda n: f"{n:,}") if exact else iec
    headers = [*(result.rows[0].param if result.rows else []), "input", "batch", "params", "at inference",
               COUNT_NOTES[result.count].split(":")[0], "activations", "activation memory", "peak live", "depth"]
    body = [[*(str(v) for v in r.param.values()), fmt_shape(r.input), str(r.batch), num(r.totals.params),
             num(r.totals.inference_params), num(r.totals.ops), num(r.totals.activations),
             size(r.totals.activation_bytes), size(r.totals.peak_activation_bytes), str(r.totals.weighted_layers)]
            for r in result.rows]
    table = text_table(body, headers, "github" if exact else "simple", ("right",) * len(headers))
    per = "counts for the whole batch" if any(r.batch > 1 for r in result.rows) else "per image"
    head = f"{result.name}: {len(result.rows)} configurations, {result.dtype}, {per}; {COUNT_NOTES[result.count]}"
    return f"{head}\n\n{table}"

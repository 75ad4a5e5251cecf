"""Formatting only: a Report as a text table, markdown, CSV or JSON. No arithmetic here beyond
turning exact integers into human units."""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable

from .textable import table as text_table

from .analysis import COUNT_NOTES, WEIGHTED_TYPES, Report, Row, Scope, comparison_caveats, headline_entry, scopes
from .errors import SpecError
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


def pair(v: Any) -> str:
    """A receptive field or jump: `7`, or `7x5` where H and W differ."""
    return "x".join(text(x) if is_symbolic(x) else str(x) for x in (v if isinstance(v, tuple) else (v,)))


def rf_text(row: Any) -> str:
    """The receptive field column: the conv path's field, `+g` where a gate added global context."""
    return pair(row.receptive_field) + ("+g" if row.global_context else "")


def si(n: Any, digits: int = 4) -> str:
    """Counts with ``digits`` significant digits: 138357544 -> '138.4M', 15470264320 -> '15.47G'.

    Below 10,000 the exact number is shorter than the rounded one, so it is shown as is."""
    if is_symbolic(n):
        return text(n)
    if abs(n) < 10_000:
        return f"{n:,}"
    for unit, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if abs(n) >= scale * 0.9995:
            value = n / scale
            places = digits - len(str(int(abs(value))))
            return f"{value:.{max(places, 0)}f}{unit}"
    return str(n)  # pragma: no cover


def distinct_si(values: list[Any]) -> list[str]:
    """`si` with as many significant digits as it takes to tell different values apart
    (vgg16 138.358M vs vgg16_bn 138.366M), exact integers if rounding never does."""
    for digits in range(4, 13):
        shown = [si(v, digits) for v in values]
        if all(shown[i] != shown[j] for i in range(len(values)) for j in range(i) if values[i] != values[j]):
            return shown
    return [exact(v) for v in values]


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


def _bytes(n: Any) -> str:
    """`24.5 MiB (25,690,112 B)`; a symbolic value once."""
    return iec(n) if is_symbolic(n) else f"{iec(n)} ({n:,} B)"


def _visible(report: Report, all_rows: bool) -> Iterable[Row]:
    return report.rows if all_rows else [r for r in report.rows if not r.trivial]


def _table(report: Report, all_rows: bool, exact_numbers: bool, fmt: str, depth: int | None = None) -> str:
    num = exact if exact_numbers else si
    train = report.totals.saved_bytes is not None
    headers = ["layer", "type", "config", "output", "memory", *(["saved"] if train else []), "params", report.count_label, "RF"]
    body = []
    rows = list(_visible(report, all_rows))
    alias_of = {path: alias for alias, path in (report.meta.get("aliases") or {}).items()}
    if depth is None:
        entries = [Scope(r.name, (r,)) for r in rows]
    else:
        entries = scopes(rows, depth)
    for s in entries:
        # torchinfo's tree marks (leading spaces would be stripped from a cell)
        indent = "│ " * (s.depth - 2) + "└─" if depth is not None and s.depth > 1 else ""
        if s.leaf:
            r = s.rows[0]
            kind, config, memory = r.type, r.config, "in-place" if r.inplace else num(r.activations)
        else:
            layers = sum(1 for r in s.rows if r.type in WEIGHTED_TYPES)
            kind, config, memory = "scope", f"{layers} conv + linear", num(s.stored_activations)
        alias = alias_of.get(s.name)
        saved = sum(r.saved or 0 for r in s.rows) if train else 0
        body.append([
            indent + s.name + (f" ({alias})" if alias else ""),
            kind,
            config,
            fmt_shape(s.output),
            memory,
            *([(exact(saved) if exact_numbers else iec(saved)) if saved else ""] if train else []),
            num(s.params) if s.params else "",
            num(s.ops) if s.ops else "",
            rf_text(s),
        ])
    t = report.totals
    saved_total = [(exact(t.saved_bytes) if exact_numbers else iec(t.saved_bytes))] if train else []
    body.append(["total", "", "", "", num(t.activations), *saved_total, num(t.params), num(t.ops), ""])
    align = ("left", "left", "left", "right", "right", *(["right"] if train else []), "right", "right", "right")
    return text_table(body, headers, fmt, align)


def totals_lines(report: Report) -> list[str]:
    t, b = report.totals, report.dtype
    per = "per image" if report.batch == 1 else f"for a batch of {report.batch}"
    lines = [
        f"params        {both(t.params)} = {exact(t.weights)} conv/linear weights + {exact(t.biases)} biases"
        + (f" + {exact(t.norm_params)} normalisation (BN γ, β)" if t.norm_params else "")
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
        f"peak live     {_bytes(t.peak_activation_bytes)} in one eager forward, {per}"
        f" (ideal liveness: {_bytes(t.ideal_peak_activation_bytes)})",
        f"depth         {t.weighted_layers} weighted layers (conv + linear) on the longest path",
    ]
    if t.train_peak_bytes is not None:
        lines += [
            f"saved         {_bytes(t.saved_bytes)} kept by autograd for backward, {per}",
            f"gradients     {_bytes(t.grad_bytes)}; optimizer state ({t.optimizer}) {_bytes(t.optimizer_bytes)}",
            f"train peak    {_bytes(t.train_peak_bytes)} = params + buffers + optimizer state"
            f" + {_bytes(t.train_step_bytes)} at the step's peak (activations, saved tensors, gradients)",
        ]
    unsupported = report.meta.get("unsupported") or {}
    if unsupported:
        ops = ", ".join(f"{name} x{count}" for name, count in sorted(unsupported.items()))
        lines.append(f"not counted   {ops}: no formula in archcalc (shapes exact, costs left out)")
    return lines


def headline_accuracy(meta: dict) -> tuple[str, str, str]:
    """(top-1, top-5, source) to show for a network: torchvision's original-recipe figures
    where the spec has them, else the first listed; errors are shown as accuracies (100 - error)."""
    entry = headline_entry(meta)
    if not entry:
        return "", "", ""

    def pct(key: str) -> str:
        if entry.get(key) is not None:
            return f"{float(entry[key]):.1f}"
        if entry.get(f"{key}_error") is not None:
            return f"{100 - float(entry[f'{key}_error']):.1f}"
        return ""

    return pct("top1"), pct("top5"), str(entry.get("source", ""))


def _ratio(n: Any, base: Any, places: int) -> str:
    return f"{n / base:.{places}f}x" if base and not (is_symbolic(n) or is_symbolic(base)) else ""


def render_comparison(reports: list[Report], fmt: str = "text", baseline: str | None = None, exact_numbers: bool = False) -> str:
    """One row per network: the numbers people compare architectures by. With ``baseline`` (a
    compared network's name), the difference from it and the ratio to it, for params and ops.
    Text rounds to as many significant digits as it takes to tell the networks apart."""
    base = next((r for r in reports if r.name == baseline), None) if baseline else None
    if baseline and base is None:
        raise SpecError(f"--baseline {baseline!r} is not one of the compared networks ({', '.join(r.name for r in reports)})")
    caveats = comparison_caveats(reports)
    if fmt == "json":
        import json

        from .symbolic import json_default

        out = []
        for r in reports:
            d = {"name": r.name, "totals": r.totals.to_dict(), "accuracy": r.meta.get("accuracy") or []}
            if base is not None:
                d["vs_baseline"] = {k: {"difference": getattr(r.totals, k) - getattr(base.totals, k)} for k in ("inference_params", "ops")}
            out.append(d)
        return json.dumps({"networks": out, "baseline": baseline, "warnings": caveats} if (base or caveats) else out, indent=2, default=json_default)
    exact = exact_numbers or fmt in ("markdown", "csv")
    ops_label = reports[0].count_label if reports else "MACs"

    def column(values: list[Any]) -> list[str]:
        if fmt == "csv":
            return [str(v) for v in values]
        return [f"{v:,}" if not is_symbolic(v) else text(v) for v in values] if exact else distinct_si(values)

    def signed(values: list[Any]) -> list[str]:
        shown = column(values)
        return [("+" if not is_symbolic(v) and v > 0 else "") + s for v, s in zip(values, shown)]

    size = (lambda b: str(b) if fmt == "csv" else f"{b:,}") if exact else iec
    params = [r.totals.inference_params for r in reports]
    ops = [r.totals.ops for r in reports]
    headers = ["network", "input", "params"]
    cols = [column(params)]
    if base is not None:
        headers += ["Δ params", "params ratio"]
        cols += [signed([p - base.totals.inference_params for p in params]),
                 [_ratio(p, base.totals.inference_params, 4) for p in params]]
    headers.append(ops_label)
    cols.append(column(ops))
    if base is not None:
        headers += [f"Δ {ops_label}", f"{ops_label} ratio"]
        cols += [signed([o - base.totals.ops for o in ops]), [_ratio(o, base.totals.ops, 4) for o in ops]]
    headers += ["activations", "peak", "depth", "top-1 %", "top-5 %", "accuracy source"]
    body = []
    for i, r in enumerate(reports):
        t = r.totals
        top1, top5, source = headline_accuracy(dict(r.meta))
        body.append([r.name, fmt_shape(r.input), *(c[i] for c in cols), size(t.activation_bytes),
                     size(t.peak_activation_bytes), str(t.weighted_layers), top1, top5, source])
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(body)
        return out.getvalue().rstrip("\n")
    table = text_table(body, headers, "github" if fmt == "markdown" else "simple",
                       ("left", *["right"] * (len(headers) - 2), "left"))
    dtype = reports[0].dtype if reports else "float32"
    note = f"activations: every stored tensor, input included; peak: most alive at once ({dtype}, per image)"
    warnings = [f"warning: {line}" for line in caveats]
    return "\n".join([table, "", f"{note}; depth: conv + linear layers on the longest path", *warnings])


SCOPE_COLUMNS = ("name", "alias", "depth", "rows", "output", "params", "macs", "ops", "stored_activations", "receptive_field")


def _scope_records(report: Report, depth: int, fmt: str) -> str:
    """The scopes down to ``depth`` as exact records (CSV rows or a JSON list), in tree order."""
    alias_of = {path: alias for alias, path in (report.meta.get("aliases") or {}).items()}
    records = [{"name": s.name, "alias": alias_of.get(s.name, ""), "depth": s.depth, "rows": len(s.rows),
                "output": list(s.output), "params": s.params, "macs": s.macs, "ops": s.ops,
                "stored_activations": s.stored_activations, "receptive_field": s.receptive_field,
                "global_context": s.global_context}
               for s in scopes(report.rows, depth)]
    if fmt == "json":
        import json

        return json.dumps({"name": report.name, "depth": depth, "scopes": records}, indent=2, default=text)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SCOPE_COLUMNS)
    for rec in records:
        writer.writerow([fmt_shape(tuple(rec["output"])) if c == "output" else rec[c] for c in SCOPE_COLUMNS])
    return out.getvalue().rstrip("\n")


def render(report: Report, fmt: str = "text", all_rows: bool = False, depth: int | None = None) -> str:
    """``depth``: one row per scope down to that many path levels (a block's rows folded into
    its subtotal), as torchinfo's ``depth``; None: every row."""
    if depth is not None and fmt in ("json", "csv"):
        return _scope_records(report, depth, fmt)
    if fmt == "json":
        return report.to_json()
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        columns = CSV_COLUMNS + (("saved",) if report.totals.saved_bytes is not None else ())
        writer.writerow(columns)
        for r in report.rows:
            d = r._asdict()
            writer.writerow([fmt_shape(r.output) if c == "output" else pair(d[c]) if c in ("receptive_field", "rf_jump")
                             else d[c] for c in columns])
        return out.getvalue().rstrip("\n")
    exact = fmt == "markdown"
    table = _table(report, all_rows, exact, "github" if exact else "simple", depth)
    volume = fmt_shape(report.input)
    title = f"{report.name}: {report.meta.get('description', '')}".rstrip(": ")
    head = [title, f"input {volume}, batch {report.batch}, {report.dtype}; {COUNT_NOTES[report.count]}"]
    if fmt == "markdown":
        return "\n".join([f"### {title}", "", head[1], "", table, "", *(f"- {line}" for line in totals_lines(report))])
    hidden = [] if all_rows else ["  (in-place activations, dropout and flatten rows hidden: --all-rows shows them)"]
    if any(r.global_context for r in report.rows):
        hidden.append("  (RF n+g: the convolutional path's field n, plus whole-image context through a gate such as SE)")
    return "\n".join([*head, "", table, *hidden, "", *totals_lines(report)])


def render_fit(result: Any) -> str:
    """`archcalc fit`: the batch found and the breakdown of its peak (an analysis.Fit)."""
    r, t = result.report, result.report.totals
    mode = f"training ({t.optimizer})" if t.train_peak_bytes is not None else "inference"
    lines = [
        f"{r.name}: batch {r.batch:,} fits in {_bytes(result.memory_bytes)} ({mode}, {r.dtype}, input {fmt_shape(r.input)})",
        f"  params        {_bytes(t.param_bytes)}",
        f"  buffers       {_bytes(t.buffer_bytes)}",
    ]
    if t.train_peak_bytes is not None:
        lines += [
            f"  optimizer     {_bytes(t.optimizer_bytes)}",
            f"  step          {_bytes(t.train_step_bytes)} (activations, saved {_bytes(t.saved_bytes)},"
            f" gradients {_bytes(t.grad_bytes)}, at the step's peak)",
        ]
    else:
        lines.append(f"  activations   {_bytes(t.peak_activation_bytes)} (eager peak)")
    lines += [
        f"  peak          {_bytes(result.peak_bytes)}",
        f"batch {r.batch + 1:,} would need {_bytes(result.next_peak_bytes)}",
    ]
    return "\n".join(lines)

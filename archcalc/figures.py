"""What every chart shows, as data: points, bars, lines, axis labels with units, and a caption.

No matplotlib here (archcalc/plots.py draws a Figure; tests and reports/figures.json read the
same Figure). Every plotted number is a total or a row of an engine Report, a sweep row, or a
figure from a spec's metadata or a benchmark file; the only arithmetic is unit scaling
(``scale``), per-group sums of rows (``layers_figure``), and the roofline's FLOPs and bytes
(``traffic``), each stated in the caption.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .accuracy import DESCRIPTIONS, missing_reason, select
from .analysis import DTYPE_BYTES, WEIGHTED_TYPES, Report, Row, analyze, summarize
from .benchfile import BenchFile
from .errors import SpecError
from .graph import Graph
from .sweep import Sweep

KINDS = ("accuracy", "layers", "compare", "scaling", "bench")

#: the accuracy chart's networks when none are named: Canziani et al.'s set and its successors,
#: one or two per family so that every label stays readable
STANDARD_ACCURACY = (
    "alexnet", "vgg16", "vgg19", "googlenet", "inception_v3", "resnet18", "resnet34", "resnet50", "resnet101",
    "resnet152", "densenet121", "densenet201", "squeezenet1_0", "mobilenet_v1", "mobilenet_v2",
    "mobilenet_v3_large", "shufflenet_v2_x1_0", "mnasnet1_0", "efficientnet_b0", "resnext50_32x4d",
    "wide_resnet50_2",
)
#: `archcalc report`'s comparison and per-layer charts
STANDARD_COMPARE = ("alexnet", "vgg16", "googlenet", "inception_v3", "resnet50", "resnet152", "densenet121",
                    "mobilenet_v2", "efficientnet_b0")

MIB = 2**20
#: a per-layer chart with more rows than this is grouped by stage
MAX_BARS = 40

#: per-layer metrics: (axis label, unit base: 'bytes' in binary units, 'count' in SI)
LAYER_METRICS = {
    "memory": ("activation memory", "bytes"),
    "params": ("parameters", "count"),
    "macs": ("multiply-adds", "count"),
}


@dataclass(frozen=True)
class Series:
    label: str
    x: tuple[Any, ...]  # numbers, or category labels for bar panels
    y: tuple[float, ...]
    sizes: tuple[float, ...] = ()  # bubble panels: the quantity the bubble's area is proportional to
    point_labels: tuple[str, ...] = ()  # text beside each point
    style: str = "points"  # points | line | reference (a dashed guide: y = x, a roof) | hollow (a second source)
    belongs_to: str = ""  # a reference drawn in the colour of the series with this label (a dtype's roof)


@dataclass(frozen=True)
class Panel:
    kind: str  # xy | bubble | barh (categories on y, one bar group per category)
    xlabel: str
    ylabel: str
    series: tuple[Series, ...]
    title: str = ""
    xscale: str = "linear"
    yscale: str = "linear"


@dataclass(frozen=True)
class Figure:
    kind: str
    title: str
    caption: str
    panels: tuple[Panel, ...]
    notes: tuple[str, ...] = ()  # what was left out and why: printed by the CLI, never silent
    columns: int = 1  # panels per row

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def scale(values: Iterable[float], base: str) -> tuple[float, str]:
    """(divisor, unit prefix) that keeps the largest value between 1 and 1000: SI for counts
    (k, M, G, T), binary for bytes (KiB, MiB, GiB)."""
    largest = max((abs(v) for v in values), default=0)
    if base == "bytes":
        steps = [(1, "B"), (2**10, "KiB"), (2**20, "MiB"), (2**30, "GiB"), (2**40, "TiB")]
    else:
        steps = [(1, ""), (10**3, "k"), (10**6, "M"), (10**9, "G"), (10**12, "T")]
    chosen = steps[0]
    for step in steps:
        if largest >= step[0]:
            chosen = step
    return float(chosen[0]), chosen[1]


def _scaled(values: Sequence[float], base: str) -> tuple[tuple[float, ...], str]:
    """The values divided for display, and the axis unit ("count" for plain counts under 1000)."""
    divisor, unit = scale(values, base)
    return tuple(v / divisor for v in values), unit or "count"


def _reports(names: Sequence[str], **options: Any) -> list[Report]:
    """Reports of built-in names or spec files; an unknown name is `table`'s one-line error."""
    return [analyze(name, **options) for name in names]


# --------------------------------------------------------------------------------------------
# accuracy against multiply-adds (or measured latency)


def accuracy_figure(names: Sequence[str] | None = None, choice: str = "original", x: str = "macs",
                    bench: BenchFile | None = None) -> Figure:
    """Top-1 against exact MACs (log) or measured latency, bubble area ∝ parameters used at inference."""
    if x not in ("macs", "latency"):
        raise SpecError(f"--x: unknown axis {x!r} (choose from macs, latency)")
    if x == "latency" and bench is None:
        raise SpecError("--x latency needs --bench FILE (a file written by archcalc bench --output)")
    latency = _bench_latency(bench) if bench is not None else {}
    default = [m for m in latency if _is_spec(m)] if x == "latency" else list(STANDARD_ACCURACY)
    reports = _reports(list(names) if names else default)
    notes, points = [], []
    for report in reports:
        figure = select(report.meta, choice)
        if figure is None:
            notes.append(f"{report.name}: not plotted, {missing_reason(report.meta, choice)}")
            continue
        if x == "latency":
            if report.name not in latency:
                notes.append(f"{report.name}: not plotted, no measured batch-1 inference row in {Path(bench.path).name}")
                continue
            value = latency[report.name]
        else:
            value = report.totals.macs / 1e9
        points.append((report.name, value, figure.top1, report.totals.inference_params, figure.from_torchvision))
    if not points:
        raise SpecError("no network to plot: " + "; ".join(notes))
    series = []
    for from_tv, label, style in ((True, "torchvision weights", "points"), (False, "paper's figure", "hollow")):
        chosen_points = [p for p in points if p[4] == from_tv]
        if chosen_points:
            series.append(Series(label, tuple(p[1] for p in chosen_points), tuple(p[2] for p in chosen_points),
                                 sizes=tuple(p[3] for p in chosen_points),
                                 point_labels=tuple(p[0] for p in chosen_points), style=style))
    if x == "latency":
        assert bench is not None
        dtype, device = _latency_setting(bench)
        xlabel = "measured latency, batch 1 (ms, log scale)"
        title = "ImageNet top-1 accuracy vs measured latency"
        measured = f" Latency: median, {bench.label}, {device}, {dtype} ({Path(bench.path).name})."
    else:
        xlabel = "multiply-adds per image at the network's input size (G MACs, log scale)"
        title = "ImageNet top-1 accuracy vs multiply-adds"
        measured = ""
    caption = (f"Bubble area ∝ parameters used at inference (archcalc, exact). Top-1: {DESCRIPTIONS[choice]}; "
               f"hollow bubbles are the paper's figure.{measured}")
    panel = Panel("bubble", xlabel, "top-1 accuracy, ImageNet val (%)", tuple(series), xscale="log")
    return Figure("accuracy", title, caption, (panel,), tuple(notes))


def _is_spec(name: str) -> bool:
    from .spec import find

    try:
        find(name)
    except SpecError:
        return False
    return True


def _latency_setting(bench: BenchFile) -> tuple[str, str]:
    """The (dtype, device) of the latency axis: float32 where measured, else the first measured dtype."""
    measured = [r for r in bench.results if r.measured and not r.train and r.batch == 1]
    if not measured:
        raise SpecError("no measured batch-1 inference rows to plot", file=bench.path)
    dtypes = [r.dtype for r in measured]
    dtype = "float32" if "float32" in dtypes else dtypes[0]
    return dtype, next(r.device for r in measured if r.dtype == dtype)


def _bench_latency(bench: BenchFile) -> dict[str, float]:
    dtype, device = _latency_setting(bench)
    return {r.model: r.median_ms for r in bench.results
            if r.measured and not r.train and r.batch == 1 and r.dtype == dtype and r.device == device}


# --------------------------------------------------------------------------------------------
# per-layer bars


def _layer_value(row: Row, metric: str, nbytes: int) -> int:
    if metric == "memory":
        return row.stored_activations * nbytes
    return row.params if metric == "params" else row.macs


def _groups(rows: Sequence[Row]) -> list[tuple[str, list[Row]]]:
    """Rows grouped by name prefix, in execution order: the deepest prefix level that still gives
    at most MAX_BARS groups (ResNet-152: conv1 ... layer1..layer4, fc; DenseNet-201:
    features.denseblock1, features.transition1, ...)."""
    def at(depth: int) -> dict[str, list[Row]]:
        groups: dict[str, list[Row]] = {}
        for row in rows:
            groups.setdefault(".".join(row.name.split(".")[:depth]), []).append(row)
        return groups

    depth = 1
    while len(at(depth + 1)) <= MAX_BARS and depth < max(len(r.name.split(".")) for r in rows):
        depth += 1
    return list(at(depth).items())


def _group_label(prefix: str, members: Sequence[Row]) -> str:
    weighted = sum(1 for r in members if r.type in WEIGHTED_TYPES)
    return f"{prefix} ({weighted} conv/fc)" if weighted > 1 else prefix


def layers_figure(name: str, metrics: Sequence[str] = ("memory", "params", "macs"), dtype: str = "float32",
                  params: Mapping[str, Any] | None = None, input: str | None = None) -> Figure:
    unknown = [m for m in metrics if m not in LAYER_METRICS]
    if unknown or not metrics:
        raise SpecError(f"--metric: unknown metric {unknown[0] if unknown else ''!r} (choose from {', '.join(LAYER_METRICS)})")
    report = analyze(name, dtype=dtype, params=params, input=input)
    nbytes = DTYPE_BYTES[dtype]
    rows = [r for r in report.rows if r.executed and any(_layer_value(r, m, nbytes) for m in metrics)]
    grouped = len(rows) > MAX_BARS
    if grouped:
        labelled = [(_group_label(prefix, members), members) for prefix, members in _groups(rows)]
    else:
        labelled = [(r.name, [r]) for r in rows]
    labels = tuple(label for label, _ in labelled)
    panels, summary = [], []
    for metric in metrics:
        title, base = LAYER_METRICS[metric]
        values = [sum(_layer_value(r, metric, nbytes) for r in members) for _, members in labelled]
        scaled, unit = _scaled(values, base)
        extra = f", {dtype}" if metric == "memory" else ""
        panels.append(Panel("barh", f"{title} ({unit}{extra})", "", (Series(title, labels, scaled),), title=title))
        total = sum(values)
        top = max(range(len(values)), key=values.__getitem__)
        summary.append(f"most {title}: {labels[top]} ({100 * values[top] / total:.0f}%)" if total else f"no {title}")
    per = "stored activations per image (in-place layers store nothing)" if "memory" in metrics else ""
    how = "grouped by stage (sums of their layers)" if grouped else "one bar per layer that stores, holds or computes something"
    found = "; ".join(summary)
    caption = f"{report.name} at {'x'.join(map(str, report.input[1:]))}: {how}; {per}. {found[0].upper()}{found[1:]}."
    names = [LAYER_METRICS[m][0] for m in metrics]
    what = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return Figure("layers", f"{report.name}: where the {what} are", caption,
                  tuple(panels), columns=len(panels))


# --------------------------------------------------------------------------------------------
# networks side by side

#: Totals fields of the memory panel: (field, label); training memory shows once the engine has it
MEMORY_FIELDS = (
    ("activation_bytes", "activations, all stored"),
    ("peak_activation_bytes", "peak live, inference"),
    ("train_peak_bytes", "peak, one training step (SGD)"),
)


def compare_figure(names: Sequence[str], dtype: str = "float32") -> Figure:
    if not names:
        raise SpecError("chart compare: name at least one network")
    # train=True adds the training memory (SGD, one step) beside the inference figures
    reports = _reports(names, dtype=dtype, train=True)
    labels = tuple(r.name for r in reports)
    params, punit = _scaled([r.totals.inference_params for r in reports], "count")
    macs, munit = _scaled([r.totals.macs for r in reports], "count")
    fields = [(f, label) for f, label in MEMORY_FIELDS if all(getattr(r.totals, f) is not None for r in reports)]
    memory_values = [getattr(r.totals, f) for f, _ in fields for r in reports]
    divisor, bunit = scale(memory_values, "bytes")
    memory = tuple(Series(label, labels, tuple(getattr(r.totals, f) / divisor for r in reports)) for f, label in fields)
    panels = (
        Panel("barh", f"parameters at inference ({punit})", "", (Series("parameters", labels, params),), title="parameters"),
        Panel("barh", f"multiply-adds per image ({munit})", "", (Series("multiply-adds", labels, macs),), title="multiply-adds"),
        Panel("barh", f"memory per image ({bunit}, {dtype})", "", memory, title="memory"),
    )
    training = "" if any(f == "train_peak_bytes" for f, _ in fields) else " Training memory appears once the engine reports it."
    caption = (f"archcalc, exact, per image at each network's own input size, {dtype}. Parameters: those used at "
               f"inference (auxiliary heads excluded). Activations: every stored tensor, input included; peak: most "
               f"alive at once.{training}")
    return Figure("compare", "Networks side by side", caption, panels, columns=3)


# --------------------------------------------------------------------------------------------
# scaling with width, resolution or batch


def _varied_axis(result: Sweep) -> tuple[str, list[Any], str]:
    """(axis label, x values, name) of the one thing a sweep varies. A spec parameter that sets
    the input size (mobilenet_v1's resolution) varies the input with it: the parameter is the axis."""
    if not result.rows:
        raise SpecError("empty sweep: nothing to plot")

    def varies(values: list[Any]) -> bool:
        return len(set(map(str, values))) > 1

    params = [(f"{key} (spec parameter)", [r.param[key] for r in result.rows], key) for key in result.rows[0].param]
    others = [("input resolution H (pixels)", [r.input[1] for r in result.rows], "input"),
              ("batch size", [r.batch for r in result.rows], "batch")]
    varied = [c for c in params if varies(c[1])]
    varied += [c for c in others if varies(c[1]) and not (c[2] == "input" and varied)]
    if len(varied) != 1:
        what = ", ".join(c[2] for c in varied) or "nothing"
        raise SpecError(f"chart scaling varies one thing at a time (this sweep varies {what})")
    return varied[0]


def scaling_figure(result: Sweep) -> Figure:
    label, xs, key = _varied_axis(result)
    if any(isinstance(x, str) for x in xs):
        raise SpecError(f"chart scaling: --param {key} values must be numbers, got {', '.join(map(str, xs))}")
    totals = [r.totals for r in result.rows]
    per = "for the whole batch" if key == "batch" else "per image"
    macs, munit = _scaled([t.macs for t in totals], "count")
    params, punit = _scaled([t.inference_params for t in totals], "count")
    divisor, bunit = scale([t.activation_bytes for t in totals], "bytes")
    def line(name: str, ys: Sequence[float]) -> Series:  # each point labelled with its value
        return Series(name, tuple(xs), tuple(ys), point_labels=tuple(f"{y:.3g}" for y in ys), style="line")

    memory = tuple(line(lab, [getattr(t, f) / divisor for t in totals])
                   for f, lab in MEMORY_FIELDS if all(getattr(t, f) is not None for t in totals))
    # batch sizes grow geometrically (1, 8, 64, ...): log axes spread them; costs grow linearly with batch
    log = "log" if key == "batch" else "linear"
    label += ", log scale" if key == "batch" else ""
    panels = (
        Panel("xy", label, f"multiply-adds {per} ({munit})", (line("multiply-adds", macs),), title="multiply-adds",
              xscale=log, yscale=log),
        Panel("xy", label, f"parameters at inference ({punit})", (line("parameters", params),), title="parameters",
              xscale=log),
        Panel("xy", label, f"memory {per} ({bunit}, {result.dtype})", memory, title="memory", xscale=log, yscale=log),
    )
    fixed = [f"{k}={v}" for k, v in result.rows[0].param.items() if k != key]
    if key != "input" and len({r.input for r in result.rows}) == 1:
        fixed.append(f"input {'x'.join(map(str, result.rows[0].input[1:]))}")
    if key != "batch":
        fixed.append(f"batch {result.rows[0].batch}")
    caption = f"{result.name}: totals from archcalc sweep ({', '.join(fixed)}); exact counts, drawn to scale."
    return Figure("scaling", f"{result.name}: how the costs grow with {key}", caption, panels, columns=3)


# --------------------------------------------------------------------------------------------
# benchmark files


def traffic(graph: Graph, report: Report) -> int:
    """Bytes a layer-by-layer execution moves, the roofline's denominator: for every executed
    layer that computes (MACs or other ops), its inputs read + its output written, plus every
    parameter used at inference read once, at the report's dtype and batch. Pure data movement
    (concat, flatten, shuffles) is left out."""
    moved = 0
    for node, row in zip(graph.nodes, report.rows):
        if row.executed and (row.macs or row.other_ops):
            moved += sum(graph.nodes[i].activations for i in node.inputs) * report.batch + row.activations
    return (moved + report.totals.inference_params) * DTYPE_BYTES[report.dtype]


def arithmetic_intensity(model: str, batch: int, dtype: str) -> tuple[float, int] | None:
    """(FLOP per byte, FLOPs for the batch) of a benchmark row's model, or None if archcalc
    cannot analyse it (a Python model reference: its FLOPs are not in the file)."""
    from .spec import build, find

    try:
        graph = build(find(model))
    except SpecError:
        return None
    report = summarize(graph, batch=batch, dtype=dtype if dtype in DTYPE_BYTES else "float32")
    flops = 2 * report.totals.macs  # 1 multiply-add = 2 FLOPs, as the bench's TFLOP/s
    return flops / traffic(graph, report), flops


_ORDER = {"float64": 0, "float32": 1, "bfloat16": 2, "float16": 3, "int8": 4}


def bench_figure(bench: BenchFile) -> Figure:
    measured = [r for r in bench.results if r.measured]
    inference = [r for r in measured if not r.train]
    if not inference:
        raise SpecError("no measured inference rows to plot", file=bench.path)
    notes = [f"{r.model} batch {r.batch} {r.dtype}{' train' if r.train else ''}: {r.status}, not plotted"
             for r in bench.results if not r.measured]
    settings = sorted({(r.device, r.dtype) for r in inference}, key=lambda s: (s[0], _ORDER.get(s[1], 9), s[1]))
    costs: dict[tuple[str, int, str], tuple[float, int] | None] = {}
    for r in inference:
        costs.setdefault((r.model, r.batch, r.dtype), arithmetic_intensity(r.model, r.batch, r.dtype))
    unknown = sorted({r.model for r in inference if costs[(r.model, r.batch, r.dtype)] is None})
    notes += [f"{m}: not a built-in network or spec file, left out of the MACs and roofline panels" for m in unknown]

    latency_macs = []
    for device, dtype in settings:
        rows = [r for r in inference if (r.device, r.dtype) == (device, dtype) and costs[(r.model, r.batch, r.dtype)]]
        if rows:
            latency_macs.append(Series(f"{device} {dtype}", tuple(costs[(r.model, r.batch, r.dtype)][1] / 2e9 for r in rows),
                                       tuple(r.median_ms for r in rows), point_labels=tuple(f"{r.model} b{r.batch}" for r in rows)))
    first = settings[0]
    models = sorted({r.model for r in inference if (r.device, r.dtype) == first})
    per_batch = []
    for model in models:
        rows = sorted((r for r in inference if (r.model, r.device, r.dtype) == (model, *first)), key=lambda r: r.batch)
        per_batch.append(Series(model, tuple(r.batch for r in rows), tuple(r.median_ms / r.batch for r in rows), style="line"))
    memory_rows = [r for r in measured if r.peak_memory_bytes and r.predicted_memory_bytes]
    memory = [Series(f"{d} {t}", tuple(r.predicted_memory_bytes / MIB for r in rows), tuple(r.peak_memory_bytes / MIB for r in rows),
                     point_labels=tuple(f"{r.model} b{r.batch}{' train' if r.train else ''}" for r in rows))
              for d, t in sorted({(r.device, r.dtype) for r in memory_rows}, key=lambda s: (s[0], _ORDER.get(s[1], 9), s[1]))
              for rows in [[r for r in memory_rows if (r.device, r.dtype) == (d, t)]]]
    if memory:
        every = [v for s in memory for v in (*s.x, *s.y)]
        memory.append(Series("measured = predicted", (min(every), max(every)), (min(every), max(every)), style="reference"))
    roof_points, roofs, missing_peaks = [], [], []
    for device, dtype in settings:
        rows = [r for r in inference if (r.device, r.dtype) == (device, dtype) and costs[(r.model, r.batch, r.dtype)]]
        if not rows:
            continue
        x = tuple(costs[(r.model, r.batch, r.dtype)][0] for r in rows)
        y = tuple(costs[(r.model, r.batch, r.dtype)][1] / (r.median_ms / 1e3) / 1e12 for r in rows)
        roof_points.append(Series(f"{device} {dtype}", x, y, point_labels=tuple(f"{r.model} b{r.batch}" for r in rows)))
        flops, bandwidth = bench.peak("peak_flops", dtype), bench.peak("peak_bandwidth", dtype)
        if flops and bandwidth:
            ridge = flops / bandwidth
            lo, hi = min(min(x), ridge) / 4, max(max(x), ridge) * 4
            roofs.append(Series(f"roof {dtype}: {flops / 1e12:g} TFLOP/s, {bandwidth / 1e9:g} GB/s",
                                (lo, ridge, hi), (lo * bandwidth / 1e12, flops / 1e12, flops / 1e12), style="reference",
                                belongs_to=f"{device} {dtype}"))
        else:
            missing_peaks.append(dtype)
    roof_note = (f" No device peaks for {', '.join(missing_peaks)} in the file's environment (peak_flops, peak_bandwidth): "
                 "no roof drawn." if missing_peaks else "")
    panels = (
        Panel("xy", "multiply-adds for the batch (G MACs, archcalc, log)", "median latency (ms, log)", tuple(latency_macs),
              title="latency vs multiply-adds", xscale="log", yscale="log"),
        Panel("xy", "batch size (log)", "median latency per image (ms, log)", tuple(per_batch),
              title=f"latency per image vs batch ({first[0]} {first[1]})", xscale="log", yscale="log"),
        Panel("xy", "predicted peak memory (MiB, archcalc, log)", "measured peak memory (MiB, log)", tuple(memory),
              title="memory: measured vs predicted", xscale="log", yscale="log"),
        Panel("xy", "arithmetic intensity (FLOP/byte, archcalc, log)", "achieved TFLOP/s (log)", (*roof_points, *roofs),
              title="roofline", xscale="log", yscale="log"),
    )
    caption = (f"{bench.label} ({Path(bench.path).name}): median of timed runs; inference rows (training rows only in the memory panel). "
               "FLOPs = 2 × MACs × batch; bytes = every computing layer's inputs and output plus the weights, at the "
               f"row's dtype.{roof_note}")
    return Figure("bench", f"Benchmark: {bench.label}", caption, panels, tuple(notes), columns=2)

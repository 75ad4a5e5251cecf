"""Drawing a Figure (archcalc/figures.py) with matplotlib — the only module that imports it.

Styles are chosen to survive grayscale printing and colour-blind readers: the Okabe–Ito palette
(Okabe & Ito 2008, "Color Universal Design") together with distinct markers, line styles and
bar hatches, so no series is told apart by colour alone. Point labels are placed so that they
never overlap each other or leave the axes (``_place_labels``); the file format follows the
extension (.png, .svg, .pdf) and is written atomically and deterministically.
"""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SpecError
from .figures import Figure, Panel, Series
from .fileio import write_atomic

FORMATS = ("png", "svg", "pdf")
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":")
HATCHES = ("", "///", "...", "xx")
#: bubble area in points² per million parameters: one fixed scale, so charts compare
BUBBLE_PT2_PER_MPARAM = 12.0
WIDTH_IN = 9.0  # 900 px at 100 dpi: README width
DPI = 100


@dataclass(frozen=True)
class Box:
    """A drawn label, in display pixels: tests check that none overlap or leave their axes."""

    panel: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: "Box", pad: float = 1.0) -> bool:
        return not (self.x1 + pad <= other.x0 or other.x1 + pad <= self.x0 or self.y1 + pad <= other.y0 or other.y1 + pad <= self.y0)


@dataclass(frozen=True)
class Drawn:
    labels: tuple[Box, ...]
    axes: tuple[Box, ...]  # one per panel: the plotting area


def output_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise SpecError(f"--out {path}: unknown image format {suffix or '(none)'!r} (use .png, .svg or .pdf)")
    return suffix


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


#: matplotlib settings for archcalc's charts, applied only while drawing (the caller's are untouched);
#: a fixed SVG hash salt makes SVG output identical run to run
RC = {"svg.hashsalt": "archcalc", "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9,
      "legend.fontsize": 8, "xtick.labelsize": 8, "ytick.labelsize": 8}


def draw(figure: Figure, path: str | Path) -> Drawn:
    """Draw ``figure`` to ``path``; returns where the labels went."""
    fmt = output_format(path)
    plt = _pyplot()
    with plt.rc_context(RC):
        return _draw(plt, figure, path, fmt)


def _draw(plt: Any, figure: Figure, path: str | Path, fmt: str) -> Drawn:
    columns = max(1, figure.columns)
    rows = math.ceil(len(figure.panels) / columns)
    bars = max((len(s.x) for p in figure.panels if p.kind == "barh" for s in p.series), default=0)
    bubble = any(p.kind == "bubble" for p in figure.panels)
    panel_height = max(3.2, 0.2 * bars + 1.0) if bars else (6.0 if bubble else 3.8)
    fig, axes = plt.subplots(rows, columns, figsize=(WIDTH_IN, panel_height * rows + 1.2), dpi=DPI,
                             squeeze=False, layout="constrained", sharey="row" if bars else False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[len(figure.panels):]:
        ax.set_visible(False)
    pending = []
    for index, (panel, ax) in enumerate(zip(figure.panels, flat)):
        if panel.kind == "barh":
            _barh(ax, panel, first=index % columns == 0)
        else:
            pending.append((index, ax, _xy(ax, panel)))
    fig.suptitle(figure.title, fontsize=11)
    fig.supxlabel("\n".join(textwrap.wrap(figure.caption, 140)), fontsize=8, color="#333333")
    fig.canvas.draw()  # run the layout once, then freeze it so placing labels moves no axes
    fig.set_layout_engine("none")
    boxes: list[Box] = []
    for index, ax, (points, lines) in pending:
        boxes += _place_labels(fig, ax, index, points, lines)
    axes_boxes = tuple(Box(i, "", *ax.get_window_extent().extents) for i, ax in enumerate(flat[: len(figure.panels)]))
    buffer = io.BytesIO()
    metadata = {"png": {"Software": "archcalc"}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
    fig.savefig(buffer, format=fmt, metadata=metadata)
    plt.close(fig)
    write_atomic(path, buffer.getvalue())
    return Drawn(tuple(boxes), axes_boxes)


# --------------------------------------------------------------------------------------------
# panels


def _style(i: int) -> dict[str, Any]:
    return {"color": OKABE_ITO[i % len(OKABE_ITO)], "marker": MARKERS[i % len(MARKERS)],
            "linestyle": LINESTYLES[i % len(LINESTYLES)]}


def _barh(ax: Any, panel: Panel, first: bool) -> None:
    categories = panel.series[0].x
    n = len(panel.series)
    height = 0.8 / n
    for i, series in enumerate(panel.series):
        offsets = [k - 0.4 + height * (i + 0.5) for k in range(len(categories))]
        ax.barh(offsets, series.y, height=height, color=OKABE_ITO[i % len(OKABE_ITO)], hatch=HATCHES[i % len(HATCHES)],
                edgecolor="black", linewidth=0.4, label=series.label)
        for y, value in zip(offsets, series.y):
            if value:
                ax.text(value, y, f" {value:.3g}", va="center", ha="left", fontsize=6.5 if len(categories) > 20 else 7.5)
    ax.set_yticks(range(len(categories)))
    if first:  # the panels of a row share the categories: names once, on the left
        ax.set_yticklabels(categories)
    else:
        ax.tick_params(labelleft=False)
    ax.set_ylim(len(categories) - 0.5, -0.5)  # first category on top
    largest = max((v for s in panel.series for v in s.y), default=1) or 1
    ax.set_xlim(0, largest * 1.28)  # room for the value printed after the longest bar
    ax.set_xlabel(panel.xlabel)
    ax.grid(True, axis="x", alpha=0.3)
    if n > 1:  # above the panel, where it can hide no bar
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), frameon=False, ncol=1, borderaxespad=0.2)


def _xy(ax: Any, panel: Panel) -> tuple[list[tuple[float, float, float, str]], list[Series]]:
    """Draw an xy or bubble panel; returns the points to label, (x, y, radius in px, text), and
    the series drawn as lines (labels keep off them)."""
    import matplotlib.ticker

    points: list[tuple[float, float, float, str]] = []
    if not any(s.x for s in panel.series if s.style != "reference"):
        ax.text(0.5, 0.5, "no data for this panel (see the notes)", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(panel.title)
        ax.set_xticks([])
        ax.set_yticks([])
        return points, []
    styled = 0
    colours = {s.label: _style(i)["color"] for i, s in enumerate(x for x in panel.series if x.style != "reference")}
    for series in panel.series:
        if series.style == "reference":
            ax.plot(series.x, series.y, color=colours.get(series.belongs_to, "#555555"), linestyle="--", linewidth=1.0,
                    label=series.label, zorder=1)
            continue
        style = _style(styled)
        styled += 1
        if panel.kind == "bubble":
            sizes = [BUBBLE_PT2_PER_MPARAM * s / 1e6 for s in series.sizes]
            hollow = series.style == "hollow"
            ax.scatter(series.x, series.y, s=sizes, facecolors="none" if hollow else style["color"],
                       edgecolors=style["color"] if hollow else "black", linewidths=1.6 if hollow else 0.5,
                       linestyle="--" if hollow else "-", alpha=1.0 if hollow else 0.5, label=series.label, zorder=3)
            radii = [math.sqrt(s) / 2 * DPI / 72 for s in sizes]
        else:
            line = style["linestyle"] if series.style == "line" else "none"
            ax.plot(series.x, series.y, marker=style["marker"], color=style["color"], linestyle=line, markersize=5,
                    label=series.label, zorder=3)
            radii = [5 * DPI / 72 / 2] * len(series.x)
        points += [(x, y, r, t) for x, y, r, t in zip(series.x, series.y, radii, series.point_labels)]
    ax.set_xscale(panel.xscale)
    ax.set_yscale(panel.yscale)
    for axis, scale_name in ((ax.xaxis, panel.xscale), (ax.yaxis, panel.yscale)):
        if scale_name == "log":  # plain numbers at 1, 2, 5 x 10^k: no 4x10^0 labels
            axis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(panel.ylabel)
    ax.set_title(panel.title)
    ax.grid(True, which="major", alpha=0.3)
    _pad_limits(ax, panel)
    if panel.kind == "bubble":
        _bubble_legend(ax, panel)
    elif len(panel.series) > 1:
        ax.legend(loc="best", frameon=True, ncol=2 if len(panel.series) > 6 else 1)
    return points, [s for s in panel.series if s.style in ("line", "reference")]


def _pad_limits(ax: Any, panel: Panel) -> None:
    """Room around the data for bubbles and labels (a fixed fraction of the range)."""
    xs = [x for s in panel.series if s.style != "reference" or s.belongs_to for x in s.x]  # a roof's ridge shows
    ys = [y for s in panel.series if s.style != "reference" for y in s.y]
    if not xs:
        return
    pad = 0.4 if panel.kind == "bubble" else 0.25

    def padded(values: list[float], scale_name: str, extra: float) -> tuple[float, float]:
        lo, hi = min(values), max(values)
        if scale_name == "log":
            span = max(math.log10(hi / lo), 0.3)
            return lo / 10 ** (span * extra * 0.5), hi * 10 ** (span * extra * 0.5)
        span = (hi - lo) or abs(hi) or 1
        return lo - span * extra * 0.5, hi + span * extra * 0.5

    ax.set_xlim(*padded(xs, panel.xscale, pad))
    ylo, yhi = padded(ys, panel.yscale, pad if panel.kind == "bubble" else 0.35)
    refs = [y for s in panel.series if s.style == "reference" for y in s.y]
    if refs and panel.yscale == "log":
        yhi = max(yhi, max(refs) * 2)
    if panel.yscale == "linear" and min(ys) >= 0 and panel.kind != "bubble":
        ylo = 0  # counts and sizes: drawn from zero, so heights compare
    ax.set_ylim(ylo, yhi)


def _bubble_legend(ax: Any, panel: Panel) -> None:
    from matplotlib.lines import Line2D

    handles = []
    for i, series in enumerate(s for s in panel.series if s.style != "reference"):
        color = OKABE_ITO[i % len(OKABE_ITO)]
        hollow = series.style == "hollow"
        handles.append(Line2D([], [], marker="o", linestyle="none", markersize=8, label=series.label,
                              markerfacecolor="none" if hollow else color, markeredgecolor=color if hollow else "black",
                              alpha=1 if hollow else 0.6))
    for mparams in (5, 25, 100):
        handles.append(Line2D([], [], marker="o", linestyle="none", color="#999999", alpha=0.5, markeredgecolor="black",
                              markersize=math.sqrt(BUBBLE_PT2_PER_MPARAM * mparams), label=f"{mparams}M params"))
    ax.legend(handles=handles, loc="lower right", frameon=True, labelspacing=1.3, borderpad=0.9, handlelength=3.2, handletextpad=1.2)


# --------------------------------------------------------------------------------------------
# labels that never overlap or leave the axes


def _line_samples(ax: Any, lines: list[Series], step: float = 3.0) -> list[tuple[float, float]]:
    """Points every ``step`` pixels along the drawn lines, in display coordinates."""
    samples = []
    for series in lines:
        xy = ax.transData.transform(list(zip(series.x, series.y)))
        for (x0, y0), (x1, y1) in zip(xy, xy[1:]):
            n = max(1, int(math.hypot(x1 - x0, y1 - y0) / step))
            samples += [(x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n) for k in range(n + 1)]
    return samples


def _place_labels(fig: Any, ax: Any, panel: int, points: list[tuple[float, float, float, str]],
                  lines: list[Series]) -> list[Box]:
    """Greedy placement: for each point, the nearest candidate position around it whose box stays
    inside the axes, overlaps no placed label and no legend, and covers as few other markers and
    lines as possible; far positions get a leader line. A label with no free position at all is not drawn
    and not returned: `archcalc chart` names it in a note (the tests check
    that every label of the zoo charts is placed)."""
    if not points:
        return []
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent()
    legend = ax.get_legend()
    blocked = [Box(panel, "legend", *legend.get_window_extent(renderer).extents)] if legend else []
    centres = [(*ax.transData.transform((x, y)), r) for x, y, r, _ in points]
    along = _line_samples(ax, lines)
    placed: list[Box] = []
    order = sorted(range(len(points)), key=lambda i: centres[i][0])
    for i in order:
        x, y, radius, text = points[i]
        cx, cy, _ = centres[i]
        artist = ax.text(0, 0, text, fontsize=8, transform=None)
        width, height = artist.get_window_extent(renderer).size
        best = None
        for ring, gap in enumerate((2, 8, 16, 28, 44, 64, 90, 125, 170, 230)):
            for angle in (0, 180, 90, 270, 35, 145, 325, 215, 60, 120, 300, 240):
                dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
                # box centre: outside the marker by `gap`, the box's half extent along the direction
                bx = cx + dx * (radius + gap + width / 2)
                by = cy + dy * (radius + gap + height / 2)
                box = Box(panel, text, bx - width / 2, by - height / 2, bx + width / 2, by + height / 2)
                if box.x0 < frame.x0 + 2 or box.x1 > frame.x1 - 2 or box.y0 < frame.y0 + 2 or box.y1 > frame.y1 - 2:
                    continue
                if any(box.overlaps(other, pad=2) for other in placed + blocked):
                    continue
                covered = sum(1 for j, (ox, oy, r) in enumerate(centres)
                              if j != i and box.x0 - r < ox < box.x1 + r and box.y0 - r < oy < box.y1 + r)
                crossed = any(box.x0 - 1 < lx < box.x1 + 1 and box.y0 - 1 < ly < box.y1 + 1 for lx, ly in along)
                score = covered * 60 + crossed * 25 + ring * 10 + (0 if angle in (0, 180, 90, 270) else 3)
                if best is None or score < best[0]:
                    best = (score, box, ring)
            if best is not None and best[0] < 10 * (ring + 1):
                break
        if best is None:
            artist.remove()
            continue
        _, box, ring = best
        to_axes = ax.transAxes.inverted().transform  # axes fractions survive the 72-dpi SVG/PDF backends
        artist.set_transform(ax.transAxes)
        artist.set_position(tuple(to_axes(((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2))))
        artist.set_ha("center")
        artist.set_va("center")
        artist.set_zorder(5)
        if ring >= 1:
            tx = min(max(cx, box.x0), box.x1)
            ty = min(max(cy, box.y0), box.y1)
            (ax0, ay0), (ax1, ay1) = to_axes([(cx, cy), (tx, ty)])
            ax.plot([ax0, ax1], [ay0, ay1], transform=ax.transAxes, color="#777777", linewidth=0.5, zorder=4)
        placed.append(box)
    return placed

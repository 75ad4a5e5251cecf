"""Charts (matplotlib lives here and nowhere else).

`accuracy_points` gathers the data — exact MACs and params from the engine, top-1 accuracy with
its source from each spec's metadata — and `accuracy_chart` draws it: accuracy versus
multiply-adds, bubble area proportional to parameters (Canziani et al. 2016's chart).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Iterable

from .analysis import analyze
from .fileio import write_atomic
from .report import headline_accuracy


@dataclass(frozen=True)
class Point:
    name: str
    macs: int
    params: int
    top1: float
    source: str


def accuracy_points(names: Iterable[str] | None = None) -> list[Point]:
    """Every network (or the given ones) with a top-1 figure in its metadata."""
    from .spec import zoo

    nets = zoo()
    chosen = list(names) if names else sorted(nets)
    points = []
    for name in chosen:
        top1, _, source = headline_accuracy(dict(nets[name].meta) if name in nets else {})
        if not top1:
            continue
        totals = analyze(name).totals
        points.append(Point(name, totals.macs, totals.inference_params, float(top1), source))
    return points


def accuracy_chart(points: list[Point], path: str, title: str = "ImageNet top-1 accuracy vs multiply-adds") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=(10, 6.5), dpi=110)
    largest = max(p.params for p in points)
    for p in points:
        ax.scatter(p.macs / 1e9, p.top1, s=40 + 2400 * p.params / largest, alpha=0.45, edgecolors="black", linewidths=0.6)
        ax.annotate(p.name, (p.macs / 1e9, p.top1), fontsize=7, ha="center", va="bottom", xytext=(0, 5), textcoords="offset points")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("multiply-adds per image at the network's input size (G MACs, log scale) — archcalc, exact")
    ax.set_ylabel("top-1 accuracy (%)")
    sources = sorted({p.source for p in points})
    ax.set_title(f"{title}\nbubble area ∝ parameters; accuracy: {'; '.join(sources)}", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.rsplit(".", 1)[-1] if "." in path else "png")
    plt.close(fig)
    write_atomic(path, buffer.getvalue())


def chart(kind: str, names: Any, path: str) -> int:
    if kind != "accuracy":
        raise ValueError(kind)
    points = accuracy_points(names)
    accuracy_chart(points, path)
    return len(points)

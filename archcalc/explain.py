"""`archcalc explain`: every number of one layer with its derivation.

The working is not a second implementation: the layer's own methods (the ones the engine uses)
run once more on *traced* numbers, values that carry the text of how they were computed. A conv
layer on a 227×227×3 input, traced, gives ``⌊(227 + 2·0 − 1·(11 − 1) − 1) / 4⌋ + 1 = 55``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import fields as dataclass_fields
from typing import Any

from .graph import Graph, Node, gate_inputs
from .layers import Layer, fmt_shape

ATOM, PRODUCT, SUM = 3, 2, 1


class Traced:
    """An integer with the text of its derivation. Arithmetic builds both; comparisons and
    truth tests use the value, so the engine's checks and branches behave as usual."""

    __slots__ = ("value", "text", "prec")

    def __init__(self, value: Any, text: str | None = None, prec: int = ATOM) -> None:
        self.value = value
        self.text = str(value) if text is None else text
        self.prec = prec

    # building -------------------------------------------------------------------------
    @staticmethod
    def lift(x: Any) -> "Traced":
        return x if isinstance(x, Traced) else Traced(x)

    def _wrap(self, limit: int) -> str:
        return f"({self.text})" if self.prec < limit else self.text

    def _sum(self, other: Any, sign: str, reverse: bool = False) -> Any:
        a, b = (Traced.lift(other), self) if reverse else (self, Traced.lift(other))
        value = a.value + b.value if sign == "+" else a.value - b.value
        if b.text == "0":  # adding nothing: keep the text short
            return Traced(value, a.text, a.prec)
        right = b._wrap(PRODUCT) if sign == "−" else b.text
        return Traced(value, f"{a.text} {sign} {right}", SUM)

    def __add__(self, o: Any) -> Any:
        return self._sum(o, "+")

    def __radd__(self, o: Any) -> Any:
        return self if o == 0 and not isinstance(o, Traced) else self._sum(o, "+", reverse=True)

    def __sub__(self, o: Any) -> Any:
        return self._sum(o, "−")

    def __rsub__(self, o: Any) -> Any:
        return self._sum(o, "−", reverse=True)

    def _product(self, other: Any, reverse: bool = False) -> "Traced":
        a, b = (Traced.lift(other), self) if reverse else (self, Traced.lift(other))
        if a.text == "1":
            return Traced(a.value * b.value, b.text, b.prec)
        if b.text == "1":
            return Traced(a.value * b.value, a.text, a.prec)
        return Traced(a.value * b.value, f"{a._wrap(PRODUCT)}·{b._wrap(ATOM)}", PRODUCT)

    def __mul__(self, o: Any) -> "Traced":
        return self._product(o)

    def __rmul__(self, o: Any) -> "Traced":
        return self._product(o, reverse=True)

    def __floordiv__(self, o: Any) -> "Traced":
        b = Traced.lift(o)
        if b.text == "1":
            return Traced(self.value // b.value, self.text, self.prec)
        return Traced(self.value // b.value, f"⌊{self._wrap(PRODUCT)} / {b._wrap(ATOM)}⌋", ATOM)

    def __rfloordiv__(self, o: Any) -> "Traced":
        return Traced.lift(o).__floordiv__(self)

    def __mod__(self, o: Any) -> Any:
        return self.value % (o.value if isinstance(o, Traced) else o)

    def __neg__(self) -> "Traced":
        return Traced(-self.value, f"−{self._wrap(ATOM)}", ATOM)

    # reading --------------------------------------------------------------------------
    def __index__(self) -> int:
        return int(self.value)

    __int__ = __index__

    def __bool__(self) -> bool:
        return bool(self.value)

    def __eq__(self, o: Any) -> bool:
        return self.value == (o.value if isinstance(o, Traced) else o)

    def __hash__(self) -> int:
        return hash(self.value)

    def __lt__(self, o: Any) -> bool:
        return self.value < (o.value if isinstance(o, Traced) else o)

    def __le__(self, o: Any) -> bool:
        return self.value <= (o.value if isinstance(o, Traced) else o)

    def __gt__(self, o: Any) -> bool:
        return self.value > (o.value if isinstance(o, Traced) else o)

    def __ge__(self, o: Any) -> bool:
        return self.value >= (o.value if isinstance(o, Traced) else o)

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return f"Traced({self.value}, {self.text!r})"


def _trace_value(v: Any) -> Any:
    if isinstance(v, bool) or not isinstance(v, (int, tuple)):
        return v
    if isinstance(v, tuple):
        return tuple(_trace_value(x) for x in v)
    return Traced(v)


def traced_layer(layer: Layer) -> Layer:
    """A copy of the layer whose integer fields are traced (the engine's layer is not touched)."""
    twin = copy.copy(layer)
    for name in layer.fields:
        setattr(twin, name, _trace_value(getattr(layer, name)))
    return twin


WIDTH = 14


def _line(label: str, t: Any, unit: str = "") -> str:
    t = Traced.lift(t)
    value = f"{t.value:,}"
    return f"{label:<{WIDTH}} {value}{unit}" if t.text in (str(t.value), value) else f"{label:<{WIDTH}} {t.text} = {value}{unit}"


def explain(graph: Graph, node: Node, dtype_bytes: int = 4) -> list[str]:
    """The working of every number of one layer, as lines of text."""
    if node.layer is None:
        c, *hw = node.shape
        elements = Traced(c) * Traced(hw[0]) * Traced(hw[1]) if hw else Traced(c)
        return [f"{node.name}: the input, {fmt_shape(node.shape)}", _line("memory", elements, f" values × {dtype_bytes} B")]
    inputs = [tuple(Traced(s) for s in graph.nodes[i].shape) for i in node.inputs]
    layer = traced_layer(node.layer)
    out = layer.output(inputs)
    alias = next((a for a, path in (graph.meta.get("aliases") or {}).items() if path == node.name), None)
    title = f"{node.name} ({alias})" if alias else node.name
    lines = [f"{title}: {node.type} {node.layer.describe()}".rstrip(),
             f"{'input':<{WIDTH}} " + ", ".join(fmt_shape(graph.nodes[i].shape) for i in node.inputs)]
    if len(out) == 3 and len(inputs[0]) == 3 and node.layer.arity == 1:
        h, w = Traced.lift(out[1]), Traced.lift(out[2])
        if h.text != str(h.value):
            lines.append(_line("output H, W" if h.text == w.text else "output H", h))
            if h.text != w.text:
                lines.append(_line("output W", w))
    lines.append(f"{'output':<{WIDTH}} {fmt_shape(node.shape)}")
    # costs are read off the output size itself, not its derivation again: 55·55·(96·3·11·11)
    out = tuple(Traced(int(v)) for v in out)
    cost = layer.cost(inputs, out)
    for f in dataclass_fields(cost):
        value = getattr(cost, f.name)
        if f.name == "params" or (value and f.name in ("biases", "buffers", "macs", "other_ops", "fvcore_extra")):
            label = {"params": "params", "biases": "  biases", "buffers": "buffers", "macs": "MACs",
                     "other_ops": "other ops", "fvcore_extra": "fvcore extra"}[f.name]
            lines.append(_line(label, value))
    elements = Traced(1)
    for s in out:
        elements = elements * Traced.lift(s)
    if node.inplace:
        lines.append(f"{'memory':<{WIDTH}} none: reuses its input's memory ({fmt_shape(node.shape)} = {node.activations:,} values)")
    else:
        lines.append(_line("memory", elements, f" values × {dtype_bytes} B = {node.activations * dtype_bytes:,} B"))
    rf = node.rf
    parents = [graph.nodes[i].rf for i in node.inputs]
    label = "recept. field"
    if len(parents) > 1:
        gates = gate_inputs(node.type, node.inputs, [graph.nodes[i].shape for i in node.inputs], node.shape)
        how = ("the convolutional path's; +g: the gate adds whole-image context" if gates
               else "the largest over its inputs")
        lines.append(f"{label:<{WIDTH}} {rf.text()}, stride {rf.jump[0]} ({how})")
    elif len(graph.nodes[node.inputs[0]].shape) != 3:
        lines.append(f"{label:<{WIDTH}} {rf.text()} (unchanged: a flat input), stride {rf.jump[0]}")
    else:
        p, window = parents[0], node.layer.window([graph.nodes[node.inputs[0]].shape])
        k, stride = window.kernel[0], window.stride[0]
        if k > 1 or stride > 1:
            lines.append(f"{label:<{WIDTH}} {p.size[0]} + ({k} − 1)·{p.jump[0]} = {rf.size[0]}, stride {p.jump[0]}·{stride} = {rf.jump[0]}")
        else:
            lines.append(f"{label:<{WIDTH}} {rf.size[0]} (unchanged), stride {rf.jump[0]}")
    return lines


def _sum_line(label: str, parts: list[tuple[str, int]], total: int, unit: str = "") -> str:
    """`label  a (part) + b (part) + ... = total`; long sums name the parts listed below instead."""
    terms = [(n, v) for n, v in parts if v]
    if len(terms) <= 1 or len(terms) > 6:
        how = "" if len(terms) <= 1 else f"sum of the {len(terms)} parts below = "
        return f"{label:<{WIDTH}} {how}{total:,}{unit}"
    return f"{label:<{WIDTH}} " + " + ".join(f"{v:,} ({n})" for n, v in terms) + f" = {total:,}{unit}"


def explain_scope(graph: Graph, scope: Any, dtype_bytes: int = 4) -> list[str]:
    """A block or stage: its subtotals as sums of its parts (the scopes one level down), with
    each part's own numbers. Every value is a sum of the engine's rows."""
    from .analysis import WEIGHTED_TYPES, scopes
    from .report import rf_text

    index = {n.name: n for n in graph.nodes}
    inside = {r.name for r in scope.rows}
    first = index[scope.rows[0].name]
    entry = [graph.nodes[i] for i in first.inputs if graph.nodes[i].name not in inside]
    parts = [p for p in scopes(scope.rows, scope.depth + 1) if p.depth == scope.depth + 1]
    weighted = sum(1 for r in scope.rows if r.type in WEIGHTED_TYPES)
    alias = next((a for a, path in (graph.meta.get("aliases") or {}).items() if path == scope.name), None)
    title = f"{scope.name} ({alias})" if alias else scope.name
    lines = [f"{title}: a group of {len(scope.rows)} rows, {weighted} of them conv + linear",
             f"{'input':<{WIDTH}} " + ", ".join(f"{fmt_shape(n.shape)} (from {n.name})" for n in entry),
             f"{'output':<{WIDTH}} {fmt_shape(scope.output)}",
             _sum_line("params", [(p.name, p.params) for p in parts], scope.params),
             _sum_line("MACs", [(p.name, p.macs) for p in parts], scope.macs),
             _sum_line("memory", [(p.name, p.stored_activations) for p in parts], scope.stored_activations,
                       f" values × {dtype_bytes} B = {scope.stored_activations * dtype_bytes:,} B"),
             f"{'recept. field':<{WIDTH}} {rf_text(scope)} at its output",
             "parts:"]
    width = max(len(p.name) for p in parts)
    for p in parts:
        what = p.rows[0].type + " " + p.rows[0].config if p.leaf else f"{len(p.rows)} rows"
        lines.append(f"  {p.name:<{width}}  {what.strip():<22} {fmt_shape(p.output):>11}  params {p.params:>12,}  MACs {p.macs:>15,}")
    return lines


def find_node(graph: Graph, name: str, extra: Any = ()) -> Node:
    """A layer by path, or by its last component when that is unique (`conv1`, `CONV1`).
    ``extra``: more names (scopes) to suggest when nothing matches."""
    from .errors import SpecError

    exact = [n for n in graph.nodes if n.name == name or n.name.lower() == name.lower()]
    if exact:
        return exact[0]
    path = aliased(graph, name)
    if path is not None and any(n.name == path for n in graph.nodes):
        return next(n for n in graph.nodes if n.name == path)
    tail = [n for n in graph.nodes if n.name.split(".")[-1].lower() == name.lower()]
    if len(tail) == 1:
        return tail[0]
    import difflib

    names = [*(n.name for n in graph.nodes), *extra, *(graph.meta.get("aliases") or {})]
    lowered = {n.lower(): n for n in names}
    close = [lowered[c] for c in difflib.get_close_matches(name.lower(), list(lowered), n=3)]
    hint = f" (did you mean {', '.join(close)}?)" if close else f" ({len(tail)} layers end in {name!r})" if tail else ""
    raise SpecError(f"no layer {name!r} in {graph.name}{hint}")


def aliased(graph: Graph, name: str) -> str | None:
    """The layer or scope path a paper's name stands for (`fc6` -> `classifier.0`), any case."""
    aliases = graph.meta.get("aliases") or {}
    return next((path for alias, path in aliases.items() if alias.lower() == name.lower()), None)


#: the VGG paper's Table 1 notation for a layer: conv3-64 (3x3 conv, 64 filters), FC-4096
_PAPER_NOTATION = re.compile(r"^(?:conv(?P<k>\d+)|fc)-(?P<n>\d+)$", re.IGNORECASE)


def by_notation(graph: Graph, name: str) -> list[Node]:
    """The layers a paper-notation name such as `CONV3-64` or `FC-4096` describes (several
    layers may share one), in execution order; [] when the name is not in that notation."""
    m = _PAPER_NOTATION.match(name.strip())
    if not m:
        return []
    k, n = m.group("k"), int(m.group("n"))
    kind = "conv" if k else "linear"
    return [node for node in graph.nodes if node.type == kind and node.layer.out == n
            and (not k or node.layer.kernel == (int(k), int(k)))]


def explain_name(graph: Graph, name: str, dtype_bytes: int = 4) -> list[str]:
    """`explain NET NAME`: a layer's working, or a block's/stage's subtotals with its parts.
    NAME may be a paper's name the spec gives as an alias (conv1_1, fc6)."""
    from .analysis import find_scope, scopes, summarize

    name = aliased(graph, name) or name
    matches = [] if any(n.name.lower() == name.lower() for n in graph.nodes) else by_notation(graph, name)
    if matches:
        alias_of = {path: a for a, path in (graph.meta.get("aliases") or {}).items()}
        listed = ", ".join(n.name + (f" ({alias_of[n.name]})" if n.name in alias_of else "") for n in matches)
        head = [] if len(matches) == 1 else [f"{name} describes {len(matches)} layers: {listed}; the first:"]
        return head + explain(graph, matches[0], dtype_bytes)
    if not any(n.name.lower() == name.lower() for n in graph.nodes):
        report = summarize(graph)
        scope = find_scope(report, name)
        if scope is not None:
            return explain_scope(graph, scope, dtype_bytes)
        groups = [s.name for s in scopes(report.rows) if not s.leaf]
        return explain(graph, find_node(graph, name, groups), dtype_bytes)
    return explain(graph, find_node(graph, name), dtype_bytes)

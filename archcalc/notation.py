"""The lectures' layer notations as input (`archcalc layer`).

Each line becomes an ordinary spec item, so the engine, the tables and the JSON contract are the
same as for spec files. Accepted forms (case does not matter; a leading ``[55x55x96]`` or a
``[HxWxC]`` after the name is a stated volume, checked against the computed one):

    [227x227x3] INPUT                              INPUT: [224x224x3]
    CONV1: 96 11x11 filters at stride 4, pad 0     MAX POOL1: 3x3 filters at stride 2
    NORM1: Normalization layer                     FC6: 4096 neurons
    CONV3-64    CONV3-C    POOL2    FC 4096    FC-1000    FC: [1x1x4096]
    1x1 CONV with 32 filters     [3x3 conv, 192]     3x3 pool     3x3 conv, 64, stride 2
    relu    softmax    dropout    global average pool

Decisions (the slides leave them implicit): a ``KxK conv`` or ``CONVK-N`` without a stated
padding keeps the size (padding (K−1)/2, as in VGG and the Inception slides); a ``KxK pool``
without a stride keeps the size too (stride 1, as in the Inception module), ``POOLK`` is VGG's
K×K max pool at stride K, and AlexNet-style ``filters at stride S`` without a pad means pad 0.
An FC after a feature map gets a flatten before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import SpecError

ACCEPTED = """accepted forms:
  [227x227x3] INPUT | CONV1: 96 11x11 filters at stride 4, pad 0 | MAX POOL1: 3x3 filters at stride 2
  NORM1: Normalization layer | FC6: 4096 neurons | CONV3-64 | POOL2 | FC 4096 | FC-1000
  1x1 CONV with 32 filters | [3x3 conv, 192] | 3x3 pool | relu | softmax | dropout | global average pool"""

_SIZE = r"(\d+|[A-Za-z_]\w*)"
_VOLUME = re.compile(r"\[\s*([\w\s×x*+\-/]+?)\s*\]")
_NAME = re.compile(r"^\s*([A-Za-z][\w\- ]*?)\s*:\s*(.*)$")
_TRAILER = re.compile(r"\b(?:memory|params)\s*:", re.I)  # the VGG slide's "memory: ... params: ..." columns


@dataclass
class Parsed:
    items: list[Any]  # spec items
    input: str | None  # HxWxC from an INPUT line
    stated: dict[int, tuple[str, str]]  # index in items -> (line, stated volume text)


def _volume_text(text: str) -> str:
    return re.sub(r"\s*[×x*]\s*", "x", text.strip())


def _size(token: str) -> Any:
    return int(token) if token.isdigit() else token


def parse(text: str, source: str = "<layer>") -> Parsed:
    items: list[Any] = []
    stated: dict[int, tuple[str, str]] = {}
    input_volume = None
    flat = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().rstrip(",;")
        if not line or line.startswith("#"):
            continue
        volume = None
        lead = re.match(r"^\s*\[\s*([^\]]+?)\s*\]\s*(.*)$", line)
        body = line
        bracket_item = None
        if lead:
            inner, rest = lead.group(1), lead.group(2)
            if re.fullmatch(r"\d+\s*[x×]\s*\d+\s+\w+.*", inner) and not rest:
                bracket_item = inner  # "[3x3 conv, 192]": the whole item in brackets
            else:
                volume, body = _volume_text(inner), rest
        name = None
        m = _NAME.match(bracket_item or body)
        if m and not re.match(r"^\d+x\d+", m.group(1)):
            name, body = m.group(1).strip(), m.group(2)
            after = _VOLUME.search(body)
            if after and not re.search(r"filters?|neurons?", body[: after.start()], re.I):
                volume = volume or _volume_text(after.group(1))
        elif bracket_item:
            body = bracket_item
        if volume is None and not bracket_item:
            inside = _VOLUME.search(body)
            if inside and re.fullmatch(r"[\w]+(?:\s*[x×]\s*[\w]+){2}|\d+", inside.group(1).strip()):
                volume = _volume_text(inside.group(1))
        if not bracket_item:
            body = _TRAILER.split(_VOLUME.sub(" ", body))[0].strip()
        where = f"{source}: line {lineno}"
        item, is_input = _item(name, body, line, where)
        if is_input:
            input_volume = volume
            if not input_volume:
                raise SpecError(f"an INPUT line needs its volume, e.g. [227x227x3] INPUT: {line!r}", file=where)
            continue
        kind = next(iter(item))
        if kind == "linear" and not flat:
            items.append("flatten")
        flat = kind in ("linear", "flatten") or (flat and kind in ("relu", "dropout", "softmax"))
        items.append(item)
        if volume:
            stated[len(items) - 1] = (line, volume)
    if not items:
        raise SpecError(f"no layers found\n{ACCEPTED}", file=source)
    return Parsed(items, input_volume, stated)


def _local_name(name: str | None) -> dict[str, str]:
    if not name or not re.search(r"\d", name):  # "FC:" names a type, not a layer (VGG's slide has three)
        return {}
    return {"name": re.sub(r"\W+", "_", name.strip().lower()).strip("_")}


def _item(name: str | None, body: str, line: str, where: str) -> tuple[Any, bool]:
    head = (name or "").lower()
    text = body.strip()
    low = text.lower()
    named = _local_name(name)
    if "input" in head.split() or head == "input" or low == "input":
        return {}, True
    stride_m = re.search(r"stride\s+(\d+)", low)
    pad_m = re.search(r"pad(?:ding)?\s+(\d+)", low)
    stride = int(stride_m.group(1)) if stride_m else None
    # VGG style, in the name or the body: CONV3-64, CONV3-C, POOL2, FC-1000
    for token in filter(None, (name, text)):
        vm = re.fullmatch(r"\s*conv(\d+)\s*-\s*" + _SIZE + r"\s*(?::.*)?", token, re.I)
        if vm:
            k = int(vm.group(1))
            return {"conv": {"out": _size(vm.group(2)), "kernel": k, "padding": (k - 1) // 2, **_vgg_name(named, name, token)}}, False
        pm = re.fullmatch(r"\s*(max\s*|avg\s*|average\s*)?pool(\d+)\s*(?::.*)?", token, re.I)
        if pm and not re.search(r"\d+\s*x\s*\d+", text):
            k = int(pm.group(2))
            kind = "avgpool" if pm.group(1) and pm.group(1).strip().startswith(("avg", "average")) else "maxpool"
            return {kind: {"kernel": k, "stride": k, **_vgg_name(named, name, token)}}, False
    fc = re.fullmatch(r"(?:fc|fully connected)\s*[- ]?\s*(\d+)(?:\s+neurons?)?", low) or (
        "fc" in head and re.fullmatch(r"(\d+)\s*(?:neurons?)?(?:\s*\(.*\))?", low)
    )
    if fc:
        return {"linear": {"out": int(fc.group(1)), **named}}, False
    if head.startswith("fc") or low.startswith("fc"):
        vol = _VOLUME.search(line)
        if vol:
            return {"linear": {"out": _size(_volume_text(vol.group(1)).split("x")[-1]), **named}}, False
    if "norm" in head or "normalization" in low:
        return {"lrn": {"size": 5, **named}}, False
    if re.search(r"global\s+av(?:era)?g(?:e)?\s*pool", low):
        return {"adaptive_avgpool": {"out": 1, **named}}, False
    kernel = re.search(r"(\d+)\s*x\s*(\d+)", low)
    if "pool" in low or "pool" in head:
        if not kernel:
            raise SpecError(f"a pool needs its window, e.g. 3x3: {line!r}\n{ACCEPTED}", file=where)
        k = [int(kernel.group(1)), int(kernel.group(2))]
        kind = "avgpool" if re.search(r"\bav(?:era)?g", low + " " + head) else "maxpool"
        if stride is None:  # "3x3 pool" in a module keeps the size
            return {kind: {"kernel": k, "stride": 1, "padding": [(k[0] - 1) // 2, (k[1] - 1) // 2], **named}}, False
        return {kind: {"kernel": k, "stride": stride, "padding": int(pad_m.group(1)) if pad_m else 0, **named}}, False
    if "conv" in low or "conv" in head or "filter" in low:
        if not kernel:
            raise SpecError(f"a conv needs its kernel, e.g. 3x3: {line!r}\n{ACCEPTED}", file=where)
        k = [int(kernel.group(1)), int(kernel.group(2))]
        count = (re.search(r"(\d+|[A-Za-z_]\w*)\s+\d+\s*x\s*\d+\s+filters?", text)  # 96 11x11 filters
                 or re.search(r"with\s+" + _SIZE + r"\s+filters?", text, re.I)  # 1x1 CONV with 32 filters
                 or re.search(r"conv\w*\s*,\s*" + _SIZE, text, re.I))  # 3x3 conv, 192
        if not count:
            raise SpecError(f"how many filters? {line!r}\n{ACCEPTED}", file=where)
        alexnet_style = bool(re.search(r"filters?\s+(?:applied\s+)?at\s+stride", low))
        if pad_m:
            padding: Any = int(pad_m.group(1))
        elif alexnet_style:
            padding = 0
        else:
            padding = [(k[0] - 1) // 2, (k[1] - 1) // 2]
        return {"conv": {"out": _size(count.group(1)), "kernel": k, "stride": stride or 1, "padding": padding, **named}}, False
    for word, kind in (("relu", "relu"), ("softmax", "softmax"), ("dropout", "dropout"), ("sigmoid", "sigmoid"), ("tanh", "tanh")):
        if word in low or word in head:
            return {kind: {**named}}, False
    raise SpecError(f"cannot read {line!r}\n{ACCEPTED}", file=where)


def _vgg_name(named: dict[str, str], name: str | None, token: str) -> dict[str, str]:
    # "CONV3-64: [224x224x64] ..." names the layer by its type: leave those to auto-naming
    return {} if name is not None and token is name else named


def analyze_text(text: str, input: str | None = None, source: str = "<layer>", **options: Any) -> tuple[Any, list[dict[str, Any]]]:
    """Parse a listing, analyse it, and check every stated volume against the computed one.

    Returns the Report and one record per stated volume: layer, stated, computed, agrees."""
    from .analysis import summarize
    from .layers import fmt_shape
    from .spec import NetworkDef, build

    parsed = parse(text, source)
    volume = input or parsed.input
    if not volume:
        raise SpecError("give the input volume: an `[227x227x3] INPUT` line or --input 227x227x3", file=source)
    sizes = {v for item in parsed.items if isinstance(item, dict) for f in item.values() for k, v in f.items()
             if k != "name" and isinstance(v, str) and v.isidentifier()}  # CONV3-C: a size written as a letter is a symbol
    net = NetworkDef("layer", source, parsed.items, {}, volume, {}, description="layers from the lecture notation",
                     symbols=sorted(sizes - {"same", "valid"}))
    graph = build(net)
    report = summarize(graph, **options)
    checks = []
    for index, (line, stated) in sorted(parsed.stated.items()):
        node = graph.nodes[index + 1]  # one node per item, after the input
        computed = fmt_shape(node.shape)
        same = stated.lower() == computed.lower() or stated.lower() == f"1x1x{computed}".lower()
        checks.append({"layer": node.name, "line": line, "stated": stated, "computed": computed, "agrees": same})
    return report, checks

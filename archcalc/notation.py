"""The lectures' layer notations as input (`archcalc layer`).

Each line becomes ordinary spec items, so the engine, the tables and the JSON contract are the
same as for spec files. The reader never guesses silently: every word of a line is placed (a
layer type, a kernel, a count, a stride, a padding, groups, dilation, bias ...) or the line is
rejected with one line naming the word, followed by the accepted forms (``FORMS``). Where a form
leaves something unwritten that changes the numbers (padding, a pool's stride or window), the
value used is listed with the row as an *assumption*.

Unwritten values (docs/conventions.md, "The layer notation", states the same rules):

* stride 1, dilation 1, groups 1, with bias;
* padding follows the notation the line is written in:
  - the slides' sentence ``N KxK filters [at stride S]`` (AlexNet, LeNet): pad 0, the
    ``(N - F)/S + 1`` the slides teach;
  - figure and table notation (``KxK conv, N, /S``, ``CONVK-N``, ``KxK pool``, ResNet's
    ``7x7, 64, stride 2``): ``d(k-1)/2`` per side, which keeps the size at stride 1 and
    divides it by the stride otherwise (odd kernels);
  - GoogLeNet's table ``KxK/S``: convolutions as figures; pools pad 0 with ceil rounding
    (Caffe's, as torchvision's googlenet); its depth-2 rows are a 1x1 reduce then the conv, or
    the paper's Inception module;
  - GoogLeNet's figure ``KxK+S(S)`` / ``(V)``: written (same / valid).
* a pool's stride: written; else 1 (the Inception module's ``3x3 pool`` keeps the size); VGG's
  ``POOLK`` is K×K at stride K; an even window without a stride is rejected.
* ``pool, /2`` without a window is ResNet's 3×3 max pool, pad 1; ``avg pool`` without a window
  or stride is ResNet's global average pool; ``pool`` without max/avg is max pooling.
* ``normalization`` is AlexNet's local response normalization, size 5.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from .errors import SpecError

# (example, what it means); `layer --help` and every rejection list these, one per line.
FORMS: tuple[tuple[str, str], ...] = (
    ("[227x227x3] INPUT  (or INPUT: [224x224x3], Input: 227x227x3 images)", "the input volume, H x W x C"),
    ("CONV1: 96 11x11 filters at stride 4, pad 0", "AlexNet slide: count, kernel, stride, pad; unwritten pad 0"),
    ("MAX POOL1: 3x3 filters at stride 2", "AlexNet slide pool; unwritten pad 0"),
    ("NORM1: Normalization layer  (or LRN, LocalRespNorm)", "local response normalization, size 5 (AlexNet)"),
    ("FC6: 4096 neurons  (or FC 4096, FC-1000, 1000-d fc, linear 4096)", "fully connected; a flatten is added before it"),
    ("FC: [1x1x4096]", "VGG table: the count from the stated volume"),
    ("CONV3-64  (or CONV3-C)", "VGG table: 3x3 conv, stride 1, pad 1"),
    ("POOL2", "VGG table: 2x2 max pool, stride 2"),
    ("3x3 conv, 64  (or [3x3 conv, 192], conv 3x3, 64)", "figure notation; unwritten pad (k-1)/2, keeps the size"),
    ("1x1 CONV with 32 filters  (or 3x3 conv, 64 filters)", "figure notation, count in words"),
    ("7x7 conv, 64, /2  (or stride 2, at stride 2, (stride 2))", "a stride, in any of these words, on any conv or pool"),
    ("3x3 pool  (or 3x3 max pool, 3x3 avg pool)", "Inception: unwritten stride 1, pad 1"),
    ("pool, /2", "ResNet figure: 3x3 max pool, stride 2, pad 1"),
    ("avg pool", "ResNet figure: global average pool"),
    ("global average pool  (or global avg pool, global max pool)", "global pooling"),
    ("conv1 112x112 7x7, 64, stride 2", "ResNet table row: name, output size, kernel, count"),
    ("conv2_x 56x56 3x3 max pool, stride 2", "ResNet table row: a pool"),
    ("convolution 7x7/2 112x112x64 1 2.7K 34M", "GoogLeNet table row: type, patch/stride, output; depth 0 or 1"),
    ("max pool 3x3/2 56x56x64 0", "GoogLeNet table pool: unwritten pad 0, ceil rounding"),
    ("convolution 3x3/1 56x56x192 2 64 192", "GoogLeNet table, depth 2: 1x1 reduce to 64, then 3x3 to 192"),
    ("inception (3a) 28x28x256 2 64 96 128 16 32 32", "GoogLeNet table: the paper's Inception module, its 6 widths"),
    ("inception (3a): 64 96 128 16 32 32", "the same module, widths only"),
    ("Conv 7x7+2(S), 64  (or MaxPool 3x3+2(S), AveragePool 5x5+3(V))", "GoogLeNet figure: +stride, (S)ame or (V)alid"),
    ("..., pad 1  (or padding 2, no padding, same, valid)", "padding"),
    ("3x3 conv, 64, groups 32  (or 32 groups)", "grouped convolution"),
    ("3x3 depthwise conv  (or ..., multiplier 2)", "groups = input channels, out = channels x multiplier"),
    ("3x3 depthwise separable conv, 128", "two rows: depthwise 3x3, then 1x1 pointwise to 128"),
    ("pointwise conv, 64", "1x1 conv"),
    ("3x3 conv, 64, dilation 2", "dilation"),
    ("3x3 conv, 64, no bias  (or with bias)", "bias off / on"),
    ("relu, sigmoid, tanh, softmax, dropout 0.5, batch norm, flatten", "one layer per line"),
)

_WIDTH = max(len(example) for example, _ in FORMS)
ACCEPTED = "accepted forms, one per line (a value a line does not write is shown as 'assumed'):\n" + "\n".join(
    f"  {example:<{_WIDTH}}  {meaning}" for example, meaning in FORMS)


class NotationError(SpecError):
    """A line the reader cannot place: one line naming the word, then the accepted forms."""

    def __str__(self) -> str:
        return f"{super().__str__()}\n{ACCEPTED}"


@dataclass(frozen=True)
class Parsed:
    items: tuple[Any, ...]  # spec items
    input: str | None  # HxWxC from an INPUT line
    stated: dict[int, tuple[str, str]]  # index in items -> (line, stated volume text)
    assumed: dict[int, tuple[str, tuple[str, ...]]]  # index in items -> (line, assumptions)
    symbols: tuple[str, ...]  # sizes written as letters (CONV3-C)


# --------------------------------------------------------------------------------------------
# Words

_N = r"(\d+|(?!x\b)[a-z](?:\d+|_[a-z0-9]+)?)"  # a count: a number or a symbol (C, K, C_out)
_SIZE = _N + r"\b"
_K = r"(?<![\w/.])(\d+)\s*x\s*(\d+)(?![\d.])(?!\s*x\s*\w)"  # a kernel, not a volume
_VOL = r"\d+\s*x\s*\d+\s*x\s*\d+|[a-z]\w*\s*x\s*[a-z]\w*\s*x\s*[a-z]\w*|\d+"
_ORDINAL = r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|last|final|next)"
_TRAILER = re.compile(r"\b(?:memory|params)\s*:", re.I)  # the VGG slide's "memory: ... params: ..." columns
_HEADER = re.compile(r"^\s*(?:layer\s+type|type|layer\s+name)\b.*\b(?:dimension|output\s+size|patch\s+size)", re.I)
_GOOGLENET_ROW = re.compile(
    r"^(?P<type>convolution|max\s*pool|avg\s*pool|linear|dropout\s*\(\s*\d+\s*%\s*\)|softmax)\s+"
    r"(?:(?P<patch>\d+\s*x\s*\d+\s*/\s*\d+)\s+)?(?P<vol>\d+\s*x\s*\d+\s*x\s*\d+)(?P<rest>(?:\s+\S+)*)\s*$")
_RESNET_ROW = re.compile(r"^(?P<name>[a-z][a-z0-9_]*\d[a-z0-9_]*)\s+(?P<hw>\d+\s*x\s*\d+)\s+(?P<rest>\S.*)$")

# layer-type words: (pattern, kind); the first match of each is taken, two kinds on a line are rejected
_KINDS: tuple[tuple[str, str], ...] = (
    (r"depth[-\s]?wise[-\s]+separable(?:\s+conv(?:olution)?s?)?|separable\s+conv(?:olution)?s?", "separable"),
    (r"depth[-\s]?wise(?:\s+conv(?:olution)?s?)?", "depthwise"),
    (r"global\s+av(?:era)?ge?\s*[-\s]?pool(?:ing)?|\bgap\b", "gap"),
    (r"global\s+max\s*[-\s]?pool(?:ing)?", "gmp"),
    (r"max\s*[-\s]?pool(?:ing)?", "maxpool"),
    (r"(?:av(?:era)?ge?)\s*[-\s]?pool(?:ing)?", "avgpool"),
    (r"\bpool(?:ing)?\b", "pool"),
    (r"\bconv(?:olution(?:al)?|2d)?\b", "conv"),
    (r"\bfc\b|fully[-\s]connected|\blinear\b|\bdense\b", "linear"),
    (r"batch\s*[-\s]?norm(?:ali[sz]ation|2d)?|\bbn\b", "batchnorm"),
    (r"local\s*resp(?:onse)?\s*norm(?:ali[sz]ation)?|\blrn\b|\bnormali[sz]ation\b|\bnorm\b", "lrn"),
    (r"\brelu(?:\s+activation)?\b", "relu"),
    (r"\bsoftmax(?:\s*activation)?\b", "softmax"),
    (r"\bsigmoid(?:\s+activation)?\b", "sigmoid"),
    (r"\btanh(?:\s+activation)?\b", "tanh"),
    (r"\bdropout\b", "dropout"),
    (r"\bflatten\b", "flatten"),
    (r"\binput\b", "input"),
)
_POOLS = ("maxpool", "avgpool", "pool")
_CONVS = ("conv", "depthwise", "separable")


def _name_kind(name: str) -> str | None:
    """The type a layer name implies (CONV1, MAX POOL1, FC6, NORM1), used when the text has none."""
    n = re.sub(r"[\s_]+", " ", name.lower()).strip()
    for pattern, kind in (
        (r"conv\d*", "conv"), (r"max ?pool\d*", "maxpool"), (r"av(?:era)?ge? ?pool\d*", "avgpool"),
        (r"pool\d*", "pool"), (r"fc\d*", "linear"), (r"norm\d*", "lrn"), (r"input", "input"),
    ):
        if re.fullmatch(pattern, n):
            return kind
    return None


class _Facts:
    """What one line says, each fact with the words it came from (for error messages)."""

    def __init__(self, line: str, where: str) -> None:
        self.line, self.where = line, where
        self.values: dict[str, Any] = {}
        self.words: dict[str, str] = {}

    def set(self, key: str, value: Any, word: str) -> None:
        if key == "kind" and {value, self.values.get(key)} in ({"conv", "depthwise"}, {"conv", "separable"}):
            value = self.values[key] if value == "conv" else value  # "depthwise 3x3 conv": one layer
            self.values[key] = value
            return
        if key in self.values and self.values[key] != value:
            what = "two layer types" if key == "kind" else f"{key} twice"
            self.fail(f"{what} ({self.words[key]!r} and {word!r}); write one layer per line, each value once")
        self.values[key] = value
        self.words.setdefault(key, word)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def fail(self, message: str) -> None:
        raise NotationError(f"cannot read {self.line!r}: {message}", file=self.where)


def _normal(text: str) -> str:
    """Lower case, × and tabs as x and spaces, and the same length (offsets stay valid)."""
    text = text.replace("×", "x").replace("✕", "x").replace("\t", " ")
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


class _Body:
    """The words of a line still to be placed; matched spans are blanked, offsets kept."""

    def __init__(self, text: str) -> None:
        self.original = text.replace("×", "x").replace("✕", "x").replace("\t", " ")
        self.low = _normal(text)

    def take(self, pattern: str, handle: Callable[[re.Match[str], Callable[[int], str]], None], once: bool = False) -> None:
        for m in list(re.finditer(pattern, self.low)):
            if not m.group(0).strip():
                continue
            self.low = self.low[:m.start()] + " " * (m.end() - m.start()) + self.low[m.end():]
            handle(m, lambda g, m=m: self.original[m.start(g):m.end(g)])
            if once:
                break

    def leftover(self) -> str | None:
        words = re.findall(r"[^\s,;:()\[\]'\"=]+", self.low)
        words = [w for w in words if w not in ("-", "+", "/", "|", ".")]
        return self.original[self.low.index(words[0]):self.low.index(words[0]) + len(words[0])] if words else None


def _size(token: str) -> Any:
    if token.isdigit():
        return int(token)
    if not token[0].isupper():  # "s2", "k": a lower-case word is not taken for a size
        raise ValueError(f"a size written as a letter is a symbol and starts with a capital (C, K, C_out), got {token!r}")
    return token


# --------------------------------------------------------------------------------------------
# One line


def _frame(line: str, where: str) -> tuple[str | None, str | None, str, list[str]]:
    """Split a line into (stated volume, name, body, notes): brackets, TSV columns, table rows."""
    text = _TRAILER.split(line)[0].strip()
    cols = [c.strip() for c in text.split("\t") if c.strip()]
    row = _GOOGLENET_ROW.match(_normal(" ".join(cols)))
    if row:
        return _googlenet_row(row, " ".join(cols), line, where)
    if len(cols) > 1:  # a pasted table: volume, NAME, body  or  NAME, volume, memory, params
        at = next((i for i, c in enumerate(cols) if _is_volume(c)), None)
        if at is not None:
            rest = cols[:at] if at else cols[at + 1:]
            if at and any(not re.fullmatch(r"[\d\s*()$=.,kmg+]+", c.lower()) for c in cols[at + 1:]):
                rest = cols[:at] + cols[at + 1:]  # not the VGG table's memory/params columns: keep them, to be placed
            text = f"[{cols[at]}] " + (": ".join(rest) if len(rest) == 2 else " ".join(rest))
        else:
            text = " ".join(cols)
    stated = None
    lead = re.match(r"^\s*\[\s*([^\]]+?)\s*\]\s*(.*)$", text)
    if lead and _is_volume(lead.group(1)):
        stated, text = lead.group(1), lead.group(2)
    elif lead and not lead.group(2):
        text = lead.group(1)  # "[3x3 conv, 192]": the whole item in brackets
    name = None
    m = re.match(rf"^\s*(?:{_ORDINAL}\s+layer\s*)?\(\s*([A-Za-z][\w\- ]*?)\s*\)\s*:\s*(.*)$", text, re.I) \
        or re.match(r"^\s*([A-Za-z][\w\- ]*?)\s*:\s*(.*)$", text)
    if m:
        name, text = m.group(1).strip(), m.group(2)
    else:
        r = _RESNET_ROW.match(_normal(text))
        if r:
            name, stated, text = text[r.start("name"):r.end("name")], stated or r.group("hw"), text[r.start("rest"):]
    inner = re.search(r"\[\s*([^\]]+?)\s*\]", text)
    if inner and _is_volume(inner.group(1)):
        if stated:
            raise NotationError(f"cannot read {line!r}: two stated volumes ([{stated}] and [{inner.group(1)}])", file=where)
        stated, text = inner.group(1), text[:inner.start()] + " " + text[inner.end():]
    return (re.sub(r"\s*[×x*]\s*", "x", stated.strip()) if stated else None), name, text, []


def _is_volume(text: str) -> bool:
    return re.fullmatch(_VOL, _normal(text).strip()) is not None


def _googlenet_row(row: re.Match[str], text: str, line: str, where: str) -> tuple[str | None, str | None, str, list[str]]:
    """GoogLeNet's table: type, patch size/stride, output size, then depth, ..., params, ops."""
    rest = row.group("rest").split()
    notes = []
    if rest:
        if rest[0].isdigit() and int(rest[0]) > 1:
            raise NotationError(f"cannot read {line!r}: depth {rest[0]}: this row is {rest[0]} layers "
                                "(a 1x1 reduce, then the conv): write each on its own line", file=where)
        if not rest[0].isdigit() or len(rest) > 3 or any(not re.fullmatch(r"\d+(?:\.\d+)?[km]?", r) for r in rest[1:]):
            raise NotationError(f"cannot read {line!r}: could not place {' '.join(rest)!r} after the output size "
                                "(GoogLeNet's table: depth 0 or 1, params, ops)", file=where)
        if rest[1:]:
            notes.append(f"the table's params/ops columns ({', '.join(rest[1:])}) are not checked")
    return re.sub(r"\s+", "", row.group("vol")), None, text[:row.start("vol")], notes


_INCEPTION_ROW = re.compile(
    r"^inception\s*\(\s*(?P<name>\w+)\s*\)\s*(?::\s*|\s+(?P<vol>\d+x\d+x\d+)\s+2\s+)"
    r"(?P<widths>\d+(?:\s+\d+){5})(?P<rest>(?:\s+\d+(?:\.\d+)?[km])*)\s*$")
_REDUCE_ROW = re.compile(
    r"^convolution\s+(?P<k>\d+)x(?P=k)\s*/\s*(?P<s>\d+)\s+(?P<vol>\d+x\d+x\d+)\s+2\s+(?P<reduce>\d+)\s+(?P<out>\d+)"
    r"(?P<rest>(?:\s+\d+(?:\.\d+)?[km])*)\s*$")


def _googlenet_block(line: str) -> tuple[list[Any], str | None, list[str]] | None:
    """GoogLeNet's table rows of depth 2: an Inception module, or a conv after its 1x1 reduce.

    The module is the paper's (Figure 2b, Table 1): 1x1; 1x1 reduce then 3x3 pad 1; 1x1 reduce
    then 5x5 pad 2; 3x3 max pool stride 1 pad 1 then 1x1 projection; ReLU after each conv;
    outputs concatenated in that order."""
    low = re.sub(r"\s+", " ", _normal(" ".join(line.split("\t")))).strip()
    low = re.sub(r"(\d)\s*x\s*(\d)", r"\1x\2", low)
    inception = _INCEPTION_ROW.match(low)
    reduce = _REDUCE_ROW.match(low)
    row = inception or reduce
    if row is None:
        return None
    notes = [f"the table's params/ops columns ({', '.join(row.group('rest').split())}) are not checked"] if row.group("rest") else []

    def conv(out: int, k: int = 1, stride: int = 1) -> dict[str, Any]:
        return {"conv": {"out": out, "kernel": k, **({"stride": stride} if stride != 1 else {}),
                         **({"padding": (k - 1) // 2} if k > 1 else {})}}

    if reduce:
        k, out = int(reduce.group("k")), int(reduce.group("out"))
        notes = [f"depth 2: a 1x1 reduce to {reduce.group('reduce')} ('#3x3 reduce'), then the {k}x{k} conv, "
                 f"pad {(k - 1) // 2}", *notes]
        return [conv(int(reduce.group("reduce"))), "relu", conv(out, k, int(reduce.group("s"))), "relu"], reduce.group("vol"), notes
    c1, c3r, c3, c5r, c5, pp = (int(w) for w in inception.group("widths").split())
    branches = [[conv(c1), "relu"], [conv(c3r), "relu", conv(c3, 3), "relu"], [conv(c5r), "relu", conv(c5, 5), "relu"],
                [{"maxpool": {"kernel": 3, "stride": 1, "padding": 1}}, conv(pp), "relu"]]
    notes = ["the paper's module: 1x1 | 1x1, 3x3 pad 1 | 1x1, 5x5 pad 2 | 3x3 max pool stride 1 pad 1, 1x1; ReLU after each conv",
             *notes]
    return [{"concat": {"name": f"inception_{inception.group('name')}", "branches": branches}}], inception.group("vol"), notes


def _nodes(item: Any) -> int:
    """Graph nodes an item makes: one per layer, branches' layers first, then their merge."""
    if isinstance(item, dict) and "concat" in item:
        return 1 + sum(_nodes(i) for branch in item["concat"]["branches"] for i in branch)
    return 1


def _read_body(body: _Body, facts: _Facts) -> None:
    """Place every word of the body into facts (order matters: longer phrases first)."""
    put = facts.set

    def kernel(m: re.Match[str], g: Callable[[int], str], first: int = 1) -> None:
        put("kernel", (int(m.group(first)), int(m.group(first + 1))), m.group(0).strip())

    def number(key: str) -> Callable[[re.Match[str], Callable[[int], str]], None]:
        """A handler that puts the first group as an integer fact."""
        return lambda m, g: put(key, int(m.group(1)), g(0))

    # residual stages and Inception rows are blocks, not layers
    if re.search(r"\[[^\]]*;[^\]]*\]|\]\s*x\s*\d", body.low):
        facts.fail("a block of layers, repeated ([3x3, 64; 3x3, 64] x2, a residual stage) is not one layer: "
                   "write its layers one per line, or analyse the network: `archcalc table resnet34`")
    if re.search(r"\binception\b|\bdepth\s*concat|\bconcat", body.low):
        facts.fail("a concatenation merges branches: `archcalc layer` reads one path, and one Inception module as "
                   "GoogLeNet's table row 'inception (3a) 28x28x256 2 64 96 128 16 32 32' (or 'inception (3a): 64 96 128 16 32 32')")
    body.take(r"(?<![\w/.])(?:" + _VOL.replace(r"|\d+", "") + r")\b", lambda m, g: put("volume", re.sub(r"\s+", "", g(0)), g(0)))
    # VGG's table: CONV3-64, CONV3-C, FC-1000
    body.take(r"\bconv(\d+)\s*-\s*" + _SIZE, lambda m, g: (put("kind", "conv", g(0)), put("kernel", (int(m.group(1)),) * 2, g(0)),
                                                          put("count", _size(g(2)), g(0)), put("form", "vgg", g(0))))
    # GoogLeNet's figure (7x7+2(S)) and table (7x7/2)
    body.take(r"(?<![\w/])(\d+)\s*x\s*(\d+)\s*\+\s*(\d+)\s*\(\s*([sv])\s*\)",
              lambda m, g: (kernel(m, g), put("stride", int(m.group(3)), g(0)), put("pad", "same" if m.group(4) == "s" else 0, g(0)),
                            put("form", "googlenet_figure", g(0))))
    body.take(r"(?<![\w/])(\d+)\s*x\s*(\d+)\s*/\s*(\d+)\b",
              lambda m, g: (kernel(m, g), put("stride", int(m.group(3)), g(0)), put("form", "googlenet_table", g(0))))
    # the slides' sentence: 96 11x11 filters, 3x3 filters
    body.take(r"(?<![\w/])" + _N + r"\s+" + _K + r"\s+(?:conv(?:olution)?s?\s+)?filters?\b",
              lambda m, g: (put("count", _size(g(1)), g(0)), kernel(m, g, 2), put("form", "sentence", g(0))))
    body.take(_K + r"\s+filters?\b", lambda m, g: (kernel(m, g), put("form", "sentence", g(0)), put("bare", True, g(0))))
    # modifiers
    body.take(r"(?:(?:applied\s+)?at\s+|with\s+(?:a\s+)?)?\bstride\s*(?:[-=:]|of)?\s*(\d+)\b", number("stride"))
    body.take(r"(?<![\w/])/\s*(\d+)\b", number("stride"))
    body.take(r"(?:with\s+)?(?:no|without)\s+(?:zero[-\s]?)?pad(?:ding)?\b|\bunpadded\b", lambda m, g: put("pad", 0, g(0)))
    body.take(r"(?:with\s+)?(?:zero[-\s]?)?\bpad(?:ding|ded)?\s*(?:[=:]|of|by)?\s*(\d+)\b", number("pad"))
    body.take(r"(?:with\s+)?(?:padding\s*[=:]?\s*)?['\"]?\b(same|valid)\b['\"]?(?:\s+padding)?",
              lambda m, g: put("pad", "same" if m.group(1) == "same" else 0, g(0)))
    body.take(r"(?:with\s+)?\bgroups?\s*(?:[=:]|of)?\s*(\d+)\b|\b(\d+)\s+groups\b",
              lambda m, g: put("groups", int(m.group(1) or m.group(2)), g(0)))
    body.take(r"\bgroup(?:ed)?\b", lambda m, g: put("grouped", True, g(0)))
    body.take(r"\bpoint[-\s]?wise(?:\s+conv(?:olution)?s?)?(?:\s*,?\s*(\d+)\b(?!\s*x))?",
              lambda m, g: (put("kind", "conv", g(0)), put("kernel", (1, 1), g(0)),
                            m.group(1) and put("count", int(m.group(1)), g(0))))
    body.take(r"(?:with\s+)?(?:(?:depth|channel)\s*)?\bmultiplier\s*(?:[=:]|of)?\s*(\d+)\b", number("multiplier"))
    body.take(r"(?:with\s+)?\b(?:dilation(?:\s+rate)?|dilated(?:\s+by)?|atrous\s+rate)\s*(?:[=:]|of)?\s*(\d+)\b", number("dilation"))
    body.take(r"\b(?:dilated|atrous)\b", lambda m, g: put("dilated", True, g(0)))
    body.take(r"(?:no|without)\s+bias(?:es)?\b|\bbias(?:es)?\s*[=:]?\s*(?:false|off|no)\b|\bbias[-\s]?free\b",
              lambda m, g: put("bias", False, g(0)))
    body.take(r"(?:with\s+)?\bbias(?:es)?(?:\s*[=:]?\s*(?:true|on|yes))?\b", lambda m, g: put("bias", True, g(0)))
    body.take(r"\(\s*(\d+)\s*%\s*\)|\b(\d+)\s*%|\bp\s*=\s*(0?\.\d+)", lambda m, g: put("p", _percent(m), g(0)))
    body.take(r"\(\s*class\s+scores\s*\)", lambda m, g: None)  # AlexNet's FC8 annotation
    # counts
    body.take(r"(?:with\s+)?\b" + _N + r"\s+(?:output\s+channels|filters?|kernels)\b",
              lambda m, g: put("count", _size(g(1)), g(0)))
    def fc_count(m: re.Match[str], g: Callable[[int], str]) -> None:
        number("count")(m, g)
        put("kind", "linear", g(0))

    body.take(r"\b(\d+)\s+(?:neurons?|units|outputs)\b", fc_count)
    body.take(r"\b(\d+)\s*-\s*d\s+fc\b", fc_count)
    if re.fullmatch(r"\s*fc\d+\s*", body.low):
        facts.fail(f"{body.original.strip()!r} is a name (AlexNet's FC6) or a size (ResNet's FC1000): "
                   "write 'FC 1000' for the size, 'FC6: 4096 neurons' for the name")
    body.take(r"\b(?:fc|linear|dense|fully[-\s]connected(?:\s+layer)?)(?:\s*[-,]\s*|\s+)(\d+)\b(?!\s*x)", fc_count)
    body.take(r"\bdropout\s*(?:\(\s*(?:p\s*=\s*)?)?(0?\.\d+)\s*\)?",
              lambda m, g: (put("p", m.group(1), g(0)), put("kind", "dropout", g(0))))
    for pattern, kind in _KINDS:  # "3x3 conv, 192": a convolution's count follows its type word
        if kind in _CONVS:
            body.take(f"(?:{pattern})" + r"(?:\s+layers?)?\s*,?\s*" + _N + r"\b(?!\s*(?:x|-|/|%))",
                      lambda m, g, kind=kind: (put("kind", kind, g(0)), put("count", _size(g(m.lastindex)), g(0))), once=True)
        body.take(pattern, lambda m, g, kind=kind: put("kind", kind, g(0)), once=True)
    # a bare kernel, with ResNet's table count after it (7x7, 64)
    body.take(_K + r"\s*,\s*" + _N + r"\b(?!\s*(?:x|-|/))",
              lambda m, g: (kernel(m, g), put("count", _size(g(3)), g(0))))
    body.take(_K, kernel)
    body.take(r"\bkernel(?:\s+size)?\s*[=:]?\s*(\d+)\b", lambda m, g: put("kernel", (int(m.group(1)),) * 2, g(0)))
    # "filters" away from its count or kernel ("3x3 layer filters") still says the slides' sentence
    body.take(r"\bfilters?\b", lambda m, g: facts.get("form") is None and put("form", "sentence", g(0)))
    body.take(r"\blayers?\b|\bwith\b|\bapplied\b", lambda m, g: None)
    if facts.get("kind") == "input":
        body.take(r"\bimages?\b", lambda m, g: None)
    word = body.leftover()
    if word is not None:
        facts.fail(f"could not place {word!r}")


def _percent(m: re.Match[str]) -> Any:
    from fractions import Fraction

    if m.group(3):
        return m.group(3)
    return str(Fraction(int(m.group(1) or m.group(2)), 100))


def _pad_rule(facts: _Facts, kernel: tuple[int, int], dilation: int, pool: bool) -> tuple[Any, list[str], bool]:
    """Padding (and ceil mode) from the words, or from the notation's rule with the assumption said."""
    pad = facts.get("pad")
    form = facts.get("form")
    spans = [dilation * (k - 1) + 1 for k in kernel]
    if pad == "same":
        if any(s % 2 == 0 for s in spans):
            facts.fail(f"'same' padding with an even kernel {kernel[0]}x{kernel[1]} cannot be symmetric: write the pad")
        return [(s - 1) // 2 for s in spans], [], False
    if pad is not None:
        return pad, [], False
    if max(spans) == 1:
        return 0, [], False
    if form == "sentence":
        return 0, ["pad 0 (no pad written, the slides' 'N KxK filters' form)"], False
    if pool and form == "googlenet_table":
        return 0, ["pad 0, ceil rounding (GoogLeNet's table: Caffe's pooling, as torchvision's googlenet)"], True
    values = [(s - 1) // 2 for s in spans]
    shown = str(values[0]) if values[0] == values[1] else f"{values[0]}x{values[1]}"
    why = "VGG: 3x3 conv, stride 1, pad 1" if form == "vgg" else \
        f"{'d(k-1)/2' if dilation > 1 else '(k-1)/2'}: keeps the size at stride 1"
    return values, [f"pad {shown} (no pad written, {why})"], False


def _item(name: str | None, body_text: str, line: str, where: str, stated: str | None, channels: Any) -> tuple[list[Any], list[str]]:
    """Spec items for one line, and the assumptions it makes."""
    facts = _Facts(line, where)
    body = _Body(body_text)
    name_kind = _name_kind(name) if name else None
    named = _local_name(name)
    if not body.low.strip() and name is not None:  # "CONV3-64: [224x224x64]", "POOL2", "FC: [1x1x4096]", "NORM1:"
        body, named = _Body(name if name_kind is None or re.search(r"pool\d", name, re.I) else ""), {}
    vgg_pool = re.fullmatch(r"\s*(max\s*|avg\s*|average\s*)?pool(\d+)\s*", body.low)
    if vgg_pool:
        k = int(vgg_pool.group(2))
        kind = "avgpool" if vgg_pool.group(1) and vgg_pool.group(1).strip() != "max" else "maxpool"
        return [{kind: {"kernel": k, "stride": k, **named}}], [f"{k}x{k} window, stride {k} (VGG's POOL{k})"]
    if name_kind == "input":
        facts.set("kind", "input", name or "")
    try:
        _read_body(body, facts)
    except ValueError as exc:
        facts.fail(str(exc))
    if facts.get("bare") and facts.get("kind") in (*_CONVS, *_POOLS):
        facts.fail(f"{facts.words['bare']!r} is the slides' sentence (its type in the name: MAX POOL1: 3x3 filters) "
                   f"and {facts.words['kind']!r} is figure notation: write one of them")
    used_always = {"kind", "form", "bare"}
    kind = facts.get("kind") or name_kind
    if kind is None and facts.get("count") is not None and facts.get("kernel"):
        kind = "conv"  # "96 11x11 filters", "7x7, 64": filters with a count are a convolution
    if kind is None:
        facts.fail("what layer is this? (conv, pool, fc, relu ...)")
    used: set[str] = set(used_always)
    assumed: list[str] = []

    def take(key: str, default: Any = None) -> Any:
        used.add(key)
        return facts.get(key, default)

    def read_dilation() -> int:
        if take("dilated") and facts.get("dilation") is None:
            facts.fail("what dilation? (dilation 2)")
        return take("dilation", 1)

    def count_from_stated() -> Any:
        count = take("count")
        if count is None and stated:
            count = _size(stated.split("x")[-1])
        return count

    items: list[Any]
    if kind in _CONVS:
        k = take("kernel")
        if not k:
            facts.fail("a convolution needs its kernel, e.g. 3x3")
        dilation = read_dilation()
        stride = take("stride", 1)
        pad, notes, _ = _pad_rule(facts, k, dilation, pool=False)
        used.add("pad")
        assumed += notes
        bias = {} if take("bias", True) else {"bias": False}
        geometry = {"kernel": list(k), "stride": stride, "padding": pad, **({"dilation": dilation} if dilation != 1 else {})}
        if kind == "conv":
            count = count_from_stated()
            if count is None:
                facts.fail("how many filters? (3x3 conv, 64 / 64 3x3 filters / with 64 filters)")
            if take("grouped") and facts.get("groups") is None:
                facts.fail("how many groups? (groups 32)")
            groups = take("groups", 1)
            items = [{"conv": {"out": count, **geometry, **({"groups": groups} if groups != 1 else {}), **bias, **named}}]
        else:
            if not isinstance(channels, int):
                facts.fail(f"a depthwise convolution needs the input's channels as a number (input has {channels}): "
                           "give --input, e.g. 56x56x128")
            multiplier = take("multiplier", 1)
            count = take("count")
            depthwise_out = channels * multiplier
            if kind == "depthwise" and count is not None:
                if not isinstance(count, int) or count % channels or (facts.get("multiplier") and count != depthwise_out):
                    facts.fail(f"a depthwise convolution on {channels} channels makes a multiple of {channels} outputs, not {count}")
                depthwise_out = count
            dw_name = {"name": named["name"] + "_dw"} if named else {}
            items = [{"conv": {"out": depthwise_out, **geometry, "groups": channels, **bias, **dw_name}}]
            if kind == "separable":
                if count is None:
                    facts.fail("how many filters for the 1x1 pointwise conv? (3x3 depthwise separable conv, 128)")
                pw_name = {"name": named["name"] + "_pw"} if named else {}
                items.append({"conv": {"out": count, "kernel": 1, **bias, **pw_name}})
    elif kind in _POOLS:
        k = take("kernel")
        stride = take("stride")
        dilation = read_dilation()
        if dilation != 1 and kind == "avgpool":
            facts.fail("average pooling has no dilation (PyTorch)")
        if kind == "pool":
            kind = "maxpool"
            assumed.append("max pooling (the word 'pool' alone, as in AlexNet and ResNet)")
        if not k:
            if stride == 2 and kind == "maxpool" and facts.get("pad") is None:
                items = [{"maxpool": {"kernel": 3, "stride": 2, "padding": 1, **named}}]
                return items, _unused(facts, used, ["3x3 window, pad 1 (ResNet's 'pool, /2')", *assumed])
            if stride is None and kind == "avgpool" and facts.get("pad") is None:
                note = "global average pooling (ResNet's 'avg pool' before 'fc 1000')"
                return [{"adaptive_avgpool": {"out": 1, **named}}], _unused(facts, used, [note])
            facts.fail("a pool needs its window (3x3 pool) - or 'pool, /2' (ResNet's 3x3 max pool) or 'avg pool' (global)")
        if stride is None:
            if any(x % 2 == 0 for x in k):
                facts.fail(f"a {k[0]}x{k[1]} pool without a stride: write its stride ('stride 2' or '/2')")
            stride = 1
            assumed.append("stride 1 (no stride written: as the Inception module's 3x3 pool)")
        pad, notes, ceil = _pad_rule(facts, k, dilation, pool=True)
        used.add("pad")
        assumed += notes
        fields = {"kernel": list(k), "stride": stride, "padding": pad, **({"dilation": dilation} if dilation != 1 else {}),
                  **({"ceil_mode": True} if ceil else {})}
        items = [{kind: {**fields, **named}}]
    elif kind in ("gap", "gmp"):
        items = [{"adaptive_avgpool" if kind == "gap" else "adaptive_maxpool": {"out": 1, **named}}]
    elif kind == "linear":
        count = count_from_stated()
        if count is None:
            facts.fail("how many outputs? (FC 4096 / FC6: 4096 neurons)")
        items = [{"linear": {"out": count, **({} if take("bias", True) else {"bias": False}), **named}}]
    elif kind == "lrn":
        items = [{"lrn": {"size": 5, **named}}]
        assumed.append("local response normalization, size 5 (AlexNet's)")
    elif kind == "dropout":
        p = take("p")
        items = [{"dropout": {**({"p": p} if p is not None else {}), **named}}]
    elif kind == "input":
        volume = take("volume") or stated
        if not volume:
            facts.fail("an INPUT line needs its volume, e.g. [227x227x3] INPUT")
        return [{"input": volume}], _unused(facts, used, [])
    else:
        items = [{kind: {**named}}]
    return items, _unused(facts, used, assumed)


def _unused(facts: _Facts, used: set[str], assumed: list[str]) -> list[str]:
    extra = [facts.words[k] for k in facts.values if k not in used]
    if extra:
        facts.fail(f"{extra[0]!r} does not apply to this layer ({facts.get('kind') or 'its type'})")
    return assumed


def _local_name(name: str | None) -> dict[str, str]:
    if not name or not re.search(r"\d", name) or re.fullmatch(r"\s*conv\d+\s*-\s*\w+\s*", name, re.I):
        return {}  # "FC:" names a type, not a layer (VGG's slide has three); CONV3-64 is a type too
    return {"name": re.sub(r"\W+", "_", name.strip().lower()).strip("_")}


# --------------------------------------------------------------------------------------------
# A listing


def _channels(volume: str | None) -> Any:
    if not volume:
        return None
    last = re.split(r"\s*[x×]\s*", volume.strip())[-1]
    return int(last) if last.isdigit() else last


def parse(text: str, source: str = "<layer>", input: str | None = None) -> Parsed:
    """Read a listing, one layer per line; `input` (H x W x C) overrides an INPUT line."""
    items: list[Any] = []
    stated: dict[int, tuple[str, str]] = {}
    assumed: dict[int, tuple[str, tuple[str, ...]]] = {}
    symbols: set[str] = set()
    input_volume = None
    channels = _channels(input)
    flat = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().rstrip(",;")
        if not line or line.startswith("#") or _HEADER.match(line):
            continue
        where = f"{source}: line {lineno}"
        block = _googlenet_block(line)
        if block:
            new, volume, assumptions = block
            notes: list[str] = []
        else:
            volume, name, body, notes = _frame(line, where)
            new, assumptions = _item(name, body, line, where, volume, channels)
        if "input" in new[0]:
            input_volume = new[0]["input"]
            channels = _channels(input) if input else _channels(input_volume)
            continue
        for item in new:
            kind, fields = next(iter(item.items())) if isinstance(item, dict) else (item, {})
            if kind == "linear" and not flat:
                items.append("flatten")
            flat = kind in ("linear", "flatten") or (flat and kind in ("relu", "dropout", "softmax", "sigmoid", "tanh"))
            symbols |= {v for k, v in fields.items() if k != "name" and isinstance(v, str) and v.isidentifier()}
            if kind in ("conv", "linear"):
                channels = fields["out"]
            elif kind == "concat":
                channels = sum(next(i for i in reversed(b) if isinstance(i, dict))["conv"]["out"] for b in fields["branches"])
            elif kind == "flatten":
                channels = None
            items.append(item)
        if volume:
            stated[len(items) - 1] = (line, volume)
        if assumptions or notes:
            assumed[len(items) - len(new)] = (line, tuple(assumptions + notes))
    if not items:
        raise NotationError("no layers found", file=source)
    return Parsed(tuple(items), input_volume, stated, assumed, tuple(sorted(symbols)))


@dataclass(frozen=True)
class Listing:
    """A listing analysed: the report, the stated volumes checked, the assumptions made."""

    report: Any
    checks: tuple[dict[str, Any], ...]  # layer, line, stated, computed, agrees
    assumptions: tuple[dict[str, Any], ...]  # layer, line, assumed (a list of sentences)


def _agrees(stated: str, computed: str) -> bool:
    s, c = stated.lower().split("x"), computed.lower().split("x")
    if len(s) == 3 and len(c) == 1:  # "[1x1x4096]" for a flat 4096
        return s[:2] == ["1", "1"] and s[2] == c[0]
    if len(s) == 2:  # ResNet's table states H x W only
        return s == c[:2]
    return s == c


def read_listing(text: str, input: str | None = None, source: str = "<layer>", **options: Any) -> Listing:
    """Parse a listing, analyse it, check every stated volume and list the assumptions."""
    from .analysis import summarize
    from .layers import fmt_shape
    from .spec import NetworkDef, build

    parsed = parse(text, source, input)
    volume = input or parsed.input
    if not volume:
        raise SpecError("give the input volume: an `[227x227x3] INPUT` line or --input 227x227x3", file=source)
    net = NetworkDef("layer", source, list(parsed.items), {}, volume, {}, description="layers from the lecture notation",
                     symbols=list(parsed.symbols))
    graph = build(net)
    report = summarize(graph, **options)
    last_node = [0]  # the input; then each item's last node
    for item in parsed.items:
        last_node.append(last_node[-1] + _nodes(item))
    checks = []
    for index, (line, stated) in sorted(parsed.stated.items()):
        node = graph.nodes[last_node[index + 1]]
        computed = fmt_shape(node.shape)
        checks.append({"layer": node.name, "line": line, "stated": stated, "computed": computed, "agrees": _agrees(stated, computed)})
    assumptions = [{"layer": graph.nodes[last_node[index + 1]].name, "line": line, "assumed": list(notes)}
                   for index, (line, notes) in sorted(parsed.assumed.items())]
    return Listing(report, tuple(checks), tuple(assumptions))


def analyze_text(text: str, input: str | None = None, source: str = "<layer>", **options: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The report and the stated-volume checks of a listing (see `read_listing`)."""
    listing = read_listing(text, input, source, **options)
    return listing.report, list(listing.checks)

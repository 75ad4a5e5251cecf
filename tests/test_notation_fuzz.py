"""Fuzz `archcalc layer`'s reader: random recombinations of the accepted forms, and near-misses
(misspellings, extra words, swapped numbers), either parse to the right numbers or are rejected
with a SpecError; never another exception, never a symbol the text does not contain.

The right numbers come from an independent construction: the layer is drawn first (kernel,
count, stride, padding or none, groups, dilation, bias), written out in one of the notations,
and its output size, parameters and MACs are computed here with PyTorch's formulas and the
documented padding rule (sentence form 0, figure form d(k-1)/2).
"""

import re
import string
from dataclasses import dataclass, replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archcalc.errors import SpecError
from archcalc.notation import read_listing

H, CIN = 17, 12  # input 17x17x12: odd size, several divisors for groups


@dataclass(frozen=True)
class Layer:
    kind: str  # conv, depthwise, separable, maxpool, avgpool
    style: str  # figure, filters, bracket, sentence
    kh: int
    kw: int
    out: int = 0  # conv filters; separable: pointwise filters
    s: int | None = None  # None: not written
    p: int | None = None
    pad_word: str = ""  # how a written pad is said: number, none, same, valid
    g: int = 1
    d: int = 1
    m: int = 1
    bias: bool = True
    stride_style: int = 0
    bias_style: int = 0
    order: tuple[int, ...] = ()


def expected(layer: Layer, h: int = H, w: int = H, cin: int = CIN) -> list[tuple[tuple[int, ...], int, int]] | None:
    """(output, params, MACs) per conv/pool row on an h x w x cin input, or None where the layer cannot exist."""
    s = layer.s or 1
    pool = layer.kind in ("maxpool", "avgpool")
    if pool and layer.s is None and (layer.kh % 2 == 0 or layer.kw % 2 == 0):
        return None  # an even window without a stride is rejected
    spans = (layer.d * (layer.kh - 1) + 1, layer.d * (layer.kw - 1) + 1)
    if layer.pad_word == "same":  # keeps the size: (span - 1)/2 per side, an odd span only
        if any(span % 2 == 0 for span in spans):
            return None
        pads = tuple((span - 1) // 2 for span in spans)
    elif layer.p is not None:
        pads = (layer.p, layer.p)
    elif layer.style == "sentence":
        pads = (0, 0)
    else:
        pads = (layer.d * (layer.kh - 1) // 2, layer.d * (layer.kw - 1) // 2)
    if any(span > size + 2 * p for span, p, size in zip(spans, pads, (h, w))):
        return None
    if pool and (any(2 * p > k for p, k in zip(pads, (layer.kh, layer.kw))) or layer.d > 1 and layer.kind == "avgpool"):
        return None
    ho, wo = ((size + 2 * p - span) // s + 1 for p, span, size in zip(pads, spans, (h, w)))
    if pool:
        return [((cin, ho, wo), 0, 0)]
    if layer.kind == "conv":
        if layer.out % layer.g or cin % layer.g:
            return None
        weights = layer.out * (cin // layer.g) * layer.kh * layer.kw
        return [((layer.out, ho, wo), weights + layer.out * layer.bias, ho * wo * weights)]
    dw_out = cin * layer.m
    dw_weights = dw_out * layer.kh * layer.kw
    rows = [((dw_out, ho, wo), dw_weights + dw_out * layer.bias, ho * wo * dw_weights)]
    if layer.kind == "separable":
        pw = layer.out * dw_out
        rows.append(((layer.out, ho, wo), pw + layer.out * layer.bias, ho * wo * pw))
    return rows


STRIDE = ("stride {s}", "/{s}", "at stride {s}", "with a stride of {s}", "stride={s}", "(stride {s})")
BIAS_OFF = ("no bias", "without bias", "bias=False")
BIAS_ON = ("with bias", "bias", "bias on")


def template_of(layer: Layer) -> str:
    """The layer in the chosen notation, its clauses in the drawn order, numbers as {field}."""
    k = "{kh}x{kw}"
    if layer.kind == "conv":
        head = {"figure": f"{k} conv, {{out}}", "filters": f"{k} conv with {{out}} filters",
                "bracket": f"{k} conv, {{out}}", "sentence": f"CONV: {{out}} {k} filters"}[layer.style]
    elif layer.kind == "depthwise":
        head = f"{k} depthwise conv"
    elif layer.kind == "separable":
        head = f"{k} depthwise separable conv, {{out}}"
    else:
        word = "max" if layer.kind == "maxpool" else "avg"
        head = f"{word.upper()} POOL: {k} filters" if layer.style == "sentence" else f"{k} {word} pool"
    clauses = []
    if layer.s is not None:
        clauses.append(STRIDE[layer.stride_style])
    if layer.p is not None:
        clauses.append({"number": "pad {p}", "padding": "padding {p}", "none": "no padding", "valid": "valid",
                        "same": "same"}[layer.pad_word])
    if layer.g > 1:
        clauses.append("groups {g}")
    if layer.d > 1:
        clauses.append("dilation {d}")
    if layer.m > 1:
        clauses.append("multiplier {m}")
    if not layer.bias:
        clauses.append(BIAS_OFF[layer.bias_style])
    elif layer.bias_style and layer.kind not in ("maxpool", "avgpool"):
        clauses.append(BIAS_ON[layer.bias_style])
    ordered = [clauses[i] for i in layer.order if i < len(clauses)] + clauses[len(layer.order):]
    text = ", ".join([head, *ordered])
    return f"[{text}]" if layer.style == "bracket" else text


def render(layer: Layer) -> tuple[str, dict[int, str]]:
    """The text, and which field each number in it stands for (by start offset)."""
    out, owners, at = [], {}, 0
    for piece in re.split(r"(\{\w+\})", template_of(layer)):
        if piece.startswith("{"):
            owners[at] = piece[1:-1]
            piece = str(getattr(layer, piece[1:-1]))
        out.append(piece)
        at += len(piece)
    return "".join(out), owners


def text_of(layer: Layer) -> str:
    return render(layer)[0]


@st.composite
def layers(draw) -> Layer:
    kind = draw(st.sampled_from(["conv", "conv", "depthwise", "separable", "maxpool", "avgpool"]))
    pool = kind in ("maxpool", "avgpool")
    style = draw(st.sampled_from(["figure", "sentence"] if pool else ["figure", "filters", "bracket", "sentence"]
                                 if kind == "conv" else ["figure"]))
    kh = draw(st.integers(1, 7))
    kw = draw(st.sampled_from([kh, kh, draw(st.integers(1, 7))]))
    d = 1 if kind == "avgpool" else draw(st.sampled_from([1, 1, 2, 3]))
    pad_word = draw(st.sampled_from(["unwritten", "number", "padding", "none", "valid", "same"]))
    p = {"unwritten": None, "none": 0, "valid": 0, "same": 0}.get(pad_word, draw(st.integers(0, 3)))  # same: see expected()
    return Layer(
        kind=kind, style=style, kh=kh, kw=kw,
        out=draw(st.sampled_from([1, 4, 6, 12, 24, 36])) if kind in ("conv", "separable") else 0,
        s=draw(st.one_of(st.none(), st.integers(1, 4))), p=p, pad_word=pad_word,
        g=draw(st.sampled_from([1, 1, 2, 3, 4, 6])) if kind == "conv" else 1,
        d=d, m=draw(st.sampled_from([1, 1, 2, 3])) if kind == "depthwise" else 1,
        bias=True if pool else draw(st.booleans()),
        stride_style=draw(st.integers(0, len(STRIDE) - 1)), bias_style=draw(st.integers(0, 2)),
        order=tuple(draw(st.permutations(range(6)))),
    )


def outcome(text: str):
    """(rows, symbols) for an accepted text, or None when rejected with a SpecError."""
    try:
        report = read_listing(text, f"{H}x{H}x{CIN}").report
    except SpecError:
        return None
    rows = [(r.output, r.params, r.macs) for r in report.rows if r.type in ("conv", "maxpool", "avgpool")]
    symbols = {str(sym) for r in report.rows for v in (*r.output, r.params, r.macs) for sym in getattr(v, "free_symbols", ())}
    return rows, symbols


def words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_]\w*", text))


FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(layers())
def test_accepted_forms_give_the_right_numbers(layer):
    text = text_of(layer)
    want = expected(layer)
    got = outcome(text)
    if want is None:
        assert got is None, f"{text!r} should be rejected, got {got}"
    else:
        assert got is not None, f"{text!r} was rejected"
        assert got[0] == want, text


@FUZZ
@given(st.lists(layers(), min_size=2, max_size=4))
def test_listings_of_accepted_forms_give_the_right_numbers(chain):
    """Several lines in a row: each layer's input is the previous one's output."""
    want, (h, w, cin) = [], (H, H, CIN)
    for layer in chain:
        rows = expected(layer, h, w, cin)
        if rows is None:
            want = None
            break
        want += rows
        cin, h, w = rows[-1][0]
    got = outcome("\n".join(text_of(layer) for layer in chain))
    if want is None:
        assert got is None
    else:
        assert got is not None and got[0] == want


MUTATIONS = ("delete", "double", "replace", "insert", "swap")
EXTRA = ("very", "big", "the", "layer", "with", "conv", "pool", "stride", "relu", "extra", "C", "K", "and", "filters", "2", "pad")


@FUZZ
@given(layers(), st.sampled_from(MUTATIONS), st.integers(0, 10**6), st.sampled_from(EXTRA), st.sampled_from(string.ascii_lowercase))
def test_near_misses_are_rejected_or_right(layer, mutation, where, extra, letter):
    text = text_of(layer)
    if mutation == "swap":  # two numbers trade places: right numbers for what is now written, or a rejection
        text, owners = render(layer)
        starts = sorted(owners)
        if len(starts) < 2:
            return
        a, b = starts[where % len(starts)], starts[(where // 7) % len(starts)]
        if a == b:
            return
        a, b = min(a, b), max(a, b)
        va, vb = (re.match(r"\d+", text[i:]).group() for i in (a, b))
        mutated = text[:a] + vb + text[a + len(va):b] + va + text[b + len(vb):]
        swapped = replace(layer, **{owners[a]: int(vb)}) if owners[a] == owners[b] else \
            replace(layer, **{owners[a]: int(vb), owners[b]: int(va)})
        want = expected(swapped)
    else:
        spans = [m for m in re.finditer(r"[A-Za-z]{3,}", text)]
        if mutation == "insert":
            gaps = [m.start() for m in re.finditer(r"(?<=[\s,])\S", text)] or [0]
            at = gaps[where % len(gaps)]
            mutated = f"{text[:at]}{extra} {text[at:]}"
        elif spans:
            word = spans[where % len(spans)]
            i = word.start() + (where // 11) % (word.end() - word.start())
            mutated = text[:i] + {"delete": "", "double": text[i] * 2, "replace": letter}[mutation] + text[i + 1:]
        else:
            return
        want = expected(layer)
    got = outcome(mutated)
    if got is None:
        return
    assert got[1] <= words(mutated), f"{mutated!r} made symbols {got[1]} it does not contain"
    if mutation == "swap":
        assert want is not None and got[0] == want, f"{mutated!r}: {got[0]} != {want}"
    else:  # an accepted misspelling or extra word must not change the numbers ('filter' for 'filters', 'layer')
        assert want is not None and got[0] == want, f"{mutated!r} (from {text!r}): {got[0]} != {want}"


ALPHABET = st.sampled_from(list("0123456789xX×/+-,;:()[]'\"=% \t.abcdefghiklmnoprstuvwCHKİ") + ["conv", "pool", "stride ", "pad ", "fc",
                                                                                             "depthwise ", "separable ", "groups ", "INPUT"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(ALPHABET, max_size=14).map("".join), min_size=1, max_size=3).map("\n".join))
def test_any_text_gives_a_report_or_a_spec_error(text):
    outcome(text)  # anything else than a SpecError fails the test

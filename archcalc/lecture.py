"""`archcalc lecture`: audit every numeric claim in the lectures.

The question bank (archcalc/data/lecture_questions.yaml — data, not code) holds each claim with
the lecture's stated answer, a hand derivation, a verdict and how archcalc computes it. This
module computes every answer with the engine (zoo specs, snippets in the lectures' notation,
ratios, metadata), shows the working, and checks the recorded verdict against the computed
answer wherever the lecture states one number or volume: "agrees" must be exact, "rounding"
within the stated precision, "wrong" outside it. Where the lecture states no number ("most
memory in early CONV"), the claim's `hand:` value (arithmetic from its working) must equal the
computed answer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError
from .layers import fmt_shape
from .symbolic import is_symbolic, same_expression, simplify, text

BANK = Path(__file__).parent / "data" / "lecture_questions.yaml"
VERDICTS = ("wrong", "ambiguous", "rounding", "agrees", "not-computable")
_UNITS = {"k": 10**3, "thousand": 10**3, "m": 10**6, "million": 10**6, "mb": 10**6, "g": 10**9, "b": 10**9, "billion": 10**9}


@dataclass
class Answer:
    entry: dict[str, Any]
    value: Any = None  # the computed answer (number, text, list or mapping)
    working: list[str] = field(default_factory=list)
    check: str = ""  # exact | rounding | differs | "" (no stated number or volume)
    hand_check: str = ""  # equal | differs | "" (no `hand:` value): the answer against the hand derivation
    consistent: bool = True  # the recorded verdict agrees with `check`, and the hand value with the answer


def load_bank(path: Path = BANK) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(questions, list):
        raise SpecError("the question bank must hold `questions:`", file=str(path))
    ids = [q.get("id") for q in questions]
    if len(set(ids)) != len(ids):
        raise SpecError("question ids must be unique", file=str(path))
    return questions


# ------------------------------------------------------------------------------------------
# computing


@lru_cache(maxsize=None)
def _graph(spec: str, input: str | None, params: tuple[tuple[str, Any], ...]) -> Any:
    """Each network is built once; its report (per dtype) and its working both read this graph."""
    from .spec import build, find

    return build(find(spec), input=input, params=dict(params))


@lru_cache(maxsize=None)
def _report(spec: str, input: str | None, params: tuple[tuple[str, Any], ...], dtype: str) -> Any:
    from .analysis import summarize

    return summarize(_graph(spec, input, params), dtype=dtype)


def _headline(meta: dict[str, Any], key: str, protocol: str | None = None) -> Any:
    """A metadata figure: the accuracy entry whose protocol mentions `protocol` when given, else
    torchvision's, else the first listed."""
    from .report import headline_accuracy

    if key.startswith("ilsvrc."):
        return (meta.get("ilsvrc") or {}).get(key.split(".", 1)[1])
    entries = meta.get("accuracy") or []
    if protocol:
        entries = [e for e in entries if protocol in str(e.get("protocol", ""))]
        if not entries:
            raise SpecError(f"no accuracy entry with protocol {protocol!r}", file=str(BANK))
    entry = next((e for e in entries if "torchvision" in str(e.get("source", ""))), entries[0] if entries else {})
    name = key.split(".", 1)[1]
    if name in entry:
        return entry[name]
    base = name.replace("_error", "")
    if name.endswith("_error") and base in entry:
        return round(100 - float(entry[base]), 3)
    if f"{name}_error" in entry:
        return round(100 - float(entry[f"{name}_error"]), 3)
    return headline_accuracy(meta)[0] if name == "top1" else None


def _layer_value(report: Any, row: Any, quantity: str) -> Any:
    if quantity == "output":
        return fmt_shape(row.output)
    if quantity == "weights":
        return row.params - row.biases
    if quantity == "config":
        return f"{row.type} {row.config}".strip()
    if quantity == "receptive_field":  # as the lectures write it: 7x7
        from .report import pair

        rf = row.receptive_field
        return pair(rf if isinstance(rf, tuple) else (rf, rf))
    return getattr(row, quantity)


def _quantity(c: dict[str, Any], working: list[str]) -> Any:
    quantity = c.get("quantity")
    if isinstance(quantity, list):
        return {q: _quantity({**c, "quantity": q}, working) for q in quantity}
    params = tuple(sorted((c.get("params") or {}).items()))
    if "specs" in c:
        return {s: _quantity({k: v for k, v in {**c, "spec": s}.items() if k != "specs"}, []) for s in c["specs"]}
    if "snippet" in c:
        from .notation import analyze_text

        report, _ = analyze_text(c["snippet"], c.get("input"), "<lecture snippet>")
        label = " / ".join(c["snippet"].splitlines())
        if str(quantity).startswith("totals."):
            value = getattr(report.totals, quantity.split(".", 1)[1])
        elif c.get("per_layer"):
            value = [_layer_value(report, r, quantity) for r in report.rows[1:]]
        else:
            value = _layer_value(report, report.rows[-1], quantity)
        working.append(f"archcalc layer {label!r} --input {c.get('input')}: {quantity} = {_show(value)}")
        return value
    spec = c["spec"]
    if str(quantity).startswith("metadata."):
        from .spec import find

        value = _headline(find(spec).meta, quantity.split(".", 1)[1], c.get("protocol"))
        working.append(f"{spec} metadata {quantity.split('.', 1)[1]} = {_show(value)}")
        return value
    report = _report(spec, c.get("input"), params, c.get("dtype", "float32"))
    if str(quantity).startswith("totals."):
        value = getattr(report.totals, quantity.split(".", 1)[1])
        working.append(f"{spec} {quantity} = {_show(value)} (sum over its {len(report.rows)} rows)"
                       if quantity != "totals.weighted_layers" else f"{spec}: {value} weighted layers on the longest path")
        return value
    if "layers" not in c and "layer" not in c:  # a per-layer quantity over the whole network
        values = sorted({str(_layer_value(report, r, quantity)) for r in report.rows if r.config})
        working.append(f"{spec}: distinct {quantity} over its layers: {'; '.join(values)}")
        return values
    from .explain import find_node

    names = c.get("layers") or [c["layer"]]
    graph = _graph(spec, c.get("input"), params)
    rows = [report.rows[find_node(graph, n).index] for n in names]  # rows and nodes share order
    values = [_layer_value(report, r, quantity) for r in rows]
    if len(rows) == 1:
        working.extend(_explained(spec, c, rows[0].name, quantity))
        return values[0]
    if c.get("combine") == "sum":
        working.append(f"{spec}: {' + '.join(_show(v) for v in values)} = {_show(sum(values))} ({', '.join(names)})")
        return sum(values)
    if len({str(v) for v in values}) == 1:
        working.extend(_explained(spec, c, rows[0].name, quantity))
        working.append(f"{spec}: the same for each of {', '.join(names)}")
        return values[0]
    working.append(f"{spec}: " + "; ".join(f"{n} {_show(v)}" for n, v in zip(names, values)))
    return values


_EXPLAIN_LABEL = {"output": ("output H, W", "output H", "output"), "params": ("params",), "weights": ("params",),
                  "biases": ("  biases",), "macs": ("MACs",), "activations": ("memory",), "receptive_field": ("recept. field",)}


def _explained(spec: str, c: dict[str, Any], layer: str, quantity: str) -> list[str]:
    from .explain import explain, find_node

    graph = _graph(spec, c.get("input"), tuple(sorted((c.get("params") or {}).items())))
    lines = explain(graph, find_node(graph, layer))
    wanted = _EXPLAIN_LABEL.get(quantity, ())
    picked = [l.strip() for l in lines if any(l.startswith(w) for w in wanted)]
    return [f"{spec} {layer}: {l}" for l in picked[:2]]


def compute(entry: dict[str, Any]) -> Answer:
    answer = Answer(entry)
    c = entry.get("compute") or {}
    if "missing" in c or entry.get("verdict") == "not-computable" and not c:
        answer.working.append(f"not computed: {c.get('missing', 'no formula')}")
        return answer
    if "numerator" in c:
        num = _quantity(c["numerator"], answer.working)
        den = _quantity(c["denominator"], answer.working)
        answer.value = _ratio(num, den)
        answer.working.append(f"ratio: {_show(num)} / {_show(den)} = {_show(answer.value)}")
    else:
        answer.value = _quantity(c, answer.working)
    answer.check = auto_check(entry.get("stated", ""), answer.value)
    if "hand" in entry:
        answer.hand_check = "equal" if same_value(answer.value, entry["hand"]) else "differs"
    answer.consistent = _consistent(entry.get("verdict", ""), answer.check) and answer.hand_check != "differs"
    return answer


def _ratio(num: Any, den: Any) -> Any:
    if is_symbolic(num) or is_symbolic(den):
        return simplify(num / den)
    if isinstance(num, (int, float)) and isinstance(den, (int, float)) and den:
        return round(num / den, 3)
    return f"{_show(num)} vs {_show(den)}"


# ------------------------------------------------------------------------------------------
# checking a stated number


def stated_number(stated: str) -> tuple[float, float] | None:
    """The single number a stated answer gives, with its precision: "35K" -> (35000, 1000),
    "(11*11*3)*96 = 35K" -> the part after "=", "5 million" -> (5e6, 1e6), "12x" -> (12, 1).
    None when the answer is not one number (a shape, a list, prose with several numbers)."""
    s = stated.split("=")[-1] if "=" in stated else stated
    s = re.sub(r"\([^)]*\)", " ", s).replace(",", "")
    # numbers glued to a name (FC1000, CONV3) are names, not stated values
    tokens = re.findall(r"(?<![A-Za-z\d.])(\d+(?:\.\d+)?)\s*(thousand|million|billion|mb|[kmgb])?(?:x|×)?(?![A-Za-z\d])", s, re.I)
    if len(tokens) != 1 or re.search(r"\d\s*x\s*\d", s):
        return None
    digits, unit = tokens[0]
    scale = _UNITS.get(unit.lower(), 1) if unit else 1
    if "." in digits:
        precision = 10 ** -len(digits.split(".")[1])
    else:
        precision = 10 ** (len(digits) - len(digits.rstrip("0"))) if digits.strip("0") else 1
    return float(digits) * scale, precision * scale


def as_value(x: Any) -> Any:
    """A stated, hand or computed answer as a comparable value: a volume "55x55x96" -> (55, 55, 96),
    "4,096" -> 4096, arithmetic on numbers ("10988544 / 15237608") evaluated exactly, "4096, 4096,
    1000" -> a list; lists and mappings element-wise; other text (a layer config) unchanged."""
    if isinstance(x, dict):
        return {k: as_value(v) for k, v in x.items()}
    if isinstance(x, list):
        return [as_value(v) for v in x]
    if getattr(x, "is_Number", False):  # a sympy ratio of two symbolic sizes, e.g. 27/49
        return Fraction(str(x))
    if not isinstance(x, str):
        return x
    s = x.strip()
    if re.fullmatch(r"\d+(?:x\d+)+", s):
        return tuple(int(d) for d in s.split("x"))
    parts = [as_value(part) for part in re.split(r",\s+", s)] if re.search(r",\s", s) else []
    if parts and all(isinstance(part, (int, tuple)) for part in parts):
        return parts
    if re.fullmatch(r"[\d,]+", s):
        return int(s.replace(",", ""))
    if re.fullmatch(r"[\d\s.+\-*/()]+", s):
        from .expr import evaluate

        return evaluate(s, {})
    return s


def same_value(value: Any, hand: Any) -> bool:
    """archcalc's answer equals a hand-derived one: exactly, element by element; a ratio archcalc
    rounds to 3 decimals within that rounding; a symbolic answer as the same expression."""
    if is_symbolic(value):
        return isinstance(hand, str) and same_expression(value, hand)
    if isinstance(value, dict):
        return isinstance(hand, dict) and value.keys() == hand.keys() and all(same_value(value[k], hand[k]) for k in value)
    if isinstance(value, list) and isinstance(hand, list):
        return len(value) == len(hand) and all(same_value(v, h) for v, h in zip(value, hand))
    value, hand = as_value(value), as_value(hand)
    if isinstance(value, float) and isinstance(hand, (int, float, Fraction)):
        return abs(value - float(hand)) <= 0.0005 + 1e-12
    return value == hand


def auto_check(stated: str, value: Any) -> str:
    """The recorded answer against the lecture's stated one: a single number (exact, within its
    rounding, or differs), or a volume / list of values ("55x55x96", "4096, 4096, 1000")."""
    if isinstance(value, (str, list)):
        said = as_value(re.sub(r"\([^)]*\)", "", str(stated).split("=")[-1]).strip())
        if isinstance(said, tuple) or isinstance(said, list) and all(isinstance(v, (int, tuple)) for v in said):
            return "exact" if same_value(value, said) else "differs"
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        return ""
    product = as_value(re.sub(r"\([^)]*\)", "", str(stated)).strip())
    if isinstance(product, tuple):  # the lecture's own product, "28x28x128x1x1x256"
        return "exact" if math.prod(product) == value else "differs"
    parsed = stated_number(str(stated))
    if parsed is None:
        return ""
    number, precision = parsed
    if "%" in str(stated) and abs(value) < 1 and number > 1:
        value = value * 100
    if abs(number - float(value)) < 1e-9 * max(1.0, abs(number)):
        return "exact"
    if abs(number - float(value)) <= precision / 2 + 1e-9:
        return "rounding"
    return "differs"


def _consistent(verdict: str, check: str) -> bool:
    if not check or verdict in ("ambiguous", "not-computable"):
        return True
    allowed = {"agrees": ("exact",), "rounding": ("rounding", "exact"), "wrong": ("differs",)}
    return check in allowed.get(verdict, ())


# ------------------------------------------------------------------------------------------
# output


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if is_symbolic(value):
        return text(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_show(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value)
    return str(value)


def audit() -> list[Answer]:
    return [compute(entry) for entry in load_bank()]


def render_markdown(answers: list[Answer]) -> str:
    from collections import Counter

    counts = Counter(a.entry.get("verdict") for a in answers)
    lines = [
        "# Lecture audit",
        "",
        "Every numeric claim and question in the four lecture documents (`shared/seeds/`), computed by",
        "archcalc. Regenerate with `archcalc lecture --write reports/lecture_audit.md`; a test keeps this",
        "file in sync with the question bank (`archcalc/data/lecture_questions.yaml`) and the engine.",
        "",
        "Documents: 000 CS231n 2018 lecture 9 (slides), 001 video lecture on GoogLeNet/ResNet (transcript),",
        "002 CS231n lecture 9 summary (markdown), 003 Seoul National University 2020 lecture 9.",
        "",
        "| verdict | claims |",
        "|---|---:|",
        *(f"| {v} | {counts.get(v, 0)} |" for v in VERDICTS),
        f"| **total** | **{len(answers)}** |",
        "",
        "Where the lecture states a single number, archcalc checks the verdict against it: *exact*,",
        "*within the stated rounding*, or *differs*.",
        "",
    ]
    for title, chosen in (("Where the lectures are wrong", ("wrong",)), ("Where it depends on the variant", ("ambiguous",)),
                          ("Every claim", VERDICTS)):
        lines += [f"## {title}", ""]
        for a in answers:
            if a.entry.get("verdict") in chosen:
                lines += _entry_md(a, brief=title != "Every claim")
    return "\n".join(lines).rstrip() + "\n"


def _entry_md(a: Answer, brief: bool) -> list[str]:
    e = a.entry
    docs = ", ".join(str(d) for d in e.get("documents") or [])
    out = [f"### {e['id']}" + (f" — {e.get('verdict')}" if not brief else ""), "",
           f"**Q:** {e.get('question', '').strip()}  ", f"**Lecture ({docs}):** “{e.get('quote', '').strip()}” → **{e.get('stated', '')}**  "]
    if a.value is not None:
        out.append(f"**archcalc:** {_show(a.value)}" + (f" ({ {'exact': 'exactly the stated number', 'rounding': 'the stated number is its rounding', 'differs': 'differs from the stated number'}[a.check]})" if a.check else "")
                   + (f" (equals the hand value {_show(e['hand'])})" if a.hand_check == "equal" else "") + "  ")
    for w in a.working:
        out.append(f"- `{w}`" if len(w) < 160 else f"- {w}")
    if e.get("working"):
        out.append(f"- by hand: {str(e['working']).strip()}")
    verdict = e.get("verdict", "")
    reason = str(e.get("reason") or "").strip()
    out += [f"**Verdict:** {verdict}" + (f" — {reason}" if reason else ""), ""]
    return out


def render_text(answers: list[Answer]) -> str:
    out = []
    for a in answers:
        e = a.entry
        out.append(f"[{e.get('verdict', ''):>14}] {e['id']}: {e.get('question', '').strip()}")
        out.append(f"{'':17}lecture: {e.get('stated', '')}   archcalc: {_show(a.value) if a.value is not None else '-'}")
        for w in a.working[:3]:
            out.append(f"{'':17}{w}")
        if e.get("reason"):
            out.append(f"{'':17}why: {str(e['reason']).strip()}")
    return "\n".join(out)

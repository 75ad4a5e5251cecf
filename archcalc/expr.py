"""Safe arithmetic expressions for spec fields (`out: 4*width`, `stride: 2 if first else 1`).

Expressions are parsed with :mod:`ast` and evaluated by walking a whitelist of node types;
nothing is ever passed to Python's ``eval``. Numbers stay exact: integers are ``int``,
decimals become :class:`fractions.Fraction` (``0.75`` is exactly 3/4), and ``/`` is exact
division, so ``make_divisible(32*0.75, 8)`` gives the same integer torchvision computes.
"""

from __future__ import annotations

import ast
import math
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable, Mapping

from .errors import SpecError

Number = int | Fraction


def make_divisible(value: Any, divisor: Any, min_value: Any = None) -> int:
    """Round ``value`` to a multiple of ``divisor`` the way torchvision's ``_make_divisible`` does.

    ``max(min_value, int(v + d/2) // d * d)``, bumped by ``d`` if that loses more than 10 %.
    Used by MobileNet v2/v3, MnasNet and EfficientNet channel counts.
    """
    v, d = Fraction(value), int(divisor)
    low = d if min_value is None else int(min_value)
    new_v = max(low, int(v + Fraction(d, 2)) // d * d)
    if new_v < Fraction(9, 10) * v:
        new_v += d
    return new_v


def _int(value: Any) -> int:
    return int(value)


def _round(value: Any) -> int:
    # Python's round: half to even, on exact fractions.
    return round(Fraction(value))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": min,
    "max": max,
    "abs": abs,
    "int": _int,
    "round": _round,
    "floor": lambda v: math.floor(Fraction(v)),
    "ceil": lambda v: math.ceil(Fraction(v)),
    "make_divisible": make_divisible,
}

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a**b,
}
_CMPOPS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}
_MAX_LEN = 500
_MAX_POW = 64
MAX_MAGNITUDE = 10**30  # no size, count or parameter of a real network comes near this


class ExprError(Exception):
    """Raised with a message only; the caller adds file and layer context."""


def _normalize(value: Any) -> Any:
    if isinstance(value, (int, Fraction)) and not isinstance(value, bool):
        if abs(value) > MAX_MAGNITUDE:
            raise ExprError(f"number too large ({str(value)[:20]}...)")
        if isinstance(value, Fraction) and value.denominator == 1:
            return int(value)
    return value


def _exact(value: float, text: str) -> Any:
    """A decimal literal as an exact fraction; inf and nan are errors."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ExprError(f"not a finite number: {text}")
    return _normalize(Fraction(text))


@lru_cache(maxsize=1024)
def _exact_float(value: float) -> Any:
    """A YAML float (`eps: 0.001`) as the exact fraction its decimal text says: 1/1000."""
    return _exact(value, repr(value))


def _div(a: Any, b: Any) -> Any:
    if b == 0:
        raise ExprError("division by zero")
    if isinstance(a, (int, Fraction)) and isinstance(b, (int, Fraction)):
        return _normalize(Fraction(a) / Fraction(b))
    return a / b


Compiled = Callable[[Mapping[str, Any]], Any]


@lru_cache(maxsize=4096)
def compile_expr(text: str) -> Compiled:
    """Parse ``text`` once and return a closure evaluating it against a name -> value mapping."""
    if len(text) > _MAX_LEN:
        raise ExprError(f"expression longer than {_MAX_LEN} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"cannot parse expression {text!r}: {exc.msg}") from None
    return _build(tree.body, text)


def _build(node: ast.AST, text: str) -> Compiled:  # noqa: C901 - one case per node type
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or isinstance(value, int):
            value = _normalize(value)
            return lambda env: value
        if isinstance(value, float):
            # Exact decimal: take the literal's text, not the binary float.
            exact = _exact(value, ast.get_source_segment(text.strip(), node) or repr(value))
            return lambda env: exact
        raise ExprError(f"unsupported constant {value!r} in {text!r}")
    if isinstance(node, ast.Name):
        name = node.id
        if name in ("true", "True"):
            return lambda env: True
        if name in ("false", "False"):
            return lambda env: False

        def lookup(env: Mapping[str, Any]) -> Any:
            try:
                return env[name]
            except KeyError:
                raise ExprError(f"undefined parameter {name!r} in {text!r}") from None

        return lookup
    if isinstance(node, ast.BinOp):
        left, right = _build(node.left, text), _build(node.right, text)
        if isinstance(node.op, ast.Div):
            return lambda env: _div(left(env), right(env))
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise ExprError(f"operator {type(node.op).__name__} not allowed in {text!r}")
        if isinstance(node.op, ast.Pow):

            def power(env: Mapping[str, Any]) -> Any:
                base, exp = left(env), right(env)
                if isinstance(exp, (int, Fraction)) and abs(exp) > _MAX_POW:
                    raise ExprError(f"exponent {str(exp)[:20]} too large in {text!r}")
                if isinstance(exp, Fraction) or (exp < 0 and base == 0):
                    raise ExprError(f"only whole, non-negative-base powers are allowed in {text!r}")
                return _normalize(base**exp)

            return power
        if isinstance(node.op, (ast.FloorDiv, ast.Mod)):

            def divmod_(env: Mapping[str, Any]) -> Any:
                b = right(env)
                if b == 0:
                    raise ExprError(f"division by zero in {text!r}")
                return _normalize(op(left(env), b))

            return divmod_
        return lambda env: _normalize(op(left(env), right(env)))
    if isinstance(node, ast.UnaryOp):
        operand = _build(node.operand, text)
        if isinstance(node.op, ast.USub):
            return lambda env: -operand(env)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.Not):
            return lambda env: not operand(env)
        raise ExprError(f"operator {type(node.op).__name__} not allowed in {text!r}")
    if isinstance(node, ast.BoolOp):
        parts = [_build(v, text) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda env: all(p(env) for p in parts)
        return lambda env: any(p(env) for p in parts)
    if isinstance(node, ast.Compare):
        first = _build(node.left, text)
        rest = [(_CMPOPS.get(type(op)), _build(c, text)) for op, c in zip(node.ops, node.comparators)]
        if any(op is None for op, _ in rest):
            raise ExprError(f"comparison not allowed in {text!r}")

        def compare(env: Mapping[str, Any]) -> bool:
            a = first(env)
            for op, comp in rest:
                b = comp(env)
                if not op(a, b):  # type: ignore[misc]
                    return False
                a = b
            return True

        return compare
    if isinstance(node, ast.IfExp):
        test, body, orelse = _build(node.test, text), _build(node.body, text), _build(node.orelse, text)
        return lambda env: body(env) if test(env) else orelse(env)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
            allowed = ", ".join(sorted(FUNCTIONS))
            raise ExprError(f"only these functions may be called: {allowed} (in {text!r})")
        func = FUNCTIONS[node.func.id]
        args = [_build(a, text) for a in node.args]

        def call(env: Mapping[str, Any]) -> Any:
            try:
                return _normalize(func(*(a(env) for a in args)))
            except (TypeError, ValueError, ZeroDivisionError) as exc:
                raise ExprError(f"{node.func.id}(...) failed in {text!r}: {exc}") from None

        return call
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_build(e, text) for e in node.elts]
        return lambda env: [i(env) for i in items]
    raise ExprError(f"{type(node).__name__} not allowed in expression {text!r}")


def evaluate(value: Any, env: Mapping[str, Any]) -> Any:
    """Evaluate a YAML field: strings are expressions, lists are evaluated item by item."""
    if isinstance(value, str):
        return compile_expr(value)(env)
    if isinstance(value, list):
        return [evaluate(v, env) for v in value]
    if isinstance(value, float):
        return _exact_float(value)
    if isinstance(value, int):
        return _normalize(value)
    return value


__all__ = ["ExprError", "SpecError", "compile_expr", "evaluate", "make_divisible", "FUNCTIONS"]

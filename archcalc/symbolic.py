"""Symbolic sizes: the only module that imports sympy, and only when a symbol is present.

Sizes left as symbols (C, H, W, k ...) flow through the same layer formulas as integers:
sympy objects support the same arithmetic (``//`` becomes ``floor``), so nothing is written
twice. Symbols are positive integers, so ``floor(H - 1) + 1`` simplifies to ``H``.
"""

from __future__ import annotations

from typing import Any


def is_symbolic(value: Any) -> bool:
    """True for a sympy expression with free symbols (checked without importing sympy)."""
    return bool(getattr(value, "free_symbols", None))


def symbol(name: str) -> Any:
    import sympy

    return sympy.Symbol(name, integer=True, positive=True)


def symbols(names: Any) -> dict[str, Any]:
    return {str(n): symbol(str(n)) for n in names}


def largest(values: Any) -> Any:
    """max() that also takes symbolic values (sympy.Max keeps what cannot be decided)."""
    values = list(values)
    try:
        return max(values)  # numbers, and symbolic values whose order sympy can decide
    except TypeError:  # sympy cannot order them: keep every candidate
        import sympy

        return sympy.Max(*values)


def simplify(value: Any) -> Any:
    if not is_symbolic(value):
        return value
    import sympy

    return sympy.simplify(value)


def text(value: Any) -> str:
    """A value as sympy syntax (``27*C**2``) — the form JSON carries for symbolic values."""
    return str(simplify(value))


def json_default(value: Any) -> Any:
    """``json.dumps``' default: a symbolic size as sympy text, a sympy number as the JSON number
    it is (the JSON contract: only symbolic values are strings)."""
    if is_symbolic(value):
        return text(value)
    if getattr(value, "is_Integer", False):
        return int(value)
    if getattr(value, "is_Number", False):
        return float(value)
    raise TypeError(f"{value!r} ({type(value).__name__}) has no JSON form")


def same_expression(value: Any, expression: str) -> bool:
    """A symbolic value equals an expression written in sympy syntax ("9*D*K*(H - 2)*(W - 2)")."""
    import sympy

    names = {str(s): s for s in getattr(value, "free_symbols", ())}  # the value's own symbols (integer, positive)
    return sympy.simplify(value - sympy.sympify(expression, locals=names)) == 0

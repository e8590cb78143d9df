"""Small helpers between Python numbers and Z3 terms.

The symbolic executor keeps a value concrete (a Python int/float/bool) for as long as it
can and only builds a Z3 term when a symbolic input reaches it: most arithmetic in a policy
is on constants, and Z3 term construction costs ~10 us per operation in Python.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import z3


def is_sym(value: Any) -> bool:
    return isinstance(value, z3.ExprRef)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def as_real(value: Any) -> z3.ArithRef:
    """A Z3 real for a Python number, a Z3 bool (0/1) or an arithmetic term."""
    if isinstance(value, z3.BoolRef):
        return z3.If(value, z3.RealVal(1), z3.RealVal(0))
    if isinstance(value, z3.ArithRef):
        return value if value.is_real() else z3.ToReal(value)
    if isinstance(value, bool):
        return z3.RealVal(int(value))
    return z3.RealVal(exact(value))


def exact(value: float | int) -> Fraction:
    """Python floats are converted exactly (the float the runtime computes with is a dyadic
    rational; Z3 reasons about that very number)."""
    return Fraction(value)


def as_bool(value: Any) -> z3.BoolRef | bool:
    if isinstance(value, z3.BoolRef):
        if z3.is_true(value):
            return True
        if z3.is_false(value):
            return False
        return value
    return value


def sym_max(a: Any, b: Any) -> Any:
    if not is_sym(a) and not is_sym(b):
        return max(a, b)
    return z3.If(as_real(a) >= as_real(b), as_real(a), as_real(b))


def sym_min(a: Any, b: Any) -> Any:
    if not is_sym(a) and not is_sym(b):
        return min(a, b)
    return z3.If(as_real(a) <= as_real(b), as_real(a), as_real(b))


def sym_abs(a: Any) -> Any:
    if not is_sym(a):
        return abs(a)
    r = as_real(a)
    return z3.If(r >= 0, r, -r)


def _fold(parts: list, unit: bool, make) -> Any:
    """And (unit True) / Or (unit False) of Python bools and Z3 bools, folded where concrete."""
    terms = []
    for p in parts:
        p = as_bool(p)
        if p is (not unit):
            return not unit
        if p is unit:
            continue
        terms.append(p)
    if not terms:
        return unit
    return terms[0] if len(terms) == 1 else make(*terms)


def conj(parts: list) -> Any:
    return _fold(parts, True, z3.And)


def disj(parts: list) -> Any:
    return _fold(parts, False, z3.Or)


def negate(p: Any) -> Any:
    p = as_bool(p)
    if isinstance(p, bool):
        return not p
    return z3.Not(p)


def model_float(model: z3.ModelRef, value: Any) -> float:
    """A Python float for a number or term under `model` (unconstrained parts read as 0)."""
    if not is_sym(value):
        return float(value)
    v = model.eval(value, model_completion=True)
    return value_to_float(v)


def value_to_float(v: Any) -> float:
    if z3.is_rational_value(v):
        return v.numerator_as_long() / v.denominator_as_long()
    if z3.is_algebraic_value(v):
        return float(Fraction(v.approx(20).as_fraction()))
    if z3.is_true(v):
        return 1.0
    if z3.is_false(v):
        return 0.0
    try:
        return float(Fraction(str(v)))
    except (ValueError, ZeroDivisionError):
        return float("nan")


def model_value(model: z3.ModelRef, value: Any) -> Any:
    """Concretise a value (scalar term, bool term, or nested list/tuple/ndarray of them)."""
    import numpy as np

    if isinstance(value, z3.BoolRef):
        return bool(z3.is_true(model.eval(value, model_completion=True)))
    if is_sym(value):
        return model_float(model, value)
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            flat = [model_value(model, v) for v in value.reshape(-1)]
            return np.array(flat, dtype=float).reshape(value.shape)
        return value
    if isinstance(value, list):
        return [model_value(model, v) for v in value]
    if isinstance(value, tuple):
        return tuple(model_value(model, v) for v in value)
    return value


def resource_count(solver: z3.Solver) -> int:
    """Z3's resource counter (`rlimit count`): the work its procedures have done in this
    context so far, in units that are the same on every machine. It counts for the whole
    context, so the difference around a query is what the query spent, whichever solver ran it."""
    try:
        return int(solver.statistics().get_key_value("rlimit count"))
    except z3.Z3Exception:   # no work done yet in this context
        return 0

"""The interval fast path is sound: whatever it decides holds at every point of the box.

Random terms over bounded reals (sums, differences, products, quotients, if-then-else, abs,
squares), random points in the bounds: the term's value lies in its interval, and a
comparison the bounds decide has that truth value at the point."""

from __future__ import annotations

from fractions import Fraction

import z3
from hypothesis import given, settings, strategies as st

from capc.safety.intervals import Bounds
from capc.safety.z3util import sym_abs

NAMES = ("a", "b", "c")
VARS = {n: z3.Real(n) for n in NAMES}
numbers = st.floats(-2.0, 2.0, allow_nan=False).map(lambda v: round(v, 3) + 0.0)  # no -0.0


def terms(depth: int = 3):
    leaf = st.one_of(st.sampled_from(NAMES).map(VARS.get), numbers.map(z3.RealVal))
    if depth == 0:
        return leaf
    sub = terms(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(sub, sub).map(lambda p: p[0] + p[1]),
        st.tuples(sub, sub).map(lambda p: p[0] - p[1]),
        st.tuples(sub, sub).map(lambda p: p[0] * p[1]),
        st.tuples(sub, numbers.filter(lambda v: abs(v) > 0.01)).map(lambda p: p[0] / p[1]),
        st.tuples(sub, sub, sub).map(lambda p: z3.If(p[0] > p[1], p[1], p[2])),
        sub.map(sym_abs),
        sub.map(lambda t: t ** 2),
        sub.map(lambda t: -t),
    )


boxes = st.fixed_dictionaries({n: st.tuples(numbers, numbers).map(sorted) for n in NAMES})


def value_at(term, point):
    model = z3.substitute(term, *[(VARS[n], z3.RealVal(Fraction(point[n]))) for n in NAMES])
    v = z3.simplify(model)
    return float(Fraction(v.as_fraction())) if z3.is_rational_value(v) else bool(z3.is_true(v))


@settings(max_examples=200, deadline=None)
@given(term=terms(), box=boxes, data=st.data())
def test_value_lies_in_its_interval(term, box, data):
    bounds = Bounds()
    for n, (lo, hi) in box.items():
        bounds.declare(n, lo, hi)
    point = {n: data.draw(st.floats(lo, hi, allow_nan=False)) for n, (lo, hi) in box.items()}
    lo, hi = bounds.interval(term)
    v = value_at(term, point)
    assert lo <= v <= hi, (str(term), box, point, v, (lo, hi))


@settings(max_examples=200, deadline=None)
@given(left=terms(2), right=terms(2), op=st.sampled_from(["<", "<=", ">", ">=", "=="]), box=boxes,
       data=st.data())
def test_decided_comparisons_hold_at_every_point(left, right, op, box, data):
    bounds = Bounds()
    for n, (lo, hi) in box.items():
        bounds.declare(n, lo, hi)
    formula = {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right,
               "==": left == right}[op]
    decided = bounds.truth(formula)
    if decided is None:
        return
    point = {n: data.draw(st.floats(lo, hi, allow_nan=False)) for n, (lo, hi) in box.items()}
    assert value_at(formula, point) is decided

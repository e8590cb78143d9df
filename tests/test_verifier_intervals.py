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


@settings(max_examples=200, deadline=None)
@given(left=terms(2), right=terms(2), op=st.sampled_from(["<", "<=", ">", ">=", "=="]), box=boxes)
def test_exact_decisions_are_the_solvers(left, right, op, box):
    """Exact rational bounds (the world model's decisions before the solver) decide only what
    Z3 proves over the same bounds, and agree with the widened float bounds where both decide."""
    bounds = Bounds()
    facts = []
    for n, (lo, hi) in box.items():
        bounds.declare(n, lo, hi)
        facts += [VARS[n] >= lo, VARS[n] <= hi]
    formula = {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right,
               "==": left == right}[op]
    decided = bounds.exact_truth(formula)
    if bounds.truth(formula) is not None and decided is not None:
        assert decided == bounds.truth(formula)
    if decided is None:
        return
    solver = z3.Solver()
    solver.add(*facts, formula if decided is False else z3.Not(formula))
    assert solver.check() == z3.unsat, (str(formula), box, decided)


def test_exact_bounds_decide_what_widened_floats_cannot():
    """Two perception errors of 1 cm are at most 2 cm apart: within a block's half width plus
    its 1e-12 edge allowance, which the widened floats cannot tell; and a bound given as the
    float 0.3 is Z3's 3/10, not the double below it."""
    bounds = Bounds()
    e, f = z3.Real("e"), z3.Real("f")
    bounds.declare("e", -0.01, 0.01)
    bounds.declare("f", -0.01, 0.01)
    under = sym_abs(e - f) <= 0.02 + 1e-12
    assert bounds.truth(under) is None
    assert bounds.exact_truth(under) is True
    assert bounds.exact_truth(sym_abs(e - f) < 0.02) is None  # reached at the corners
    bounds.declare("g", 0, 0.3)
    g = z3.Real("g")
    assert bounds.exact_truth(g <= z3.RealVal("3/10")) is True
    assert bounds.exact_truth(g < z3.RealVal("3/10")) is None
    bounds.declare("h")  # unbounded: nothing exact to say
    assert bounds.exact_truth(z3.Real("h") <= 1) is None

"""Where exact reals and the run's doubles part ways, and the slack that covers it.

The verifier computes over exact reals; the run computes the same expressions in IEEE doubles,
a few ulps per operation away (about 1e-16 at table scale). Proofs absorb that in
`spec.margin`. Two other places need it stated, because there the verifier *assumes*
something about the run instead of proving it:

* **"The earlier command passed the monitor."** The monitor tests the double it was given;
  the exact value may lie a rounding error beyond the bound. The assumption is weakened by
  `slack(bound)` (obligations.py).
* **Branches.** A test the exact reals rule out on a path (`p[0] + 0.2 >= 0.30000000000000004`
  together with `p[0] <= 0.1`) can still be true in doubles (0.1 + 0.2 rounds up).
  `DoubleTruths` keeps the path's decisions as a run in doubles makes them (each comparison
  tied to its exact value only through the slack); a side that exact reals rule out but a run
  in doubles can take is not explored: the verifier reports it unknown, guarded by the
  monitor (verifier.py, `PathRun.decide`).

FLOAT_SLACK is the float model's bound on the distance between an expression's exact value
and its double, relative to the size of the values compared (at least 1): 1e-9, which is
millions of operations' worth of rounding at table scale.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import z3

FLOAT_SLACK = 1e-9

Interval = Callable[[Any], tuple[float, float]]


def slack(*magnitudes: float) -> float:
    """The rounding slack for values of these sizes (absolute at table scale, else relative)."""
    return FLOAT_SLACK * max([1.0] + [abs(m) for m in magnitudes])


def _slack_of(a: Any, b: Any, interval: Interval) -> Any:
    """Slack for comparing a and b: from their interval bounds when they are finite; for
    values with no finite bound (run-time answers), relative to the values themselves."""
    ends = [*interval(a), *interval(b)]
    if all(math.isfinite(e) for e in ends):
        return z3.RealVal(slack(*ends))

    def size(t):
        return z3.If(t >= 0, t, -t)

    return FLOAT_SLACK * (1 + size(a) + size(b))


# --- what a run in doubles decided on one path ---------------------------------------------

class DoubleTruths:
    """The path condition as a run in doubles sees it. Each comparison atom (one per pair of
    terms: `x < y`, with `x <= y` as `not y < x`) gets a boolean, its truth in doubles, tied
    to the exact values only through the rounding slack s: true forces `x <= y + s`, false
    forces `x >= y - s`. The same atom met in two tests is the same two doubles compared
    twice, so it gets the same boolean: the run cannot answer it both ways.

    `query(side)` then gives the terms that are satisfiable, together with the exact path
    condition, when a run can take a side of a test that exact reals rule out on this path."""

    def __init__(self, interval: Interval):
        self.interval = interval
        self._pending: list[Any] = []        # decided tests (exact), abstracted when first asked
        self.taken: list[Any] = []           # each decided test, over the atoms' booleans
        self._atoms: dict[tuple, Any] = {}   # key -> boolean
        self._links: dict[tuple, Any] = {}   # key -> its tie to the exact values
        self._alive: list[Any] = []          # Z3 reuses the ids of freed terms: keep them

    def record(self, cond: z3.BoolRef, choice: bool) -> None:
        """A test the path decided with the solver. (Tests the interval bounds decide are left
        out: fewer constraints only widen the double view, which keeps it sound; and the
        bounds' outward widening already keeps rounding from crossing them.)"""
        self._pending.append(cond if choice else z3.Not(cond))

    def query(self, side: z3.BoolRef) -> list:
        """Terms to check with the exact path condition: satisfiable when some run in doubles
        takes `side` after the decisions recorded so far."""
        self.taken += [self.of(c) for c in self._pending]
        self._pending.clear()
        abstract = self.of(side)
        return self.taken + list(self._links.values()) + [abstract]

    def of(self, c: z3.BoolRef) -> Any:
        if z3.is_not(c):
            return z3.Not(self.of(c.arg(0)))
        if z3.is_and(c):
            return z3.And(*[self.of(a) for a in c.children()])
        if z3.is_or(c):
            return z3.Or(*[self.of(a) for a in c.children()])
        if c.num_args() == 2 and z3.is_arith(c.arg(0)):
            a, b = c.arg(0), c.arg(1)
            if z3.is_lt(c):
                return self._less(a, b)
            if z3.is_gt(c):
                return self._less(b, a)
            if z3.is_le(c):
                return z3.Not(self._less(b, a))
            if z3.is_ge(c):
                return z3.Not(self._less(a, b))
            if z3.is_eq(c):
                return z3.And(z3.Not(self._less(a, b)), z3.Not(self._less(b, a)))
            if z3.is_distinct(c):
                return z3.Or(self._less(a, b), self._less(b, a))
        return c

    def _less(self, x: Any, y: Any) -> Any:
        key = (x.get_id(), y.get_id())
        atom = self._atoms.get(key)
        if atom is None:
            self._alive += [x, y]
            atom = z3.Bool(f"double_lt!{len(self._atoms)}")
            s = _slack_of(x, y, self.interval)
            self._atoms[key] = atom
            self._links[key] = z3.And(z3.Implies(atom, x <= y + s), z3.Implies(z3.Not(atom), x >= y - s))
        return atom


# --- the same comparison twice on one path ------------------------------------------------

class Comparisons:
    """Truth values of comparisons already decided on one path. The same two terms compared
    again are the same doubles compared again, so the answer is the same; looking it up keeps
    a path from forking again on a test it has already answered (`PathRun.decide`).
    Knows `a < b`, `a <= b` (any orientation, negated or not) and identical terms."""

    def __init__(self):
        self._facts: dict[tuple, bool] = {}
        self._alive: list[Any] = []  # Z3 reuses the ids of freed terms: keep the terms

    def record(self, cond: z3.BoolRef, value: bool) -> None:
        self._alive.append(cond)
        self._facts[("term", cond.get_id())] = value
        atom = _atom(cond)
        if atom is not None:
            op, x, y, negated = atom
            self._facts[(op, x, y)] = value != negated

    def truth(self, cond: z3.BoolRef) -> bool | None:
        known = self._facts.get(("term", cond.get_id()))
        if known is not None:
            return known
        atom = _atom(cond)
        if atom is None:
            return None
        op, x, y, negated = atom
        value = self._atom_truth(op, x, y)
        return None if value is None else value != negated

    def _atom_truth(self, op: str, x: int, y: int) -> bool | None:
        facts = self._facts
        known = facts.get((op, x, y))
        if known is not None:
            return known
        flipped = facts.get(("le" if op == "lt" else "lt", y, x))  # x < y  ==  not (y <= x)
        if flipped is not None:
            return not flipped
        if op == "le" and facts.get(("lt", x, y)) is True:      # x < y implies x <= y
            return True
        if op == "lt" and facts.get(("le", x, y)) is False:     # not x <= y implies not x < y
            return False
        if op == "le" and facts.get(("le", y, x)) is False:     # not y <= x: x < y
            return True
        if op == "lt" and facts.get(("lt", y, x)) is True:      # y < x: not x < y
            return False
        return None


def _atom(c: z3.BoolRef) -> tuple[str, int, int, bool] | None:
    """`c` as (op, id of x, id of y, negated) with op "lt" (x < y) or "le" (x <= y)."""
    negated = False
    while z3.is_not(c):
        c, negated = c.arg(0), not negated
    if c.num_args() != 2 or not z3.is_arith(c.arg(0)):
        return None
    a, b = c.arg(0).get_id(), c.arg(1).get_id()
    if z3.is_lt(c):
        return "lt", a, b, negated
    if z3.is_le(c):
        return "le", a, b, negated
    if z3.is_gt(c):
        return "lt", b, a, negated
    if z3.is_ge(c):
        return "le", b, a, negated
    return None

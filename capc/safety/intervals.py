"""Interval bounds of Z3 terms: the verifier's fast path.

Every unknown the verifier creates has known bounds (an object's position within the
perception tolerance, an error within +-tolerance, ...). Evaluating a term over those boxes
with interval arithmetic often decides a branch or proves an obligation outright: the
violation of "x <= 0.2995" is impossible when x's interval is [0.08, 0.12]. That needs no
solver call. Intervals ignore the path condition, so a decision they make holds on every
path (sound); when they cannot decide, the solver does.

Bounds are computed in floating point and widened outward by a relative 1e-12 at every
numeral and operation, so they are never narrower than the exact real interval.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import z3

INF = math.inf
_EPS = 1e-12


def _widen(lo: float, hi: float) -> tuple[float, float]:
    return (lo - _EPS * (1 + abs(lo)) if lo != -INF else lo, hi + _EPS * (1 + abs(hi)) if hi != INF else hi)


def _mul(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    products = []
    for x in a:
        for y in b:
            if (x == 0 and math.isinf(y)) or (y == 0 and math.isinf(x)):
                products.append(0.0)
            else:
                products.append(x * y)
    return _widen(min(products), max(products))


_C = z3.z3core
_ADD, _SUB, _MUL, _DIV, _UMINUS = z3.Z3_OP_ADD, z3.Z3_OP_SUB, z3.Z3_OP_MUL, z3.Z3_OP_DIV, z3.Z3_OP_UMINUS
_ITE, _TO_REAL, _POWER, _UNINTERP = z3.Z3_OP_ITE, z3.Z3_OP_TO_REAL, z3.Z3_OP_POWER, z3.Z3_OP_UNINTERPRETED
_LE, _LT, _GE, _GT, _EQ = z3.Z3_OP_LE, z3.Z3_OP_LT, z3.Z3_OP_GE, z3.Z3_OP_GT, z3.Z3_OP_EQ
_AND, _OR, _NOT, _TRUE, _FALSE = z3.Z3_OP_AND, z3.Z3_OP_OR, z3.Z3_OP_NOT, z3.Z3_OP_TRUE, z3.Z3_OP_FALSE
_NUMERAL_AST, _APP_AST = z3.Z3_NUMERAL_AST, z3.Z3_APP_AST


def _junction(k: int, truths) -> bool | None:
    """And / Or over the truths of the arguments (a generator: stops at the decisive one)."""
    decisive = k == _OR  # the value that decides the whole formula
    seen_none = False
    for v in truths:
        if v is decisive:
            return decisive
        seen_none = seen_none or v is None
    return None if seen_none else (not decisive)


def _order(k: int, a: tuple, b: tuple) -> bool | None:
    """a <= b (or <, >=, >) on the intervals a and b: True / False where they decide it."""
    (alo, ahi), (blo, bhi) = (b, a) if k in (_GE, _GT) else (a, b)
    strict = k in (_LT, _GT)  # now the formula reads a < b (strict) or a <= b
    if ahi < blo or (not strict and ahi <= blo):
        return True
    if alo > bhi or (strict and alo >= bhi):
        return False
    return None


def _formula(bounds: "Bounds", a, truth, iv) -> bool | None:
    """The truth of a formula over intervals, `truth` and `iv` deciding its parts (float
    bounds, or exact ones): True / False where they decide it, None otherwise."""
    ctx = bounds._ctx
    if _C.Z3_get_ast_kind(ctx, a) != _APP_AST:
        return None
    k, args, _ = bounds._kind_args(a)
    if k == _TRUE or k == _FALSE:
        return k == _TRUE
    if k == _NOT:
        inner = truth(args[0])
        return None if inner is None else not inner
    if k == _AND or k == _OR:
        return _junction(k, (truth(x) for x in args))
    if k in (_LE, _LT, _GE, _GT):
        return _order(k, iv(args[0]), iv(args[1]))
    if k == _EQ and _C.Z3_get_sort_kind(ctx, _C.Z3_get_sort(ctx, args[0])) in (z3.Z3_REAL_SORT, z3.Z3_INT_SORT):
        (alo, ahi), (blo, bhi) = iv(args[0]), iv(args[1])
        if ahi < blo or bhi < alo:
            return False
    return None


class Bounds:
    """Interval evaluation straight on Z3's C API (no Python wrapper per sub-term: a
    wrapper costs more than the arithmetic)."""

    def __init__(self):
        self.vars: dict[str, tuple[float, float]] = {}
        # the declared bounds as given (exact rationals; None: unbounded on that side)
        self.exact: dict[str, tuple[Fraction | None, Fraction | None]] = {}
        # keyed by AST id; every entry keeps the top-level term it was reached from alive,
        # since Z3 reuses the ids of freed terms
        self._cache: dict[int, tuple[Any, tuple[float, float]]] = {}
        self._nl_cache: dict[int, tuple[Any, bool]] = {}
        self._ctx = z3.main_ctx().ref()
        self._keep: Any = None

    def declare(self, name: str, low: Any = None, high: Any = None) -> None:
        lo, hi = self.vars.get(name, (-INF, INF))
        if low is not None and not isinstance(low, z3.ExprRef):
            lo = max(lo, float(low))
        if high is not None and not isinstance(high, z3.ExprRef):
            hi = min(hi, float(high))
        self.vars[name] = _widen(lo, hi)
        elo, ehi = self.exact.get(name, (None, None))
        elo = _tighter(elo, _fraction(low), max)
        ehi = _tighter(ehi, _fraction(high), min)
        self.exact[name] = (elo, ehi)

    def interval(self, t: Any) -> tuple[float, float]:
        if not isinstance(t, z3.ExprRef):
            v = float(t)
            return _widen(v, v)
        self._keep = t
        return self._iv(t.as_ast())

    def truth(self, b: Any) -> bool | None:
        """True/False when the bounds decide the formula, None otherwise."""
        if isinstance(b, bool):
            return b
        self._keep = b
        return self._truth(b.as_ast())

    def exact_truth(self, b: Any) -> bool | None:
        """`truth` in exact rational arithmetic, without widening: decides the comparisons
        whose float bounds miss by less than their widening (|dx - dx'| <= 0.02 + 1e-12
        for two errors of 1 cm), which would otherwise go to the solver. Exact reals, as the
        solver decides: for the world model's comparisons (whose float rounding the
        counterexample search keeps clear of), not for a branch the run takes on doubles.
        Only small terms (simplified differences); None where it cannot decide."""
        if isinstance(b, bool):
            return b
        try:
            return _Exact(self).truth(b.as_ast())
        except _TooLarge:
            return None

    def nonlinear(self, t: Any) -> bool:
        """Does the term multiply (or divide by) unknowns? Such queries go to nlsat."""
        if not isinstance(t, z3.ExprRef):
            return False
        self._keep = t
        return self._nonlinear(t.as_ast())

    def _nonlinear(self, a) -> bool:
        ctx = self._ctx
        key = _C.Z3_get_ast_id(ctx, a)
        hit = self._nl_cache.get(key)
        if hit is not None:
            return hit[1]
        result = False
        if _C.Z3_get_ast_kind(ctx, a) == _APP_AST:
            k, args, _ = self._kind_args(a)
            if k == _MUL:
                result = sum(1 for x in args if _C.Z3_get_ast_kind(ctx, x) != _NUMERAL_AST) >= 2
            elif k == _DIV or k == _POWER:
                result = _C.Z3_get_ast_kind(ctx, args[1]) != _NUMERAL_AST or k == _POWER
            if not result:
                result = any(self._nonlinear(x) for x in args)
        self._nl_cache[key] = (self._keep, result)
        return result

    # --- on raw ASTs ------------------------------------------------------------------

    def _kind_args(self, a):
        ctx = self._ctx
        app = _C.Z3_to_app(ctx, a)
        k = _C.Z3_get_decl_kind(ctx, _C.Z3_get_app_decl(ctx, app))
        n = _C.Z3_get_app_num_args(ctx, app)
        return k, [_C.Z3_get_app_arg(ctx, app, i) for i in range(n)], app

    def _iv(self, a) -> tuple[float, float]:
        ctx = self._ctx
        key = _C.Z3_get_ast_id(ctx, a)
        hit = self._cache.get(key)
        if hit is not None:
            return hit[1]
        result = self._compute(a)
        self._cache[key] = (self._keep, result)
        return result

    def _compute(self, a) -> tuple[float, float]:
        ctx = self._ctx
        ast_kind = _C.Z3_get_ast_kind(ctx, a)
        if ast_kind == _NUMERAL_AST:
            v = _C.Z3_get_numeral_double(ctx, a)
            return _widen(v, v)
        if ast_kind != _APP_AST:
            return (-INF, INF)
        k, args, app = self._kind_args(a)
        if k == _UNINTERP and not args:
            name = _C.Z3_get_symbol_string(ctx, _C.Z3_get_decl_name(ctx, _C.Z3_get_app_decl(ctx, app)))
            return self.vars.get(name, (-INF, INF))
        if k == _ADD:
            lo = hi = 0.0
            for x in args:
                alo, ahi = self._iv(x)
                lo, hi = lo + alo, hi + ahi
            return _widen(lo, hi)
        if k == _SUB:
            lo, hi = self._iv(args[0])
            for x in args[1:]:
                alo, ahi = self._iv(x)
                lo, hi = lo - ahi, hi - alo
            return _widen(lo, hi)
        if k == _UMINUS:
            lo, hi = self._iv(args[0])
            return (-hi, -lo)
        if k == _MUL:
            acc = self._iv(args[0])
            for x in args[1:]:
                acc = _mul(acc, self._iv(x))
            return acc
        if k == _DIV:
            num, den = self._iv(args[0]), self._iv(args[1])
            if den[0] <= 0 <= den[1]:
                return (-INF, INF)
            return _mul(num, _widen(*sorted((1 / den[0], 1 / den[1]))))
        if k == _ITE:
            truth = self._truth(args[0])
            if truth is True:
                return self._iv(args[1])
            if truth is False:
                return self._iv(args[2])
            x, y = self._iv(args[1]), self._iv(args[2])
            return (min(x[0], y[0]), max(x[1], y[1]))
        if k == _TO_REAL:
            return self._iv(args[0])
        if k == _POWER and _C.Z3_get_ast_kind(ctx, args[1]) == _NUMERAL_AST \
                and _C.Z3_get_numeral_double(ctx, args[1]) == 2.0:
            lo, hi = self._iv(args[0])
            if lo >= 0:
                return _widen(lo * lo, hi * hi)
            if hi <= 0:
                return _widen(hi * hi, lo * lo)
            return _widen(0.0, max(lo * lo, hi * hi))
        return (-INF, INF)

    def _truth(self, a) -> bool | None:
        return _formula(self, a, self._truth, self._iv)


# --- exact rational bounds ------------------------------------------------------------

_EXACT_NODES = 400  # larger terms are left to the solver (rational arithmetic grows with them)


class _Inexact(Exception):
    """An operation without an exact rule here (or a product of unbounded factors): the
    comparison it is in is left undecided."""


class _TooLarge(Exception):
    """More than _EXACT_NODES nodes: the whole formula is left to the solver."""


def _fraction(v: Any) -> Fraction | None:
    """The bound the solver's fact `var >= v` holds: Z3 reads a Python float through its
    decimal repr (0.3 is 3/10 there, not the double below it), so the value comes from Z3."""
    if v is None or isinstance(v, (z3.ExprRef, bool)):
        return None
    try:
        return z3.RealVal(v).as_fraction()
    except (z3.Z3Exception, TypeError, ValueError):
        return None  # no exact bound on that side


def _tighter(old: Fraction | None, new: Fraction | None, pick) -> Fraction | None:
    if old is None:
        return new
    return old if new is None else pick(old, new)


def _exact_mul(a: tuple, b: tuple) -> tuple:
    if INF in (a[1], b[1]) or -INF in (a[0], b[0]):
        raise _Inexact()  # 0 * inf: not worth a rule here
    products = [x * y for x in a for y in b]
    return min(products), max(products)


class _Exact:
    """One exact evaluation: interval arithmetic on Fractions over the declared bounds (an
    unbounded side is the float infinity, which sums and comparisons read as such)."""

    def __init__(self, bounds: Bounds):
        self.b, self.ctx = bounds, bounds._ctx
        self.memo: dict[int, Any] = {}
        self.nodes = 0

    def _visit(self, a) -> int:
        self.nodes += 1
        if self.nodes > _EXACT_NODES:
            raise _TooLarge()
        return _C.Z3_get_ast_id(self.ctx, a)

    def iv(self, a) -> tuple[Fraction, Fraction]:
        ctx = self.ctx
        key = self._visit(a)
        if key in self.memo:
            return self.memo[key]
        kind = _C.Z3_get_ast_kind(ctx, a)
        if kind == _NUMERAL_AST:
            v = Fraction(_C.Z3_get_numeral_string(ctx, a))
            result = (v, v)
        elif kind != _APP_AST:
            raise _Inexact()
        else:
            result = self._app(a)
        self.memo[key] = result
        return result

    def _app(self, a) -> tuple[Fraction, Fraction]:
        ctx = self.ctx
        k, args, app = self.b._kind_args(a)
        if k == _UNINTERP and not args:
            name = _C.Z3_get_symbol_string(ctx, _C.Z3_get_decl_name(ctx, _C.Z3_get_app_decl(ctx, app)))
            lo, hi = self.b.exact.get(name, (None, None))
            return (-INF if lo is None else lo), (INF if hi is None else hi)
        if k == _ADD:
            ivs = [self.iv(x) for x in args]
            return sum(i[0] for i in ivs), sum(i[1] for i in ivs)
        if k == _SUB:
            lo, hi = self.iv(args[0])
            for x in args[1:]:
                alo, ahi = self.iv(x)
                lo, hi = lo - ahi, hi - alo
            return lo, hi
        if k == _UMINUS:
            lo, hi = self.iv(args[0])
            return -hi, -lo
        if k == _MUL:
            acc = self.iv(args[0])
            for x in args[1:]:
                acc = _exact_mul(acc, self.iv(x))
            return acc
        if k == _DIV:
            num, (dlo, dhi) = self.iv(args[0]), self.iv(args[1])
            if dlo <= 0 <= dhi or INF in (dhi, -dlo):
                raise _Inexact()
            return _exact_mul(num, (1 / Fraction(dhi), 1 / Fraction(dlo)))
        if k == _POWER and _C.Z3_get_ast_kind(ctx, args[1]) == _NUMERAL_AST \
                and Fraction(_C.Z3_get_numeral_string(ctx, args[1])) == 2:
            lo, hi = self.iv(args[0])
            if INF in (hi, -lo):
                raise _Inexact()
            return (lo * lo, hi * hi) if lo >= 0 else (hi * hi, lo * lo) if hi <= 0 else (0, max(lo * lo, hi * hi))
        if k == _TO_REAL:
            return self.iv(args[0])
        if k == _ITE:
            truth = self.truth(args[0])
            if truth is not None:
                return self.iv(args[1] if truth else args[2])
            x, y = self.iv(args[1]), self.iv(args[2])
            return min(x[0], y[0]), max(x[1], y[1])
        raise _Inexact()

    def truth(self, a) -> bool | None:
        self._visit(a)
        try:
            return _formula(self.b, a, self.truth, self.iv)
        except _Inexact:
            return None

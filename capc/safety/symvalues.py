"""Values of the symbolic executor and the Python/numpy operations on them.

A policy value is, here:
* a Python `None`/`bool`/`int`/`float`/`str` when it is known exactly,
* a Z3 real term (numbers that depend on the world) or a Z3 bool term,
* a Python `list`/`tuple`/`dict` of values,
* a numpy array of dtype `object` holding Python numbers and Z3 terms ("boxed": every array
  the policy makes is boxed, so that assigning a symbolic element into it works in place and
  aliasing behaves as at run time),
* `Opaque`: a value nobody can know before run time (a sub-LMP's answer of a non-numeric
  type); reading into it ends the analysis of the path (the run is guarded instead),
* `FunctionValue` / `Closure`: a `def` and a `lambda`.

Arithmetic is Python's: on boxed arrays numpy applies the Python operator element by element,
so `pos + [0.1, 0]` computes exactly what the runtime computes, with Z3 terms where the runtime
has floats.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

from capc.lazy_numpy import np
import z3

from capc.compiler.costs import only_of
from capc.diagnostics import Span
from capc.safety.z3util import as_bool, as_real, conj, disj, is_sym


class Abandon(Exception):
    """The executor cannot follow this path exactly (an unsupported operation on a symbolic
    value). The path's remaining motions are `unknown`: guarded at run time."""

    def __init__(self, reason: str, span: Span | None = None):
        super().__init__(reason)
        self.reason = reason
        self.span = span


class PolicyFault(Exception):
    """The policy itself fails here on this path (IndexError, KeyError, ...). At run time the
    interpreter stops: nothing after this point moves, so the path ends safely."""

    def __init__(self, message: str, span: Span | None = None):
        super().__init__(message)
        self.message = message
        self.span = span


class UnknownObject(PolicyFault):
    """The policy names an object the world does not have (`'red blok'`). In scene mode the
    scene is the world the run starts in, so this is an error of the policy (E308), not a
    path that may or may not be taken."""

    def __init__(self, name: str, message: str, span: Span | None = None):
        super().__init__(message, span)
        self.name = name


@dataclass(frozen=True)
class Opaque:
    """A run-time-only value: `what` says where it came from (for messages)."""

    what: str
    span: Span | None = None


@dataclass
class Frame:
    vars: dict[str, Any] = field(default_factory=dict)
    parent: "Frame | None" = None

    def lookup(self, name: str) -> Any:
        frame = self
        while frame is not None:
            if name in frame.vars:
                return frame.vars[name]
            frame = frame.parent
        raise KeyError(name)


@dataclass(frozen=True)
class FunctionValue:
    fdef: Any                 # ir.FunctionDef
    defaults: tuple[Any, ...]  # evaluated default values, one per parameter (None if none)


@dataclass(frozen=True)
class Closure:
    params: tuple[str, ...]
    body: Any                 # ir.Expr
    frame: Frame


@dataclass(frozen=True)
class BuiltinRef:
    """A builtin used as a value (`sorted(names, key=len)`)."""

    name: str


class SymbolicValue:
    """Base of the values a library model builds from Z3 terms (a shapely geometry whose
    coordinates depend on the world, `capc.safety.sym_shapely`): has_sym counts them."""

    __slots__ = ()


def opaque_check(value: Any, span: Span | None) -> None:
    if isinstance(value, Opaque):
        raise Abandon(f"the value of {value.what} is only known at run time", span)


MAX_WALK = 200_000  # elements the verifier walks in one value before it gives up on the path


_ATOMS = frozenset({int, float, bool, str, type(None)})  # hold nothing inside: no walk needed
_NUMBERS = frozenset({int, float, bool, type(None)})


def has_sym(value: Any, dicts: bool = False) -> bool:
    """Does the value hold a Z3 term or a run-time-only value anywhere? Walks aliased
    sub-lists every time (as a repr would); past MAX_WALK elements the path is left to the
    monitor (unknown), whatever the run would make of such a value."""
    stack, seen = [value], 0
    while stack:
        v = stack.pop()
        seen += 1
        if seen > MAX_WALK:
            raise Abandon(f"a value with more than {MAX_WALK:,} elements (counting shared ones)")
        if is_sym(v) or isinstance(v, (Opaque, SymbolicValue)):
            return True
        if isinstance(v, np.ndarray):
            if v.dtype == object:
                if only_of(_ATOMS, v.flat):
                    seen += v.size  # the elements are counted as if walked
                else:
                    stack.extend(v.flat)
        elif isinstance(v, (list, tuple)):
            if only_of(_ATOMS, v):
                seen += len(v)
            else:
                stack.extend(v)
        elif dicts and isinstance(v, dict):
            stack.extend(v.values())
    if seen > MAX_WALK:
        raise Abandon(f"a value with more than {MAX_WALK:,} elements (counting shared ones)")
    return False


def scalar(value: Any) -> Any:
    """numpy scalars and 0-d arrays to plain Python values."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item() if value.dtype != object else value[()]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, z3.BoolRef):
        return as_bool(value)
    return value


def box(value: Any) -> np.ndarray:
    """A boxed (dtype=object) array of plain Python numbers and Z3 terms."""
    if isinstance(value, np.ndarray) and value.dtype == object:
        return value
    if isinstance(value, (list, tuple)) and deep_size(value, MAX_WALK) > MAX_WALK:
        raise Abandon(f"an array of more than {MAX_WALK:,} elements")
    items = _nested(value)
    if _ragged(items):
        raise Abandon("np.array of a ragged nested sequence is not modelled")
    return np.array(items, dtype=object)


def _nested(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_nested(v) for v in value] if value.ndim else scalar(value)
    if isinstance(value, (list, tuple)):
        return [_nested(v) for v in value]
    if isinstance(value, Opaque):
        raise Abandon(f"the value of {value.what} is only known at run time", value.span)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, z3.BoolRef):
        return as_real(value)
    if isinstance(value, str) or value is None:
        raise Abandon("np.array of text or None is not modelled")
    return scalar(value)


def _ragged(items: Any) -> bool:
    if not isinstance(items, list) or not items:
        return False
    lens = {len(i) if isinstance(i, list) else -1 for i in items}
    return len(lens) > 1 or any(_ragged(i) for i in items if isinstance(i, list))


def unbox(arr: np.ndarray) -> np.ndarray:
    """A plain numeric array from a boxed array without symbolic entries."""
    return np.array(arr.tolist()) if arr.dtype == object else arr


def rebox(value: Any) -> Any:
    """The result of a real numpy/Python call back into executor values: arrays boxed, numpy
    scalars as Python numbers (a list is copied only when it holds such values)."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return scalar(value)
        return np.array(value.tolist(), dtype=object) if value.dtype != object else value
    if isinstance(value, tuple):
        return tuple(rebox(v) for v in value)
    if isinstance(value, list) and any(isinstance(v, (np.generic, np.ndarray, tuple, list)) for v in value):
        return [rebox(v) for v in value]
    return scalar(value)


# --- truth and comparison ----------------------------------------------------------------

def truth(value: Any, span: Span | None = None) -> Any:
    """Python's truthiness: a Python bool, or a Z3 bool term when it depends on the world."""
    if isinstance(value, z3.BoolRef):
        return as_bool(value)
    if is_sym(value):
        return as_bool(value != 0)
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise PolicyFault("the truth value of an array with more than one element is ambiguous", span)
        return truth(scalar(value.reshape(-1)[0]), span)
    opaque_check(value, span)
    if isinstance(value, (FunctionValue, Closure, BuiltinRef)):
        return True
    return bool(value)


_CMP = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}


def compare(op: str, a: Any, b: Any, span: Span | None = None) -> Any:
    if op in ("is", "is not"):
        if isinstance(a, Opaque) or isinstance(b, Opaque):
            same = False if (a is None or b is None) else None
            if same is None:
                raise Abandon("identity test on a run-time value", span)
        else:
            same = a is b if not (is_sym(a) or is_sym(b)) else False
        return same if op == "is" else not same
    if op in ("in", "not in"):
        result = contains(b, a, span)
        return result if op == "in" else _not(result)
    opaque_check(a, span)
    opaque_check(b, span)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if op in ("==", "!=") and (isinstance(a, str) or isinstance(b, str)):
            return op == "!="
        out = _CMP[op](box(a) if not isinstance(a, np.ndarray) else a,
                       box(b) if not isinstance(b, np.ndarray) else b)
        return np.array([scalar(v) for v in np.asarray(out, dtype=object).reshape(-1)],
                        dtype=object).reshape(np.shape(out)) if isinstance(out, np.ndarray) else scalar(out)
    if op in ("==", "!=") and (isinstance(a, (list, tuple)) or isinstance(b, (list, tuple))):
        eq = seq_equal(a, b)
        return eq if op == "==" else _not(eq)
    if is_sym(a) or is_sym(b):
        if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
            return op == "!="
        ra, rb = as_real(a), as_real(b)
        return as_bool(_CMP[op](ra, rb))
    try:
        return _CMP[op](a, b)
    except TypeError as exc:
        raise PolicyFault(str(exc), span) from None


def _not(value: Any) -> Any:
    return (not value) if isinstance(value, bool) else z3.Not(value)


def seq_equal(a: Any, b: Any) -> Any:
    if type(a) is not type(b) or len(a) != len(b):
        return False
    return conj([truth(compare("==", x, y)) for x, y in zip(a, b)])


def contains(container: Any, item: Any, span: Span | None) -> Any:
    opaque_check(container, span)
    opaque_check(item, span)
    if isinstance(container, str):
        if not isinstance(item, str):
            raise PolicyFault("'in <string>' requires a string on the left", span)
        return item in container
    if isinstance(container, dict):
        if is_sym(item):
            raise Abandon("dictionary lookup with a key that depends on the world", span)
        return item in container
    if isinstance(container, np.ndarray):
        container = list(container.reshape(-1))
    if not has_sym(container) and not has_sym(item):
        return item in container
    return disj([truth(compare("==", item, elem)) for elem in container])


# --- arithmetic ----------------------------------------------------------------------------

_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
          "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "@": operator.matmul}


class Definitions:
    """What arithmetic needs from the executor: fresh reals and the facts that define them."""

    def fresh(self, label: str, low: Any = None, high: Any = None) -> z3.ArithRef: ...
    def define(self, fact: Any) -> None: ...
    def interval(self, term: Any) -> tuple[float, float]: ...


def sym_sqrt(defs: Definitions, x: Any, span: Span | None = None) -> Any:
    """sqrt as a fresh real s >= 0 with s*s = x whenever x >= 0 (exact where defined)."""
    if not is_sym(x):
        if x < 0:
            raise Abandon("square root of a negative number (NaN at run time)", span)
        return float(x) ** 0.5
    lo, hi = defs.interval(x)
    s = defs.fresh("sqrt", max(lo, 0.0) ** 0.5 * (1 - 1e-12), hi ** 0.5 * (1 + 1e-12) + 1e-300 if hi >= 0 else None)
    defs.define(z3.Implies(as_real(x) >= 0, s * s == as_real(x)))
    return s


def deep_size(value: Any, limit: int) -> int:
    """Elements a repr would print, counting aliased sub-lists every time they appear;
    stops counting past `limit`."""
    total, stack = 0, [value]
    while stack and total <= limit:
        v = stack.pop()
        total += 1
        if isinstance(v, (list, tuple)):
            if only_of(_NUMBERS, v):
                total += len(v)  # each would count one
            else:
                stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, np.ndarray):
            total += v.size
        elif isinstance(v, str):
            total += len(v) // 16
    return total


def _int_too_big(op: str, a: Any, b: Any, max_bits: int) -> bool:
    """Would an int operation produce more than `max_bits` bits? Decided before computing."""
    if not (isinstance(a, int) and isinstance(b, int)) or isinstance(a, bool) or isinstance(b, bool):
        return False
    if op == "**":  # |a| >= 2**(bits-1), so |a**b| has at least b*(bits-1)+1 bits
        return b > 0 and abs(a) > 1 and b * (abs(a).bit_length() - 1) + 1 > max_bits
    if op == "*":
        return abs(a).bit_length() + abs(b).bit_length() > max_bits + 1
    return False


def scalar_binop(defs: Definitions, op: str, a: Any, b: Any, span: Span | None = None,
                 max_int_bits: int = 64) -> Any:
    a, b = scalar(a), scalar(b)
    if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        raise PolicyFault(f"unsupported operand types for {op}", span)
    if not is_sym(a) and not is_sym(b):
        if _int_too_big(op, a, b, max_int_bits):
            raise PolicyFault(f"an integer result of '{op}' exceeds {max_int_bits} bits", span)
        try:
            result = _ARITH[op](a, b)
        except ZeroDivisionError:
            raise PolicyFault("division by zero", span) from None
        except (OverflowError, TypeError, ValueError) as exc:
            raise PolicyFault(str(exc), span) from None
        if isinstance(result, complex):
            raise Abandon("complex result of a power", span)
        if type(result) is int and result.bit_length() > max_int_bits:
            raise PolicyFault(f"an integer result has more than {max_int_bits} bits", span)  # as the interpreter
        return result
    ra = as_real(a) if isinstance(a, z3.BoolRef) else a
    rb = as_real(b) if isinstance(b, z3.BoolRef) else b
    if op in ("+", "-", "*"):
        return _ARITH[op](ra if is_sym(ra) else as_real(ra), rb)
    if op == "/":
        if not is_sym(rb) and rb == 0:
            raise PolicyFault("division by zero", span)
        return as_real(ra) / rb
    if op == "**" and not is_sym(rb):
        if rb == 0.5:
            return sym_sqrt(defs, ra, span)
        if float(rb).is_integer() and 0 <= rb <= 4:
            result: Any = 1
            for _ in range(int(rb)):
                result = ra * result if is_sym(ra) else result * ra
            return result
    raise Abandon(f"'{op}' on a value that depends on the world is not modelled exactly", span)


def binop(defs: Definitions, op: str, a: Any, b: Any, span: Span | None, max_len: int,
          max_int_bits: int = 64) -> Any:
    opaque_check(a, span)
    opaque_check(b, span)
    concrete = getattr(defs, "concrete", None)
    if concrete is not None and not (_plain_number(a) and _plain_number(b)) \
            and not has_sym(a) and not has_sym(b):
        return concrete.arith(op, a, b, span)  # the runtime's own arithmetic and size guards
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if isinstance(a, (str, dict)) or isinstance(b, (str, dict)) or a is None or b is None:
            raise PolicyFault(f"unsupported operand types for {op}: array and {type(b if isinstance(a, np.ndarray) else a).__name__}", span)
        left, right = box(a), box(b)
        try:
            if op in ("**", "//", "%") or (op == "/" and (has_sym(right) or 0 in right.reshape(-1).tolist())):
                fn = np.frompyfunc(lambda x, y: scalar_binop(defs, op, x, y, span, max_int_bits), 2, 1)
                out = fn(left, right)
            else:
                out = _ARITH[op](left, right)
        except ValueError as exc:
            raise PolicyFault(f"shapes do not match: {exc}", span) from None
        except PolicyFault as fault:
            if "division by zero" in fault.message:
                raise Abandon("division by zero inside an array (inf/nan at run time)", span) from None
            raise
        if isinstance(out, np.ndarray):
            if out.ndim == 0:
                return scalar(out[()])
            return np.asarray(out, dtype=object)
        return scalar(out)
    if isinstance(a, (list, tuple, str)) or isinstance(b, (list, tuple, str)):
        if op == "+" and type(a) is type(b):
            if len(a) + len(b) > max_len:
                raise PolicyFault("sequence longer than the limit", span)
            return a + b
        if op == "*" and (isinstance(a, int) or isinstance(b, int)) and not (is_sym(a) or is_sym(b)):
            seq, n = (a, b) if isinstance(b, int) else (b, a)
            if isinstance(seq, (list, tuple, str)) and not isinstance(n, bool):
                if len(seq) * max(n, 0) > max_len:
                    raise PolicyFault("sequence longer than the limit", span)
                return seq * n
        if op == "%" and isinstance(a, str):
            raise Abandon("'%' string formatting is not modelled", span)
        raise PolicyFault(f"unsupported operand types for {op}: {type(a).__name__} and {type(b).__name__}", span)
    if isinstance(a, dict) or isinstance(b, dict):
        raise PolicyFault(f"unsupported operand types for {op}: dict", span)
    return scalar_binop(defs, op, a, b, span, max_int_bits)


def _plain_number(v: Any) -> bool:
    return type(v) in (int, float, bool)


def unary(op: str, value: Any, span: Span | None) -> Any:
    if op == "not":
        return _not(truth(value, span))
    opaque_check(value, span)
    if isinstance(value, np.ndarray):
        return -value if op == "-" else value.copy()
    if isinstance(value, z3.BoolRef):
        value = as_real(value)
    if isinstance(value, (str, list, tuple, dict)) or value is None:
        raise PolicyFault(f"bad operand type for unary {op}", span)
    return -value if op == "-" else value

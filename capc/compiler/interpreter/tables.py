"""The library a policy may call: numpy functions, builtins and methods, as explicit tables.

Nothing is looked up by name on a module or an object: a name absent from these tables is
not callable. Each entry carries the size check run before the real function is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from capc.lazy_numpy import np, np_functions as npf

from capc.compiler.interpreter.budgets import _check_binop, _deep_size, _Guard, _size_of
from capc.compiler.interpreter.values import E_INT_SIZE, E_POLICY_ERROR, RuntimeStop, _is_int
from capc.diagnostics import Span

# --- library tables -----------------------------------------------------------------------
# One entry per allow-listed name: the real function, how many positional arguments and
# which keywords it may receive (numpy hides `out=` and `dtype=` in later positional slots:
# `np.zeros(5, 'U1000000000')` would allocate gigabytes, `np.maximum(a, b, c)` writes into c),
# and a size check run before the call. The front end's `capc.compiler.library` holds the
# type rules of the same names; tests/test_interpreter.py checks that the two agree.

Check = Callable[[_Guard, list, dict, Span], None]


@dataclass(frozen=True)
class Impl:
    fn: Callable[..., Any]
    max_args: int = 1
    keywords: frozenset[str] = frozenset()
    check: Check | None = None
    min_args: int = 0



def _deep_check(what: str) -> Check:
    def check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
        guard.length(_deep_size(list(args), guard.limits.max_sequence_length), what, span, lower_bound=True)
    return check


def _shape_check(what: str) -> Check:
    def check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
        guard.shape(args[0], what, span)
    return check


def _bounds(args: list) -> tuple[Any, Any, Any]:
    if len(args) == 1:
        return 0, args[0], 1
    return args[0], args[1], (args[2] if len(args) == 3 else 1)


def _arange_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    if not all(isinstance(a, (int, float, np.integer, np.floating)) for a in args):
        raise RuntimeStop(E_POLICY_ERROR, "np.arange takes 1 to 3 numbers", span)
    start, stop, step = _bounds(args)
    if step == 0 or not all(math.isfinite(float(v)) for v in (start, stop, step)):
        raise RuntimeStop(E_POLICY_ERROR, "np.arange needs finite bounds and a non-zero step", span)
    guard.length(max(0.0, math.ceil((float(stop) - float(start)) / float(step))), "np.arange", span)


def _linspace_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    num = args[2] if len(args) > 2 else kwargs.get("num", 50)
    if not _is_int(num):
        raise RuntimeStop(E_POLICY_ERROR, f"np.linspace: num must be an integer, got {num!r}", span)
    guard.length(int(num), "np.linspace", span)


def _range_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    if not all(_is_int(a) for a in args):
        raise RuntimeStop(E_POLICY_ERROR, "range() takes 1 to 3 integers", span)
    for a in args:
        guard.integer(int(a), span)
    if int(_bounds(args)[2]) == 0:
        raise RuntimeStop(E_POLICY_ERROR, "range() step must not be zero", span)
    # No length limit here: a range is lazy. Loops over it count iterations; list(range(n))
    # and friends check the length before they build anything.


def _dot_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    _check_binop("@", np.asarray(args[0]), np.asarray(args[1]), guard, span)


def _join_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    sep, items = args[0], args[1]
    if isinstance(items, (list, tuple)):
        total = len(sep) * max(len(items) - 1, 0) + sum(len(s) for s in items if isinstance(s, str))
        guard.length(total, "str.join", span)


def _replace_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    if all(isinstance(a, str) for a in args[:3]):
        text, old, new = args[:3]
        n = text.count(old) if old else len(text) + 1
        guard.length(len(text) + n * (len(new) - len(old)), "str.replace", span)


def _grow_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    """append/insert add one element; extend adds len(argument)."""
    added = (_size_of(args[1]) or 0) if len(args) == 2 and not isinstance(args[1], (int, float)) else 1
    guard.length(len(args[0]) + added, "the list", span)


def _zip_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    sizes = [_size_of(a) for a in args]
    if sizes and all(s is not None for s in sizes):
        guard.length(min(sizes), "zip()", span)


def _sum_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    if len(args) == 2 and isinstance(args[1], (list, tuple, str)):
        guard.length(_deep_size(list(args), guard.limits.max_sequence_length), "sum() of sequences", span,
                     lower_bound=True)


def _int_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    """int('9' * 5000): refuse by the digit count, before Python parses it."""
    if args and isinstance(args[0], str):
        digits = len(args[0].strip().lstrip("+-").replace("_", ""))
        if digits > guard.limits.max_int_bits * math.log10(2) + 1:
            raise RuntimeStop(E_INT_SIZE, f"int() of a {digits}-digit string exceeds max_int_bits "
                                          f"({guard.limits.max_int_bits})", span)


def _as_int(value: Any = 0) -> int:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"cannot convert {value} to an integer")
    return int(value)


def _round(value: Any, ndigits: Any = None) -> Any:
    if ndigits is None:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"cannot round {value} to an integer")
        return round(value)
    return round(value, ndigits)


def _np_round(a: Any, decimals: int = 0) -> Any:
    return np.round(a, decimals)


_AXIS = frozenset({"axis"})
_AXIS_KEEP = frozenset({"axis", "keepdims"})
_ARRAYS = _deep_check("the array")


def _reduction(fn: Callable) -> Impl:
    return Impl(fn, 2, _AXIS_KEEP)


def _ufunc(fn: Callable, n: int = 1) -> Impl:
    return Impl(fn, n, min_args=n)


NUMPY: dict[str, Impl] = {
    "array": Impl(npf.array, 1, check=_ARRAYS, min_args=1),
    "asarray": Impl(npf.asarray, 1, check=_ARRAYS, min_args=1),
    "mean": _reduction(npf.mean), "sum": _reduction(npf.sum), "min": _reduction(npf.min),
    "max": _reduction(npf.max), "amin": _reduction(npf.amin), "amax": _reduction(npf.amax),
    "median": _reduction(npf.median), "std": _reduction(npf.std),
    "argmin": Impl(npf.argmin, 2, _AXIS), "argmax": Impl(npf.argmax, 2, _AXIS),
    "argsort": Impl(npf.argsort, 2, _AXIS), "sort": Impl(npf.sort, 2, _AXIS),
    "linalg.norm": Impl(npf.linalg.norm, 3, frozenset({"axis", "ord", "keepdims"})),
    "linspace": Impl(npf.linspace, 3, frozenset({"num", "endpoint"}), _linspace_check, 2),
    "arange": Impl(npf.arange, 3, check=_arange_check, min_args=1),
    "zeros": Impl(npf.zeros, 1, check=_shape_check("np.zeros"), min_args=1),
    "ones": Impl(npf.ones, 1, check=_shape_check("np.ones"), min_args=1),
    "stack": Impl(npf.stack, 2, _AXIS, _ARRAYS, 1), "vstack": Impl(npf.vstack, 1, check=_ARRAYS, min_args=1),
    "hstack": Impl(npf.hstack, 1, check=_ARRAYS, min_args=1),
    "column_stack": Impl(npf.column_stack, 1, check=_ARRAYS, min_args=1),
    "concatenate": Impl(npf.concatenate, 2, _AXIS, _ARRAYS, 1),
    "deg2rad": _ufunc(npf.deg2rad), "rad2deg": _ufunc(npf.rad2deg), "radians": _ufunc(npf.radians),
    "degrees": _ufunc(npf.degrees), "cos": _ufunc(npf.cos), "sin": _ufunc(npf.sin), "tan": _ufunc(npf.tan),
    "arctan": _ufunc(npf.arctan), "arccos": _ufunc(npf.arccos), "arcsin": _ufunc(npf.arcsin),
    "arctan2": _ufunc(npf.arctan2, 2), "hypot": _ufunc(npf.hypot, 2),
    "sqrt": _ufunc(npf.sqrt), "square": _ufunc(npf.square), "exp": _ufunc(npf.exp), "log": _ufunc(npf.log),
    "abs": _ufunc(npf.abs), "absolute": _ufunc(npf.absolute), "sign": _ufunc(npf.sign),
    "floor": _ufunc(npf.floor), "ceil": _ufunc(npf.ceil),
    "minimum": _ufunc(npf.minimum, 2), "maximum": _ufunc(npf.maximum, 2),
    "clip": Impl(npf.clip, 3, min_args=3),
    "round": Impl(_np_round, 2, frozenset({"decimals"}), min_args=1),
    "around": Impl(_np_round, 2, frozenset({"decimals"}), min_args=1),
    "dot": Impl(npf.dot, 2, check=_dot_check, min_args=2), "cross": Impl(npf.cross, 2, min_args=2),
    "isclose": Impl(npf.isclose, 2, frozenset({"atol", "rtol"}), min_args=2),
    "allclose": Impl(npf.allclose, 2, frozenset({"atol", "rtol"}), min_args=2),
    "any": Impl(npf.any, 2, _AXIS), "all": Impl(npf.all, 2, _AXIS),
    "copy": Impl(npf.copy, 1, min_args=1), "flip": Impl(npf.flip, 2, _AXIS),
    "diff": Impl(npf.diff, 1, _AXIS, min_args=1),  # no `n`: np.diff(a, 10**9) loops 10**9 times
    "cumsum": Impl(npf.cumsum, 2, _AXIS), "where": Impl(npf.where, 3, min_args=1),
    "unique": Impl(npf.unique, 1, min_args=1), "transpose": Impl(npf.transpose, 1, min_args=1),
    "reshape": Impl(npf.reshape, 2, min_args=2),
}

# `print` is answered by Interpreter._builtin (its text is collected, never written out);
# sorted/min/max by Interpreter._keyed_builtin (their key functions may call the robot).
_COLLECTED = Impl(lambda *args: None, 64)

BUILTINS: dict[str, Impl] = {
    "len": Impl(len, min_args=1), "abs": Impl(abs, min_args=1),
    "range": Impl(range, 3, check=_range_check, min_args=1),
    "zip": Impl(lambda *a: list(zip(*a)), 8, check=_zip_check),
    "enumerate": Impl(lambda a, start=0: list(enumerate(a, start)), 2, frozenset({"start"}), min_args=1),
    "reversed": Impl(lambda a: list(reversed(a)), min_args=1),
    "sum": Impl(sum, 2, check=_sum_check, min_args=1), "round": Impl(_round, 2, min_args=1),
    "int": Impl(_as_int, check=_int_check), "float": Impl(float), "bool": Impl(bool),
    "str": Impl(str, check=_deep_check("str()")),
    "list": Impl(list), "tuple": Impl(tuple), "dict": Impl(dict),
    "any": Impl(any, min_args=1), "all": Impl(all, min_args=1),
    "print": _COLLECTED, "sorted": _COLLECTED, "min": _COLLECTED, "max": _COLLECTED,
}
_KEYED_BUILTINS = frozenset({"sorted", "min", "max"})
# Builtins that walk their arguments in C (each element counts as a loop iteration), and
# those of them that build a new sequence of that length (checked against the length limit).
_WALKING = frozenset({"sum", "any", "all", "list", "tuple", "dict", "zip", "enumerate", "reversed", "str"})
_MATERIALISING = frozenset({"list", "tuple", "dict", "zip", "enumerate", "reversed"})
_CONSTANT_TIME_METHODS = frozenset({"append", "pop", "get", "T", "shape", "ndim", "size"})




def _method(fn: Callable, n_args: int = 0, check: Check | None = None) -> Impl:
    """A method entry: `fn(receiver, *args)` with exactly `n_args` arguments."""
    return Impl(fn, n_args, check=check, min_args=n_args)


_LIST_METHODS: dict[str, Impl] = {
    "append": _method(list.append, 1, _grow_check), "extend": _method(list.extend, 1, _grow_check),
    "insert": _method(list.insert, 2, _grow_check), "pop": Impl(list.pop, 1),
    "index": _method(list.index, 1), "remove": _method(list.remove, 1), "copy": _method(list.copy),
    "count": _method(list.count, 1), "reverse": _method(list.reverse),
    "sort": _method(list.sort),  # with key=/reverse=: Interpreter._call sorts like sorted()
}
_DICT_METHODS: dict[str, Impl] = {
    "items": _method(lambda d: list(d.items())), "keys": _method(lambda d: list(d)),
    "values": _method(lambda d: list(d.values())), "get": Impl(dict.get, 2, min_args=1),
    "copy": _method(dict.copy),
}
_STR_METHODS: dict[str, Impl] = {
    "split": Impl(str.split, 2), "join": _method(str.join, 1, _join_check),
    "replace": _method(str.replace, 2, _replace_check),
    "startswith": _method(str.startswith, 1), "endswith": _method(str.endswith, 1),
    "lower": _method(str.lower), "upper": _method(str.upper), "strip": Impl(str.strip, 1),
    "lstrip": Impl(str.lstrip, 1), "rstrip": Impl(str.rstrip, 1),
    "capitalize": _method(str.capitalize), "title": _method(str.title),
    "find": _method(str.find, 1), "count": _method(str.count, 1),
}
_ARRAY_METHODS: dict[str, Impl] = {
    "tolist": _method(lambda a: a.tolist()), "copy": _method(npf.copy),
    "mean": Impl(npf.mean, 1, _AXIS), "sum": Impl(npf.sum, 1, _AXIS),
    "min": Impl(npf.min, 1, _AXIS), "max": Impl(npf.max, 1, _AXIS),
    "argmin": Impl(npf.argmin, 0, _AXIS), "argmax": Impl(npf.argmax, 0, _AXIS),
    "flatten": _method(npf.ravel), "reshape": Impl(npf.reshape, 1, min_args=1),
    # attribute-like names, lowered by the front end as zero-argument methods
    "T": _method(npf.transpose), "shape": _method(npf.shape), "ndim": _method(npf.ndim),
    "size": _method(npf.size),
}
_TUPLE_METHODS: dict[str, Impl] = {"index": _method(tuple.index, 1), "count": _method(tuple.count, 1)}
# Which table a receiver's methods come from (first isinstance match). Built at import, so
# the array entry holds capc.lazy_numpy's stand-ins when numpy is not loaded yet (they match
# exactly the arrays, once there are any); `METHODS_BY_TYPE`, read from outside, names
# numpy's own types whenever numpy is loaded.
_METHODS_BY_TYPE: tuple[tuple[type, dict[str, Impl]], ...] = (
    (list, _LIST_METHODS), (dict, _DICT_METHODS), (str, _STR_METHODS),
    ((np.ndarray, np.generic), _ARRAY_METHODS), (tuple, _TUPLE_METHODS),
)


def __getattr__(name: str) -> Any:
    if name == "METHODS_BY_TYPE":
        return tuple((((np.ndarray, np.generic) if table is _ARRAY_METHODS else kind), table)
                     for kind, table in _METHODS_BY_TYPE)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _arity(entry: Impl, n: int, what: str, span: Span) -> None:
    if not entry.min_args <= n <= entry.max_args:
        wanted = (f"{entry.min_args}" if entry.min_args == entry.max_args
                  else f"{entry.min_args} to {entry.max_args}")
        raise RuntimeStop(E_POLICY_ERROR, f"{what} takes {wanted} positional argument(s) here, got {n}", span)

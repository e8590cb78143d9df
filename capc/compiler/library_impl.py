"""How the interpreter calls each name of the library: the real function, how many
positional arguments and which keywords it may receive, and a size check run before the call.

numpy hides `out=` and `dtype=` in later positional slots (`np.zeros(5, 'U1000000000')` would
allocate gigabytes, `np.maximum(a, b, c)` writes into c), so those slots stay closed. Each
`Impl` is part of its name's record in `capc.compiler.library`. A check fails through the
guard it is given (the interpreter's `Guard`), so this module needs nothing of the
interpreter and the front end can import the records without it; the real functions are
`capc.lazy_numpy`'s stand-ins, so nothing here imports numpy either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, NoReturn, Protocol

from capc.lazy_numpy import np

from capc.compiler.costs import size_of as _size_of
from capc.diagnostics import Span


class Guard(Protocol):
    """What a check may ask of the interpreter's size guard."""

    limits: Any

    def length(self, n: int | float, what: str, span: Span | None, *, lower_bound: bool = False) -> None: ...
    def deep_length(self, values: Any, what: str, span: Span | None) -> None: ...
    def integer(self, value: Any, span: Span | None) -> Any: ...
    def shape(self, shape: Any, what: str, span: Span | None) -> tuple[int, ...]: ...
    def binop(self, op: str, left: Any, right: Any, span: Span) -> None: ...
    def fail(self, message: str, span: Span | None) -> NoReturn: ...
    def too_wide(self, message: str, span: Span | None) -> NoReturn: ...


Check = Callable[[Guard, list, dict, Span], None]


@dataclass(frozen=True)
class Impl:
    fn: Callable[..., Any]
    max_args: int = 1
    keywords: frozenset[str] = frozenset()
    check: Check | None = None
    min_args: int = 0


def is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))



def deep_check(what: str) -> Check:
    """Refuse arguments whose nested elements exceed the length limit (see `Guard.deep_length`)."""
    def check(guard: Guard, args: list, kwargs: dict, span: Span) -> None:
        guard.deep_length(list(args), what, span)
    return check


def shape_check(what: str) -> Check:
    def check(guard: Guard, args: list, kwargs: dict, span: Span) -> None:
        guard.shape(args[0], what, span)
    return check


def _bounds(args: list) -> tuple[Any, Any, Any]:
    if len(args) == 1:
        return 0, args[0], 1
    return args[0], args[1], (args[2] if len(args) == 3 else 1)


def arange_check(guard: Guard, args: list, kwargs: dict, span: Span) -> None:
    if not all(isinstance(a, (int, float, np.integer, np.floating)) for a in args):
        guard.fail("np.arange takes 1 to 3 numbers", span)
    start, stop, step = _bounds(args)
    if step == 0 or not all(math.isfinite(float(v)) for v in (start, stop, step)):
        guard.fail("np.arange needs finite bounds and a non-zero step", span)
    guard.length(max(0.0, math.ceil((float(stop) - float(start)) / float(step))), "np.arange", span)


def linspace_check(guard: Guard, args: list, kwargs: dict, span: Span) -> None:
    num = args[2] if len(args) > 2 else kwargs.get("num", 50)
    if not is_int(num):
        guard.fail(f"np.linspace: num must be an integer, got {num!r}", span)
    guard.length(int(num), "np.linspace", span)


def range_check(guard: Guard, args: list, kwargs: dict, span: Span) -> None:
    if not all(is_int(a) for a in args):
        guard.fail("range() takes 1 to 3 integers", span)
    for a in args:
        guard.integer(int(a), span)
    if int(_bounds(args)[2]) == 0:
        guard.fail("range() step must not be zero", span)
    # No length limit here: a range is lazy. Loops over it count iterations; list(range(n))
    # and friends check the length before they build anything.


def dot_check(guard: Guard, args: list, kwargs: dict, span: Span) -> None:
    guard.binop("@", np.asarray(args[0]), np.asarray(args[1]), span)


def join_check(guard: Guard, args: list, kwargs: dict, span: Span) -> None:
    sep, items = args[0], args[1]
    if isinstance(items, (list, tuple)):
        total = len(sep) * max(len(items) - 1, 0) + sum(len(s) for s in items if isinstance(s, str))
        guard.length(total, "str.join", span)


def replace_check(guard: Guard, args: list, kwargs: dict, span: Span) -> None:
    if all(isinstance(a, str) for a in args[:3]):
        text, old, new = args[:3]
        n = text.count(old) if old else len(text) + 1
        guard.length(len(text) + n * (len(new) - len(old)), "str.replace", span)


def grow_check(guard: Guard, args: list, kwargs: dict, span: Span) -> None:
    """append/insert add one element; extend adds len(argument)."""
    added = (_size_of(args[1]) or 0) if len(args) == 2 and not isinstance(args[1], (int, float)) else 1
    guard.length(len(args[0]) + added, "the list", span)


def zip_check(guard: Guard, args: list, kwargs: dict, span: Span) -> None:
    sizes = [_size_of(a) for a in args]
    if sizes and all(s is not None for s in sizes):
        guard.length(min(sizes), "zip()", span)


def sum_check(guard: Guard, args: list, kwargs: dict, span: Span) -> None:
    if len(args) == 2 and isinstance(args[1], (list, tuple, str)):
        guard.deep_length(list(args), "sum() of sequences", span)


def int_check(guard: Guard, args: list, kwargs: dict, span: Span) -> None:
    """int('9' * 5000): refuse by the digit count, before Python parses it."""
    if args and isinstance(args[0], str):
        digits = len(args[0].strip().lstrip("+-").replace("_", ""))
        if digits > guard.limits.max_int_bits * math.log10(2) + 1:
            guard.too_wide(f"int() of a {digits}-digit string exceeds max_int_bits "
                           f"({guard.limits.max_int_bits})", span)


def as_int(value: Any = 0) -> int:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"cannot convert {value} to an integer")
    return int(value)


def py_round(value: Any, ndigits: Any = None) -> Any:
    if ndigits is None:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"cannot round {value} to an integer")
        return round(value)
    return round(value, ndigits)


def np_round(a: Any, decimals: int = 0) -> Any:
    return np.round(a, decimals)


AXIS = frozenset({"axis"})
AXIS_KEEP = frozenset({"axis", "keepdims"})
ARRAYS = deep_check("the array")


def reduction(fn: Callable) -> Impl:
    return Impl(fn, 2, AXIS_KEEP)


def ufunc(fn: Callable, n: int = 1) -> Impl:
    return Impl(fn, n, min_args=n)



# `print` is answered by Interpreter._builtin (its text is collected, never written out);
# sorted/min/max by Interpreter._keyed_builtin (their key functions may call the robot).
COLLECTED = Impl(lambda *args: None, 64)


def method(fn: Callable, n_args: int = 0, check: Check | None = None) -> Impl:
    """A method entry: `fn(receiver, *args)` with exactly `n_args` arguments."""
    return Impl(fn, n_args, check=check, min_args=n_args)

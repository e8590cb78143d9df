"""numpy functions, builtins and methods over symbolic values.

Rule: when no argument depends on the world, the REAL function runs (numpy, Python), so the
verifier computes exactly what the runtime computes. When one does, the symbolic version
below runs: element-wise arithmetic exactly, min/max/abs/clip as Z3 if-then-else, sqrt and
norms as a fresh real with s >= 0 and s*s = x, trig on unknown angles as a fresh real in
[-1, 1] (sound, not exact), argmin/argmax/sorted/min/max-with-key by forking on the order
(each feasible order is a path). Anything else on a symbolic value abandons the path
(`unknown`, guarded at run time) rather than guessing.
"""

from __future__ import annotations

import math
from typing import Any

from capc.lazy_numpy import np
import z3

from capc.compiler import library
from capc.diagnostics import Span
from capc.safety.symvalues import (
    Abandon, BuiltinRef, Closure, FunctionValue, Opaque, PolicyFault, box, compare, has_sym, opaque_check,
    scalar, sym_sqrt, truth, unbox,
)
from capc.safety import sym_shapely
from capc.safety.z3util import as_real, conj, disj, is_sym, sym_abs, sym_max, sym_min

def _unknown_args(args: list, kwargs: dict) -> bool:
    return any(has_sym(a) for a in args) or any(has_sym(v) for v in kwargs.values())


def _check_opaque(args: list, kwargs: dict, span: Span) -> None:
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, Opaque):
            opaque_check(a, span)
        if isinstance(a, (list, tuple)):
            for v in a:
                if isinstance(v, Opaque):
                    opaque_check(v, span)


def call_numpy(ex, name: str, args: list, kwargs: dict, span: Span) -> Any:
    _check_opaque(args, kwargs, span)
    if not _unknown_args(args, kwargs):
        return ex.concrete.numpy(name, args, kwargs, span)
    handler = library.model("numpy", name)
    if handler is None:
        raise Abandon(f"np.{name} on values that depend on the world is not modelled", span)
    return handler(ex, args, kwargs, span)


# --- symbolic numpy ----------------------------------------------------------------------

def _elementwise(fn, *arrays) -> Any:
    out = np.frompyfunc(fn, len(arrays), 1)(*[box(a) for a in arrays])
    if isinstance(out, np.ndarray):
        return np.asarray(out, dtype=object) if out.ndim else scalar(out[()])
    return scalar(out)


def _np_array(ex, args, kwargs, span):
    return box(args[0]).copy() if isinstance(args[0], np.ndarray) else box(args[0])


def _np_asarray(ex, args, kwargs, span):
    return box(args[0])


def _reduce(fn, value, axis):
    arr = box(value)
    if arr.size == 0:
        raise PolicyFault("reduction of an empty array", None)
    out = np.frompyfunc(fn, 2, 1).reduce(arr, axis=axis)
    if isinstance(out, np.ndarray):
        return np.asarray(out, dtype=object) if out.ndim else scalar(out[()])
    return scalar(out)


def _axis(args, kwargs, pos=1):
    axis = kwargs.get("axis", args[pos] if len(args) > pos else None)
    if is_sym(axis):
        raise Abandon("a symbolic axis")
    return axis


def _np_sum(ex, args, kwargs, span):
    if box(args[0]).size == 0:
        return 0.0  # numpy's sum of nothing
    return _reduce(lambda a, b: a + b, args[0], _axis(args, kwargs))


def _np_mean(ex, args, kwargs, span):
    arr = box(args[0])
    axis = _axis(args, kwargs)
    n = arr.size if axis is None else arr.shape[axis]
    total = _reduce(lambda a, b: a + b, arr, axis)
    return total / n if not isinstance(total, np.ndarray) else np.asarray(total / n, dtype=object)


def _np_min(ex, args, kwargs, span):
    return _reduce(sym_min, args[0], _axis(args, kwargs))


def _np_max(ex, args, kwargs, span):
    return _reduce(sym_max, args[0], _axis(args, kwargs))


def _np_minimum(ex, args, kwargs, span):
    return _elementwise(sym_min, args[0], args[1])


def _np_maximum(ex, args, kwargs, span):
    return _elementwise(sym_max, args[0], args[1])


def _np_abs(ex, args, kwargs, span):
    return _elementwise(sym_abs, args[0])


def _np_clip(ex, args, kwargs, span):
    low = kwargs.get("a_min", args[1] if len(args) > 1 else None)
    high = kwargs.get("a_max", args[2] if len(args) > 2 else None)
    value = args[0]
    if low is not None:
        value = _elementwise(sym_max, value, low)
    if high is not None:
        value = _elementwise(sym_min, value, high)
    return value


def _np_sqrt(ex, args, kwargs, span):
    return _elementwise(lambda x: sym_sqrt(ex, x, span), args[0])


def _np_norm(ex, args, kwargs, span):
    arr = box(args[0])
    axis = _axis(args, kwargs, pos=2)
    squares = _reduce(lambda a, b: a + b, arr * arr, axis)
    return _elementwise(lambda x: sym_sqrt(ex, x, span), squares)


def _trig(kind: str):
    def fn(ex, args, kwargs, span):
        def one(x):
            if not is_sym(x):
                return float(getattr(np, kind)(x))
            low, high = (-1, 1) if kind in ("sin", "cos") else (None, None)
            return ex.fresh(kind, low, high)
        return _elementwise(one, args[0])
    return fn


def _bounded_fresh(kind: str, low: float | None, high: float | None):
    """A monotone or bounded function on an unknown argument: a fresh real in its range."""
    def fn(ex, args, kwargs, span):
        def one(x):
            if not is_sym(x):
                return float(getattr(np, kind)(x))
            return ex.fresh(kind, low, high)
        return _elementwise(one, args[0])
    return fn


def _np_hypot(ex, args, kwargs, span):
    return _elementwise(lambda x, y: sym_sqrt(ex, x * x + y * y, span) if (is_sym(x) or is_sym(y))
                        else float(np.hypot(x, y)), args[0], args[1])


def _np_arctan2(ex, args, kwargs, span):
    def one(y, x):
        if not is_sym(y) and not is_sym(x):
            return float(np.arctan2(y, x))
        return ex.fresh("arctan2", -math.pi, math.pi)
    return _elementwise(one, args[0], args[1])


def _scaled(factor: float):
    def fn(ex, args, kwargs, span):
        return _elementwise(lambda x: x * factor, args[0])
    return fn


def _np_sign(ex, args, kwargs, span):
    return _elementwise(lambda x: z3.If(as_real(x) > 0, as_real(1), z3.If(as_real(x) < 0, as_real(-1), as_real(0)))
                        if is_sym(x) else float(np.sign(x)), args[0])


def _np_floor(ex, args, kwargs, span):
    return _elementwise(lambda x: z3.ToReal(z3.ToInt(as_real(x))) if is_sym(x) else float(np.floor(x)), args[0])


def _np_ceil(ex, args, kwargs, span):
    return _elementwise(lambda x: -z3.ToReal(z3.ToInt(-as_real(x))) if is_sym(x) else float(np.ceil(x)), args[0])


def _np_linspace(ex, args, kwargs, span):
    start = kwargs.get("start", args[0] if args else None)
    stop = kwargs.get("stop", args[1] if len(args) > 1 else None)
    num = kwargs.get("num", args[2] if len(args) > 2 else 50)
    endpoint = kwargs.get("endpoint", args[3] if len(args) > 3 else True)
    if is_sym(num) or is_sym(endpoint):
        raise Abandon("np.linspace with a symbolic number of points", span)
    num = int(num)
    if num > ex.limits.max_sequence_length:
        raise PolicyFault("np.linspace would exceed the sequence limit", span)
    div = (num - 1) if endpoint else num
    a, b = box(start), box(stop)
    rows = []
    for i in range(num):
        rows.append(a + (b - a) * (i / div) if div > 0 else a)
    return np.array([r.tolist() if isinstance(r, np.ndarray) else r for r in rows], dtype=object)


def _stack_like(fn_name: str):
    def fn(ex, args, kwargs, span):
        seq = args[0]
        opaque_check(seq, span)
        parts = [box(p) for p in seq]
        try:
            out = getattr(np, fn_name)(parts, **{k: v for k, v in kwargs.items() if k == "axis"})
        except ValueError as exc:
            raise PolicyFault(f"np.{fn_name}: {exc}", span) from None
        return np.asarray(out, dtype=object)
    return fn


def _np_dot(ex, args, kwargs, span):
    out = np.dot(box(args[0]), box(args[1]))
    return np.asarray(out, dtype=object) if isinstance(out, np.ndarray) and out.ndim else scalar(out)


def _np_cross(ex, args, kwargs, span):
    return np.asarray(np.cross(box(args[0]), box(args[1])), dtype=object)


def _np_argmin(ex, args, kwargs, span, strict=True):
    arr = box(args[0])
    if arr.ndim != 1 or _axis(args, kwargs) is not None:
        raise Abandon("argmin/argmax over several axes with symbolic values", span)
    return fork_argbest(ex, list(arr), span, lowest=strict)


def _np_argmax(ex, args, kwargs, span):
    return _np_argmin(ex, args, kwargs, span, strict=False)


def _np_argsort(ex, args, kwargs, span):
    arr = box(args[0])
    if arr.ndim != 1:
        raise Abandon("argsort of a symbolic matrix", span)
    keys = list(arr)
    order = fork_sort(ex, list(range(len(keys))), lambda i: keys[i], span)
    return np.array(order, dtype=object)


def _np_sort(ex, args, kwargs, span):
    arr = box(args[0])
    if arr.ndim != 1:
        raise Abandon("sort of a symbolic matrix", span)
    return np.array(fork_sort(ex, list(arr), lambda v: v, span), dtype=object)


library.attach_models("numpy", {
    "array": _np_array, "asarray": _np_asarray, "sum": _np_sum, "mean": _np_mean,
    "min": _np_min, "max": _np_max, "amin": _np_min, "amax": _np_max,
    "minimum": _np_minimum, "maximum": _np_maximum, "abs": _np_abs, "absolute": _np_abs,
    "clip": _np_clip, "sqrt": _np_sqrt, "linalg.norm": _np_norm,
    "sin": _trig("sin"), "cos": _trig("cos"), "tan": _trig("tan"), "arctan2": _np_arctan2,
    "deg2rad": _scaled(math.pi / 180), "radians": _scaled(math.pi / 180),
    "rad2deg": _scaled(180 / math.pi), "degrees": _scaled(180 / math.pi),
    "sign": _np_sign, "floor": _np_floor, "ceil": _np_ceil, "linspace": _np_linspace,
    "stack": _stack_like("stack"), "vstack": _stack_like("vstack"), "hstack": _stack_like("hstack"),
    "concatenate": _stack_like("concatenate"), "dot": _np_dot, "cross": _np_cross,
    "argmin": _np_argmin, "argmax": _np_argmax, "argsort": _np_argsort, "sort": _np_sort,
    "hypot": _np_hypot, "arctan": _bounded_fresh("arctan", -math.pi / 2, math.pi / 2),
    "arcsin": _bounded_fresh("arcsin", -math.pi / 2, math.pi / 2),
    "arccos": _bounded_fresh("arccos", 0.0, math.pi), "exp": _bounded_fresh("exp", 0.0, None),
    "transpose": lambda ex, args, kwargs, span: box(args[0]).T,
})


# --- forking order decisions -------------------------------------------------------------

def fork_argbest(ex, keys: list, span: Span, lowest: bool = True) -> int:
    """The index numpy/Python would pick (the first best), found by forking: path i assumes
    key i is the first best. At most len(keys) paths."""
    if not keys:
        raise PolicyFault("argmin/min of an empty sequence", span)
    if not any(is_sym(k) for k in keys):
        order = range(len(keys))  # Python's rule: the first best
        try:
            return min(order, key=lambda i: keys[i]) if lowest else max(order, key=lambda i: keys[i])
        except TypeError as exc:
            raise PolicyFault(f"cannot order these values: {exc}", span) from None
    for i in range(len(keys) - 1):
        conds = []
        for j, other in enumerate(keys):
            if j == i:
                continue
            if lowest:
                conds.append(compare("<" if j < i else "<=", keys[i], other, span))
            else:
                conds.append(compare(">" if j < i else ">=", keys[i], other, span))
        if ex.branch(conj(conds), span):
            return i
    return len(keys) - 1


def fork_sort(ex, items: list, key, span: Span, reverse: bool = False) -> list:
    """Python's stable sort, by merge sort whose world-dependent comparisons fork."""
    keyed = [(key(it), it) for it in items]
    if not any(has_sym(k) for k, _ in keyed):
        return [it for _, it in sorted(keyed, key=lambda p: p[0], reverse=reverse)]

    def before(a, b) -> bool:  # does b go strictly before a?
        ka, kb = a[0], b[0]
        cond = compare(">" if reverse else "<", kb, ka, span)
        return ex.branch(truth(cond, span), span)

    def merge_sort(seq):
        if len(seq) <= 1:
            return seq
        mid = len(seq) // 2
        left, right = merge_sort(seq[:mid]), merge_sort(seq[mid:])
        out, i, j = [], 0, 0
        while i < len(left) and j < len(right):
            if before(left[i], right[j]):
                out.append(right[j])
                j += 1
            else:
                out.append(left[i])
                i += 1
        return out + left[i:] + right[j:]

    return [it for _, it in merge_sort(keyed)]


# --- builtins -------------------------------------------------------------------------

def _key_fn(ex, key, span):
    if key is None:
        return lambda v: v
    if isinstance(key, (Closure, FunctionValue, BuiltinRef)):
        return lambda v: ex.call_value(key, [v], {}, span)
    raise PolicyFault("key must be a function", span)


def _min_max(ex, args, kwargs, span, lowest: bool):
    items = ex.iterate(args[0], span) if len(args) == 1 else list(args)
    if not items:
        if "default" in kwargs:
            return kwargs["default"]
        raise PolicyFault(f"{'min' if lowest else 'max'}() arg is an empty sequence", span)
    keyf = _key_fn(ex, kwargs.get("key"), span)
    keys = [keyf(it) for it in items]
    if "key" not in kwargs and all(not isinstance(k, (str, list, tuple, np.ndarray)) for k in keys):
        # plain numbers: an if-then-else term, no fork
        result = keys[0]
        for k in keys[1:]:
            if is_sym(k) or is_sym(result):
                result = (z3.If(as_real(k) < as_real(result), as_real(k), as_real(result)) if lowest
                          else z3.If(as_real(k) > as_real(result), as_real(k), as_real(result)))
            else:
                result = k if (k < result if lowest else k > result) else result
        return result
    for k in keys:
        opaque_check(k, span)
        if isinstance(k, np.ndarray):
            raise Abandon("min/max with array keys", span)
    return items[fork_argbest(ex, keys, span, lowest=lowest)]


def _b_len(ex, args, kwargs, span):
    value = args[0]
    opaque_check(value, span)
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            raise PolicyFault("len() of unsized object", span)
        return value.shape[0]
    if isinstance(value, (list, tuple, str, dict, range)):
        return len(value)
    raise PolicyFault(f"object of type '{type(value).__name__}' has no len()", span)


def _concrete_ints(values, span, what):
    for v in values:
        opaque_check(v, span)
        if is_sym(v):
            raise Abandon(f"{what} with a bound that depends on the world", span)
        if not isinstance(v, int):
            raise PolicyFault(f"'{type(v).__name__}' object cannot be interpreted as an integer", span)


def _b_range(ex, args, kwargs, span):
    _concrete_ints(args, span, "range")
    try:
        r = range(*args)
    except (TypeError, ValueError) as exc:
        raise PolicyFault(str(exc), span) from None
    if len(r) > ex.limits.max_sequence_length:
        raise PolicyFault(f"range of {len(r)} elements exceeds the limit", span)
    return r


def _b_zip(ex, args, kwargs, span):
    return list(zip(*[ex.iterate(a, span) for a in args]))


def _b_enumerate(ex, args, kwargs, span):
    start = kwargs.get("start", args[1] if len(args) > 1 else 0)
    _concrete_ints([start], span, "enumerate")
    return list(enumerate(ex.iterate(args[0], span), start))


def _b_sorted(ex, args, kwargs, span):
    items = ex.iterate(args[0], span)
    reverse = kwargs.get("reverse", False)
    if is_sym(reverse):
        raise Abandon("sorted(reverse=...) depending on the world", span)
    return fork_sort(ex, items, _key_fn(ex, kwargs.get("key"), span), span, reverse=bool(reverse))


def _b_reversed(ex, args, kwargs, span):
    return list(reversed(ex.iterate(args[0], span)))


def _b_abs(ex, args, kwargs, span):
    v = args[0]
    opaque_check(v, span)
    if isinstance(v, np.ndarray):
        return _elementwise(sym_abs, v)
    if isinstance(v, (str, list, tuple, dict)) or v is None:
        raise PolicyFault("bad operand type for abs()", span)
    return sym_abs(as_real(v) if isinstance(v, z3.BoolRef) else v)


def _b_sum(ex, args, kwargs, span):
    from capc.safety.symvalues import binop
    total = kwargs.get("start", args[1] if len(args) > 1 else 0)
    for v in ex.iterate(args[0], span):
        total = binop(ex, "+", total, v, span, ex.limits.max_sequence_length, ex.limits.max_int_bits)
    return total


def _b_round(ex, args, kwargs, span):
    if _unknown_args(args, kwargs):
        raise Abandon("round() of a value that depends on the world", span)
    try:
        return round(*[scalar(a) for a in args])
    except (TypeError, ValueError, OverflowError) as exc:
        raise PolicyFault(str(exc), span) from None


def _b_int(ex, args, kwargs, span):
    if _unknown_args(args, kwargs):
        raise Abandon("int() of a value that depends on the world", span)
    try:
        return int(*[scalar(a) for a in args])
    except (TypeError, ValueError, OverflowError) as exc:
        raise PolicyFault(str(exc), span) from None


def _b_float(ex, args, kwargs, span):
    if not args:
        return 0.0
    v = scalar(args[0])
    opaque_check(v, span)
    if is_sym(v):
        return as_real(v)
    try:
        return float(v)
    except (TypeError, ValueError) as exc:
        raise PolicyFault(str(exc), span) from None


def _b_str(ex, args, kwargs, span):
    if not args:
        return ""
    if has_sym(args[0]):
        return Opaque("a string that shows a run-time value", span)
    return str(args[0]) if not isinstance(args[0], np.ndarray) else str(unbox(args[0]))


def _b_bool(ex, args, kwargs, span):
    return truth(args[0], span) if args else False


def _b_list(ex, args, kwargs, span):
    return ex.iterate(args[0], span) if args else []


def _b_tuple(ex, args, kwargs, span):
    return tuple(ex.iterate(args[0], span)) if args else ()


def _b_dict(ex, args, kwargs, span):
    out = {}
    if args:
        src = args[0]
        items = list(src.items()) if isinstance(src, dict) else ex.iterate(src, span)
        for pair in items:
            k, v = ex.iterate(pair, span) if not isinstance(pair, tuple) else pair
            if has_sym(k):
                raise Abandon("a dictionary key that depends on the world", span)
            out[k] = v
    out.update(kwargs)
    return out


def _b_print(ex, args, kwargs, span):
    return None


def _b_any(ex, args, kwargs, span):
    return disj([truth(v, span) for v in ex.iterate(args[0], span)])


def _b_all(ex, args, kwargs, span):
    return conj([truth(v, span) for v in ex.iterate(args[0], span)])


library.attach_models("builtin", {
    "len": _b_len, "range": _b_range, "zip": _b_zip, "enumerate": _b_enumerate,
    "sorted": _b_sorted, "reversed": _b_reversed, "abs": _b_abs, "sum": _b_sum,
    "round": _b_round, "int": _b_int, "float": _b_float, "str": _b_str, "bool": _b_bool,
    "list": _b_list, "tuple": _b_tuple, "dict": _b_dict, "print": _b_print,
    "any": _b_any, "all": _b_all,
    "min": lambda ex, a, k, s: _min_max(ex, a, k, s, True),
    "max": lambda ex, a, k, s: _min_max(ex, a, k, s, False),
})


def is_builtin(name: str) -> bool:
    return name in library.BUILTINS


def call_builtin(ex, name: str, args: list, kwargs: dict, span: Span) -> Any:
    keyed = name in ("sorted", "min", "max") and "key" in kwargs
    if not keyed and not _unknown_args(args, kwargs):
        return ex.concrete.builtin(name, args, kwargs, span)
    fn = library.model("builtin", name)
    if fn is None:
        raise Abandon(f"builtin {name}() is not modelled by the verifier", span)
    if not args and name not in ("print", "list", "tuple", "dict", "str", "float", "int", "bool"):
        raise PolicyFault(f"{name}() needs an argument", span)
    return fn(ex, args, kwargs, span)


# --- methods ----------------------------------------------------------------------------

# Methods that only move values around (never inspect them): the real method runs even on
# symbolic elements.
_STRUCTURAL = {
    list: {"append", "extend", "insert", "pop", "copy", "reverse", "clear"},
    dict: {"items", "keys", "values", "copy", "get", "pop", "update", "setdefault"},
    str: {"split", "join", "replace", "startswith", "endswith", "lower", "upper", "strip",
          "lstrip", "rstrip", "capitalize", "title", "find", "count", "isdigit", "isalpha"},
}
_INSPECTING = {list: {"index", "count", "remove", "sort"}}
_ARRAY = {"tolist", "copy", "reshape", "flatten", "mean", "sum", "min", "max", "argmin", "argmax",
          "transpose", "astype", "round"}


def call_method(ex, name: str, receiver: Any, args: list, kwargs: dict, span: Span) -> Any:
    method = name.rsplit(".", 1)[-1]
    opaque_check(receiver, span)
    if sym_shapely.is_geometry(receiver):
        return sym_shapely.call_method(ex, method, receiver, args, kwargs, span)
    if method != "sort" and not has_sym(receiver) and not _unknown_args(args, kwargs):
        return ex.concrete.method(method, receiver, args, kwargs, span)
    if isinstance(receiver, np.ndarray):
        return _array_method(ex, method, receiver, args, kwargs, span)
    kind = type(receiver)
    if method in _STRUCTURAL.get(kind, ()):
        if kind is dict and method in ("get", "pop", "setdefault") and args and has_sym(args[0]):
            raise Abandon("dictionary lookup with a key that depends on the world", span)
        if kind is str and _unknown_args(args, kwargs):
            raise Abandon(f"str.{method} on run-time text", span)
        if kind is list and method in ("extend",) and args:
            args = [ex.iterate(args[0], span)]
        try:
            result = getattr(receiver, method)(*args, **kwargs)
        except (IndexError, KeyError, ValueError, TypeError) as exc:
            raise PolicyFault(f"{kind.__name__}.{method}: {exc}", span) from None
        if method in ("items", "keys", "values"):
            return list(result)
        if isinstance(receiver, list) and len(receiver) > ex.limits.max_sequence_length:
            raise PolicyFault("list longer than the limit", span)
        return result
    if method in _INSPECTING.get(kind, ()):
        if method == "sort":
            receiver[:] = fork_sort(ex, list(receiver), _key_fn(ex, kwargs.get("key"), span), span,
                                    reverse=bool(kwargs.get("reverse", False)))
            return None
        if has_sym(receiver) or _unknown_args(args, kwargs):
            raise Abandon(f"list.{method} comparing values that depend on the world", span)
        try:
            return getattr(receiver, method)(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            raise PolicyFault(f"list.{method}: {exc}", span) from None
    raise Abandon(f"method .{method}() on {kind.__name__} is not modelled by the verifier", span)


def _array_method(ex, method: str, arr: np.ndarray, args, kwargs, span) -> Any:
    if method == "tolist":
        return [v.tolist() if isinstance(v, np.ndarray) else scalar(v) for v in arr] if arr.ndim else scalar(arr)
    if method == "copy":
        return arr.copy()
    if method in ("reshape", "flatten", "transpose", "astype", "round") and not has_sym(arr):
        return call_numpy(ex, method if method != "flatten" else "ravel", [arr] + list(args)
                          if method != "astype" else [arr], kwargs if method != "astype" else {}, span)
    if method in ("reshape", "transpose", "flatten"):
        try:
            out = {"reshape": lambda: arr.reshape(*args), "transpose": lambda: arr.transpose(*args),
                   "flatten": lambda: arr.flatten()}[method]()
        except ValueError as exc:
            raise PolicyFault(str(exc), span) from None
        return out
    if method in ("mean", "sum", "min", "max", "argmin", "argmax"):
        return call_numpy(ex, method, [arr] + list(args), kwargs, span)
    raise Abandon(f"array method .{method}() is not modelled by the verifier", span)

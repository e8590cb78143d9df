"""What a policy may call besides the robot API: numpy functions and constants, builtins,
and methods of lists, dicts, strings and arrays — each with its type rule.

These tables are the allow-list, one record per name: the type rule, the arity, and the
implementation the interpreter calls (`capc.compiler.library_impl`); the verifier attaches its
symbolic models to the same records (`attach_models`). The records and their registry are
in `capc.compiler.library_records`, below this module and the libraries that extend it. The type checker applies the rules; the
interpreter and the verifier dispatch on the same names (`NUMPY_FUNCTIONS["linalg.norm"]` is
`np.linalg.norm`); the prompt builder lists them; the hostile tests try everything that is
*not* here. Anything absent is refused: an attribute with E011, a Python builtin with E033.

A rule receives a `CallSite` (argument expressions with their inferred types) and returns
the result type, or raises `RuleError` naming the offending argument.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from capc import codes
from capc.compiler.types import (
    Array, BOOL, Bool, DictT, FLOAT, Geometry, INT, Int, ListT, NONE, NoneType, STR, Str,
    ObjName, TupleT, Type, UNKNOWN, Unknown, assignable, join,
)
from capc.compiler.library_impl import (
    ARRAYS, AXIS, COLLECTED, Impl, arange_check, as_int, deep_check, dot_check, grow_check,
    int_check, join_check, linspace_check, method, np_round, py_round, range_check, reduction, replace_check,
    shape_check, sum_check, ufunc, zip_check,
)
from capc.lazy_numpy import np_functions as npf
from capc.compiler.library_records import (  # noqa: F401  (re-exported: the records and registry)
    _NO_VALUE, CallSite, LibFunction, RuleError, _show, attach_models, broadcast, element_type,
    from_shape, model, records, register, shape_of,
)

def _is_intlike(t: Type) -> bool:
    return isinstance(t, (Int, Bool, Unknown))


def _require(site: CallSite, i: int, wanted: Type, what: str) -> None:
    if not assignable(site.type(i), wanted):
        raise RuleError(f"{site.name}() expects {what} here, got {site.type(i).show()}", i)


def _axis(site: CallSite, position: int | None = None) -> Any:
    expr = site.keywords.get("axis")
    if expr is None and position is not None and position < len(site.args):
        expr = site.args[position]
    if expr is None:
        return None
    value = site.const(expr)
    if value is _NO_VALUE or not (value is None or isinstance(value, int)):
        if not _is_intlike(expr.type) and not isinstance(expr.type, NoneType):
            raise RuleError("axis must be an integer", "axis")
        return _NO_VALUE
    return value


# --- numpy rules ------------------------------------------------------------------------------

def literal_shape(expr: Any) -> tuple | None:
    """The array shape of an argument, using the length of list/tuple displays (the type
    ListT forgets it): np.array([0.1, -0.5]) is an xy position."""
    from capc.compiler import ir

    if isinstance(expr, (ir.ListExpr, ir.TupleExpr)):
        inner = [literal_shape(e) for e in expr.elts]
        if not inner:
            return (0,)
        first = inner[0]
        if first is not None and all(s == first for s in inner):
            return (len(inner),) + first
        return (len(inner), *([None] * len(first))) if first is not None and all(
            s is not None and len(s) == len(first) for s in inner) else None
    return shape_of(expr.type)


def _np_array(site: CallSite) -> Type:
    shape_of(site.type(0), site, 0)
    return Array(literal_shape(site.args[0]))


def _elementwise_float(site: CallSite) -> Type:
    shape = shape_of(site.type(0), site, 0)
    return FLOAT if shape == () else Array(shape)


def _elementwise_keep(site: CallSite) -> Type:
    t = site.type(0)
    shape = shape_of(t, site, 0)
    if shape == ():
        return INT if isinstance(t, (Int, Bool)) else FLOAT if not isinstance(t, Unknown) else UNKNOWN
    return Array(shape)


def _broadcast_all(site: CallSite) -> Type:
    shape: tuple | None = shape_of(site.type(0), site, 0)
    for i in range(1, len(site.args)):
        shape = broadcast(shape, shape_of(site.type(i), site, i), i)
    return from_shape(shape)


def _reduce(site: CallSite) -> Type:
    shape = shape_of(site.type(0), site, 0)
    axis = _axis(site, 1)
    if axis is None:
        return FLOAT
    if axis is _NO_VALUE or shape is None:
        return Array(None)
    if not -len(shape) <= axis < len(shape):
        raise RuleError(f"axis {axis} is out of range for an array of rank {len(shape)}", "axis")
    rest = shape[:axis % len(shape)] + shape[axis % len(shape) + 1:]
    return from_shape(rest)


def _arg_reduce(site: CallSite) -> Type:
    result = _reduce(site)
    return INT if result == FLOAT else result


def _argsort(site: CallSite) -> Type:
    return Array(shape_of(site.type(0), site, 0))


def _zeros(site: CallSite) -> Type:
    value = site.const(site.args[0])
    if isinstance(value, int):
        return Array((value,))
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return Array(tuple(value))
    t = site.type(0)
    if _is_intlike(t):
        return Array((None,))
    if isinstance(t, TupleT):
        return Array(tuple(None for _ in t.elems))
    raise RuleError(f"{site.name}() expects a length or a tuple of lengths, got {t.show()}", 0)


def _linspace(site: CallSite) -> Type:
    num_expr = site.arg(2, "num")
    num = site.const(num_expr) if num_expr is not None else 50
    if num_expr is not None and not _is_intlike(num_expr.type):
        raise RuleError("linspace(): num must be an integer", 2 if len(site.args) > 2 else "num")
    length = num if isinstance(num, int) else None
    end = broadcast(shape_of(site.type(0), site, 0), shape_of(site.type(1), site, 1), 1)
    if end is None:
        return Array(None)
    return Array((length,) + end)


def _arange(site: CallSite) -> Type:
    for i in range(len(site.args)):
        shape_of(site.type(i), site, i)
    return Array((None,))


def _pieces(site: CallSite) -> tuple[int | None, list[tuple], tuple] | None:
    """For the sequence of arrays a stacking function gets: (how many pieces, the known
    piece shapes, their common shape with None where they differ), or None if unknown."""
    from capc.compiler import ir

    seq = site.type(0)
    if isinstance(site.args[0], ir.ListExpr):
        seq = TupleT(tuple(e.type for e in site.args[0].elts))
    if isinstance(seq, TupleT):
        shapes = [shape_of(e, site, 0) for e in seq.elems]
        count: int | None = len(shapes)
    elif isinstance(seq, ListT):
        shapes, count = [shape_of(seq.elem, site, 0)], None
    elif isinstance(seq, Array) and seq.shape:
        shapes, count = [seq.shape[1:]], seq.shape[0]
    elif isinstance(seq, (Unknown, Array)):
        return None
    else:
        raise RuleError(f"{site.name}() expects a list or tuple of arrays, got {seq.show()}", 0)
    if any(s is None for s in shapes) or not shapes or any(len(s) != len(shapes[0]) for s in shapes):
        return None
    common = shapes[0]
    for shape in shapes[1:]:
        common = tuple(a if a == b else None for a, b in zip(common, shape))
    return count, shapes, common


def _joined_length(count: int | None, shapes: list[tuple]) -> int | None:
    """Length along the first axis after joining the pieces end to end."""
    if count is None or len(shapes) != count or any(not s or s[0] is None for s in shapes):
        return None
    return sum(s[0] for s in shapes)


def _stacking(site: CallSite) -> Type:
    found = _pieces(site)
    if found is None:
        return Array(None)
    count, shapes, common = found
    name = site.name
    if name == "column_stack":
        return Array((common[0], count)) if len(common) == 1 else Array(None)
    if name == "stack" or (name == "vstack" and len(common) == 1):
        axis = _axis(site, 1) if name == "stack" else 0
        if axis in (0, None):
            return Array((count,) + common)
        if axis in (1, -1) and len(common) == 1:
            return Array(common + (count,))
        return Array(None)
    if name == "concatenate" and _axis(site, 1) not in (0, None):
        return Array(None)
    if not common:  # joining scalars
        return Array((count,))
    return Array((_joined_length(count, shapes),) + common[1:])


def _dot(site: CallSite) -> Type:
    a, b = shape_of(site.type(0), site, 0), shape_of(site.type(1), site, 1)
    if a is not None and b is not None and len(a) == 1 and len(b) == 1:
        if a[0] is not None and b[0] is not None and a[0] != b[0]:
            raise RuleError(f"dot() of vectors of different lengths {_show(a)} and {_show(b)}", 1, codes.E104)
        return FLOAT
    return Array(None)


def _cross(site: CallSite) -> Type:
    a, b = shape_of(site.type(0), site, 0), shape_of(site.type(1), site, 1)
    if a == (3,) and b == (3,):
        return Array((3,))
    if a == (2,) and b == (2,):
        return FLOAT
    if a is not None and b is not None and a != b and None not in a + b:
        raise RuleError(f"cross() of shapes {_show(a)} and {_show(b)}", 1, codes.E104)
    return Array(None)


def _transpose(site: CallSite) -> Type:
    shape = shape_of(site.type(0), site, 0)
    return Array(None if shape is None else tuple(reversed(shape)))


def _np_shape(site: CallSite) -> Type:
    shape = shape_of(site.type(0), site, 0)
    return UNKNOWN if shape is None else TupleT(tuple(INT for _ in shape))


def _np_count(site: CallSite) -> Type:
    shape_of(site.type(0), site, 0)
    return INT


def _same_shape(site: CallSite) -> Type:
    return Array(shape_of(site.type(0), site, 0))


def _cumulative(site: CallSite) -> Type:
    shape = shape_of(site.type(0), site, 0)
    if "axis" not in site.keywords and len(site.args) < 2:
        return Array(None if shape is None else (None if None in shape else _product(shape),))
    return Array(shape)


def _product(shape: tuple) -> int:
    total = 1
    for d in shape:
        total *= d
    return total


def _elementwise_bool(site: CallSite) -> Type:
    shape = broadcast(shape_of(site.type(0), site, 0), shape_of(site.type(1), site, 1), 1)
    return BOOL if shape == () else Array(shape)


def _np_any_all(site: CallSite) -> Type:
    result = _reduce(site)
    return BOOL if result == FLOAT else result


def _reshape(site: CallSite) -> Type:
    shape_of(site.type(0), site, 0)
    value = site.const(site.args[1])
    if isinstance(value, int):
        value = (value,)
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return Array(tuple(None if v == -1 else v for v in value))
    return Array(None)


def _where(site: CallSite) -> Type:
    if len(site.args) == 1:
        shape_of(site.type(0), site, 0)
        return UNKNOWN  # a tuple of index arrays, one per axis
    if len(site.args) != 3:
        raise RuleError("np.where takes a condition alone, or a condition and two values", None, codes.E101)
    return _broadcast_all(site)


def _allclose(site: CallSite) -> Type:
    broadcast(shape_of(site.type(0), site, 0), shape_of(site.type(1), site, 1), 1)
    return BOOL


def _np(name: str, params: tuple[str, ...], min_args: int, rule: Callable[[CallSite], Type], doc: str,
        keywords: tuple[str, ...] = (), max_args: int | None = -1, *, impl: Impl) -> LibFunction:
    return LibFunction(name, params, min_args, len(params) if max_args == -1 else max_args, keywords,
                       rule, doc, impl=impl)


_FLOAT_FUNCS = (("deg2rad", npf.deg2rad), ("rad2deg", npf.rad2deg), ("radians", npf.radians),
                ("degrees", npf.degrees), ("cos", npf.cos), ("sin", npf.sin), ("tan", npf.tan),
                ("arccos", npf.arccos), ("arcsin", npf.arcsin), ("arctan", npf.arctan), ("sqrt", npf.sqrt),
                ("exp", npf.exp), ("log", npf.log), ("floor", npf.floor), ("ceil", npf.ceil))
_KEEP_FUNCS = (("abs", npf.abs), ("absolute", npf.absolute), ("sign", npf.sign))
_REDUCE_FUNCS = (("mean", npf.mean), ("sum", npf.sum), ("min", npf.min), ("max", npf.max), ("amin", npf.amin),
                 ("amax", npf.amax), ("median", npf.median), ("std", npf.std))

_NUMPY_RECORDS = (
    _np("array", ("object",), 1, _np_array, "an array from numbers or nested sequences",
        impl=Impl(npf.array, 1, check=ARRAYS, min_args=1)),
    _np("asarray", ("a",), 1, _np_array, "an array from numbers or nested sequences",
        impl=Impl(npf.asarray, 1, check=ARRAYS, min_args=1)),
    _np("zeros", ("shape",), 1, _zeros, "an array of zeros",
        impl=Impl(npf.zeros, 1, check=shape_check("np.zeros"), min_args=1)),
    _np("ones", ("shape",), 1, _zeros, "an array of ones",
        impl=Impl(npf.ones, 1, check=shape_check("np.ones"), min_args=1)),
    _np("linspace", ("start", "stop", "num"), 2, _linspace,
        "num evenly spaced values from start to stop", ("endpoint",),
        impl=Impl(npf.linspace, 3, frozenset({"num", "endpoint"}), linspace_check, 2)),
    _np("arange", ("start", "stop", "step"), 1, _arange, "evenly spaced values in [start, stop)",
        impl=Impl(npf.arange, 3, check=arange_check, min_args=1)),
    _np("linalg.norm", ("x",), 1, _reduce, "Euclidean length (along an axis)", ("axis",),
        impl=Impl(npf.linalg.norm, 3, frozenset({"axis", "ord", "keepdims"}))),
    _np("argsort", ("a",), 1, _argsort, "indices that sort the array", impl=Impl(npf.argsort, 2, AXIS)),
    _np("argmin", ("a",), 1, _arg_reduce, "index of the smallest value", ("axis",),
        impl=Impl(npf.argmin, 2, AXIS)),
    _np("argmax", ("a",), 1, _arg_reduce, "index of the largest value", ("axis",),
        impl=Impl(npf.argmax, 2, AXIS)),
    _np("stack", ("arrays",), 1, _stacking, "join arrays along a new axis", ("axis",),
        impl=Impl(npf.stack, 2, AXIS, ARRAYS, 1)),
    _np("vstack", ("tup",), 1, _stacking, "stack arrays as rows",
        impl=Impl(npf.vstack, 1, check=ARRAYS, min_args=1)),
    _np("hstack", ("tup",), 1, _stacking, "concatenate arrays column-wise",
        impl=Impl(npf.hstack, 1, check=ARRAYS, min_args=1)),
    _np("concatenate", ("arrays",), 1, _stacking, "join arrays along an axis", ("axis",),
        impl=Impl(npf.concatenate, 2, AXIS, ARRAYS, 1)),
    _np("arctan2", ("y", "x"), 2, _broadcast_all, "angle of (x, y) in radians",
        impl=ufunc(npf.arctan2, 2)),
    _np("hypot", ("x1", "x2"), 2, _broadcast_all, "sqrt(x1**2 + x2**2)", impl=ufunc(npf.hypot, 2)),
    _np("clip", ("a", "a_min", "a_max"), 3, _broadcast_all, "limit values to [a_min, a_max]",
        impl=Impl(npf.clip, 3, min_args=3)),
    _np("minimum", ("x1", "x2"), 2, _broadcast_all, "element-wise minimum", impl=ufunc(npf.minimum, 2)),
    _np("maximum", ("x1", "x2"), 2, _broadcast_all, "element-wise maximum", impl=ufunc(npf.maximum, 2)),
    _np("round", ("a", "decimals"), 1, _elementwise_keep, "round to the given decimals",
        impl=Impl(np_round, 2, frozenset({"decimals"}), min_args=1)),
    _np("around", ("a", "decimals"), 1, _elementwise_keep, "round to the given decimals",
        impl=Impl(np_round, 2, frozenset({"decimals"}), min_args=1)),
    _np("dot", ("a", "b"), 2, _dot, "dot product", impl=Impl(npf.dot, 2, check=dot_check, min_args=2)),
    _np("cross", ("a", "b"), 2, _cross, "cross product", impl=Impl(npf.cross, 2, min_args=2)),
    _np("transpose", ("a",), 1, _transpose, "swap the axes", impl=Impl(npf.transpose, 1, min_args=1)),
    _np("allclose", ("a", "b"), 2, _allclose, "whether all values are close", ("atol", "rtol"),
        impl=Impl(npf.allclose, 2, frozenset({"atol", "rtol"}), min_args=2)),
    _np("column_stack", ("tup",), 1, _stacking, "stack 1-d arrays as columns",
        impl=Impl(npf.column_stack, 1, check=ARRAYS, min_args=1)),
    _np("square", ("x",), 1, _elementwise_keep, "element-wise square", impl=ufunc(npf.square)),
    _np("flip", ("m",), 1, _same_shape, "reverse the order of the values", ("axis",),
        impl=Impl(npf.flip, 2, AXIS)),
    _np("sort", ("a",), 1, _same_shape, "a sorted copy", ("axis",), impl=Impl(npf.sort, 2, AXIS)),
    _np("copy", ("a",), 1, _same_shape, "a copy of the array", impl=Impl(npf.copy, 1, min_args=1)),
    _np("cumsum", ("a",), 1, _cumulative, "running sums", ("axis",), impl=Impl(npf.cumsum, 2, AXIS)),
    _np("diff", ("a",), 1, lambda site: Array(None), "differences of neighbours", ("axis",),
        impl=Impl(npf.diff, 1, AXIS, min_args=1)),  # no `n`: np.diff(a, 10**9) loops 10**9 times
    _np("unique", ("ar",), 1, lambda site: Array((None,)), "the sorted distinct values",
        impl=Impl(npf.unique, 1, min_args=1)),
    _np("reshape", ("a", "newshape"), 2, _reshape, "the values in a new shape",
        impl=Impl(npf.reshape, 2, min_args=2)),
    _np("where", ("condition", "x", "y"), 1, _where, "x where the condition holds, else y",
        impl=Impl(npf.where, 3, min_args=1)),
    _np("isclose", ("a", "b"), 2, _elementwise_bool, "element-wise closeness", ("atol", "rtol"),
        impl=Impl(npf.isclose, 2, frozenset({"atol", "rtol"}), min_args=2)),
    _np("any", ("a",), 1, _np_any_all, "whether any value is true", ("axis",), impl=Impl(npf.any, 2, AXIS)),
    _np("all", ("a",), 1, _np_any_all, "whether every value is true", ("axis",),
        impl=Impl(npf.all, 2, AXIS)),
)
NUMPY_FUNCTIONS: dict[str, LibFunction] = register("numpy", (
    *_NUMPY_RECORDS,
    *(_np(name, ("x",), 1, _elementwise_float, f"element-wise {name}", impl=ufunc(fn)) for name, fn in _FLOAT_FUNCS),
    *(_np(name, ("x",), 1, _elementwise_keep, f"element-wise {name}", impl=ufunc(fn)) for name, fn in _KEEP_FUNCS),
    *(_np(name, ("a",), 1, _reduce, f"{name} of the values (along an axis)", ("axis",), impl=reduction(fn))
      for name, fn in _REDUCE_FUNCS),
))

NUMPY_CONSTANTS: dict[str, tuple[Type, float]] = {
    "pi": (FLOAT, 3.141592653589793),
    "e": (FLOAT, 2.718281828459045),
    "inf": (FLOAT, float("inf")),
}

NUMPY_MODULES = ("np", "numpy")
NUMPY_SUBMODULES = ("linalg", "random")


# --- builtins ---------------------------------------------------------------------------------

def _len(site: CallSite) -> Type:
    element_type(site.type(0))
    return INT


def _range(site: CallSite) -> Type:
    for i in range(len(site.args)):
        if not _is_intlike(site.type(i)):
            raise RuleError(f"range() expects integers, got {site.type(i).show()}", i,
                            hint="convert with int(...)")
    return ListT(INT)


def _zip(site: CallSite) -> Type:
    return ListT(TupleT(tuple(element_type(site.type(i), i) for i in range(len(site.args)))))


def _enumerate(site: CallSite) -> Type:
    start = site.kw_type("start") or (site.type(1) if len(site.args) > 1 else None)
    if start is not None and not _is_intlike(start):
        raise RuleError("enumerate(): start must be an integer", 1 if len(site.args) > 1 else "start")
    return ListT(TupleT((INT, element_type(site.type(0)))))


def _key_function(site: CallSite) -> None:
    from capc.compiler.types import FuncT

    key = site.kw_type("key")
    if key is not None and isinstance(key, Unknown):
        # A function that arrives as a value (a parameter, a helper's result) could call
        # back into the program: keys are lambdas or functions named where they are used.
        raise RuleError("key must be a lambda or a function name, not a value computed at run time",
                        "key", codes.E025, "write key=lambda x: ... here")
    if key is not None and not isinstance(key, FuncT):
        raise RuleError(f"key must be a function (e.g. a lambda), got {key.show()}", "key")


def _sorted(site: CallSite) -> Type:
    _key_function(site)
    return ListT(element_type(site.type(0)))


def _reversed(site: CallSite) -> Type:
    return ListT(element_type(site.type(0)))


def _min_max(site: CallSite) -> Type:
    _key_function(site)
    if len(site.args) == 1:
        result = element_type(site.type(0))
    else:
        result = site.type(0)
        for i in range(1, len(site.args)):
            result = join(result, site.type(i))
    default = site.kw_type("default")
    return join(result, default) if default is not None else result


def _abs(site: CallSite) -> Type:
    return _elementwise_keep(site)


def _sum(site: CallSite) -> Type:
    elem = element_type(site.type(0))
    if isinstance(elem, (Str, ObjName)):
        raise RuleError("sum() of strings: use ''.join(...)", 0)
    start = site.type(1) if len(site.args) > 1 else INT
    return join(elem, start) if not isinstance(elem, Array) else elem


def _round(site: CallSite) -> Type:
    shape_of(site.type(0), site, 0)
    if isinstance(site.type(0), Array):
        return site.type(0)
    return INT if len(site.args) == 1 and "ndigits" not in site.keywords else FLOAT


def _to_number(result: Type) -> Callable[[CallSite], Type]:
    def rule(site: CallSite) -> Type:
        if site.args:
            t = site.type(0)
            if isinstance(t, (Array,)) and t.shape not in ((), None):
                raise RuleError(f"{site.name}() of an array: index one element first", 0)
            if isinstance(t, (ListT, DictT, TupleT, NoneType)):
                raise RuleError(f"{site.name}() expects a number or a string, got {t.show()}", 0)
        return result
    return rule


def _str(site: CallSite) -> Type:
    return STR


def _bool(site: CallSite) -> Type:
    return BOOL


def _list(site: CallSite) -> Type:
    if not site.args:
        return ListT(UNKNOWN)
    return ListT(element_type(site.type(0)))


def _tuple(site: CallSite) -> Type:
    t = site.type(0) if site.args else None
    if t is None:
        return TupleT(())
    if isinstance(t, TupleT):
        return t
    if isinstance(t, Array) and t.shape is not None and t.shape and t.shape[0] is not None:
        return TupleT(tuple(from_shape(t.shape[1:]) for _ in range(t.shape[0])))
    element_type(t)
    return UNKNOWN  # a tuple of unknown length


def _dict(site: CallSite) -> Type:
    if not site.args:
        return DictT(UNKNOWN, UNKNOWN)
    pair = element_type(site.type(0))
    if isinstance(pair, TupleT) and len(pair.elems) == 2:
        return DictT(pair.elems[0], pair.elems[1])
    if isinstance(pair, Unknown):
        return DictT(UNKNOWN, UNKNOWN)
    raise RuleError(f"dict() expects (key, value) pairs, got items of type {pair.show()}", 0)


def _print(site: CallSite) -> Type:
    return NONE


def _any_all(site: CallSite) -> Type:
    element_type(site.type(0))
    return BOOL


def _b(name: str, params: tuple[str, ...], min_args: int, max_args: int | None, rule, doc: str,
       keywords: tuple[str, ...] = (), *, impl: Impl) -> LibFunction:
    return LibFunction(name, params, min_args, max_args, keywords, rule, doc, impl=impl)


BUILTINS: dict[str, LibFunction] = register("builtin", (
    _b("len", ("obj",), 1, 1, _len, "number of items", impl=Impl(len, min_args=1)),
    _b("range", ("start", "stop", "step"), 1, 3, _range, "integers from start to stop (exclusive)",
       impl=Impl(range, 3, check=range_check, min_args=1)),
    _b("zip", (), 1, None, _zip, "tuples of the i-th items of each argument",
       impl=Impl(lambda *a: list(zip(*a)), 8, check=zip_check)),
    _b("enumerate", ("iterable", "start"), 1, 2, _enumerate, "(index, item) pairs",
       impl=Impl(lambda a, start=0: list(enumerate(a, start)), 2, frozenset({"start"}), min_args=1)),
    _b("sorted", ("iterable",), 1, 1, _sorted, "a sorted list", ("key", "reverse"), impl=COLLECTED),
    _b("reversed", ("seq",), 1, 1, _reversed, "the items in reverse order",
       impl=Impl(lambda a: list(reversed(a)), min_args=1)),
    _b("min", (), 1, None, _min_max, "the smallest item", ("key", "default"), impl=COLLECTED),
    _b("max", (), 1, None, _min_max, "the largest item", ("key", "default"), impl=COLLECTED),
    _b("abs", ("x",), 1, 1, _abs, "absolute value", impl=Impl(abs, min_args=1)),
    _b("sum", ("iterable", "start"), 1, 2, _sum, "sum of the items",
       impl=Impl(sum, 2, check=sum_check, min_args=1)),
    _b("round", ("number", "ndigits"), 1, 2, _round, "round to ndigits decimals",
       impl=Impl(py_round, 2, min_args=1)),
    _b("int", ("x",), 0, 1, _to_number(INT), "convert to an integer", impl=Impl(as_int, check=int_check)),
    _b("float", ("x",), 0, 1, _to_number(FLOAT), "convert to a float", impl=Impl(float)),
    _b("str", ("object",), 0, 1, _str, "text of a value", impl=Impl(str, check=deep_check("str()"))),
    _b("bool", ("x",), 0, 1, _bool, "truth value", impl=Impl(bool)),
    _b("list", ("iterable",), 0, 1, _list, "a new list", impl=Impl(list)),
    _b("tuple", ("iterable",), 0, 1, _tuple, "a new tuple", impl=Impl(tuple)),
    _b("dict", ("pairs",), 0, 1, _dict, "a new dict", impl=Impl(dict)),
    _b("print", (), 0, None, _print, "print values (shown to the user like say())", ("sep", "end"),
       impl=COLLECTED),
    _b("any", ("iterable",), 1, 1, _any_all, "whether any item is true", impl=Impl(any, min_args=1)),
    _b("all", ("iterable",), 1, 1, _any_all, "whether every item is true", impl=Impl(all, min_args=1)),
))


# --- methods ----------------------------------------------------------------------------------

def _receiver(site: CallSite) -> Type:
    return site.args[0].type


def _elem_of_receiver(site: CallSite) -> Type:
    return element_type(_receiver(site))


def _returns(t: Type) -> Callable[[CallSite], Type]:
    return lambda site: t


def _same_as_receiver(site: CallSite) -> Type:
    return _receiver(site)


def _list_append(site: CallSite) -> Type:
    recv = _receiver(site)
    if isinstance(recv, ListT) and len(site.args) > 1 and not isinstance(recv.elem, Unknown):
        if not assignable(site.type(1), recv.elem) and not assignable(recv.elem, site.type(1)):
            raise RuleError(f"appending {site.type(1).show()} to a {recv.show()}", 1)
    return NONE


def _list_sort(site: CallSite) -> Type:
    _key_function(site)
    return NONE


def _dict_items(site: CallSite) -> Type:
    recv = _receiver(site)
    if isinstance(recv, DictT):
        return ListT(TupleT((recv.key, recv.value)))
    return ListT(TupleT((UNKNOWN, UNKNOWN)))


def _dict_part(part: str) -> Callable[[CallSite], Type]:
    def rule(site: CallSite) -> Type:
        recv = _receiver(site)
        return ListT(getattr(recv, part) if isinstance(recv, DictT) else UNKNOWN)
    return rule


def _dict_get(site: CallSite) -> Type:
    recv = _receiver(site)
    value = recv.value if isinstance(recv, DictT) else UNKNOWN
    default = site.type(2) if len(site.args) > 2 else NONE
    return join(value, default)


def _str_join(site: CallSite) -> Type:
    elem = element_type(site.type(1), 0)
    if not assignable(elem, STR):
        raise RuleError(f"str.join() expects strings, got items of type {elem.show()}", 0,
                        hint="convert the items with str(...) first")
    return STR


def _tolist(site: CallSite) -> Type:
    shape = shape_of(_receiver(site))
    if shape is None or len(shape) == 0:
        return UNKNOWN if shape is None else FLOAT
    inner: Type = FLOAT
    for _ in shape[1:]:
        inner = ListT(inner)
    return ListT(inner)


def _array_reduce(site: CallSite) -> Type:
    inner = CallSite(site.name, site.args, site.keywords)
    return _reduce(inner)


def _m(name: str, params: tuple[str, ...], min_args: int, rule, doc: str, *, max_args: int | None = -1,
       keywords: tuple[str, ...] = (), mutates: bool = False, attribute: bool = False, impl: Impl) -> LibFunction:
    return LibFunction(name, params, min_args, len(params) if max_args == -1 else max_args, keywords,
                       rule, doc, mutates, attribute, impl)


METHODS: dict[str, dict[str, LibFunction]] = {
    "list": register("method:list", (
        _m("append", ("x",), 1, _list_append, "add an item at the end", mutates=True,
           impl=method(list.append, 1, grow_check)),
        _m("extend", ("items",), 1, _returns(NONE), "add the items at the end", mutates=True,
           impl=method(list.extend, 1, grow_check)),
        _m("pop", ("index",), 0, _elem_of_receiver, "remove and return an item (default: the last)",
           mutates=True, impl=Impl(list.pop, 1)),
        _m("index", ("x",), 1, _returns(INT), "position of the first equal item", impl=method(list.index, 1)),
        _m("insert", ("index", "x"), 2, _returns(NONE), "insert an item before index", mutates=True,
           impl=method(list.insert, 2, grow_check)),
        _m("remove", ("x",), 1, _returns(NONE), "remove the first equal item", mutates=True,
           impl=method(list.remove, 1)),
        _m("copy", (), 0, _same_as_receiver, "a shallow copy", impl=method(list.copy)),
        _m("count", ("x",), 1, _returns(INT), "how many items are equal to x", impl=method(list.count, 1)),
        _m("reverse", (), 0, _returns(NONE), "reverse in place", mutates=True, impl=method(list.reverse)),
        _m("sort", (), 0, _list_sort, "sort in place", keywords=("key", "reverse"), mutates=True,
           impl=method(list.sort)),  # with key=/reverse=: Interpreter.call_method sorts like sorted()
    )),
    "dict": register("method:dict", (
        _m("items", (), 0, _dict_items, "(key, value) pairs", impl=method(lambda d: list(d.items()))),
        _m("keys", (), 0, _dict_part("key"), "the keys", impl=method(lambda d: list(d))),
        _m("values", (), 0, _dict_part("value"), "the values", impl=method(lambda d: list(d.values()))),
        _m("get", ("key", "default"), 1, _dict_get, "the value for key, or default",
           impl=Impl(dict.get, 2, min_args=1)),
        _m("copy", (), 0, _same_as_receiver, "a shallow copy", impl=method(dict.copy)),
    )),
    "str": register("method:str", (
        _m("split", ("sep",), 0, _returns(ListT(STR)), "the words (split at sep)", impl=Impl(str.split, 2)),
        _m("join", ("iterable",), 1, _str_join, "the items joined with this string between",
           impl=method(str.join, 1, join_check)),
        _m("replace", ("old", "new"), 2, _returns(STR), "a copy with old replaced by new",
           impl=method(str.replace, 2, replace_check)),
        _m("startswith", ("prefix",), 1, _returns(BOOL), "whether the text starts with prefix",
           impl=method(str.startswith, 1)),
        _m("endswith", ("suffix",), 1, _returns(BOOL), "whether the text ends with suffix",
           impl=method(str.endswith, 1)),
        _m("lower", (), 0, _returns(STR), "lower-case copy", impl=method(str.lower)),
        _m("upper", (), 0, _returns(STR), "upper-case copy", impl=method(str.upper)),
        _m("strip", ("chars",), 0, _returns(STR), "copy without surrounding whitespace", impl=Impl(str.strip, 1)),
        _m("lstrip", ("chars",), 0, _returns(STR), "copy without leading whitespace", impl=Impl(str.lstrip, 1)),
        _m("rstrip", ("chars",), 0, _returns(STR), "copy without trailing whitespace", impl=Impl(str.rstrip, 1)),
        _m("title", (), 0, _returns(STR), "title-case copy", impl=method(str.title)),
        _m("capitalize", (), 0, _returns(STR), "copy with the first letter upper-case",
           impl=method(str.capitalize)),
        _m("find", ("sub",), 1, _returns(INT), "position of sub, or -1", impl=method(str.find, 1)),
        _m("count", ("sub",), 1, _returns(INT), "how many times sub occurs", impl=method(str.count, 1)),
    )),
    "array": register("method:array", (
        _m("tolist", (), 0, _tolist, "the values as (nested) lists", impl=method(lambda a: a.tolist())),
        _m("copy", (), 0, _same_as_receiver, "a copy", impl=method(npf.copy)),
        _m("flatten", (), 0, lambda site: Array((None,)), "the values as a 1-d array", impl=method(npf.ravel)),
        _m("mean", (), 0, _array_reduce, "mean (along an axis)", keywords=("axis",), impl=Impl(npf.mean, 1, AXIS)),
        _m("sum", (), 0, _array_reduce, "sum (along an axis)", keywords=("axis",), impl=Impl(npf.sum, 1, AXIS)),
        _m("min", (), 0, _array_reduce, "minimum (along an axis)", keywords=("axis",),
           impl=Impl(npf.min, 1, AXIS)),
        _m("max", (), 0, _array_reduce, "maximum (along an axis)", keywords=("axis",),
           impl=Impl(npf.max, 1, AXIS)),
        _m("argmin", (), 0, lambda site: _arg_reduce(site), "index of the smallest value", keywords=("axis",),
           impl=Impl(npf.argmin, 0, AXIS)),
        _m("argmax", (), 0, lambda site: _arg_reduce(site), "index of the largest value", keywords=("axis",),
           impl=Impl(npf.argmax, 0, AXIS)),
        _m("reshape", ("newshape",), 1, _reshape, "the values in a new shape",
           impl=Impl(npf.reshape, 1, min_args=1)),
        _m("shape", (), 0, _np_shape, "the length of each axis", attribute=True, impl=method(npf.shape)),
        _m("size", (), 0, _np_count, "the number of elements", attribute=True, impl=method(npf.size)),
        _m("ndim", (), 0, _np_count, "the number of axes", attribute=True, impl=method(npf.ndim)),
    )),
    "tuple": register("method:tuple", (
        _m("index", ("x",), 1, _returns(INT), "position of the first equal item", impl=method(tuple.index, 1)),
        _m("count", ("x",), 1, _returns(INT), "how many items are equal to x", impl=method(tuple.count, 1)),
    )),
}

# Array attributes a policy may read. `a.T` means np.transpose(a) and is lowered to that
# call; the others are lowered to zero-argument method calls (METHODS["array"], attribute=True).
ARRAY_TRANSPOSE = "T"
ARRAY_PROPERTIES = (ARRAY_TRANSPOSE,) + tuple(n for n, f in METHODS["array"].items() if f.attribute)

ALL_METHOD_NAMES = frozenset(name for table in METHODS.values() for name, f in table.items() if not f.attribute)


def receiver_kind(t: Type) -> str | None:
    """Which METHODS table applies to a receiver of type t (None: unknown receiver)."""
    if isinstance(t, ListT):
        return "list"
    if isinstance(t, DictT):
        return "dict"
    if isinstance(t, (Str, ObjName)):
        return "str"
    if isinstance(t, Array):
        return "array"
    if isinstance(t, TupleT):
        return "tuple"
    if isinstance(t, Geometry):
        return "geometry"  # capc.compiler.lib_shapely.GEOMETRY_METHODS
    return None


def describe(functions: Sequence[LibFunction]) -> str:
    return ", ".join(f.signature() for f in functions)


# The numpy of Code as Policies' prompts beyond the core above (polyfit, eigvals, random, ...):
# its module adds its rules to NUMPY_FUNCTIONS when imported.
import capc.compiler.lib_numpy_cap  # noqa: E402,F401

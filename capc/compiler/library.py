"""What a policy may call besides the robot API: numpy functions and constants, builtins,
and methods of lists, dicts, strings and arrays — each with its type rule.

These tables are the allow-list. The type checker applies the rules; the interpreter and the
verifier dispatch on the same names (`NUMPY_FUNCTIONS["linalg.norm"]` is `np.linalg.norm`);
the prompt builder lists them; the hostile tests try everything that is *not* here.
Anything absent is refused: an attribute with E011, a Python builtin with E033.

A rule receives a `CallSite` (argument expressions with their inferred types) and returns
the result type, or raises `RuleError` naming the offending argument.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from capc.compiler.types import (
    Array, BOOL, Bool, DictT, FLOAT, Geometry, INT, Int, ListT, NONE, NoneType, OneOf, STR, Str,
    ObjName, TupleT, Type, UNKNOWN, Unknown, array_shape_of, assignable, join,
)
from capc.frozen import frozen

_NO_VALUE = object()



class RuleError(Exception):
    """A type rule's complaint: `where` is an argument index or a keyword name (None: the
    whole call)."""

    def __init__(self, message: str, where: int | str | None = None, code: str = "E100",
                 hint: str | None = None):
        super().__init__(message)
        self.message, self.where, self.code, self.hint = message, where, code, hint


@frozen
class CallSite:
    name: str
    args: tuple[Any, ...]          # IR expressions
    keywords: Mapping[str, Any]    # keyword name -> IR expression

    def type(self, i: int) -> Type:
        return self.args[i].type

    def kw_type(self, name: str) -> Type | None:
        expr = self.keywords.get(name)
        return None if expr is None else expr.type

    def arg(self, i: int, keyword: str | None = None) -> Any:
        """Argument by position, or by keyword when not given positionally."""
        if i < len(self.args):
            return self.args[i]
        return self.keywords.get(keyword) if keyword else None

    def const(self, expr: Any) -> Any:
        """The value of a constant argument (a literal, or a tuple/list of literals)."""
        from capc.compiler import ir

        if expr is None:
            return _NO_VALUE
        if isinstance(expr, ir.Const):
            return expr.value
        if isinstance(expr, (ir.TupleExpr, ir.ListExpr)):
            values = [self.const(e) for e in expr.elts]
            return _NO_VALUE if any(v is _NO_VALUE for v in values) else tuple(values)
        return _NO_VALUE


@frozen
class LibFunction:
    """One callable of the library. `name` is what follows `np.` for numpy ("linalg.norm"),
    the builtin's or method's name otherwise. `params` are the positional parameter names
    (also accepted as keywords); `min_args`..`max_args` positional arguments (None:
    variadic); `keywords` are the keyword-only names."""

    name: str
    params: tuple[str, ...]
    min_args: int
    max_args: int | None
    keywords: tuple[str, ...]
    rule: Callable[[CallSite], Type]
    doc: str
    mutates: bool = False  # a method that changes its receiver in place
    attribute: bool = False  # read as `a.shape`, not called: lowered to a zero-argument method call

    def signature(self) -> str:
        shown = list(self.params) + [f"{k}=..." for k in self.keywords]
        if self.max_args is None:
            shown.append("...")
        return f"{self.name}({', '.join(shown)})"


# --- shape arithmetic -----------------------------------------------------------------------

def shape_of(t: Type, site: CallSite | None = None, where: int | str | None = None) -> tuple | None:
    """The numpy shape a value has as an array (None: unknown); refuses non-numbers."""
    shape = array_shape_of(t)
    if shape is False:
        raise RuleError(f"expected numbers or an array, got {t.show()}", where)
    return shape


def from_shape(shape: tuple | None) -> Type:
    if shape == ():
        return FLOAT
    return Array(shape)


def broadcast(a: tuple | None, b: tuple | None, where: int | str | None = None) -> tuple | None:
    if a is None or b is None:
        return None
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        elif x is None or y is None:
            out.append(x if y is None else y)
        else:
            raise RuleError(f"shapes {_show(a)} and {_show(b)} cannot be combined", where, "E104",
                            "an xy position has 2 numbers, an xyz position 3: index or slice to match")
    return tuple(reversed(out))


def _show(shape: tuple) -> str:
    inner = ", ".join("N" if d is None else str(d) for d in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"


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
            raise RuleError(f"dot() of vectors of different lengths {_show(a)} and {_show(b)}", 1, "E104")
        return FLOAT
    return Array(None)


def _cross(site: CallSite) -> Type:
    a, b = shape_of(site.type(0), site, 0), shape_of(site.type(1), site, 1)
    if a == (3,) and b == (3,):
        return Array((3,))
    if a == (2,) and b == (2,):
        return FLOAT
    if a is not None and b is not None and a != b and None not in a + b:
        raise RuleError(f"cross() of shapes {_show(a)} and {_show(b)}", 1, "E104")
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
        raise RuleError("np.where takes a condition alone, or a condition and two values", None, "E101")
    return _broadcast_all(site)


def _allclose(site: CallSite) -> Type:
    broadcast(shape_of(site.type(0), site, 0), shape_of(site.type(1), site, 1), 1)
    return BOOL


def _np(name: str, params: tuple[str, ...], min_args: int, rule: Callable[[CallSite], Type], doc: str,
        keywords: tuple[str, ...] = (), max_args: int | None = -1) -> LibFunction:
    return LibFunction(name, params, min_args, len(params) if max_args == -1 else max_args, keywords,
                       rule, doc)


_FLOAT_FUNCS = ("deg2rad", "rad2deg", "radians", "degrees", "cos", "sin", "tan", "arccos", "arcsin",
                "arctan", "sqrt", "exp", "log", "floor", "ceil")
_KEEP_FUNCS = ("abs", "absolute", "sign")
_REDUCE_FUNCS = ("mean", "sum", "min", "max", "amin", "amax", "median", "std")

NUMPY_FUNCTIONS: dict[str, LibFunction] = {
    "array": _np("array", ("object",), 1, _np_array, "an array from numbers or nested sequences"),
    "asarray": _np("asarray", ("a",), 1, _np_array, "an array from numbers or nested sequences"),
    "zeros": _np("zeros", ("shape",), 1, _zeros, "an array of zeros"),
    "ones": _np("ones", ("shape",), 1, _zeros, "an array of ones"),
    "linspace": _np("linspace", ("start", "stop", "num"), 2, _linspace,
                    "num evenly spaced values from start to stop", ("endpoint",)),
    "arange": _np("arange", ("start", "stop", "step"), 1, _arange, "evenly spaced values in [start, stop)"),
    "linalg.norm": _np("linalg.norm", ("x",), 1, _reduce, "Euclidean length (along an axis)", ("axis",)),
    "argsort": _np("argsort", ("a",), 1, _argsort, "indices that sort the array"),
    "argmin": _np("argmin", ("a",), 1, _arg_reduce, "index of the smallest value", ("axis",)),
    "argmax": _np("argmax", ("a",), 1, _arg_reduce, "index of the largest value", ("axis",)),
    "stack": _np("stack", ("arrays",), 1, _stacking, "join arrays along a new axis", ("axis",)),
    "vstack": _np("vstack", ("tup",), 1, _stacking, "stack arrays as rows"),
    "hstack": _np("hstack", ("tup",), 1, _stacking, "concatenate arrays column-wise"),
    "concatenate": _np("concatenate", ("arrays",), 1, _stacking, "join arrays along an axis", ("axis",)),
    "arctan2": _np("arctan2", ("y", "x"), 2, _broadcast_all, "angle of (x, y) in radians"),
    "hypot": _np("hypot", ("x1", "x2"), 2, _broadcast_all, "sqrt(x1**2 + x2**2)"),
    "clip": _np("clip", ("a", "a_min", "a_max"), 3, _broadcast_all, "limit values to [a_min, a_max]"),
    "minimum": _np("minimum", ("x1", "x2"), 2, _broadcast_all, "element-wise minimum"),
    "maximum": _np("maximum", ("x1", "x2"), 2, _broadcast_all, "element-wise maximum"),
    "round": _np("round", ("a", "decimals"), 1, _elementwise_keep, "round to the given decimals"),
    "around": _np("around", ("a", "decimals"), 1, _elementwise_keep, "round to the given decimals"),
    "dot": _np("dot", ("a", "b"), 2, _dot, "dot product"),
    "cross": _np("cross", ("a", "b"), 2, _cross, "cross product"),
    "transpose": _np("transpose", ("a",), 1, _transpose, "swap the axes"),
    "allclose": _np("allclose", ("a", "b"), 2, _allclose, "whether all values are close", ("atol", "rtol")),
    "column_stack": _np("column_stack", ("tup",), 1, _stacking, "stack 1-d arrays as columns"),
    "square": _np("square", ("x",), 1, _elementwise_keep, "element-wise square"),
    "flip": _np("flip", ("m",), 1, _same_shape, "reverse the order of the values", ("axis",)),
    "sort": _np("sort", ("a",), 1, _same_shape, "a sorted copy", ("axis",)),
    "copy": _np("copy", ("a",), 1, _same_shape, "a copy of the array"),
    "cumsum": _np("cumsum", ("a",), 1, _cumulative, "running sums", ("axis",)),
    "diff": _np("diff", ("a",), 1, lambda site: Array(None), "differences of neighbours", ("axis",)),
    "unique": _np("unique", ("ar",), 1, lambda site: Array((None,)), "the sorted distinct values"),
    "reshape": _np("reshape", ("a", "newshape"), 2, _reshape, "the values in a new shape"),
    "where": _np("where", ("condition", "x", "y"), 1, _where, "x where the condition holds, else y"),
    "isclose": _np("isclose", ("a", "b"), 2, _elementwise_bool, "element-wise closeness", ("atol", "rtol")),
    "any": _np("any", ("a",), 1, _np_any_all, "whether any value is true", ("axis",)),
    "all": _np("all", ("a",), 1, _np_any_all, "whether every value is true", ("axis",)),
}
for _name in _FLOAT_FUNCS:
    NUMPY_FUNCTIONS[_name] = _np(_name, ("x",), 1, _elementwise_float, f"element-wise {_name}")
for _name in _KEEP_FUNCS:
    NUMPY_FUNCTIONS[_name] = _np(_name, ("x",), 1, _elementwise_keep, f"element-wise {_name}")
for _name in _REDUCE_FUNCS:
    NUMPY_FUNCTIONS[_name] = _np(_name, ("a",), 1, _reduce, f"{_name} of the values (along an axis)",
                                 ("axis",))

NUMPY_CONSTANTS: dict[str, tuple[Type, float]] = {
    "pi": (FLOAT, 3.141592653589793),
    "e": (FLOAT, 2.718281828459045),
    "inf": (FLOAT, float("inf")),
}

NUMPY_MODULES = ("np", "numpy")
NUMPY_SUBMODULES = ("linalg", "random")


# --- builtins ---------------------------------------------------------------------------------

def element_type(t: Type, where: int | str | None = 0) -> Type:
    """The type of the items of an iterable (what a `for` loop binds)."""
    if isinstance(t, ListT):
        return t.elem
    if isinstance(t, TupleT):
        result: Type | None = None
        for e in t.elems:
            result = e if result is None else join(result, e)
        return result if result is not None else UNKNOWN
    if isinstance(t, (Str, ObjName)):
        return STR
    if isinstance(t, DictT):
        return t.key
    if isinstance(t, Array):
        if t.shape is None:
            return UNKNOWN
        if len(t.shape) == 0:
            raise RuleError("a 0-d array is not iterable", where, "E109")
        return from_shape(t.shape[1:])
    if isinstance(t, Unknown):
        return UNKNOWN
    if isinstance(t, OneOf):
        result = None
        for option in t.options:
            if isinstance(option, NoneType):
                continue
            e = element_type(option, where)
            result = e if result is None else join(result, e)
        return result or UNKNOWN
    raise RuleError(f"{t.show()} is not iterable", where, "E109",
                    "loop over a list, a range, zip(...), enumerate(...) or dict.items()")


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
                        "key", "E025", "write key=lambda x: ... here")
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
       keywords: tuple[str, ...] = ()) -> LibFunction:
    return LibFunction(name, params, min_args, max_args, keywords, rule, doc)


BUILTINS: dict[str, LibFunction] = {f.name: f for f in (
    _b("len", ("obj",), 1, 1, _len, "number of items"),
    _b("range", ("start", "stop", "step"), 1, 3, _range, "integers from start to stop (exclusive)"),
    _b("zip", (), 1, None, _zip, "tuples of the i-th items of each argument"),
    _b("enumerate", ("iterable", "start"), 1, 2, _enumerate, "(index, item) pairs"),
    _b("sorted", ("iterable",), 1, 1, _sorted, "a sorted list", ("key", "reverse")),
    _b("reversed", ("seq",), 1, 1, _reversed, "the items in reverse order"),
    _b("min", (), 1, None, _min_max, "the smallest item", ("key", "default")),
    _b("max", (), 1, None, _min_max, "the largest item", ("key", "default")),
    _b("abs", ("x",), 1, 1, _abs, "absolute value"),
    _b("sum", ("iterable", "start"), 1, 2, _sum, "sum of the items"),
    _b("round", ("number", "ndigits"), 1, 2, _round, "round to ndigits decimals"),
    _b("int", ("x",), 0, 1, _to_number(INT), "convert to an integer"),
    _b("float", ("x",), 0, 1, _to_number(FLOAT), "convert to a float"),
    _b("str", ("object",), 0, 1, _str, "text of a value"),
    _b("bool", ("x",), 0, 1, _bool, "truth value"),
    _b("list", ("iterable",), 0, 1, _list, "a new list"),
    _b("tuple", ("iterable",), 0, 1, _tuple, "a new tuple"),
    _b("dict", ("pairs",), 0, 1, _dict, "a new dict"),
    _b("print", (), 0, None, _print, "print values (shown to the user like say())", ("sep", "end")),
    _b("any", ("iterable",), 1, 1, _any_all, "whether any item is true"),
    _b("all", ("iterable",), 1, 1, _any_all, "whether every item is true"),
)}


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
       keywords: tuple[str, ...] = (), mutates: bool = False, attribute: bool = False) -> LibFunction:
    return LibFunction(name, params, min_args, len(params) if max_args == -1 else max_args, keywords,
                       rule, doc, mutates, attribute)


METHODS: dict[str, dict[str, LibFunction]] = {
    "list": {f.name: f for f in (
        _m("append", ("x",), 1, _list_append, "add an item at the end", mutates=True),
        _m("extend", ("items",), 1, _returns(NONE), "add the items at the end", mutates=True),
        _m("pop", ("index",), 0, _elem_of_receiver, "remove and return an item (default: the last)",
           mutates=True),
        _m("index", ("x",), 1, _returns(INT), "position of the first equal item"),
        _m("insert", ("index", "x"), 2, _returns(NONE), "insert an item before index", mutates=True),
        _m("remove", ("x",), 1, _returns(NONE), "remove the first equal item", mutates=True),
        _m("copy", (), 0, _same_as_receiver, "a shallow copy"),
        _m("count", ("x",), 1, _returns(INT), "how many items are equal to x"),
        _m("reverse", (), 0, _returns(NONE), "reverse in place", mutates=True),
        _m("sort", (), 0, _list_sort, "sort in place", keywords=("key", "reverse"), mutates=True),
    )},
    "dict": {f.name: f for f in (
        _m("items", (), 0, _dict_items, "(key, value) pairs"),
        _m("keys", (), 0, _dict_part("key"), "the keys"),
        _m("values", (), 0, _dict_part("value"), "the values"),
        _m("get", ("key", "default"), 1, _dict_get, "the value for key, or default"),
        _m("copy", (), 0, _same_as_receiver, "a shallow copy"),
    )},
    "str": {f.name: f for f in (
        _m("split", ("sep",), 0, _returns(ListT(STR)), "the words (split at sep)"),
        _m("join", ("iterable",), 1, _str_join, "the items joined with this string between"),
        _m("replace", ("old", "new"), 2, _returns(STR), "a copy with old replaced by new"),
        _m("startswith", ("prefix",), 1, _returns(BOOL), "whether the text starts with prefix"),
        _m("endswith", ("suffix",), 1, _returns(BOOL), "whether the text ends with suffix"),
        _m("lower", (), 0, _returns(STR), "lower-case copy"),
        _m("upper", (), 0, _returns(STR), "upper-case copy"),
        _m("strip", ("chars",), 0, _returns(STR), "copy without surrounding whitespace"),
        _m("lstrip", ("chars",), 0, _returns(STR), "copy without leading whitespace"),
        _m("rstrip", ("chars",), 0, _returns(STR), "copy without trailing whitespace"),
        _m("title", (), 0, _returns(STR), "title-case copy"),
        _m("capitalize", (), 0, _returns(STR), "copy with the first letter upper-case"),
        _m("find", ("sub",), 1, _returns(INT), "position of sub, or -1"),
        _m("count", ("sub",), 1, _returns(INT), "how many times sub occurs"),
    )},
    "array": {f.name: f for f in (
        _m("tolist", (), 0, _tolist, "the values as (nested) lists"),
        _m("copy", (), 0, _same_as_receiver, "a copy"),
        _m("flatten", (), 0, lambda site: Array((None,)), "the values as a 1-d array"),
        _m("mean", (), 0, _array_reduce, "mean (along an axis)", keywords=("axis",)),
        _m("sum", (), 0, _array_reduce, "sum (along an axis)", keywords=("axis",)),
        _m("min", (), 0, _array_reduce, "minimum (along an axis)", keywords=("axis",)),
        _m("max", (), 0, _array_reduce, "maximum (along an axis)", keywords=("axis",)),
        _m("argmin", (), 0, lambda site: _arg_reduce(site), "index of the smallest value", keywords=("axis",)),
        _m("argmax", (), 0, lambda site: _arg_reduce(site), "index of the largest value", keywords=("axis",)),
        _m("reshape", ("newshape",), 1, _reshape, "the values in a new shape"),
        _m("shape", (), 0, _np_shape, "the length of each axis", attribute=True),
        _m("size", (), 0, _np_count, "the number of elements", attribute=True),
        _m("ndim", (), 0, _np_count, "the number of axes", attribute=True),
    )},
    "tuple": {f.name: f for f in (
        _m("index", ("x",), 1, _returns(INT), "position of the first equal item"),
        _m("count", ("x",), 1, _returns(INT), "how many items are equal to x"),
    )},
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

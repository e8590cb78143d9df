"""The records of the allowed library and their registry, with the shape arithmetic that
type rules share.

A record (`LibFunction`) holds one allowed name's type rule, arity and implementation; a
library module is a list of records handed to `register`. This module is below every library
module (`library`, `lib_numpy_cap`, `lib_shapely`), so that each can register its records
without importing another: the tables themselves live in `capc.compiler.library`.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from capc import codes
from capc.compiler.types import (
    Array, DictT, FLOAT, ListT, NoneType, OneOf, STR, Str, ObjName, TupleT, Type, UNKNOWN,
    Unknown, array_shape_of, join,
)
from capc.compiler.library_impl import Impl
from capc.frozen import frozen

_NO_VALUE = object()



class RuleError(Exception):
    """A type rule's complaint: `where` is an argument index or a keyword name (None: the
    whole call)."""

    def __init__(self, message: str, where: int | str | None = None, code: str = codes.E100,
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
    impl: Impl | None = None  # how the interpreter calls it (capc.compiler.library_impl)

    def signature(self) -> str:
        shown = list(self.params) + [f"{k}=..." for k in self.keywords]
        if self.max_args is None:
            shown.append("...")
        return f"{self.name}({', '.join(shown)})"


# --- the registry ---------------------------------------------------------------------------
# A library is a space of records ("numpy", "builtin", "method:list", ...), one record per
# name: its type rule, its arity, and its implementation (how the interpreter calls it). A
# new library is a module of records that calls `register`; a second record for a name is
# refused. The verifier attaches a symbolic model to a record (`attach_models`, from
# capc.safety.symlib): at most one per record, and only to a registered name; a name without
# a model runs its real function whenever no argument depends on the world.

_SPACES: dict[str, dict[str, LibFunction]] = {}
_MODELS: dict[tuple[str, str], Callable[..., Any]] = {}


def register(space: str, records: Sequence[LibFunction]) -> dict[str, LibFunction]:
    """Add `records` to `space`; returns the space's table (name -> record)."""
    table = _SPACES.setdefault(space, {})
    for record in records:
        if record.name in table:
            raise ValueError(f"library {space!r}: {record.name!r} is registered twice")
        if record.impl is None:
            raise ValueError(f"library {space!r}: {record.name!r} has no implementation")
        table[record.name] = record
    return table


def records(space: str) -> Mapping[str, LibFunction]:
    return _SPACES.get(space, {})


def attach_models(space: str, models: Mapping[str, Callable[..., Any]]) -> None:
    """Give records of `space` their symbolic models (refused for an unknown name or a
    name that already has one)."""
    table = records(space)
    for name, fn in models.items():
        if name not in table:
            raise ValueError(f"library {space!r}: a model for {name!r}, which is not registered")
        if (space, name) in _MODELS:
            raise ValueError(f"library {space!r}: {name!r} has a model already")
        _MODELS[(space, name)] = fn


def model(space: str, name: str) -> Callable[..., Any] | None:
    """The symbolic model of a record, or None (the real function runs)."""
    return _MODELS.get((space, name))


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
            raise RuleError(f"shapes {_show(a)} and {_show(b)} cannot be combined", where, codes.E104,
                            "an xy position has 2 numbers, an xyz position 3: index or slice to match")
    return tuple(reversed(out))


def _show(shape: tuple) -> str:
    inner = ", ".join("N" if d is None else str(d) for d in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"


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
            raise RuleError("a 0-d array is not iterable", where, codes.E109)
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
    raise RuleError(f"{t.show()} is not iterable", where, codes.E109,
                    "loop over a list, a range, zip(...), enumerate(...) or dict.items()")

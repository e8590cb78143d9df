"""The typed intermediate representation of a policy.

The front end (capc.compiler.lower + capc.compiler.typecheck) produces it from the AST; the
verifier executes it symbolically, the interpreter concretely, the printer turns it back
into source. Nodes are frozen dataclasses (`capc.frozen`: cheaper to define than
`dataclass(frozen=True)`, same behaviour): an IR value can be hashed, compared, stored.

Design choices, so that every consumer has less to handle than the surface syntax:
* every expression carries its inferred `type` and its source `span`;
* calls are resolved: a `Call` says whether it goes to the robot API, numpy, a builtin, a
  method of a value, a user `def`, a lambda held in a variable, or a name nobody defined
  yet (the hierarchical generator fills those in);
* `np.pi`-style constants become `Const`; attribute access exists only as `Call.kind ==
  "method"` or as a qualified numpy name (`np.linalg.norm` -> callee "linalg.norm");
* `x += e` stays `AugAssign` (it matters for lists: `+=` extends in place);
* `elif` chains are nested `If`s.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Callable, Iterator

from capc.compiler.types import Type, UNKNOWN
from capc.diagnostics import Span
from capc.frozen import frozen


# --- expressions ----------------------------------------------------------------------

@frozen
class Expr:
    span: Span
    type: Type


@frozen
class Const(Expr):
    value: Any  # int | float | bool | str | None


@frozen
class Name(Expr):
    id: str


@frozen
class FormatSpec:
    """One `{value:spec}` field of an f-string. `conversion` is '', 'r' or 's'."""

    value: Expr
    conversion: str = ""
    format_spec: str = ""


@frozen
class FString(Expr):
    parts: tuple[str | FormatSpec, ...]


@frozen
class ListExpr(Expr):
    elts: tuple[Expr, ...]


@frozen
class TupleExpr(Expr):
    elts: tuple[Expr, ...]


@frozen
class DictExpr(Expr):
    keys: tuple[Expr, ...]
    values: tuple[Expr, ...]


@frozen
class BinOp(Expr):
    op: str  # + - * / // % ** @
    left: Expr
    right: Expr


@frozen
class UnaryOp(Expr):
    op: str  # - + not
    operand: Expr


@frozen
class BoolOp(Expr):
    op: str  # and | or
    values: tuple[Expr, ...]


@frozen
class Compare(Expr):
    """`a < b <= c`: ops[i] compares operands[i] with operands[i+1]."""

    operands: tuple[Expr, ...]
    ops: tuple[str, ...]  # < <= > >= == != in not in is is not


@frozen
class IfExp(Expr):
    test: Expr
    body: Expr
    orelse: Expr


@frozen
class Keyword:
    name: str
    value: Expr
    span: Span


CALL_API = "api"            # robot primitive from the registry (callee = primitive name)
CALL_NUMPY = "numpy"        # callee like "mean", "linalg.norm"
CALL_BUILTIN = "builtin"    # len, range, zip, enumerate, sorted, min, max, abs, ...
CALL_GEOMETRY = "geometry"  # Point, LineString, Polygon, box, rotate, ... (capc.compiler.lib_shapely)
CALL_METHOD = "method"      # receiver.method(...): receiver is args[0]
CALL_USER = "user"          # a top-level def of this program
CALL_LAMBDA = "lambda"      # a variable holding a lambda
CALL_UNDEFINED = "undefined"  # not defined anywhere yet: the LLM layer will provide it


@frozen
class Call(Expr):
    kind: str
    callee: str
    args: tuple[Expr, ...]
    keywords: tuple[Keyword, ...] = ()


@frozen
class Slice:
    lower: Expr | None
    upper: Expr | None
    step: Expr | None
    span: Span


@frozen
class Subscript(Expr):
    """`value[index]`; numpy's `pts[:, 0]` has a tuple of indices."""

    value: Expr
    index: tuple[Expr | Slice, ...]


@frozen
class Comprehension:
    target: "Target"
    iter: Expr
    ifs: tuple[Expr, ...]


@frozen
class ListComp(Expr):
    """List comprehension; `generator=True` for a generator expression (same semantics here:
    it is consumed once, eagerly)."""

    elt: Expr
    generators: tuple[Comprehension, ...]
    generator: bool = False


@frozen
class Lambda(Expr):
    params: tuple[str, ...]
    body: Expr


# --- assignment targets ---------------------------------------------------------------

@frozen
class Target:
    span: Span


@frozen
class NameTarget(Target):
    id: str
    type: Type = UNKNOWN


@frozen
class TupleTarget(Target):
    elts: tuple[Target, ...]


@frozen
class SubscriptTarget(Target):
    value: Expr
    index: tuple[Expr | Slice, ...]


# --- statements -----------------------------------------------------------------------

@frozen
class Stmt:
    span: Span


@frozen
class Assign(Stmt):
    targets: tuple[Target, ...]  # a = b = value has two
    value: Expr


@frozen
class AugAssign(Stmt):
    target: Target
    op: str
    value: Expr


@frozen
class ExprStmt(Stmt):
    value: Expr


@frozen
class If(Stmt):
    test: Expr
    body: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...]


@frozen
class For(Stmt):
    target: Target
    iter: Expr
    body: tuple[Stmt, ...]


@frozen
class While(Stmt):
    test: Expr
    body: tuple[Stmt, ...]


@frozen
class Break(Stmt):
    pass


@frozen
class Continue(Stmt):
    pass


@frozen
class Pass(Stmt):
    pass


@frozen
class Return(Stmt):
    value: Expr | None


@frozen
class Param:
    name: str
    default: Expr | None
    type: Type
    span: Span


@frozen
class FunctionDef(Stmt):
    name: str
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]
    returns: Type = UNKNOWN


# --- the program ----------------------------------------------------------------------

@frozen
class UndefinedCall:
    """A call to a function that neither the program, the API nor the libraries define.
    The hierarchical generator asks the model for a definition of each `name`."""

    name: str
    span: Span
    n_args: int
    keywords: tuple[str, ...]


@frozen
class Program:
    file: str
    source: str
    body: tuple[Stmt, ...]                      # top-level statements, defs included in order
    functions: dict[str, FunctionDef] = field(default_factory=dict, compare=False, hash=False)
    undefined: tuple[UndefinedCall, ...] = ()
    profile: str = "tabletop"


# --- walking a tree -------------------------------------------------------------------

_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    """The fields of a node class that can hold nodes: all but its span and its type."""
    names = _CHILD_FIELDS.get(cls)
    if names is None:
        names = _CHILD_FIELDS[cls] = tuple(name for name in cls.__dataclass_fields__
                                           if name not in ("span", "type"))
    return names


def walk(node: Any, prune: Callable[[Any], bool] | None = None) -> Iterator[Any]:
    """Every node under `node` (itself included), depth-first, a parent before its children,
    children in field order; a list or tuple walks each item. A node for which `prune` is
    true is yielded but not entered. A `Program` holds its body, then the functions that are
    not in the body (the LLM layer's helpers), then its undefined calls: each once.

    Written for the IR, it walks any tree of dataclass nodes (the syntax tree too): what
    is not a dataclass instance (a string, a number, None) is a leaf and is not yielded, and
    neither is a `Span` or a `Type`."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
            continue
        cls = type(item)
        if not hasattr(cls, "__dataclass_fields__") or isinstance(item, (Span, Type)):
            continue
        yield item
        if prune is not None and prune(item):
            continue
        if cls is Program:
            inside = {id(stmt) for stmt in item.body}
            helpers = tuple(f for f in item.functions.values() if id(f) not in inside)
            stack.extend(reversed(item.body + helpers + item.undefined))
        else:
            stack.extend(reversed([getattr(item, name) for name in _child_fields(cls)]))


def find(node: Any, pred: Callable[[Any], bool]) -> Any | None:
    """The first node of `walk(node)` for which `pred` is true, or None."""
    for item in walk(node):
        if pred(item):
            return item
    return None

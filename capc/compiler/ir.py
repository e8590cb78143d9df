"""The typed intermediate representation of a policy.

The front end (capc.compiler.lower + capc.compiler.typecheck) produces it from the AST; the
verifier executes it symbolically, the interpreter concretely, the printer turns it back
into source. Nodes are frozen dataclasses: an IR value can be hashed, compared, stored.

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

from dataclasses import dataclass, field
from typing import Any

from capc.compiler.types import Type, UNKNOWN
from capc.diagnostics import Span


# --- expressions ----------------------------------------------------------------------

@dataclass(frozen=True)
class Expr:
    span: Span
    type: Type


@dataclass(frozen=True)
class Const(Expr):
    value: Any  # int | float | bool | str | None


@dataclass(frozen=True)
class Name(Expr):
    id: str


@dataclass(frozen=True)
class FormatSpec:
    """One `{value:spec}` field of an f-string. `conversion` is '', 'r' or 's'."""

    value: Expr
    conversion: str = ""
    format_spec: str = ""


@dataclass(frozen=True)
class FString(Expr):
    parts: tuple[str | FormatSpec, ...]


@dataclass(frozen=True)
class ListExpr(Expr):
    elts: tuple[Expr, ...]


@dataclass(frozen=True)
class TupleExpr(Expr):
    elts: tuple[Expr, ...]


@dataclass(frozen=True)
class DictExpr(Expr):
    keys: tuple[Expr, ...]
    values: tuple[Expr, ...]


@dataclass(frozen=True)
class BinOp(Expr):
    op: str  # + - * / // % ** @
    left: Expr
    right: Expr


@dataclass(frozen=True)
class UnaryOp(Expr):
    op: str  # - + not
    operand: Expr


@dataclass(frozen=True)
class BoolOp(Expr):
    op: str  # and | or
    values: tuple[Expr, ...]


@dataclass(frozen=True)
class Compare(Expr):
    """`a < b <= c`: ops[i] compares operands[i] with operands[i+1]."""

    operands: tuple[Expr, ...]
    ops: tuple[str, ...]  # < <= > >= == != in not in is is not


@dataclass(frozen=True)
class IfExp(Expr):
    test: Expr
    body: Expr
    orelse: Expr


@dataclass(frozen=True)
class Keyword:
    name: str
    value: Expr
    span: Span


CALL_API = "api"            # robot primitive from the registry (callee = primitive name)
CALL_NUMPY = "numpy"        # callee like "mean", "linalg.norm"
CALL_BUILTIN = "builtin"    # len, range, zip, enumerate, sorted, min, max, abs, ...
CALL_METHOD = "method"      # receiver.method(...): receiver is args[0]
CALL_USER = "user"          # a top-level def of this program
CALL_LAMBDA = "lambda"      # a variable holding a lambda
CALL_UNDEFINED = "undefined"  # not defined anywhere yet: the LLM layer will provide it


@dataclass(frozen=True)
class Call(Expr):
    kind: str
    callee: str
    args: tuple[Expr, ...]
    keywords: tuple[Keyword, ...] = ()


@dataclass(frozen=True)
class Slice:
    lower: Expr | None
    upper: Expr | None
    step: Expr | None
    span: Span


@dataclass(frozen=True)
class Subscript(Expr):
    """`value[index]`; numpy's `pts[:, 0]` has a tuple of indices."""

    value: Expr
    index: tuple[Expr | Slice, ...]


@dataclass(frozen=True)
class Comprehension:
    target: "Target"
    iter: Expr
    ifs: tuple[Expr, ...]


@dataclass(frozen=True)
class ListComp(Expr):
    """List comprehension; `generator=True` for a generator expression (same semantics here:
    it is consumed once, eagerly)."""

    elt: Expr
    generators: tuple[Comprehension, ...]
    generator: bool = False


@dataclass(frozen=True)
class Lambda(Expr):
    params: tuple[str, ...]
    body: Expr


# --- assignment targets ---------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    span: Span


@dataclass(frozen=True)
class NameTarget(Target):
    id: str
    type: Type = UNKNOWN


@dataclass(frozen=True)
class TupleTarget(Target):
    elts: tuple[Target, ...]


@dataclass(frozen=True)
class SubscriptTarget(Target):
    value: Expr
    index: tuple[Expr | Slice, ...]


# --- statements -----------------------------------------------------------------------

@dataclass(frozen=True)
class Stmt:
    span: Span


@dataclass(frozen=True)
class Assign(Stmt):
    targets: tuple[Target, ...]  # a = b = value has two
    value: Expr


@dataclass(frozen=True)
class AugAssign(Stmt):
    target: Target
    op: str
    value: Expr


@dataclass(frozen=True)
class ExprStmt(Stmt):
    value: Expr


@dataclass(frozen=True)
class If(Stmt):
    test: Expr
    body: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...]


@dataclass(frozen=True)
class For(Stmt):
    target: Target
    iter: Expr
    body: tuple[Stmt, ...]


@dataclass(frozen=True)
class While(Stmt):
    test: Expr
    body: tuple[Stmt, ...]


@dataclass(frozen=True)
class Break(Stmt):
    pass


@dataclass(frozen=True)
class Continue(Stmt):
    pass


@dataclass(frozen=True)
class Pass(Stmt):
    pass


@dataclass(frozen=True)
class Return(Stmt):
    value: Expr | None


@dataclass(frozen=True)
class Param:
    name: str
    default: Expr | None
    type: Type
    span: Span


@dataclass(frozen=True)
class FunctionDef(Stmt):
    name: str
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]
    returns: Type = UNKNOWN


# --- the program ----------------------------------------------------------------------

@dataclass(frozen=True)
class UndefinedCall:
    """A call to a function that neither the program, the API nor the libraries define.
    The hierarchical generator asks the model for a definition of each `name`."""

    name: str
    span: Span
    n_args: int
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Program:
    file: str
    source: str
    body: tuple[Stmt, ...]                      # top-level statements, defs included in order
    functions: dict[str, FunctionDef] = field(default_factory=dict, compare=False, hash=False)
    undefined: tuple[UndefinedCall, ...] = ()
    profile: str = "tabletop"

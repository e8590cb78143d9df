"""The syntax tree of a policy, exactly as written, with a source span on every node.

The parser (capc.grammar.parser) builds these while lark reduces (no intermediate lark
tree); the compiler (capc.compiler.lower) turns them into the typed IR. Constructs outside
the language never reach this tree: the parser rejects them with their own error code.

Every node records its `depth` (1 + the deepest child) so that the parser can refuse a
too-deep tree *while building it*, before any recursive pass walks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from capc.diagnostics import Span


def _depth_field() -> Any:
    return field(default=1, kw_only=True, compare=False, repr=False)


@dataclass(frozen=True)
class Node:
    span: Span
    depth: int = _depth_field()


# --- expressions ----------------------------------------------------------------------

@dataclass(frozen=True)
class Expr(Node):
    pass


@dataclass(frozen=True)
class Name(Expr):
    id: str


@dataclass(frozen=True)
class Constant(Expr):
    value: Any  # int | float | bool | str | None


@dataclass(frozen=True)
class FField(Node):
    """`{value!conversion:format_spec}` inside an f-string."""

    value: Expr
    conversion: str
    format_spec: str


@dataclass(frozen=True)
class FString(Expr):
    parts: tuple[str | FField, ...]


@dataclass(frozen=True)
class ListDisplay(Expr):
    elts: tuple[Expr, ...]


@dataclass(frozen=True)
class TupleDisplay(Expr):
    elts: tuple[Expr, ...]
    parenthesized: bool = False


@dataclass(frozen=True)
class DictDisplay(Expr):
    keys: tuple[Expr, ...]
    values: tuple[Expr, ...]


@dataclass(frozen=True)
class BinOp(Expr):
    op: str
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
    operands: tuple[Expr, ...]
    ops: tuple[str, ...]


@dataclass(frozen=True)
class IfExp(Expr):
    test: Expr
    body: Expr
    orelse: Expr


@dataclass(frozen=True)
class Keyword(Node):
    name: str
    value: Expr


@dataclass(frozen=True)
class Call(Expr):
    func: Expr
    args: tuple[Expr, ...]
    keywords: tuple[Keyword, ...]


@dataclass(frozen=True)
class Attribute(Expr):
    value: Expr
    attr: str
    attr_span: Span


@dataclass(frozen=True)
class Slice(Node):
    lower: Expr | None
    upper: Expr | None
    step: Expr | None


@dataclass(frozen=True)
class Subscript(Expr):
    value: Expr
    index: tuple[Expr | Slice, ...]


@dataclass(frozen=True)
class Comprehension(Node):
    target: Expr
    iter: Expr
    ifs: tuple[Expr, ...]


@dataclass(frozen=True)
class ListComp(Expr):
    elt: Expr
    generators: tuple[Comprehension, ...]
    generator: bool = False  # written as a generator expression `(x for ...)`


@dataclass(frozen=True)
class DictComp(Expr):
    key: Expr
    value: Expr
    generators: tuple[Comprehension, ...]


@dataclass(frozen=True)
class Param(Node):
    name: str
    default: Expr | None


@dataclass(frozen=True)
class Lambda(Expr):
    params: tuple[Param, ...]
    body: Expr


# --- statements -----------------------------------------------------------------------

@dataclass(frozen=True)
class Stmt(Node):
    pass


@dataclass(frozen=True)
class Assign(Stmt):
    targets: tuple[Expr, ...]
    value: Expr


@dataclass(frozen=True)
class AugAssign(Stmt):
    target: Expr
    op: str  # the binary operator: "+" for "+="
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
    target: Expr
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
class FunctionDef(Stmt):
    name: str
    name_span: Span
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]


@dataclass(frozen=True)
class Module:
    file: str
    source: str
    body: tuple[Stmt, ...]

"""The syntax tree of a policy, exactly as written, with a source span on every node.

The parser (capc.grammar.parser) builds these while lark reduces (no intermediate lark
tree); the compiler (capc.compiler.lower) turns them into the typed IR. Constructs outside
the language never reach this tree: the parser rejects them with their own error code.

Every node records its `depth` (1 + the deepest child) so that the parser can refuse a
too-deep tree *while building it*, before any recursive pass walks it.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from capc.diagnostics import Span
from capc.frozen import frozen


def _depth_field() -> Any:
    return field(default=1, kw_only=True, compare=False, repr=False)


@frozen
class Node:
    span: Span
    depth: int = _depth_field()


# --- expressions ----------------------------------------------------------------------

@frozen
class Expr(Node):
    pass


@frozen
class Name(Expr):
    id: str


@frozen
class Constant(Expr):
    value: Any  # int | float | bool | str | None


@frozen
class FField(Node):
    """`{value!conversion:format_spec}` inside an f-string."""

    value: Expr
    conversion: str
    format_spec: str


@frozen
class FString(Expr):
    parts: tuple[str | FField, ...]


@frozen
class ListDisplay(Expr):
    elts: tuple[Expr, ...]


@frozen
class TupleDisplay(Expr):
    elts: tuple[Expr, ...]
    parenthesized: bool = False


@frozen
class DictDisplay(Expr):
    keys: tuple[Expr, ...]
    values: tuple[Expr, ...]


@frozen
class BinOp(Expr):
    op: str
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
    operands: tuple[Expr, ...]
    ops: tuple[str, ...]


@frozen
class IfExp(Expr):
    test: Expr
    body: Expr
    orelse: Expr


@frozen
class Keyword(Node):
    name: str
    value: Expr


@frozen
class Call(Expr):
    func: Expr
    args: tuple[Expr, ...]
    keywords: tuple[Keyword, ...]


@frozen
class Attribute(Expr):
    value: Expr
    attr: str
    attr_span: Span


@frozen
class Slice(Node):
    lower: Expr | None
    upper: Expr | None
    step: Expr | None


@frozen
class Subscript(Expr):
    value: Expr
    index: tuple[Expr | Slice, ...]


@frozen
class Comprehension(Node):
    target: Expr
    iter: Expr
    ifs: tuple[Expr, ...]


@frozen
class ListComp(Expr):
    elt: Expr
    generators: tuple[Comprehension, ...]
    generator: bool = False  # written as a generator expression `(x for ...)`


@frozen
class DictComp(Expr):
    key: Expr
    value: Expr
    generators: tuple[Comprehension, ...]


@frozen
class Param(Node):
    name: str
    default: Expr | None


@frozen
class Lambda(Expr):
    params: tuple[Param, ...]
    body: Expr


# --- statements -----------------------------------------------------------------------

@frozen
class Stmt(Node):
    pass


@frozen
class Assign(Stmt):
    targets: tuple[Expr, ...]
    value: Expr


@frozen
class AugAssign(Stmt):
    target: Expr
    op: str  # the binary operator: "+" for "+="
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
    target: Expr
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
class FunctionDef(Stmt):
    name: str
    name_span: Span
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]


@frozen
class Module:
    file: str
    source: str
    body: tuple[Stmt, ...]

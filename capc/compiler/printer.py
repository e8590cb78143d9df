"""IR -> policy source. `compile_source(to_source(p))` gives `p` again (spans aside).

Used to show the checked program (what capc will run, after lowering: `{k: v for ...}`
appears as `dict([(k, v) for ...])`, `np.pi` as its value), to store programs in the audit
log in one canonical spelling, and as a property test of the front end (print, re-parse,
compare). Parentheses are placed from operator precedence, not copied from the input.
"""

from __future__ import annotations

import math
import threading
from dataclasses import fields, is_dataclass, replace
from typing import Any

from capc.compiler import ir
from capc.compiler.library import ARRAY_PROPERTIES
from capc.compiler.lib_shapely import GEOMETRY_PROPERTIES
from capc.diagnostics import Span

# Python's binding strengths (higher binds tighter).
_LAMBDA, _IFEXP, _OR, _AND, _NOT, _CMP = 1, 2, 3, 4, 5, 6
_ARITH, _TERM, _UNARY, _POWER, _PRIMARY, _ATOM = 10, 11, 12, 13, 14, 15
_BINOP_PREC = {"+": _ARITH, "-": _ARITH, "*": _TERM, "/": _TERM, "//": _TERM, "%": _TERM, "@": _TERM,
               "**": _POWER}
_INDENT = "    "


def to_source(program: ir.Program, *, include_helpers: bool = False) -> str:
    """The program as source text. `include_helpers` also prints defs that came from helper
    files (they are in `program.functions` but not in `program.body`)."""
    lines: list[str] = []
    if include_helpers:
        in_body = {s.name for s in program.body if isinstance(s, ir.FunctionDef)}
        for name, fn in program.functions.items():
            if name not in in_body:
                _stmt(fn, 0, lines)
                lines.append("")
    previous_def = False
    for stmt in program.body:
        is_def = isinstance(stmt, ir.FunctionDef)
        if lines and (is_def or previous_def) and lines[-1] != "":
            lines.append("")
        _stmt(stmt, 0, lines)
        previous_def = is_def
    return "\n".join(lines).rstrip("\n") + "\n"


def expr_source(e: ir.Expr) -> str:
    return _expr(e, 0)


# --- statements -------------------------------------------------------------------------------

def _block(body: tuple[ir.Stmt, ...], depth: int, lines: list[str]) -> None:
    if not body:
        lines.append(_INDENT * depth + "pass")
    for stmt in body:
        _stmt(stmt, depth, lines)


def _stmt(s: ir.Stmt, depth: int, lines: list[str]) -> None:
    pad = _INDENT * depth
    if isinstance(s, ir.Assign):
        targets = " = ".join(_target(t, top=True) for t in s.targets)
        lines.append(f"{pad}{targets} = {_expr(s.value, 0)}")
    elif isinstance(s, ir.AugAssign):
        lines.append(f"{pad}{_target(s.target, top=True)} {s.op}= {_expr(s.value, 0)}")
    elif isinstance(s, ir.ExprStmt):
        lines.append(pad + _expr(s.value, 0))
    elif isinstance(s, ir.If):
        keyword = "if"
        while True:
            lines.append(f"{pad}{keyword} {_expr(s.test, 0)}:")
            _block(s.body, depth + 1, lines)
            if len(s.orelse) == 1 and isinstance(s.orelse[0], ir.If):
                s, keyword = s.orelse[0], "elif"
                continue
            if s.orelse:
                lines.append(f"{pad}else:")
                _block(s.orelse, depth + 1, lines)
            break
    elif isinstance(s, ir.For):
        lines.append(f"{pad}for {_target(s.target, top=True)} in {_expr(s.iter, 0)}:")
        _block(s.body, depth + 1, lines)
    elif isinstance(s, ir.While):
        lines.append(f"{pad}while {_expr(s.test, 0)}:")
        _block(s.body, depth + 1, lines)
    elif isinstance(s, ir.FunctionDef):
        params = ", ".join(p.name if p.default is None else f"{p.name}={_expr(p.default, 0)}"
                           for p in s.params)
        lines.append(f"{pad}def {s.name}({params}):")
        _block(s.body, depth + 1, lines)
    elif isinstance(s, ir.Return):
        lines.append(pad + ("return" if s.value is None else f"return {_expr(s.value, 0)}"))
    elif isinstance(s, ir.Break):
        lines.append(pad + "break")
    elif isinstance(s, ir.Continue):
        lines.append(pad + "continue")
    elif isinstance(s, ir.Pass):
        lines.append(pad + "pass")
    else:  # pragma: no cover - every IR statement is handled above
        raise TypeError(f"cannot print {type(s).__name__}")


def _target(t: ir.Target, top: bool = False) -> str:
    if isinstance(t, ir.NameTarget):
        return t.id
    if isinstance(t, ir.TupleTarget):
        inner = ", ".join(_target(e) for e in t.elts)
        if len(t.elts) == 1:
            inner += ","
        return inner if top else f"({inner})"
    if isinstance(t, ir.SubscriptTarget):
        return f"{_expr(t.value, _PRIMARY)}[{_index(t.index)}]"
    raise TypeError(f"cannot print target {type(t).__name__}")  # pragma: no cover


# --- expressions ------------------------------------------------------------------------------

def _wrap(text: str, prec: int, context: int) -> str:
    return f"({text})" if prec < context else text


def _const(value: Any) -> tuple[str, int]:
    if isinstance(value, float):
        if math.isinf(value):
            return ("np.inf", _PRIMARY) if value > 0 else ("-np.inf", _UNARY)
        if abs(value) == math.pi:  # np.pi reads better than its digits and compiles to the same Const
            return ("np.pi", _PRIMARY) if value > 0 else ("-np.pi", _UNARY)
        text = repr(value)
        return text, (_UNARY if text.startswith("-") else _ATOM)
    if isinstance(value, int) and not isinstance(value, bool):
        return repr(value), (_UNARY if value < 0 else _ATOM)
    if isinstance(value, str) and _printing.open_quotes:
        return _string_in_field(value), _ATOM
    return repr(value), _ATOM


# The quotes of the f-strings being printed around the current expression: a string inside
# an f-string field must use another quote (Python 3.11, and our lexer, end the f-string at
# its own quote) and cannot use backslashes.
_QUOTES = ('"', "'", '"""', "'''")


class _Printing(threading.local):
    def __init__(self) -> None:
        self.open_quotes: list[str] = []


_printing = _Printing()


def _free_quote(text: str) -> str | None:
    """A quote that neither ends an enclosing f-string nor occurs in `text`."""
    for quote in _QUOTES:
        if any(quote[0] == q[0] for q in _printing.open_quotes) or quote[0] in text:
            continue
        return quote
    return None


def _string_in_field(value: str) -> str:
    quote = _free_quote(value)
    if quote is None or "\\" in value or not value.isprintable():
        return repr(value)  # cannot be written inside this field; kept as Python would print it
    return f"{quote}{value}{quote}"


def _expr(e: ir.Expr, context: int) -> str:
    if isinstance(e, ir.Const):
        text, prec = _const(e.value)
        return _wrap(text, prec, context)
    if isinstance(e, ir.Name):
        return e.id
    if isinstance(e, ir.FString):
        return _fstring(e)
    if isinstance(e, ir.ListExpr):
        return "[" + ", ".join(_expr(x, _LAMBDA) for x in e.elts) + "]"
    if isinstance(e, ir.TupleExpr):
        inner = ", ".join(_expr(x, _LAMBDA) for x in e.elts)
        return f"({inner},)" if len(e.elts) == 1 else f"({inner})"
    if isinstance(e, ir.DictExpr):
        return "{" + ", ".join(f"{_expr(k, _IFEXP)}: {_expr(v, _IFEXP)}" for k, v in zip(e.keys, e.values)) + "}"
    if isinstance(e, ir.BinOp):
        prec = _BINOP_PREC[e.op]
        if e.op == "**":
            text = f"{_expr(e.left, _PRIMARY)} ** {_expr(e.right, _UNARY)}"
        else:
            text = f"{_expr(e.left, prec)} {e.op} {_expr(e.right, prec + 1)}"
        return _wrap(text, prec, context)
    if isinstance(e, ir.UnaryOp):
        if e.op == "not":
            return _wrap(f"not {_expr(e.operand, _NOT)}", _NOT, context)
        return _wrap(f"{e.op}{_expr(e.operand, _UNARY)}", _UNARY, context)
    if isinstance(e, ir.BoolOp):
        prec = _OR if e.op == "or" else _AND
        return _wrap(f" {e.op} ".join(_expr(v, prec + 1) for v in e.values), prec, context)
    if isinstance(e, ir.Compare):
        parts = [_expr(e.operands[0], _CMP + 1)]
        for op, operand in zip(e.ops, e.operands[1:]):
            parts.append(f"{op} {_expr(operand, _CMP + 1)}")
        return _wrap(" ".join(parts), _CMP, context)
    if isinstance(e, ir.IfExp):
        text = f"{_expr(e.body, _OR)} if {_expr(e.test, _OR)} else {_expr(e.orelse, _IFEXP)}"
        return _wrap(text, _IFEXP, context)
    if isinstance(e, ir.Call):
        return _call(e)
    if isinstance(e, ir.Subscript):
        return f"{_expr(e.value, _PRIMARY)}[{_index(e.index)}]"
    if isinstance(e, ir.ListComp):
        gens = " ".join(_comprehension(g) for g in e.generators)
        body = f"{_expr(e.elt, _IFEXP)} {gens}"
        return f"({body})" if e.generator else f"[{body}]"
    if isinstance(e, ir.Lambda):
        params = ", ".join(e.params)
        head = f"lambda {params}" if params else "lambda"
        return _wrap(f"{head}: {_expr(e.body, _IFEXP)}", _LAMBDA, context)
    raise TypeError(f"cannot print {type(e).__name__}")  # pragma: no cover


def _arguments(args: tuple[ir.Expr, ...], keywords: tuple[ir.Keyword, ...]) -> str:
    parts = [_expr(a, _LAMBDA) for a in args]
    parts += [f"{k.name}={_expr(k.value, _LAMBDA)}" for k in keywords]
    return ", ".join(parts)


def _call(e: ir.Call) -> str:
    if e.kind == ir.CALL_METHOD:
        receiver, args = e.args[0], e.args[1:]
        recv = _expr(receiver, _PRIMARY)
        if isinstance(receiver, ir.Const) and isinstance(receiver.value, (int, float)):
            recv = f"({recv})"  # `1.copy()` would lex as a float
        if not args and not e.keywords and (e.callee in ARRAY_PROPERTIES or e.callee in GEOMETRY_PROPERTIES):
            return f"{recv}.{e.callee}"  # an array attribute (`pts.shape`) is lowered to a method call
        return f"{recv}.{e.callee}({_arguments(args, e.keywords)})"
    prefix = "np." if e.kind == ir.CALL_NUMPY else ""
    return f"{prefix}{e.callee}({_arguments(e.args, e.keywords)})"


def _index(items: tuple[Any, ...]) -> str:
    parts = []
    for item in items:
        if isinstance(item, ir.Slice):
            text = ("" if item.lower is None else _expr(item.lower, _IFEXP)) + ":" + \
                   ("" if item.upper is None else _expr(item.upper, _IFEXP))
            if item.step is not None:
                text += ":" + _expr(item.step, _IFEXP)
            parts.append(text)
        else:
            parts.append(_expr(item, _IFEXP))
    return ", ".join(parts)


def _comprehension(g: ir.Comprehension) -> str:
    text = f"for {_target(g.target, top=True)} in {_expr(g.iter, _OR)}"
    for cond in g.ifs:
        text += f" if {_expr(cond, _OR)}"
    return text


_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"'}


def _fstring(e: ir.FString) -> str:
    quote = _free_quote("")
    if quote is None:  # four f-strings deep: Python 3.11 cannot nest further either
        raise ValueError("f-strings nested more than four deep cannot be printed")
    _printing.open_quotes.append(quote)
    try:
        return _fstring_body(e, quote)
    finally:
        _printing.open_quotes.pop()


def _fstring_body(e: ir.FString, quote: str) -> str:
    escapes = dict(_ESCAPES)
    escapes[quote[0]] = "\\" + quote[0]
    if quote[0] != '"':
        del escapes['"']
    out = ["f" + quote]
    for part in e.parts:
        if isinstance(part, str):
            for ch in part:
                if ch in escapes:
                    out.append(escapes[ch])
                elif ch in "{}":
                    out.append(ch * 2)
                elif not ch.isprintable():
                    out.append(f"\\U{ord(ch):08x}")
                else:
                    out.append(ch)
            continue
        inner = _expr(part.value, _IFEXP)
        if inner.startswith("{"):
            inner = " " + inner
        field = "{" + inner
        if part.conversion:
            field += "!" + part.conversion
        if part.format_spec:
            field += ":" + part.format_spec
        out.append(field + "}")
    out.append(quote)
    return "".join(out)


# --- comparing programs modulo layout -----------------------------------------------------------

NOWHERE = Span("", 0, 0, 0, 0)
_FIELDS: dict[type, tuple[str, ...]] = {}


def without_spans(node: Any) -> Any:
    """The same IR with every span replaced by one placeholder (to compare programs that
    differ only in layout)."""
    if isinstance(node, Span):
        return NOWHERE
    if isinstance(node, tuple):
        return tuple(without_spans(x) for x in node)
    if isinstance(node, dict):
        return {k: without_spans(v) for k, v in node.items()}
    if is_dataclass(node) and not isinstance(node, type):
        names = _FIELDS.get(type(node))
        if names is None:
            names = tuple(f.name for f in fields(node))
            _FIELDS[type(node)] = names
        return replace(node, **{n: without_spans(getattr(node, n)) for n in names})
    return node

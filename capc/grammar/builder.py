"""The inline transformer that builds `capc.grammar.ast` nodes while lark reduces.

One method per grammar rule (or alias) of policy.lark. Constructs the grammar recognises
only in order to refuse them (decorators, star-args, walrus, bitwise operators, loop else,
set displays, lambda defaults) raise their specific `CompileError` here, at their own span.
"""

from __future__ import annotations

import math
from typing import Any

from lark import Token, Transformer

from capc import codes
from capc.diagnostics import CompileError, Span
from capc.grammar import ast
from capc.grammar import state as P
from capc.grammar.strings import string_literal

# Marker for a keyword argument inside `arguments` (positional args are plain Exprs).
_KW = object()


def _start(item: Any) -> tuple[int, int]:
    if isinstance(item, Token):
        return item.line, item.column
    return item.span.line, item.span.col


def _end(item: Any) -> tuple[int, int]:
    if isinstance(item, Token):
        return item.end_line, item.end_column
    return item.span.end_line, item.span.end_col


def span(first: Any, last: Any | None = None) -> Span:
    last = first if last is None else last
    (line, col), (end_line, end_col) = _start(first), _end(last)
    return Span(P.current().file, line, col, end_line, end_col)


def _depth(*children: Any) -> int:
    deepest = 0
    for child in children:
        if child is None or isinstance(child, (Token, str, int, float)):
            continue
        if isinstance(child, (tuple, list)):
            for item in child:
                if isinstance(item, ast.Node) and item.depth > deepest:
                    deepest = item.depth
        elif isinstance(child, ast.Node) and child.depth > deepest:
            deepest = child.depth
    return deepest + 1


def node(cls: type, where: Span, *args: Any) -> Any:
    """Build `cls(where, *args)` with its depth, refusing trees deeper than the budget."""
    depth = _depth(*args)
    limit = P.current().limits.max_ast_depth
    if depth > limit:
        raise CompileError(codes.E402, f"expression or block nested more than {limit} deep", where,
                           kind="limit", hint="compute the value in several steps")
    return cls(where, *args, depth=depth)


def _err(code: str, message: str, where: Span, hint: str | None = None, kind: str = "subset") -> CompileError:
    return CompileError(code, message, where, kind=kind, hint=hint)


def _const_number(expr: Any) -> int | float | None:
    """The value of a constant numeric expression built from literals, unary signs and
    powers (what `10 ** 10 ** 10` is made of), or None."""
    if isinstance(expr, ast.Constant) and type(expr.value) in (int, float):
        return expr.value
    if isinstance(expr, ast.UnaryOp) and expr.op in "-+":
        inner = _const_number(expr.operand)
        return None if inner is None else (-inner if expr.op == "-" else inner)
    if isinstance(expr, ast.BinOp) and expr.op == "**":
        base, exponent = _const_number(expr.left), _const_number(expr.right)
        if base is None or exponent is None or _power_too_big(base, exponent, 1 << 30):
            return None
        try:
            return base ** exponent
        except (OverflowError, ZeroDivisionError):
            return None
    return None


def _power_too_big(base: float, exponent: float, max_bits: int) -> bool:
    if isinstance(exponent, complex) or isinstance(base, complex):
        return False
    if exponent <= 0 or abs(base) <= 1:
        return False
    bits = exponent * math.log2(abs(base))
    if isinstance(base, float) or isinstance(exponent, float):
        return bits > 1023  # float overflow
    return bits + 1 > max_bits


def _children_inline(cls: type) -> type:
    """What lark's `v_args(inline=True)` does for a class, one call deep: lark calls each rule's
    callback with the list of children, and this passes them on as arguments. (lark's own
    wrapper goes through three more calls per reduction, about 10% of a parse.) Every public
    method defined in the class body is a rule's callback."""
    for name, method in list(cls.__dict__.items()):
        if name.startswith("_") or not callable(method):
            continue

        def callback(self, children, _method=method):
            return _method(self, *children)

        callback.__name__ = callback.__qualname__ = name
        setattr(cls, name, callback)
    return cls


@_children_inline
class AstBuilder(Transformer):
    """Callbacks named after the rules of policy.lark; each receives the rule's children."""

    __visit_tokens__ = False

    # --- module and statements ----------------------------------------------------------

    def module(self, *items: Any) -> tuple[ast.Stmt, ...]:
        return _flatten(items)

    def fstring_field(self, expr: ast.Expr) -> ast.Expr:
        return expr

    def simple_stmt(self, *items: Any) -> list[ast.Stmt]:
        return [item for item in items if item is not None]

    def suite(self, *items: Any) -> tuple[ast.Stmt, ...]:
        return _flatten(items)

    def expr_stmt(self, value: ast.Expr) -> ast.Stmt:
        return node(ast.ExprStmt, value.span, value)

    def assign(self, *items: ast.Expr) -> ast.Stmt:
        targets, value = items[:-1], items[-1]
        return node(ast.Assign, span(targets[0], value), tuple(targets), value)

    def aug_assign(self, target: ast.Expr, op: Token, value: ast.Expr) -> ast.Stmt:
        if op in ("&=", "|=", "^=", "<<=", ">>="):
            raise _err(codes.E040, f"bitwise operator '{op}' is not supported", span(op),
                       "use 'and', 'or' and 'not' for conditions")
        return node(ast.AugAssign, span(target, value), target, str(op)[:-1], value)

    def ann_assign(self, target: ast.Expr, annotation: ast.Expr, value: ast.Expr | None) -> ast.Stmt:
        if value is None:
            raise _err(codes.E036, "an annotation without a value does nothing", span(target, annotation),
                       "assign a value: 'x: float = 0.0', or drop the line")
        # Annotations are accepted and ignored: types are inferred.
        return node(ast.Assign, span(target, value), (target,), value)

    def return_stmt(self, tok: Token, value: ast.Expr | None) -> ast.Stmt:
        return node(ast.Return, span(tok, value or tok), value)

    def pass_stmt(self, tok: Token) -> ast.Stmt:
        return ast.Pass(span(tok))

    def break_stmt(self, tok: Token) -> ast.Stmt:
        return ast.Break(span(tok))

    def continue_stmt(self, tok: Token) -> ast.Stmt:
        return ast.Continue(span(tok))

    def decorator(self, at: Token, expr: ast.Expr) -> Any:
        raise _err(codes.E018, "decorators are not allowed", span(at, expr),
                   "call the function you would decorate with directly")

    def if_stmt(self, tok: Token, test: ast.Expr, body: tuple, *rest: Any) -> ast.Stmt:
        *elifs, orelse = rest
        tail: tuple[ast.Stmt, ...] = orelse[1] if orelse is not None else ()
        for elif_tok, elif_test, elif_body in reversed(elifs):
            last = tail[-1] if tail else elif_body[-1]
            tail = (node(ast.If, span(elif_tok, last), elif_test, elif_body, tail),)
        last = tail[-1] if tail else body[-1]
        return node(ast.If, span(tok, last), test, body, tail)

    def elif_clause(self, tok: Token, test: ast.Expr, body: tuple) -> tuple:
        return tok, test, body

    def else_clause(self, tok: Token, body: tuple) -> tuple:
        return tok, body

    def while_stmt(self, tok: Token, test: ast.Expr, body: tuple, orelse: Any) -> ast.Stmt:
        _no_loop_else(orelse)
        return node(ast.While, span(tok, body[-1]), test, body)

    def for_stmt(self, tok: Token, target: ast.Expr, _in: Token, iterable: ast.Expr, body: tuple,
                 orelse: Any) -> ast.Stmt:
        _no_loop_else(orelse)
        return node(ast.For, span(tok, body[-1]), target, iterable, body)

    def funcdef(self, tok: Token, name: Token, params: Any, _returns: Any, body: tuple) -> ast.Stmt:
        params = tuple(params or ())
        seen: set[str] = set()
        had_default = False
        for param in params:
            if param.name in seen:
                raise _err(codes.E039, f"duplicate parameter '{param.name}'", param.span, kind="syntax")
            seen.add(param.name)
            if param.default is not None:
                had_default = True
            elif had_default:
                raise _err(codes.E039, f"parameter '{param.name}' without a default follows one with a default",
                           param.span, kind="syntax", hint="put parameters with defaults last")
        return node(ast.FunctionDef, span(tok, body[-1]), str(name), span(name), params, body)

    def parameters(self, *params: ast.Param) -> tuple[ast.Param, ...]:
        return params

    def param(self, name: Token, _annotation: Any, default: ast.Expr | None) -> ast.Param:
        return node(ast.Param, span(name, default or name), str(name), default)

    def star_param(self, tok: Token, *rest: Any) -> Any:
        what = "'/' (positional-only marker)" if tok == "/" else f"'{tok}' parameters"
        raise _err(codes.E021, f"{what} are not allowed", span(tok, next((r for r in rest if isinstance(r, Token)), tok)),
                   "give every parameter a name (and a default if it is optional)")

    # --- expressions ------------------------------------------------------------------

    def ternary(self, body: ast.Expr, _if: Token, test: ast.Expr, _else: Token, orelse: ast.Expr) -> ast.Expr:
        return node(ast.IfExp, span(body, orelse), test, body, orelse)

    def walrus(self, name: Token, op: Token, _value: ast.Expr) -> Any:
        raise _err(codes.E020, "the walrus operator ':=' is not allowed", span(name, op),
                   "assign in a statement of its own first")

    def lambdef(self, tok: Token, params: Any, body: ast.Expr) -> ast.Expr:
        return node(ast.Lambda, span(tok, body), tuple(params or ()), body)

    def lambda_params(self, *params: ast.Param) -> tuple[ast.Param, ...]:
        return params

    def lambda_param(self, name: Token, default: ast.Expr | None) -> ast.Param:
        if default is not None:
            raise _err(codes.E027, "lambda parameters cannot have defaults", span(name, default),
                       "a default captures a value at definition time; use a def for that")
        return ast.Param(span(name), str(name), None)

    def or_chain(self, *items: Any) -> ast.Expr:
        values = tuple(item for item in items if not isinstance(item, Token))
        return node(ast.BoolOp, span(values[0], values[-1]), "or", values)

    def and_chain(self, *items: Any) -> ast.Expr:
        values = tuple(item for item in items if not isinstance(item, Token))
        return node(ast.BoolOp, span(values[0], values[-1]), "and", values)

    def not_op(self, tok: Token, operand: ast.Expr) -> ast.Expr:
        return node(ast.UnaryOp, span(tok, operand), "not", operand)

    def compare(self, *items: Any) -> ast.Expr:
        operands, ops = tuple(items[0::2]), tuple(items[1::2])
        return node(ast.Compare, span(operands[0], operands[-1]), operands, ops)

    def comp_op(self, *toks: Token) -> str:
        return " ".join(str(t) for t in toks)

    def binop_chain(self, *items: Any) -> ast.Expr:
        result = items[0]
        for i in range(1, len(items), 2):
            right = items[i + 1]
            result = node(ast.BinOp, span(result, right), str(items[i]), result, right)
        return result

    def mul_op(self, tok: Token) -> Token:
        return tok

    def unary(self, tok: Token, operand: ast.Expr) -> ast.Expr:
        return node(ast.UnaryOp, span(tok, operand), str(tok), operand)

    def power(self, base: ast.Expr, _tok: Token, exponent: ast.Expr) -> ast.Expr:
        where = span(base, exponent)
        b, e = _const_number(base), _const_number(exponent)
        if b is not None and e is not None and _power_too_big(b, e, P.current().limits.max_int_bits):
            raise CompileError(codes.E404, f"constant power is too large (more than "
                               f"{P.current().limits.max_int_bits} bits)", where, kind="limit",
                               hint="powers of constants must stay within the integer budget")
        return node(ast.BinOp, where, "**", base, exponent)

    def call(self, func: ast.Expr, arguments: Any, rpar: Token) -> ast.Expr:
        args, keywords = arguments if arguments is not None else ((), ())
        return node(ast.Call, span(func, rpar), func, args, keywords)

    def arguments(self, *items: Any) -> tuple[tuple, tuple]:
        args, keywords = [], []
        for item in items:
            if isinstance(item, ast.Keyword):
                if any(k.name == item.name for k in keywords):
                    raise _err(codes.E110, f"keyword argument '{item.name}' given twice", item.span,
                               kind="type")
                keywords.append(item)
            else:
                if keywords:
                    raise _err(codes.E044, "positional argument after a keyword argument", item.span,
                               "put positional arguments first", kind="syntax")
                args.append(item)
        return tuple(args), tuple(keywords)

    def arg(self, value: ast.Expr) -> ast.Expr:
        return value

    def kwarg(self, name: ast.Expr, value: ast.Expr) -> ast.Keyword:
        if not isinstance(name, ast.Name):
            raise _err(codes.E007, "a keyword argument must be a plain name", name.span,
                       "write name=value; use '==' to compare", kind="syntax")
        return node(ast.Keyword, span(name, value), name.id, value)

    def genexp_arg(self, elt: ast.Expr, generators: tuple) -> ast.Expr:
        return node(ast.ListComp, span(elt, generators[-1]), elt, generators, True)

    def star_arg(self, tok: Token, value: ast.Expr) -> Any:
        raise _err(codes.E021, f"'{tok}' unpacking in calls is not allowed", span(tok, value),
                   "pass the arguments one by one")

    def subscript(self, value: ast.Expr, index: tuple, rsqb: Token) -> ast.Expr:
        return node(ast.Subscript, span(value, rsqb), value, index)

    def subscripts(self, *items: Any) -> tuple:
        return items

    def slice(self, lower: Any, colon: Token, upper: Any, colon2: Any, step: Any) -> ast.Slice:
        last = step or colon2 or upper or colon
        return node(ast.Slice, span(lower or colon, last), lower, upper, step)

    def attribute(self, value: ast.Expr, name: Token) -> ast.Expr:
        return node(ast.Attribute, span(value, name), value, str(name), span(name))

    def empty_tuple(self, lpar: Token, rpar: Token) -> ast.Expr:
        return ast.TupleDisplay(span(lpar, rpar), (), True)

    def paren(self, _lpar: Token, inner: ast.Expr, _rpar: Token) -> ast.Expr:
        return inner

    def genexp(self, lpar: Token, elt: ast.Expr, generators: tuple, rpar: Token) -> ast.Expr:
        return node(ast.ListComp, span(lpar, rpar), elt, generators, True)

    def paren_tuple(self, lpar: Token, items: list, rpar: Token) -> ast.Expr:
        return node(ast.TupleDisplay, span(lpar, rpar), tuple(items), True)

    def list_display(self, lsqb: Token, items: Any, rsqb: Token) -> ast.Expr:
        return node(ast.ListDisplay, span(lsqb, rsqb), tuple(items or ()))

    def listcomp(self, lsqb: Token, elt: ast.Expr, generators: tuple, rsqb: Token) -> ast.Expr:
        return node(ast.ListComp, span(lsqb, rsqb), elt, generators, False)

    def dict_display(self, lbrace: Token, items: Any, rbrace: Token) -> ast.Expr:
        items = items or ()
        return node(ast.DictDisplay, span(lbrace, rbrace), tuple(k for k, _ in items),
                    tuple(v for _, v in items))

    def dict_items(self, *items: tuple) -> tuple:
        return items

    def dict_item(self, key: ast.Expr, value: ast.Expr) -> tuple:
        return key, value

    def dict_unpack(self, tok: Token, value: ast.Expr) -> Any:
        raise _err(codes.E021, "'**' unpacking in dict displays is not allowed", span(tok, value),
                   "build the dict with a loop or dict(...)")

    def dictcomp(self, lbrace: Token, key: ast.Expr, value: ast.Expr, generators: tuple,
                 rbrace: Token) -> ast.Expr:
        return node(ast.DictComp, span(lbrace, rbrace), key, value, generators)

    def set_display(self, lbrace: Token, _items: Any, rbrace: Token) -> Any:
        raise _err(codes.E041, "set displays are not supported", span(lbrace, rbrace),
                   "use a list (and 'in' to test membership)")

    def tuple_items(self, *items: ast.Expr) -> list:
        return list(items)

    list_items = tuple_items
    set_items = tuple_items

    def star_expr(self, tok: Token, value: ast.Expr) -> Any:
        raise _err(codes.E021, "starred expressions ('*x') are not allowed", span(tok, value),
                   "index the elements, or concatenate lists with '+'")

    def comp_for(self, *clauses: ast.Comprehension) -> tuple:
        return clauses

    def comp_clause(self, tok: Token, target: ast.Expr, _in: Token, iterable: ast.Expr, *ifs: ast.Expr) -> ast.Comprehension:
        last = ifs[-1] if ifs else iterable
        return node(ast.Comprehension, span(tok, last), target, iterable, tuple(ifs))

    def comp_if(self, _tok: Token, test: ast.Expr) -> ast.Expr:
        return test

    def target_tuple(self, *items: ast.Expr) -> ast.Expr:
        return node(ast.TupleDisplay, span(items[0], items[-1]), tuple(items), False)

    testlist_star_tuple = target_tuple
    testlist_tuple = target_tuple

    # --- atoms --------------------------------------------------------------------------

    def name(self, tok: Token) -> ast.Expr:
        return ast.Name(span(tok), str(tok))

    def number(self, tok: Token) -> ast.Expr:
        text = str(tok)
        where = span(tok)
        limits = P.current().limits
        if any(c in text for c in ".eE") and not text[:2].lower() == "0x":
            value: Any = float(text.replace("_", ""))
            if math.isinf(value):
                raise CompileError(codes.E403, f"float literal {text} is too large", where, kind="limit")
            return ast.Constant(where, value)
        if len(text) > 1 and text[0] == "0" and text[1].isdigit() and text.strip("0_"):
            raise _err(codes.E001, "leading zeros are not allowed in a decimal integer", where,
                       "write the number without leading zeros", kind="syntax")
        value = P.int_literal_ok(text, limits)
        if value is None:
            raise CompileError(codes.E403, f"integer literal is larger than {limits.max_int_bits} bits",
                               where, kind="limit", hint="use a smaller number")
        return ast.Constant(where, value)

    def strings(self, *toks: Token) -> ast.Expr:
        parts: list[Any] = []
        any_f = False
        for tok in toks:
            is_f, pieces = string_literal(tok)
            any_f = any_f or is_f
            for piece in pieces:
                if isinstance(piece, str) and parts and isinstance(parts[-1], str):
                    parts[-1] += piece
                else:
                    parts.append(piece)
        where = span(toks[0], toks[-1])
        limit = P.current().limits.max_sequence_length
        if sum(len(p) for p in parts if isinstance(p, str)) > limit:
            raise CompileError(codes.E405, f"string literal longer than {limit} characters", where,
                               kind="limit")
        if not any_f:
            return ast.Constant(where, parts[0] if parts else "")
        parts = [p for p in parts if p != ""]
        return node(ast.FString, where, tuple(parts))

    def const_none(self, tok: Token) -> ast.Expr:
        return ast.Constant(span(tok), None)

    def const_true(self, tok: Token) -> ast.Expr:
        return ast.Constant(span(tok), True)

    def const_false(self, tok: Token) -> ast.Expr:
        return ast.Constant(span(tok), False)

    def ellipsis(self, tok: Token) -> Any:
        raise _err(codes.E043, "'...' is not allowed", span(tok), "write 'pass' for an empty body")


def _no_loop_else(orelse: Any) -> None:
    if orelse is not None:
        tok, _body = orelse
        raise _err(codes.E038, "'else' on a loop is not allowed", span(tok),
                   "set a flag in the loop and test it after the loop")


def _flatten(items: Any) -> tuple[ast.Stmt, ...]:
    out: list[ast.Stmt] = []
    for item in items:
        if isinstance(item, list):
            out.extend(item)
        elif item is not None:
            out.append(item)
    return tuple(out)

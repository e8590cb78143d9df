"""A small IR-to-source emitter for the programs `capc.testing.policies` builds.

The front end's printer (`capc.compiler.printer.to_source`) is the reference printer and is
what the round-trip property tests; this emitter exists so that the policy generator does
not depend on the printer it helps to test. It parenthesises every nested operator (the
generated programs are read by a parser, not by people, and redundant parentheses cannot
change their meaning).
"""

from __future__ import annotations

from capc.compiler import ir
from capc.compiler.lib_shapely import GEOMETRY_PROPERTIES

INDENT = "    "


def emit_program(body: tuple[ir.Stmt, ...]) -> str:
    lines: list[str] = []
    for stmt in body:
        _stmt(stmt, 0, lines)
    return "\n".join(lines) + "\n"


def _stmt(stmt: ir.Stmt, depth: int, out: list[str]) -> None:
    pad = INDENT * depth
    if isinstance(stmt, ir.Assign):
        out.append(pad + " = ".join(_target(t) for t in stmt.targets) + " = " + expr(stmt.value))
    elif isinstance(stmt, ir.AugAssign):
        out.append(f"{pad}{_target(stmt.target)} {stmt.op}= {expr(stmt.value)}")
    elif isinstance(stmt, ir.ExprStmt):
        out.append(pad + expr(stmt.value))
    elif isinstance(stmt, ir.If):
        out.append(f"{pad}if {expr(stmt.test)}:")
        _block(stmt.body, depth + 1, out)
        if stmt.orelse:
            out.append(f"{pad}else:")
            _block(stmt.orelse, depth + 1, out)
    elif isinstance(stmt, ir.For):
        out.append(f"{pad}for {_target(stmt.target)} in {expr(stmt.iter)}:")
        _block(stmt.body, depth + 1, out)
    elif isinstance(stmt, ir.While):
        out.append(f"{pad}while {expr(stmt.test)}:")
        _block(stmt.body, depth + 1, out)
    elif isinstance(stmt, ir.FunctionDef):
        params = ", ".join(p.name if p.default is None else f"{p.name}={expr(p.default)}"
                           for p in stmt.params)
        out.append(f"{pad}def {stmt.name}({params}):")
        _block(stmt.body, depth + 1, out)
    elif isinstance(stmt, ir.Return):
        out.append(pad + "return" + ("" if stmt.value is None else " " + expr(stmt.value)))
    elif isinstance(stmt, (ir.Break, ir.Continue, ir.Pass)):
        out.append(pad + type(stmt).__name__.lower())
    else:
        raise TypeError(f"cannot emit statement {type(stmt).__name__}")


def _block(body: tuple[ir.Stmt, ...], depth: int, out: list[str]) -> None:
    for stmt in body or (ir.Pass(None),):
        _stmt(stmt, depth, out)


def _target(target: ir.Target) -> str:
    if isinstance(target, ir.NameTarget):
        return target.id
    if isinstance(target, ir.TupleTarget):
        return "(" + ", ".join(_target(t) for t in target.elts) + ("," if len(target.elts) == 1 else "") + ")"
    if isinstance(target, ir.SubscriptTarget):
        return f"{expr(target.value)}[{_index(target.index)}]"
    raise TypeError(f"cannot emit target {type(target).__name__}")


_COMPOUND = (ir.BinOp, ir.UnaryOp, ir.BoolOp, ir.Compare, ir.IfExp, ir.Lambda)


def _sub(e: ir.Expr) -> str:
    text = expr(e)
    return f"({text})" if isinstance(e, _COMPOUND) else text


def expr(e: ir.Expr) -> str:
    if isinstance(e, ir.Const):
        return repr(e.value)
    if isinstance(e, ir.Name):
        return e.id
    if isinstance(e, ir.ListExpr):
        return "[" + ", ".join(expr(x) for x in e.elts) + "]"
    if isinstance(e, ir.TupleExpr):
        return "(" + ", ".join(expr(x) for x in e.elts) + ("," if len(e.elts) == 1 else "") + ")"
    if isinstance(e, ir.DictExpr):
        return "{" + ", ".join(f"{expr(k)}: {expr(v)}" for k, v in zip(e.keys, e.values)) + "}"
    if isinstance(e, ir.BinOp):
        return f"{_sub(e.left)} {e.op} {_sub(e.right)}"
    if isinstance(e, ir.UnaryOp):
        return f"{e.op}{' ' if e.op == 'not' else ''}{_sub(e.operand)}"
    if isinstance(e, ir.BoolOp):
        return f" {e.op} ".join(_sub(v) for v in e.values)
    if isinstance(e, ir.Compare):
        parts = [_sub(e.operands[0])]
        for op, operand in zip(e.ops, e.operands[1:]):
            parts += [op, _sub(operand)]
        return " ".join(parts)
    if isinstance(e, ir.IfExp):
        return f"{_sub(e.body)} if {_sub(e.test)} else {_sub(e.orelse)}"
    if isinstance(e, ir.Call):
        return _call(e)
    if isinstance(e, ir.Subscript):
        return f"{_sub(e.value)}[{_index(e.index)}]"
    if isinstance(e, ir.ListComp):
        gens = "".join(f" for {_target(g.target)} in {_sub(g.iter)}" + "".join(f" if {_sub(c)}" for c in g.ifs)
                       for g in e.generators)
        return ("(" if e.generator else "[") + expr(e.elt) + gens + (")" if e.generator else "]")
    if isinstance(e, ir.Lambda):
        return f"lambda {', '.join(e.params)}: {expr(e.body)}"
    if isinstance(e, ir.FString):
        return _fstring(e)
    raise TypeError(f"cannot emit expression {type(e).__name__}")


def _call(e: ir.Call) -> str:
    args = [expr(a) for a in e.args]
    if e.kind == ir.CALL_METHOD:
        receiver, args = _sub(e.args[0]), args[1:]
        head = f"{receiver}.{e.callee}"
        if not args and not e.keywords and e.callee in GEOMETRY_PROPERTIES:
            return head  # `line.coords`: an attribute, lowered to a zero-argument method call
    elif e.kind == ir.CALL_NUMPY:
        head = f"np.{e.callee}"
    else:
        head = e.callee
    args += [f"{k.name}={expr(k.value)}" for k in e.keywords]
    return f"{head}({', '.join(args)})"


def _index(index: tuple) -> str:
    parts = []
    for item in index:
        if isinstance(item, ir.Slice):
            text = ":".join("" if x is None else expr(x) for x in (item.lower, item.upper))
            parts.append(text + ("" if item.step is None else ":" + expr(item.step)))
        else:
            parts.append(expr(item))
    return ", ".join(parts)


def _fstring(e: ir.FString) -> str:
    body = []
    for part in e.parts:
        if isinstance(part, str):
            body.append(part.replace("{", "{{").replace("}", "}}"))
        else:
            conv = f"!{part.conversion}" if part.conversion else ""
            spec = f":{part.format_spec}" if part.format_spec else ""
            body.append("{" + expr(part.value) + conv + spec + "}")
    return "f" + repr("".join(body))

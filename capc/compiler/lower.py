"""AST -> typed IR: name resolution, scoping, call resolution and type inference.

Scoping follows Python where the language keeps Python's behaviour:
* a name assigned anywhere in a scope belongs to that scope (reading it before the first
  assignment is allowed statically, with type unknown, as in a loop that sets it later);
* comprehensions and lambdas see the enclosing scope (lambdas capture by reference, as in
  Python, so a sort key can use a variable of the policy);
* a helper `def` sees only its parameters, its locals, the other defs, the API and library,
  and module constants (names bound exactly once at top level to a literal). Reading any
  other module variable is refused (E032): a def is then a pure function of its arguments
  and the world, which is what lets the verifier summarise it.
Defs may be called before the line that defines them (they are hoisted); recursion, direct
or mutual, is refused (E025) because every call must unroll to a bounded trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from capc import codes
from capc.compiler import ir
from capc.compiler import typecheck as tc
from capc.compiler.library import (
    ARRAY_PROPERTIES, ARRAY_TRANSPOSE, ALL_METHOD_NAMES, BUILTINS, METHODS, NUMPY_CONSTANTS, NUMPY_FUNCTIONS, NUMPY_MODULES,
    NUMPY_SUBMODULES, receiver_kind,
)
from capc.compiler.lib_shapely import GEOMETRY_FUNCTIONS, GEOMETRY_METHODS, GEOMETRY_PROPERTIES
from capc.compiler.registry import RobotProfile
from capc.compiler.types import (
    Array, OneOf, BOOL, DictT, FLOAT, FuncT, Geometry, INT, ListT, NONE, STR, TupleT, Type, UNKNOWN, Unknown, join,
)
from capc.diagnostics import CompileError, Span
from capc.grammar import ast
from capc.limits import ResourceLimits

# Python builtins that are harmless but not part of the language: a call to one of them is
# E033 ("not part of the policy language"), not an undefined helper for the LLM to write.
# (The dangerous ones are refused earlier, wherever they appear: capc.grammar.subset.)
PYTHON_BUILTINS = frozenset((
    "aiter", "anext", "ascii", "bin", "chr", "complex", "copyright", "credits", "divmod",
    "filter", "format", "frozenset", "hash", "hex", "license", "map", "oct", "ord", "pow",
    "repr", "set", "slice", "Exception", "ValueError", "TypeError", "KeyError", "IndexError",
    "RuntimeError", "NotImplemented", "Ellipsis", "BaseException", "StopIteration",
))
_MAX_LOOP_PASSES = 3


def _err(code: str, message: str, span: Span, hint: str | None = None, kind: str = "subset") -> CompileError:
    return CompileError(code, message, span, kind=kind, hint=hint)


def _suggest(name: str, candidates: Iterable[str]) -> str | None:
    import difflib  # only on the error path

    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return f"did you mean '{close[0]}'?" if close else None


# At most this many errors are collected before checking stops.
MAX_ERRORS = 20


class CompileErrors(CompileError):
    """Several independent errors of one program. It *is* the first of them (code, span,
    diagnostic), so code that handles one CompileError needs no change; `diagnostics` has
    all of them in source order."""

    def __init__(self, errors: Iterable[CompileError]):
        ordered = sorted(errors, key=lambda e: _position(e.span))
        first = ordered[0].diagnostic
        super().__init__(first.code, first.message, first.span, kind=first.kind, hint=first.hint,
                         notes=first.notes)
        self.diagnostics = [e.diagnostic for e in ordered]


def _position(span: Span | None) -> tuple:
    return (0, "", 0, 0) if span is None else (1, span.file, span.line, span.col)


# --- which names a scope binds ---------------------------------------------------------------

def target_names(target: ast.Expr) -> Iterable[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.TupleDisplay, ast.ListDisplay)):
        for elt in target.elts:
            yield from target_names(elt)


def assigned_names(body: Iterable[ast.Stmt]) -> set[str]:
    """Names a block binds (Python's rule for what is local to a scope)."""
    names: set[str] = set()
    for stmt in body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                names.update(target_names(target))
        elif isinstance(stmt, ast.AugAssign):
            names.update(target_names(stmt.target))
        elif isinstance(stmt, ast.For):
            names.update(target_names(stmt.target))
            names |= assigned_names(stmt.body)
        elif isinstance(stmt, ast.While):
            names |= assigned_names(stmt.body)
        elif isinstance(stmt, ast.If):
            names |= assigned_names(stmt.body) | assigned_names(stmt.orelse)
    return names


def module_constants(body: Iterable[ast.Stmt]) -> dict[str, ast.Expr]:
    """Top-level names bound exactly once, directly, to an immutable literal."""
    counts: dict[str, int] = {}
    values: dict[str, ast.Expr] = {}

    def count(stmts: Iterable[ast.Stmt], direct: bool) -> None:
        for stmt in stmts:
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    for name in target_names(target):
                        counts[name] = counts.get(name, 0) + 1
                    if direct and isinstance(target, ast.Name) and _is_literal(stmt.value):
                        values[target.id] = stmt.value
            elif isinstance(stmt, ast.AugAssign):
                for name in target_names(stmt.target):
                    counts[name] = counts.get(name, 0) + 2
            elif isinstance(stmt, ast.For):
                for name in target_names(stmt.target):
                    counts[name] = counts.get(name, 0) + 2
                count(stmt.body, False)
            elif isinstance(stmt, ast.While):
                count(stmt.body, False)
            elif isinstance(stmt, ast.If):
                count(stmt.body, False)
                count(stmt.orelse, False)

    count(body, True)
    return {name: value for name, value in values.items() if counts.get(name) == 1}


def _is_literal(expr: ast.Expr) -> bool:
    if isinstance(expr, ast.Constant):
        return True
    if isinstance(expr, ast.UnaryOp) and expr.op in "-+":
        return isinstance(expr.operand, ast.Constant) and type(expr.operand.value) in (int, float)
    if isinstance(expr, ast.TupleDisplay):
        return all(_is_literal(e) for e in expr.elts)
    return False


def referenced_names(node: Any) -> list[tuple[str, Span]]:
    """(name, span) of every name a def body mentions, called or not (lambdas included):
    a def passed as a value (`key=f`, `{'g': f}`) can be called back, so for recursion a
    reference counts as a call."""
    found: list[tuple[str, Span]] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Call) and isinstance(item.func, ast.Name):
            found.append((item.func.id, item.span))
            stack.extend(item.args)
            stack.extend(item.keywords)
            continue
        if isinstance(item, ast.Name):
            found.append((item.id, item.span))
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, ast.Node):
            for value in vars(item).values():
                if isinstance(value, (ast.Node, list, tuple)):
                    stack.append(value)
    return found


# --- scopes ----------------------------------------------------------------------------------

@dataclass
class Scope:
    kind: str                          # module | function | lambda | comprehension
    parent: "Scope | None"
    declared: set[str]                 # names this scope binds somewhere
    types: dict[str, Type] = field(default_factory=dict)

    def find(self, name: str) -> "Scope | None":
        scope: Scope | None = self
        while scope is not None:
            if name in scope.declared or name in scope.types:
                return scope
            if scope.kind == "function":
                return None  # defs do not see the module's variables
            scope = scope.parent
        return None


@dataclass
class DefInfo:
    node: ast.FunctionDef
    file: str
    lowered: ir.FunctionDef | None = None


# --- the lowerer -----------------------------------------------------------------------------

class Lowerer:
    def __init__(self, profile: RobotProfile, limits: ResourceLimits):
        self.profile = profile
        self.limits = limits
        self.defs: dict[str, DefInfo] = {}
        self.constants: dict[str, ast.Expr] = {}
        self.module_names: set[str] = set()
        self.undefined: list[ir.UndefinedCall] = []
        self.scope = Scope("module", None, set())
        self.loop_depth = 0
        self.in_function: str | None = None
        self.lambda_depth = 0
        self.errors: dict[tuple, CompileError] = {}

    # --- program ------------------------------------------------------------------------

    def program(self, module: ast.Module, helpers: Iterable[ast.Module] = ()) -> ir.Program:
        for source in (module, *helpers):
            for stmt in source.body:
                if isinstance(stmt, ast.FunctionDef):
                    self._declare_def(stmt, source.file)
                elif source is not module:
                    raise _err(codes.E045, "a helper may only contain function definitions", stmt.span,
                               "put statements inside the def")
        self.constants = module_constants(module.body)
        self.module_names = assigned_names(module.body)
        for name in self.module_names:
            self._check_bindable(name, self._first_binding(module.body, name))
        for name in self._def_order():
            self._lower_def(self.defs[name])
        self.scope = Scope("module", None, set(self.module_names))
        body = tuple(self.block(module.body))
        if self.errors:
            raise CompileErrors(self.errors.values())
        functions = {name: info.lowered for name, info in self.defs.items()}
        return ir.Program(module.file, module.source, body, functions, tuple(self.undefined),
                          self.profile.name)

    def _first_binding(self, body: Iterable[ast.Stmt], name: str) -> Span:
        for stmt in body:
            for node in _walk_targets(stmt):
                if isinstance(node, ast.Name) and node.id == name:
                    return node.span
        return Span.point("<policy>", 1, 1)

    def _reserved_kind(self, name: str) -> str | None:
        if self.profile.primitive(name) is not None:
            return "a robot API function"
        if name in BUILTINS:
            return "a builtin function"
        if name in NUMPY_MODULES:
            return "the numpy module"
        if name in self.defs:
            return "a function defined in this program"
        return None

    def _check_bindable(self, name: str, span: Span) -> None:
        what = self._reserved_kind(name)
        if what is not None:
            raise _err(codes.E111, f"cannot assign to '{name}': it is {what}", span,
                       "choose another variable name", kind="type")

    def _declare_def(self, node: ast.FunctionDef, file: str) -> None:
        if node.name in self.defs:
            raise _err(codes.E028, f"function '{node.name}' is defined twice", node.name_span,
                       "give each helper its own name")
        if self.profile.primitive(node.name) is not None or node.name in BUILTINS or node.name in NUMPY_MODULES:
            what = "a robot API function" if self.profile.primitive(node.name) else "a builtin"
            raise _err(codes.E028, f"cannot define '{node.name}': it is {what}", node.name_span,
                       "choose another name for the helper")
        self.defs[node.name] = DefInfo(node, file)

    def _def_order(self) -> list[str]:
        """Callees before callers; a cycle is recursion (E025). Iterative depth-first search:
        a hostile chain of a thousand defs must not hit Python's recursion limit."""
        order: list[str] = []
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        edges = {name: [(callee, span) for callee, span in referenced_names(info.node.body)
                        if callee in self.defs]
                 for name, info in self.defs.items()}
        for root in self.defs:
            if root in state:
                continue
            state[root] = 1
            path: list[tuple[str, int]] = [(root, 0)]  # (def, index of the next edge to follow)
            while path:
                name, i = path[-1]
                if i == len(edges[name]):
                    path.pop()
                    state[name] = 2
                    order.append(name)
                    continue
                path[-1] = (name, i + 1)
                callee, span = edges[name][i]
                if state.get(callee) == 1:
                    cycle = [n for n, _ in path] + [callee]
                    cycle = cycle[cycle.index(callee):]
                    if len(cycle) > 8:
                        cycle = cycle[:4] + [f"... {len(cycle) - 6} more ..."] + cycle[-2:]
                    chain = " -> ".join(cycle)
                    kind = "calls itself" if callee == name else f"is recursive ({chain})"
                    raise _err(codes.E025, f"function '{callee}' {kind}", span,
                               "policies must terminate in a bounded number of steps: use a loop")
                if callee not in state:
                    state[callee] = 1
                    path.append((callee, 0))
        return order

    def _lower_def(self, info: DefInfo) -> None:
        node = info.node
        declared = assigned_names(node.body) | {p.name for p in node.params}
        scope = Scope("function", None, declared)
        params = []
        # Defaults see what the body sees (module constants, defs, the API), nothing else.
        self.in_function = node.name
        for p in node.params:
            self._check_bindable(p.name, p.span)
            default = None
            if p.default is not None:
                self.scope = Scope("function", None, set())
                default = self.expr(p.default)
            params.append(ir.Param(p.name, default, UNKNOWN, p.span))
            scope.types[p.name] = UNKNOWN
        for name in declared:
            self._check_bindable(name, node.span)
        self.scope, self.in_function, self.loop_depth = scope, node.name, 0
        self.returns: list[Type] = []
        body = tuple(self.block(node.body))
        result = NONE
        if self.returns:
            result = self.returns[0]
            for r in self.returns[1:]:
                result = join(result, r)
        info.lowered = ir.FunctionDef(node.span, node.name, tuple(params), body, result)
        self.in_function = None

    # --- statements ---------------------------------------------------------------------

    def block(self, stmts: Iterable[ast.Stmt]) -> list[ir.Stmt]:
        out = []
        for stmt in stmts:
            try:
                lowered = self.stmt(stmt)
            except CompileError as exc:
                self._recover(exc, stmt)
                continue
            if lowered is not None:
                out.append(lowered)
        return out

    def _recover(self, exc: CompileError, stmt: ast.Stmt) -> None:
        """Note the error and go on with the next statement, so that one check reports every
        independent problem (the repair prompt can fix them at once). What the failed
        statement would have bound becomes unknown, so its error does not cascade."""
        self.errors.setdefault((exc.code, exc.span), exc)
        if len(self.errors) >= MAX_ERRORS:
            raise CompileErrors(self.errors.values())
        for name in assigned_names([stmt]):
            self.scope.types[name] = UNKNOWN
        if self.in_function is not None and _may_return(stmt):
            self.returns.append(UNKNOWN)  # a return that failed to check: not None for the callers

    def stmt(self, s: ast.Stmt) -> ir.Stmt | None:
        method = getattr(self, "stmt_" + type(s).__name__)
        return method(s)

    def stmt_FunctionDef(self, s: ast.FunctionDef) -> ir.Stmt:
        info = self.defs.get(s.name)
        if self.in_function is not None or info is None or info.node is not s:
            raise _err(codes.E009, "functions can only be defined at the top level", s.name_span,
                       "move the def to the top level and pass what it needs as arguments")
        return self.defs[s.name].lowered

    def stmt_Assign(self, s: ast.Assign) -> ir.Stmt:
        value = self.expr(s.value)
        targets = tuple(self.target(t, value.type) for t in s.targets)
        return ir.Assign(s.span, targets, value)

    def stmt_AugAssign(self, s: ast.AugAssign) -> ir.Stmt:
        if not isinstance(s.target, (ast.Name, ast.Subscript)):
            raise _err(codes.E007, "augmented assignment needs a name or a subscript", s.target.span, kind="syntax")
        current = self.expr(s.target)
        value = self.expr(s.value)
        result = tc.binop(s.op, current, value, s.span)
        if isinstance(s.target, ast.Name):
            target: ir.Target = ir.NameTarget(s.target.span, s.target.id, result)
            self._bind(s.target.id, result, s.target.span)
        else:
            target = self.target(s.target, result)
        return ir.AugAssign(s.span, target, s.op, value)

    def stmt_ExprStmt(self, s: ast.ExprStmt) -> ir.Stmt:
        return ir.ExprStmt(s.span, self.expr(s.value))

    def stmt_If(self, s: ast.If) -> ir.Stmt:
        test = self.expr(s.test)
        before = dict(self.scope.types)
        body = tuple(self.block(s.body))
        after_body = self.scope.types
        self.scope.types = dict(before)
        orelse = tuple(self.block(s.orelse))
        self.scope.types = _merge(after_body, self.scope.types)
        return ir.If(s.span, test, body, orelse)

    def _loop(self, lower_once) -> Any:
        """Lower a loop body until the variable types it changes are stable."""
        self.loop_depth += 1
        try:
            for attempt in range(_MAX_LOOP_PASSES):
                before = dict(self.scope.types)
                result = lower_once()
                merged = _merge(before, self.scope.types)
                self.scope.types = merged
                if merged == before:
                    return result
            # Still changing (e.g. a list that nests itself): give up precision, keep soundness.
            for name, t in list(self.scope.types.items()):
                if before.get(name) != t:
                    self.scope.types[name] = UNKNOWN
            return lower_once()
        finally:
            self.loop_depth -= 1

    def stmt_For(self, s: ast.For) -> ir.Stmt:
        iterable = self.expr(s.iter)
        elem = tc.iteration(iterable)

        def once():
            target = self.target(s.target, elem)
            return target, tuple(self.block(s.body))

        target, body = self._loop(once)
        return ir.For(s.span, target, iterable, body)

    def stmt_While(self, s: ast.While) -> ir.Stmt:
        def once():
            return self.expr(s.test), tuple(self.block(s.body))

        test, body = self._loop(once)
        return ir.While(s.span, test, body)

    def stmt_Break(self, s: ast.Break) -> ir.Stmt:
        if not self.loop_depth:
            raise _err(codes.E008, "'break' outside a loop", s.span, kind="syntax")
        return ir.Break(s.span)

    def stmt_Continue(self, s: ast.Continue) -> ir.Stmt:
        if not self.loop_depth:
            raise _err(codes.E008, "'continue' outside a loop", s.span, kind="syntax")
        return ir.Continue(s.span)

    def stmt_Pass(self, s: ast.Pass) -> ir.Stmt:
        return ir.Pass(s.span)

    def stmt_Return(self, s: ast.Return) -> ir.Stmt:
        if self.in_function is None:
            raise _err(codes.E008, "'return' outside a function", s.span, kind="syntax",
                       hint="a policy ends when its last statement has run")
        value = self.expr(s.value) if s.value is not None else None
        self.returns.append(value.type if value is not None else NONE)
        return ir.Return(s.span, value)

    # --- assignment targets ---------------------------------------------------------------

    def target(self, t: ast.Expr, value_type: Type) -> ir.Target:
        if isinstance(t, ast.Name):
            self._bind(t.id, value_type, t.span)
            return ir.NameTarget(t.span, t.id, value_type)
        if isinstance(t, (ast.TupleDisplay, ast.ListDisplay)):
            types = tc.unpack(value_type, len(t.elts), t.span)
            return ir.TupleTarget(t.span, tuple(self.target(e, ty) for e, ty in zip(t.elts, types)))
        if isinstance(t, ast.Subscript):
            container = self.expr(t.value)
            index = self.index(t.index)
            tc.subscript(container, index, t.span)
            if isinstance(container.type, (TupleT,)) or container.type in (STR,):
                raise tc.type_error(codes.E107, f"{container.type.show()} does not support item assignment",
                                    t.span, "build a new value instead")
            return ir.SubscriptTarget(t.span, container, index)
        if isinstance(t, ast.Attribute):
            raise _err(codes.E011, f"cannot assign to attribute '{t.attr}'", t.span,
                       "only plain names and subscripts can be assigned")
        raise _err(codes.E007, "cannot assign to this expression", t.span,
                   "the left of '=' must be a name, a subscript or a tuple of those", kind="syntax")

    def _bind(self, name: str, t: Type, span: Span) -> None:
        scope = self.scope
        if name not in scope.declared:
            # comprehension/lambda targets are declared where they are bound
            scope.declared.add(name)
        self._check_bindable(name, span)
        scope.types[name] = bounded(t)

    # --- expressions ----------------------------------------------------------------------

    def expr(self, e: ast.Expr) -> ir.Expr:
        return getattr(self, "expr_" + type(e).__name__)(e)

    def expr_Constant(self, e: ast.Constant) -> ir.Expr:
        return ir.Const(e.span, _const_type(e.value), e.value)

    def expr_Name(self, e: ast.Name) -> ir.Expr:
        scope = self.scope.find(e.id)
        if scope is not None:
            if (e.id not in scope.types and not self.loop_depth and not self.lambda_depth
                    and scope.kind in ("module", "function")):
                raise _err(codes.E121, f"name '{e.id}' is used before it is assigned", e.span,
                           "assign it first", kind="type")
            return ir.Name(e.span, scope.types.get(e.id, UNKNOWN), e.id)
        if self.in_function is not None and e.id in self.constants:
            saved = self.scope
            self.scope = Scope("module", None, set())
            value = self.expr(self.constants[e.id])
            self.scope = saved
            return ir.Name(e.span, value.type, e.id)
        if self.in_function is not None and e.id in self.module_names:
            raise _err(codes.E032, f"function '{self.in_function}' reads the module variable '{e.id}'", e.span,
                       f"pass '{e.id}' to the function as an argument", kind="type")
        if e.id in self.defs:
            info = self.defs[e.id]
            result = info.lowered.returns if info.lowered is not None else UNKNOWN
            return ir.Name(e.span, FuncT(tuple(UNKNOWN for _ in info.node.params), result), e.id)
        if e.id in BUILTINS:
            return ir.Name(e.span, FuncT((UNKNOWN,), UNKNOWN), e.id)
        if self.profile.primitive(e.id) is not None:
            raise _err(codes.E034, f"robot API function '{e.id}' can only be called, not used as a value",
                       e.span, "call it directly so that every motion can be checked", kind="type")
        if e.id in NUMPY_MODULES:
            raise _err(codes.E011, f"'{e.id}' can only be used as '{e.id}.<function>(...)'", e.span)
        if e.id in PYTHON_BUILTINS:
            raise _builtin_out(e.id, e.span)
        candidates = list(self._visible_names()) + list(self.profile.names()) + list(BUILTINS)
        raise _err(codes.E120, f"name '{e.id}' is not defined", e.span,
                   _suggest(e.id, candidates) or "assign it before using it", kind="type")

    def _visible_names(self) -> Iterable[str]:
        scope: Scope | None = self.scope
        while scope is not None:
            yield from scope.declared
            if scope.kind == "function":
                break
            scope = scope.parent
        yield from self.defs

    def expr_FString(self, e: ast.FString) -> ir.Expr:
        parts: list[Any] = []
        for part in e.parts:
            if isinstance(part, str):
                parts.append(part)
            else:
                parts.append(ir.FormatSpec(self.expr(part.value), part.conversion, part.format_spec))
        return ir.FString(e.span, STR, tuple(parts))

    def expr_ListDisplay(self, e: ast.ListDisplay) -> ir.Expr:
        elts = tuple(self.expr(x) for x in e.elts)
        return ir.ListExpr(e.span, bounded(ListT(_join_all(x.type for x in elts))), elts)

    def expr_TupleDisplay(self, e: ast.TupleDisplay) -> ir.Expr:
        elts = tuple(self.expr(x) for x in e.elts)
        return ir.TupleExpr(e.span, bounded(TupleT(tuple(x.type for x in elts))), elts)

    def expr_DictDisplay(self, e: ast.DictDisplay) -> ir.Expr:
        keys = tuple(self.expr(k) for k in e.keys)
        values = tuple(self.expr(v) for v in e.values)
        t = DictT(_join_all(k.type for k in keys), _join_all(v.type for v in values))
        return ir.DictExpr(e.span, bounded(t), keys, values)

    def expr_BinOp(self, e: ast.BinOp) -> ir.Expr:
        left, right = self.expr(e.left), self.expr(e.right)
        return ir.BinOp(e.span, bounded(tc.binop(e.op, left, right, e.span)), e.op, left, right)

    def expr_UnaryOp(self, e: ast.UnaryOp) -> ir.Expr:
        operand = self.expr(e.operand)
        if e.op in "-+" and isinstance(operand, ir.Const) and type(operand.value) in (int, float):
            # Signed literals are constants (the verifier and the printer prefer -0.1 to -(0.1)).
            value = -operand.value if e.op == "-" else operand.value
            return ir.Const(e.span, operand.type, value)
        return ir.UnaryOp(e.span, tc.unary(e.op, operand, e.span), e.op, operand)

    def expr_BoolOp(self, e: ast.BoolOp) -> ir.Expr:
        values = tuple(self.expr(v) for v in e.values)
        return ir.BoolOp(e.span, _join_all(v.type for v in values), e.op, values)

    def expr_Compare(self, e: ast.Compare) -> ir.Expr:
        operands = tuple(self.expr(o) for o in e.operands)
        return ir.Compare(e.span, tc.compare(operands, e.ops, e.span), operands, e.ops)

    def expr_IfExp(self, e: ast.IfExp) -> ir.Expr:
        test, body, orelse = self.expr(e.test), self.expr(e.body), self.expr(e.orelse)
        return ir.IfExp(e.span, join(body.type, orelse.type), test, body, orelse)

    def expr_Attribute(self, e: ast.Attribute) -> ir.Expr:
        path = _numpy_path(e)
        if path is not None and self._numpy_visible(e):
            if path in NUMPY_CONSTANTS:
                t, value = NUMPY_CONSTANTS[path]
                return ir.Const(e.span, t, value)
            if path in NUMPY_FUNCTIONS:
                raise _err(codes.E011, f"np.{path} can only be called", e.span, kind="type")
            raise _numpy_unknown(path, e)
        if e.attr in ARRAY_PROPERTIES:
            return self._array_property(e)
        if e.attr in GEOMETRY_PROPERTIES:
            return self._geometry_property(e)
        # An error inside the receiver comes first (source order): in `p.ctypes.data` the
        # diagnostic names `ctypes`, the first step out of the language.
        self.expr(e.value)
        raise _err(codes.E011, f"attribute '{e.attr}' is not allowed", e.attr_span,
                   "attributes are only allowed as numpy functions (np.mean(...)), list/dict/str "
                   "methods and the array properties " + ", ".join(f".{p}" for p in ARRAY_PROPERTIES))

    def _array_property(self, e: ast.Attribute) -> ir.Expr:
        """`pts.T` is np.transpose(pts); `pts.shape`, `.size`, `.ndim` are zero-argument
        method calls: attribute access as such never reaches the IR."""
        receiver = self.expr(e.value)
        if not isinstance(receiver.type, (Array, Unknown)):
            raise tc.type_error(codes.E106, f"{receiver.type.show()} has no attribute '{e.attr}'", e.attr_span,
                                "only numpy arrays have ." + ", .".join(ARRAY_PROPERTIES))
        if e.attr == ARRAY_TRANSPOSE:
            result = tc.check_library(NUMPY_FUNCTIONS["transpose"], "np.transpose", (receiver,), (), e.span)
            return ir.Call(e.span, result, ir.CALL_NUMPY, "transpose", (receiver,), ())
        result = tc.check_library(METHODS["array"][e.attr], f"array.{e.attr}", (), (), e.span, receiver=receiver)
        return ir.Call(e.span, result, ir.CALL_METHOD, e.attr, (receiver,), ())

    def _geometry_property(self, e: ast.Attribute) -> ir.Expr:
        """`line.coords`, `poly.area`, ...: zero-argument method calls, as array properties are."""
        receiver = self.expr(e.value)
        if not isinstance(receiver.type, (Geometry, Unknown)):
            raise tc.type_error(codes.E106, f"{receiver.type.show()} has no attribute '{e.attr}'", e.attr_span,
                                "only shapely geometries have ." + ", .".join(GEOMETRY_PROPERTIES))
        result = tc.check_library(GEOMETRY_METHODS[e.attr], f"geometry.{e.attr}", (), (), e.span,
                                  receiver=receiver)
        return ir.Call(e.span, result, ir.CALL_METHOD, e.attr, (receiver,), ())

    def _numpy_visible(self, e: ast.Attribute) -> bool:
        root = e
        while isinstance(root, ast.Attribute):
            root = root.value
        return isinstance(root, ast.Name) and self.scope.find(root.id) is None

    def expr_Subscript(self, e: ast.Subscript) -> ir.Expr:
        value = self.expr(e.value)
        index = self.index(e.index)
        return ir.Subscript(e.span, tc.subscript(value, index, e.span), value, index)

    def index(self, items: Iterable[Any]) -> tuple:
        out = []
        for item in items:
            if isinstance(item, ast.Slice):
                out.append(ir.Slice(*(None if p is None else self.expr(p) for p in (item.lower, item.upper, item.step)),
                                    item.span))
            else:
                out.append(self.expr(item))
        return tuple(out)

    def _comprehension(self, generators: tuple[ast.Comprehension, ...], element) -> tuple[Any, tuple]:
        """Lower generators in a new scope; `element()` lowers the element inside it."""
        outer = self.scope
        lowered = []
        first_iter = self.expr(generators[0].iter)
        self.scope = Scope("comprehension", outer, set())
        try:
            for i, gen in enumerate(generators):
                iterable = first_iter if i == 0 else self.expr(gen.iter)
                target = self.target(gen.target, tc.iteration(iterable))
                ifs = tuple(self.expr(c) for c in gen.ifs)
                lowered.append(ir.Comprehension(target, iterable, ifs))
            return element(), tuple(lowered)
        finally:
            self.scope = outer

    def expr_ListComp(self, e: ast.ListComp) -> ir.Expr:
        elt, gens = self._comprehension(e.generators, lambda: self.expr(e.elt))
        return ir.ListComp(e.span, bounded(ListT(elt.type)), elt, gens, e.generator)

    def expr_DictComp(self, e: ast.DictComp) -> ir.Expr:
        # {k: v for ...} is dict([(k, v) for ...]): one less construct for every consumer.
        def element():
            key, value = self.expr(e.key), self.expr(e.value)
            return ir.TupleExpr(e.key.span.cover(e.value.span), TupleT((key.type, value.type)), (key, value))
        pair, gens = self._comprehension(e.generators, element)
        comp = ir.ListComp(e.span, ListT(pair.type), pair, gens, False)
        return ir.Call(e.span, DictT(*pair.type.elems), ir.CALL_BUILTIN, "dict", (comp,), ())

    def expr_Lambda(self, e: ast.Lambda) -> ir.Expr:
        names = [p.name for p in e.params]
        if len(set(names)) != len(names):
            raise _err(codes.E039, "duplicate lambda parameter", e.span, kind="syntax")
        outer = self.scope
        self.scope = Scope("lambda", outer, set(names), {n: UNKNOWN for n in names})
        for p in e.params:
            self._check_bindable(p.name, p.span)
        self.lambda_depth += 1
        try:
            body = self.expr(e.body)
        finally:
            self.lambda_depth -= 1
            self.scope = outer
        return ir.Lambda(e.span, FuncT(tuple(UNKNOWN for _ in names), body.type), tuple(names), body)

    # --- calls -----------------------------------------------------------------------------

    def expr_Call(self, e: ast.Call) -> ir.Expr:
        func = e.func
        if isinstance(func, ast.Attribute):
            return self._attribute_call(e, func)
        if not isinstance(func, ast.Name):
            raise _err(codes.E105, "only named functions and methods can be called", func.span,
                       "assign the lambda to a name, or call the function directly", kind="type")
        name = func.id
        args = tuple(self.expr(a) for a in e.args)
        keywords = tuple(ir.Keyword(k.name, self.expr(k.value), k.span) for k in e.keywords)
        scope = self.scope.find(name)
        if scope is not None:
            t = scope.types.get(name, UNKNOWN)
            if not isinstance(t, (FuncT, Unknown)):
                raise tc.type_error(codes.E105, f"'{name}' is a {t.show()}, not a function", func.span)
            if self.lambda_depth:
                raise _err(codes.E025, f"a lambda may not call the function variable '{name}'", func.span,
                           "recursion through variables cannot be bounded; use a def")
            if self.in_function is not None and not isinstance(t, FuncT):
                raise _err(codes.E025, f"function '{self.in_function}' calls '{name}', whose function is "
                           "only known at run time", func.span,
                           "a helper may call other functions only by name (this keeps every call "
                           "chain finite)")
            if isinstance(t, FuncT) and len(args) > len(t.params):
                raise tc.type_error(codes.E101, f"{name}() takes {len(t.params)} arguments, got {len(args)}",
                                    args[len(t.params)].span)
            return ir.Call(e.span, tc.func_result(t), ir.CALL_LAMBDA, name, args, keywords)
        if name in self.defs:
            info = self.defs[name]
            tc.check_function(name, info.node.params, args, keywords, e.span)
            result = info.lowered.returns if info.lowered is not None else UNKNOWN
            return ir.Call(e.span, result, ir.CALL_USER, name, args, keywords)
        prim = self.profile.primitive(name)
        if prim is not None:
            result = tc.check_primitive(prim, args, keywords, e.span)
            return ir.Call(e.span, result, ir.CALL_API, name, args, keywords)
        if name in BUILTINS:
            result = tc.check_library(BUILTINS[name], name, args, keywords, e.span)
            return ir.Call(e.span, result, ir.CALL_BUILTIN, name, args, keywords)
        if name in GEOMETRY_FUNCTIONS:
            result = tc.check_library(GEOMETRY_FUNCTIONS[name], name, args, keywords, e.span)
            return ir.Call(e.span, result, ir.CALL_GEOMETRY, name, args, keywords)
        if name in PYTHON_BUILTINS:
            raise _builtin_out(name, func.span)
        if name in self.constants or name in self.module_names:
            raise _err(codes.E032, f"function '{self.in_function}' reads the module variable '{name}'",
                       func.span, f"pass '{name}' as an argument", kind="type")
        call = ir.UndefinedCall(name, e.span, len(args), tuple(k.name for k in keywords))
        if call not in self.undefined:  # a loop body is lowered twice (type fixpoint): once per site
            self.undefined.append(call)
        return ir.Call(e.span, UNKNOWN, ir.CALL_UNDEFINED, name, args, keywords)

    def _attribute_call(self, e: ast.Call, func: ast.Attribute) -> ir.Expr:
        path = _numpy_path(func)
        if path is not None and self._numpy_visible(func):
            fn = NUMPY_FUNCTIONS.get(path)
            if fn is None:
                raise _numpy_unknown(path, func)
            args = tuple(self.expr(a) for a in e.args)
            keywords = tuple(ir.Keyword(k.name, self.expr(k.value), k.span) for k in e.keywords)
            result = tc.check_library(fn, f"np.{path}", args, keywords, e.span)
            return ir.Call(e.span, result, ir.CALL_NUMPY, path, args, keywords)
        if func.attr == "format":
            raise _err(codes.E026, "str.format is not allowed", func.attr_span,
                       "format strings can reach attributes of their arguments; use an f-string: "
                       "f'{name} at {pos}'")
        receiver = self.expr(func.value)
        args = tuple(self.expr(a) for a in e.args)
        keywords = tuple(ir.Keyword(k.name, self.expr(k.value), k.span) for k in e.keywords)
        kind = receiver_kind(receiver.type)
        if func.attr in ARRAY_PROPERTIES:
            raise tc.type_error(codes.E106, f"'{func.attr}' is an attribute, not a method", func.attr_span,
                                f"write x.{func.attr} without parentheses")
        if func.attr not in ALL_METHOD_NAMES and not (func.attr in GEOMETRY_METHODS and kind in ("geometry", None)):
            raise _err(codes.E011, f"method '{func.attr}' is not allowed", func.attr_span,
                       _suggest(func.attr, ALL_METHOD_NAMES)
                       or "allowed methods: " + ", ".join(sorted(ALL_METHOD_NAMES)))
        if kind is None:
            if not isinstance(receiver.type, Unknown) and not _is_oneof(receiver.type):
                raise tc.type_error(codes.E106, f"{receiver.type.show()} has no method '{func.attr}'", func.attr_span)
            return ir.Call(e.span, UNKNOWN, ir.CALL_METHOD, func.attr, (receiver,) + args, keywords)
        fn = (GEOMETRY_METHODS if kind == "geometry" else METHODS.get(kind, {})).get(func.attr)
        if fn is None:
            raise tc.type_error(codes.E106, f"{receiver.type.show()} has no method '{func.attr}'", func.attr_span,
                                _methods_hint(kind))
        result = tc.check_library(fn, f"{kind}.{func.attr}", args, keywords, e.span, receiver=receiver)
        return ir.Call(e.span, result, ir.CALL_METHOD, func.attr, (receiver,) + args, keywords)


# --- helpers -------------------------------------------------------------------------------------

def _is_oneof(t: Type) -> bool:
    from capc.compiler.types import OneOf
    return isinstance(t, OneOf)


def _may_return(stmt: ast.Stmt) -> bool:
    """Does a statement hold a `return` (outside nested defs)?"""
    if isinstance(stmt, ast.Return):
        return True
    if isinstance(stmt, ast.FunctionDef):
        return False
    for value in vars(stmt).values():
        items = value if isinstance(value, (list, tuple)) else (value,)
        if any(isinstance(item, ast.Stmt) and _may_return(item) for item in items):
            return True
    return False


def _methods_hint(kind: str) -> str:
    return f"{kind} methods: " + ", ".join(sorted(GEOMETRY_METHODS if kind == "geometry" else METHODS.get(kind, {})))


def _numpy_path(e: ast.Attribute) -> str | None:
    """'linalg.norm' for np.linalg.norm, 'mean' for np.mean; None if not rooted at np."""
    parts = [e.attr]
    value = e.value
    while isinstance(value, ast.Attribute):
        parts.append(value.attr)
        value = value.value
    if isinstance(value, ast.Name) and value.id in NUMPY_MODULES:
        return ".".join(reversed(parts))
    return None


def _numpy_unknown(path: str, e: ast.Attribute) -> CompileError:
    """E011 at the first part of the dotted path that is not allowed: `random` in
    np.random.seed, `load` in np.load."""
    parts = path.split(".")
    if len(parts) > 1 and parts[0] not in NUMPY_SUBMODULES:
        inner = e
        for _ in parts[1:]:
            inner = inner.value  # type: ignore[assignment]
        return _err(codes.E011, f"np.{parts[0]} is not allowed", inner.attr_span,
                    "allowed numpy submodules: " + ", ".join(f"np.{m}" for m in NUMPY_SUBMODULES))
    hint = _suggest(path, list(NUMPY_FUNCTIONS) + list(NUMPY_CONSTANTS))
    if hint is None:
        hint = "allowed: " + ", ".join(sorted(NUMPY_FUNCTIONS)[:12]) + ", ... (see docs/language.md)"
    return _err(codes.E011, f"np.{path} is not an allowed numpy function", e.attr_span, hint)


def _builtin_out(name: str, span: Span) -> CompileError:
    return _err(codes.E033, f"builtin '{name}' is not part of the policy language", span,
                "allowed builtins: " + ", ".join(sorted(BUILTINS)))


def _const_type(value: Any) -> Type:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, str):
        return STR
    return NONE


def _join_all(types: Iterable[Type]) -> Type:
    result: Type | None = None
    for t in types:
        result = t if result is None else join(result, t)
    return result if result is not None else UNKNOWN


def _merge(a: Mapping[str, Type], b: Mapping[str, Type]) -> dict[str, Type]:
    out = dict(a)
    for name, t in b.items():
        out[name] = bounded(join(out[name], t)) if name in out else t
    return out


# Types are precision, not a budget: a type bigger than this many nodes is widened (never an
# error). Without the bound, `x = (x, x)` repeated doubles a type per line, and comparing or
# printing it takes exponential time.
TYPE_NODES = 48


def _exceeds(t: Type, limit: int) -> bool:
    """Does `t` have more than `limit` nodes (counting shared parts each time they occur)?
    Stops counting at the limit, so it costs O(limit) however big `t` is."""
    stack, count = [t], 0
    while stack:
        item = stack.pop()
        count += 1
        if count > limit:
            return True
        if isinstance(item, (ListT,)):
            stack.append(item.elem)
        elif isinstance(item, TupleT):
            stack.extend(item.elems)
        elif isinstance(item, DictT):
            stack.extend((item.key, item.value))
        elif isinstance(item, FuncT):
            stack.extend(item.params + (item.result,))
        elif isinstance(item, OneOf):
            stack.extend(item.options)
    return False


def bounded(t: Type) -> Type:
    """`t`, or a coarser type of the same kind when `t` is too big to handle cheaply."""
    if not _exceeds(t, TYPE_NODES):
        return t
    if isinstance(t, ListT):
        return ListT(UNKNOWN)
    if isinstance(t, DictT):
        return DictT(UNKNOWN, UNKNOWN)
    if isinstance(t, TupleT) and len(t.elems) < TYPE_NODES:
        return TupleT(tuple(UNKNOWN for _ in t.elems))
    return UNKNOWN


def _walk_targets(stmt: ast.Stmt) -> Iterable[ast.Expr]:
    if isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            yield from _flat_targets(target)
    elif isinstance(stmt, ast.AugAssign):
        yield from _flat_targets(stmt.target)
    elif isinstance(stmt, ast.For):
        yield from _flat_targets(stmt.target)
        for inner in stmt.body:
            yield from _walk_targets(inner)
    elif isinstance(stmt, (ast.While,)):
        for inner in stmt.body:
            yield from _walk_targets(inner)
    elif isinstance(stmt, ast.If):
        for inner in stmt.body + stmt.orelse:
            yield from _walk_targets(inner)


def _flat_targets(t: ast.Expr) -> Iterable[ast.Expr]:
    if isinstance(t, (ast.TupleDisplay, ast.ListDisplay)):
        for elt in t.elts:
            yield from _flat_targets(elt)
    else:
        yield t

"""The concrete semantics of the policy language: a step interpreter over the typed IR.

`Interpreter(program).run()` is a generator. Pure computation (arithmetic, numpy, builtins,
user defs, lambdas, comprehensions) happens inside it; every call that reaches outside the
program — a robot primitive, a sub-LMP, a function nobody defined — is *yielded* as a
`PrimitiveCall` and the driver (the runtime, the verifier's counterexample replay, a test)
answers it with `.send(result)`. So a run can be stepped, paused, traced and stopped between
any two calls, and the interpreter never touches a robot itself.

Policies are hostile input. Nothing here uses exec/eval/compile or looks attributes up by
name: every builtin, numpy function and method is an entry of an explicit table below, and
every way a policy could make the process allocate without bound (`[0] * n`, `'a' * n`,
`2 ** n`, `range(n)`, `np.zeros(n)`, broadcasting, string padding in f-strings, ...) is
checked against `ResourceLimits` *before* the allocation happens. Budgets that run out raise
`RuntimeStop` with an E42x code; errors of the policy itself (division by zero, index out of
range, a wrong argument to numpy) raise `RuntimeStop` E501 with the span of the expression.
"""

from __future__ import annotations

import math
import operator
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Generator, Iterable

from capc.lazy_numpy import np, np_functions as npf

from capc.compiler import costs, ir
from capc.compiler.profiles import get_profile
from capc.compiler.registry import Primitive
from capc.diagnostics import CapcError, Diagnostic, Span
from capc.limits import DEFAULT_LIMITS, ResourceLimits

# --- error codes of this module (catalogued in docs/errors.md, "Runtime") ---------------
E_POLICY_ERROR = "E501"       # the policy raised: division by zero, bad index, bad numpy call
E_BAD_PRIMITIVE_ARGS = "E502"  # a robot primitive called with arguments it cannot bind
E_STEP_BUDGET = "E420"
E_LOOP_BUDGET = "E421"
E_CALL_DEPTH = "E422"
E_SEQUENCE_LENGTH = "E423"
E_INT_SIZE = "E424"
E_WALL_CLOCK = "E425"
E_UNSUPPORTED = "E426"        # IR the interpreter does not know (only hand-built IR reaches it)

# How often (in steps) the wall clock is read: time.monotonic() costs more than a step.
_CLOCK_EVERY = 1024
CALL_STEPS = costs.CALL_STEPS  # what a call leaving the program costs (capc.compiler.costs)


class RuntimeStop(CapcError):
    """A run ended early: a budget ran out or the policy failed. `code` says which."""

    exit_code = 1

    def __init__(self, code: str, message: str, span: Span | None = None, *,
                 hint: str | None = None):
        kind = "limit" if code.startswith("E4") else "runtime"
        super().__init__(Diagnostic(code, message, span, kind, hint))


@dataclass(frozen=True)
class PrimitiveCall:
    """One call leaving the program. `primitive` is None for a call to an undefined
    function; then `name` is its name and `args` holds {"args": [...], "kwargs": {...}}."""

    primitive: Primitive | None
    args: dict[str, Any]
    span: Span
    index: int
    name: str = ""

    def __post_init__(self):
        if not self.name and self.primitive is not None:
            object.__setattr__(self, "name", self.primitive.name)


# --- values the interpreter creates -----------------------------------------------------

@dataclass(frozen=True)
class UserFunction:
    """A top-level `def` used as a value (e.g. `sorted(xs, key=my_key)`)."""

    definition: ir.FunctionDef

    def __repr__(self) -> str:
        return f"<function {self.definition.name}>"


@dataclass(frozen=True)
class Closure:
    """A lambda with the scope it was created in."""

    node: ir.Lambda
    env: "Env"

    def __repr__(self) -> str:
        return "<lambda>"


@dataclass(frozen=True)
class BuiltinValue:
    """A builtin used as a value (e.g. `sorted(names, key=len)`)."""

    name: str

    def __repr__(self) -> str:
        return f"<built-in function {self.name}>"


class Env:
    """A scope: module globals, a function's locals, a lambda's or a comprehension's
    variables. Lookups walk outwards; assignments bind in the innermost scope (Python's
    rule for functions; the front end rejects `global`)."""

    __slots__ = ("vars", "parent")

    def __init__(self, parent: "Env | None" = None):
        self.vars: dict[str, Any] = {}
        self.parent = parent

    def lookup(self, name: str) -> tuple[bool, Any]:
        env: Env | None = self
        while env is not None:
            if name in env.vars:
                return True, env.vars[name]
            env = env.parent
        return False, None


class _Signal:
    """How a statement ends when it does not fall through."""

    __slots__ = ("kind", "value")

    def __init__(self, kind: str, value: Any = None):
        self.kind, self.value = kind, value


_NOT_LEAF = object()
_COMPLEX = object()  # a statement that may yield: it runs through the generator path
_BREAK = _Signal("break")
_CONTINUE = _Signal("continue")

# Python exceptions a policy can provoke with legal code; they become E501 at the span of
# the expression that raised. Anything else is a bug in capc and is left to surface.
_POLICY_EXCEPTIONS = (ArithmeticError, LookupError, TypeError, ValueError, AttributeError)

Gen = Generator[PrimitiveCall, Any, Any]


# --- size guards --------------------------------------------------------------------------

class _Guard:
    """Checks a result size before it is allocated."""

    def __init__(self, limits: ResourceLimits):
        self.limits = limits

    def length(self, n: int | float, what: str, span: Span | None, *, lower_bound: bool = False) -> None:
        if n > self.limits.max_sequence_length:
            amount = "more than " + _count(self.limits.max_sequence_length) if lower_bound else _count(n)
            raise RuntimeStop(
                E_SEQUENCE_LENGTH,
                f"{what} would have {amount} elements; the limit is "
                f"{self.limits.max_sequence_length:,} (max_sequence_length)", span,
                hint="policies work on a handful of objects and points; build smaller sequences")

    def integer(self, value: Any, span: Span | None) -> Any:
        if type(value) is int and value.bit_length() > self.limits.max_int_bits:
            raise RuntimeStop(E_INT_SIZE, f"integer result has {value.bit_length()} bits; the limit is "
                                          f"{self.limits.max_int_bits} (max_int_bits)", span)
        return value

    def shape(self, shape: Any, what: str, span: Span | None) -> tuple[int, ...]:
        """Normalise a numpy shape argument and check its size."""
        dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        total = 1
        for d in dims:
            if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
                raise RuntimeStop(E_POLICY_ERROR, f"{what}: shape must hold integers, got {d!r}", span)
            if d < 0:
                raise RuntimeStop(E_POLICY_ERROR, f"{what}: negative dimension {d}", span)
            total *= int(d)
            self.length(total, what, span)
        return tuple(int(d) for d in dims)


_PURE_NODES = (ir.Const, ir.Name, ir.BinOp, ir.Compare, ir.UnaryOp, ir.BoolOp, ir.IfExp, ir.ListExpr,
               ir.TupleExpr, ir.Subscript)


def _is_call_free(expr: ir.Expr) -> bool:
    """Whether `expr` is built only of nodes `Interpreter._pure` evaluates: no call that
    could reach the robot (API, undefined, user defs, lambdas, builtins with a key= that
    may be a lambda, list.sort) anywhere inside."""
    if isinstance(expr, ir.Call):
        if expr.kind == ir.CALL_BUILTIN:
            ok = not (expr.callee in _KEYED_BUILTINS and expr.keywords)
        else:
            ok = expr.kind == ir.CALL_NUMPY or (expr.kind == ir.CALL_METHOD and expr.callee != "sort")
        return ok and all(_is_call_free(c) for c in expr.args + tuple(k.value for k in expr.keywords))
    if not isinstance(expr, _PURE_NODES):
        return False
    if isinstance(expr, ir.BinOp):
        children = (expr.left, expr.right)
    elif isinstance(expr, ir.Compare):
        children = expr.operands
    elif isinstance(expr, ir.UnaryOp):
        children = (expr.operand,)
    elif isinstance(expr, (ir.BoolOp,)):
        children = expr.values
    elif isinstance(expr, ir.IfExp):
        children = (expr.test, expr.body, expr.orelse)
    elif isinstance(expr, (ir.ListExpr, ir.TupleExpr)):
        children = expr.elts
    elif isinstance(expr, ir.Subscript):
        children = (expr.value,) + tuple(
            b for p in expr.index for b in ((p.lower, p.upper, p.step) if isinstance(p, ir.Slice) else (p,))
            if b is not None)
    else:
        children = ()
    return all(_is_call_free(c) for c in children)


def _without_yields(gen: Gen, span: Span) -> Any:
    """Run a generator that is known not to yield (a builtin without a key function)."""
    try:
        next(gen)
    except StopIteration as stop:
        return stop.value
    gen.close()
    raise RuntimeStop(E_UNSUPPORTED, "a call that should not reach the robot did", span)


def _count(n: float) -> str:
    return f"{int(n):,}" if n < 1e30 else f"about {n:.1e}"


_size_of = costs.size_of


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


# --- f-string format specs ------------------------------------------------------------

# [[fill]align][sign][z][#][0][width][grouping][.precision][type] (Python's mini-language).
_FORMAT_SPEC = re.compile(r"(?:.?[<>=^])?[+\- ]?z?#?0?(?P<width>\d*)[_,]?(?:\.(?P<precision>\d+))?[a-zA-Z%]?\Z",
                          re.DOTALL)


def _format_field(value: Any, conversion: str, spec: str, guard: _Guard, span: Span) -> str:
    """`f'{value!conversion:spec}'`, via `format()` on the value: the policy's text is never
    used as a format *template*, only as a spec whose width/precision we bound first."""
    if conversion == "r":
        value = repr(value)
    elif conversion == "s":
        value = str(value)
    elif conversion:
        raise RuntimeStop(E_UNSUPPORTED, f"f-string conversion !{conversion} is not supported", span)
    if isinstance(value, (list, tuple, dict)):
        guard.length(_deep_size(value, guard.limits.max_sequence_length), "the formatted value", span,
                     lower_bound=True)
    match = _FORMAT_SPEC.match(spec)
    if match is None:
        raise RuntimeStop(E_POLICY_ERROR, f"invalid format spec {spec!r}", span)
    for part in ("width", "precision"):
        digits = match.group(part)
        if digits:
            guard.length(int(digits) if len(digits) <= 18 else 1e18, f"an f-string field of this {part}", span)
    try:
        return format(value, spec)
    except _POLICY_EXCEPTIONS as exc:
        raise RuntimeStop(E_POLICY_ERROR, f"cannot format {_describe(value)} with {spec!r}: {exc}", span)


# One printf-style conversion: %[(key)][flags][width][.precision][length]type
_PRINTF = re.compile(r"%(?:\((?P<key>[^)]*)\))?[#0\- +]*(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d+))?"
                     r"[hlL]?(?P<type>[diouxXeEfFgGcrsa%])")


def _check_printf(template: str, values: Any, guard: _Guard, span: Span) -> None:
    """`template % values` pads to the widths and precisions it names (`'%0999999999d'`,
    or `'%*d' % (n, 1)` with the width taken from the values): bound them before Python
    allocates. printf formatting cannot reach attributes (unlike str.format, refused by the
    front end), so the size is all there is to check."""
    items = values if isinstance(values, tuple) else (values,)
    if isinstance(values, (list, tuple, dict)):
        guard.length(_deep_size(values, guard.limits.max_sequence_length), "the formatted values", span,
                     lower_bound=True)
    total, position = len(template), 0
    for match in _PRINTF.finditer(template):
        for part in ("width", "precision"):
            digits = match.group(part)
            if digits == "*":
                star = items[position] if position < len(items) else 0
                position += 1
                amount = abs(int(star)) if _is_int(star) else 0
            else:
                amount = (int(digits) if len(digits) <= 18 else 10 ** 18) if digits else 0
            total += amount
            guard.length(total, f"a '%' format field of this {part}", span)
        if match.group("type") != "%" and match.group("key") is None:
            position += 1


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a value of type {type(value).__name__}"


# --- arithmetic -----------------------------------------------------------------------

_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "@": operator.matmul,
}
_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.iadd, "-": operator.isub, "*": operator.imul, "/": operator.itruediv,
    "//": operator.ifloordiv, "%": operator.imod, "**": operator.ipow, "@": operator.imatmul,
}
_PLAIN_NUMBERS = frozenset({int, float, bool})
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne, "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b, "is": operator.is_, "is not": operator.is_not,
}


def _check_binop(op: str, left: Any, right: Any, guard: _Guard, span: Span) -> None:
    """Refuse an operation whose result would be too large, before computing it."""
    if op == "%" and isinstance(left, str):
        _check_printf(left, right, guard, span)
    if op == "*":
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, (list, tuple, str)) and _is_int(n):
                guard.length(len(seq) * max(int(n), 0), f"repeating a {type(seq).__name__}", span)
    elif op == "+":
        if isinstance(left, (list, tuple, str)) and isinstance(right, (list, tuple, str)):
            guard.length(len(left) + len(right), f"concatenating {type(left).__name__}s", span)
    elif op == "**" and _is_int(left) and _is_int(right) and right > 0 and abs(int(left)) > 1:
        bits = int(right) * math.log2(abs(int(left)))
        if bits > guard.limits.max_int_bits + 1:
            raise RuntimeStop(E_INT_SIZE, f"{int(left)} ** {int(right)} has about {_count(bits)} bits; the "
                                          f"limit is {guard.limits.max_int_bits} (max_int_bits)", span)
    if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
        a_shape, b_shape = np.shape(left), np.shape(right)
        if op == "@":
            out = a_shape[:-1] + b_shape[:-2] + b_shape[-1:] if len(b_shape) >= 2 else a_shape[:-1]
        else:
            try:
                out = np.broadcast_shapes(a_shape, b_shape)
            except ValueError:
                return  # numpy raises its own (clear) error when the operation runs
        guard.length(math.prod(out), "the array result", span)


# --- the interpreter --------------------------------------------------------------------

class Interpreter:
    """Runs one program once. Not reusable: make a new one per run."""

    def __init__(self, program: ir.Program, limits: ResourceLimits = DEFAULT_LIMITS, *,
                 profile=None):
        self.program = program
        self.limits = limits
        self.profile = profile or get_profile(program.profile)
        self.guard = _Guard(limits)
        self._int_bound = 1 << limits.max_int_bits  # |i| below it has at most max_int_bits bits
        self._call_free: dict[int, bool] = {}  # id(expr) -> no call inside (the program keeps nodes alive)
        self._statements: dict[int, Any] = {}   # id(stmt) -> its closure, or _COMPLEX
        self._bodies: dict[int, list | None] = {}  # id(loop body) -> closures when all simple
        self._closures: dict[int, Callable[[Env], Any]] = {}  # id(expr) -> compiled call-free expr
        self.globals = Env()
        self.steps = 0                 # statements executed + work charged by the driver
        self.loop_iterations = 0
        self.calls = 0                 # PrimitiveCalls yielded so far
        self.printed: list[str] = []   # what `print` wrote (kept, never sent to stdout)
        self.depth = 0
        self._started = 0.0
        self._span: Span | None = None  # the statement being executed, for messages

    # -- budgets ---------------------------------------------------------------------

    def charge(self, steps: int = 1, span: Span | None = None) -> None:
        """Count work against the step budget (the runtime charges control ticks here too,
        so an endless loop of moves ends like an endless loop of arithmetic)."""
        if self.steps + steps > self.limits.max_steps:  # refused work is not counted as done
            raise RuntimeStop(E_STEP_BUDGET, f"step budget exhausted after {self.limits.max_steps:,} steps "
                                             f"(max_steps)", span or self._span,
                              hint="the policy does not finish; bound its loops")
        self.steps += steps
        if self.steps % _CLOCK_EVERY < steps or steps >= _CLOCK_EVERY:
            self.check_clock(span)

    def check_clock(self, span: Span | None = None) -> None:
        if self._started and time.monotonic() - self._started > self.limits.max_wall_seconds:
            raise RuntimeStop(E_WALL_CLOCK, f"wall-clock budget exhausted after "
                                            f"{self.limits.max_wall_seconds:g} s (max_wall_seconds)",
                              span or self._span)

    def _iteration(self, span: Span, count: int = 1) -> None:
        """Count loop iterations; elements a builtin or method walks in C count too (a
        `sum(range(10**5))` inside a sort key is 10**5 iterations, not one)."""
        self.loop_iterations += count
        if self.loop_iterations > self.limits.max_loop_iterations:
            raise RuntimeStop(E_LOOP_BUDGET, f"loop budget exhausted after "
                                             f"{self.limits.max_loop_iterations:,} iterations "
                                             f"(max_loop_iterations)", span,
                              hint="the policy does not finish; bound its loops")

    # -- driving -------------------------------------------------------------------

    def run(self) -> Gen:
        """Execute the program's top level. Yields PrimitiveCalls; returns None."""
        self._started = time.monotonic()
        try:
            result = yield from self._block(self.program.body, self.globals)
        except RecursionError:
            raise RuntimeStop(E_CALL_DEPTH, "the policy nests calls and expressions too deeply to run",
                              self._span) from None
        if isinstance(result, _Signal) and result.kind != "return":
            raise RuntimeStop(E_UNSUPPORTED, f"'{result.kind}' outside a loop", self._span)

    # -- statements ------------------------------------------------------------------

    def _block(self, body: Iterable[ir.Stmt], env: Env) -> Gen:
        for stmt in body:
            if self._simple_stmt(stmt, env):
                continue
            signal = yield from self._stmt(stmt, env)
            if signal is not None:
                return signal
        return None

    def _simple_stmt(self, stmt: ir.Stmt, env: Env) -> bool:
        """Run a statement that cannot yield (`pass`, `x = e`, `d[k] = e`, `x += e` with e
        call-free) through its compiled closure; False for any other statement."""
        run = self._statements.get(id(stmt))
        if run is None:
            run = self._statements[id(stmt)] = self._compile_stmt(stmt)
        if run is _COMPLEX:
            return False
        run(env)
        return True

    def _fast_body(self, body: tuple) -> list | None:
        """The closures of a loop body whose statements are all simple, else None: such a
        body runs without a generator or a lookup per statement."""
        key = id(body)
        if key not in self._bodies:
            runs = []
            for stmt in body:
                run = self._statements.get(id(stmt))
                if run is None:
                    run = self._statements[id(stmt)] = self._compile_stmt(stmt)
                runs.append(run)
            self._bodies[key] = None if any(r is _COMPLEX for r in runs) else runs
        return self._bodies[key]

    def _step(self, span: Span) -> None:
        """charge(STATEMENT_STEPS), kept short: it runs once per statement."""
        steps = self.steps + costs.STATEMENT_STEPS
        if steps > self.limits.max_steps or not steps % _CLOCK_EVERY:
            self.charge(costs.STATEMENT_STEPS, span)
        else:
            self.steps = steps

    def _compile_stmt(self, stmt: ir.Stmt) -> Any:
        """A closure running a simple statement (charging its step first), or _COMPLEX."""
        kind, span, step = type(stmt), stmt.span, self._step

        def enter() -> None:
            self._span = span
            step(span)
        if kind is ir.Pass:
            return lambda env: enter()
        if kind is ir.AugAssign:
            target = stmt.target
            if type(target) is not ir.NameTarget or not self._is_free(stmt.value):
                return _COMPLEX
            value, name = self._compile(stmt.value), target.id

            def augment(env: Env) -> None:
                enter()
                found, current = env.lookup(name)
                if not found:
                    raise RuntimeStop(E_POLICY_ERROR, f"'{name}' is used before it is assigned", target.span)
                env.vars[name] = self._augment(stmt, current, value(env))
            return augment
        if kind is not ir.Assign or not self._is_free(stmt.value):
            return _COMPLEX
        value, targets = self._compile(stmt.value), stmt.targets
        if all(type(t) is ir.NameTarget for t in targets):
            names = [t.id for t in targets]

            def assign(env: Env) -> None:
                enter()
                result = value(env)
                for name in names:
                    env.vars[name] = result
            return assign
        target = targets[0]
        if (len(targets) == 1 and type(target) is ir.SubscriptTarget and self._is_free(target.value)
                and all(self._is_free(b) for p in target.index
                        for b in ((p.lower, p.upper, p.step) if isinstance(p, ir.Slice) else (p,)) if b is not None)):
            container, index, store = self._compile(target.value), self._compile_index(target.index), self._store_item

            def assign_item(env: Env) -> None:  # Python's order: value, container, index
                enter()
                result = value(env)
                store(container(env), index(env), result, target.span)
            return assign_item
        return _COMPLEX

    def _is_free(self, expr: ir.Expr) -> bool:
        free = self._call_free.get(id(expr))
        if free is None:
            free = self._call_free[id(expr)] = _is_call_free(expr)
        return free

    def _stmt(self, stmt: ir.Stmt, env: Env) -> Gen:
        self._span = stmt.span
        self.charge(costs.STATEMENT_STEPS, stmt.span)
        kind = type(stmt)
        if kind is ir.Assign:
            value = self._leaf(stmt.value, env)
            if value is _NOT_LEAF:
                value = yield from self._eval(stmt.value, env)
            for target in stmt.targets:
                if type(target) is ir.NameTarget:
                    env.vars[target.id] = value
                else:
                    yield from self._assign(target, value, env)
        elif kind is ir.ExprStmt:
            yield from self._eval(stmt.value, env)
        elif kind is ir.AugAssign:
            yield from self._aug_assign(stmt, env)
        elif kind is ir.If:
            test = self._leaf(stmt.test, env)
            if test is _NOT_LEAF:
                test = yield from self._eval(stmt.test, env)
            branch = stmt.body if self._truth(test, stmt.test.span) else stmt.orelse
            return (yield from self._block(branch, env))
        elif kind is ir.For:
            return (yield from self._for(stmt, env))
        elif kind is ir.While:
            return (yield from self._while(stmt, env))
        elif kind is ir.Return:
            value = None if stmt.value is None else (yield from self._eval(stmt.value, env))
            return _Signal("return", value)
        elif kind is ir.Break:
            return _BREAK
        elif kind is ir.Continue:
            return _CONTINUE
        elif kind is ir.Pass:
            pass
        elif kind is ir.FunctionDef:
            pass  # functions are looked up in program.functions (helpers need not be in body)
        else:
            raise RuntimeStop(E_UNSUPPORTED, f"statement {kind.__name__} is not supported", stmt.span)
        return None

    def _for(self, stmt: ir.For, env: Env) -> Gen:
        iterable = self._leaf(stmt.iter, env)
        if iterable is _NOT_LEAF:
            iterable = yield from self._eval(stmt.iter, env)
        target = stmt.target
        simple = type(target) is ir.NameTarget
        fast = self._fast_body(stmt.body)
        for item in self._iterate(iterable, stmt.iter.span):
            self._iteration(stmt.span)
            if simple:
                env.vars[target.id] = item
            else:
                yield from self._assign(target, item, env)
            if fast is not None:
                for run in fast:
                    run(env)
                continue
            signal = None
            for inner in stmt.body:  # _block, inlined: one generator less per iteration
                if not self._simple_stmt(inner, env):
                    signal = yield from self._stmt(inner, env)
                    if signal is not None:
                        break
            if signal is _BREAK:
                break
            if signal is not None and signal is not _CONTINUE:
                return signal
        return None

    def _while(self, stmt: ir.While, env: Env) -> Gen:
        fast = self._fast_body(stmt.body)
        while True:
            self._span = stmt.span
            self.charge(costs.STATEMENT_STEPS, stmt.span)  # each test of the loop
            test = self._leaf(stmt.test, env)
            if test is _NOT_LEAF:
                test = yield from self._eval(stmt.test, env)
            if not self._truth(test, stmt.test.span):
                return None
            self._iteration(stmt.span)
            if fast is not None:
                for run in fast:
                    run(env)
                continue
            signal = None
            for inner in stmt.body:  # _block, inlined: one generator less per iteration
                if not self._simple_stmt(inner, env):
                    signal = yield from self._stmt(inner, env)
                    if signal is not None:
                        break
            if signal is _BREAK:
                return None
            if signal is not None and signal is not _CONTINUE:
                return signal

    def _iterate(self, value: Any, span: Span) -> Iterable[Any]:
        if isinstance(value, dict):
            return list(value)
        if isinstance(value, (list, tuple, str, range)):
            return list(value) if isinstance(value, list) else value  # a list may grow in the loop
        if isinstance(value, np.ndarray):
            if value.ndim == 0:
                raise RuntimeStop(E_POLICY_ERROR, "cannot iterate over a 0-d array", span)
            return list(value)
        raise RuntimeStop(E_POLICY_ERROR, f"cannot iterate over {_describe(value)}", span)

    def _truth(self, value: Any, span: Span) -> bool:
        try:
            return bool(value)
        except ValueError:
            raise RuntimeStop(E_POLICY_ERROR, f"the truth value of {_describe(value)} is ambiguous", span,
                              hint="use np.any(...) or np.all(...)") from None

    # -- assignment ------------------------------------------------------------------

    def _assign(self, target: ir.Target, value: Any, env: Env) -> Gen:
        kind = type(target)
        if kind is ir.NameTarget:
            env.vars[target.id] = value
        elif kind is ir.TupleTarget:
            items = list(self._iterate(value, target.span))
            if len(items) != len(target.elts):
                raise RuntimeStop(E_POLICY_ERROR, f"cannot unpack {len(items)} values into "
                                                  f"{len(target.elts)} names", target.span)
            for sub, item in zip(target.elts, items):
                yield from self._assign(sub, item, env)
        elif kind is ir.SubscriptTarget:
            container, index = yield from self._item(target.value, target.index, env)
            self._store_item(container, index, value, target.span)
        else:
            raise RuntimeStop(E_UNSUPPORTED, f"assignment target {kind.__name__} is not supported", target.span)

    def _store_item(self, container: Any, index: Any, value: Any, span: Span) -> None:
        if not isinstance(container, (list, dict, np.ndarray)):
            raise RuntimeStop(E_POLICY_ERROR, f"cannot assign into {_describe(container)}", span)
        if isinstance(container, list) and isinstance(index, slice):
            self.guard.length(len(container) + (_size_of(value) or 0), "the list", span)
        try:
            container[index] = value
        except _POLICY_EXCEPTIONS as exc:
            raise RuntimeStop(E_POLICY_ERROR, f"cannot assign to this item: {exc}", span) from None
        if isinstance(container, dict):
            self.guard.length(len(container), "the dict", span)

    def _aug_assign(self, stmt: ir.AugAssign, env: Env) -> Gen:
        target = stmt.target
        if isinstance(target, ir.NameTarget):
            found, current = env.lookup(target.id)
            if not found:
                raise RuntimeStop(E_POLICY_ERROR, f"'{target.id}' is used before it is assigned", target.span)
        elif isinstance(target, ir.SubscriptTarget):
            container, index = yield from self._item(target.value, target.index, env)
            current = self._subscript(container, index, target.span)
        else:
            raise RuntimeStop(E_UNSUPPORTED, "augmented assignment needs a name or an item", target.span)
        value = self._leaf(stmt.value, env)
        if value is _NOT_LEAF:
            value = yield from self._eval(stmt.value, env)
        result = self._augment(stmt, current, value)
        if isinstance(target, ir.NameTarget):
            env.vars[target.id] = result
        else:
            try:
                container[index] = result
            except _POLICY_EXCEPTIONS as exc:
                raise RuntimeStop(E_POLICY_ERROR, f"cannot assign to this item: {exc}", target.span) from None

    def _augment(self, stmt: ir.AugAssign, current: Any, value: Any) -> Any:
        """`current <op>= value`; `+=` on a list extends it in place, as in Python."""
        if stmt.op == "+" and isinstance(current, list):
            if not isinstance(value, (list, tuple, str, range, dict, np.ndarray)):
                raise RuntimeStop(E_POLICY_ERROR, f"cannot extend a list with {_describe(value)}", stmt.span)
            self.guard.length(len(current) + (_size_of(value) or 0), "the list", stmt.span)
        return self._arith(stmt.op, current, value, stmt.span, inplace=True)

    # -- expressions -----------------------------------------------------------------

    def _eval(self, expr: ir.Expr, env: Env) -> Gen:
        kind = type(expr)
        if kind is ir.Const:
            return expr.value
        if kind is ir.Name:
            return self._name(expr, env)
        if kind is ir.BinOp:
            left = self._leaf(expr.left, env)
            if left is _NOT_LEAF:
                left = yield from self._eval(expr.left, env)
            right = self._leaf(expr.right, env)
            if right is _NOT_LEAF:
                right = yield from self._eval(expr.right, env)
            return self._arith(expr.op, left, right, expr.span)
        if kind is ir.Call:
            return (yield from self._call(expr, env))
        if kind is ir.Subscript:
            value, index = yield from self._item(expr.value, expr.index, env)
            return self._subscript(value, index, expr.span)
        if kind is ir.Compare:
            return (yield from self._compare(expr, env))
        if kind is ir.BoolOp:
            value = None
            for operand in expr.values:
                value = self._leaf(operand, env)
                if value is _NOT_LEAF:
                    value = yield from self._eval(operand, env)
                truth = self._truth(value, operand.span)
                if (expr.op == "and" and not truth) or (expr.op == "or" and truth):
                    return value
            return value
        if kind is ir.UnaryOp:
            operand = self._leaf(expr.operand, env)
            if operand is _NOT_LEAF:
                operand = yield from self._eval(expr.operand, env)
            return self._unary(expr, operand)
        if kind is ir.ListExpr or kind is ir.TupleExpr:
            items = []
            for elt in expr.elts:
                value = self._leaf(elt, env)
                if value is _NOT_LEAF:
                    value = yield from self._eval(elt, env)
                items.append(value)
            return items if kind is ir.ListExpr else tuple(items)
        if kind is ir.DictExpr:
            result = {}
            for k, v in zip(expr.keys, expr.values):
                key = self._leaf(k, env)
                if key is _NOT_LEAF:
                    key = yield from self._eval(k, env)
                value = self._leaf(v, env)
                if value is _NOT_LEAF:
                    value = yield from self._eval(v, env)
                try:
                    result[key] = value
                except TypeError:
                    raise RuntimeStop(E_POLICY_ERROR, f"{_describe(key)} cannot be a dict key", k.span) from None
            return result
        if kind is ir.IfExp:
            test = self._leaf(expr.test, env)
            if test is _NOT_LEAF:
                test = yield from self._eval(expr.test, env)
            branch = expr.body if self._truth(test, expr.test.span) else expr.orelse
            return (yield from self._eval(branch, env))
        if kind is ir.FString:
            return (yield from self._fstring(expr, env))
        if kind is ir.ListComp:
            return (yield from self._comprehension(expr, env))
        if kind is ir.Lambda:
            return Closure(expr, env)
        raise RuntimeStop(E_UNSUPPORTED, f"expression {kind.__name__} is not supported", expr.span)

    def _leaf(self, expr: ir.Expr, env: Env) -> Any:
        """The value of a call-free expression, computed without starting a generator
        (most operands are one; a generator per node tripled the cost of a loop
        iteration), else _NOT_LEAF: the caller then uses `yield from self._eval(...)`."""
        kind = type(expr)
        if kind is ir.Const:
            return expr.value
        if kind is ir.Name:
            return self._name(expr, env)
        return self._pure(expr, env) if self._is_free(expr) else _NOT_LEAF

    def _unary(self, expr: ir.UnaryOp, operand: Any) -> Any:
        if expr.op == "not":
            return not self._truth(operand, expr.operand.span)
        try:
            return self.guard.integer(-operand if expr.op == "-" else +operand, expr.span)
        except _POLICY_EXCEPTIONS as exc:
            raise RuntimeStop(E_POLICY_ERROR, f"bad operand for unary {expr.op}: {exc}", expr.span) from None

    def _pure(self, expr: ir.Expr, env: Env) -> Any:
        """Evaluate a call-free expression (nothing in it can yield) through its compiled
        closure: no generators, no per-node dispatch after the first evaluation."""
        fn = self._closures.get(id(expr))
        if fn is None:
            fn = self._closures[id(expr)] = self._compile(expr)
        return fn(env)

    def _compile(self, expr: ir.Expr) -> Callable[[Env], Any]:
        """A closure computing a call-free expression. It uses the same operation helpers
        as `_eval` (_arith, _compare_step, _unary, _subscript, _numpy, ...): one semantics,
        two ways of walking the tree."""
        kind, span = type(expr), expr.span
        if kind is ir.Const:
            value = expr.value
            return lambda env: value
        if kind is ir.Name:
            name, fallback = expr.id, self._name

            def lookup(env: Env) -> Any:
                scope = env
                while scope is not None:
                    if name in scope.vars:
                        return scope.vars[name]
                    scope = scope.parent
                return fallback(expr, env)  # a def or builtin used as a value, or the error
            return lookup
        if kind is ir.BinOp:
            left, right, op, arith = self._compile(expr.left), self._compile(expr.right), expr.op, self._arith
            return lambda env: arith(op, left(env), right(env), span)
        if kind is ir.Compare:
            operands = [self._compile(o) for o in expr.operands]
            ops, step, truth = expr.ops, self._compare_step, self._truth
            if len(ops) == 1:
                first, second, op = operands[0], operands[1], ops[0]
                return lambda env: step(op, first(env), second(env), span)

            def chain(env: Env) -> Any:
                left, result = operands[0](env), True
                for op, operand in zip(ops, operands[1:]):
                    right = operand(env)
                    result = step(op, left, right, span)
                    if not truth(result, span):
                        return result
                    left = right
                return result
            return chain
        if kind is ir.UnaryOp:
            operand, unary = self._compile(expr.operand), self._unary
            return lambda env: unary(expr, operand(env))
        if kind is ir.BoolOp:
            values = [(self._compile(v), v.span) for v in expr.values]
            stop_on, truth = expr.op == "or", self._truth

            def boolean(env: Env) -> Any:
                value = None
                for fn, where in values:
                    value = fn(env)
                    if truth(value, where) is stop_on:
                        return value
                return value
            return boolean
        if kind is ir.IfExp:
            test, body, orelse, truth = (self._compile(expr.test), self._compile(expr.body),
                                         self._compile(expr.orelse), self._truth)
            return lambda env: body(env) if truth(test(env), expr.test.span) else orelse(env)
        if kind is ir.ListExpr or kind is ir.TupleExpr:
            elts, make = [self._compile(e) for e in expr.elts], (list if kind is ir.ListExpr else tuple)
            return lambda env: make([fn(env) for fn in elts])
        if kind is ir.Subscript:
            value, index, subscript = self._compile(expr.value), self._compile_index(expr.index), self._subscript
            return lambda env: subscript(value(env), index(env), span)
        if kind is ir.Call:
            return self._compile_call(expr)
        raise RuntimeStop(E_UNSUPPORTED, f"expression {kind.__name__} is not supported", span)

    def _compile_index(self, index: tuple) -> Callable[[Env], Any]:
        parts = []
        for part in index:
            if isinstance(part, ir.Slice):
                bounds = [None if b is None else self._compile(b) for b in (part.lower, part.upper, part.step)]
                parts.append(lambda env, bounds=bounds: slice(*(None if b is None else b(env) for b in bounds)))
            else:
                parts.append(self._compile(part))
        if len(parts) == 1:
            return parts[0]
        return lambda env: tuple(fn(env) for fn in parts)

    def _compile_call(self, expr: ir.Call) -> Callable[[Env], Any]:
        args = [self._compile(a) for a in expr.args]
        keywords = [(kw.name, self._compile(kw.value)) for kw in expr.keywords]
        callee, span = expr.callee, expr.span
        if expr.kind == ir.CALL_NUMPY:
            def call(env: Env) -> Any:
                return self._numpy(callee, [a(env) for a in args], {k: v(env) for k, v in keywords}, span)
        elif expr.kind == ir.CALL_METHOD:
            def call(env: Env) -> Any:
                values = [a(env) for a in args]
                return self._method(callee, values[0], values[1:], {k: v(env) for k, v in keywords}, span)
        elif callee in _KEYED_BUILTINS:  # without key=: nothing to yield
            def call(env: Env) -> Any:
                gen = self._keyed_builtin(callee, [a(env) for a in args], {k: v(env) for k, v in keywords}, span)
                return _without_yields(gen, span)
        else:
            def call(env: Env) -> Any:
                return self._plain_builtin(callee, [a(env) for a in args], {k: v(env) for k, v in keywords}, span)
        return call

    def _name(self, expr: ir.Name, env: Env) -> Any:
        found, value = env.lookup(expr.id)
        if found:
            return value
        if expr.id in self.program.functions:
            return UserFunction(self.program.functions[expr.id])
        if expr.id in BUILTINS:
            return BuiltinValue(expr.id)
        raise RuntimeStop(E_POLICY_ERROR, f"name '{expr.id}' is not defined here", expr.span)

    def _arith(self, op: str, left: Any, right: Any, span: Span, inplace: bool = False) -> Any:
        if type(left) in _PLAIN_NUMBERS and type(right) in _PLAIN_NUMBERS and op != "**" and op in _BINOPS:
            # the common case, kept short: nothing can grow but an integer (checked after)
            try:
                result = _BINOPS[op](left, right)
            except ZeroDivisionError:
                raise RuntimeStop(E_POLICY_ERROR, "division by zero", span) from None
            if type(result) is int and not -self._int_bound < result < self._int_bound:
                return self.guard.integer(result, span)
            return result
        fn = (_INPLACE if inplace else _BINOPS).get(op)
        if fn is None:
            raise RuntimeStop(E_UNSUPPORTED, f"operator {op} is not supported", span)
        _check_binop(op, left, right, self.guard, span)
        try:
            if isinstance(left, (np.ndarray, np.generic)) or isinstance(right, (np.ndarray, np.generic)):
                with np.errstate(all="ignore"):  # numpy's inf/nan are values, not stderr noise
                    result = fn(left, right)
            else:
                result = fn(left, right)
        except ZeroDivisionError:
            raise RuntimeStop(E_POLICY_ERROR, "division by zero", span) from None
        except _POLICY_EXCEPTIONS as exc:
            raise RuntimeStop(E_POLICY_ERROR, f"cannot compute {_describe(left)} {op} {_describe(right)}: "
                                              f"{exc}", span) from None
        cost = costs.result_cost(result)
        if cost:
            self.charge(cost, span)
        return self.guard.integer(result, span)

    def _compare(self, expr: ir.Compare, env: Env) -> Gen:
        left = self._leaf(expr.operands[0], env)
        if left is _NOT_LEAF:
            left = yield from self._eval(expr.operands[0], env)
        result: Any = True
        for op, operand in zip(expr.ops, expr.operands[1:]):
            right = self._leaf(operand, env)
            if right is _NOT_LEAF:
                right = yield from self._eval(operand, env)
            result = self._compare_step(op, left, right, expr.span)
            if len(expr.ops) > 1 and not self._truth(result, expr.span):
                return result
            left = right
        return result

    def _compare_step(self, op: str, left: Any, right: Any, span: Span) -> Any:
        fn = _COMPARE.get(op)
        if fn is None:
            raise RuntimeStop(E_UNSUPPORTED, f"comparison {op} is not supported", span)
        if type(left) in _PLAIN_NUMBERS and type(right) in _PLAIN_NUMBERS:
            return fn(left, right)
        if isinstance(left, (list, tuple, dict)) or isinstance(right, (list, tuple, dict)):
            _deep_check("the comparison")(self.guard, [left, right], {}, span)
            self._iteration(span, _work([right] if op in ("in", "not in") else [left]))
        elif op in ("in", "not in") and isinstance(right, str):
            self._iteration(span, len(right))
        try:
            return fn(left, right)
        except _POLICY_EXCEPTIONS as exc:
            raise RuntimeStop(E_POLICY_ERROR, f"cannot compare {_describe(left)} {op} {_describe(right)}: "
                                              f"{exc}", span) from None

    def _item(self, value: ir.Expr, index: tuple, env: Env) -> Gen:
        """The container and the index of `value[index]`, evaluated in that order."""
        container = self._leaf(value, env)
        if container is _NOT_LEAF:
            container = yield from self._eval(value, env)
        key = self._quick_index(index, env)
        if key is _NOT_LEAF:
            key = yield from self._index(index, env)
        return container, key

    def _quick_index(self, index: tuple, env: Env) -> Any:
        """The index value when every part is a call-free expression, else _NOT_LEAF."""
        parts = []
        for part in index:
            if isinstance(part, ir.Slice):
                return _NOT_LEAF
            value = self._leaf(part, env)
            if value is _NOT_LEAF:
                return _NOT_LEAF
            parts.append(value)
        return parts[0] if len(parts) == 1 else tuple(parts)

    def _index(self, index: tuple, env: Env) -> Gen:
        parts = []
        for part in index:
            if isinstance(part, ir.Slice):
                bounds = []
                for bound in (part.lower, part.upper, part.step):
                    bounds.append(None if bound is None else (yield from self._eval(bound, env)))
                parts.append(slice(*bounds))
            else:
                parts.append((yield from self._eval(part, env)))
        return parts[0] if len(parts) == 1 else tuple(parts)

    def _subscript(self, value: Any, index: Any, span: Span) -> Any:
        if not isinstance(value, (list, tuple, str, dict, np.ndarray, range)):
            raise RuntimeStop(E_POLICY_ERROR, f"{_describe(value)} cannot be indexed", span)
        if isinstance(index, np.ndarray) and index.dtype == object:
            raise RuntimeStop(E_POLICY_ERROR, "an index array must hold numbers or booleans", span)
        try:
            result = value[index]
        except KeyError:
            raise RuntimeStop(E_POLICY_ERROR, f"key {index!r} is not in the dict", span) from None
        except IndexError as exc:
            raise RuntimeStop(E_POLICY_ERROR, f"index out of range: {exc}", span) from None
        except _POLICY_EXCEPTIONS as exc:
            raise RuntimeStop(E_POLICY_ERROR, f"cannot index {_describe(value)} with {index!r}: {exc}",
                              span) from None
        cost = costs.result_cost(result)  # a slice copies (or views) its elements
        if cost:
            self.charge(cost, span)
        return result

    def _fstring(self, expr: ir.FString, env: Env) -> Gen:
        pieces: list[str] = []
        total = 0
        for part in expr.parts:
            if isinstance(part, str):
                text = part
            else:
                value = self._leaf(part.value, env)
                if value is _NOT_LEAF:
                    value = yield from self._eval(part.value, env)
                self.charge(costs.format_field_cost(value), part.value.span)
                text = _format_field(value, part.conversion, part.format_spec, self.guard, part.value.span)
            total += len(text)
            self.guard.length(total, "the f-string", expr.span)
            pieces.append(text)
        self.charge(costs.text_cost(total), expr.span)  # the text is built and kept
        return "".join(pieces)

    def _comprehension(self, expr: ir.ListComp, env: Env) -> Gen:
        scope = Env(env)  # comprehension variables do not leak (Python 3)
        out: list[Any] = []
        yield from self._generate(expr, 0, scope, out)
        return out

    def _generate(self, expr: ir.ListComp, level: int, scope: Env, out: list) -> Gen:
        gen = expr.generators[level]
        iterable = self._leaf(gen.iter, scope)
        if iterable is _NOT_LEAF:
            iterable = yield from self._eval(gen.iter, scope)
        innermost = level + 1 == len(expr.generators)
        target = gen.target
        items = self._iterate(iterable, gen.iter.span)
        # A comprehension has no `break`: it will walk every item, so one that cannot fit in
        # the remaining loop budget stops before it starts (same code, no wasted second).
        if self.loop_iterations + _size_of(items) > self.limits.max_loop_iterations:
            self._iteration(expr.span, _size_of(items))
        for item in items:
            self._iteration(expr.span)
            self.charge(costs.ITEM_STEPS, expr.span)
            if type(target) is ir.NameTarget:
                scope.vars[target.id] = item
            else:
                yield from self._assign(target, item, scope)
            keep = True
            for cond in gen.ifs:
                test = self._leaf(cond, scope)
                if test is _NOT_LEAF:
                    test = yield from self._eval(cond, scope)
                if not self._truth(test, cond.span):
                    keep = False
                    break
            if not keep:
                continue
            if innermost:  # the element, without another generator level
                value = self._leaf(expr.elt, scope)
                if value is _NOT_LEAF:
                    value = yield from self._eval(expr.elt, scope)
                out.append(value)
                if len(out) > self.limits.max_sequence_length:
                    self.guard.length(len(out), "the comprehension", expr.span)
            else:
                yield from self._generate(expr, level + 1, scope, out)

    # -- calls ---------------------------------------------------------------------

    def _call(self, expr: ir.Call, env: Env) -> Gen:
        args = []
        for arg in expr.args:
            value = self._leaf(arg, env)
            if value is _NOT_LEAF:
                value = yield from self._eval(arg, env)
            args.append(value)
        kwargs = {}
        for kw in expr.keywords:
            kwargs[kw.name] = self._leaf(kw.value, env)
            if kwargs[kw.name] is _NOT_LEAF:
                kwargs[kw.name] = yield from self._eval(kw.value, env)
        kind = expr.kind
        if kind == ir.CALL_API:
            return (yield from self._primitive(expr, args, kwargs))
        if kind == ir.CALL_NUMPY:
            return self._numpy(expr.callee, args, kwargs, expr.span)
        if kind == ir.CALL_BUILTIN:
            return (yield from self._builtin(expr.callee, args, kwargs, expr.span))
        if kind == ir.CALL_METHOD:
            if not args:
                raise RuntimeStop(E_UNSUPPORTED, f"method {expr.callee} without a receiver", expr.span)
            if expr.callee == "sort" and isinstance(args[0], list):
                # like sorted(): the key may call the robot, so it is evaluated here
                if len(args) > 1:
                    raise RuntimeStop(E_POLICY_ERROR, "list.sort() takes only key= and reverse=", expr.span)
                args[0][:] = yield from self._keyed_builtin("sorted", args[:1], kwargs, expr.span)
                return None
            return self._method(expr.callee, args[0], args[1:], kwargs, expr.span)
        if kind == ir.CALL_USER:
            function = self.program.functions.get(expr.callee)
            if function is None:
                raise RuntimeStop(E_POLICY_ERROR, f"function '{expr.callee}' is not defined", expr.span)
            return (yield from self._call_user(function, args, kwargs, expr.span))
        if kind == ir.CALL_LAMBDA:
            found, fn = env.lookup(expr.callee)
            if not found:
                fn = self._name(ir.Name(expr.span, expr.type, expr.callee), env)
            return (yield from self.call_value(fn, args, kwargs, expr.span))
        if kind == ir.CALL_UNDEFINED:
            if expr.callee in self.program.functions:  # supplied after compilation
                return (yield from self._call_user(self.program.functions[expr.callee], args, kwargs,
                                                   expr.span))
            self.charge(CALL_STEPS, expr.span)
            call = PrimitiveCall(None, {"args": args, "kwargs": kwargs}, expr.span, self.calls, expr.callee)
            self.calls += 1
            return (yield call)
        raise RuntimeStop(E_UNSUPPORTED, f"call kind {kind!r} is not supported", expr.span)

    def _primitive(self, expr: ir.Call, args: list, kwargs: dict) -> Gen:
        primitive = self.profile.primitive(expr.callee)
        if primitive is None:
            raise RuntimeStop(E_POLICY_ERROR, f"'{expr.callee}' is not a primitive of the "
                                              f"{self.profile.name} robot", expr.span)
        try:
            bound = primitive.bind(args, kwargs)
        except TypeError as exc:
            raise RuntimeStop(E_BAD_PRIMITIVE_ARGS, str(exc), expr.span) from None
        self.charge(CALL_STEPS, expr.span)
        call = PrimitiveCall(primitive, bound, expr.span, self.calls)
        self.calls += 1
        result = yield call
        return result

    def call_value(self, fn: Any, args: list, kwargs: dict, span: Span) -> Gen:
        """Call a function value: a lambda, a user def, or a builtin used as a value."""
        if isinstance(fn, Closure):
            params = fn.node.params
            if kwargs or len(args) != len(params):
                raise RuntimeStop(E_POLICY_ERROR, f"the lambda takes {len(params)} argument(s), "
                                                  f"got {len(args) + len(kwargs)}", span)
            scope = Env(fn.env)
            scope.vars.update(zip(params, args))
            self._enter(span)
            try:
                return (yield from self._eval(fn.node.body, scope))
            finally:
                self.depth -= 1
        if isinstance(fn, UserFunction):
            return (yield from self._call_user(fn.definition, args, kwargs, span))
        if isinstance(fn, BuiltinValue):
            return (yield from self._builtin(fn.name, args, kwargs, span))
        raise RuntimeStop(E_POLICY_ERROR, f"{_describe(fn)} is not callable", span)

    def _enter(self, span: Span) -> None:
        self.depth += 1
        if self.depth > self.limits.max_call_depth:
            self.depth -= 1
            raise RuntimeStop(E_CALL_DEPTH, f"call depth exceeds {self.limits.max_call_depth} "
                                            f"(max_call_depth)", span)

    def _call_user(self, function: ir.FunctionDef, args: list, kwargs: dict, span: Span) -> Gen:
        params = function.params
        if len(args) > len(params):
            raise RuntimeStop(E_POLICY_ERROR, f"{function.name}() takes {len(params)} argument(s), "
                                              f"got {len(args)}", span)
        scope = Env(self.globals)
        for param, value in zip(params, args):
            scope.vars[param.name] = value
        for key, value in kwargs.items():
            if not any(p.name == key for p in params):
                raise RuntimeStop(E_POLICY_ERROR, f"{function.name}() has no parameter '{key}'", span)
            if key in scope.vars:
                raise RuntimeStop(E_POLICY_ERROR, f"{function.name}() got two values for '{key}'", span)
            scope.vars[key] = value
        self._enter(span)
        try:
            for param in params:
                if param.name not in scope.vars:
                    if param.default is None:
                        raise RuntimeStop(E_POLICY_ERROR, f"{function.name}() is missing '{param.name}'", span)
                    # Defaults are evaluated per call (a fresh list each time), unlike Python,
                    # whose shared mutable defaults are a classic bug, not a feature.
                    scope.vars[param.name] = yield from self._eval(param.default, scope)
            saved = self._span
            signal = yield from self._block(function.body, scope)
            self._span = saved
        finally:
            self.depth -= 1
        if isinstance(signal, _Signal) and signal.kind == "return":
            return signal.value
        return None

    # -- library -------------------------------------------------------------------

    def _numpy(self, name: str, args: list, kwargs: dict, span: Span) -> Any:
        entry = NUMPY.get(name)
        if entry is None:
            raise RuntimeStop(E_POLICY_ERROR, f"np.{name} is not available to policies", span)
        _arity(entry, len(args), f"np.{name}", span)
        bad = set(kwargs) - entry.keywords
        if bad:
            raise RuntimeStop(E_POLICY_ERROR, f"np.{name} does not take keyword '{sorted(bad)[0]}' here", span)
        for value in list(args) + list(kwargs.values()):
            if isinstance(value, (Closure, UserFunction, BuiltinValue)):
                raise RuntimeStop(E_POLICY_ERROR, f"np.{name} cannot take a function", span)
        if entry.check is not None:
            entry.check(self.guard, args, kwargs, span)
        self.charge(1 + _work(args), span)  # vectorised work: an element is a step, not an iteration
        try:
            with np.errstate(all="ignore"):  # inf/nan are values here, not warnings on stderr
                result = entry.fn(*args, **kwargs)
        except _POLICY_EXCEPTIONS as exc:
            raise RuntimeStop(E_POLICY_ERROR, f"np.{name} failed: {exc}", span) from None
        if isinstance(result, np.ndarray) and result.dtype == object:
            raise RuntimeStop(E_POLICY_ERROR, f"np.{name} produced an array of mixed values", span,
                              hint="numpy arrays in policies hold numbers (or strings) only")
        size = _size_of(result)
        if size is not None:
            self.guard.length(size, f"the result of np.{name}", span)
            # A result can be much larger than its arguments (np.linspace(0, 1, 90000)): its
            # elements are charged too, so what a run keeps is bounded by the step budget.
            self.charge(costs.result_cost(result), span)
        return self.guard.integer(result, span)

    def _builtin(self, name: str, args: list, kwargs: dict, span: Span) -> Gen:
        if name in _KEYED_BUILTINS:
            return (yield from self._keyed_builtin(name, args, kwargs, span))
        return self._plain_builtin(name, args, kwargs, span)

    def _plain_builtin(self, name: str, args: list, kwargs: dict, span: Span) -> Any:
        entry = BUILTINS.get(name)
        if entry is None:
            raise RuntimeStop(E_POLICY_ERROR, f"builtin '{name}' is not available to policies", span)
        if name == "print":
            _deep_check("print()")(self.guard, args + list(kwargs.values()), {}, span)
            if set(kwargs) - {"sep", "end"} or not all(isinstance(v, str) for v in kwargs.values()):
                raise RuntimeStop(E_POLICY_ERROR, "print() takes only sep= and end= strings here", span)
            end = kwargs.get("end", "\n")
            self.printed.append(kwargs.get("sep", " ").join(str(a) for a in args) + (end if end != "\n" else ""))
            return None
        _arity(entry, len(args), f"{name}()", span)
        bad = set(kwargs) - entry.keywords if kwargs else None
        if bad:
            raise RuntimeStop(E_POLICY_ERROR, f"{name}() does not take keyword '{sorted(bad)[0]}' here", span)
        if name in _MATERIALISING:  # list(range(10**12)): too long to build, before too long to walk
            for arg in args:
                self.guard.length(_size_of(arg) or 0, f"{name}()", span)
        if entry.check is not None:
            entry.check(self.guard, args, kwargs, span)
        if name in _WALKING:
            self._iteration(span, _work(args))
        try:
            result = entry.fn(*args, **kwargs)
        except _POLICY_EXCEPTIONS as exc:
            raise RuntimeStop(E_POLICY_ERROR, f"{name}() failed: {exc}", span) from None
        size = _size_of(result)
        if size is not None and not isinstance(result, range):
            self.guard.length(size, f"the result of {name}()", span)
        return self.guard.integer(result, span)

    def _keyed_builtin(self, name: str, args: list, kwargs: dict, span: Span) -> Gen:
        """sorted/min/max with `key=`: the key may be a lambda that calls the robot API
        (`sorted(names, key=lambda n: get_obj_pos(n)[0])`), so keys are computed here, in
        the generator, before the plain builtin orders them."""
        bad = set(kwargs) - {"key", "reverse", "default"}
        if bad or (name == "sorted" and "default" in kwargs) or (name != "sorted" and "reverse" in kwargs):
            raise RuntimeStop(E_POLICY_ERROR, f"{name}() does not take keyword "
                                              f"'{sorted(bad or set(kwargs) - {'key'})[0]}' here", span)
        key = kwargs.get("key")
        if name == "sorted" or len(args) == 1:
            if len(args) != 1:
                raise RuntimeStop(E_POLICY_ERROR, f"{name}() takes one iterable here", span)
            if name == "sorted":
                self.guard.length(_size_of(args[0]) or 0, "sorted()", span)
            self._iteration(span, _work(args))
            items = list(self._iterate(args[0], span))
        else:
            items = list(args)
        if not items:
            if name == "sorted":
                return []
            if "default" in kwargs:
                return kwargs["default"]
            raise RuntimeStop(E_POLICY_ERROR, f"{name}() of an empty sequence", span)
        if key is None:
            keys = items
        else:
            keys = []
            for item in items:
                self.charge(1, span)
                keys.append((yield from self.call_value(key, [item], {}, span)))
        order = list(range(len(items)))
        try:
            if name == "sorted":
                order.sort(key=lambda i: keys[i], reverse=bool(kwargs.get("reverse", False)))
                return [items[i] for i in order]
            best = (min if name == "min" else max)(order, key=lambda i: keys[i])
        except _POLICY_EXCEPTIONS as exc:
            raise RuntimeStop(E_POLICY_ERROR, f"{name}() cannot order these values: {exc}", span) from None
        return items[best]

    def _method(self, name: str, receiver: Any, args: list, kwargs: dict, span: Span) -> Any:
        table = None
        for kind, methods in _METHODS_BY_TYPE:
            if isinstance(receiver, kind):
                table = methods
                break
        entry = table.get(name) if table is not None else None
        if entry is None:
            raise RuntimeStop(E_POLICY_ERROR, f"{_describe(receiver)} has no method '{name}' available to "
                                              f"policies", span)
        bad = set(kwargs) - entry.keywords
        if bad:
            raise RuntimeStop(E_POLICY_ERROR, f".{name}() does not take keyword '{sorted(bad)[0]}' here", span)
        _arity(entry, len(args), f".{name}()", span)
        if entry.check is not None:
            entry.check(self.guard, [receiver] + args, kwargs, span)
        if name == "extend":  # walks its argument, not the list it grows
            self._iteration(span, _work(args))
        elif name not in _CONSTANT_TIME_METHODS:
            self._iteration(span, _work([receiver] + args))
        try:
            with np.errstate(all="ignore"):
                result = entry.fn(receiver, *args, **kwargs)
        except _POLICY_EXCEPTIONS as exc:
            raise RuntimeStop(E_POLICY_ERROR, f".{name}() failed: {exc}", span) from None
        size = _size_of(result)
        if size is not None:
            self.guard.length(size, f"the result of .{name}()", span)
        return result


# --- library tables -----------------------------------------------------------------------
# One entry per allow-listed name: the real function, how many positional arguments and
# which keywords it may receive (numpy hides `out=` and `dtype=` in later positional slots:
# `np.zeros(5, 'U1000000000')` would allocate gigabytes, `np.maximum(a, b, c)` writes into c),
# and a size check run before the call. The front end's `capc.compiler.library` holds the
# type rules of the same names; tests/test_interpreter.py checks that the two agree.

Check = Callable[[_Guard, list, dict, Span], None]


@dataclass(frozen=True)
class Impl:
    fn: Callable[..., Any]
    max_args: int = 1
    keywords: frozenset[str] = frozenset()
    check: Check | None = None
    min_args: int = 0


_SCALARS = frozenset({int, float, bool, type(None)})


def _deep_size(value: Any, limit: int) -> int:
    """Elements reachable in a nested value (strings count their characters); stops
    counting past `limit`. Aliasing makes `[[0] * 10**5] * 10**5` cheap to build and ruinous
    to print or convert, so materialising operations check this first."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            total += 1
            if costs.only_of(_SCALARS, item):
                total += len(item)  # each would count one
            else:
                stack.extend(item)
        elif isinstance(item, dict):
            total += 1
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, str):
            total += max(len(item), 1)
        elif isinstance(item, np.ndarray):
            total += int(item.size) * (item.itemsize // 4 if item.dtype.kind == "U" else 1)
        else:
            total += 1
    return total


def _deep_check(what: str) -> Check:
    def check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
        guard.length(_deep_size(list(args), guard.limits.max_sequence_length), what, span, lower_bound=True)
    return check


def _shape_check(what: str) -> Check:
    def check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
        guard.shape(args[0], what, span)
    return check


def _bounds(args: list) -> tuple[Any, Any, Any]:
    if len(args) == 1:
        return 0, args[0], 1
    return args[0], args[1], (args[2] if len(args) == 3 else 1)


def _arange_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    if not all(isinstance(a, (int, float, np.integer, np.floating)) for a in args):
        raise RuntimeStop(E_POLICY_ERROR, "np.arange takes 1 to 3 numbers", span)
    start, stop, step = _bounds(args)
    if step == 0 or not all(math.isfinite(float(v)) for v in (start, stop, step)):
        raise RuntimeStop(E_POLICY_ERROR, "np.arange needs finite bounds and a non-zero step", span)
    guard.length(max(0.0, math.ceil((float(stop) - float(start)) / float(step))), "np.arange", span)


def _linspace_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    num = args[2] if len(args) > 2 else kwargs.get("num", 50)
    if not _is_int(num):
        raise RuntimeStop(E_POLICY_ERROR, f"np.linspace: num must be an integer, got {num!r}", span)
    guard.length(int(num), "np.linspace", span)


def _range_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    if not all(_is_int(a) for a in args):
        raise RuntimeStop(E_POLICY_ERROR, "range() takes 1 to 3 integers", span)
    for a in args:
        guard.integer(int(a), span)
    if int(_bounds(args)[2]) == 0:
        raise RuntimeStop(E_POLICY_ERROR, "range() step must not be zero", span)
    # No length limit here: a range is lazy. Loops over it count iterations; list(range(n))
    # and friends check the length before they build anything.


def _dot_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    _check_binop("@", np.asarray(args[0]), np.asarray(args[1]), guard, span)


def _join_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    sep, items = args[0], args[1]
    if isinstance(items, (list, tuple)):
        total = len(sep) * max(len(items) - 1, 0) + sum(len(s) for s in items if isinstance(s, str))
        guard.length(total, "str.join", span)


def _replace_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    if all(isinstance(a, str) for a in args[:3]):
        text, old, new = args[:3]
        n = text.count(old) if old else len(text) + 1
        guard.length(len(text) + n * (len(new) - len(old)), "str.replace", span)


def _grow_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    """append/insert add one element; extend adds len(argument)."""
    added = (_size_of(args[1]) or 0) if len(args) == 2 and not isinstance(args[1], (int, float)) else 1
    guard.length(len(args[0]) + added, "the list", span)


def _zip_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    sizes = [_size_of(a) for a in args]
    if sizes and all(s is not None for s in sizes):
        guard.length(min(sizes), "zip()", span)


def _sum_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    if len(args) == 2 and isinstance(args[1], (list, tuple, str)):
        guard.length(_deep_size(list(args), guard.limits.max_sequence_length), "sum() of sequences", span,
                     lower_bound=True)


def _int_check(guard: _Guard, args: list, kwargs: dict, span: Span) -> None:
    """int('9' * 5000): refuse by the digit count, before Python parses it."""
    if args and isinstance(args[0], str):
        digits = len(args[0].strip().lstrip("+-").replace("_", ""))
        if digits > guard.limits.max_int_bits * math.log10(2) + 1:
            raise RuntimeStop(E_INT_SIZE, f"int() of a {digits}-digit string exceeds max_int_bits "
                                          f"({guard.limits.max_int_bits})", span)


def _as_int(value: Any = 0) -> int:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"cannot convert {value} to an integer")
    return int(value)


def _round(value: Any, ndigits: Any = None) -> Any:
    if ndigits is None:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"cannot round {value} to an integer")
        return round(value)
    return round(value, ndigits)


def _np_round(a: Any, decimals: int = 0) -> Any:
    return np.round(a, decimals)


_AXIS = frozenset({"axis"})
_AXIS_KEEP = frozenset({"axis", "keepdims"})
_ARRAYS = _deep_check("the array")


def _reduction(fn: Callable) -> Impl:
    return Impl(fn, 2, _AXIS_KEEP)


def _ufunc(fn: Callable, n: int = 1) -> Impl:
    return Impl(fn, n, min_args=n)


NUMPY: dict[str, Impl] = {
    "array": Impl(npf.array, 1, check=_ARRAYS, min_args=1),
    "asarray": Impl(npf.asarray, 1, check=_ARRAYS, min_args=1),
    "mean": _reduction(npf.mean), "sum": _reduction(npf.sum), "min": _reduction(npf.min),
    "max": _reduction(npf.max), "amin": _reduction(npf.amin), "amax": _reduction(npf.amax),
    "median": _reduction(npf.median), "std": _reduction(npf.std),
    "argmin": Impl(npf.argmin, 2, _AXIS), "argmax": Impl(npf.argmax, 2, _AXIS),
    "argsort": Impl(npf.argsort, 2, _AXIS), "sort": Impl(npf.sort, 2, _AXIS),
    "linalg.norm": Impl(npf.linalg.norm, 3, frozenset({"axis", "ord", "keepdims"})),
    "linspace": Impl(npf.linspace, 3, frozenset({"num", "endpoint"}), _linspace_check, 2),
    "arange": Impl(npf.arange, 3, check=_arange_check, min_args=1),
    "zeros": Impl(npf.zeros, 1, check=_shape_check("np.zeros"), min_args=1),
    "ones": Impl(npf.ones, 1, check=_shape_check("np.ones"), min_args=1),
    "stack": Impl(npf.stack, 2, _AXIS, _ARRAYS, 1), "vstack": Impl(npf.vstack, 1, check=_ARRAYS, min_args=1),
    "hstack": Impl(npf.hstack, 1, check=_ARRAYS, min_args=1),
    "column_stack": Impl(npf.column_stack, 1, check=_ARRAYS, min_args=1),
    "concatenate": Impl(npf.concatenate, 2, _AXIS, _ARRAYS, 1),
    "deg2rad": _ufunc(npf.deg2rad), "rad2deg": _ufunc(npf.rad2deg), "radians": _ufunc(npf.radians),
    "degrees": _ufunc(npf.degrees), "cos": _ufunc(npf.cos), "sin": _ufunc(npf.sin), "tan": _ufunc(npf.tan),
    "arctan": _ufunc(npf.arctan), "arccos": _ufunc(npf.arccos), "arcsin": _ufunc(npf.arcsin),
    "arctan2": _ufunc(npf.arctan2, 2), "hypot": _ufunc(npf.hypot, 2),
    "sqrt": _ufunc(npf.sqrt), "square": _ufunc(npf.square), "exp": _ufunc(npf.exp), "log": _ufunc(npf.log),
    "abs": _ufunc(npf.abs), "absolute": _ufunc(npf.absolute), "sign": _ufunc(npf.sign),
    "floor": _ufunc(npf.floor), "ceil": _ufunc(npf.ceil),
    "minimum": _ufunc(npf.minimum, 2), "maximum": _ufunc(npf.maximum, 2),
    "clip": Impl(npf.clip, 3, min_args=3),
    "round": Impl(_np_round, 2, frozenset({"decimals"}), min_args=1),
    "around": Impl(_np_round, 2, frozenset({"decimals"}), min_args=1),
    "dot": Impl(npf.dot, 2, check=_dot_check, min_args=2), "cross": Impl(npf.cross, 2, min_args=2),
    "isclose": Impl(npf.isclose, 2, frozenset({"atol", "rtol"}), min_args=2),
    "allclose": Impl(npf.allclose, 2, frozenset({"atol", "rtol"}), min_args=2),
    "any": Impl(npf.any, 2, _AXIS), "all": Impl(npf.all, 2, _AXIS),
    "copy": Impl(npf.copy, 1, min_args=1), "flip": Impl(npf.flip, 2, _AXIS),
    "diff": Impl(npf.diff, 1, _AXIS, min_args=1),  # no `n`: np.diff(a, 10**9) loops 10**9 times
    "cumsum": Impl(npf.cumsum, 2, _AXIS), "where": Impl(npf.where, 3, min_args=1),
    "unique": Impl(npf.unique, 1, min_args=1), "transpose": Impl(npf.transpose, 1, min_args=1),
    "reshape": Impl(npf.reshape, 2, min_args=2),
}

# `print` is answered by Interpreter._builtin (its text is collected, never written out);
# sorted/min/max by Interpreter._keyed_builtin (their key functions may call the robot).
_COLLECTED = Impl(lambda *args: None, 64)

BUILTINS: dict[str, Impl] = {
    "len": Impl(len, min_args=1), "abs": Impl(abs, min_args=1),
    "range": Impl(range, 3, check=_range_check, min_args=1),
    "zip": Impl(lambda *a: list(zip(*a)), 8, check=_zip_check),
    "enumerate": Impl(lambda a, start=0: list(enumerate(a, start)), 2, frozenset({"start"}), min_args=1),
    "reversed": Impl(lambda a: list(reversed(a)), min_args=1),
    "sum": Impl(sum, 2, check=_sum_check, min_args=1), "round": Impl(_round, 2, min_args=1),
    "int": Impl(_as_int, check=_int_check), "float": Impl(float), "bool": Impl(bool),
    "str": Impl(str, check=_deep_check("str()")),
    "list": Impl(list), "tuple": Impl(tuple), "dict": Impl(dict),
    "any": Impl(any, min_args=1), "all": Impl(all, min_args=1),
    "print": _COLLECTED, "sorted": _COLLECTED, "min": _COLLECTED, "max": _COLLECTED,
}
_KEYED_BUILTINS = frozenset({"sorted", "min", "max"})
# Builtins that walk their arguments in C (each element counts as a loop iteration), and
# those of them that build a new sequence of that length (checked against the length limit).
_WALKING = frozenset({"sum", "any", "all", "list", "tuple", "dict", "zip", "enumerate", "reversed", "str"})
_MATERIALISING = frozenset({"list", "tuple", "dict", "zip", "enumerate", "reversed"})
_CONSTANT_TIME_METHODS = frozenset({"append", "pop", "get", "T", "shape", "ndim", "size"})


_work = costs.work


def _method(fn: Callable, n_args: int = 0, check: Check | None = None) -> Impl:
    """A method entry: `fn(receiver, *args)` with exactly `n_args` arguments."""
    return Impl(fn, n_args, check=check, min_args=n_args)


_LIST_METHODS: dict[str, Impl] = {
    "append": _method(list.append, 1, _grow_check), "extend": _method(list.extend, 1, _grow_check),
    "insert": _method(list.insert, 2, _grow_check), "pop": Impl(list.pop, 1),
    "index": _method(list.index, 1), "remove": _method(list.remove, 1), "copy": _method(list.copy),
    "count": _method(list.count, 1), "reverse": _method(list.reverse),
    "sort": _method(list.sort),  # with key=/reverse=: Interpreter._call sorts like sorted()
}
_DICT_METHODS: dict[str, Impl] = {
    "items": _method(lambda d: list(d.items())), "keys": _method(lambda d: list(d)),
    "values": _method(lambda d: list(d.values())), "get": Impl(dict.get, 2, min_args=1),
    "copy": _method(dict.copy),
}
_STR_METHODS: dict[str, Impl] = {
    "split": Impl(str.split, 2), "join": _method(str.join, 1, _join_check),
    "replace": _method(str.replace, 2, _replace_check),
    "startswith": _method(str.startswith, 1), "endswith": _method(str.endswith, 1),
    "lower": _method(str.lower), "upper": _method(str.upper), "strip": Impl(str.strip, 1),
    "lstrip": Impl(str.lstrip, 1), "rstrip": Impl(str.rstrip, 1),
    "capitalize": _method(str.capitalize), "title": _method(str.title),
    "find": _method(str.find, 1), "count": _method(str.count, 1),
}
_ARRAY_METHODS: dict[str, Impl] = {
    "tolist": _method(lambda a: a.tolist()), "copy": _method(npf.copy),
    "mean": Impl(npf.mean, 1, _AXIS), "sum": Impl(npf.sum, 1, _AXIS),
    "min": Impl(npf.min, 1, _AXIS), "max": Impl(npf.max, 1, _AXIS),
    "argmin": Impl(npf.argmin, 0, _AXIS), "argmax": Impl(npf.argmax, 0, _AXIS),
    "flatten": _method(npf.ravel), "reshape": Impl(npf.reshape, 1, min_args=1),
    # attribute-like names, lowered by the front end as zero-argument methods
    "T": _method(npf.transpose), "shape": _method(npf.shape), "ndim": _method(npf.ndim),
    "size": _method(npf.size),
}
_TUPLE_METHODS: dict[str, Impl] = {"index": _method(tuple.index, 1), "count": _method(tuple.count, 1)}
# Which table a receiver's methods come from (first isinstance match). Built at import, so
# the array entry holds capc.lazy_numpy's stand-ins when numpy is not loaded yet (they match
# exactly the arrays, once there are any); `METHODS_BY_TYPE`, read from outside, names
# numpy's own types whenever numpy is loaded.
_METHODS_BY_TYPE: tuple[tuple[type, dict[str, Impl]], ...] = (
    (list, _LIST_METHODS), (dict, _DICT_METHODS), (str, _STR_METHODS),
    ((np.ndarray, np.generic), _ARRAY_METHODS), (tuple, _TUPLE_METHODS),
)


def __getattr__(name: str) -> Any:
    if name == "METHODS_BY_TYPE":
        return tuple((((np.ndarray, np.generic) if table is _ARRAY_METHODS else kind), table)
                     for kind, table in _METHODS_BY_TYPE)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _arity(entry: Impl, n: int, what: str, span: Span) -> None:
    if not entry.min_args <= n <= entry.max_args:
        wanted = (f"{entry.min_args}" if entry.min_args == entry.max_args
                  else f"{entry.min_args} to {entry.max_args}")
        raise RuntimeStop(E_POLICY_ERROR, f"{what} takes {wanted} positional argument(s) here, got {n}", span)


# --- driving helpers ------------------------------------------------------------------

def run_program(program: ir.Program, answer: Callable[[PrimitiveCall], Any],
                limits: ResourceLimits = DEFAULT_LIMITS) -> Interpreter:
    """Run `program` to the end, answering each PrimitiveCall with `answer(call)`.
    Returns the finished interpreter (its `printed`, `steps`, `calls`). Raises RuntimeStop."""
    interpreter = Interpreter(program, limits)
    gen = interpreter.run()
    try:
        call = next(gen)
        while True:
            call = gen.send(answer(call))
    except StopIteration:
        return interpreter

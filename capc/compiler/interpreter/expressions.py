"""Expressions: evaluation as a generator (`_eval`, which may yield a call to the driver)
and, for call-free expressions, as compiled closures (`_compile`); arithmetic, comparison,
indexing, f-strings and comprehensions. `Expressions` is a mixin of `Interpreter`.
"""

from __future__ import annotations

import operator
import re
from typing import Any, Callable

from capc.lazy_numpy import np

from capc.compiler import costs, ir
from capc.compiler.execution import describe, snapshot
from capc.compiler.interpreter.budgets import _check_binop, _deep_size, _Guard, _size_of, _work
from capc.compiler.interpreter.tables import BUILTINS, _KEYED_BUILTINS
from capc.compiler.interpreter.values import (
    E_POLICY_ERROR, E_UNSUPPORTED, BuiltinValue, Closure, Env, Gen, RuntimeStop, UserFunction,
    _NOT_LEAF, _POLICY_EXCEPTIONS,
)
from capc.diagnostics import Span

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


def without_yields(gen: Gen, span: Span) -> Any:
    """Run a generator that is known not to yield (a builtin without a key function)."""
    try:
        next(gen)
    except StopIteration as stop:
        return stop.value
    gen.close()
    raise RuntimeStop(E_UNSUPPORTED, "a call that should not reach the robot did", span)


# --- f-string format specs ------------------------------------------------------------

# [[fill]align][sign][z][#][0][width][grouping][.precision][type] (Python's mini-language).
_FORMAT_SPEC = re.compile(r"(?:.?[<>=^])?[+\- ]?z?#?0?(?P<width>\d*)[_,]?(?:\.(?P<precision>\d+))?[a-zA-Z%]?\Z",
                          re.DOTALL)


def format_field(value: Any, conversion: str, spec: str, guard: _Guard, span: Span) -> str:
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
        raise RuntimeStop(E_POLICY_ERROR, f"cannot format {describe(value)} with {spec!r}: {exc}", span)



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



class Expressions:
    """Evaluating expressions (a mixin of `Interpreter`: it uses its budgets and calls)."""

    def _is_free(self, expr: ir.Expr) -> bool:
        free = self._call_free.get(id(expr))
        if free is None:
            free = self._call_free[id(expr)] = _is_call_free(expr)
        return free

    def _truth(self, value: Any, span: Span) -> bool:
        try:
            return bool(value)
        except ValueError:
            raise RuntimeStop(E_POLICY_ERROR, f"the truth value of {describe(value)} is ambiguous", span,
                              hint="use np.any(...) or np.all(...)") from None

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
            return self.arith(expr.op, left, right, expr.span)
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
                    raise RuntimeStop(E_POLICY_ERROR, f"{describe(key)} cannot be a dict key", k.span) from None
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
        as `_eval` (arith, compare_values, _unary, _subscript, _numpy, ...): one semantics,
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
            left, right, op, arith = self._compile(expr.left), self._compile(expr.right), expr.op, self.arith
            return lambda env: arith(op, left(env), right(env), span)
        if kind is ir.Compare:
            operands = [self._compile(o) for o in expr.operands]
            ops, step, truth = expr.ops, self.compare_values, self._truth
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
                return without_yields(gen, span)
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

    def arith(self, op: str, left: Any, right: Any, span: Span, inplace: bool = False) -> Any:
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
            raise RuntimeStop(E_POLICY_ERROR, f"cannot compute {describe(left)} {op} {describe(right)}: "
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
            result = self.compare_values(op, left, right, expr.span)
            if len(expr.ops) > 1 and not self._truth(result, expr.span):
                return result
            left = right
        return result

    def compare_values(self, op: str, left: Any, right: Any, span: Span) -> Any:
        fn = _COMPARE.get(op)
        if fn is None:
            raise RuntimeStop(E_UNSUPPORTED, f"comparison {op} is not supported", span)
        if type(left) in _PLAIN_NUMBERS and type(right) in _PLAIN_NUMBERS:
            return fn(left, right)
        if isinstance(left, (list, tuple, dict)) or isinstance(right, (list, tuple, dict)):
            self.guard.deep_length([left, right], "the comparison", span)
            self._iteration(span, _work([right] if op in ("in", "not in") else [left]))
        elif op in ("in", "not in") and isinstance(right, str):
            self._iteration(span, len(right))
        try:
            return fn(left, right)
        except _POLICY_EXCEPTIONS as exc:
            raise RuntimeStop(E_POLICY_ERROR, f"cannot compare {describe(left)} {op} {describe(right)}: "
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
            raise RuntimeStop(E_POLICY_ERROR, f"{describe(value)} cannot be indexed", span)
        if isinstance(index, np.ndarray) and index.dtype == object:
            raise RuntimeStop(E_POLICY_ERROR, "an index array must hold numbers or booleans", span)
        try:
            result = value[index]
        except KeyError:
            raise RuntimeStop(E_POLICY_ERROR, f"key {index!r} is not in the dict", span) from None
        except IndexError as exc:
            raise RuntimeStop(E_POLICY_ERROR, f"index out of range: {exc}", span) from None
        except _POLICY_EXCEPTIONS as exc:
            raise RuntimeStop(E_POLICY_ERROR, f"cannot index {describe(value)} with {index!r}: {exc}",
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
                text = format_field(value, part.conversion, part.format_spec, self.guard, part.value.span)
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
        items = snapshot(self, iterable, gen.iter.span)
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

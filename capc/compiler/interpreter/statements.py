"""Statements: blocks, loops, `if`, assignment and augmented assignment, and the closures
that run simple statements without a generator. A block ends with None (fell through) or a
`Signal` (capc.compiler.execution: return, break, continue). `Statements` is a mixin of `Interpreter`.
"""

from __future__ import annotations

from typing import Any, Iterable

from capc.lazy_numpy import np

from capc.compiler import costs, ir
from capc.compiler.execution import BREAK, CONTINUE, check_unpack, describe, returned, snapshot
from capc.compiler.interpreter.budgets import _size_of
from capc.compiler.interpreter.values import (
    E_POLICY_ERROR, E_UNSUPPORTED, Env, Gen, RuntimeStop, _COMPLEX, _NOT_LEAF, _POLICY_EXCEPTIONS,
)
from capc.diagnostics import Span


class Statements:
    """Executing statements (a mixin of `Interpreter`)."""

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
            return returned(value)
        elif kind is ir.Break:
            return BREAK
        elif kind is ir.Continue:
            return CONTINUE
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
        for item in snapshot(self, iterable, stmt.iter.span):
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
            if signal is BREAK:
                break
            if signal is not None and signal is not CONTINUE:
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
            if signal is BREAK:
                return None
            if signal is not None and signal is not CONTINUE:
                return signal

    # -- assignment ------------------------------------------------------------------

    def _assign(self, target: ir.Target, value: Any, env: Env) -> Gen:
        kind = type(target)
        if kind is ir.NameTarget:
            env.vars[target.id] = value
        elif kind is ir.TupleTarget:
            items = list(snapshot(self, value, target.span))
            check_unpack(self, items, target)
            for sub, item in zip(target.elts, items):
                yield from self._assign(sub, item, env)
        elif kind is ir.SubscriptTarget:
            container, index = yield from self._item(target.value, target.index, env)
            self._store_item(container, index, value, target.span)
        else:
            raise RuntimeStop(E_UNSUPPORTED, f"assignment target {kind.__name__} is not supported", target.span)

    def _store_item(self, container: Any, index: Any, value: Any, span: Span) -> None:
        if not isinstance(container, (list, dict, np.ndarray)):
            raise RuntimeStop(E_POLICY_ERROR, f"cannot assign into {describe(container)}", span)
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
                raise RuntimeStop(E_POLICY_ERROR, f"cannot extend a list with {describe(value)}", stmt.span)
            self.guard.length(len(current) + (_size_of(value) or 0), "the list", stmt.span)
        return self.arith(stmt.op, current, value, stmt.span, inplace=True)

"""Calls: robot primitives and undefined functions (yielded to the driver as
`PrimitiveCall`s), user functions and lambdas (argument binding, call depth), and the
library (numpy, builtins, methods) through the tables of `tables`. `Calls` is a mixin of
`Interpreter`.
"""

from __future__ import annotations

from typing import Any

from capc.lazy_numpy import np

from capc.compiler import costs, ir
from capc.compiler.interpreter.budgets import _size_of, _work
from capc.compiler.interpreter.tables import (
    BUILTINS, NUMPY, _arity, _deep_check, _KEYED_BUILTINS, _MATERIALISING, _METHODS_BY_TYPE,
    _CONSTANT_TIME_METHODS, _WALKING,
)
from capc.compiler.interpreter.values import (
    E_BAD_PRIMITIVE_ARGS, E_POLICY_ERROR, E_UNSUPPORTED, BuiltinValue, Closure, Env, Gen,
    PrimitiveCall, RuntimeStop, UserFunction, _describe, _NOT_LEAF, _POLICY_EXCEPTIONS, _Signal,
)
from capc.diagnostics import Span

CALL_STEPS = costs.CALL_STEPS  # what a call leaving the program costs (capc.compiler.costs)


class Calls:
    """Calling things (a mixin of `Interpreter`)."""

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

"""Calls: robot primitives and undefined functions (yielded to the driver as
`PrimitiveCall`s), user functions and lambdas (argument binding, call depth), and the
library (numpy, builtins, methods) through the tables of `tables`. `Calls` is a mixin of
`Interpreter`.
"""

from __future__ import annotations

from typing import Any, NoReturn

from capc.lazy_numpy import np

from capc.compiler import costs, ir, lib_numpy_cap, lib_shapely
from capc.compiler.execution import (
    bind_arguments, bind_lambda, describe, dispatch_call, primitive_of, result_of, snapshot,
)
from capc.compiler.interpreter.budgets import _size_of, _work
from capc.compiler.interpreter.expressions import without_yields
from capc.compiler.interpreter.tables import (
    BUILTINS, NUMPY, _arity, _KEYED_BUILTINS, _MATERIALISING, _METHODS_BY_TYPE,
    _CONSTANT_TIME_METHODS, _WALKING,
)
from capc.compiler.interpreter.values import (
    E_BAD_PRIMITIVE_ARGS, E_POLICY_ERROR, E_UNSUPPORTED, BuiltinValue, Closure, Env, Gen,
    PrimitiveCall, RuntimeStop, UserFunction, _NOT_LEAF, _POLICY_EXCEPTIONS,
)
from capc.compiler.types import UNKNOWN
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
        return (yield from dispatch_call(self, expr, args, kwargs, env))

    # -- what capc.compiler.execution asks of an executor (each handler a generator) --

    def fault(self, message: str, span: Span | None) -> NoReturn:
        raise RuntimeStop(E_POLICY_ERROR, message, span)

    def unsupported(self, message: str, span: Span | None) -> NoReturn:
        raise RuntimeStop(E_UNSUPPORTED, message, span)

    def lookup(self, name: str, env: Env, span: Span) -> Any:
        found, fn = env.lookup(name)
        return fn if found else self._name(ir.Name(span, UNKNOWN, name), env)

    def call_api(self, name: str, args: list, kwargs: dict, span: Span) -> Gen:
        primitive = primitive_of(self, name, span)
        try:
            bound = primitive.bind(args, kwargs)
        except TypeError as exc:
            raise RuntimeStop(E_BAD_PRIMITIVE_ARGS, str(exc), span) from None
        self.charge(CALL_STEPS, span)
        call = PrimitiveCall(primitive, bound, span, self.calls)
        self.calls += 1
        result = yield call
        return result

    def call_numpy(self, name: str, args: list, kwargs: dict, span: Span) -> Gen:
        return self._numpy(name, args, kwargs, span)
        yield  # a generator, as every handler: nothing here leaves the program

    def call_geometry(self, name: str, args: list, kwargs: dict, span: Span) -> Gen:
        return lib_shapely.call_function(self, name, args, kwargs, span)
        yield  # a generator, as every handler: shapely never leaves the program

    def call_builtin(self, name: str, args: list, kwargs: dict, span: Span) -> Gen:
        return (yield from self._builtin(name, args, kwargs, span))

    def call_method(self, name: str, receiver: Any, args: list, kwargs: dict, span: Span) -> Gen:
        if name == "sort" and isinstance(receiver, list):
            # like sorted(): the key may call the robot, so it is evaluated here
            if args:
                raise RuntimeStop(E_POLICY_ERROR, "list.sort() takes only key= and reverse=", span)
            receiver[:] = yield from self._keyed_builtin("sorted", [receiver], kwargs, span)
            return None
        return self._method(name, receiver, args, kwargs, span)

    def call_function(self, function: ir.FunctionDef, args: list, kwargs: dict, span: Span) -> Gen:
        return (yield from self._call_user(function, args, kwargs, span))

    def call_outside(self, call: ir.Call, args: list, kwargs: dict) -> Gen:
        """A function nobody has defined: the driver answers it (the LLM layer, a test)."""
        self.charge(CALL_STEPS, call.span)
        leaving = PrimitiveCall(None, {"args": args, "kwargs": kwargs}, call.span, self.calls, call.callee)
        self.calls += 1
        return (yield leaving)

    def call_value(self, fn: Any, args: list, kwargs: dict, span: Span) -> Gen:
        """Call a function value: a lambda, a user def, or a builtin used as a value."""
        if isinstance(fn, Closure):
            scope = Env(fn.env)
            scope.vars.update(bind_lambda(self, fn.node.params, args, kwargs, span))
            self._enter(span)
            try:
                return (yield from self._eval(fn.node.body, scope))
            finally:
                self.depth -= 1
        if isinstance(fn, UserFunction):
            return (yield from self._call_user(fn.definition, args, kwargs, span))
        if isinstance(fn, BuiltinValue):
            return (yield from self._builtin(fn.name, args, kwargs, span))
        raise RuntimeStop(E_POLICY_ERROR, f"{describe(fn)} is not callable", span)

    def _call_user(self, function: ir.FunctionDef, args: list, kwargs: dict, span: Span) -> Gen:
        bound, defaults = bind_arguments(self, function, args, kwargs, span)
        scope = Env(self.globals)
        scope.vars.update(bound)
        self._enter(span)
        try:
            for param in defaults:
                scope.vars[param.name] = yield from self._eval(param.default, scope)
            saved = self._span
            signal = yield from self._block(function.body, scope)
            self._span = saved
        finally:
            self.depth -= 1
        return result_of(signal)

    def call_library(self, space: str, name: str, args: list, kwargs: dict, span: Span) -> Any:
        """Call a library name directly, outside a run's generator (the verifier's known-value
        operations, capc.safety.concrete): `space` is "numpy", "builtin" (sorted/min/max
        without a key function: nothing could call the robot) or "method" (args[0] is the
        receiver)."""
        if space == "numpy":
            return self._numpy(name, args, kwargs, span)
        if space == "builtin":
            return without_yields(self._builtin(name, args, kwargs, span), span)
        if space == "method":
            return self._method(name, args[0], args[1:], kwargs, span)
        raise ValueError(f"no library space {space!r}")

    # -- library -------------------------------------------------------------------

    def _numpy(self, name: str, args: list, kwargs: dict, span: Span) -> Any:
        if name in lib_numpy_cap.RUN_HERE:  # np.random.*: the run's own generator
            return lib_numpy_cap.call(self, name, args, kwargs, span)
        entry = NUMPY.get(name)
        if entry is None and name in lib_numpy_cap.FUNCTIONS:
            return lib_numpy_cap.call(self, name, args, kwargs, span)
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
            self.guard.deep_length(args + list(kwargs.values()), "print()", span)
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
            items = list(snapshot(self, args[0], span))
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
        if lib_shapely.is_geometry(receiver):
            return lib_shapely.call_method(self, name, receiver, args, kwargs, span)
        if lib_shapely.is_geometry(receiver):
            return lib_shapely.call_method(self, name, receiver, args, kwargs, span)
        table = None
        for kind, methods in _METHODS_BY_TYPE:
            if isinstance(receiver, kind):
                table = methods
                break
        entry = table.get(name) if table is not None else None
        if entry is None:
            raise RuntimeStop(E_POLICY_ERROR, f"{describe(receiver)} has no method '{name}' available to "
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

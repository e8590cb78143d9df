"""The parts of running a policy that both executors share, written once.

The interpreter (capc.compiler.interpreter) runs a policy on values; the verifier's symbolic
executor (capc.safety.symbolic) runs it on values that may be Z3 terms. The proof holds only
if the second does what the first does, so what does not depend on the kind of value is here,
called by both: binding arguments to parameters, the snapshot a loop walks, unpacking, which
handler a call goes to, and how a block says that it ended. Each executor supplies how it
evaluates and how it fails (`fault`: the policy's error, E501 in a run, a `PolicyFault` in
the proof; `unsupported`: IR that only a hand-built program contains), so a failure has one
message, whichever executor meets it.

How a block ends: it returns None when it falls through, else the `Signal` that ends it:
`BREAK`, `CONTINUE`, or `returned(value)`. A loop stops on BREAK, goes on after CONTINUE and
hands any other signal up; a call takes `result_of` the signal its body ended with.
"""

from __future__ import annotations

from typing import Any, Iterable, NoReturn, Protocol

from capc.lazy_numpy import np

from capc.compiler import ir
from capc.diagnostics import Span


class Executor(Protocol):
    """What `dispatch_call` and the helpers below ask of an executor. The call handlers
    return whatever the executor's evaluation returns (the interpreter's are generators)."""

    program: ir.Program

    def fault(self, message: str, span: Span | None) -> NoReturn: ...
    def unsupported(self, message: str, span: Span | None) -> NoReturn: ...
    def call_api(self, name: str, args: list, kwargs: dict, span: Span) -> Any: ...
    def call_numpy(self, name: str, args: list, kwargs: dict, span: Span) -> Any: ...
    def call_builtin(self, name: str, args: list, kwargs: dict, span: Span) -> Any: ...
    def call_method(self, name: str, receiver: Any, args: list, kwargs: dict, span: Span) -> Any: ...
    def call_geometry(self, name: str, args: list, kwargs: dict, span: Span) -> Any: ...
    def call_function(self, function: ir.FunctionDef, args: list, kwargs: dict, span: Span) -> Any: ...
    def call_value(self, fn: Any, args: list, kwargs: dict, span: Span) -> Any: ...
    def call_outside(self, call: ir.Call, args: list, kwargs: dict) -> Any: ...
    def lookup(self, name: str, env: Any, span: Span) -> Any: ...


# --- how a block ends ---------------------------------------------------------------------

class Signal:
    """How a block ends when it does not fall through."""

    __slots__ = ("kind", "value")

    def __init__(self, kind: str, value: Any = None):
        self.kind, self.value = kind, value


BREAK = Signal("break")
CONTINUE = Signal("continue")


def returned(value: Any) -> Signal:
    return Signal("return", value)


def result_of(signal: Signal | None) -> Any:
    """What a call returns when its body ended with `signal` (None when it fell through)."""
    return signal.value if signal is not None and signal.kind == "return" else None


def end_of_program(ex: Executor, signal: Signal | None, span: Span | None) -> None:
    """A top-level `return` ends the policy; `break`/`continue` outside a loop are refused
    by the front end, so only hand-built IR reaches that message."""
    if signal is not None and signal.kind != "return":
        ex.unsupported(f"'{signal.kind}' outside a loop", span)


# --- calls ---------------------------------------------------------------------------------

def dispatch_call(ex: Executor, call: ir.Call, args: list, kwargs: dict, env: Any) -> Any:
    """Send a call, its arguments evaluated, to the executor's handler for its kind. A
    `def` supplied after compilation (the LLM layer's helper) answers a call that was
    undefined when the program was compiled."""
    kind, name, span = call.kind, call.callee, call.span
    if kind == ir.CALL_API:
        return ex.call_api(name, args, kwargs, span)
    if kind == ir.CALL_NUMPY:
        return ex.call_numpy(name, args, kwargs, span)
    if kind == ir.CALL_BUILTIN:
        return ex.call_builtin(name, args, kwargs, span)
    if kind == ir.CALL_GEOMETRY:
        return ex.call_geometry(name, args, kwargs, span)
    if kind == ir.CALL_METHOD:
        if not args:
            ex.unsupported(f"method {name} without a receiver", span)
        return ex.call_method(name, args[0], args[1:], kwargs, span)
    if kind == ir.CALL_USER or kind == ir.CALL_UNDEFINED:
        function = ex.program.functions.get(name)
        if function is not None:
            return ex.call_function(function, args, kwargs, span)
        if kind == ir.CALL_USER:
            ex.fault(f"function '{name}' is not defined", span)
        return ex.call_outside(call, args, kwargs)
    if kind == ir.CALL_LAMBDA:
        return ex.call_value(ex.lookup(name, env, span), args, kwargs, span)
    ex.unsupported(f"call kind {kind!r} is not supported", span)


def primitive_of(ex: Any, name: str, span: Span) -> Any:
    """The robot primitive `name` of the executor's profile."""
    primitive = ex.profile.primitive(name)
    if primitive is None:
        ex.fault(f"'{name}' is not a primitive of the {ex.profile.name} robot", span)
    return primitive


def _arguments(n: int) -> str:
    return f"{n} argument" if n == 1 else f"{n} arguments"


def bind_arguments(ex: Executor, function: ir.FunctionDef, args: list, kwargs: dict,
                   span: Span) -> tuple[dict[str, Any], list[ir.Param]]:
    """The parameters of `function` bound by a call, and, in order, those left to their
    defaults. Defaults are evaluated by the executor per call in the callee's scope (a
    fresh list each time), unlike Python, whose shared mutable defaults are a classic bug."""
    params = function.params
    if len(args) > len(params):
        ex.fault(f"{function.name}() takes {_arguments(len(params))}, got {len(args)}", span)
    bound = {param.name: value for param, value in zip(params, args)}
    for key, value in kwargs.items():
        if not any(p.name == key for p in params):
            ex.fault(f"{function.name}() has no parameter '{key}'", span)
        if key in bound:
            ex.fault(f"{function.name}() got two values for '{key}'", span)
        bound[key] = value
    defaults = []
    for param in params:
        if param.name not in bound:
            if param.default is None:
                ex.fault(f"{function.name}() is missing argument '{param.name}'", span)
            defaults.append(param)
    return bound, defaults


def bind_lambda(ex: Executor, params: tuple[str, ...], args: list, kwargs: dict, span: Span) -> dict[str, Any]:
    """A lambda's parameters bound by a call: positional arguments only, all of them."""
    if kwargs or len(args) != len(params):
        given = len(args) + len(kwargs)
        ex.fault(f"the lambda takes {_arguments(len(params))}, got {given}", span)
    return dict(zip(params, args))


# --- iteration and unpacking -----------------------------------------------------------

def snapshot(ex: Executor, value: Any, span: Span) -> Iterable[Any]:
    """What a `for` loop, a comprehension or an unpacking walks: a list is copied first
    (the loop may grow it), a dict gives its keys as they are now, an array its rows."""
    if isinstance(value, list):
        return list(value)
    if isinstance(value, (tuple, str, range)):
        return value
    if isinstance(value, dict):
        return list(value)
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            ex.fault("cannot iterate over a 0-d array", span)
        return list(value)
    ex.fault(f"cannot iterate over {describe(value)}", span)


def check_unpack(ex: Executor, items: list, target: ir.TupleTarget) -> None:
    if len(items) != len(target.elts):
        ex.fault(f"cannot unpack {len(items)} values into {len(target.elts)} names", target.span)


def describe(value: Any) -> str:
    """A value as a message names it."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a value of type {type(value).__name__}"

"""The concrete semantics of the policy language: a step interpreter over the typed IR.

`Interpreter(program).run()` is a generator. Pure computation (arithmetic, numpy, builtins,
user defs, lambdas, comprehensions) happens inside it; every call that reaches outside the
program — a robot primitive, a sub-LMP, a function nobody defined — is *yielded* as a
`PrimitiveCall` and the driver (the runtime, the verifier's counterexample replay, a test)
answers it with `.send(result)`. So a run can be stepped, paused, traced and stopped between
any two calls, and the interpreter never touches a robot itself.

Policies are hostile input. Nothing here uses exec/eval/compile or looks attributes up by
name: every builtin, numpy function and method is an entry of an explicit table (`tables`), and
every way a policy could make the process allocate without bound (`[0] * n`, `'a' * n`,
`2 ** n`, `range(n)`, `np.zeros(n)`, broadcasting, string padding in f-strings, ...) is
checked against `ResourceLimits` *before* the allocation happens. Budgets that run out raise
`RuntimeStop` with an E42x code; errors of the policy itself (division by zero, index out of
range, a wrong argument to numpy) raise `RuntimeStop` E501 with the span of the expression.

The package is split by concern: `values` (what a run holds, RuntimeStop), `budgets` (steps,
iterations, depth, clock, sizes), `tables` (the callable library), `expressions`,
`statements` and `calls`; `Interpreter` below puts them together.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from capc.compiler import ir
from capc.compiler.execution import end_of_program
from capc.compiler.interpreter.budgets import Budgets, _Guard
from capc.compiler.interpreter.calls import Calls
from capc.compiler.interpreter.expressions import Expressions
from capc.compiler.interpreter.statements import Statements
from capc.compiler.interpreter.values import (
    E_CALL_DEPTH, Env, Gen, PrimitiveCall, RuntimeStop,
)
from capc.compiler.profiles import get_profile
from capc.diagnostics import Span
from capc.limits import DEFAULT_LIMITS, ResourceLimits


class Interpreter(Statements, Expressions, Calls, Budgets):
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

    def run(self) -> Gen:
        """Execute the program's top level. Yields PrimitiveCalls; returns None."""
        self._started = time.monotonic()
        try:
            result = yield from self._block(self.program.body, self.globals)
        except RecursionError:
            raise RuntimeStop(E_CALL_DEPTH, "the policy nests calls and expressions too deeply to run",
                              self._span) from None
        end_of_program(self, result, self._span)



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

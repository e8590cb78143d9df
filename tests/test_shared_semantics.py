"""The interpreter and the verifier's symbolic executor fail alike: binding, arity, unpacking
and iteration are written once (capc.compiler.execution), so each failure has one message,
whichever executor meets it. Each case calls both executors on the same hand-made call or
assignment (the type checker refuses most of these before either runs)."""

from __future__ import annotations

import pytest

from capc.compiler import ir
from capc.compiler.frontend import compile_source
from capc.compiler.interpreter import Interpreter
from capc.compiler.interpreter.values import Closure as RunClosure, Env, RuntimeStop, UserFunction
from capc.safety.symbolic import ConcreteChooser, Executor
from capc.safety.symvalues import Closure as SymClosure, Frame, FunctionValue, PolicyFault

SOURCE = """def place(block, bowl='blue bowl'):
    return [block, bowl]

twice = lambda x: 2 * x
first, second = place('red block')
"""
PROGRAM = compile_source(SOURCE)
PLACE = PROGRAM.functions["place"]
LAMBDA = ir.find(PROGRAM, lambda n: isinstance(n, ir.Lambda))
PAIR = ir.find(PROGRAM, lambda n: isinstance(n, ir.TupleTarget))
SPAN = PLACE.span


class _NoOracle:
    def api(self, *args):
        raise AssertionError("no robot call is expected")

    def undefined(self, *args):
        raise AssertionError("no undefined call is expected")


def _run_error(gen) -> str:
    with pytest.raises(RuntimeStop) as stop:
        next(gen)
    return stop.value.diagnostic.message


def _proof_error(thunk) -> str:
    with pytest.raises(PolicyFault) as fault:
        thunk()
    return fault.value.message


def _both(call) -> tuple[str, str]:
    """`call(interpreter_side, symbolic_side)` for each executor, and the two messages."""
    interp = Interpreter(PROGRAM)
    ex = Executor(PROGRAM, _NoOracle(), ConcreteChooser())
    return _run_error(call(interp, "run")), _proof_error(lambda: call(ex, "proof"))


CALLS = {
    "too many arguments": ([1, 2, 3], {}),
    "unknown keyword": (["red block"], {"colour": "red"}),
    "a value given twice": (["red block"], {"block": "green block"}),
    "a missing argument": ([], {"bowl": "red bowl"}),
}


@pytest.mark.parametrize("case", CALLS)
def test_binding_a_def_fails_alike(case):
    args, kwargs = CALLS[case]

    def call(executor, side):
        fn = UserFunction(PLACE) if side == "run" else FunctionValue(PLACE, ())
        return executor.call_value(fn, list(args), dict(kwargs), SPAN)
    run, proof = _both(call)
    assert run == proof
    assert "place()" in run


@pytest.mark.parametrize("args, kwargs", [([1, 2], {}), ([], {}), ([1], {"x": 1})])
def test_calling_a_lambda_with_the_wrong_arguments_fails_alike(args, kwargs):
    def call(executor, side):
        fn = RunClosure(LAMBDA, Env()) if side == "run" else SymClosure(LAMBDA.params, LAMBDA.body, Frame())
        return executor.call_value(fn, list(args), dict(kwargs), SPAN)
    run, proof = _both(call)
    assert run == proof and run.startswith("the lambda takes 1 argument,")


@pytest.mark.parametrize("value", [[1, 2, 3], ("a",), "abc", 5, {"k": 1, "j": 2, "i": 3}])
def test_unpacking_and_iterating_fail_alike(value):
    def call(executor, side):
        if side == "run":
            return executor._assign(PAIR, value, Env())
        return executor.assign(PAIR, value, Frame())
    run, proof = _both(call)
    assert run == proof
    assert run.startswith("cannot unpack") or run.startswith("cannot iterate")


@pytest.mark.parametrize("name, args, kwargs", [
    ("put_first_on_second", ["red block"], {}),
    ("put_first_on_second", ["red block", "blue bowl"], {"colour": "red"}),
    ("fly_to_the_moon", [], {}),
])
def test_robot_calls_that_cannot_bind_fail_alike(name, args, kwargs):
    interp = Interpreter(PROGRAM)
    ex = Executor(PROGRAM, _NoOracle(), ConcreteChooser())
    run = _run_error(interp.call_api(name, list(args), dict(kwargs), SPAN))
    proof = _proof_error(lambda: ex.call_api(name, list(args), dict(kwargs), SPAN))
    assert run == proof

"""The concrete interpreter: Python semantics of the subset, the PrimitiveCall protocol, and
every budget/size guard raising RuntimeStop before anything large is allocated."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from capc.compiler import lib_numpy_cap, library
from capc.compiler.frontend import compile_source
from capc.compiler.interpreter import Interpreter, run_program
from capc.compiler.interpreter.tables import BUILTINS, METHODS_BY_TYPE, NUMPY
from capc.compiler.interpreter.values import PrimitiveCall, RuntimeStop
from capc.limits import DEFAULT_LIMITS
from cpu_clock import cpu_at_most

POSITIONS = {"red block": np.array([0.1, -0.5]), "green block": np.array([-0.1, -0.4]),
             "blue bowl": np.array([0.0, -0.65])}


def answer(call: PrimitiveCall):
    if call.name == "get_obj_names":
        return list(POSITIONS)
    if call.name == "get_obj_pos":
        return POSITIONS[call.args["obj_name"]].copy()
    return None


def run(source: str, limits=DEFAULT_LIMITS) -> tuple[list[PrimitiveCall], Interpreter]:
    calls: list[PrimitiveCall] = []

    def record(call):
        calls.append(call)
        return answer(call)

    interpreter = run_program(compile_source(source, "<test>"), record, limits)
    return calls, interpreter


def said(source: str) -> list[str]:
    calls, _ = run(source)
    return [c.args["msg"] for c in calls if c.name == "say"]


def stop_code(source: str, limits=DEFAULT_LIMITS) -> RuntimeStop:
    with pytest.raises(RuntimeStop) as info:
        run(source, limits)
    return info.value


# --- the protocol ----------------------------------------------------------------------

def test_calls_are_yielded_in_order_with_bound_arguments_and_results_sent_back():
    source = ("objs = get_obj_names()\n"
              "blocks = [o for o in objs if 'block' in o]\n"
              "left = sorted(blocks, key=lambda n: get_obj_pos(n)[0])[0]\n"
              "put_first_on_second(left, 'blue bowl', speed=0.1)\n")
    program = compile_source(source, "<test>")
    gen = Interpreter(program).run()
    call = next(gen)
    assert (call.name, call.index, call.args, call.span.line) == ("get_obj_names", 0, {}, 1)
    assert call.primitive.name == "get_obj_names"
    call = gen.send(list(POSITIONS))
    seen = []
    while call.name == "get_obj_pos":
        seen.append(call.args["obj_name"])
        call = gen.send(POSITIONS[call.args["obj_name"]])
    assert seen == ["red block", "green block"]
    assert call.name == "put_first_on_second" and call.index == 3 and call.span.line == 4
    assert call.args == {"arg1": "green block", "arg2": "blue bowl", "speed": 0.1}
    with pytest.raises(StopIteration):
        gen.send(None)


def test_undefined_function_is_yielded_with_its_arguments():
    program = compile_source("x = make_line(3, gap=0.1)\nsay(str(x))\n", "<test>", )
    gen = Interpreter(program).run()
    call = next(gen)
    assert call.primitive is None and call.name == "make_line"
    assert call.args == {"args": [3], "kwargs": {"gap": 0.1}}
    assert gen.send([1, 2]).args["msg"] == "[1, 2]"


# --- Python semantics ----------------------------------------------------------------------

@pytest.mark.parametrize("source, expected", [
    ("say(str(1 < 2 <= 2 < 1))", "False"),
    ("say(f'{3.14159:.2f}|{7:>4}|{\"ab\"!r}')", "3.14|   7|'ab'"),
    ("x = [1, 2, 3, 4]\nsay(str(x[-1]) + str(x[1:3]) + str(x[::-1]))", "4[2, 3][4, 3, 2, 1]"),
    ("a, (b, c) = 1, (2, 3)\nsay(str(a + b * c))", "7"),
    ("d = {'a': 1, 'b': 2}\nt = 0\nfor k, v in d.items():\n    t += v\nsay(str(t))", "3"),
    ("i = 0\nt = 0\nwhile True:\n    i += 1\n    if i % 2 == 0:\n        continue\n    if i > 7:\n        break\n"
     "    t += i\nsay(str(t))", "16"),
    ("def f(a, b=10):\n    return a * b\nsay(str(f(2)) + ',' + str(f(2, b=3)))", "20,6"),
    ("k = 5\nadd = lambda x: x + k\nsay(str(add(1)))", "6"),
    ("x = 1\nys = [x for x in range(3)]\nsay(str(x) + str(ys))", "1[0, 1, 2]"),
    ("a = [1]\nb = a\nb += [2]\nsay(str(a))", "[1, 2]"),
    ("pairs = [(i, j) for i in range(3) for j in range(i)]\nsay(str(pairs))", "[(1, 0), (2, 0), (2, 1)]"),
    ("say(str(sum(x * x for x in range(4))))", "14"),
    ("s = 'red block'\nsay(s.split(' ')[0].upper() + '-' + '+'.join(['a', 'b']))", "RED-a+b"),
    ("say(str(7 // 2) + str(-7 % 3) + str(2 ** 10))", "321024"),
    ("say(str(None is None) + str(3 if [] else 4))", "True4"),
    ("xs = [3, 1, 2]\nxs.sort(reverse=True)\nsay(str(xs) + str(max(xs, key=lambda v: -v)))", "[3, 2, 1]1"),
    ("say(str(min(4, 2, 9)) + str(sorted('cab')))", "2['a', 'b', 'c']"),
    ("say('%.2f|%5s|%d%%' % (3.14159, 'ab', 7))", "3.14|   ab|7%"),
    ("say(str(list(zip([1, 2], 'ab'))) + str(list(enumerate('x', 1))))", "[(1, 'a'), (2, 'b')][(1, 'x')]"),
])
def test_python_semantics(source, expected):
    assert said(source) == [expected]


def test_numpy_semantics():
    source = ("pts = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])\n"
              "xs = pts[:, 0]\n"
              "c = np.mean(pts, axis=0)\n"
              "n = np.linalg.norm(pts[1] - pts[0])\n"
              "ang = np.linspace(0, 2 * np.pi, 5)\n"
              "circle = np.stack([np.cos(ang), np.sin(ang)], axis=1)\n"
              "say(f'{xs.tolist()} {c.tolist()} {n:.4f} {len(circle)} {np.argmin(xs)}')\n")
    assert said(source) == [f"[0.0, 2.0, 4.0] [2.0, 3.0] {np.sqrt(8):.4f} 5 0"]


def test_perception_results_flow_into_arithmetic():
    source = ("p = get_obj_pos('red block')\n"
              "q = p + np.array([0.0, 0.1])\n"
              "move_to(q)\n")
    calls, _ = run(source)
    assert np.allclose(calls[-1].args["p"], [0.1, -0.4])


def test_print_is_collected_not_written(capsys):
    _, interpreter = run("print('a', 1, sep='-')\nprint('b')\n")
    assert interpreter.printed == ["a-1", "b"]
    assert capsys.readouterr().out == ""


# --- policy errors ----------------------------------------------------------------------

@pytest.mark.parametrize("source, fragment, line", [
    ("x = 1\ny = x / (x - 1)", "division by zero", 2),
    ("xs = [1, 2]\nsay(str(xs[5]))", "index out of range", 2),
    ("d = {'a': 1}\nsay(str(d['b']))", "key 'b' is not in the dict", 2),
    ("p = get_obj_pos('red block')\nif p > 0:\n    say('x')", "ambiguous", 2),
])
def test_policy_errors_are_located(source, fragment, line):
    error = stop_code(source)
    assert error.code == "E501" and fragment in str(error) and error.span.line == line


# --- budgets and size guards (values computed at run time, so the front end cannot fold them) ---

K = "k = len(get_obj_names())\n"  # 3 at run time


@pytest.mark.parametrize("expr", [
    "[0] * (k * 10 ** 9)", "'ab' * (k * 10 ** 9)", "list(range(k * 10 ** 11))", "np.zeros(k * 10 ** 9)",
    "np.ones((k * 10 ** 4, k * 10 ** 4))", "np.linspace(0, 1, k * 10 ** 9)", "np.arange(0, k * 10 ** 9)",
    "('y' * (k * 200)).replace('', 'y' * (k * 200))", "np.zeros((k * 1000, 1)) + np.zeros((1, k * 1000))",
    "' '.join(['abc' * 1000] * (k * 100))",
])
def test_sequence_guards(expr):
    error = stop_code(K + f"x = {expr}\n")
    assert error.code == "E423" and error.span.line >= 2
    assert "max_sequence_length" in str(error)


def test_aliasing_bomb_is_refused_when_materialised():
    source = K + "row = [0] * (k * 30000)\nrows = [row] * (k * 30000)\ns = str(rows)\n"
    error = stop_code(source)
    assert error.code == "E423" and error.span.line == 4 and "more than 100,000" in str(error)


def test_int_guards():
    assert stop_code(K + "x = k ** (k * 10 ** 9)\n").code == "E424"
    assert stop_code(K + "x = (k * 10 ** 18) * (k * 10 ** 18)\n").code == "E424"
    assert stop_code(K + "x = int(10.0 ** (k * 100))\n").code == "E424"


@pytest.mark.parametrize("expr", ["f'{k:>900000}'", "'%0999999999d' % k", "'%*d' % (k * 10 ** 8, 1)",
                                  "'%.*f' % (k * 10 ** 8, 1.0)"])
def test_format_width_guards(expr):
    error = stop_code(K + f"s = {expr}\n")
    assert error.code == "E423" and ("width" in str(error) or "precision" in str(error))


@pytest.mark.parametrize("source, code", [
    ("x = sum(range(k * 10 ** 11))", "E421"),          # walking a lazy range is the cost
    ("x = list(range(k * 10 ** 11))", "E423"),         # building it is refused first
    ("x = sorted(list(range(10 ** 4)), key=lambda i: sum(range(10 ** 4)))", "E421"),
    ("x = int('9' * (k * 1000))", "E424"),
    ("xs = list(range(10 ** 4))\nfor i in range(100):\n    b = (k * 10 ** 6) in xs", "E421"),
    ("for i in range(k * 10 ** 11):\n    pass", "E421"),
])
def test_work_in_builtins_counts_against_the_budgets(source, code):
    with cpu_at_most(1.0):   # measured: at most 0.07 s
        assert stop_code(K + source + "\n").code == code


def test_every_robot_call_costs_steps():
    """An endless loop of calls ends on the step budget long before the loop budget."""
    error = stop_code("while True:\n    p = get_obj_pos('red block')\n")
    assert error.code == "E420" and error.span.line == 2


def test_while_true_ends_on_the_loop_budget_fast():
    with cpu_at_most(1.0):   # measured: 0.07 s
        error = stop_code("while True:\n    pass\n")
    assert error.code == "E421" and "loop budget exhausted after 100,000 iterations" in str(error)


def test_step_budget():
    error = stop_code("while True:\n    pass\n", DEFAULT_LIMITS.with_changes(max_steps=5000))
    assert error.code == "E420" and "step budget exhausted after 5,000 steps" in str(error)


def test_wall_clock_budget(monkeypatch):
    """An injected clock that advances 10 ms per reading: the budget of 50 ms ends the run at
    the sixth reading, on any machine."""
    readings = []

    def clock() -> float:
        readings.append(None)
        return 0.01 * len(readings)

    monkeypatch.setattr(time, "monotonic", clock)
    limits = DEFAULT_LIMITS.with_changes(max_wall_seconds=0.05, max_loop_iterations=10 ** 9, max_steps=10 ** 9)
    error = stop_code("while True:\n    pass\n", limits)
    monkeypatch.undo()
    assert error.code == "E425" and "wall-clock budget exhausted after 0.05 s" in str(error)
    assert len(readings) == 7   # the start, then every _CLOCK_EVERY steps until 60 ms > 50 ms


def test_call_depth_budget():
    defs = "".join(f"def f{i}(x):\n    return f{i + 1}(x)\n" for i in range(40)) + "def f40(x):\n    return x\n"
    error = stop_code(defs + "y = f0(1)\n")
    assert error.code == "E422" and "max_call_depth" in str(error)


def test_positional_out_and_dtype_slots_are_closed_even_in_hand_built_ir():
    """The type checker refuses np.maximum(a, b, out); the interpreter does too, on its own."""
    program = compile_source(K + "x = np.maximum(np.zeros(k), np.ones(k))\n", "<test>")
    assign = program.body[1]
    call = assign.value
    forged = replace(program, body=(program.body[0], replace(assign, value=replace(call, args=call.args + call.args[:1]))))
    with pytest.raises(RuntimeStop) as info:
        run_program(forged, answer)
    assert info.value.code == "E501" and "positional" in str(info.value)


# --- the tables agree with the front end's allow-lists ----------------------------------------

def test_every_allow_listed_numpy_function_is_implemented():
    for name, fn in library.NUMPY_FUNCTIONS.items():
        if name in lib_numpy_cap.FUNCTIONS:  # type rule and implementation side by side there
            continue
        assert name in NUMPY, f"np.{name} is allowed by the type checker but not implemented"
        extra = set(fn.keywords) - NUMPY[name].keywords
        assert not extra, f"np.{name}: keywords {extra} type-check but are refused at run time"


def test_every_allow_listed_builtin_and_method_is_implemented():
    for name in library.BUILTINS:
        assert name in BUILTINS, f"builtin {name} is allowed but not implemented"
    implemented = {kind: table for kind, table in METHODS_BY_TYPE}
    receivers = {"list": list, "dict": dict, "str": str, "array": (np.ndarray, np.generic), "tuple": tuple}
    for kind, methods in library.METHODS.items():
        table = implemented[receivers[kind]]
        for name, fn in methods.items():
            assert name in table, f"{kind}.{name} is allowed but not implemented"
            if name != "sort":  # list.sort(key=, reverse=) runs through the generator
                assert set(fn.keywords) <= table[name].keywords, f"{kind}.{name} keywords"

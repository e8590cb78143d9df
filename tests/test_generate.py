"""Hierarchical generation through the openai provider and a loopback model server."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from llm_server import LLMServer, by_prompt, reply  # noqa: E402

from capc.compiler.interpreter import run_program  # noqa: E402
from capc.compiler.scene import make_object, Scene  # noqa: E402
from capc.diagnostics import CompileError  # noqa: E402
from capc.prompts.generate import Generator, context_bindings, span_offsets  # noqa: E402
from capc.safety.context import VerificationContext  # noqa: E402
from capc.prompts.provider_openai import OpenAIProvider  # noqa: E402

SCENE = Scene((make_object("red block", (0.1, -0.5)), make_object("green block", (-0.1, -0.6)),
               make_object("blue bowl", (0.0, -0.4))))
POSITIONS = {o.name: np.array(o.xy) for o in SCENE.objects}

CIRCLE_POLICY = """center = get_obj_pos('blue bowl')
pts = make_circle(radius=0.05, center=center, n=8)
follow_traj(pts, speed=0.1)
"""
MAKE_CIRCLE = """def make_circle(radius, center, n):
    angles = np.linspace(0, 2 * np.pi, n)
    return np.array([[center[0] + radius * np.cos(a), center[1] + radius * np.sin(a)] for a in angles])
"""


def generator(server: LLMServer, **options) -> Generator:
    llm = OpenAIProvider(model="test-model", base_url=server.base_url, api_key="k", timeout=5,
                         retries=0)
    return Generator(llm, SCENE.names(), **options)


def run_concretely(program) -> list:
    """Run with the interpreter; perception from SCENE; returns the motion calls made."""
    moves = []

    def answer(call):
        if call.name == "get_obj_pos":
            return POSITIONS[call.args["obj_name"]].copy()
        if call.name == "get_obj_names":
            return SCENE.names()
        moves.append((call.name, call.args))
        return None

    run_program(program, answer)
    return moves


def test_undefined_make_circle_gets_a_generated_definition_that_is_used():
    with LLMServer() as server:
        server.fallback = by_prompt(functions={"make_circle": MAKE_CIRCLE})
        gen = generator(server)
        built = gen.build(CIRCLE_POLICY)
    assert list(built.helpers) == ["make_circle"]
    assert "make_circle" in built.program.functions and not built.program.undefined
    (request,) = server.requests
    turn = request["messages"][-1]["content"]
    assert "# define function: make_circle(radius, center, n)" in turn
    assert "pts = make_circle(radius=0.05, center=center, n=8)" in turn
    ((name, args),) = run_concretely(built.program)
    assert name == "follow_traj" and args["pts"].shape == (8, 2)
    assert np.allclose(args["pts"][0], [0.05, -0.4])
    assert "def make_circle" in built.bundle() and built.bundle().rstrip().endswith("follow_traj(pts, speed=0.1)")


def test_nested_definitions_are_generated_depth_first():
    functions = {
        "make_circle": "def make_circle(radius, center, n):\n"
                       "    return np.array([point_on_circle(center, radius, a) for a in np.linspace(0, 6.28, n)])\n",
        "point_on_circle": "def point_on_circle(center, radius, angle):\n"
                           "    return [center[0] + radius * np.cos(angle), center[1] + radius * np.sin(angle)]\n",
    }
    with LLMServer() as server:
        server.fallback = by_prompt(functions=functions)
        built = generator(server).build(CIRCLE_POLICY)
    assert set(built.helpers) == {"make_circle", "point_on_circle"}
    asked = [r["messages"][-1]["content"].split("# define function: ")[1].split("(")[0] for r in server.requests]
    assert asked == ["make_circle", "point_on_circle"]
    ((_, args),) = run_concretely(built.program)
    assert args["pts"].shape == (8, 2)


def test_a_cycle_of_definitions_is_rejected():
    functions = {"make_circle": "def make_circle(radius, center, n):\n    return helper_a(center)\n",
                 "helper_a": "def helper_a(c):\n    return helper_b(c)\n",
                 "helper_b": "def helper_b(c):\n    return make_circle(0.1, c, 4)\n"}
    with LLMServer() as server:
        server.fallback = by_prompt(functions=functions)
        with pytest.raises(CompileError) as info:
            generator(server).build(CIRCLE_POLICY)
    assert info.value.code == "E610"
    assert "make_circle -> helper_a -> helper_b -> make_circle" in str(info.value)
    assert info.value.span.file == "<generated helper_b>"
    assert len(server.requests) == 3


def test_self_recursion_is_refused_by_the_front_end_in_the_definition_file():
    with LLMServer() as server:
        server.fallback = by_prompt(functions={
            "make_circle": "def make_circle(radius, center, n):\n    return make_circle(radius, center, n)\n"})
        with pytest.raises(CompileError) as info:
            generator(server).build(CIRCLE_POLICY)
    # A def calling itself never reaches the cycle check: the front end refuses recursion (E025).
    assert info.value.code in ("E025", "E610") and "make_circle" in str(info.value)
    assert info.value.span.file == "<generated make_circle>"


def test_the_depth_limit_holds():
    chain = {f"level{i}": f"def level{i}(x):\n    return level{i + 1}(x) + 1\n" for i in range(1, 8)}
    with LLMServer() as server:
        server.fallback = by_prompt(functions=chain)
        with pytest.raises(CompileError) as info:
            generator(server, max_depth=4).build("say(str(level1(1)))\n")
    assert info.value.code == "E611"
    assert "level1 -> level2 -> level3 -> level4 -> level5" in str(info.value)
    assert len(server.requests) == 4  # level5 was never asked for


def test_depth_within_the_limit_is_fine():
    chain = {f"level{i}": f"def level{i}(x):\n    return level{i + 1}(x) + 1\n" for i in range(1, 4)}
    chain["level4"] = "def level4(x):\n    return x\n"
    with LLMServer() as server:
        server.fallback = by_prompt(functions=chain)
        built = generator(server, max_depth=4).build("say(str(level1(1)))\n")
    said = []
    run_program(built.program, lambda call: said.append(call.args["msg"]))
    assert said == ["4"]


def test_an_answer_that_is_not_the_asked_definition_is_refused():
    with LLMServer() as server:
        server.fallback = by_prompt(functions={"make_circle": "pts = [[0, -0.5]]\n"})
        with pytest.raises(CompileError) as info:
            generator(server).build(CIRCLE_POLICY)
    assert info.value.code == "E612" and "make_circle" in str(info.value)


def test_a_generated_definition_that_does_not_compile_points_into_its_own_file():
    with LLMServer() as server:
        server.fallback = by_prompt(functions={"make_circle": "def make_circle(radius, center, n):\n"
                                                              "    import os\n    return center\n"})
        gen = generator(server)
        with pytest.raises(CompileError) as info:
            gen.build(CIRCLE_POLICY)
    assert info.value.span.file == "<generated make_circle>"
    assert "import os" in gen.sources["<generated make_circle>"]


PARSE_POLICY = """name = parse_obj_name('the leftmost block', f'objects = {objects}')
put_first_on_second(name, 'blue bowl')
"""
LEFTMOST = """block_names = [n for n in objects if n.endswith('block')]
ret_val = min(block_names, key=lambda n: get_obj_pos(n)[0])"""


def test_constant_sub_lmp_queries_are_answered_at_compile_time():
    with LLMServer() as server:
        server.fallback = by_prompt(answers={"the leftmost block": LEFTMOST})
        built = generator(server).build("objects = get_obj_names()\n" + PARSE_POLICY)
    (helper,) = built.helpers
    assert helper == "parse_obj_name_answer_1"
    assert "name = parse_obj_name_answer_1(objects)" in built.source
    (request,) = server.requests
    assert request["messages"][0]["content"].startswith("You answer a description of objects")
    # the first line of the turn gives `objects`; no "# given:" line that no example has
    assert "# given:" not in request["messages"][-1]["content"]
    moves = run_concretely(built.program)
    assert moves == [("put_first_on_second", {"arg1": "green block", "arg2": "blue bowl", "speed": None})]


def test_a_sub_lmp_answer_may_not_move_the_robot():
    with LLMServer() as server:
        server.fallback = by_prompt(answers={"the leftmost block": "move_to([0.0, -0.5])\nret_val = 'red block'"})
        with pytest.raises(CompileError) as info:
            generator(server).build("objects = get_obj_names()\n" + PARSE_POLICY)
    assert info.value.code == "E613" and "move_to" in str(info.value)


def test_context_bindings_and_span_offsets():
    source = "a = 1\nbb = f'objects = {objects}, pts = {pts * 2}'\n"
    from capc.compiler.frontend import compile_source
    program = compile_source("objects = get_obj_names()\npts = np.zeros((2, 2))\n" + source, "<t>")
    fstring = program.body[-1].value
    full = "objects = get_obj_names()\npts = np.zeros((2, 2))\n" + source
    assert context_bindings(fstring, full) == [("objects", "objects"), ("pts", "pts * 2")]
    start, end = span_offsets(full, fstring.span)
    assert full[start:end].startswith("f'objects")


RUNTIME_POLICY = """for colour in ['red', 'green']:
    name = parse_obj_name(f'the {colour} block', f'objects = {objects}')
    put_first_on_second(name, 'blue bowl')
"""


def _runtime(server, answers):
    from capc.prompts.pipeline import RuntimeSubLMP
    from capc.runtime.execute import execute
    from capc.safety.spec import default_spec

    server.fallback = by_prompt(answers=answers)
    llm = OpenAIProvider(model="m", base_url=server.base_url, api_key="k", timeout=5, retries=0)
    built = Generator(llm, SCENE.names()).build("objects = get_obj_names()\n" + RUNTIME_POLICY)
    assert not built.helpers  # the query is not a constant: nothing was asked at compile time
    assert not server.requests
    sub_lmp = RuntimeSubLMP(llm, VerificationContext(default_spec(), SCENE))
    return execute(built.program, SCENE, default_spec(), backend="kinematic", sub_lmp=sub_lmp), sub_lmp


def test_run_time_sub_lmp_queries_are_generated_checked_and_answered():
    with LLMServer() as server:
        outcome, sub_lmp = _runtime(server, {"the red block": "ret_val = 'red block'",
                                             "the green block": "ret_val = [n for n in objects if 'green' in n][0]"})
    assert outcome.status == "completed", outcome.message
    assert [a["value"] for a in sub_lmp.answered] == ["'red block'", "'green block'"]
    assert len(server.requests) == 2
    assert "objects = ['red block', 'green block', 'blue bowl']" in server.requests[0]["messages"][-1]["content"]
    bowl = np.array(SCENE.get("blue bowl").xy)
    for name in ("red block", "green block"):
        assert np.linalg.norm(np.array(outcome.final_positions[name][:2]) - bowl) < 0.03


def test_a_run_time_answer_that_moves_stops_the_run():
    with LLMServer() as server:
        outcome, _ = _runtime(server, {"the red block": "move_to([0.0, -0.5])\nret_val = 'red block'"})
    assert outcome.status == "error" and outcome.code == "E613"


def test_a_refused_definition_goes_back_to_the_function_prompt_once():
    bad = MAKE_CIRCLE.replace("    angles =", "    import math\n    angles =")
    with LLMServer() as server:
        server.script(reply(bad), reply(MAKE_CIRCLE))
        built = generator(server).build(CIRCLE_POLICY)
    assert built.helpers["make_circle"][0] == MAKE_CIRCLE
    assert len(server.requests) == 2
    second = server.requests[1]["messages"]
    assert second[-2] == {"role": "assistant", "content": bad.strip("\n")}
    assert "capc refused this definition" in second[-1]["content"] and "import math" in second[-1]["content"]


def test_a_definition_refused_twice_ends_the_attempt():
    with LLMServer() as server:
        server.fallback = by_prompt(functions={"make_circle": "def make_circle(radius, center, n):\n"
                                                              "    import os\n    return center\n"})
        with pytest.raises(CompileError) as info:
            generator(server).build(CIRCLE_POLICY)
    assert info.value.span.file == "<generated make_circle>" and len(server.requests) == 2


def test_a_sub_lmp_answer_may_not_move_through_a_generated_helper_either():
    with LLMServer() as server:
        server.fallback = by_prompt(
            answers={"the leftmost block": "ret_val = pick_leftmost(objects)"},
            functions={"pick_leftmost": "def pick_leftmost(names):\n    open_gripper()\n    return names[0]\n"})
        with pytest.raises(CompileError) as info:
            generator(server).build("objects = get_obj_names()\n" + PARSE_POLICY)
    assert info.value.code == "E613" and info.value.span.file == "<generated pick_leftmost>"

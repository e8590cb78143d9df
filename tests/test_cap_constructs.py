"""Code as Policies' own constructs (issue 13), in programs of our own: parse_position answers
of several points, the numpy CaP uses, transform_shape_pts, and type inference that follows
CaP's helpers."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from capc.compiler.frontend import compile_source
from capc.compiler.tabletop import position_answer_type
from capc.compiler.types import POINTS_XY, XY
from capc.diagnostics import CompileError
from capc.prompts import prompt_builder as pb


@pytest.mark.parametrize("query, several", [
    ("a 30cm vertical line on the right with {} points", True),
    ("the top corners", True),
    ("a triangle with size 10cm around the middle", True),
    ("the corners", True),
    ("a point 10cm left of the green bowl", False),
    ("the corner closest to the blue block", False),
    ("the right side", False),
    ("a point on the line between the bowls", False),
])
def test_parse_position_answers_follow_the_words(query, several):
    assert position_answer_type(query) == (POINTS_XY if several else XY)


def test_several_points_zip_with_names_and_one_point_stays_a_point():
    source = ("block_names = parse_obj_name('the blocks', f'objects = {get_obj_names()}')\n"
              "line_pts = parse_position(f'a 30cm vertical line on the right with {len(block_names)} points')\n"
              "for block_name, pt in zip(block_names, line_pts):\n"
              "    put_first_on_second(block_name, pt)\n"
              "corners = parse_position('the bottom corners')\n"
              "first = corners[0]\n"
              "target = parse_position('a point 10cm left of the blue bowl')\n"
              "put_first_on_second('red block', target + [0.0, 0.01])\n")
    compile_source(source, "policy.py")
    with pytest.raises(CompileError):  # one point is not a list of places
        compile_source("pts = parse_position('a point left of the bowl')\n"
                       "for p in pts:\n    put_first_on_second('red block', p)\n", "policy.py")


def test_the_prompt_says_parse_position_may_answer_several_points():
    text = pb.system_message("parse_position")
    assert "N x 2" in text
    assert "shapely" in pb.library_section() and "LineString" in pb.library_section()


def test_transform_shape_pts_takes_the_points_as_cap_passes_them():
    program = compile_source(
        "block_names = parse_obj_name('the blocks', f'objects = {get_obj_names()}')\n"
        "triangle_pts = parse_position(f'a triangle with size 10cm around the middle with {len(block_names)} points')\n"
        "triangle_pts = transform_shape_pts('scale it by 0.5x', shape_pts=triangle_pts)\n"
        "for block_name, pt in zip(block_names, triangle_pts):\n"
        "    put_first_on_second(block_name, pt)\n", "policy.py")
    assert program is not None


# --- type inference that follows CaP's helpers -------------------------------------------------

def test_an_element_of_argsort_indexes_a_list_even_where_the_shape_is_unknown():
    compile_source("names = ['red block', 'green block']\n"
                   "positions = get_obj_positions_np(names)\n"
                   "i = np.argsort(positions[:, 0])[0]\n"
                   "put_first_on_second(names[i], 'blue bowl')\n", "policy.py")


def test_a_return_that_fails_to_check_does_not_make_callers_see_none():
    with pytest.raises(CompileError) as info:
        compile_source("def x_of(name):\n"
                       "    pos = get_obj_pos(name)\n"
                       "    return pos.bogus\n"
                       "left = x_of('red block') < x_of('blue bowl')\n"
                       "names = sorted(['red block', 'blue bowl'], key=lambda n: x_of(n))\n", "policy.py")
    codes = [d.code for d in getattr(info.value, "diagnostics", [info.value.diagnostic])]
    assert codes == ["E011"]


# --- the numpy CaP uses: the interpreter against CPython ------------------------------------------

def _run(source: str) -> dict:
    from capc.compiler.interpreter import run_program

    return run_program(compile_source(source, "policy.py"), lambda call: None).globals.vars


def _cpython(source: str) -> dict:
    import numpy as np

    namespace = {"np": np}
    np.random.seed(0)  # the interpreter's generator is seeded with 0 in every run
    exec(source, namespace)  # noqa: S102 - our own program, CPython as the reference
    return {k: v for k, v in namespace.items() if k not in ("np", "__builtins__")}


_floats = st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 3))


@settings(max_examples=40, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(st.lists(_floats, min_size=6, max_size=8), st.integers(1, 3),
       st.lists(_floats, min_size=4, max_size=4), st.integers(1, 4))
def test_numpy_of_cap_matches_cpython(ys, deg, m, n):
    import numpy as np

    source = (f"ts = np.linspace(0, 1, {len(ys)})\n"
              f"ys = np.array({ys})\n"
              f"coeffs = np.polyfit(ts, ys, {deg})\n"
              f"fitted = np.polyval(coeffs, ts)\n"
              f"at = np.polyval([1.0, -2.0, 0.5], {ys[0]})\n"
              f"A = np.array([[{m[0]}, {m[1]}], [{m[2]}, {m[3]}]])\n"
              f"ev = np.linalg.eigvals(A)\n"
              f"stable = bool(np.all(np.abs(ev) < 1))\n"
              f"w, v = np.linalg.eig(A)\n"
              f"D = np.diag([{m[0]}, {m[1]}])\n"
              f"pick = np.random.choice(['red block', 'green block', 'blue bowl'])\n"
              f"picks = np.random.choice(5, size={n}, replace=False)\n"
              f"u = np.random.uniform(-0.1, 0.1, size=2)\n"
              f"r = np.random.rand({n}, 2)\n"
              f"k = np.random.randint(0, 10)\n"
              f"x = np.random.random()\n"
              f"order = np.random.permutation({n})\n")
    ours, theirs = _run(source), _cpython(source)
    for name, expected in theirs.items():
        got = ours[name]
        if isinstance(expected, str):
            assert got == expected, name
        else:
            assert np.allclose(np.asarray(got), np.asarray(expected), rtol=1e-12, atol=1e-12, equal_nan=True), name


def test_random_draws_replay_and_the_verifier_sees_the_drawn_value():
    from capc.compiler.scene import parse_scene
    from capc.safety.spec import default_spec
    from capc.safety.verifier import verify

    source = ("name = np.random.choice(['red block', 'green block'])\n"
              "dx = np.random.uniform(-0.05, 0.05)\n"
              "pos = get_obj_pos('blue bowl')\n"
              "put_first_on_second(name, [pos[0] + dx, pos[1]])\n")
    assert _run("a = np.random.random(3)\n")["a"].tolist() == _run("a = np.random.random(3)\n")["a"].tolist()
    scene = parse_scene("objects:\n  - {name: red block, position: [0.1, -0.4]}\n"
                        "  - {name: green block, position: [-0.1, -0.4]}\n"
                        "  - {name: blue bowl, position: [0.0, -0.6]}\n")
    report = verify(compile_source(source, "policy.py"), default_spec(), scene)
    assert report.verdict == "accepted"
    far = source.replace("-0.05, 0.05", "0.5, 0.6")
    report = verify(compile_source(far, "policy.py"), default_spec(), scene)
    assert report.verdict == "rejected" and report.violated()[0].counterexample["replayed"] is True


def test_bad_numpy_arguments_are_policy_errors():
    from capc.compiler.interpreter import RuntimeStop

    for source in ("c = np.polyfit([0.0, 1.0], [0.0, 1.0], 100)\n",
                   "c = np.polyfit([0.0, 1.0, float('inf')], [0.0, 1.0, 1.0], 1)\n",
                   "c = np.polyfit([0.0, 1.0, 2.0], [0.0, 1e308 * 10, 1.0], 1)\n",
                   "e = np.linalg.eigvals(np.array([[1.0, 2.0, 3.0] for i in range(1)]))\n",
                   "x = np.random.choice(3, size=5, replace=False)\n",
                   "x = np.random.random(10 ** 9)\n"):
        with pytest.raises(RuntimeStop) as info:
            _run(source)
        assert info.value.code in ("E501", "E423"), source


# --- several-point answers asked at compile time are proved, not guarded ---------------------------

_LINE_SCENE = ("objects:\n  - {name: red block, position: [0.10, -0.45]}\n"
               "  - {name: green block, position: [0.0, -0.45]}\n"
               "  - {name: blue bowl, position: [-0.10, -0.60]}\n")
_LINE_QUERY = "a 30cm horizontal line in the middle with 2 points"


def _line_answer(half_width: float) -> str:
    return ("mid = denormalize_xy([0.5, 0.5])\n"
            f"line = LineString([mid - [{half_width}, 0.0], mid + [{half_width}, 0.0]])\n"
            "ret_val = np.array([line.interpolate(i, normalized=True).coords[0] for i in [0.0, 1.0]])")


def _compile_line(half_width: float, policy: str):
    """Compile `policy` against the loopback model, which answers the line query with a line
    of that half width through the middle of the table."""
    import os
    import sys

    sys.path.insert(0, os.path.dirname(__file__))
    from llm_server import LLMServer, by_prompt

    from capc.compiler.scene import parse_scene
    from capc.prompts.pipeline import compile_instruction
    from capc.prompts.provider_openai import OpenAIProvider
    from capc.safety.context import VerificationContext
    from capc.safety.spec import default_spec

    context = VerificationContext(default_spec(), parse_scene(_LINE_SCENE), False)
    with LLMServer() as server:
        server.fallback = by_prompt(policies=[policy], answers={_LINE_QUERY: _line_answer(half_width),
                                                                "the blocks": "ret_val = ['red block', 'green block']"})
        llm = OpenAIProvider(model="m", base_url=server.base_url, api_key="k", timeout=5, retries=0)
        return compile_instruction("line the blocks up", llm, context=context, repairs=0)


_LINE_POLICY = ("block_names = parse_obj_name('the blocks', f'objects = {get_obj_names()}')\n"
                f"line_pts = parse_position('{_LINE_QUERY}')\n"
                "for name, pt in zip(block_names, line_pts):\n"
                "    put_first_on_second(name, pt)\n")


def test_a_several_point_answer_asked_at_compile_time_is_proved():
    result = _compile_line(0.15, _LINE_POLICY)
    assert result.verdict == "accepted" and not result.final.report.guards
    assert "def parse_position_answer_1" in result.final.generated.bundle()


def test_a_several_point_answer_off_the_table_is_rejected_with_a_counterexample_that_replays():
    result = _compile_line(0.4, _LINE_POLICY)   # 80 cm wide: both ends leave the 60 cm workspace
    assert result.verdict == "rejected"
    [violated, *_] = result.final.report.violated()
    example = violated.counterexample
    assert example["replayed"] is True and example["variables"]["line_pts"] == [[-0.4, -0.5], [0.4, -0.5]]
    assert result.final.diagnostics[0].code == "E301"


# --- a query written as an f-string, foreseen at compile time --------------------------------------

_FSTRING_POLICY = ("block_names = parse_obj_name('the blocks', f'objects = {get_obj_names()}')\n"
                   "line_pts = parse_position(f'a 30cm horizontal line in the middle with {len(block_names)} points')\n"
                   "for name, pt in zip(block_names, line_pts):\n"
                   "    put_first_on_second(name, pt)\n")


def test_an_f_string_query_foreseen_at_compile_time_is_answered_then_and_proved():
    """CaP's own pattern: the query's words depend on an earlier answer. In the verified world
    it asks for 2 points; that answer is asked at compile time and verified, and the run uses
    it exactly when the run asks the same words (any other words still go to the model)."""
    import numpy as np

    from capc.compiler.interpreter import run_program

    result = _compile_line(0.15, _FSTRING_POLICY)
    assert result.verdict == "accepted" and not result.final.report.guards
    generated = result.final.generated
    assert f"== {_LINE_QUERY!r} else parse_position(f'a 30cm" in generated.source
    assert len(result.final.exchanges) == 3   # the policy, the blocks, the line: nothing left for the run

    asked = []

    def answer(call):
        if call.name == "get_obj_names":
            return ["red block", "green block", "blue bowl"]
        if call.name == "denormalize_xy":
            return np.array([0.0, -0.5])
        if call.name == "parse_position":
            asked.append(call.args["query"])
            return [[0.0, -0.5]]
        return None

    run_program(generated.program, answer)
    assert asked == []   # the foreseen words: the compile-time answer ran
    other = compile_source(generated.bundle().replace("ret_val = ['red block', 'green block']",
                                                      "ret_val = ['red block']"), "policy.py")
    run_program(other, answer)
    assert asked == ["a 30cm horizontal line in the middle with 1 points"]   # other words: asked at run time


def test_an_f_string_query_foreseen_off_the_table_is_rejected_with_a_counterexample_that_replays():
    result = _compile_line(0.4, _FSTRING_POLICY)
    assert result.verdict == "rejected" and result.final.diagnostics[0].code == "E301"
    example = result.final.report.violated()[0].counterexample
    assert example["replayed"] is True and example["variables"]["line_pts"] == [[-0.4, -0.5], [0.4, -0.5]]


def test_a_query_that_calls_the_policys_own_function_stays_a_run_time_question():
    policy = ("def count(names):\n    return len(names)\n"
              "block_names = ['red block', 'green block']\n"
              "line_pts = parse_position(f'a 30cm horizontal line in the middle with {count(block_names)} points')\n"
              "for name, pt in zip(block_names, line_pts):\n"
              "    put_first_on_second(name, pt)\n")
    result = _compile_line(0.15, policy)
    assert result.verdict == "guarded" and "parse_position_answer" not in result.final.generated.source


# --- the policy generator of capc.testing draws these constructs -------------------------------------

def test_the_policy_generator_draws_caps_constructs():
    """So that the soundness property and the soak cover them (docs/testing.md)."""
    from capc.compiler.scene import random_scene
    from capc.testing.policies import policies

    wanted = ("zip([", "np.polyfit(", "LineString(", "np.random.uniform(")
    seen: set[str] = set()

    # loops whose bodies draw from the whole mix, CaP's library among it (as in the soak)
    @settings(max_examples=100, database=None, derandomize=True, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(policies(random_scene(0), kinds=("for_objects", "cap_library")))
    def draw(policy):
        new = {c for c in wanted if c in policy.source} - seen
        if new:
            compile_source(policy.source, "generated.py")
            seen.update(new)

    draw()
    assert seen == set(wanted)

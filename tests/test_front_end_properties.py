"""Properties of the front end on generated input: it never fails with anything but a
located CompileError, and printing is a round trip for generated policies."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from capc.compiler.frontend import compile_source
from capc.compiler.printer import to_source, without_spans
from capc.compiler.scene import random_scene
from capc.diagnostics import CompileError
from capc.testing.policies import policies

GOOD = [p.read_text(encoding="utf-8") for p in sorted((Path(__file__).parent / "programs" / "good").glob("*.py"))]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def compiles_or_located_error(source: str) -> None:
    try:
        compile_source(source, "fuzz.py")
    except CompileError as exc:
        span = exc.span
        assert exc.code[0] == "E" and len(exc.code) == 4
        if span is not None:
            assert span.file == "fuzz.py" and span.line >= 1 and span.col >= 1


@FAST
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_arbitrary_text(source):
    compiles_or_located_error(source)


TOKENS = ["x", "y", "=", "(", ")", "[", "]", "{", "}", ":", ",", ".", "+", "-", "*", "**", "/",
          "if", "else", "elif", "for", "in", "while", "def", "return", "lambda", "not", "and",
          "1", "0.5", "'s'", "f'{x}'", "\n", "    ", "np", "get_obj_pos", "say", "#c", ";", "@"]


@FAST
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_token_soup(tokens):
    compiles_or_located_error(" ".join(tokens))


@FAST
@given(st.sampled_from(GOOD), st.integers(0, 10_000), st.integers(0, 10_000),
       st.sampled_from(["", "(", ")", ":", "\n", "    ", "'", "__", "x.", "*", "import ", "lambda "]))
def test_mutated_good_programs(source, at, length, insert):
    cut = at % (len(source) + 1)
    mutated = source[:cut] + insert + source[cut + length % 7:]
    compiles_or_located_error(mutated)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 1000).flatmap(lambda seed: policies(random_scene(seed))))
def test_generated_policies_round_trip(policy):
    program = compile_source(policy.source, "gen.py")
    again = compile_source(to_source(program), "gen.py")
    assert without_spans(again.body) == without_spans(program.body)

"""Totality of the checker on hostile text: whatever arrives, `compile_source` returns a program
or raises `CompileError` — never another exception, never a hang.

Three sources of input, as the acceptance asks:

* sentences of the policy grammar itself (`hypothesis.extra.lark.from_lark` over
  `capc/grammar/policy.lark`, through `capc.testing.texts.grammar_texts`);
* random bytes (decoded as UTF-8 when they are, as Latin-1 otherwise, so every byte value —
  NUL, CR, form feed, 0x85 — reaches the lexer), and arbitrary unicode text;
* mutations of real programs (the examples, the good programs of the front-end tests and the
  hostile corpus): slices deleted, duplicated or moved, hostile tokens inserted, lines
  re-indented. These keep most of a program's structure, so they reach the type checker and,
  when they still compile, the verifier and the interpreter: a mutated program that compiles
  must verify or fail with a `CapcError`, and run to the end or stop with a located
  `CapcError` (a budget or a policy error).

Budgets: `CI_EXAMPLES` inputs in the default run (< 60 s on a shared core); the `soak`-marked
variant runs `CAPC_SOAK_EXAMPLES` (default 10,000) split the same way (`make soak N=10000`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capc.compiler.frontend import compile_source
from capc.diagnostics import CapcError, CompileError
from capc.limits import DEFAULT_LIMITS

REPO = Path(__file__).resolve().parents[1]
CI_EXAMPLES = 2000
SOAK_EXAMPLES = int(os.environ.get("CAPC_SOAK_EXAMPLES", "10000"))
# The share of each budget per source: grammar sentences, bytes/unicode, mutations.
SHARES = {"grammar": 0.25, "noise": 0.25, "mutation": 0.5}


# Small run budgets: the fuzz is about totality, not about long runs.
RUN_LIMITS = DEFAULT_LIMITS.with_changes(max_steps=20_000, max_loop_iterations=5_000,
                                         max_sequence_length=10_000, max_wall_seconds=2.0,
                                         verify_steps=5_000, solver_rlimit=1_000_000)
VERIFY_ALARM_SECONDS = 10.0


def _scene():
    from capc.compiler.scene import parse_scene
    return parse_scene("objects:\n  - {name: red block, position: [0.0, -0.5]}\n"
                       "  - {name: blue block, position: [0.1, -0.4]}\n"
                       "  - {name: green bowl, position: [-0.1, -0.6]}\n", "fuzz-scene.yaml")


_SCENE = _scene()


def _seed_programs() -> list[str]:
    paths = sorted((REPO / "examples").glob("*.py"))
    paths += sorted((REPO / "tests" / "programs" / "good").glob("*.py"))
    paths += sorted((REPO / "tests" / "hostile").glob("*.py"))
    texts = [p.read_text(encoding="utf-8") for p in paths if p.stat().st_size < 8_000]
    return texts or ["x = 1\nfor name in get_obj_names():\n    say(name)\n"]


SEEDS = _seed_programs()

# Tokens an attacker would splice in, plus the structural ones that break nesting.
SPLICES = [
    "(", ")", "[", "]", "{", "}", ":", ",", ".", "\n", "    ", "\t", "\\\n", "'", '"', "'''",
    "f'", "f'{", "}'", "!r", "!a", ":{y}", "**", "*", "=", ":=", "->", "@", "lambda: ", "lambda x=1: ",
    "def f(x):\n    return x\n", "if True:\n", "while True:\n    pass\n", "for i in range(3):\n",
    "import os\n", "from os import *\n", "__class__", "__import__('os')", ".__globals__",
    "exec", "eval", "open", "getattr", "ｅｘｅｃ", "ᵉval", "np.load", "np.save", ".tofile",
    ".format", "'{0.__class__}'.format(1)", "10**10**10", "9" * 30, "0x" + "f" * 30,
    "[0] * 10**9", "'a' * 10**10", "range(10**12)", "np.zeros(10**10)", "\x00", "\r", "\x0c",
    "\u2028", "\ufeff", "get_obj_pos('red block')", "move_to([0.0, -0.5, 0.1])", "say(x)",
    "get_obj_names()", "x", "1", "-", "not ", "None", "yield", "return", "break", "pass",
]


@st.composite
def mutated_programs(draw) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        n = len(text)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 40)))
        op = draw(st.sampled_from(["delete", "duplicate", "splice", "move", "indent", "splice"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif op == "splice":
            text = text[:i] + draw(st.sampled_from(SPLICES)) + text[i:]
        elif op == "move":
            piece, rest = text[i:j], text[:i] + text[j:]
            k = draw(st.integers(0, len(rest)))
            text = rest[:k] + piece + rest[k:]
        else:
            lines = text.split("\n")
            k = draw(st.integers(0, max(0, len(lines) - 1)))
            lines[k] = draw(st.sampled_from(["", " ", "    ", "        ", "\t"])) + lines[k].lstrip()
            text = "\n".join(lines)
    return text


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def noise() -> st.SearchStrategy[str]:
    return st.one_of(st.binary(max_size=600).map(_decode), st.text(max_size=300))


def grammar() -> st.SearchStrategy[str]:
    from capc.testing.texts import grammar_texts
    return grammar_texts()


def _answer(call):
    """A world for the interpreter: perception from a fixed scene, motion answers None."""
    import numpy as np
    names = ["red block", "blue block", "green bowl"]
    if call.name == "get_obj_names":
        return list(names)
    if call.name in ("get_obj_pos", "get_robot_pos"):
        return np.array([0.0, -0.5])
    return None


def _escape_names(text: str) -> list[str]:
    """Names in `text` (Python's own tokenizer, NFKC as Python reads identifiers) that no
    accepted policy may contain: dunders, forbidden builtins, forbidden keywords. Strings and
    comments are not looked into. Empty when the text is not Python-tokenizable."""
    import io
    import tokenize
    import unicodedata

    from capc.grammar.subset import FORBIDDEN_BUILTINS, FORBIDDEN_KEYWORDS

    found = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type != tokenize.NAME:
                continue
            name = unicodedata.normalize("NFKC", tok.string)
            if (name.startswith("__") or name.endswith("__") or name in FORBIDDEN_BUILTINS
                    or name in FORBIDDEN_KEYWORDS):
                found.append(name)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return []
    return found


def check_total(text: str, *, run: bool = False) -> str:
    """Compile `text`; only CompileError may escape, and a program that compiles holds no
    escape name (the oracle: Python's tokenizer, not ours). With `run`, a program that compiles
    is interpreted under small budgets; only CapcError may escape. Returns what happened."""
    try:
        program = compile_source(text, "<fuzz>")
    except CompileError as exc:
        assert exc.code and exc.code[0] == "E", exc.code
        return "rejected"
    assert not _escape_names(text), f"accepted a program naming {_escape_names(text)}:\n{text}"
    if not run:
        return "compiled"
    from capc import guard
    from capc.compiler.interpreter import run_program
    from capc.safety.spec import default_spec
    from capc.safety.verifier import verify
    # The verifier evaluates the same program symbolically: it too may only end in CapcError
    # (an alarm, E480, fails the example: the verifier must stay bounded on its own).
    with guard.wall_clock_alarm(VERIFY_ALARM_SECONDS):
        try:
            verify(program, default_spec(), _SCENE, limits=RUN_LIMITS)
        except guard.WallClockExceeded:
            raise
        except CapcError:
            pass
    try:
        run_program(program, _answer, RUN_LIMITS)
    except CapcError as exc:
        assert exc.diagnostic.span is not None or exc.code.startswith("E42"), (
            f"run stopped without a location: {exc.code} {exc}")
        return "stopped"
    return "ran"


def _fuzz(strategy, examples: int, *, run: bool = False):
    outcomes: dict[str, int] = {}

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def body(text):
        what = check_total(text, run=run)
        outcomes[what] = outcomes.get(what, 0) + 1

    started = time.perf_counter()
    body()
    return outcomes, time.perf_counter() - started


def _budget(total: int, source: str) -> int:
    return max(1, int(total * SHARES[source]))


@pytest.mark.parametrize("source", list(SHARES))
def test_fuzz_ci_budget(source):
    strategy = {"grammar": grammar, "noise": noise, "mutation": mutated_programs}[source]()
    outcomes, seconds = _fuzz(strategy, _budget(CI_EXAMPLES, source), run=source == "mutation")
    assert sum(outcomes.values()) >= _budget(CI_EXAMPLES, source) // 2
    print(f"\n{source}: {outcomes} in {seconds:.1f} s")


@pytest.mark.soak
@pytest.mark.parametrize("source", list(SHARES))
def test_fuzz_soak(source):
    strategy = {"grammar": grammar, "noise": noise, "mutation": mutated_programs}[source]()
    outcomes, seconds = _fuzz(strategy, _budget(SOAK_EXAMPLES, source), run=source == "mutation")
    print(f"\nsoak {source}: {outcomes} in {seconds:.1f} s")


def test_mutations_reach_the_type_checker_and_the_interpreter():
    """The mutation source is only worth its budget if a good share of its inputs get past
    the parser; checked on a fixed sample so the test cannot pass by rejecting everything."""
    outcomes, _ = _fuzz(mutated_programs(), 200, run=True)
    assert outcomes.get("ran", 0) + outcomes.get("stopped", 0) >= 10, outcomes


def test_the_escape_name_oracle_sees_what_it_claims():
    assert _escape_names("x = ().__class__\nexec('1')\nｅｖａｌ\n") == ["__class__", "exec", "eval"]
    assert _escape_names("say('__class__')  # exec\n") == []


def test_random_bytes_through_the_file_path(tmp_path):
    """`capc check` reads files: bytes that are not UTF-8 must give an InputError or a
    CompileError from `compile_file`, nothing else."""
    from capc.compiler.frontend import compile_file
    from capc.diagnostics import InputError

    seen = set()

    @settings(max_examples=100, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.binary(max_size=400))
    def body(data):
        path = tmp_path / "p.py"
        path.write_bytes(data)
        try:
            compile_file(str(path))
            seen.add("compiled")
        except (CompileError, InputError) as exc:
            seen.add(type(exc).__name__)

    body()
    assert seen & {"CompileError", "InputError"}

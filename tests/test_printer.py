"""IR -> source -> IR is the identity (spans aside) for every good program and example."""

from __future__ import annotations

from pathlib import Path

import pytest

from capc.compiler.frontend import compile_source
from capc.compiler.printer import to_source, without_spans

ROOT = Path(__file__).parent.parent
SOURCES = sorted((ROOT / "tests" / "programs" / "good").glob("*.py")) + sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_round_trip(path: Path):
    program = compile_source(path.read_text(encoding="utf-8"), str(path))
    text = to_source(program)
    again = compile_source(text, str(path))
    assert without_spans(again.body) == without_spans(program.body), text
    assert to_source(again) == text  # printing is a fixed point


@pytest.mark.parametrize("source,printed", [
    ("x = (-1) ** 2\n", "x = (-1) ** 2\n"),
    ("x = -(1 ** 2)\n", "x = -1 ** 2\n"),
    ("x = (1 - 2) - (3 - 4)\n", "x = 1 - 2 - (3 - 4)\n"),
    ("x = not (1 < 2 and 3 < 4)\n", "x = not (1 < 2 and 3 < 4)\n"),
    ("x = (lambda a: a) if 1 else None\n", "x = (lambda a: a) if 1 else None\n"),
    ("x = f'{{a}} {1!r:>4} \"q\"'\n", "x = f\"{{a}} {1!r:>4} \\\"q\\\"\"\n"),
    ("t = 1,\n", "t = (1,)\n"),
    ("x = 2 * np.pi\n", "x = 2 * np.pi\n"),
    ("if a:\n    pass\nelif b:\n    x = 1\nelse:\n    x = 2\n", None),
    ("say(f'{f\"{1}\"}')\n", "say(f\"{f'{1}'}\")\n"),
    ("d = {'a': 1}\nsay(f'{d[\"a\"]}')\n", "d = {'a': 1}\nsay(f\"{d['a']}\")\n"),
    ("say(f\"it's {'ok'}\")\n", "say(f\"it's {'ok'}\")\n"),
])
def test_printing(source, printed):
    prefix = "a = 1\nb = 2\n" if source.startswith("if") else ""
    program = compile_source(prefix + source)
    text = to_source(program)
    if printed is not None:
        assert text == prefix + printed
    assert without_spans(compile_source(text).body) == without_spans(program.body)

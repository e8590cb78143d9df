"""`ir.walk` and `ir.find`: the one walk over the IR that every reader of the tree uses."""

from __future__ import annotations

from capc.compiler import ir
from capc.compiler.frontend import compile_source
from capc.compiler.types import Type
from capc.diagnostics import Span

SOURCE = """def place(name):
    put_first_on_second(name, 'blue bowl')
    return [1, 2]

for block in ['red block', 'green block']:
    if block == 'red block':
        place(block)
"""


def test_walk_visits_parents_first_and_each_def_once():
    program = compile_source(SOURCE)
    nodes = list(ir.walk(program))
    assert nodes[0] is program
    defs = [n for n in nodes if isinstance(n, ir.FunctionDef)]
    assert [d.name for d in defs] == ["place"]  # in the body and in program.functions: once
    loop = [type(n) for n in ir.walk(program.body[1])]
    assert loop[0] is ir.For and loop.index(ir.If) < loop.index(ir.ExprStmt)
    assert not any(isinstance(n, (Span, Type, str)) for n in nodes)
    api = [n for n in nodes if isinstance(n, ir.Call) and n.kind == ir.CALL_API]
    assert [c.callee for c in api] == ["put_first_on_second"]


def test_walk_of_a_helper_outside_the_body():
    program = compile_source("check_it('red block')\n",
                             helpers={"check_it": ("def check_it(x):\n    return say(x)\n", "h.py")})
    callees = [n.callee for n in ir.walk(program) if isinstance(n, ir.Call)]
    assert callees.count("say") == 1 and "check_it" in callees


def test_prune_yields_the_node_but_not_its_children():
    program = compile_source(SOURCE)
    pruned = list(ir.walk(program.body, prune=lambda n: isinstance(n, ir.FunctionDef)))
    assert any(isinstance(n, ir.FunctionDef) for n in pruned)
    assert not any(isinstance(n, ir.Return) for n in pruned)


def test_find_returns_the_first_match_or_none():
    program = compile_source(SOURCE)
    first = ir.find(program, lambda n: isinstance(n, ir.Const) and isinstance(n.value, str))
    assert first.value == "blue bowl"
    assert ir.find(program, lambda n: isinstance(n, ir.While)) is None

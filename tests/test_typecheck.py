"""Lowering and type checking: exact IR of small programs, inferred types, type errors
with the span of the offending expression, helpers and undefined calls."""

from __future__ import annotations

import pytest

from capc.compiler import ir
from capc.compiler.frontend import compile_source
from capc.compiler.printer import NOWHERE as S, without_spans
from capc.compiler.types import (
    Array, BOOL, DictT, FLOAT, FuncT, INT, ListT, NONE, OBJNAME, OneOf, STR, TupleT, UNKNOWN, XY, XYZ,
)
from capc.diagnostics import CompileError
from capc.limits import DEFAULT_LIMITS


def body(source: str, **kw):
    return without_spans(compile_source(source, **kw).body)


def value_type(source: str, name: str):
    """Type bound to `name` by the last top-level assignment to it."""
    program = compile_source(source)
    found = None
    for stmt in program.body:
        if isinstance(stmt, ir.Assign):
            for target in stmt.targets:
                if isinstance(target, ir.NameTarget) and target.id == name:
                    found = target.type
    assert found is not None, name
    return found


# --- exact IR ---------------------------------------------------------------------------------

def test_ir_of_api_call_assignment():
    assert body("pos = get_obj_pos('red block')\n") == (
        ir.Assign(S, (ir.NameTarget(S, "pos", XY),),
                  ir.Call(S, XY, ir.CALL_API, "get_obj_pos", (ir.Const(S, STR, "red block"),), ())),
    )


def test_ir_of_loop_with_keyword_speed():
    names = ListT(OBJNAME)
    assert body("for name in get_obj_names():\n    put_first_on_second(name, 'blue bowl', speed=0.1)\n") == (
        ir.For(S, ir.NameTarget(S, "name", OBJNAME),
               ir.Call(S, names, ir.CALL_API, "get_obj_names", (), ()),
               (ir.ExprStmt(S, ir.Call(S, NONE, ir.CALL_API, "put_first_on_second",
                                       (ir.Name(S, OBJNAME, "name"), ir.Const(S, STR, "blue bowl")),
                                       (ir.Keyword("speed", ir.Const(S, FLOAT, 0.1), S),))),)),
    )


def test_ir_of_numpy_slice_and_negative_constant():
    pts = Array((5, 2))
    assert body("pts = np.zeros((5, 2))\nxs = pts[:, -1]\n") == (
        ir.Assign(S, (ir.NameTarget(S, "pts", pts),),
                  ir.Call(S, pts, ir.CALL_NUMPY, "zeros",
                          (ir.TupleExpr(S, TupleT((INT, INT)), (ir.Const(S, INT, 5), ir.Const(S, INT, 2))),), ())),
        ir.Assign(S, (ir.NameTarget(S, "xs", Array((5,))),),
                  ir.Subscript(S, Array((5,)), ir.Name(S, pts, "pts"),
                               (ir.Slice(None, None, None, S), ir.Const(S, INT, -1)))),
    )


def test_ir_of_sorted_with_lambda_key():
    lam_type = FuncT((UNKNOWN,), FLOAT)
    get = ir.Call(S, XY, ir.CALL_API, "get_obj_pos", (ir.Name(S, UNKNOWN, "n"),), ())
    key = ir.Lambda(S, lam_type, ("n",), ir.Subscript(S, FLOAT, get, (ir.Const(S, INT, 0),)))
    assert body("names = sorted(get_obj_names(), key=lambda n: get_obj_pos(n)[0])\n") == (
        ir.Assign(S, (ir.NameTarget(S, "names", ListT(OBJNAME)),),
                  ir.Call(S, ListT(OBJNAME), ir.CALL_BUILTIN, "sorted",
                          (ir.Call(S, ListT(OBJNAME), ir.CALL_API, "get_obj_names", (), ()),),
                          (ir.Keyword("key", key, S),))),
    )


def test_ir_of_dict_comprehension_is_dict_of_pairs():
    pair = TupleT((OBJNAME, INT))
    assert body("d = {k: 1 for k in get_obj_names()}\n") == (
        ir.Assign(S, (ir.NameTarget(S, "d", DictT(OBJNAME, INT)),),
                  ir.Call(S, DictT(OBJNAME, INT), ir.CALL_BUILTIN, "dict", (
                      ir.ListComp(S, ListT(pair),
                                  ir.TupleExpr(S, pair, (ir.Name(S, OBJNAME, "k"), ir.Const(S, INT, 1))),
                                  (ir.Comprehension(ir.NameTarget(S, "k", OBJNAME),
                                                    ir.Call(S, ListT(OBJNAME), ir.CALL_API, "get_obj_names", (), ()),
                                                    ()),)),), ())),
    )


def test_ir_of_def_call_and_undefined():
    program = compile_source("def up(p):\n    return p + 1\nx = up(2)\nmake_line(x, n=3)\n")
    fn = without_spans(program.functions["up"])
    assert fn == ir.FunctionDef(S, "up", (ir.Param("p", None, UNKNOWN, S),),
                                (ir.Return(S, ir.BinOp(S, UNKNOWN, "+", ir.Name(S, UNKNOWN, "p"),
                                                       ir.Const(S, INT, 1))),), UNKNOWN)
    assert without_spans(program.body[1]) == ir.Assign(
        S, (ir.NameTarget(S, "x", UNKNOWN),),
        ir.Call(S, UNKNOWN, ir.CALL_USER, "up", (ir.Const(S, INT, 2),), ()))
    assert [(u.name, u.n_args, u.keywords, u.span.line) for u in program.undefined] == [("make_line", 1, ("n",), 4)]
    assert program.body[2].value.kind == ir.CALL_UNDEFINED


# --- inferred types ----------------------------------------------------------------------------

@pytest.mark.parametrize("source,name,expected", [
    ("a = np.linspace(0, 1, 5)\n", "a", Array((5,))),
    ("t = np.linspace(0, 1, 20)\np = np.stack([np.cos(t), np.sin(t)], axis=1)\n", "p", Array((20, 2))),
    ("p = np.array([get_obj_pos(n) for n in get_obj_names()])\nc = np.mean(p, axis=0)\n", "c", XY),
    ("d = np.linalg.norm(get_obj_pos('a') - get_obj_pos('b'))\n", "d", FLOAT),
    ("z = list(zip(get_obj_names(), [1, 2]))\n", "z", ListT(TupleT((OBJNAME, INT)))),
    ("e = list(enumerate(get_obj_names()))\n", "e", ListT(TupleT((INT, OBJNAME)))),
    ("p = get_robot_pos()\nq = p[:2]\n", "q", XY),
    ("p = np.array([0.1, -0.5, 0.2])\n", "p", XYZ),
    ("x = 0\nfor i in range(3):\n    x = x + 0.5\ny = x\n", "y", FLOAT),
    ("i = np.argmin([1.0, 2.0])\n", "i", INT),
    ("s = f'{1}' + 'a'\n", "s", STR),
    ("b = 1 < 2 <= 3\n", "b", BOOL),
    ("n = len(get_obj_names()) // 2\n", "n", INT),
    ("v = 2 ** 3\n", "v", INT),
    ("v = 2 ** -1\n", "v", FLOAT),
    ("k = {'a': 1}.get('a')\n", "k", OneOf((INT, NONE))),
    ("k = {'a': 1}.get('a', 0)\n", "k", INT),
])
def test_inferred_types(source, name, expected):
    assert value_type(source, name) == expected


def test_unknown_propagates_from_undefined_calls():
    assert value_type("p = helper() + np.array([0.1, 0.0])\n", "p") == Array(None)


# --- type errors with spans ------------------------------------------------------------------------

def error(source: str) -> CompileError:
    with pytest.raises(CompileError) as info:
        compile_source(source, "t.py")
    return info.value


def where(exc: CompileError) -> tuple:
    s = exc.span
    return exc.code, s.line, s.col, s.end_line, s.end_col


def test_get_obj_pos_of_int_points_at_the_argument():
    assert where(error("x = get_obj_pos(3)\n")) == ("E100", 1, 17, 1, 18)


def test_string_plus_position_points_at_the_operation():
    exc = error("p = get_obj_pos('a')\nmsg = 'at ' + p\n")
    assert where(exc) == ("E103", 2, 7, 2, 16)
    assert "str" in exc.diagnostic.message and "xy" in exc.diagnostic.message


def test_xyz_where_xy_required():
    exc = error("c = get_corner_name(get_robot_pos())\n")
    assert where(exc) == ("E104", 1, 21, 1, 36)


def test_xyz_offset_added_to_xy_position():
    assert where(error("p = get_obj_pos('a') + np.array([0.0, 0.0, 0.1])\n"))[0] == "E104"


def test_wrong_arity_missing_and_extra():
    assert where(error("put_first_on_second('a')\n")) == ("E101", 1, 1, 1, 25)
    assert where(error("get_obj_pos('a', 'b')\n")) == ("E101", 1, 18, 1, 21)
    assert error("x = len()\n").code == "E101"
    assert error("def f(a):\n    return a\nf(1, 2)\n").code == "E101"


def test_unknown_keyword_points_at_the_keyword():
    assert where(error("move_to([0.0, -0.5], sped=0.1)\n")) == ("E102", 1, 22, 1, 30)
    assert error("x = sorted([1], kee=None)\n").code == "E102"
    assert error("x = np.mean([1.0], axes=0)\n").code == "E102"


def test_keyword_given_twice():
    assert error("move_to([0.0, -0.5], speed=0.1, speed=0.2)\n").code == "E110"


@pytest.mark.parametrize("source,code", [
    ("x = [1, 2]\nx.lower()\n", "E106"),
    ("for c in 3:\n    pass\n", "E109"),
    ("a, b = get_robot_pos()\n", "E108"),
    ("t = (1, 2)\nt[0] = 3\n", "E107"),
    ("x = get_obj_names()['a']\n", "E107"),
    ("p = get_obj_pos('a')\nz = p[2]\n", "E107"),
    ("x = 3\nx()\n", "E105"),
    ("x = 'a' - 'b'\n", "E103"),
    ("x = 'a' < 3\n", "E103"),
    ("x = range(1.5)\n", "E100"),
    ("x = ', '.join([1, 2])\n", "E100"),
    ("x = np.mean(get_obj_names())\n", "E100"),
    ("f = lambda: g()\ng = lambda: f()\n", "E025"),
])
def test_more_type_errors(source, code):
    assert error(source).code == code


def test_sub_lmp_answer_may_be_a_name():
    compile_source("n = parse_obj_name('left block', '')\nput_first_on_second(n, 'middle')\n")


# --- helpers from the LLM layer ----------------------------------------------------------------------

def test_helpers_are_compiled_with_their_own_file():
    helper = "def make_line(n):\n    return [np.array([0.1 * i, -0.5]) for i in range(n)]\n"
    program = compile_source("pts = make_line(3)\n", "main.py", helpers={"make_line": (helper, "make_line.py")})
    assert program.undefined == ()
    assert program.body[0].value.kind == ir.CALL_USER
    assert program.functions["make_line"].span.file == "make_line.py"
    assert program.body[0].targets[0].type == ListT(XY)


def test_helper_errors_point_into_the_helper_file():
    helper = "def bad(n):\n    import os\n"
    exc = error_with_helpers("bad(1)\n", {"bad": (helper, "bad.py")})
    assert (exc.code, exc.span.file, exc.span.line) == ("E010", "bad.py", 2)


def test_helper_must_define_its_name():
    exc = error_with_helpers("x = 1\n", {"wanted": ("def other():\n    return 1\n", "h.py")})
    assert exc.code == "E046"


def error_with_helpers(source, helpers) -> CompileError:
    with pytest.raises(CompileError) as info:
        compile_source(source, "main.py", helpers=helpers)
    return info.value


@pytest.mark.parametrize("source,name,expected", [
    ("a = np.linspace(0, 1, 5)\nb = np.column_stack([a, a, a])\n", "b", Array((5, 3))),
    ("a = np.linspace(0, 1, 5)\nb = np.vstack([a, a])\n", "b", Array((2, 5))),
    ("a = np.zeros((4, 2))\nb = np.concatenate([a, a, np.zeros((1, 2))])\n", "b", Array((9, 2))),
    ("a = np.linspace(0, 1, 5)\nb = np.hstack([a, a])\n", "b", Array((10,))),
    ("a = np.zeros((4, 2))\nb = np.concatenate([a, a], axis=1)\n", "b", Array(None)),
    ("a = np.zeros((4, 2))\nb = a.T\n", "b", Array((2, 4))),
    ("a = np.zeros((4, 2))\nb = a.shape\n", "b", TupleT((INT, INT))),
    ("a = np.zeros((4, 2))\nb = np.reshape(a, (2, -1))\n", "b", Array((2, None))),
    ("a = np.zeros(6)\nb = np.cumsum(a)\n", "b", Array((6,))),
    ("t = (1, 'a')\nb = t.index('a')\n", "b", INT),
])
def test_more_numpy_types(source, name, expected):
    assert value_type(source, name) == expected


def test_long_def_chains_do_not_recurse_in_the_checker():
    roomy = DEFAULT_LIMITS.with_changes(max_source_bytes=1_000_000)
    n = 3000
    chain = "".join(f"def f{i}():\n    return f{i + 1}()\n" for i in range(n))
    program = compile_source(chain + f"def f{n}():\n    return 1\nf0()\n", limits=roomy)
    assert len(program.functions) == n + 1
    with pytest.raises(CompileError) as info:
        compile_source(chain + f"def f{n}():\n    return f0()\n", limits=roomy)
    assert info.value.code == "E025" and len(info.value.diagnostic.message) < 200


@pytest.mark.parametrize("source", [
    "x = (1,)\n" + "x = (x, x)\n" * 30 + "y = x - 1\n",
    "x = (1,)\n" + "x = (x, x)\n" * 30 + "for i in range(2):\n    x = (x, x)\n",
    "x = (1,)\n" + "x = x + x\n" * 60 + "y = x\n",
    "x = [1]\n" + "x = [x, x]\n" * 30 + "y = x\n",
])
def test_self_doubling_types_stay_small(source):
    """Each line doubles the type of x; types are widened past a bound so that checking
    (and any error message) stays fast and short."""
    try:
        compile_source(source)
    except CompileError as exc:
        assert len(exc.diagnostic.message) < 300


def test_independent_errors_are_all_reported_in_source_order():
    from capc.compiler.lower import CompileErrors

    source = ("p = get_obj_pos(3)\n"          # E100; p becomes unknown: no cascade below
              "q = p + 1\n"
              "def f(a):\n    return a.nope()\n"   # E011 inside a def
              "move_to([0, 0], sped=1)\n"     # E102
              "for x in 5:\n    say(x)\n")    # E109
    with pytest.raises(CompileErrors) as info:
        compile_source(source)
    got = [(d.code, d.span.line) for d in info.value.diagnostics]
    assert got == [("E100", 1), ("E011", 4), ("E102", 5), ("E109", 6)]
    assert (info.value.code, info.value.span.line) == ("E100", 1)  # it is the first error too

"""A function-generation benchmark in the style of Code as Policies' RoboCodeGen, of our own
(bench/codegen_problems.py): for every problem, the reference solution must compile in the
policy language and, on generated test inputs, the interpreter must return what CPython
(with the real numpy and shapely) returns for the same source.

    .venv/bin/python bench/codegen.py [--inputs 5] [--seed 0]

Prints one line per problem and the totals; exits 1 if any reference solution fails.
The same check runs in tests/test_codegen_bench.py with fewer inputs.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from codegen_problems import PROBLEMS  # noqa: E402

SCENE = {"red block": [0.10, -0.45], "green block": [-0.15, -0.35], "yellow block": [0.05, -0.65],
         "blue bowl": [-0.05, -0.55], "pink bowl": [0.2, -0.3]}


# --- inputs ---------------------------------------------------------------------------------

def _num(v: float) -> str:
    return repr(round(float(v), 6))


def _pts_text(pts) -> str:
    return "[" + ", ".join(f"[{_num(x)}, {_num(y)}]" for x, y in pts) + "]"


def draw(kind: str, rng: np.random.RandomState) -> str:
    """Source text of one test argument of `kind` (the same text goes to both interpreters)."""
    m = re.fullmatch(r"(\w+)(?:\((.*)\))?", kind)
    name, params = m.group(1), [float(p) for p in (m.group(2) or "").split(",") if p.strip()]
    if name == "pt":
        return f"np.array([{_num(rng.uniform(-0.3, 0.3))}, {_num(rng.uniform(-0.8, -0.2))}])"
    if name == "pts":
        n = int(params[0])
        return f"np.array({_pts_text(np.c_[rng.uniform(-0.3, 0.3, n), rng.uniform(-0.8, -0.2, n)])})"
    if name == "float":
        return _num(rng.uniform(params[0], params[1]))
    if name == "int":
        return str(int(rng.randint(int(params[0]), int(params[1]) + 1)))
    if name == "xyxy":
        x0, y0 = rng.uniform(-0.3, 0.1), rng.uniform(-0.8, -0.4)
        return f"np.array([{_num(x0)}, {_num(y0)}, {_num(x0 + rng.uniform(0.05, 0.2))}, {_num(y0 + rng.uniform(0.05, 0.2))}])"
    if name == "times":
        return f"np.linspace(0, 1, {int(params[0])})"
    if name == "coeffs":
        return f"np.array([{', '.join(_num(v) for v in rng.uniform(-1, 1, int(params[0])))}])"
    if name == "matrix":
        n = int(params[0])
        rows = ", ".join("[" + ", ".join(_num(v) for v in rng.uniform(-0.6, 0.6, n)) + "]" for _ in range(n))
        return f"np.array([{rows}])"
    if name == "line":
        n = int(params[0])
        return f"LineString({_pts_text(np.c_[rng.uniform(-0.3, 0.3, n), rng.uniform(-0.8, -0.2, n)])})"
    if name in ("poly", "ring"):
        cx, cy, w, h = rng.uniform(-0.2, 0.2), rng.uniform(-0.7, -0.3), rng.uniform(0.05, 0.3), rng.uniform(0.05, 0.3)
        shape = f"box({_num(cx - w / 2)}, {_num(cy - h / 2)}, {_num(cx + w / 2)}, {_num(cy + h / 2)})"
        return shape if name == "poly" else shape + ".exterior"
    if name == "polys":
        return "[" + ", ".join(draw("poly", rng) for _ in range(int(params[0]))) + "]"
    if name == "convex":  # points on a circle, in order: a convex polygon
        n = int(params[0])
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        r, cx, cy = rng.uniform(0.05, 0.2), rng.uniform(-0.1, 0.1), rng.uniform(-0.6, -0.4)
        return f"np.array({_pts_text(np.c_[cx + r * np.cos(angles), cy + r * np.sin(angles)])})"
    if name == "names":
        names = list(SCENE)
        rng.shuffle(names)
        return repr(names[:int(rng.randint(2, len(names) + 1))])
    raise ValueError(f"unknown argument kind {kind!r}")


# --- the two runs ---------------------------------------------------------------------------

def _program(problem: dict, args: list[str]) -> str:
    fname = re.search(r"=\s*(\w+)\(", problem["sig"]).group(1)
    return problem["src"] + f"result = {fname}({', '.join(args)})\n"


def run_capc(source: str) -> Any:
    from capc.compiler.frontend import compile_source
    from capc.compiler.interpreter import run_program

    def answer(call):
        if call.name == "get_obj_pos":
            return np.array(SCENE[call.args["obj_name"]])
        if call.name == "get_obj_names":
            return list(SCENE)
        raise AssertionError(f"unexpected call {call.name}")

    program = compile_source(source, "<codegen>")
    return run_program(program, answer).globals.vars["result"]


def run_cpython(source: str) -> Any:
    import shapely.affinity
    import shapely.geometry

    namespace: dict = {"np": np, "get_obj_pos": lambda name: np.array(SCENE[name]),
                       "get_obj_names": lambda: list(SCENE)}
    namespace.update({n: getattr(shapely.geometry, n) for n in shapely.geometry.__all__})
    namespace.update({n: getattr(shapely.affinity, n) for n in shapely.affinity.__all__})
    exec(source, namespace)  # noqa: S102 - the benchmark's own reference solutions
    return namespace["result"]


def same(kind: str, ours: Any, theirs: Any) -> bool:
    if kind == "equal":
        if hasattr(theirs, "geom_type"):
            return ours.equals_exact(theirs, 0.0)
        return type(ours) is type(theirs) and ours == theirs if not isinstance(theirs, (list, tuple)) else \
            list(ours) == list(theirs)
    if kind == "shape":
        return abs(ours.area - theirs.area) < 1e-12 and ours.symmetric_difference(theirs).area < 1e-12
    if kind == "close_coords":
        return np.allclose(np.array(ours.exterior.coords if ours.geom_type == "Polygon" else ours.coords),
                           np.array(theirs.exterior.coords if theirs.geom_type == "Polygon" else theirs.coords),
                           rtol=0, atol=1e-12)
    if isinstance(theirs, tuple):
        return len(ours) == len(theirs) and all(same(kind, a, b) for a, b in zip(ours, theirs))
    return np.allclose(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float), rtol=1e-9, atol=1e-12)


def check(problem: dict, inputs: int, seed: int) -> tuple[bool, str, float]:
    """(all inputs agree, what went wrong, front-end seconds of the solution)."""
    from capc.compiler.frontend import compile_source

    start = time.perf_counter()
    compile_source(problem["src"], "<codegen>")
    compiled = time.perf_counter() - start
    rng = np.random.RandomState(seed)
    for _ in range(inputs):
        args = [draw(kind, rng) for kind in problem["args"]]
        source = _program(problem, args)
        theirs = run_cpython(source)
        ours = run_capc(source)
        if not same(problem["cmp"], ours, theirs):
            return False, f"differs on {args}: capc {ours!r}, CPython {theirs!r}", compiled
    return True, "", compiled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=5, help="test inputs per problem")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    passed, times = 0, []
    for problem in PROBLEMS:
        try:
            ok, why, seconds = check(problem, args.inputs, args.seed)
        except Exception as exc:  # a refusal or crash of either side is a failure to report
            ok, why, seconds = False, f"{type(exc).__name__}: {exc}", float("nan")
        passed += ok
        times.append(seconds)
        print(f"{'ok ' if ok else 'FAIL'} {problem['sig']}" + (f"  -- {why}" if why else ""))
    finite = sorted(t for t in times if t == t)
    print(f"\n{passed}/{len(PROBLEMS)} reference solutions compile and return what CPython returns "
          f"on {args.inputs} inputs each; front end median {1000 * finite[len(finite) // 2]:.2f} ms per solution")
    return 0 if passed == len(PROBLEMS) else 1


if __name__ == "__main__":
    sys.exit(main())

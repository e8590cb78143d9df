"""shapely geometry in policies (issue 13): the type rules, the interpreter against CPython with
the real shapely, and the verifier's model (exact where linear, over-approximated where not,
guarded where it cannot decide)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from capc.compiler.frontend import compile_source
from capc.compiler.interpreter import RuntimeStop, run_program
from capc.compiler.scene import parse_scene
from capc.diagnostics import CompileError
from capc.safety.spec import default_spec, parse_spec
from capc.safety.verifier import verify

SCENE = parse_scene("""objects:
  - {name: red block, position: [0.10, -0.45]}
  - {name: green block, position: [-0.15, -0.35]}
  - {name: yellow block, position: [0.05, -0.65]}
  - {name: blue bowl, position: [-0.05, -0.55]}
""")
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)  # a failure is shown as drawn: shrinking geometry is slow
HYPO = settings(max_examples=60, deadline=None, database=None, derandomize=True, phases=PHASES,
                suppress_health_check=list(HealthCheck))


def _code(source: str) -> str:
    with pytest.raises(CompileError) as info:
        compile_source(source, "policy.py")
    return info.value.diagnostic.code


# --- the front end ----------------------------------------------------------------------------

def test_cap_style_geometry_type_checks():
    source = ("def interpolate_pts_on_line(line, n):\n"
              "    return [line.interpolate(i / (n - 1), normalized=True).coords[0] for i in range(n)]\n"
              "line = LineString([get_obj_pos('red block'), get_obj_pos('blue bowl')])\n"
              "pts = np.array(interpolate_pts_on_line(line, 3))\n"
              "ring = Point(get_obj_pos('blue bowl')).buffer(0.1)\n"
              "corners = np.array(box(-0.1, -0.6, 0.1, -0.4).exterior.coords)\n"
              "tri = Polygon([[0.0, -0.5], [0.1, -0.5], [0.05, -0.4]])\n"
              "bigger = scale(tri, xfact=1.5, yfact=1.5, origin='centroid')\n"
              "turned = rotate(LineString([[0, 0], [0.1, 0]]), 90, origin=[0, 0])\n"
              "moved = translate(turned, xoff=0.1, yoff=-0.5)\n"
              "d = line.project(Point(get_obj_pos('green block')))\n"
              "inside = ring.contains(Point(get_obj_pos('red block'))) and tri.intersects(ring)\n"
              "c = tri.centroid\n"
              "say(f'{c.x:.2f} {c.y:.2f} {tri.area:.3f} {line.length:.2f} {ring.bounds[0]:.2f}')\n")
    program = compile_source(source, "policy.py")
    assert program is not None


@pytest.mark.parametrize("source, code", [
    ("p = Polygon([[0, 0], [1, 0], [1, 1]])\nc = p.coords\n", "E100"),     # a polygon has no coords
    ("p = Point(get_robot_pos())\n", "E104"),                               # 2-D only
    ("p = Point(0.1, 0.2)\nq = p.interpolate(0.5)\n", "E100"),              # only lines interpolate
    ("line = LineString([[0, 0], [1, 0]])\na = np.array(line)\n", "E100"),  # not numbers
    ("line = LineString([[0, 0], [1, 0]])\nx = line + 1\n", "E103"),
    ("p = Point(0, 0)\nq = p.exterior\n", "E100"),
    ("p = Point(0, 0)\nq = p.simplify(0.1)\n", "E011"),
    ("q = rotate(Point(0, 0), 30, origin='middle')\n", "E100"),
    ("v = [1.0, 2.0]\nx = v.coords\n", "E106"),
])
def test_misuse_is_refused_with_a_located_error(source, code):
    assert _code(source) == code


# --- the interpreter against CPython -----------------------------------------------------------

def _run(source: str) -> dict:
    program = compile_source(source, "policy.py")
    interp = run_program(program, lambda call: None)
    return interp.globals.vars


def _cpython(source: str) -> dict:
    import shapely.affinity
    import shapely.geometry

    namespace: dict = {"np": np}
    namespace.update({n: getattr(shapely.geometry, n) for n in shapely.geometry.__all__})
    namespace.update({n: getattr(shapely.affinity, n) for n in shapely.affinity.__all__})
    given_names = set(namespace) | {"__builtins__"}
    exec(source, namespace)  # noqa: S102 - our own test program, CPython as the reference
    return {k: v for k, v in namespace.items() if k not in given_names}


def _same(a, b) -> bool:
    if isinstance(b, (list, tuple)) and not isinstance(a, np.ndarray):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(b, (bool, str)) or b is None:
        return a == b
    if hasattr(b, "geom_type"):
        return a.geom_type == b.geom_type and a.equals_exact(b, 0.0)
    return np.allclose(a, b, rtol=0, atol=0, equal_nan=True)


coord = st.floats(-1.0, 1.0, allow_nan=False).map(lambda v: round(v, 4))
pair = st.tuples(coord, coord)


@HYPO
@given(st.lists(pair, min_size=2, max_size=5), st.floats(-0.5, 1.5).map(lambda v: round(v, 3)), pair,
       st.floats(-360, 360).map(lambda v: round(v, 2)), st.floats(0.01, 0.5).map(lambda v: round(v, 3)),
       st.sampled_from(["'center'", "'centroid'", "(0.1, -0.2)", "Point(0.3, 0.3)"]))
def test_interpreter_computes_what_cpython_computes(pts, t, q, angle, r, origin):
    source = (f"pts = {[list(p) for p in pts]}\n"
              f"line = LineString(pts)\n"
              f"a = line.interpolate({t}, normalized=True).coords[0]\n"
              f"b = np.array(line.interpolate({t}).coords[0])\n"
              f"d = line.project(Point({list(q)}))\n"
              f"e = line.project(Point({q[0]}, {q[1]}), normalized=True)\n"
              f"L = line.length\n"
              f"c = line.centroid.coords[0]\n"
              f"bb = line.bounds\n"
              f"rot = rotate(line, {angle}, origin={origin}).coords\n"
              f"rad = rotate(line, {angle / 57.3}, origin={origin}, use_radians=True).coords\n"
              f"sc = list(scale(line, xfact={r * 3}, yfact=-{r}, origin={origin}).coords)\n"
              f"tr = translate(line, xoff={q[0]}, yoff={q[1]}).coords\n"
              f"disc = Point({list(q)}).buffer({r})\n"
              f"area = disc.area\n"
              f"hit = disc.contains(Point(pts[0])) or disc.intersects(line)\n"
              f"away = disc.distance(Point(pts[1]))\n"
              f"rect = box({q[0]} - {r}, {q[1]} - {r}, {q[0]} + {r}, {q[1]} + {r})\n"
              f"inside = [rect.contains(Point(p)) for p in pts]\n"
              f"ring = np.array(rect.exterior.coords)\n"
              f"mp = MultiPoint(pts).centroid.coords[0]\n")
    try:
        theirs = _cpython(source)
    except Exception:  # shapely refuses something here: so must the interpreter, as a policy error
        with pytest.raises(RuntimeStop):
            _run(source)
        return
    ours = _run(source)
    for name in theirs:
        expected = theirs[name]
        got = ours[name]
        if type(expected).__name__ == "CoordinateSequence":
            expected = list(expected)
        assert _same(got, expected), (name, got, expected)


@HYPO
@given(st.lists(pair, min_size=3, max_size=6))
def test_polygon_measures_match_cpython(pts):
    source = (f"poly = Polygon({[list(p) for p in pts]})\n"
              "area = poly.area\nperimeter = poly.length\nouter = poly.exterior.coords\n"
              "n = len(outer)\nfirst = outer[0]\n")
    try:
        theirs = _cpython(source)
    except Exception as exc:  # shapely refuses it: so must the interpreter
        with pytest.raises(RuntimeStop):
            _run(source)
        assert exc
        return
    ours = _run(source)
    for name in theirs:
        expected = theirs[name]
        expected = list(expected) if type(expected).__name__ == "CoordinateSequence" else expected
        assert _same(ours[name], expected), name


def test_run_time_errors_are_policy_errors_not_crashes():
    with pytest.raises(RuntimeStop) as info:
        _run("line = LineString([[0.0, 0.0]])\n")
    assert info.value.code == "E501"
    with pytest.raises(RuntimeStop):
        _run("p = Point(0, 0).buffer(0.1, quad_segs=100000)\n")
    with pytest.raises(RuntimeStop) as info:
        _run("line = LineString([[0.0, 0.0], [1.0, 1.0]])\np = line.interpolate(float('inf'))\n")
    assert info.value.code == "E501"


# --- the verifier ------------------------------------------------------------------------------

def _verify(source: str, scene=SCENE, spec=None, **kw):
    return verify(compile_source(source, "policy.py"), spec or default_spec(), scene, **kw)


def _messages(report) -> list[str]:
    return [d.message for d in report.diagnostics()]


def test_points_interpolated_between_objects_are_proved_for_every_placement():
    report = _verify("line = LineString([get_obj_pos('red block'), get_obj_pos('blue bowl')])\n"
                     "names = ['green block', 'yellow block']\n"
                     "pts = [line.interpolate(i / 2, normalized=True).coords[0] for i in range(3)]\n"
                     "for name, pt in zip(names, pts[1:]):\n"
                     "    put_first_on_second(name, np.array(pt))\n", scene=None, any_scene=True)
    assert report.verdict == "accepted", _messages(report)


def test_a_point_interpolated_past_the_table_edge_is_rejected_with_a_replayed_counterexample():
    report = _verify("start = get_obj_pos('red block')\n"
                     "line = LineString([start, start + [0.5, 0.0]])\n"
                     "pt = np.array(line.interpolate(0.8, normalized=True).coords[0])\n"
                     "put_first_on_second('green block', pt)\n")
    assert report.verdict == "rejected"
    assert report.violated()[0].counterexample["replayed"] is True


def test_a_point_on_a_many_vertex_line_lies_in_the_box_of_its_vertices():
    safe = ("a = get_obj_pos('red block')\n"
            "line = LineString([a, a + [0.05, 0.0], a + [0.05, 0.05]])\n"
            "pt = np.array(line.interpolate(0.04).coords[0])\n"
            "put_first_on_second('green block', pt)\n")
    assert _verify(safe).verdict == "accepted"
    unsafe = safe.replace("[0.05, 0.05]", "[0.05, 0.5]").replace("0.04", "0.4")
    report = _verify(unsafe)
    assert report.verdict == "rejected"
    assert report.violated()[0].counterexample["replayed"] is True


def test_a_buffer_reaching_a_keep_out_box_is_rejected():
    spec = parse_spec("keep_out:\n  - {name: post, box: {x: [0.18, 0.26], y: [-0.5, -0.4], z: [0.0, 0.3]}}\n")
    source = ("c = get_obj_pos('red block')\n"
              "b = Point(c).buffer({r}).bounds\n"
              "put_first_on_second('green block', [b[2], c[1]])\n")
    report = _verify(source.format(r=0.12), spec=spec)
    assert report.verdict == "rejected"
    ob = report.violated()[0]
    assert ob.property == "keep_out:post" and ob.counterexample["replayed"] is True
    assert _verify(source.format(r=0.03), spec=spec).verdict == "accepted"


def test_a_rotation_about_an_object_keeps_the_distance_and_is_proved_or_refuted():
    source = ("c = get_obj_pos('blue bowl')\n"
              "q = rotate(Point(c + [{d}, 0.0]), {angle}, origin=Point(c))\n"
              "put_first_on_second('red block', [q.x, q.y])\n")
    assert _verify(source.format(d=0.05, angle=90)).verdict == "accepted"
    report = _verify(source.format(d=0.4, angle=180))
    assert report.verdict == "rejected" and report.violated()[0].counterexample["replayed"] is True


def test_box_contains_decides_a_branch_exactly():
    report = _verify("zone = box(-0.1, -0.6, 0.2, -0.4)\n"
                     "p = get_obj_pos('red block')\n"
                     "if zone.contains(Point(p)):\n"
                     "    put_first_on_second('red block', p + [0.0, 0.1])\n"
                     "else:\n"
                     "    put_first_on_second('red block', p + [0.0, 0.4])\n", scene=None, any_scene=True)
    # inside the zone the 10 cm move stays on the table; outside, 40 cm up leaves it
    assert report.verdict == "rejected"
    assert report.violated()[0].counterexample["replayed"] is True


def test_what_the_model_cannot_decide_is_guarded_never_proved():
    report = _verify("a, b = get_obj_pos('red block'), get_obj_pos('blue bowl')\n"
                     "tri = Polygon([a, b, a + [0.1, 0.0]])\n"
                     "c = tri.centroid\n"  # a self-crossing outline can put it anywhere
                     "put_first_on_second('green block', [c.x, c.y])\n")
    assert report.verdict == "guarded", _messages(report)
    report = _verify("ring = Point(get_obj_pos('blue bowl')).buffer(0.05)\n"
                     "for x, y in ring.exterior.coords:\n"
                     "    move_to([x, y, 0.1])\n")
    assert report.verdict == "guarded"


@HYPO
@given(st.lists(st.tuples(st.floats(-0.25, 0.25), st.floats(-0.75, -0.25)), min_size=2, max_size=4),
       st.floats(-0.2, 1.2), st.booleans())
def test_the_model_holds_the_real_point(vertices, t, normalized):
    """A proof from the model is a claim about shapely's real answer: with the positions as
    the scene, a move to the interpolated point is accepted only if the real point is inside
    the workspace (and rejected only if it is outside)."""
    import shapely.geometry

    names = ["red block", "green block", "yellow block", "blue bowl"][:len(vertices)]
    scene = parse_scene("objects:\n" + "".join(
        f"  - {{name: {n}, position: [{x!r}, {y!r}]}}\n" for n, (x, y) in zip(names, vertices)))
    pos = ", ".join(f"get_obj_pos('{n}')" for n in names)
    source = (f"line = LineString([{pos}])\n"
              f"pt = line.interpolate({t!r}, normalized={normalized})\n"
              "move_to([pt.x, pt.y, 0.1])\n")
    report = _verify(source, scene=scene)
    real = shapely.geometry.LineString(vertices).interpolate(t, normalized=normalized)
    ws = default_spec().workspace
    inside = ws.axes[0].low <= real.x <= ws.axes[0].high and ws.axes[1].low <= real.y <= ws.axes[1].high
    if report.verdict == "accepted":
        assert inside or math.isclose(real.x, 0.3) or math.isclose(real.y, -0.2)

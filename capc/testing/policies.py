"""Generated policies: well-typed programs over the tabletop API, built as IR, printed as source.

The generator builds `capc.compiler.ir` nodes whose calls name primitives from the robot
profile (their result types come from the registry), then prints them. What it aims at is
the verifier's hard cases, not at pretty programs:

* loops over `get_obj_names()` / blocks / bowls and over `range` with an accumulator;
* branches on perceived positions (`if get_obj_pos(b)[0] > 0.1:`) and on the arm's pose,
  with and without `else`;
* arithmetic offsets from perceived positions and from the current tool pose;
* helper `def`s that compute targets or move the arm;
* trajectories (`np.array` point lists and `np.linspace` between two points);
* explicit speeds and coordinates drawn near the limits of the spec in force, so that a good
  share of the commands are violated and a good share proved.

`policies(scene, spec)` yields `GeneratedPolicy(source, body, features)`; `features` says
what the program contains (motion, loop, branch, helper, trajectory), which the soak run
reports as the share of "interesting" programs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

from capc.compiler import ir
from capc.compiler.geometry import Interval
from capc.compiler.profiles import get_profile
from capc.compiler.registry import KIND_MOTION
from capc.compiler.scene import Scene
from capc.compiler.types import (
    BOOL, FLOAT, INT, NONE, OBJNAME, POINTS_XY, STR, UNKNOWN, XY, XYZ, Array, Geometry, ListT, TupleT, Type,
)
from capc.diagnostics import Span
from capc.safety.spec import SafetySpec, default_spec
from capc.testing.emit import emit_program

SPAN = Span("<generated>", 1, 1, 1, 2)
PROFILE = get_profile("tabletop")
# How far outside/inside a limit "near the limit" reaches, in metres.
NEAR = 0.04


@dataclass(frozen=True)
class GeneratedPolicy:
    source: str
    body: tuple[ir.Stmt, ...] = field(repr=False)
    features: frozenset[str] = frozenset()   # "motion", "loop", "branch", "helper", "trajectory", "speed"

    def _repr_pretty_(self, printer, cycle) -> None:  # hypothesis prints the source, not the IR
        printer.text(f"GeneratedPolicy(source={self.source!r})")

    @property
    def interesting(self) -> bool:
        """At least one motion and at least one loop or branch."""
        return "motion" in self.features and bool({"loop", "branch"} & self.features)


# --- IR construction --------------------------------------------------------------------

def const(value) -> ir.Const:
    kinds = {bool: BOOL, int: INT, float: FLOAT, str: STR, type(None): NONE}
    return ir.Const(SPAN, kinds[type(value)], value)


def name(ident: str, type_: Type = UNKNOWN) -> ir.Name:
    return ir.Name(SPAN, type_, ident)


def target(ident: str, type_: Type = UNKNOWN) -> ir.NameTarget:
    return ir.NameTarget(SPAN, ident, type_)


def api(callee: str, *args: ir.Expr, **keywords: ir.Expr) -> ir.Call:
    primitive = PROFILE.primitive(callee)
    if primitive is None:
        raise KeyError(f"no primitive '{callee}' in the tabletop profile")
    kws = tuple(ir.Keyword(k, v, SPAN) for k, v in keywords.items())
    return ir.Call(SPAN, primitive.returns, ir.CALL_API, callee, tuple(args), kws)


def numpy(callee: str, *args: ir.Expr, type_: Type = UNKNOWN) -> ir.Call:
    return ir.Call(SPAN, type_, ir.CALL_NUMPY, callee, tuple(args))


def geometry(callee: str, *args: ir.Expr, type_: Type = UNKNOWN) -> ir.Call:
    return ir.Call(SPAN, type_, ir.CALL_GEOMETRY, callee, tuple(args))


def method(callee: str, receiver: ir.Expr, *args: ir.Expr, type_: Type = UNKNOWN, **keywords: ir.Expr) -> ir.Call:
    kws = tuple(ir.Keyword(k, v, SPAN) for k, v in keywords.items())
    return ir.Call(SPAN, type_, ir.CALL_METHOD, callee, (receiver,) + tuple(args), kws)


def builtin(callee: str, *args: ir.Expr, type_: Type = UNKNOWN) -> ir.Call:
    return ir.Call(SPAN, type_, ir.CALL_BUILTIN, callee, tuple(args))


def user(callee: str, result: Type, *args: ir.Expr) -> ir.Call:
    return ir.Call(SPAN, result, ir.CALL_USER, callee, tuple(args))


def index(value: ir.Expr, i: int) -> ir.Subscript:
    return ir.Subscript(SPAN, FLOAT, value, (const(i),))


def add(left: ir.Expr, offset: float) -> ir.Expr:
    """`left + offset` (or `left - |offset|`), or just `left` for a zero offset."""
    if offset == 0:
        return left
    op, value = ("+", offset) if offset > 0 else ("-", -offset)
    return ir.BinOp(SPAN, FLOAT, op, left, const(value))


def point(*coords: ir.Expr) -> ir.ListExpr:
    return ir.ListExpr(SPAN, ListT(FLOAT), tuple(coords))


def call_stmt(call: ir.Call) -> ir.ExprStmt:
    return ir.ExprStmt(SPAN, call)


def assign(ident: str, value: ir.Expr) -> ir.Assign:
    return ir.Assign(SPAN, (target(ident, value.type),), value)


def compare(left: ir.Expr, op: str, right: ir.Expr) -> ir.Compare:
    return ir.Compare(SPAN, BOOL, (left, right), (op,))


# --- drawing numbers near the limits ----------------------------------------------------

def _round(places: int):
    return lambda v: round(v, places)


def weighted(*options: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """`one_of` with integer weights; shrinks towards the first option."""
    total = sum(weight for weight, _ in options)

    @st.composite
    def pick(draw):
        ticket = draw(st.integers(0, total - 1))
        for weight, strategy in options:
            if ticket < weight:
                return draw(strategy)
            ticket -= weight
        raise AssertionError("unreachable")

    return pick()


def near_interval(interval: Interval) -> st.SearchStrategy[float]:
    """A coordinate for a motion target: mostly well inside `interval`, often within NEAR
    inside one of its ends, sometimes just outside it or exactly on it (rounded to 4
    decimals). The mix is tuned so that about half of the generated programs are proved
    safe and most of the rest are violated somewhere (see docs/testing.md)."""
    low, high = interval.low, interval.high
    edge = min(NEAR, (high - low) / 2)
    return weighted(
        (14, st.floats(low + edge, high - edge)),
        (4, st.one_of(st.floats(low, low + edge), st.floats(high - edge, high))),
        (1, st.one_of(st.floats(low - NEAR, low), st.floats(high, high + NEAR))),
        (1, st.sampled_from([low, high])),
    ).map(_round(4))


def offsets(reach: float = 0.08) -> st.SearchStrategy[float]:
    return st.one_of(st.just(0.0), st.floats(-reach, reach).map(_round(3)))


def speeds(spec: SafetySpec) -> st.SearchStrategy[float | None]:
    """None (the cell's maximum), or a speed below, at or just above the spec's limit."""
    top = spec.max_speed
    return weighted((3, st.none()), (6, st.floats(0.02, top).map(_round(3))),
                    (1, st.sampled_from([top, round(top * 1.02, 4), round(top * 1.5, 3)])))


# --- the generator ----------------------------------------------------------------------

STATEMENT_KINDS = ("for_objects", "if_position", "move_const", "move_relative", "pick_place",
                   "for_range", "trajectory", "robot_relative", "if_robot", "gripper", "helper",
                   "while_sweep", "extreme_object", "centroid", "if_distance", "midpoint",
                   "clipped", "traj_through_objects", "while_descend", "cap_library")
COMPOUND = {"for_objects", "if_position", "for_range", "if_robot", "while_sweep", "if_distance",
            "while_descend"}
NESTED_ONLY = {"cap_library"}  # drawn inside loops, branches and helpers only (keeps the top level's mix)
# The statements of a pick-and-place program: what the fidelity bench runs apart from the
# arm's free moves, which sweep through objects the kinematic world model does not collide with.
PICK_AND_PLACE = ("for_objects", "if_position", "if_distance", "pick_place")
NEEDS_OBJECTS = {"if_position", "move_relative", "pick_place", "helper", "extreme_object", "centroid",
                 "if_distance", "midpoint", "clipped", "traj_through_objects", "cap_library"}


class _Builder:
    """One program under construction: the draw function, the spec whose limits the numbers
    crowd, the object names it may mention, fresh variable names, and what it contains."""

    def __init__(self, draw, scene: Scene, spec: SafetySpec, max_depth: int, linspace: bool,
                 kinds: tuple[str, ...] = STATEMENT_KINDS):
        self.draw = draw
        self.kinds = kinds
        self.spec = spec
        self.names = scene.names()
        self.max_depth = max_depth
        self.linspace = linspace
        self.features: set[str] = set()
        self.helpers: dict[str, str] = {}   # helper name -> "target" | "visit"
        self.counter = 0

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    # numbers
    def axis(self, i: int) -> float:
        return self.draw(near_interval(self.spec.workspace.axes[i]))

    def speed_kw(self) -> dict[str, ir.Expr]:
        speed = self.draw(speeds(self.spec))
        if speed is None:
            return {}
        self.features.add("speed")
        return {"speed": const(speed)}

    def object_expr(self, in_scope: list[ir.Expr]) -> ir.Expr:
        choices = list(in_scope) + [const(n) for n in self.names]
        return self.draw(st.sampled_from(choices))

    # statements
    def statements(self, depth: int, scope: list[ir.Expr], count: tuple[int, int]) -> tuple[ir.Stmt, ...]:
        n = self.draw(st.integers(*count))
        body: list[ir.Stmt] = []
        for _ in range(n):
            body += self.statement(depth, scope)
        return tuple(body)

    def statement(self, depth: int, scope: list[ir.Expr]) -> list[ir.Stmt]:
        kinds = [k for k in self.kinds
                 if (depth < self.max_depth or k not in COMPOUND)
                 and (k != "helper" or self.helpers)
                 and (k not in NEEDS_OBJECTS or scope or self.names)]
        if depth == 0:  # crowd the top level with loops and branches: that is where proofs fork
            kinds = [k for k in kinds if k not in NESTED_ONLY]
            kinds += [k for k in kinds if k in COMPOUND] * 3
        kind = self.draw(st.sampled_from(kinds))
        return getattr(self, "stmt_" + kind)(depth, scope)

    def stmt_move_const(self, depth, scope):
        self.features.add("motion")
        if self.draw(st.integers(0, 4)) == 4:  # a point of the unit square, mapped onto the table
            unit = weighted((5, st.floats(0.05, 0.95)), (1, st.floats(-0.05, 1.05))).map(_round(3))
            p = api("denormalize_xy", point(const(self.draw(unit)), const(self.draw(unit))))
        elif self.draw(st.booleans()):
            p = point(const(self.axis(0)), const(self.axis(1)), const(self.axis(2)))
        else:  # xy only: the arm keeps its current height, which the verifier must track
            p = point(const(self.axis(0)), const(self.axis(1)))
        return [call_stmt(api("move_to", p, **self.speed_kw()))]

    def stmt_move_relative(self, depth, scope):
        self.features.add("motion")
        var = self.fresh("p")
        fetch = assign(var, api("get_obj_pos", self.object_expr(scope)))
        pos = name(var, XY)
        dx, dy = self.draw(offsets()), self.draw(offsets())
        p = point(add(index(pos, 0), dx), add(index(pos, 1), dy), const(self.axis(2)))
        return [fetch, call_stmt(api("move_to", p, **self.speed_kw()))]

    def stmt_robot_relative(self, depth, scope):
        self.features.add("motion")
        var = self.fresh("r")
        fetch = assign(var, api("get_robot_pos"))
        pos = name(var, XYZ)
        p = point(*(add(index(pos, i), self.draw(offsets())) for i in range(3)))
        return [fetch, call_stmt(api("move_to", p, **self.speed_kw()))]

    def stmt_pick_place(self, depth, scope):
        self.features.add("motion")
        first = self.object_expr(scope)
        where = self.draw(st.sampled_from(["object", "point", "place"]))
        if where == "object":
            second = self.object_expr(scope)
        elif where == "place":  # CaP's named corners and sides ('top left corner', ...)
            second = const(self.draw(st.sampled_from(sorted(get_profile().cell.places))))
        else:
            second = point(const(self.axis(0)), const(self.axis(1)))
        return [call_stmt(api("put_first_on_second", first, second, **self.speed_kw()))]

    def stmt_gripper(self, depth, scope):  # moves the fingers, not the arm: not a "motion"
        return [call_stmt(api(self.draw(st.sampled_from(["open_gripper", "close_gripper"]))))]

    def stmt_trajectory(self, depth, scope):
        self.features.update({"motion", "trajectory"})
        if self.linspace and self.draw(st.booleans()):
            ends = [point(*(const(self.axis(i)) for i in range(3))) for _ in range(2)]
            pts = numpy("linspace", *ends, const(self.draw(st.integers(2, 6))),
                        type_=Array((None, 3)))
        else:
            n = self.draw(st.integers(1, 4))
            rows = [point(*(const(self.axis(i)) for i in range(3))) for _ in range(n)]
            pts = numpy("array", ir.ListExpr(SPAN, ListT(ListT(FLOAT)), tuple(rows)),
                        type_=Array((None, 3)))
        return [call_stmt(api("follow_traj", pts, **self.speed_kw()))]

    def stmt_helper(self, depth, scope):
        self.features.add("motion")
        helper = self.draw(st.sampled_from(sorted(self.helpers)))
        obj = self.object_expr(scope) if (scope or self.names) else None
        if obj is None:
            return self.stmt_move_const(depth, scope)
        height = const(self.axis(2))
        if self.helpers[helper] == "target":
            return [call_stmt(api("move_to", user(helper, ListT(FLOAT), obj, height), **self.speed_kw()))]
        return [call_stmt(user(helper, NONE, obj, height))]

    def stmt_for_objects(self, depth, scope):
        self.features.add("loop")
        var = self.fresh("obj")
        source = self.draw(st.sampled_from(["objs", "blocks", "bowls"]))
        body = self.statements(depth + 1, scope + [name(var, OBJNAME)], (1, 2))
        return [ir.For(SPAN, target(var, OBJNAME), name(source, ListT(OBJNAME)), body)]

    def stmt_for_range(self, depth, scope):
        """`x = c` then `for i in range(n): x += d; move_to([x, y, z])`: state carried
        through an unrolled loop, ending near a limit."""
        self.features.update({"loop", "motion"})
        var, i = self.fresh("x"), self.fresh("i")
        axis = self.draw(st.integers(0, 1))
        start, step = self.axis(axis), self.draw(st.floats(-0.08, 0.08).map(_round(3)))
        n = self.draw(st.integers(1, 4))
        coords = [const(self.axis(k)) for k in range(3)]
        coords[axis] = name(var, FLOAT)
        body = (ir.AugAssign(SPAN, target(var, FLOAT), "+", const(step)),
                call_stmt(api("move_to", point(*coords), **self.speed_kw())))
        loop = ir.For(SPAN, target(i, INT), builtin("range", const(n), type_=ListT(INT)), body)
        return [assign(var, const(start)), loop]

    def stmt_while_sweep(self, depth, scope):
        """`x = a` then `while x < b: move_to([x, y, z]); x += d`: a loop whose trip count
        the verifier must bound (past its unrolling bound it can only guard)."""
        self.features.update({"loop", "motion"})
        var = self.fresh("w")
        interval = self.spec.workspace.x
        start = self.draw(near_interval(interval))
        end = self.draw(st.floats(start, start + 0.4).map(_round(3)))
        step = self.draw(st.floats(0.03, 0.2).map(_round(3)))
        move = call_stmt(api("move_to", point(name(var, FLOAT), const(self.axis(1)), const(self.axis(2))),
                             **self.speed_kw()))
        body = (move, ir.AugAssign(SPAN, target(var, FLOAT), "+", const(step)))
        return [assign(var, const(start)),
                ir.While(SPAN, compare(name(var, FLOAT), "<", const(end)), body)]

    def stmt_extreme_object(self, depth, scope):
        """CaP's "the block furthest to the left": `min/max(objs, key=lambda o: ...)`, then a
        move relative to it (the choice itself depends on perceived positions)."""
        self.features.add("motion")
        chosen, pos = self.fresh("o"), self.fresh("p")
        axis = self.draw(st.integers(0, 1))
        o = name("o", OBJNAME)
        key = ir.Lambda(SPAN, UNKNOWN, ("o",), index(api("get_obj_pos", o), axis))
        pick = ir.Call(SPAN, OBJNAME, ir.CALL_BUILTIN, self.draw(st.sampled_from(["min", "max"])),
                       (name("objs", ListT(OBJNAME)),), (ir.Keyword("key", key, SPAN),))
        p = name(pos, XY)
        target = point(add(index(p, 0), self.draw(offsets())), add(index(p, 1), self.draw(offsets())),
                       const(self.axis(2)))
        return [assign(chosen, pick), assign(pos, api("get_obj_pos", name(chosen, OBJNAME))),
                call_stmt(api("move_to", target, **self.speed_kw()))]

    def stmt_centroid(self, depth, scope):
        """`c = np.mean([get_obj_pos(o) for o in objs], axis=0)`, then a move near it."""
        self.features.add("motion")
        var = self.fresh("c")
        o = name("o", OBJNAME)
        positions = ir.ListComp(SPAN, ListT(XY), api("get_obj_pos", o),
                                (ir.Comprehension(target("o", OBJNAME), name("objs", ListT(OBJNAME)), ()),))
        mean = ir.Call(SPAN, XY, ir.CALL_NUMPY, "mean", (positions,), (ir.Keyword("axis", const(0), SPAN),))
        c = name(var, XY)
        target_ = point(add(index(c, 0), self.draw(offsets())), add(index(c, 1), self.draw(offsets())),
                        const(self.axis(2)))
        return [assign(var, mean), call_stmt(api("move_to", target_, **self.speed_kw()))]

    def stmt_midpoint(self, depth, scope):
        """`m = (get_obj_pos(a) + get_obj_pos(b)) / 2`: vector arithmetic on perceived values."""
        self.features.add("motion")
        var = self.fresh("m")
        total = ir.BinOp(SPAN, XY, "+", api("get_obj_pos", self.object_expr(scope)),
                         api("get_obj_pos", self.object_expr(scope)))
        m = name(var, XY)
        target_ = point(add(index(m, 0), self.draw(offsets())), index(m, 1), const(self.axis(2)))
        return [assign(var, ir.BinOp(SPAN, XY, "/", total, const(2.0))),
                call_stmt(api("move_to", target_, **self.speed_kw()))]

    def stmt_clipped(self, depth, scope):
        """`t = np.clip(p + [dx, dy], low, high)`: the clamp CaP-style code uses to stay on the
        table, with bounds drawn near (sometimes past) the workspace's."""
        self.features.add("motion")
        var = self.fresh("t")
        shifted = ir.BinOp(SPAN, XY, "+", api("get_obj_pos", self.object_expr(scope)),
                           point(const(self.draw(offsets(0.15))), const(self.draw(offsets(0.15)))))
        low = point(const(self.axis(0)), const(self.axis(1)))
        high = point(const(self.axis(0)), const(self.axis(1)))
        t = name(var, XY)
        return [assign(var, numpy("clip", shifted, low, high, type_=XY)),
                call_stmt(api("move_to", point(index(t, 0), index(t, 1), const(self.axis(2))),
                              **self.speed_kw()))]

    def stmt_traj_through_objects(self, depth, scope):
        """A trajectory whose points are perceived positions at drawn heights."""
        self.features.update({"motion", "trajectory"})
        rows = []
        for _ in range(self.draw(st.integers(1, 3))):
            pos = api("get_obj_pos", self.object_expr(scope))
            rows.append(point(add(index(pos, 0), self.draw(offsets())), index(pos, 1), const(self.axis(2))))
        pts = numpy("array", ir.ListExpr(SPAN, ListT(ListT(FLOAT)), tuple(rows)), type_=Array((None, 3)))
        return [call_stmt(api("follow_traj", pts, **self.speed_kw()))]

    # the library of Code as Policies' prompts: shapely geometry (capc.compiler.lib_shapely)
    # and np.random (capc.compiler.lib_numpy_cap); one statement kind, so that loops and
    # branches keep their share of the programs
    def stmt_cap_library(self, depth, scope):
        kind = self.draw(st.sampled_from(["geometry_line", "geometry_rotate", "geometry_buffer", "random_offset",
                                          "several_points", "polyfit"]))
        return getattr(self, "stmt_" + kind)(depth, scope)

    def stmt_several_points(self, depth, scope):
        """A parse_position answer of several points as capc compiles one asked at compile time
        (an N x 2 array of perceived positions plus offsets, and constants near the limits),
        zipped with object names as CaP's prompts do:
        `for name, pt in zip(names, pts): put_first_on_second(name, pt)`; zip stops at the
        shorter of the two."""
        self.features.update({"motion", "loop"})
        rows = []
        for _ in range(self.draw(st.integers(1, 3))):
            if self.draw(st.booleans()):
                pos = api("get_obj_pos", self.object_expr(scope))
                rows.append(point(add(index(pos, 0), self.draw(offsets(0.2))),
                                  add(index(pos, 1), self.draw(offsets(0.2)))))
            else:
                rows.append(point(const(self.axis(0)), const(self.axis(1))))
        pts, obj, pt = self.fresh("pts"), self.fresh("name"), self.fresh("pt")
        names_ = ir.ListExpr(SPAN, ListT(OBJNAME),
                             tuple(self.object_expr(scope) for _ in range(self.draw(st.integers(1, len(rows) + 1)))))
        pairs = builtin("zip", names_, name(pts, POINTS_XY), type_=ListT(TupleT((OBJNAME, XY))))
        place = call_stmt(api("put_first_on_second", name(obj, OBJNAME), name(pt, XY), **self.speed_kw()))
        loop = ir.For(SPAN, ir.TupleTarget(SPAN, (target(obj, OBJNAME), target(pt, XY))), pairs, (place,))
        return [assign(pts, numpy("array", ir.ListExpr(SPAN, ListT(ListT(FLOAT)), tuple(rows)), type_=POINTS_XY)),
                loop]

    def stmt_polyfit(self, depth, scope):
        """`k = np.polyfit([x0, x1], [y0, y1], 1)` through a perceived or a drawn point and a
        drawn one, then a move to `[x, np.polyval(k, x), z]` (CaP's numpy; a fit of perceived
        values is beyond the verifier's models, so such a move is guarded)."""
        self.features.add("motion")
        if self.draw(st.booleans()):
            first = api("get_obj_pos", self.object_expr(scope))
            x0, y0 = index(first, 0), index(first, 1)
        else:
            x0, y0 = const(self.axis(0)), const(self.axis(1))
        xs = ir.ListExpr(SPAN, ListT(FLOAT), (x0, const(self.axis(0))))
        ys = ir.ListExpr(SPAN, ListT(FLOAT), (y0, const(self.axis(1))))
        var = self.fresh("k")
        x = const(self.axis(0))
        y = numpy("polyval", name(var, Array((None,))), x, type_=FLOAT)
        return [assign(var, numpy("polyfit", xs, ys, const(1), type_=Array((None,)))),
                call_stmt(api("move_to", point(x, y, const(self.axis(2))), **self.speed_kw()))]

    def stmt_geometry_line(self, depth, scope):
        """`p = np.array(LineString([a, b + d]).interpolate(t, normalized=True).coords[0])` (or the
        line's centroid), then a move there: t and d drawn so that some points leave the table."""
        self.features.add("motion")
        far = ir.BinOp(SPAN, XY, "+", api("get_obj_pos", self.object_expr(scope)),
                       point(const(self.draw(offsets(0.3))), const(self.draw(offsets(0.3)))))
        ends = ir.ListExpr(SPAN, ListT(XY), (api("get_obj_pos", self.object_expr(scope)), far))
        line = geometry("LineString", ends, type_=Geometry("LineString"))
        if self.draw(st.booleans()):
            t = self.draw(st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.2, -0.3]))
            on_line = method("interpolate", line, const(t), type_=Geometry("Point"), normalized=const(True))
        else:
            on_line = method("centroid", line, type_=Geometry("Point"))
        coords = method("coords", on_line, type_=ListT(TupleT((FLOAT, FLOAT))))
        var = self.fresh("p")
        p = name(var, XY)
        return [assign(var, numpy("array", ir.Subscript(SPAN, TupleT((FLOAT, FLOAT)), coords, (const(0),)),
                                  type_=XY)),
                call_stmt(api("move_to", point(index(p, 0), index(p, 1), const(self.axis(2))), **self.speed_kw()))]

    def stmt_geometry_rotate(self, depth, scope):
        """`q = rotate(Point(a + [d, 0]), angle, origin=Point(b))`: a rotation keeps the distance."""
        self.features.add("motion")
        moved = ir.BinOp(SPAN, XY, "+", api("get_obj_pos", self.object_expr(scope)),
                         point(const(self.draw(offsets(0.2))), const(0.0)))
        origin = geometry("Point", api("get_obj_pos", self.object_expr(scope)), type_=Geometry("Point"))
        angle = const(float(self.draw(st.sampled_from([0, 45, 90, 180, -30, 270]))))
        var = self.fresh("q")
        rotated = ir.Call(SPAN, Geometry("Point"), ir.CALL_GEOMETRY, "rotate",
                          (geometry("Point", moved, type_=Geometry("Point")), angle),
                          (ir.Keyword("origin", origin, SPAN),))
        q = name(var, Geometry("Point"))
        return [assign(var, rotated),
                call_stmt(api("move_to", point(method("x", q, type_=FLOAT), method("y", q, type_=FLOAT),
                                               const(self.axis(2))), **self.speed_kw()))]

    def stmt_random_offset(self, depth, scope):
        """`j = np.random.uniform(-r, r, size=2)`, then a move to an object plus j: the verifier
        must draw what the run draws (both seed the generator with 0)."""
        self.features.add("motion")
        var = self.fresh("j")
        r = self.draw(st.sampled_from([0.01, 0.05, 0.2]))
        jitter = ir.Call(SPAN, XY, ir.CALL_NUMPY, "random.uniform", (const(-r), const(r)),
                         (ir.Keyword("size", const(2), SPAN),))
        spot = ir.BinOp(SPAN, XY, "+", api("get_obj_pos", self.object_expr(scope)), name(var, XY))
        return [assign(var, jitter),
                call_stmt(api("move_to", point(index(spot, 0), index(spot, 1), const(self.axis(2))),
                              **self.speed_kw()))]

    def stmt_geometry_buffer(self, depth, scope):
        """`b = Point(a).buffer(r).bounds`, then a move to one corner of the bounds."""
        self.features.add("motion")
        var = self.fresh("b")
        around = geometry("Point", api("get_obj_pos", self.object_expr(scope)), type_=Geometry("Point"))
        radius = const(self.draw(st.sampled_from([0.02, 0.05, 0.1, 0.3])))
        bounds = method("bounds", method("buffer", around, radius, type_=Geometry("Polygon")),
                        type_=TupleT((FLOAT,) * 4))
        b = name(var, TupleT((FLOAT,) * 4))
        x, y = self.draw(st.sampled_from([0, 2])), self.draw(st.sampled_from([1, 3]))
        return [assign(var, bounds),
                call_stmt(api("move_to", point(index(b, x), index(b, y), const(self.axis(2))), **self.speed_kw()))]

    def stmt_if_distance(self, depth, scope):
        """`if np.linalg.norm(get_obj_pos(a) - get_obj_pos(b)) < d:`: a non-linear branch."""
        self.features.add("branch")
        a, b = self.object_expr(scope), self.object_expr(scope)
        diff = ir.BinOp(SPAN, XY, "-", api("get_obj_pos", a), api("get_obj_pos", b))
        norm = numpy("linalg.norm", diff, type_=FLOAT)
        test = compare(norm, self.draw(st.sampled_from(["<", ">"])),
                       const(self.draw(st.floats(0.0, 0.4).map(_round(3)))))
        return [self._if(test, depth, scope)]

    def stmt_while_descend(self, depth, scope):
        """`while get_robot_pos()[2] > h: r = get_robot_pos(); move_to([r[0], r[1], r[2] - d])`:
        a loop whose condition reads the arm's state (symbolic after a perceived move)."""
        self.features.update({"loop", "motion"})
        var = self.fresh("r")
        low = self.spec.workspace.z
        stop_at = self.draw(st.floats(low.low - NEAR, low.low + 0.1).map(_round(3)))
        step = self.draw(st.floats(0.02, 0.08).map(_round(3)))
        r = name(var, XYZ)
        body = (assign(var, api("get_robot_pos")),
                call_stmt(api("move_to", point(index(r, 0), index(r, 1), add(index(r, 2), -step)),
                              **self.speed_kw())))
        test = compare(index(api("get_robot_pos"), 2), ">", const(stop_at))
        return [ir.While(SPAN, test, body)]

    def stmt_if_position(self, depth, scope):
        self.features.add("branch")
        test = self._position_test(scope)
        if self.draw(st.booleans()):  # a compound condition: both operands fork the proof
            test = ir.BoolOp(SPAN, BOOL, self.draw(st.sampled_from(["and", "or"])),
                             (test, self._position_test(scope)))
        return [self._if(test, depth, scope)]

    def _position_test(self, scope) -> ir.Expr:
        axis = self.draw(st.integers(0, 1))
        interval = self.spec.workspace.axes[axis]
        threshold = self.draw(st.floats(interval.low, interval.high).map(_round(3)))
        return compare(index(api("get_obj_pos", self.object_expr(scope)), axis),
                       self.draw(st.sampled_from([">", "<", ">=", "<="])), const(threshold))

    def stmt_if_robot(self, depth, scope):
        self.features.add("branch")
        axis = self.draw(st.integers(0, 2))
        threshold = self.axis(axis)
        test = compare(index(api("get_robot_pos"), axis), self.draw(st.sampled_from([">", "<"])),
                       const(threshold))
        return [self._if(test, depth, scope)]

    def _if(self, test: ir.Expr, depth: int, scope) -> ir.If:
        body = self.statements(depth + 1, scope, (1, 2))
        orelse = self.statements(depth + 1, scope, (1, 2)) if self.draw(st.booleans()) else ()
        return ir.If(SPAN, test, body, orelse)

    # helpers
    def helper_defs(self) -> list[ir.Stmt]:
        defs: list[ir.Stmt] = []
        if not self.names:
            return defs
        for style in self.draw(st.lists(st.sampled_from(["target", "visit"]), max_size=2, unique=True)):
            self.features.add("helper")
            fname = "above" if style == "target" else "visit"
            self.helpers[fname] = style
            params = (ir.Param("name", None, OBJNAME, SPAN), ir.Param("height", None, FLOAT, SPAN))
            pos = name("pos", XY)
            dx = self.draw(offsets(0.06))
            where = point(add(index(pos, 0), dx), index(pos, 1), name("height", FLOAT))
            fetch = assign("pos", api("get_obj_pos", name("name", OBJNAME)))
            if style == "target":
                body = (fetch, ir.Return(SPAN, where))
                returns: Type = ListT(FLOAT)
            else:
                body = (fetch, call_stmt(api("move_to", where, **self.speed_kw())))
                returns = NONE
            defs.append(ir.FunctionDef(SPAN, fname, params, body, returns))
        return defs


def prelude() -> list[ir.Stmt]:
    """`objs = get_obj_names()` and the blocks / bowls among them (a CaP idiom)."""
    objs = assign("objs", api("get_obj_names"))

    def having(word: str) -> ir.ListComp:
        o = name("o", OBJNAME)
        test = compare(const(word), "in", o)
        gen = ir.Comprehension(target("o", OBJNAME), name("objs", ListT(OBJNAME)), (test,))
        return ir.ListComp(SPAN, ListT(OBJNAME), o, (gen,))

    return [objs, assign("blocks", having("block")), assign("bowls", having("bowl"))]


def _numpy_has(function: str) -> bool:
    try:
        from capc.compiler.library import NUMPY_FUNCTIONS
    except ImportError:
        return False
    return function in NUMPY_FUNCTIONS


@st.composite
def policies(draw, scene: Scene, spec: SafetySpec | None = None, statements: tuple[int, int] = (2, 3),
             max_depth: int = 2, kinds: tuple[str, ...] = STATEMENT_KINDS) -> GeneratedPolicy:
    """A policy for `scene` whose numbers crowd the limits of `spec` (default limits when None),
    made of the statement `kinds` (default: all; PICK_AND_PLACE: picks and places in loops and
    branches)."""
    spec = spec or default_spec()
    builder = _Builder(draw, scene, spec, max_depth, linspace=_numpy_has("linspace"), kinds=kinds)
    body = builder.helper_defs() + prelude()
    body += builder.statements(0, [], statements)
    body_t = tuple(body)
    return GeneratedPolicy(emit_program(body_t), body_t, frozenset(builder.features))


def features_of(body: tuple[ir.Stmt, ...]) -> set[str]:
    """What a program does when it runs, read back from its IR: a helper's body counts
    where the helper is called (used to cross-check `GeneratedPolicy.features`)."""
    defs = {s.name: s for s in body if isinstance(s, ir.FunctionDef)}
    found: set[str] = set()
    entered: set[str] = set()

    todo: list = [body]
    while todo:  # a helper's body is walked at its (first) call site, not where it is defined
        for node in ir.walk(todo.pop(), prune=lambda n: isinstance(n, ir.FunctionDef)):
            if isinstance(node, (ir.For, ir.While)):
                found.add("loop")
            if isinstance(node, (ir.If, ir.IfExp)):
                found.add("branch")
            if isinstance(node, ir.Call) and node.kind == ir.CALL_API:
                primitive = PROFILE.primitive(node.callee)
                if primitive is not None and primitive.kind == KIND_MOTION:
                    found.add("motion")
            if isinstance(node, ir.Call) and node.kind == ir.CALL_USER and node.callee in defs \
                    and node.callee not in entered:
                entered.add(node.callee)
                todo.append(defs[node.callee].body)
    return found


__all__ = ["GeneratedPolicy", "policies", "features_of", "near_interval", "speeds", "offsets"]

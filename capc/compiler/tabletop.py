"""The tabletop profile: CaP's cell and API, plus the motion primitives capc adds.

Frame (as in Code as Policies): metres, robot base at the origin, table top at z = 0, the
table in front of the robot at negative y. "Top" of the table (as a person looking at it
from the robot's side names it) is the high-y edge, "left" the low-x edge.

Everything the rest of capc needs to know about this cell is here: dimensions, named
places, the default workspace, the spawn area, the primitives and what each one moves.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from capc.compiler.geometry import Box, Interval
from capc.compiler.registry import (
    Grip, KIND_GEOMETRY, KIND_GRIPPER, KIND_MOTION, KIND_OUTPUT, KIND_PERCEPTION, KIND_SUB_LMP,
    Param, Primitive, RobotProfile, ROLE_DATA, ROLE_OBJECT, ROLE_PLACE, ROLE_POINTS,
    ROLE_POSITION, ROLE_QUERY, ROLE_SPEED, Seen, Waypoint, World, register_profile,
)
from capc.compiler.types import (
    Array, BOOL, FLOAT, NONE, OBJNAME, ListT, OneOf, PLACE, POINTS, POINTS_XY, POSITION, STR, XY, XYZ,
)
from capc.frozen import frozen

# CaP's ten colours, with the RGBA the simulator paints them in.
COLORS: dict[str, tuple[float, float, float, float]] = {
    "blue": (78 / 255, 121 / 255, 167 / 255, 1.0),
    "red": (255 / 255, 87 / 255, 89 / 255, 1.0),
    "green": (89 / 255, 169 / 255, 79 / 255, 1.0),
    "orange": (242 / 255, 142 / 255, 43 / 255, 1.0),
    "yellow": (237 / 255, 201 / 255, 72 / 255, 1.0),
    "purple": (176 / 255, 122 / 255, 161 / 255, 1.0),
    "pink": (255 / 255, 157 / 255, 167 / 255, 1.0),
    "cyan": (118 / 255, 183 / 255, 178 / 255, 1.0),
    "brown": (156 / 255, 117 / 255, 95 / 255, 1.0),
    "gray": (186 / 255, 176 / 255, 172 / 255, 1.0),
}
KINDS = ("block", "bowl")
# Without a scene and without object names in the policy, scene-free verification assumes
# CaP's usual table: three blocks and three bowls.
DEFAULT_OBJECTS = ("red block", "green block", "blue block", "red bowl", "green bowl", "blue bowl")


# How far past the edge of "under" (m) a float comparison still counts as under: far above the
# rounding of a few operations at table scale (1e-16), far below a counterexample's clearance
# from every edge (capc.safety.world.EDGE_GAP, 1e-7).
SUPPORT_EDGE_ROUNDING = 1e-12


@frozen
class TabletopCell:
    """Dimensions and named places of the tabletop. Positions of objects are their centres
    for blocks and the centre of the floor for bowls."""

    table_bounds: Box = Box.of((-0.3, 0.3), (-0.8, -0.2), (0.0, 0.3))  # default workspace
    spawn_margin: float = 0.05          # objects are spawned this far inside the table edge
    block_size: float = 0.04            # 4 cm cubes
    bowl_radius: float = 0.06           # outer radius of a bowl
    bowl_height: float = 0.04
    bowl_floor: float = 0.005           # thickness of a bowl's floor
    travel_height: float = 0.15         # TCP height for carrying objects between places
    clearance: float = 0.05             # TCP height above a pick/place when travelling over it
    home: tuple[float, float, float] = (0.0, -0.5, 0.2)  # TCP at the start of every run
    grasp_radius: float = 0.03          # a closing gripper takes an object whose centre is this near
    support_slack: float = 1e-6         # a released object rests on a support whose top is at most this above its bottom
    # Observed outcomes (capc.runtime.outcomes). A released object may rest this far from where
    # the plan let it go, and an object no step moved may drift this far, before the run says
    # so: a simulated block settles within 2-3 mm, and 1.5 cm stays under the 2 cm at which
    # bench/fidelity.py calls two backends' worlds different, so a difference is reported
    # before it is one. A block is 4 cm: 1.5 cm off still leaves it on its support.
    place_tolerance: float = 0.015
    disturb_tolerance: float = 0.015
    # The support allowance of that expectation: measured heights carry a few mm of settling
    # (a block released 0.1 mm low is still on its support, not inside it).
    observed_support_slack: float = 0.003
    # The arm's reach (the Panda at the origin, hand pointing down, elbow up: docs/simulation.md
    # "Reach"): the TCP stays between two spheres about `reach_centre`. Measured on the sim's
    # IK from rest over z in [0, 0.3] (bench/reach.py): the farthest horizontal reach is
    # 0.785-0.8075 m, the nearest 0.15-0.265 m; both spheres lie inside what was measured
    # (conservative by at most 5 mm outside, 5.5 cm inside), and the spawn area's far corners
    # (0.79 m at block height) stay inside. Every backend stops before a segment that leaves
    # it (E526, capc.runtime.outcomes): the kinematic one at the same call as the sim.
    reach_centre: tuple[float, float, float] = (0.0, 0.0, 0.125)
    reach_max: float = 0.804
    reach_min: float = 0.27

    @property
    def spawn_area(self) -> Box:
        """Where objects may be in scene-free verification (and where generators put them)."""
        b, m = self.table_bounds, self.spawn_margin
        return Box(b.x.shrink(m), b.y.shrink(m), Interval(0.0, 0.0))

    @functools.cached_property
    def places(self) -> dict[str, tuple[float, float]]:
        """CaP's named corners and sides, 5 cm inside the table edge."""
        b, m = self.table_bounds, self.spawn_margin
        left, right = b.x.low + m, b.x.high - m
        top, bottom = b.y.high - m, b.y.low + m
        mid_x, mid_y = (b.x.low + b.x.high) / 2, (b.y.low + b.y.high) / 2
        return {
            "top left corner": (left, top), "top side": (mid_x, top), "top right corner": (right, top),
            "left side": (left, mid_y), "middle": (mid_x, mid_y), "right side": (right, mid_y),
            "bottom left corner": (left, bottom), "bottom side": (mid_x, bottom),
            "bottom right corner": (right, bottom),
        }

    def resting_z(self, kind: str) -> float:
        """The z of an object's reference point when it stands on the table."""
        return self.block_size / 2 if kind == "block" else 0.0

    def grasp_z(self, kind: str, z: Any) -> Any:
        """TCP height that grasps an object whose reference point is at height z."""
        return z if kind == "block" else z + self.bowl_height / 2

    def place_z(self, kind: str, z: Any) -> Any:
        """TCP height that releases a held block onto an object whose reference is at z."""
        if kind == "block":
            return z + self.block_size
        return z + self.bowl_floor + self.block_size / 2  # into a bowl

    def support_reach(self, kind: str) -> float:
        """How far (per axis for a block, radially for a bowl) a block's centre may be from an
        object's centre and still stand on it: over a block's top face, or inside a bowl's
        floor. The one rule of "under" for the plans, the verifier and the kinematic backend."""
        half = self.block_size / 2
        # A centre exactly on the edge stands on it. Two camera errors at the tolerance put it
        # there (2 x 1 cm is half a block), and the doubles of dx then land a few ulps either
        # side: the allowance makes the run, the plans and the verifier (exact reals, or the
        # same doubles where the world is known) decide that edge alike.
        return (half if kind == "block" else self.bowl_radius - half) + SUPPORT_EDGE_ROUNDING

    def supports(self, kind: str, dx: float, dy: float) -> bool:
        """Whether an object of `kind` is under a block whose centre is (dx, dy) from its own
        (floats; the verifier builds the same comparisons on Z3 terms)."""
        reach = self.support_reach(kind)
        if kind == "block":
            return abs(dx) <= reach and abs(dy) <= reach
        return dx * dx + dy * dy <= reach * reach

    def rest_height(self, x: float, y: float, others: Any, bottom: float | None = None) -> float:
        """The height a block's centre comes to rest at over (x, y) (floats): on the highest of
        `others` ((kind, (ox, oy, oz)) pairs) under that point whose top is not above `bottom`
        (None: at any height), else on the table. The verifier builds the same rule on Z3
        terms (capc.safety.world)."""
        best = self.resting_z("block")
        for kind, (ox, oy, oz) in others:
            if not self.supports(kind, ox - x, oy - y):
                continue
            rest = self.place_z(kind, oz)
            if rest > best and (bottom is None or rest - self.block_size / 2 <= bottom + self.support_slack):
                best = rest
        return best

    def released_height(self, kind: str, x: float, y: float, z: float, others: Any) -> float:
        """The reference height an object of `kind` let go with its reference point at
        (x, y, z) comes to rest at (floats): a bowl on the table, a block on its support
        (`rest_height` below its bottom). The kinematic backend's rule, and the rules'
        release height (capc.safety.rules); the verifier's is WorldState.support_height."""
        if kind != "block":
            return self.resting_z(kind)
        return self.rest_height(x, y, others, bottom=z - self.block_size / 2)

    def reach_miss(self, start: Any, end: Any) -> float:
        """How far (m) the straight segment from `start` to `end` (TCP, floats) leaves the
        arm's reach; 0.0 when all of it is inside. The far sphere is convex, so its endpoints
        decide; the near one, the segment's closest point to the centre."""
        c = self.reach_centre
        a = [float(start[i]) - c[i] for i in range(3)]
        d = [float(end[i]) - float(start[i]) for i in range(3)]
        far = max(sum(v * v for v in a), sum((a[i] + d[i]) ** 2 for i in range(3))) ** 0.5 - self.reach_max
        length2 = sum(v * v for v in d)
        t = 0.0 if length2 == 0.0 else min(1.0, max(0.0, -sum(a[i] * d[i] for i in range(3)) / length2))
        near = self.reach_min - sum((a[i] + t * d[i]) ** 2 for i in range(3)) ** 0.5
        return max(0.0, far, near)

    def denormalize_xy(self, p: Any) -> tuple[Any, Any]:
        b = self.table_bounds
        return (b.x.low + p[0] * (b.x.high - b.x.low), b.y.low + p[1] * (b.y.high - b.y.low))


CELL = TabletopCell()


def object_kind(name: str) -> str:
    """'red block' -> 'block'; names that end in neither are treated as blocks."""
    return "bowl" if name.rstrip().endswith("bowl") else "block"


# --- motion plans ---------------------------------------------------------------------
# Written over `World` so that the same function gives floats to the runtime and Z3 terms
# to the verifier: the segments a primitive moves along are defined exactly once.

def _point3(world: World, value: Any, z_if_xy: Any) -> tuple[Any, Any, Any]:
    if len(value) == 3:
        return (value[0], value[1], value[2])
    return (value[0], value[1], z_if_xy)


def plan_move_to(args: dict[str, Any], world: World) -> tuple:
    target = _point3(world, args["p"], world.tcp()[2])
    return (Waypoint(target, args.get("speed"), "move"),)


def plan_follow_traj(args: dict[str, Any], world: World) -> tuple:
    z = world.tcp()[2]
    return tuple(Waypoint(_point3(world, p, z), args.get("speed"), f"trajectory point {i}")
                 for i, p in enumerate(args["pts"]))


def _pick_place_point(world: World, where: Any, picking: bool) -> tuple[tuple[Any, Any, Any], str]:
    if isinstance(where, str):
        kind = world.kind(where)
        x, y, z = world.position(where)
        z = CELL.grasp_z(kind, z) if picking else CELL.place_z(kind, z)
        return (x, y, z), kind
    # A bare point: pick/place a block standing on the table there (or at the given height).
    return _point3(world, where, CELL.block_size / 2), "point" if len(where) == 2 else "xyz"


def _place_point(world: World, first: Any, second: Any) -> tuple[Any, Any, Any]:
    """Where the held thing is let go. A block goes on top of whatever is under the target,
    as CaP's tabletop lowers until it touches: the height comes from the surface perceived
    there (a block's top, a bowl's floor, else the table), so the released block rests where
    it was let go on every backend and in the verifier's model. A height given in an xyz
    point is taken as given; a bowl is put down on the table (bowls do not stack)."""
    (x, y, z), kind = _pick_place_point(world, second, picking=False)
    if kind == "xyz" or (isinstance(first, str) and world.kind(first) == "bowl"):
        return (x, y, z)
    exclude = first if isinstance(first, str) else None
    return (x, y, world.maximum(z, world.surface(x, y, exclude)))


def plan_put_first_on_second(args: dict[str, Any], world: World) -> tuple:
    speed = args.get("speed")
    (px, py, pz), _ = _pick_place_point(world, args["arg1"], picking=True)
    qx, qy, qz = _place_point(world, args["arg1"], args["arg2"])
    # Travel high enough to clear both ends (stacks grow), never lower than the cell's default.
    travel = world.maximum(CELL.travel_height,
                           world.maximum(pz + CELL.clearance, qz + CELL.clearance))
    return (
        Grip(False, "open before picking"),
        Waypoint((px, py, travel), speed, "approach pick"),
        Waypoint((px, py, pz), speed, "descend to pick"),
        Grip(True, "grasp"),
        Waypoint((px, py, travel), speed, "lift"),
        Waypoint((qx, qy, travel), speed, "carry"),
        Waypoint((qx, qy, qz), speed, "lower to place"),
        Grip(False, "release"),
        Waypoint((qx, qy, travel), speed, "retreat"),
    )


def plan_gripper(close: bool):
    def plan(args: dict[str, Any], world: World) -> tuple:
        return (Grip(close, "close gripper" if close else "open gripper"),)
    return plan


def _speed_param() -> Param:
    return Param("speed", OneOf((FLOAT, NONE)), ROLE_SPEED, default=None, required=False,
                 doc="TCP speed in m/s; None means the cell's maximum")


_SEVERAL = re.compile(r"\b(points|corners|sides|positions|locations|spots|vertices)\b", re.I)
_SHAPE = re.compile(r"\b(line|triangle|square|rectangle|circle|polygon|pentagon|hexagon|shape)\b", re.I)
_ONE = re.compile(r"^\s*(a|an|the|one)\s+(point|position|location|spot|corner|side)\b", re.I)


def position_answer_type(query: str) -> Any:
    """What parse_position answers to `query`: several points (N x 2) when the words ask for
    several ("the top corners", "a line with 3 points", "a triangle around the bowl"), one xy
    point otherwise ("a point 10cm left of the bowl", "the corner closest to the block")."""
    if _SEVERAL.search(query) or (_SHAPE.search(query) and not _ONE.match(query)):
        return POINTS_XY
    return XY


def _query_params() -> tuple[Param, ...]:
    return (Param("query", STR, ROLE_QUERY, doc="what to answer, in words"),
            Param("context", STR, ROLE_QUERY, default="", required=False,
                  doc="extra code context for the sub-program"))


def build_profile() -> RobotProfile:
    name = Param("obj_name", OBJNAME, ROLE_OBJECT)
    primitives = (
        Primitive("get_obj_names", (), ListT(OBJNAME), KIND_PERCEPTION,
                  "names of the objects on the table", "objects = get_obj_names()"),
        Primitive("get_obj_pos", (name,), XY, KIND_PERCEPTION,
                  "xy position of an object's centre, in metres", "pos = get_obj_pos('red block')"),
        Primitive("get_bbox", (name,), Array((4,)), KIND_PERCEPTION,
                  "axis-aligned bounding box seen from above: [x_min, y_min, x_max, y_max]",
                  "x_min, y_min, x_max, y_max = get_bbox('blue bowl')"),
        Primitive("get_color", (name,), STR, KIND_PERCEPTION,
                  "colour name of an object", "get_color('red block')"),
        Primitive("is_obj_visible", (name,), BOOL, KIND_PERCEPTION,
                  "whether the object is in the scene", "if is_obj_visible('red block'):"),
        Primitive("get_robot_pos", (), XYZ, KIND_PERCEPTION,
                  "current xyz position of the tool centre point", "pos = get_robot_pos()"),
        Primitive("denormalize_xy", (Param("pos_normalized", XY, ROLE_DATA),), XY, KIND_GEOMETRY,
                  "map a point of the unit square onto the table", "denormalize_xy([0.5, 0.5])"),
        Primitive("get_corner_name", (Param("pos", XY, ROLE_DATA),), STR, KIND_GEOMETRY,
                  "name of the table corner nearest to a point", "get_corner_name(pos)"),
        Primitive("get_side_name", (Param("pos", XY, ROLE_DATA),), STR, KIND_GEOMETRY,
                  "name of the table side nearest to a point", "get_side_name(pos)"),
        Primitive("put_first_on_second",
                  (Param("arg1", PLACE, ROLE_PLACE, doc="object name or xy to pick"),
                   Param("arg2", PLACE, ROLE_PLACE, doc="object name or xy to place onto"),
                   _speed_param()),
                  NONE, KIND_MOTION, "pick the first thing up and put it on the second",
                  "put_first_on_second('red block', 'blue bowl')"),
        Primitive("move_to", (Param("p", POSITION, ROLE_POSITION, doc="xy (keeps height) or xyz"),
                              _speed_param()),
                  NONE, KIND_MOTION, "move the tool centre point in a straight line",
                  "move_to([0.0, -0.5, 0.1], speed=0.1)"),
        Primitive("follow_traj", (Param("pts", POINTS, ROLE_POINTS, doc="N x 2 or N x 3 points"),
                                  _speed_param()),
                  NONE, KIND_MOTION, "move through the points in order along straight segments",
                  "follow_traj(np.array([[0, -0.4], [0.1, -0.5]]))"),
        Primitive("open_gripper", (), NONE, KIND_GRIPPER, "open the gripper", "open_gripper()"),
        Primitive("close_gripper", (), NONE, KIND_GRIPPER, "close the gripper", "close_gripper()"),
        Primitive("say", (Param("msg", STR, ROLE_DATA),), NONE, KIND_OUTPUT,
                  "tell the user something", "say('done')"),
        Primitive("parse_obj_name", _query_params(), OneOf((OBJNAME, ListT(OBJNAME))), KIND_SUB_LMP,
                  "names of the objects that match a description",
                  "block_name = parse_obj_name('the block closest to the top', f'objects = {objects}')"),
        Primitive("parse_position", _query_params(), XY, KIND_SUB_LMP,
                  "an xy position described in words; several (an N x 2 array) when the words ask "
                  "for several points: 'the corners', 'a line with 3 points', 'a triangle'",
                  "target = parse_position('a point 10cm left of the red bowl')",
                  answer_type=position_answer_type),
        Primitive("parse_question", _query_params(), STR, KIND_SUB_LMP,
                  "answer a question about the scene",
                  "answer = parse_question('how many blocks are there?', f'objects = {objects}')"),
        Primitive("transform_shape_pts", (Param("query", STR, ROLE_QUERY),
                                          Param("context", STR, ROLE_QUERY, default="", required=False),
                                          Param("shape_pts", POINTS, ROLE_DATA, default=None, required=False,
                                                doc="the N x 2 points to transform, as CaP passes them")),
                  POINTS, KIND_SUB_LMP, "transform a set of points as described",
                  "new_pts = transform_shape_pts('rotate by 45 degrees', f'pts = {pts}')"),
    )
    planners = {
        "put_first_on_second": plan_put_first_on_second,
        "move_to": plan_move_to,
        "follow_traj": plan_follow_traj,
        "open_gripper": plan_gripper(False),
        "close_gripper": plan_gripper(True),
    }
    answers = {
        "get_obj_pos": lambda args, seen: seen.vector(list(seen.xy(args["obj_name"]))),
        "get_bbox": answer_bbox,
        "denormalize_xy": lambda args, seen: seen.vector(list(CELL.denormalize_xy(args["pos_normalized"]))),
        "get_corner_name": lambda args, seen: get_corner_name(args["pos"]),
        "get_side_name": lambda args, seen: get_side_name(args["pos"]),
    }
    return RobotProfile("tabletop", primitives, planners, CELL, answers, tuple(COLORS), KINDS, DEFAULT_OBJECTS,
                        object_kind, COLORS, backends=("kinematic", "sim", "franka"))


def answer_bbox(args: dict[str, Any], seen: Seen) -> Any:
    """[x_min, y_min, x_max, y_max] seen from above: a block's square, a bowl's rim."""
    name = args["obj_name"]
    x, y = seen.xy(name)
    half = CELL.block_size / 2 if seen.kind(name) == "block" else CELL.bowl_radius
    return seen.vector([x - half, y - half, x + half, y + half])


_PROFILE = build_profile()
register_profile("tabletop", lambda: _PROFILE)


# --- concrete geometry primitives ------------------------------------------------------
# Plain functions of a point and the cell: the runtime answers the geometry primitives with
# them and the verifier replays them; CELL.denormalize_xy is the third one.

CORNER_NAMES = ("top left corner", "top right corner", "bottom left corner", "bottom right corner")
SIDE_NAMES = ("top side", "bottom side", "left side", "right side")


def _nearest_place(pos: Any, names: tuple[str, ...]) -> str:
    x, y = float(pos[0]), float(pos[1])
    return min(names, key=lambda n: (CELL.places[n][0] - x) ** 2 + (CELL.places[n][1] - y) ** 2)


def get_corner_name(pos: Any) -> str:
    """The table corner nearest to the xy point `pos` (CaP's `get_corner_name`)."""
    return _nearest_place(pos, CORNER_NAMES)


def get_side_name(pos: Any) -> str:
    """The table side (its midpoint) nearest to the xy point `pos` (CaP's `get_side_name`)."""
    return _nearest_place(pos, SIDE_NAMES)

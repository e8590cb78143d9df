"""A second, small robot profile for the tests: a counter with a row of cubbies (issue 19).

It proves that an embodiment is a profile, not a fork: the checker, the verifier, the
monitor and the kinematic backend run it without a line of their code knowing it. Importing
this module registers it as "shelf" (tests only; capc.compiler.profiles does not import it).

What differs from the tabletop:

* the cell: a counter in front of the robot at positive y (the tabletop's is at negative y),
  objects picked from its front strip, five cubbies along its back whose top board and walls
  a limits file makes keep-out zones; objects are cans and boxes that never stack (a released
  one stands on the counter), and only white, black and silver ones;
* one primitive of its own, `shelve(obj_name, slot)`: pick the object up and slide it into a
  cubby *horizontally*, under the top board, through the cubby's mouth (the tabletop only
  ever comes down onto a place from above). Its slot is a number, so a slot that does not
  exist is a place outside the workspace: the verifier's to find, not a lookup error.
"""

from __future__ import annotations

from typing import Any

from capc.compiler.geometry import Box, Interval
from capc.compiler.registry import (
    Grip, KIND_MOTION, KIND_OUTPUT, KIND_PERCEPTION, Param, Primitive, RobotProfile, ROLE_DATA,
    ROLE_OBJECT, ROLE_POSITION, ROLE_SPEED, Seen, Waypoint, World, register_profile,
)
from capc.compiler.types import FLOAT, INT, NONE, OBJNAME, STR, XY, ListT, OneOf, POSITION
from capc.frozen import frozen

NAME = "shelf"
COLORS = {"white": (0.95, 0.95, 0.95, 1.0), "black": (0.1, 0.1, 0.1, 1.0), "silver": (0.75, 0.75, 0.78, 1.0)}
KINDS = ("can", "box")
HEIGHTS = {"can": 0.08, "box": 0.06}   # an object's reference point is its centre


@frozen
class ShelfCell:
    """The counter and its cubbies (metres; the robot's base at the origin, the counter's top
    at z = 0). The names are those the shared code reads of a cell."""

    table_bounds: Box = Box.of((-0.4, 0.4), (0.25, 0.75), (0.0, 0.4))   # the default workspace
    home: tuple[float, float, float] = (0.0, 0.35, 0.25)
    grasp_radius: float = 0.03
    slot_x0: float = -0.3          # x of cubby 0's centre
    slot_pitch: float = 0.15       # cubby to cubby
    slot_y: float = 0.65           # where an object is set down inside a cubby
    mouth_y: float = 0.5           # in front of the cubbies' mouths
    carry_height: float = 0.11     # a carried can's top stays under the top board (at 0.16)
    support_slack: float = 1e-6
    observed_support_slack: float = 0.003
    place_tolerance: float = 0.015
    disturb_tolerance: float = 0.015

    @property
    def spawn_area(self) -> Box:
        """The front strip objects are picked from."""
        return Box(Interval(-0.35, 0.35), Interval(0.3, 0.45), Interval(0.0, 0.0))

    @property
    def places(self) -> dict[str, tuple[float, float]]:
        return {f"cubby {i}": self.slot_xy(i) for i in range(5)}

    def slot_xy(self, slot: Any) -> tuple[Any, Any]:
        return (self.slot_x0 + slot * self.slot_pitch, self.slot_y)

    def resting_z(self, kind: str) -> float:
        return HEIGHTS.get(kind, HEIGHTS["box"]) / 2

    def grasp_z(self, kind: str, z: Any) -> Any:
        return z

    def place_z(self, kind: str, z: Any) -> Any:
        return z + HEIGHTS.get(kind, HEIGHTS["box"])

    def support_reach(self, kind: str) -> float:
        return 0.0   # nothing stands on a can or a box

    def rest_height(self, x: float, y: float, others: Any, bottom: float | None = None) -> float:
        return self.resting_z("box")

    def released_height(self, kind: str, x: float, y: float, z: float, others: Any) -> float:
        return self.resting_z(kind)   # let go anywhere, it stands on the counter


CELL = ShelfCell()


def object_kind(name: str) -> str:
    return "box" if name.rstrip().endswith("box") else "can"


def plan_move_to(args: dict[str, Any], world: World) -> tuple:
    p = args["p"]
    target = (p[0], p[1], p[2]) if len(p) == 3 else (p[0], p[1], world.tcp()[2])
    return (Waypoint(target, args.get("speed"), "move"),)


def plan_shelve(args: dict[str, Any], world: World) -> tuple:
    """Pick from above, carry under the top board, slide in through the cubby's mouth, set
    down, and back out the same way."""
    name, speed = args["obj_name"], args.get("speed")
    x, y, z = world.position(name)
    grasp = CELL.grasp_z(world.kind(name), z)
    sx, sy = CELL.slot_xy(args["slot"])
    carry, mouth = CELL.carry_height, CELL.mouth_y
    return (
        Grip(False, "open before picking"),
        Waypoint((x, y, carry), speed, "approach pick"),
        Waypoint((x, y, grasp), speed, "descend to pick"),
        Grip(True, "grasp"),
        Waypoint((x, y, carry), speed, "lift"),
        Waypoint((sx, mouth, carry), speed, "to the cubby's mouth"),
        Waypoint((sx, sy, carry), speed, "slide in"),
        Waypoint((sx, sy, grasp), speed, "set down"),
        Grip(False, "release"),
        Waypoint((sx, sy, carry), speed, "rise"),
        Waypoint((sx, mouth, carry), speed, "slide out"),
    )


def _speed() -> Param:
    return Param("speed", OneOf((FLOAT, NONE)), ROLE_SPEED, default=None, required=False)


def build_profile() -> RobotProfile:
    obj = Param("obj_name", OBJNAME, ROLE_OBJECT)
    primitives = (
        Primitive("get_obj_names", (), ListT(OBJNAME), KIND_PERCEPTION, "names of the objects on the counter",
                  "objects = get_obj_names()"),
        Primitive("get_obj_pos", (obj,), XY, KIND_PERCEPTION, "xy of an object's centre",
                  "x, y = get_obj_pos('white can')"),
        Primitive("move_to", (Param("p", POSITION, ROLE_POSITION), _speed()), NONE, KIND_MOTION,
                  "move the tool centre point in a straight line", "move_to([0.0, 0.35, 0.2])"),
        Primitive("shelve", (obj, Param("slot", INT, ROLE_DATA, doc="cubby 0 to 4, left to right"), _speed()),
                  NONE, KIND_MOTION, "put an object into a cubby, sliding it in under the top board",
                  "shelve('white can', 2)"),
        Primitive("say", (Param("msg", STR, ROLE_DATA),), NONE, KIND_OUTPUT, "tell the user something",
                  "say('done')"),
    )
    answers = {"get_obj_pos": answer_obj_pos}
    return RobotProfile(NAME, primitives, {"move_to": plan_move_to, "shelve": plan_shelve}, CELL, answers,
                        tuple(COLORS), KINDS, ("white can", "black box"), object_kind, COLORS)


def answer_obj_pos(args: dict[str, Any], seen: Seen) -> Any:
    return seen.vector(list(seen.xy(args["obj_name"])))


_PROFILE = build_profile()
register_profile(NAME, lambda: _PROFILE)

# Limits of the shelf's tests: the top board over the cubbies and the two outer walls.
LIMITS = """\
keep_out:
  - {name: top board, box: {x: [-0.4, 0.4], y: [0.55, 0.75], z: [0.16, 0.2]}}
  - {name: left wall, box: {x: [-0.4, -0.38], y: [0.55, 0.75], z: [0.0, 0.2]}}
  - {name: right wall, box: {x: [0.38, 0.4], y: [0.55, 0.75], z: [0.0, 0.2]}}
"""
SCENE = """\
objects:
  - {name: white can, position: [-0.1, 0.38]}
  - {name: black box, position: [0.15, 0.36]}
"""

"""The robot API registry: every primitive a policy may call, declared once.

The type checker reads the signatures, the verifier and the runtime read the motion plans,
the prompt builder prints the API section from the same declarations. A profile bundles the
primitives of one embodiment with the geometry of its cell, so a second robot is a second
`RobotProfile`, not a fork of the checker.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Callable, Protocol

from capc.compiler.types import Type
from capc.frozen import frozen

# What a parameter means to the safety layer. The verifier derives proof obligations from
# these roles rather than from primitive names.
ROLE_POSITION = "position"  # a target point (xy or xyz) for the tool centre point
ROLE_PLACE = "place"        # object name or point: where a pick/place goes
ROLE_POINTS = "points"      # a trajectory: N x 2 or N x 3
ROLE_SPEED = "speed"        # a requested TCP speed in m/s
ROLE_OBJECT = "object"      # an object name
ROLE_QUERY = "query"        # natural-language text for a sub-LMP
ROLE_DATA = "data"          # anything else

KIND_PERCEPTION = "perception"  # reads the world, no motion
KIND_GEOMETRY = "geometry"      # pure function of its arguments and the cell
KIND_MOTION = "motion"          # moves the arm: has a plan, obligations
KIND_GRIPPER = "gripper"        # opens/closes the gripper
KIND_OUTPUT = "output"          # talks to the user
KIND_SUB_LMP = "sub_lmp"        # answered by a language model program


@frozen
class Param:
    name: str
    type: Type
    role: str = ROLE_DATA
    default: Any = None
    required: bool = True
    doc: str = ""


@frozen
class Primitive:
    name: str
    params: tuple[Param, ...]
    returns: Type
    kind: str
    doc: str
    example: str = ""  # one line of CaP-style usage, shown in prompts
    # A sub-LMP whose answer's type follows its query ("the corners" are several points):
    # query text -> type. None: always `returns`.
    answer_type: Any = None

    def result_for(self, query: Any) -> Type:
        """The type of this call's result given its query text (None when not known)."""
        if self.answer_type is None or not isinstance(query, str):
            return self.returns
        return self.answer_type(query)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def moves(self) -> bool:
        return self.kind in (KIND_MOTION, KIND_GRIPPER)

    def signature(self) -> str:
        parts = []
        for p in self.params:
            parts.append(p.name if p.required else f"{p.name}={p.default!r}")
        return f"{self.name}({', '.join(parts)})"

    def bind(self, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Arguments by parameter name, defaults filled in. Raises TypeError with a message
        fit for users (the type checker has already rejected bad calls in checked code)."""
        if len(args) > len(self.params):
            raise TypeError(f"{self.name}() takes at most {len(self.params)} arguments, got {len(args)}")
        bound: dict[str, Any] = {}
        for param, value in zip(self.params, args):
            bound[param.name] = value
        for key, value in kwargs.items():
            if self.param(key) is None:
                raise TypeError(f"{self.name}() has no parameter '{key}'")
            if key in bound:
                raise TypeError(f"{self.name}() got two values for '{key}'")
            bound[key] = value
        for param in self.params:
            if param.name not in bound:
                if param.required:
                    raise TypeError(f"{self.name}() is missing '{param.name}'")
                bound[param.name] = param.default
        return bound


class World(Protocol):
    """What a motion plan may ask of the world it runs in. Implemented by the runtime
    (concrete numbers from a backend) and by the verifier (Z3 terms); plans are written
    against this so that both read the same semantics."""

    def position(self, name: str) -> tuple[Any, Any, Any]: ...
    def kind(self, name: str) -> str: ...
    def tcp(self) -> tuple[Any, Any, Any]: ...
    def maximum(self, a: Any, b: Any) -> Any: ...
    def surface(self, x: Any, y: Any, exclude: str | None) -> Any:
        """The height a block's centre comes to rest at when let go over (x, y): on the
        highest perceived object under that point (a block's top, a bowl's floor), else on
        the table. `exclude` (the object being moved) and a held object do not count."""


@frozen
class Waypoint:
    """Move the tool centre point in a straight line to `target` at most at `speed` m/s
    (None: the spec's max speed). `role` names the phase for messages ("approach", ...)."""

    target: tuple[Any, Any, Any]
    speed: Any
    role: str


@frozen
class Grip:
    """Close (grasp whatever is at the tool centre point) or open (release) the gripper."""

    close: bool
    role: str


PlanStep = Waypoint | Grip
Planner = Callable[[dict[str, Any], World], tuple[PlanStep, ...]]


class Seen(Protocol):
    """What a profile's answer to a perception or geometry primitive may ask of the world as
    its caller sees it: the runtime (a backend's state, with perception noise), the verifier
    (bounded unknowns) and the sub-program layer (the scene) each implement it, so the rule
    of an answer (the bounding box of a block, the corner nearest to a point) is written once,
    in the profile. The caller has checked that an object named in the arguments exists."""

    def xy(self, name: str) -> tuple[Any, Any]: ...
    def kind(self, name: str) -> str: ...
    def vector(self, values: list[Any]) -> Any: ...


Answer = Callable[[dict[str, Any], Seen], Any]


@frozen
class RobotProfile:
    """One embodiment: its primitives (in prompt order), the plans of the moving ones, the
    cell it works in (an object of the profile's own module), its answers to perception and
    geometry calls, the objects it knows (their colours, kinds, and the default set), how it
    paints them, and the backends that can run it."""

    name: str
    primitives: tuple[Primitive, ...]
    planners: dict[str, Planner] = field(default_factory=dict)
    cell: Any = None
    answers: dict[str, Answer] = field(default_factory=dict)
    colors: tuple[str, ...] = ()           # the colour words of object names ('red' block)
    kinds: tuple[str, ...] = ()            # the kinds of objects ('block', 'bowl')
    default_objects: tuple[str, ...] = ()  # the objects assumed without a scene or names in the policy
    object_kind: Callable[[str], str] | None = None  # an object's kind read from its name
    paint: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)  # RGBA of each colour, for pictures
    # The backends whose bodies fit this cell (the kinematic one fits any cell: it reads only
    # the cell's rules; the simulator builds the tabletop's table, blocks and bowls).
    backends: tuple[str, ...] = ("kinematic",)

    def primitive(self, name: str) -> Primitive | None:
        return self._by_name().get(name)

    def _by_name(self) -> dict[str, Primitive]:
        cache = self.__dict__.get("_index")
        if cache is None:
            cache = {p.name: p for p in self.primitives}
            object.__setattr__(self, "_index", cache)
        return cache

    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.primitives)

    def color_of(self, name: str) -> str:
        """The colour word an object's name starts with ('red block' -> 'red'), else 'gray'."""
        return next((c for c in self.colors if name.startswith(c + " ")), "gray")

    def rgba(self, name: str) -> tuple[float, float, float, float]:
        """The colour an object is drawn in (a grey without a colour of its own)."""
        return self.paint.get(self.color_of(name), (0.5, 0.5, 0.5, 1.0))

    def plan(self, name: str, bound_args: dict[str, Any], world: World) -> tuple[PlanStep, ...]:
        """The motion a call makes, as straight segments and gripper actions."""
        return self.planners[name](bound_args, world)

    def answer(self, name: str, bound_args: dict[str, Any], seen: Seen) -> Any:
        """The value of a perception or geometry call the profile answers (see `answers`)."""
        return self.answers[name](bound_args, seen)


_PROFILES: dict[str, Callable[[], RobotProfile]] = {}


def register_profile(name: str, factory: Callable[[], RobotProfile]) -> None:
    _PROFILES[name] = factory


def registered_profile(name: str) -> RobotProfile:
    """The profile registered under `name` (capc.compiler.profiles.get_profile makes sure
    the built-in ones are)."""
    if name not in _PROFILES:
        raise KeyError(f"unknown robot profile '{name}' (known: {', '.join(sorted(_PROFILES))})")
    return _PROFILES[name]()

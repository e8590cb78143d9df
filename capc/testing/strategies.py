"""Hypothesis strategies for the world a policy runs in: scenes, limits files, and the
positions the objects really have when perception is off by up to the tolerance.

Every strategy draws small, independent choices (a colour, a coordinate, an on/off switch)
so that hypothesis can shrink a failure coordinate by coordinate and object by object:
a failing scene shrinks to the one or two objects that matter, at round positions.
"""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import assume, strategies as st

from capc.compiler.geometry import Box, Cylinder, Interval
from capc.compiler.profiles import get_profile
from capc.compiler.scene import Scene, make_object
from capc.safety.spec import KeepOut, SafetySpec, default_spec

# The strategies draw the default profile's worlds: its cell, objects of its colours and kinds.
_PROFILE = get_profile()
CELL, COLORS, KINDS = _PROFILE.cell, _PROFILE.colors, _PROFILE.kinds

# A block is 4 cm wide and grasped within 3 cm of its centre: closer than this, two objects
# would be ambiguous to the gripper and would overlap on the table.
DEFAULT_MIN_SPACING = 0.08
# How close to the spawn area's boundary an "edge-hugging" coordinate is drawn.
EDGE_BAND = 0.02
# Candidate positions tried for one object before the whole scene is rejected.
PLACEMENT_TRIES = 12


def _count(value: int | tuple[int, int]) -> st.SearchStrategy[int]:
    if isinstance(value, int):
        return st.just(value)
    low, high = value
    return st.integers(low, high)


def coordinate(interval: Interval, edge_bias: float = 0.0) -> st.SearchStrategy[float]:
    """A coordinate inside `interval`; with probability about `edge_bias` it lies within
    EDGE_BAND of one of the two ends (where workspace margins are thinnest)."""
    inside = st.floats(interval.low, interval.high, allow_nan=False, allow_infinity=False)
    if edge_bias <= 0.0:
        return inside
    band = min(EDGE_BAND, (interval.high - interval.low) / 2)
    near_low = st.floats(interval.low, interval.low + band)
    near_high = st.floats(interval.high - band, interval.high)

    @st.composite
    def biased(draw) -> float:
        if draw(st.floats(0.0, 1.0)) < edge_bias:
            return draw(st.one_of(near_high, near_low))
        return draw(inside)

    return biased()


@st.composite
def scenes(draw, n_blocks: int | tuple[int, int] = (1, 3), n_bowls: int | tuple[int, int] = (0, 2),
           edge_bias: float = 0.0, min_spacing: float = DEFAULT_MIN_SPACING,
           area: Box | None = None) -> Scene:
    """Admissible scenes: blocks and bowls of distinct CaP colours, resting inside the spawn
    area (or `area`), at least `min_spacing` apart. Counts are an int or an inclusive range."""
    area = area or CELL.spawn_area
    counts = {"block": draw(_count(n_blocks)), "bowl": draw(_count(n_bowls))}
    names = []
    for kind in KINDS:
        colours = draw(st.lists(st.sampled_from(sorted(COLORS)), min_size=counts[kind],
                                max_size=counts[kind], unique=True))
        names += [f"{colour} {kind}" for colour in colours]
    return _place(draw, names, area, edge_bias, min_spacing, "<generated>")


def _place(draw, names: list[str], area: Box, edge_bias: float, min_spacing: float,
           source: str) -> Scene:
    """Draw a resting position in `area` for each name, `min_spacing` apart."""
    xs, ys = coordinate(area.x, edge_bias), coordinate(area.y, edge_bias)
    placed: list[tuple[float, float]] = []
    for _ in names:
        for _attempt in range(PLACEMENT_TRIES):
            xy = (draw(xs), draw(ys))
            if all(math.dist(xy, other) >= min_spacing for other in placed):
                break
        else:
            assume(False)  # too crowded: let hypothesis try a different scene
        placed.append(xy)
    return Scene(tuple(make_object(name, xy) for name, xy in zip(names, placed)), source)


def _keep_out_zone(index: int, workspace: Box) -> st.SearchStrategy[KeepOut]:
    """A small zone somewhere in the workspace that does not swallow the home pose (a zone
    around the start of every run would make every policy trivially unsafe)."""
    home = CELL.home
    tops = st.floats(min(workspace.z.low + 0.03, workspace.z.high), workspace.z.high)

    def box_zone(corner_x, corner_y, size_x, size_y, top):
        x = Interval(corner_x, corner_x + size_x)
        y = Interval(corner_y, corner_y + size_y)
        return Box(x, y, Interval(workspace.z.low, top))

    boxes = st.builds(box_zone, st.floats(workspace.x.low, workspace.x.high - 0.05),
                      st.floats(workspace.y.low, workspace.y.high - 0.05),
                      st.floats(0.03, 0.12), st.floats(0.03, 0.12), tops)
    cylinders = st.builds(lambda cx, cy, r, top: Cylinder(cx, cy, r, Interval(workspace.z.low, top)),
                          st.floats(workspace.x.low, workspace.x.high),
                          st.floats(workspace.y.low, workspace.y.high),
                          st.floats(0.02, 0.08), tops)
    regions = st.one_of(boxes, cylinders).filter(lambda r: not r.contains(home, -0.03))
    return regions.map(lambda region: KeepOut(f"zone {index}", region))


@st.composite
def limits(draw, base: SafetySpec | None = None, shrink_workspace: float = 0.1,
           max_zones: int = 2, speeds: tuple[float, float] = (0.1, 0.5),
           tolerances: tuple[float, float] = (0.0, 0.02)) -> SafetySpec:
    """SafetySpec variants: each workspace face pulled in by up to `shrink_workspace` metres
    (never past the home pose), a speed limit in `speeds`, a perception tolerance in
    `tolerances`, and up to `max_zones` keep-out boxes or cylinders."""
    spec = base or default_spec()
    home = CELL.home
    axes = []
    for axis, h in zip(spec.workspace.axes, home):
        low = draw(st.floats(axis.low, min(axis.low + shrink_workspace, h - 0.02)))
        high = draw(st.floats(max(axis.high - shrink_workspace, h + 0.02), axis.high))
        axes.append(Interval(low, high))
    workspace = Box(*axes)
    n_zones = draw(st.integers(0, max_zones))
    zones = tuple(draw(_keep_out_zone(i, workspace)) for i in range(n_zones))
    return replace(spec, workspace=workspace, keep_out=zones, source="<generated>",
                   max_speed=draw(st.floats(*speeds)),
                   perception_tolerance=draw(st.floats(*tolerances)))


@st.composite
def rules(draw, scene: Scene, max_rules: int = 3) -> tuple:
    """Up to `max_rules` rules of the cell (capc.safety.rules) about `scene`'s objects: carry
    limits (of anything or of one object, or under a state: `always`), forbidden grasps and
    placements, a grasp count, boxes and cylinders around an object (always or while
    holding), fixed ones while holding, release heights, objects empty at the end, and the
    order and state rules (`never` an event while a state, `before` an event a state or a
    first event, a state `at_end`) over gripper events and moves home or into a region. Limits are
    drawn around what the generated policies do (put_first_on_second travels at 15 cm, speeds
    up to the cell's maximum), so both sides of each rule are exercised.

    The rules come from one drawn seed, not from a draw per choice: a case's policy already
    fills much of hypothesis's buffer, and cases whose extra draws overran it were dropped,
    leaving rules and pick-and-place almost never in one case."""
    names = scene.names()
    if not names:
        return ()
    return rules_from_seed(draw(st.integers(0, 2 ** 32 - 1)), names, max_rules)


def rules_from_seed(seed: int, names: list[str], max_rules: int = 3) -> tuple:
    import random

    from capc.safety.rules import (
        ANYTHING, AVOID, BEFORE, CARRY_HEIGHT, CARRY_SPEED, EMPTY_AT_END, END_STATE, MAX_GRASPS, NEVER, NEVER_PICK,
        NEVER_PLACE, NOTHING, RELEASE_HEIGHT, Event, Rule, State,
    )

    rng = random.Random(seed)

    def anything():
        return None if rng.random() < 0.5 else rng.choice(names)

    def state():
        holding = rng.choice([None, ANYTHING, NOTHING, rng.choice(names)])
        gripper = rng.choice([None, "open", "closed"] if holding is not None else ["open", "closed"])
        return State(holding, gripper)

    def event(gripper_only: bool = False):
        kind = rng.choice(["close", "open", "grasp", "release"] + ([] if gripper_only else ["move"] * 2))
        if kind in ("grasp", "release"):
            return Event(kind, obj=anything())
        if kind != "move":
            return Event(kind)
        if rng.random() < 0.3:
            return Event(kind, home=True)
        x, y, half = rng.uniform(-0.25, 0.2), rng.uniform(-0.75, -0.3), rng.uniform(0.02, 0.1)
        if rng.random() < 0.5:
            return Event(kind, region=Cylinder(x, y, half, Interval(0.0, rng.uniform(0.03, 0.25))))
        return Event(kind, region=Box(Interval(x, x + 2 * half), Interval(y, y + 2 * half),
                                      Interval(0.0, rng.uniform(0.03, 0.25))))

    out = []
    for i in range(rng.randint(1, max_rules)):
        label = f"<generated>:{i + 1}"
        kind = rng.choice([CARRY_SPEED, CARRY_HEIGHT, NEVER_PICK, NEVER_PLACE, MAX_GRASPS, AVOID, RELEASE_HEIGHT,
                           EMPTY_AT_END, NEVER, BEFORE, END_STATE])
        # a carry limit under a state (an `always` rule) in a third of them
        held, when = (None, state()) if rng.random() < 0.33 else (anything(), None)
        if kind == CARRY_SPEED:
            out.append(Rule(kind, label, obj=held, state=when, value=round(rng.uniform(0.05, 0.3), 4)))
        elif kind == CARRY_HEIGHT:
            out.append(Rule(kind, label, obj=held, state=when, value=round(rng.uniform(0.05, 0.25), 4)))
        elif kind == NEVER:
            out.append(Rule(kind, label, event=event(), state=state() if rng.random() < 0.7 else None))
        elif kind == BEFORE and rng.random() < 0.5:
            out.append(Rule(kind, label, event=event(), first=event(gripper_only=True)))
        elif kind == BEFORE:
            out.append(Rule(kind, label, event=event(), state=state()))
        elif kind == END_STATE:  # mostly what a finished pick-and-place leaves: broken states reject most cases
            plausible = State(rng.choice([NOTHING, None]), "open") if rng.random() < 0.5 else State(NOTHING, None)
            out.append(Rule(kind, label, state=plausible if rng.random() < 0.7 else state()))
        elif kind == NEVER_PICK:
            out.append(Rule(kind, label, obj=rng.choice(names)))
        elif kind == NEVER_PLACE:
            out.append(Rule(kind, label, obj=anything(), target=rng.choice(names)))
        elif kind == MAX_GRASPS:
            out.append(Rule(kind, label, value=float(rng.randint(0, 3))))
        elif kind == EMPTY_AT_END:
            out.append(Rule(kind, label, target=rng.choice(names)))
        elif kind == RELEASE_HEIGHT:
            out.append(Rule(kind, label, obj=anything(), value=round(rng.uniform(0.0, 0.1), 4)))
        else:  # a box around an object (always or while holding), or a fixed one while holding
            half, top = rng.uniform(0.02, 0.1), rng.uniform(0.03, 0.15)
            target = None if rng.random() < 0.3 else rng.choice(names)
            if target is None:
                x, y = rng.uniform(-0.25, 0.2), rng.uniform(-0.75, -0.3)
                box = Box(Interval(x, x + 2 * half), Interval(y, y + 2 * half), Interval(0.0, top))
                if rng.random() < 0.4:
                    box = Cylinder(x + half, y + half, half, Interval(0.0, top))
            elif rng.random() < 0.4:  # a cylinder around the object ("never lower than 15 cm over the bowl")
                box = Cylinder(0.0, 0.0, half, Interval(0.0, top))
            else:
                box = Box(Interval(-half, half), Interval(-half, half), Interval(0.0, top))
            holding = target is None or rng.random() < 0.5
            out.append(Rule(kind, label, obj=anything() if holding else None, target=target, box=box,
                            holding=holding))
    return tuple(out)


@st.composite
def worlds(draw, scene: Scene, spec: SafetySpec) -> Scene:
    """Where the objects really are when the robot perceived `scene`: each coordinate moved
    by at most the perception tolerance, except the height of an object standing on the table
    at its resting height (it cannot be lower or higher; docs/verification.md), and no height
    below the table. Offsets at the very ends of the tolerance are drawn often: that is where
    a wrong proof shows."""
    tol = spec.perception_tolerance
    offset = st.one_of(st.sampled_from([tol, -tol, 0.0]), st.floats(-tol, tol))
    objects = []
    for obj in scene.objects:
        x, y, z = obj.position
        standing = z == CELL.resting_z(obj.kind)
        moved = (x + draw(offset), y + draw(offset), z if standing else max(0.0, z + draw(offset)))
        objects.append(replace(obj, position=moved))
    return Scene(tuple(objects), "<sampled world>")


def placements(scene: Scene, edge_bias: float = 0.5, min_spacing: float = DEFAULT_MIN_SPACING,
               required: tuple[str, ...] | list[str] | None = None) -> st.SearchStrategy[Scene]:
    """Worlds for a user's policy: the objects of `scene` placed anywhere admissible in the
    spawn area. Objects not in `required` (default: all are required) may be left out, so a
    failing world shrinks to the objects that matter."""
    names = scene.names()
    must = set(names if required is None else required)

    @st.composite
    def build(draw) -> Scene:
        chosen = [n for n in names if n in must or draw(st.booleans())] or names[:1]
        return _place(draw, chosen, CELL.spawn_area, edge_bias, min_spacing, "<sampled world>")

    return build()


def admissible(scene: Scene, min_spacing: float = DEFAULT_MIN_SPACING, area: Box | None = None) -> bool:
    """Could `scenes()` / `placements()` have drawn this scene? (inside the area, spaced)"""
    area = area or CELL.spawn_area
    xys = [o.xy for o in scene.objects]
    inside = all(area.x.contains(x) and area.y.contains(y) for x, y in xys)
    spaced = all(math.dist(a, b) >= min_spacing for i, a in enumerate(xys) for b in xys[i + 1:])
    return inside and spaced
